/* The demo's handler, used by every channel (instant/handlers/<channel>.js includes it):
   adds the event at the top of the page's event list. */
var list = document.getElementById("events");
if (list) {
  var item = document.createElement("li");
  item.className = "event";
  item.setAttribute("data-channel", channel);
  item.setAttribute("data-uid", uid);
  item.innerHTML = getLabel(event_class) + " <code class=\"channel\"></code> <span class=\"message\"></span>";
  item.querySelector(".channel").textContent = channel;
  item.querySelector(".message").textContent = message;
  list.insertBefore(item, list.firstChild);
  var empty = document.getElementById("no-events");
  if (empty) { empty.remove(); }
}
