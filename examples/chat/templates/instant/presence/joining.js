/* A user's first tab arrived. */
var who = document.getElementById("who");
if (who && !who.querySelector('[data-user="' + CSS.escape(user.id) + '"]')) {
  var item = document.createElement("li");
  item.setAttribute("data-user", user.id);
  item.textContent = user.id;
  who.appendChild(item);
}
