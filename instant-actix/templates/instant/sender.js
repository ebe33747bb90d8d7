  /* Events "to others": this tab's Centrifugo client id goes with the page's same-origin fetch
     requests (header X-Instant-Client), so that an event the server publishes `.to_others(..)`
     while handling one of them carries it in `sender`, and this tab skips that event. */
  instant.clientId = null;
  centrifuge.on("connected", function (ctx) { instant.clientId = ctx.client; });
  centrifuge.on("disconnected", function () { instant.clientId = null; });
  if (typeof window.fetch === "function" && !window.fetch.__instant) {
    var originalFetch = window.fetch;
    var withSender = function (input, init) {
      try {
        var url = new URL(typeof input === "string" || input instanceof URL ? String(input) : input.url, document.baseURI);
        if (instant.clientId && url.origin === window.location.origin) {
          var headers = new Headers((init && init.headers) || (input instanceof Request ? input.headers : undefined));
          if (!headers.has("X-Instant-Client")) { headers.set("X-Instant-Client", instant.clientId); }
          init = Object.assign({}, init, { headers: headers });
        }
      } catch (error) {
        if (instantDebug) { console.log("instant: request sent without the client id", error); }
      }
      return originalFetch.call(window, input, init);
    };
    withSender.__instant = true;
    window.fetch = withSender;
  }
