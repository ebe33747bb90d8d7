/* A user's last tab left. */
var who = document.getElementById("who");
var gone = who && who.querySelector('[data-user="' + CSS.escape(user.id) + '"]');
if (gone) { gone.parentNode.removeChild(gone); }
