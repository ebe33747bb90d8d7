/* The handler of every order's channel ($order_{id}): `params.id` is the order. */
var list = document.getElementById("order-events");
if (list) {
  var item = document.createElement("li");
  item.className = "order-event";
  item.setAttribute("data-order", params.id);
  item.setAttribute("data-channel", channel);
  item.innerHTML = getLabel(event_class) + " ";
  item.appendChild(document.createTextNode("Order " + params.id + ": " + message));
  list.insertBefore(item, list.firstChild);
}
