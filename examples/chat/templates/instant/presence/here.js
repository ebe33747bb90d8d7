/* Everyone in the room now, one entry per user however many tabs they have open. */
var who = document.getElementById("who");
if (who) {
  who.textContent = "";
  users.forEach(function (user) {
    var item = document.createElement("li");
    item.setAttribute("data-user", user.id);
    item.textContent = user.id;
    who.appendChild(item);
  });
}
