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
/* Only http(s) and relative links become hrefs: never javascript:, data: or other schemes. */
function safeUrl(url) {
  if (typeof url !== "string" || url === "") { return null; }
  var parsed;
  try { parsed = new URL(url, document.baseURI); } catch (e) { return null; }
  return (parsed.protocol === "http:" || parsed.protocol === "https:") ? parsed.href : null;
}
var adminUrl = data ? safeUrl(data.admin_url) : null;
if (adminUrl) {
  var link = document.createElement("a");
  link.href = adminUrl;
  link.rel = "noopener noreferrer";
  link.target = "_blank";
  link.appendChild(text);
  note.appendChild(link);
} else {
  note.appendChild(text);
}
box.appendChild(note);
setTimeout(function () { if (note.parentNode) { note.parentNode.removeChild(note); } }, 15000);
