//! The browser-side templates: built into the binary, overridable by the app's own files.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use instant_core::{ChannelSet, Config, Level};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tera::{Context, Tera};

use crate::error::SetupError;

/// Every built-in template, by the relative path an app uses to override it.
const BUILTIN: &[(&str, &str)] = &[
    (
        "instant/client.html",
        include_str!("../templates/instant/client.html"),
    ),
    (
        "instant/client.js",
        include_str!("../templates/instant/client.js"),
    ),
    (
        "instant/handlers/default.js",
        include_str!("../templates/instant/handlers/default.js"),
    ),
    (
        "instant/events/connect.js",
        include_str!("../templates/instant/events/connect.js"),
    ),
    (
        "instant/events/disconnect.js",
        include_str!("../templates/instant/events/disconnect.js"),
    ),
    (
        "instant/events/resync.js",
        include_str!("../templates/instant/events/resync.js"),
    ),
    (
        "instant/sender.js",
        include_str!("../templates/instant/sender.js"),
    ),
    (
        "instant/presence.js",
        include_str!("../templates/instant/presence.js"),
    ),
    (
        "instant/presence/here.js",
        include_str!("../templates/instant/presence/here.js"),
    ),
    (
        "instant/presence/joining.js",
        include_str!("../templates/instant/presence/joining.js"),
    ),
    (
        "instant/presence/leaving.js",
        include_str!("../templates/instant/presence/leaving.js"),
    ),
    (
        "instant/extra_clients.js",
        include_str!("../templates/instant/extra_clients.js"),
    ),
    (
        "instant/event_class_format.js",
        include_str!("../templates/instant/event_class_format.js"),
    ),
    (
        "instant/frontend.html",
        include_str!("../templates/instant/frontend.html"),
    ),
    ("instant.css", include_str!("../templates/instant.css")),
];

/// Markers rendered in place of the per-request parts of `instant/client.html`; the rendered text
/// is split on them once, so that a request only joins strings.
const NONCE_MARK: &str = "\u{E000}instant-nonce\u{E000}";
const CONFIG_MARK: &str = "\u{E000}instant-config\u{E000}";

/// The template of the handler of `channel`: `instant/handlers/<name>.js`, where `<name>` is the
/// channel name with every character other than ASCII letters, digits, `_`, `-`, `$`, `{` and `}`
/// replaced by `_` (so `$mysite_admin1` → `instant/handlers/$mysite_admin1.js`, `news:sport` →
/// `instant/handlers/news_sport.js`). A pattern's handler, named by the pattern
/// (`$order_{id}` → `instant/handlers/$order_{id}.js`), serves every channel it makes.
#[must_use]
pub fn handler_template_name(channel: &str) -> String {
    let name: String = channel
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '$' | '{' | '}') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("instant/handlers/{name}.js")
}

/// Where the browser gets the official Centrifugo client (`centrifuge` 5.x) from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CentrifugeJs {
    /// A URL, with an optional subresource-integrity hash (`sha384-…`).
    Url {
        /// The script URL.
        src: String,
        /// The SRI hash the browser checks the file against.
        integrity: Option<String>,
    },
    /// A file on the server's disk, read once at start-up and served by the routes at
    /// [`CentrifugeJs::LOCAL_PATH`] (offline use, tests).
    File(PathBuf),
}

impl CentrifugeJs {
    /// The pinned version of the default URL.
    pub const VERSION: &'static str = "5.7.4";
    /// The default URL: `centrifuge` 5.7.4 from jsDelivr.
    pub const CDN_URL: &'static str =
        "https://cdn.jsdelivr.net/npm/centrifuge@5.7.4/dist/centrifuge.js";
    /// The SRI hash of [`CentrifugeJs::CDN_URL`].
    pub const CDN_INTEGRITY: &'static str =
        "sha384-Iz2tPn0Bdkrz7y4HN3TY1XBlxpW+TjRqSbTJc2ENckVFOGn9tDUNezcC3CF5pO+h";
    /// The path at which the routes serve a [`CentrifugeJs::File`].
    pub const LOCAL_PATH: &'static str = crate::paths::CENTRIFUGE_JS;

    /// The script URL the page loads.
    pub(crate) fn src(&self) -> &str {
        match self {
            Self::Url { src, .. } => src,
            Self::File(_) => Self::LOCAL_PATH,
        }
    }

    fn integrity(&self) -> Option<&str> {
        match self {
            Self::Url { integrity, .. } => integrity.as_deref(),
            Self::File(_) => None,
        }
    }
}

impl Default for CentrifugeJs {
    /// The pinned CDN URL with its SRI hash.
    fn default() -> Self {
        Self::Url {
            src: Self::CDN_URL.to_owned(),
            integrity: Some(Self::CDN_INTEGRITY.to_owned()),
        }
    }
}

/// One piece of the rendered snippet.
#[derive(Debug, Clone)]
enum Piece {
    Text(String),
    Nonce,
    Config,
}

/// `instant/client.html`, rendered once, with holes for the CSP nonce and the per-request config.
#[derive(Debug, Clone)]
pub(crate) struct Snippet {
    pieces: Vec<Piece>,
}

impl Snippet {
    fn parse(rendered: &str) -> Self {
        let mut pieces = Vec::new();
        let mut rest = rendered;
        loop {
            let nonce = rest.find(NONCE_MARK).map(|i| (i, NONCE_MARK, Piece::Nonce));
            let config = rest
                .find(CONFIG_MARK)
                .map(|i| (i, CONFIG_MARK, Piece::Config));
            let next = match (nonce, config) {
                (Some(a), Some(b)) => Some(if a.0 < b.0 { a } else { b }),
                (a, b) => a.or(b),
            };
            let Some((at, mark, piece)) = next else {
                if !rest.is_empty() {
                    pieces.push(Piece::Text(rest.to_owned()));
                }
                break;
            };
            if at > 0 {
                pieces.push(Piece::Text(rest[..at].to_owned()));
            }
            pieces.push(piece);
            rest = &rest[at + mark.len()..];
        }
        Self { pieces }
    }

    /// The snippet for one page: `nonce` goes on every script and style element, `config_json`
    /// (already escaped for a script element) into the config element.
    pub(crate) fn render(&self, nonce: Option<&str>, config_json: &str) -> String {
        let nonce_attr = nonce.map(|n| format!(" nonce=\"{}\"", escape_attribute(n)));
        let mut out = String::with_capacity(
            self.pieces
                .iter()
                .map(|p| match p {
                    Piece::Text(t) => t.len(),
                    Piece::Nonce => 40,
                    Piece::Config => config_json.len(),
                })
                .sum(),
        );
        for piece in &self.pieces {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Nonce => out.push_str(nonce_attr.as_deref().unwrap_or("")),
                Piece::Config => out.push_str(config_json),
            }
        }
        out
    }
}

fn escape_attribute(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes JSON for the inside of a `<script>` element: no `<`, `>` or `&` (so no `</script>` or
/// `<!--`), and no U+2028/U+2029.
pub(crate) fn escape_json_for_script(json: &str) -> String {
    let mut out = Vec::with_capacity(json.len() + 16);
    push_script_safe(&mut out, json);
    String::from_utf8(out).unwrap_or_default()
}

/// Whether `byte` starts a character that [`push_script_safe`] may escape.
pub(crate) fn may_need_escape(byte: u8) -> bool {
    matches!(byte, b'<' | b'>' | b'&' | 0xE2)
}

/// Appends `text` to `out` with `<`, `>`, `&`, U+2028 and U+2029 as JSON escapes. The runs between
/// two escapes are copied whole.
pub(crate) fn push_script_safe(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    let mut run_start = 0;
    let mut i = 0;
    while let Some(offset) = bytes
        .get(i..)
        .and_then(|rest| rest.iter().position(|&b| may_need_escape(b)))
    {
        i += offset;
        let escape = match bytes[i] {
            b'<' => Some(("\\u003c", 1)),
            b'>' => Some(("\\u003e", 1)),
            b'&' => Some(("\\u0026", 1)),
            // U+2028 and U+2029 are E2 80 A8 and E2 80 A9 in UTF-8.
            _ if bytes.get(i + 1) == Some(&0x80) => match bytes.get(i + 2) {
                Some(0xA8) => Some(("\\u2028", 3)),
                Some(0xA9) => Some(("\\u2029", 3)),
                _ => None,
            },
            _ => None,
        };
        match escape {
            Some((replacement, width)) => {
                out.extend_from_slice(&bytes[run_start..i]);
                out.extend_from_slice(replacement.as_bytes());
                i += width;
                run_start = i;
            }
            None => i += 1,
        }
    }
    out.extend_from_slice(&bytes[run_start..]);
}

/// The app's template sources: a directory and single overrides.
#[derive(Debug, Clone, Default)]
pub(crate) struct TemplateSources {
    pub(crate) dir: Option<PathBuf>,
    pub(crate) overrides: Vec<(String, String)>,
}

/// A file rendered once per process and served by the routes at a URL that holds its content
/// hash, so that browsers may cache it for good.
#[derive(Debug, Clone)]
pub(crate) struct Asset {
    /// The URL path, such as `/instant/static/client.<hash>.js`.
    pub(crate) path: String,
    /// The quoted entity tag: the content hash.
    pub(crate) etag: String,
    /// The `Content-Type`.
    pub(crate) content_type: &'static str,
    /// The file.
    pub(crate) body: Bytes,
}

impl Asset {
    fn new(path_of: fn(&str) -> String, content_type: &'static str, body: String) -> Self {
        let hash = content_hash(body.as_bytes());
        Self {
            path: path_of(&hash),
            etag: format!("\"{hash}\""),
            content_type,
            body: Bytes::from(body),
        }
    }
}

/// The first 16 hex digits of the SHA-256 of `content`.
fn content_hash(content: &[u8]) -> String {
    let digest = Sha256::digest(content);
    let mut hash = String::with_capacity(16);
    for byte in digest.iter().take(8) {
        let _ = write!(hash, "{byte:02x}");
    }
    hash
}

/// What the templates produce at start-up.
#[derive(Debug)]
pub(crate) struct Rendered {
    pub(crate) snippet: Snippet,
    pub(crate) frontend: String,
    /// `instant/client.js`, rendered with the handlers.
    pub(crate) client_js: Asset,
    /// `instant.css`.
    pub(crate) client_css: Asset,
}

#[derive(Serialize)]
struct HandlerSource {
    name_json: String,
    source: String,
}

#[derive(Serialize)]
struct FrontendChannel<'a> {
    name: &'a str,
    level: Level,
}

/// Loads the built-in templates, then the app's (same relative paths win), and renders the snippet
/// and the frontend page.
pub(crate) fn render(
    sources: &TemplateSources,
    config: &Config,
    channels: &ChannelSet,
    centrifuge_js: &CentrifugeJs,
) -> Result<Rendered, SetupError> {
    let mut tera = Tera::default();
    tera.add_raw_templates(BUILTIN.iter().copied())
        .map_err(|e| SetupError::template("built-in templates", &e))?;
    let mut app_templates = Vec::new();
    if let Some(dir) = &sources.dir {
        collect_dir(dir, dir, &mut app_templates)?;
    }
    app_templates.extend(sources.overrides.iter().cloned());
    for (name, source) in &app_templates {
        tera.add_raw_template(name, source)
            .map_err(|e| SetupError::template(name, &e))?;
    }

    let render = |name: &str, context: &Context| {
        tera.render(name, context)
            .map_err(|e| SetupError::template(name, &e))
    };

    let mut handlers = Vec::new();
    for channel in channels {
        let template = handler_template_name(channel.name());
        if tera.get_template(&template).is_err() {
            continue;
        }
        let mut context = Context::new();
        context.insert("channel", channel.name());
        context.insert("site", config.site_slug());
        handlers.push(HandlerSource {
            name_json: escape_json_for_script(
                &serde_json::to_string(channel.name()).unwrap_or_default(),
            ),
            source: render(&template, &context)?,
        });
    }
    let mut context = Context::new();
    context.insert("handlers", &handlers);
    context.insert("site", config.site_slug());
    let client_js = Asset::new(
        crate::paths::client_script,
        "text/javascript; charset=utf-8",
        render("instant/client.js", &context)?,
    );
    let mut context = Context::new();
    context.insert("site", config.site_slug());
    let client_css = Asset::new(
        crate::paths::client_style,
        "text/css; charset=utf-8",
        render("instant.css", &context)?,
    );

    let mut context = Context::new();
    context.insert("nonce_attr", NONCE_MARK);
    context.insert("config_json", CONFIG_MARK);
    context.insert("centrifuge_src", &escape_attribute(centrifuge_js.src()));
    context.insert(
        "centrifuge_integrity",
        &centrifuge_js.integrity().map(escape_attribute),
    );
    // The script's text, for an app's own `instant/client.html` that still inlines it.
    context.insert(
        "client_js",
        std::str::from_utf8(&client_js.body).unwrap_or_default(),
    );
    context.insert("client_js_src", &escape_attribute(&client_js.path));
    context.insert("client_css_src", &escape_attribute(&client_css.path));
    let snippet = Snippet::parse(render("instant/client.html", &context)?.trim());

    let mut context = Context::new();
    context.insert("site_name", config.site_name());
    context.insert(
        "channels",
        &channels
            .iter()
            .map(|c| FrontendChannel {
                name: c.name(),
                level: c.level(),
            })
            .collect::<Vec<_>>(),
    );
    context.insert(
        "quick_labels",
        &["ok", "info", "important", "debug", "warning"],
    );
    let frontend = render("instant/frontend.html", &context)?;

    Ok(Rendered {
        snippet,
        frontend,
        client_js,
        client_css,
    })
}

fn collect_dir(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) -> Result<(), SetupError> {
    let io = SetupError::io;
    let mut entries = std::fs::read_dir(dir)
        .map_err(|e| io(dir, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| io(dir, e))?;
    entries.sort_by_key(std::fs::DirEntry::path);
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            collect_dir(root, &path, out)?;
        } else if let Ok(relative) = path.strip_prefix(root) {
            let name = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            let source = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
            out.push((name, source));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handler_names_are_sanitised() {
        assert_eq!(
            handler_template_name("$mysite_admin1"),
            "instant/handlers/$mysite_admin1.js"
        );
        assert_eq!(
            handler_template_name("news:sport/../x"),
            "instant/handlers/news_sport____x.js"
        );
        assert_eq!(
            handler_template_name("$order_{id}"),
            "instant/handlers/$order_{id}.js"
        );
        assert_eq!(
            handler_template_name("personal:#{user}"),
            "instant/handlers/personal__{user}.js"
        );
    }

    #[test]
    fn json_cannot_close_the_script() {
        let json = serde_json::to_string("</script><!-- & \u{2028}").unwrap();
        let escaped = escape_json_for_script(&json);
        assert!(!escaped.contains('<') && !escaped.contains('>') && !escaped.contains('&'));
        let back: String = serde_json::from_str(&escaped).unwrap();
        assert_eq!(back, "</script><!-- & \u{2028}");
    }

    #[test]
    fn escaping_copies_runs_and_keeps_other_characters() {
        assert_eq!(escape_json_for_script(r#"{"a":"b"}"#), r#"{"a":"b"}"#);
        assert_eq!(
            escape_json_for_script("é<€>\u{2028}\u{2029}\u{2027}&x"),
            "é\\u003c€\\u003e\\u2028\\u2029\u{2027}\\u0026x"
        );
        assert_eq!(escape_json_for_script(""), "");
        assert_eq!(escape_json_for_script("\u{E2}"), "\u{E2}");
    }

    #[test]
    fn asset_urls_carry_the_content_hash() {
        let a = Asset::new(crate::paths::client_script, "text/javascript", "a".into());
        let b = Asset::new(crate::paths::client_script, "text/javascript", "b".into());
        assert!(a.path.starts_with("/instant/static/client."));
        assert!(a.path.ends_with(".js"));
        assert_ne!(a.path, b.path);
        assert_eq!(a.etag.len(), 18);
    }

    #[test]
    fn snippet_fills_its_holes() {
        let snippet = Snippet::parse(&format!("<a{NONCE_MARK}>{CONFIG_MARK}</a><b{NONCE_MARK}>"));
        assert_eq!(
            snippet.render(Some("n\"1"), "{}"),
            "<a nonce=\"n&quot;1\">{}</a><b nonce=\"n&quot;1\">"
        );
        assert_eq!(snippet.render(None, "{}"), "<a>{}</a><b>");
    }
}
