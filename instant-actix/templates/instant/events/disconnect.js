/* Runs when the connection is closed; `ctx` holds the code and reason. */
document.documentElement.setAttribute("data-instant-connected", "false");
if (instantDebug) { console.log("instant: disconnected: " + ctx.reason + " (" + ctx.code + ")"); }
