/* The demo's page script (instant/extra_clients.js): the connection status and the channels this
   page joined, each with its subscription state. The client runs in <head>, so this waits for the
   page's body. */
(function () {
  function show() {
    var status = document.getElementById("instant-status");
    if (status) {
      var setStatus = function (state) {
        status.textContent = state;
        status.setAttribute("data-state", state);
      };
      setStatus(centrifuge.state);
      centrifuge.on("state", function (ctx) { setStatus(ctx.newState); });
    }
    var joined = document.getElementById("instant-joined");
    if (!joined) { return; }
    if (config.channels.length === 0) {
      joined.innerHTML = "<li><i>no channel</i></li>";
    }
    config.channels.forEach(function (channel) {
      var subscription = instant.subscriptions[channel.name];
      var item = document.createElement("li");
      item.setAttribute("data-channel", channel.name);
      var name = document.createElement("code");
      name.textContent = channel.name;
      var state = document.createElement("small");
      item.appendChild(name);
      item.appendChild(state);
      joined.appendChild(item);
      var setState = function (value) {
        item.setAttribute("data-state", value);
        state.textContent = " " + value;
      };
      setState(subscription ? subscription.state : "unsubscribed");
      if (subscription) {
        subscription.on("state", function (ctx) { setState(ctx.newState); });
      }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", show);
  } else {
    show();
  }
})();
