/* A message from another tab (the sender's own tab skips it: it was published to others, and that
   tab already shows it). `data` is the ChatMessage: {id, author, text}. */
var list = document.getElementById("messages");
if (list) {
  var item = document.createElement("li");
  item.setAttribute("data-id", data.id);
  var author = document.createElement("b");
  author.textContent = data.author + ": ";
  item.appendChild(author);
  item.appendChild(document.createTextNode(data.text));
  list.appendChild(item);
}
