//! Configuration: the HMAC secret shared with Centrifugo, its HTTP API address and key, the site's
//! identity, timings, paths and declared channels, built with a builder, from `INSTANT_*`
//! environment variables, or from an `instant.toml` file.
//!
//! Every source goes through one table of keys ([`keys::KEYS`]) and one validation, so a missing
//! or invalid value gives the same [`ConfigError`], naming the key as the user wrote it
//! (`INSTANT_CENTRIFUGO_URL` for the environment, `centrifugo_url` for the file and the builder).

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

mod builder;
mod channels;
pub mod keys;
mod parse;
mod secret;
#[cfg(feature = "settings")]
mod sources;

pub use self::builder::ConfigBuilder;
pub use self::channels::ChannelSettings;
pub use self::keys::{KEYS, SettingKey, ValueKind};
pub use self::parse::{format_duration, parse_bool, parse_duration, split_list};
pub use self::secret::Secret;

/// The default lifetime of connection and subscription tokens: short, because the browser client
/// renews them through the auth routes, and a token copied out of a page stops working soon after
/// its user loses access.
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(60 * 60);
/// The longest token lifetime accepted: 30 days. A token copied out of a page stays usable for
/// its whole lifetime, and a far-off expiry cannot be represented as a deadline.
pub const MAX_TOKEN_TTL: Duration = Duration::from_secs(30 * 24 * 60 * 60);
/// The shortest HMAC secret accepted, in bytes: HS256 needs a key at least as long as its hash
/// (32 bytes) to be as strong as the hash.
pub const MIN_SECRET_LEN: usize = 32;
/// How long an awaited publish waits for the server by default.
pub const DEFAULT_PUBLISH_TIMEOUT: Duration = Duration::from_secs(5);
/// The site slug used when none is configured.
pub const DEFAULT_SITE_SLUG: &str = "site";
/// The file [`Config::load`] reads when it exists in the working directory.
pub const CONFIG_FILE_NAME: &str = "instant.toml";
/// The environment variable that points [`Config::load`] at another file.
pub const CONFIG_FILE_ENV: &str = "INSTANT_CONFIG";

/// Why a configuration could not be built. Each variant names the key as it appears in the source
/// that supplied it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A required value is absent.
    #[error("missing configuration value {key}: {reason}")]
    Missing {
        /// The key, e.g. `INSTANT_SECRET` or `secret`.
        key: String,
        /// Why it is required.
        reason: String,
    },
    /// A value is present but unusable. Secret values are never repeated here.
    #[error("invalid configuration value {key}: {reason}")]
    Invalid {
        /// The key, e.g. `INSTANT_TOKEN_TTL`, `token_ttl` or `channels[0].name`.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A configuration file names a key this version does not know (often a typo).
    #[error("unknown key `{key}` in {path}{}", did_you_mean(.suggestion.as_deref()))]
    UnknownKey {
        /// The unknown key, e.g. `secrte` or `channels[0].presense`.
        key: String,
        /// The file it is in.
        path: String,
        /// The nearest known key, when one is close.
        suggestion: Option<String>,
    },
    /// A configuration file is not valid TOML, or a value has the wrong type.
    #[error("cannot parse {path}: {message}")]
    Parse {
        /// The file (or `<string>` for `Config::from_toml_str`).
        path: String,
        /// The parser's message.
        message: String,
    },
    /// A configuration file could not be read.
    #[error("cannot read {path}: {message}")]
    Io {
        /// The file.
        path: String,
        /// The operating system's message.
        message: String,
    },
}

fn did_you_mean(suggestion: Option<&str>) -> String {
    suggestion.map_or_else(String::new, |key| format!("; did you mean `{key}`?"))
}

impl ConfigError {
    /// The configuration key this error is about, when it is about one.
    #[must_use]
    pub fn key(&self) -> Option<&str> {
        match self {
            Self::Missing { key, .. }
            | Self::Invalid { key, .. }
            | Self::UnknownKey { key, .. } => Some(key),
            _ => None,
        }
    }
}

/// Where a setting's value came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Source {
    /// Not set: the default applies.
    #[default]
    Default,
    /// Set in code, through [`ConfigBuilder`].
    Code,
    /// Read from the settings file.
    File,
    /// Read from an environment variable.
    Env,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Default => "default",
            Self::Code => "code",
            Self::File => "file",
            Self::Env => "environment",
        })
    }
}

/// One setting of a [`Config`] as `instant check` shows it: the value as text (secrets
/// redacted) and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SettingValue {
    /// The setting.
    pub key: &'static SettingKey,
    /// The value in effect as text, `[redacted]` for secrets; `None` when there is none.
    pub value: Option<String>,
    /// Where the value came from.
    pub source: Source,
}

/// The settings of `instant`, validated. Build one with [`Config::builder`], `Config::from_env`,
/// `Config::from_toml_file` or `Config::load` (the last three with the `settings` feature).
///
/// | setting | environment | `instant.toml` | default |
/// |---|---|---|---|
/// | HMAC secret shared with Centrifugo | `INSTANT_SECRET` | `secret` | random per process (embedded mode only) |
/// | Centrifugo URL | `INSTANT_CENTRIFUGO_URL` | `centrifugo_url` | none: embedded server |
/// | Centrifugo nodes' URLs (a cluster) | `INSTANT_CENTRIFUGO_URLS` | `centrifugo_urls` | `centrifugo_url` alone |
/// | Centrifugo HTTP API key | `INSTANT_CENTRIFUGO_API_KEY` | `centrifugo_api_key` | none |
/// | browser WebSocket URL | `INSTANT_WEBSOCKET_URL` | `websocket_url` | Centrifugo's `/connection/websocket`, or the app's own in embedded mode |
/// | site slug | `INSTANT_SITE_SLUG` | `site_slug` | `site` |
/// | site name | `INSTANT_SITE_NAME` | `site_name` | the slug |
/// | debug | `INSTANT_DEBUG` | `debug` | `false` |
/// | token lifetime | `INSTANT_TOKEN_TTL` | `token_ttl` | `1h` |
/// | publish timeout | `INSTANT_PUBLISH_TIMEOUT` | `publish_timeout` | `5s` |
/// | allowed origins | `INSTANT_ALLOWED_ORIGINS` | `allowed_origins` | none |
/// | template directory | `INSTANT_TEMPLATES_DIR` | `templates_dir` | none |
/// | local `centrifuge.js` | `INSTANT_CENTRIFUGE_JS` | `centrifuge_js` | the CDN URL |
/// | trusted reverse proxies (IP addresses) | `INSTANT_TRUSTED_PROXIES` | `trusted_proxies` | none: forwarded headers are ignored |
///
/// The secret must be at least [`MIN_SECRET_LEN`] bytes; the token lifetime at most
/// [`MAX_TOKEN_TTL`].
///
/// Durations are whole seconds (`30`) or a number with a unit: `500ms`, `30s`, `5m`, `2h`, `1d`.
/// Lists are comma- and/or whitespace-separated in the environment and arrays in the file.
/// Channels are declared in the file only, as `[[channels]]` tables ([`ChannelSettings`]).
/// Unknown keys in the file are errors that suggest the nearest known key.
#[derive(Debug, Clone)]
pub struct Config {
    secret: Secret,
    secret_generated: bool,
    api_key: Option<Secret>,
    centrifugo_url: Option<String>,
    centrifugo_urls: Vec<String>,
    websocket_url: Option<String>,
    site_slug: String,
    site_name: String,
    debug: bool,
    token_ttl: Duration,
    publish_timeout: Duration,
    allowed_origins: Vec<String>,
    templates_dir: Option<PathBuf>,
    centrifuge_js: Option<PathBuf>,
    trusted_proxies: Vec<IpAddr>,
    channels: Vec<ChannelSettings>,
    sources: Vec<(&'static str, Source)>,
}

impl Config {
    /// A builder; every setting is optional (see the table on [`Config`]).
    #[must_use]
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::default()
    }

    /// The HMAC secret that signs connection and subscription tokens; Centrifugo's
    /// `client.token.hmac_secret_key`.
    #[must_use]
    pub fn secret(&self) -> &Secret {
        &self.secret
    }

    /// Whether the secret was generated for this process because none was configured (embedded
    /// mode only). Every configuration built in the process shares it; tokens stop being valid
    /// when the process restarts.
    #[must_use]
    pub fn secret_is_generated(&self) -> bool {
        self.secret_generated
    }

    /// The key of Centrifugo's HTTP API (`http_api.key`).
    #[must_use]
    pub fn api_key(&self) -> Option<&Secret> {
        self.api_key.as_ref()
    }

    /// Centrifugo's base URL without a trailing slash, e.g. `http://127.0.0.1:8000`; `None` means
    /// the embedded server is used. With several nodes ([`Config::centrifugo_urls`]) it is
    /// `centrifugo_url` when set, else the first node.
    #[must_use]
    pub fn centrifugo_url(&self) -> Option<&str> {
        self.centrifugo_url.as_deref()
    }

    /// The HTTP addresses of every Centrifugo node the publisher spreads its requests over,
    /// without trailing slashes: `centrifugo_urls` when set (it then includes `centrifugo_url`,
    /// when that is set too), else `centrifugo_url` alone; empty in embedded mode.
    ///
    /// [`Config::centrifugo_url`] is `centrifugo_url` when set, else the first of these; the
    /// browsers' default WebSocket URL follows it.
    #[must_use]
    pub fn centrifugo_urls(&self) -> &[String] {
        &self.centrifugo_urls
    }

    /// Whether events go through the embedded server rather than Centrifugo.
    #[must_use]
    pub fn is_embedded(&self) -> bool {
        self.centrifugo_url.is_none()
    }

    /// The WebSocket URL browsers connect to. When not configured, Centrifugo's
    /// [`WEBSOCKET_PATH`](crate::paths::WEBSOCKET_PATH), or `None` in embedded mode (the app's
    /// own origin).
    #[must_use]
    pub fn websocket_url(&self) -> Option<&str> {
        self.websocket_url.as_deref()
    }

    /// The site slug stamped on events.
    #[must_use]
    pub fn site_slug(&self) -> &str {
        &self.site_slug
    }

    /// The human-readable site name.
    #[must_use]
    pub fn site_name(&self) -> &str {
        &self.site_name
    }

    /// Whether debug output is on (browser-side logging).
    #[must_use]
    pub fn debug(&self) -> bool {
        self.debug
    }

    /// The lifetime of the tokens `instant` mints.
    #[must_use]
    pub fn token_ttl(&self) -> Duration {
        self.token_ttl
    }

    /// How long an awaited publish waits for the server.
    #[must_use]
    pub fn publish_timeout(&self) -> Duration {
        self.publish_timeout
    }

    /// Origins (glob patterns as in Centrifugo's `client.allowed_origins`) allowed to open
    /// WebSocket connections.
    #[must_use]
    pub fn allowed_origins(&self) -> &[String] {
        &self.allowed_origins
    }

    /// The app's template directory, when configured.
    #[must_use]
    pub fn templates_dir(&self) -> Option<&Path> {
        self.templates_dir.as_deref()
    }

    /// A local `centrifuge.js` file to serve instead of the CDN's, when configured.
    #[must_use]
    pub fn centrifuge_js(&self) -> Option<&Path> {
        self.centrifuge_js.as_deref()
    }

    /// The IP addresses of the reverse proxies in front of the app (`trusted_proxies`): only
    /// requests from these peers have their `X-Forwarded-Host`, `X-Forwarded-Proto`,
    /// `X-Forwarded-For` and `Forwarded` headers believed. Empty by default: those headers are
    /// ignored and the request's own `Host` and peer address count.
    #[must_use]
    pub fn trusted_proxies(&self) -> &[IpAddr] {
        &self.trusted_proxies
    }

    /// The declared channels (`[[channels]]` in the file, or [`ConfigBuilder::channel`]).
    #[must_use]
    pub fn channels(&self) -> &[ChannelSettings] {
        &self.channels
    }

    /// The declared channel with this name.
    #[must_use]
    pub fn channel_settings(&self, name: &str) -> Option<&ChannelSettings> {
        self.channels.iter().find(|channel| channel.name == name)
    }

    /// Where the setting with this file name (e.g. `"secret"`) came from; [`Source::Default`] for
    /// unset or unknown keys.
    #[must_use]
    pub fn source(&self, key: &str) -> Source {
        self.sources
            .iter()
            .find(|(name, _)| *name == key)
            .map_or(Source::Default, |(_, source)| *source)
    }

    /// Every setting of [`KEYS`] with its value as text (secrets redacted) and its source, in
    /// the table's order.
    #[must_use]
    pub fn setting_values(&self) -> Vec<SettingValue> {
        KEYS.iter()
            .map(|key| SettingValue {
                key,
                value: self.value_text(key),
                source: self.source(key.name),
            })
            .collect()
    }

    fn value_text(&self, key: &SettingKey) -> Option<String> {
        let path = |path: Option<&Path>| path.map(|p| p.display().to_string());
        match key.name {
            "secret" if self.secret_generated => Some("[generated for this process]".to_owned()),
            "secret" => Some(self.secret.to_string()),
            "centrifugo_api_key" => self.api_key.as_ref().map(ToString::to_string),
            "centrifugo_url" => self.centrifugo_url.clone(),
            "centrifugo_urls" if self.source("centrifugo_urls") != Source::Default => {
                Some(self.centrifugo_urls.join(", "))
            }
            "websocket_url" => self.websocket_url.clone(),
            "site_slug" => Some(self.site_slug.clone()),
            "site_name" => Some(self.site_name.clone()),
            "debug" => Some(self.debug.to_string()),
            "token_ttl" => Some(format_duration(self.token_ttl)),
            "publish_timeout" => Some(format_duration(self.publish_timeout)),
            "allowed_origins" => {
                Some(self.allowed_origins.join(", ")).filter(|list| !list.is_empty())
            }
            "templates_dir" => path(self.templates_dir()),
            "centrifuge_js" => path(self.centrifuge_js()),
            "trusted_proxies" => Some(
                self.trusted_proxies
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
            )
            .filter(|list| !list.is_empty()),
            _ => None,
        }
    }
}

#[cfg(all(test, feature = "settings"))]
mod tests;
