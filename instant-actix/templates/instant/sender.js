  /* Events "to others": this tab's Centrifugo client id goes with the page's same-origin fetch and
     XMLHttpRequest requests (header X-Instant-Client; htmx and jQuery use the latter), so that an event the server publishes `.to_others(..)`
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
  if (typeof XMLHttpRequest === "function" && !XMLHttpRequest.prototype.__instant) {
    var originalOpen = XMLHttpRequest.prototype.open;
    var originalSend = XMLHttpRequest.prototype.send;
    XMLHttpRequest.prototype.open = function (method, url) {
      try {
        this.__instantSameOrigin = new URL(String(url), document.baseURI).origin === window.location.origin;
      } catch (error) {
        this.__instantSameOrigin = false;
      }
      return originalOpen.apply(this, arguments);
    };
    XMLHttpRequest.prototype.send = function () {
      if (this.__instantSameOrigin && instant.clientId) {
        try { this.setRequestHeader("X-Instant-Client", instant.clientId); } catch (error) { /* already sent */ }
      }
      return originalSend.apply(this, arguments);
    };
    XMLHttpRequest.prototype.__instant = true;
  }
