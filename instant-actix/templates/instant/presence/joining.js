/* Runs when a user arrives on `channel`: their first tab subscribed (a second tab of a user
   already here runs nothing). `user` is {id, info, tabs}. */
if (instantDebug) { console.log("instant: " + user.id + " joining " + channel); }
