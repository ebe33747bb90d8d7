  /* Labels and icons per event class: the first key found in the lower-cased class wins, else "default". */
  var eventClassFormat = {
    important: { icon: "fa-exclamation", glyph: "!" },
    ok: { icon: "fa-thumbs-up", glyph: "\u2713" },
    info: { icon: "fa-info-circle", glyph: "\u2139" },
    debug: { icon: "fa-cog", glyph: "\u2699" },
    warning: { icon: "fa-exclamation", glyph: "\u26A0" },
    error: { icon: "fa-exclamation-triangle", glyph: "\u2716" },
    created: { icon: "fa-plus", glyph: "+" },
    edited: { icon: "fa-pencil", glyph: "\u270E" },
    deleted: { icon: "fa-remove", glyph: "\u2715" },
    "default": { icon: "fa-flash", glyph: "\u26A1" }
  };
  function labelKey(event_class) {
    var lower = String(event_class || "").toLowerCase();
    var keys = ["important", "ok", "info", "debug", "warning", "error", "created", "edited", "deleted"];
    for (var i = 0; i < keys.length; i++) {
      if (lower.indexOf(keys[i]) !== -1) { return keys[i]; }
    }
    return "default";
  }
  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" }[c];
    });
  }
  /* An HTML label: <span class="i-label i-<key>"><i class="i-icon" data-icon="<Font Awesome icon>">glyph</i>&nbsp;&nbsp;Title Case</span> */
  function getLabel(event_class) {
    var key = labelKey(event_class);
    var text = String(event_class || "default").replace(/\w\S*/g, function (word) {
      return word.charAt(0).toUpperCase() + word.substr(1).toLowerCase();
    });
    var format = eventClassFormat[key];
    return "<span class=\"i-label i-" + key + "\"><i class=\"i-icon\" data-icon=\"" + format.icon + "\" aria-hidden=\"true\">" +
      format.glyph + "</i>&nbsp;&nbsp;" + escapeHtml(text) + "</span>";
  }
