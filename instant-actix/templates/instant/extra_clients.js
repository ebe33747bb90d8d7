/* Override this template to add your own subscriptions, e.g.
   var sub = centrifuge.newSubscription("news"); sub.on("publication", function (ctx) { ... }); sub.subscribe();
   `centrifuge`, `config`, `instant` and `getLabel` are in scope. */
