/* Runs when a user leaves `channel`: their last tab unsubscribed or closed (closing one of
   several tabs runs nothing). `user` is {id, info, tabs: 0}. */
if (instantDebug) { console.log("instant: " + user.id + " leaving " + channel); }
