/* The handler of every channel without its own instant/handlers/<channel>.js.
   Variables: event_class, channel, message, data, site, uid, timestamp. */
var box = document.getElementById("instant-notifications");
if (!box) {
  box = document.createElement("div");
  box.id = "instant-notifications";
  document.body.appendChild(box);
}
var note = document.createElement("div");
note.className = "instant-notification";
note.innerHTML = getLabel(event_class) + " ";
var text = document.createElement("span");
text.textContent = message;
if (data && data.admin_url) {
  var link = document.createElement("a");
  link.href = data.admin_url;
  link.target = "_blank";
  link.appendChild(text);
  note.appendChild(link);
} else {
  note.appendChild(text);
}
box.appendChild(note);
setTimeout(function () { if (note.parentNode) { note.parentNode.removeChild(note); } }, 15000);
