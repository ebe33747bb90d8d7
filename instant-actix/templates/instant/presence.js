  /* Presence: who is on each channel whose config entry has `presence: true`, one entry per user
     id however many tabs the user has open. Handlers: instant/presence/here.js (the full list,
     on each (re)subscription), joining.js (a user's first tab arrives), leaving.js (a user's last
     tab leaves); also `instant.onPresence(channel, {here, joining, leaving})`, the DOM events
     `instant:here`, `instant:joining`, `instant:leaving` on document, and `instant.here(channel)`,
     the current list. Anonymous subscribers have no id and are not listed. */
  var presenceHandlers = {
    here: function (channel, users) {
{% include "instant/presence/here.js" %}
    },
    joining: function (channel, user) {
{% include "instant/presence/joining.js" %}
    },
    leaving: function (channel, user) {
{% include "instant/presence/leaving.js" %}
    }
  };
  var presenceListeners = [];
  var presenceState = {};
  function presentUser(entry) {
    return { id: entry.id, info: entry.info, tabs: Object.keys(entry.clients).length };
  }
  function presenceList(name) {
    var state = presenceState[name];
    if (!state) { return []; }
    return Object.keys(state.users).sort().map(function (id) { return presentUser(state.users[id]); });
  }
  function emitPresence(kind, name, value) {
    try { presenceHandlers[kind](name, value); } catch (error) { console.error("instant: the " + kind + " handler failed", error); }
    presenceListeners.forEach(function (listener) {
      if (listener.channel !== name || typeof listener.handlers[kind] !== "function") { return; }
      try { listener.handlers[kind](value, name); } catch (error) { console.error("instant: a presence listener failed", error); }
    });
    var detail = { channel: name };
    detail[kind === "here" ? "users" : "user"] = value;
    document.dispatchEvent(new CustomEvent("instant:" + kind, { detail: detail }));
  }
  /* Adds a client; returns the user when it is the user's first client. */
  function addPresenceClient(users, info) {
    if (!info || !info.user) { return null; }
    var entry = users[info.user];
    var first = !entry;
    if (first) { entry = users[info.user] = { id: info.user, info: info.connInfo || null, clients: {} }; }
    if (entry.clients[info.client]) { return null; }
    entry.clients[info.client] = true;
    return first ? entry : null;
  }
  /* Removes a client; returns the user when it was the user's last client. */
  function removePresenceClient(users, info) {
    if (!info || !info.user || !users[info.user] || !users[info.user].clients[info.client]) { return null; }
    var entry = users[info.user];
    delete entry.clients[info.client];
    if (Object.keys(entry.clients).length > 0) { return null; }
    delete users[info.user];
    return entry;
  }
  function applyPresenceChange(name, kind, info) {
    var state = presenceState[name];
    if (kind === "join") {
      var joined = addPresenceClient(state.users, info);
      if (joined) { emitPresence("joining", name, presentUser(joined)); }
    } else {
      var left = removePresenceClient(state.users, info);
      if (left) { emitPresence("leaving", name, presentUser(left)); }
    }
  }
  function trackPresence(channel, subscription) {
    var name = channel.name;
    var state = presenceState[name] = { users: {}, ready: false, buffer: [] };
    function change(kind) {
      return function (ctx) {
        if (!state.ready) { state.buffer.push([kind, ctx.info]); return; }
        applyPresenceChange(name, kind, ctx.info);
      };
    }
    subscription.on("join", change("join"));
    subscription.on("leave", change("leave"));
    subscription.on("unsubscribed", function () { state.ready = false; state.buffer = []; });
    subscription.on("subscribed", function () {
      state.ready = false;
      state.buffer = [];
      subscription.presence().then(function (result) {
        var users = {};
        var clients = (result && result.clients) || {};
        Object.keys(clients).forEach(function (id) { addPresenceClient(users, clients[id]); });
        state.users = users;
        state.ready = true;
        emitPresence("here", name, presenceList(name));
        /* Joins and leaves that arrived while the list was on its way; those it already
           reflects change nothing. */
        var buffered = state.buffer;
        state.buffer = [];
        buffered.forEach(function (item) { applyPresenceChange(name, item[0], item[1]); });
      }, function (error) {
        console.error("instant: presence of " + name + " failed", error);
      });
    });
  }
  instant.here = presenceList;
  instant.onPresence = function (channel, handlers) {
    presenceListeners.push({ channel: channel, handlers: handlers || {} });
  };
