/* instant: connects this page to its real-time channels with the official Centrifugo client. */
(function () {
  "use strict";
  var configElement = document.getElementById("instant-config");
  if (!configElement) { return; }
  var config = JSON.parse(configElement.textContent);
  if (typeof Centrifuge === "undefined") {
    console.error("instant: the Centrifugo client (centrifuge.js) did not load");
    return;
  }
  var instantDebug = !!config.debug;

{% include "instant/event_class_format.js" %}

  /* One handler per channel or pattern: templates instant/handlers/<channel>.js (a pattern's
     serves all its channels, with their parameters in `params`), else instant/handlers/default.js. */
  var handlers = {
{%- for handler in handlers %}
    {{ handler.name_json | safe }}: function (event_class, channel, message, data, site, uid, timestamp, params) {
{{ handler.source | safe }}
    },
{%- endfor %}
  };
  function defaultHandler(event_class, channel, message, data, site, uid, timestamp, params) {
{% include "instant/handlers/default.js" %}
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body)
    }).then(function (response) {
      if (response.status === 403 || response.status === 401) {
        throw new Centrifuge.UnauthorizedError("instant: permission denied");
      }
      if (!response.ok) { throw new Error("instant: token request failed with status " + response.status); }
      return response.json();
    }).then(function (reply) { return reply.token; });
  }

  var listeners = [];
  var instant = window.instant = {
    config: config,
    centrifuge: null,
    subscriptions: {},
    received: 0,
    getLabel: getLabel,
    /* Calls fn(event) for every event this page receives, after the channel's handler. */
    addListener: function (fn) { listeners.push(fn); }
  };

  function own(name) { return typeof name === "string" && Object.prototype.hasOwnProperty.call(handlers, name); }
  function dispatch(joined, event) {
    var channel = joined.name;
    /* Published to others by a request of this very tab (instant/sender.js). */
    if (event && event.sender && event.sender === instant.clientId) {
      if (instantDebug) { console.log("instant: skipped an event this tab caused", channel, event.uid); }
      return;
    }
    instant.received += 1;
    if (instantDebug) { console.log("instant event", channel, event); }
    var handler = own(channel) ? handlers[channel] : own(joined.pattern) ? handlers[joined.pattern] : defaultHandler;
    try {
      handler(event.event_class, event.channel, event.message, event.data, event.site, event.uid, event.timestamp, joined.params || {});
    } catch (error) {
      console.error("instant: the handler of channel " + channel + " failed", error);
    }
    listeners.forEach(function (fn) {
      try { fn(event); } catch (error) { console.error("instant: a listener failed", error); }
    });
    document.dispatchEvent(new CustomEvent("instant:event", { detail: event }));
  }

  var options = {};
  if (config.token) {
    options.token = config.token;
    options.getToken = function () { return post(config.connection_url, {}); };
  }
  var centrifuge = new Centrifuge(config.ws_url, options);
  instant.centrifuge = centrifuge;
{% include "instant/sender.js" %}
{% include "instant/presence.js" %}

  centrifuge.on("connected", function (ctx) {
{% include "instant/events/connect.js" %}
  });
  centrifuge.on("disconnected", function (ctx) {
{% include "instant/events/disconnect.js" %}
  });
  if (instantDebug) {
    centrifuge.on("error", function (ctx) { console.log("instant: client error " + JSON.stringify(ctx)); });
  }

  config.channels.forEach(function (channel) {
    var subOptions = {};
    if (channel.token) {
      subOptions.token = channel.token;
      subOptions.getToken = function () { return post(config.subscription_url, { channel: channel.name }); };
    }
    /* From the stream position the page was rendered at: what was published since is recovered. */
    if (channel.since) { subOptions.since = channel.since; }
    if (channel.presence) { subOptions.joinLeave = true; }
    var subscription = centrifuge.newSubscription(channel.name, subOptions);
    subscription.on("publication", function (ctx) { dispatch(channel, ctx.data); });
    if (channel.presence) { trackPresence(channel, subscription); }
    subscription.on("subscribed", function (ctx) {
      if (ctx.wasRecovering && !ctx.recovered) {
        /* The history no longer covers the gap: the page may have missed events. */
{% include "instant/events/resync.js" %}
        document.dispatchEvent(new CustomEvent("instant:resync", { detail: { channel: channel.name } }));
      }
      document.documentElement.setAttribute("data-instant-subscribed", Object.keys(instant.subscriptions).filter(function (name) {
        return instant.subscriptions[name].state === "subscribed";
      }).length);
      if (instantDebug) { console.log("instant: subscribed to " + channel.name); }
    });
    subscription.on("error", function (ctx) { if (instantDebug) { console.log("instant: subscription error", channel.name, ctx); } });
    subscription.on("unsubscribed", function (ctx) { if (instantDebug) { console.log("instant: unsubscribed from " + channel.name, ctx); } });
    instant.subscriptions[channel.name] = subscription;
    subscription.subscribe();
  });

{% include "instant/extra_clients.js" %}

  centrifuge.connect();
})();
