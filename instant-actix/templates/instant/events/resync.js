/* Runs when a subscription could not recover what was published while the page was away (between
   its rendering and its subscription, or during a disconnection): the history no longer covers
   the gap. `channel` is the channel's entry of the page config (`name`, `pattern`, `params`),
   `ctx` centrifuge-js's subscribed context. The `instant:resync` event is dispatched on
   `document` right after. By default: a line in the console; reload what the page shows here. */
if (instantDebug) { console.log("instant: missed events on " + channel.name + ": resync the page"); }
