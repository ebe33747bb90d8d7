/* Runs when the page has subscribed to a channel with presence (and again after each
   resubscription): `users` is everyone on `channel` now, this user included, one entry per user
   however many tabs they have open: {id, info, tabs}. Sorted by id. */
if (instantDebug) { console.log("instant: here on " + channel + ": " + users.map(function (u) { return u.id; }).join(", ")); }
