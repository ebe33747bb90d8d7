/* Runs when the connection is established; `ctx` is centrifuge-js's connected context. */
document.documentElement.setAttribute("data-instant-connected", "true");
if (instantDebug) { console.log("instant: connected (client " + ctx.client + ", " + ctx.transport + ")"); }
