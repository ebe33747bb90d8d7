//! The settings keys: one table that the file reader, the environment reader, the builder's
//! errors, `instant check` and the documentation on [`Config`](super::Config) all read.

/// How the text of a setting is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ValueKind {
    /// Any text (a string in the file).
    Text,
    /// Text that is never shown (a string in the file).
    Secret,
    /// `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off` in the environment).
    Bool,
    /// A duration: [`parse_duration`](super::parse_duration) text, or whole seconds in the file.
    Duration,
    /// A list: comma- and/or whitespace-separated in the environment, an array in the file.
    List,
    /// A file system path (a string in the file).
    Path,
}

/// One setting: its names in each source, what it means and its default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SettingKey {
    /// The key in `instant.toml`, also the name errors use for values set in code.
    pub name: &'static str,
    /// The environment variable.
    pub env: &'static str,
    /// What the setting means, in one line.
    pub doc: &'static str,
    /// The default, as text.
    pub default: &'static str,
    /// How its text is read.
    pub kind: ValueKind,
}

impl SettingKey {
    /// Whether the value must never be shown.
    #[must_use]
    pub fn is_secret(&self) -> bool {
        self.kind == ValueKind::Secret
    }
}

const fn key(
    name: &'static str,
    env: &'static str,
    kind: ValueKind,
    doc: &'static str,
    default: &'static str,
) -> SettingKey {
    SettingKey {
        name,
        env,
        doc,
        default,
        kind,
    }
}

/// The HMAC secret that signs tokens.
pub const SECRET: SettingKey = key(
    "secret",
    "INSTANT_SECRET",
    ValueKind::Secret,
    "HMAC secret for connection and subscription tokens; Centrifugo's client.token.hmac_secret_key",
    "random per process (embedded mode only)",
);
/// Centrifugo's HTTP address.
pub const CENTRIFUGO_URL: SettingKey = key(
    "centrifugo_url",
    "INSTANT_CENTRIFUGO_URL",
    ValueKind::Text,
    "Centrifugo's HTTP address, e.g. http://127.0.0.1:8000",
    "none: the embedded server",
);
/// Every Centrifugo node's HTTP address, for a cluster.
pub const CENTRIFUGO_URLS: SettingKey = key(
    "centrifugo_urls",
    "INSTANT_CENTRIFUGO_URLS",
    ValueKind::List,
    "the HTTP addresses of every Centrifugo node the app publishes through (a cluster on one Redis)",
    "centrifugo_url alone",
);
/// Centrifugo's HTTP API key.
pub const CENTRIFUGO_API_KEY: SettingKey = key(
    "centrifugo_api_key",
    "INSTANT_CENTRIFUGO_API_KEY",
    ValueKind::Secret,
    "Centrifugo's http_api.key; also opens the embedded server's /api",
    "none",
);
/// The WebSocket URL browsers connect to.
pub const WEBSOCKET_URL: SettingKey = key(
    "websocket_url",
    "INSTANT_WEBSOCKET_URL",
    ValueKind::Text,
    "the WebSocket URL browsers connect to (ws:// or wss://)",
    "Centrifugo's /connection/websocket, or the app's own in embedded mode",
);
/// The site's slug.
pub const SITE_SLUG: SettingKey = key(
    "site_slug",
    "INSTANT_SITE_SLUG",
    ValueKind::Text,
    "the site's slug, stamped on events (letters, digits, -, _)",
    "site",
);
/// The site's name.
pub const SITE_NAME: SettingKey = key(
    "site_name",
    "INSTANT_SITE_NAME",
    ValueKind::Text,
    "the site's human-readable name",
    "the slug",
);
/// Browser-side debug logging.
pub const DEBUG: SettingKey = key(
    "debug",
    "INSTANT_DEBUG",
    ValueKind::Bool,
    "browser-side debug logging",
    "false",
);
/// The lifetime of minted tokens.
pub const TOKEN_TTL: SettingKey = key(
    "token_ttl",
    "INSTANT_TOKEN_TTL",
    ValueKind::Duration,
    "lifetime of the tokens it mints; the browser renews them",
    "1h",
);
/// How long an awaited publish waits.
pub const PUBLISH_TIMEOUT: SettingKey = key(
    "publish_timeout",
    "INSTANT_PUBLISH_TIMEOUT",
    ValueKind::Duration,
    "how long an awaited publish waits",
    "5s",
);
/// The origins allowed to open WebSockets.
pub const ALLOWED_ORIGINS: SettingKey = key(
    "allowed_origins",
    "INSTANT_ALLOWED_ORIGINS",
    ValueKind::List,
    "origins allowed to open WebSockets and to call the POST routes cross-origin (patterns with *)",
    "none",
);
/// The app's template directory.
pub const TEMPLATES_DIR: SettingKey = key(
    "templates_dir",
    "INSTANT_TEMPLATES_DIR",
    ValueKind::Path,
    "the app's template directory",
    "none",
);
/// A local `centrifuge.js` to serve.
pub const CENTRIFUGE_JS: SettingKey = key(
    "centrifuge_js",
    "INSTANT_CENTRIFUGE_JS",
    ValueKind::Path,
    "a local centrifuge.js file to serve instead of the CDN's",
    "the CDN URL",
);

/// The reverse proxies whose forwarded headers are believed.
pub const TRUSTED_PROXIES: SettingKey = key(
    "trusted_proxies",
    "INSTANT_TRUSTED_PROXIES",
    ValueKind::List,
    "IP addresses of reverse proxies whose X-Forwarded-*/Forwarded headers are believed (host, scheme, client address)",
    "none: forwarded headers are ignored",
);

/// Every setting, in the order `instant check` prints them.
pub const KEYS: &[SettingKey] = &[
    SECRET,
    CENTRIFUGO_URL,
    CENTRIFUGO_URLS,
    CENTRIFUGO_API_KEY,
    WEBSOCKET_URL,
    SITE_SLUG,
    SITE_NAME,
    DEBUG,
    TOKEN_TTL,
    PUBLISH_TIMEOUT,
    ALLOWED_ORIGINS,
    TEMPLATES_DIR,
    CENTRIFUGE_JS,
    TRUSTED_PROXIES,
];

/// The array of tables in `instant.toml` that declares channels (`[[channels]]`); the
/// environment does not set channels.
pub const CHANNELS: &str = "channels";

/// The keys of one `[[channels]]` entry.
pub const CHANNEL_KEYS: &[&str] = &[
    "name",
    "level",
    "paths",
    "presence",
    "join_leave",
    "presence_for_anonymous",
    "history_size",
    "history_ttl",
    "recover",
    "force_push_join_leave",
    "client_publish",
];

/// The setting with this file (and builder) name.
#[must_use]
pub fn find(name: &str) -> Option<&'static SettingKey> {
    KEYS.iter().find(|key| key.name == name)
}

/// The setting read from this environment variable.
#[must_use]
pub fn find_env(env: &str) -> Option<&'static SettingKey> {
    KEYS.iter().find(|key| key.env == env)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_in_the_table_on_config() {
        let source = include_str!("mod.rs");
        let table: Vec<&str> = source
            .lines()
            .filter(|line| line.trim_start().starts_with("/// |"))
            .collect();
        for key in KEYS {
            let row = format!("`{}` | `{}`", key.env, key.name);
            assert!(
                table.iter().any(|line| line.contains(&row)),
                "the table on `Config` has no row for {row}"
            );
        }
        assert_eq!(table.len(), KEYS.len() + 2, "one row per key: {table:#?}");
    }

    #[test]
    fn names_are_unique_and_environment_names_follow_them() {
        for (i, key) in KEYS.iter().enumerate() {
            assert_eq!(
                key.env,
                format!("INSTANT_{}", key.name.to_ascii_uppercase())
            );
            assert!(KEYS[i + 1..].iter().all(|other| other.name != key.name));
            assert_eq!(find(key.name), Some(key));
            assert_eq!(find_env(key.env), Some(key));
        }
    }
}
