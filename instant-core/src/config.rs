//! Configuration: the HMAC secret shared with Centrifugo, its HTTP API address and key, the site's
//! identity, and timings, built with a builder, from `INSTANT_*` environment variables, or from an
//! `instant.toml` file.
//!
//! Every source goes through one validation, so a missing or invalid value gives the same
//! [`ConfigError`], naming the key as the user wrote it (`INSTANT_CENTRIFUGO_URL` for the
//! environment, `centrifugo_url` for the file and the builder).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::Duration;

use base64::Engine as _;
use rand::RngCore as _;
use serde::Deserialize;

/// The default lifetime of connection and subscription tokens: short, because the browser client
/// renews them through the auth routes, and a token copied out of a page stops working soon after
/// its user loses access.
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(60 * 60);
/// How long an awaited publish waits for the server by default.
pub const DEFAULT_PUBLISH_TIMEOUT: Duration = Duration::from_secs(5);
/// The site slug used when none is configured.
pub const DEFAULT_SITE_SLUG: &str = "site";
/// The file [`Config::load`] reads when it exists in the working directory.
pub const CONFIG_FILE_NAME: &str = "instant.toml";
/// The environment variable that points [`Config::load`] at another file.
pub const CONFIG_FILE_ENV: &str = "INSTANT_CONFIG";

/// The secret of embedded mode when none is configured: one per process, so every `Config` built
/// in the process (the middleware's, the embedded server's) signs and verifies alike.
static PROCESS_SECRET: LazyLock<Secret> = LazyLock::new(Secret::generate);

/// A secret string (HMAC key, API key) that never shows in `Debug` or `Display` output, so it
/// cannot leak through logs or error messages.
#[derive(Clone)]
pub struct Secret(Box<str>);

impl Secret {
    /// Wraps a secret value.
    #[must_use]
    pub fn new(value: String) -> Self {
        Self(value.into_boxed_str())
    }

    /// A fresh random secret: 32 bytes from the operating system's generator, base64url-encoded.
    #[must_use]
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self::new(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
    }

    /// The secret value itself. Call it only where the value is needed (signing, a request header).
    #[must_use]
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// Whether the secret is the empty string.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl PartialEq for Secret {
    /// Compares in constant time, so comparing keys does not leak their content through timing.
    fn eq(&self, other: &Self) -> bool {
        use subtle::ConstantTimeEq as _;
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl Eq for Secret {}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value.to_owned())
    }
}

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
        /// The key, e.g. `INSTANT_TOKEN_TTL` or `token_ttl`.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A configuration file names a key this version does not know (often a typo).
    #[error("unknown configuration key {key} in {path}")]
    UnknownKey {
        /// The unknown key.
        key: String,
        /// The file it is in.
        path: String,
    },
    /// A configuration file is not valid TOML, or a value has the wrong type.
    #[error("cannot parse {path}: {message}")]
    Parse {
        /// The file (or `<string>` for [`Config::from_toml_str`]).
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

/// The settings of `instant`, validated. Build one with [`Config::builder`], [`Config::from_env`],
/// [`Config::from_toml_file`] or [`Config::load`].
///
/// | setting | environment | `instant.toml` | default |
/// |---|---|---|---|
/// | HMAC secret shared with Centrifugo | `INSTANT_SECRET` | `secret` | random per process (embedded mode only) |
/// | Centrifugo URL | `INSTANT_CENTRIFUGO_URL` | `centrifugo_url` | none: embedded server |
/// | Centrifugo HTTP API key | `INSTANT_CENTRIFUGO_API_KEY` | `centrifugo_api_key` | none |
/// | browser WebSocket URL | `INSTANT_WEBSOCKET_URL` | `websocket_url` | Centrifugo's `/connection/websocket`, or the app's own in embedded mode |
/// | site slug | `INSTANT_SITE_SLUG` | `site_slug` | `site` |
/// | site name | `INSTANT_SITE_NAME` | `site_name` | the slug |
/// | debug | `INSTANT_DEBUG` | `debug` | `false` |
/// | token lifetime | `INSTANT_TOKEN_TTL` | `token_ttl` | `1h` |
/// | publish timeout | `INSTANT_PUBLISH_TIMEOUT` | `publish_timeout` | `5s` |
/// | allowed origins | `INSTANT_ALLOWED_ORIGINS` (comma or space separated) | `allowed_origins` (array) | none |
///
/// Durations are whole seconds (`30`) or a number with a unit: `500ms`, `30s`, `5m`, `2h`, `1d`.
#[derive(Debug, Clone)]
pub struct Config {
    secret: Secret,
    secret_generated: bool,
    api_key: Option<Secret>,
    centrifugo_url: Option<String>,
    websocket_url: Option<String>,
    site_slug: String,
    site_name: String,
    debug: bool,
    token_ttl: Duration,
    publish_timeout: Duration,
    allowed_origins: Vec<String>,
}

impl Config {
    /// A builder; every setting is optional (see the table on [`Config`]).
    #[must_use]
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::default()
    }

    /// The settings from the process environment (`INSTANT_*` variables).
    ///
    /// # Errors
    /// [`ConfigError`] naming the variable that is missing or invalid.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_env_vars(std::env::vars())
    }

    /// The settings from the given `(name, value)` pairs, read as environment variables; variables
    /// not starting with `INSTANT_` are ignored, and empty values count as unset.
    ///
    /// # Errors
    /// [`ConfigError`] naming the variable that is missing or invalid.
    pub fn from_env_vars<I, K, V>(vars: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut raw = Raw::default();
        raw.apply_env(vars)?;
        raw.build()
    }

    /// The settings from the text of an `instant.toml` file.
    ///
    /// # Errors
    /// [`ConfigError::Parse`], [`ConfigError::UnknownKey`], or a missing or invalid value.
    pub fn from_toml_str(text: &str) -> Result<Self, ConfigError> {
        Raw::from_toml(text, "<string>")?.build()
    }

    /// The settings from an `instant.toml` file.
    ///
    /// # Errors
    /// [`ConfigError::Io`] when the file cannot be read, else as [`Config::from_toml_str`].
    pub fn from_toml_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        Raw::from_toml_file(path.as_ref())?.build()
    }

    /// The usual way to configure an app: the file named by `INSTANT_CONFIG`, else `instant.toml` in
    /// the working directory when it exists, with `INSTANT_*` environment variables overriding it.
    ///
    /// # Errors
    /// [`ConfigError`] from the file or the environment.
    pub fn load() -> Result<Self, ConfigError> {
        let file = match std::env::var_os(CONFIG_FILE_ENV).filter(|v| !v.is_empty()) {
            Some(path) => Some(PathBuf::from(path)),
            None => Some(PathBuf::from(CONFIG_FILE_NAME)).filter(|p| p.is_file()),
        };
        let mut raw = match file {
            Some(path) => Raw::from_toml_file(&path)?,
            None => Raw::default(),
        };
        raw.apply_env(std::env::vars())?;
        raw.build()
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
    /// the embedded server is used.
    #[must_use]
    pub fn centrifugo_url(&self) -> Option<&str> {
        self.centrifugo_url.as_deref()
    }

    /// Whether events go through the embedded server rather than Centrifugo.
    #[must_use]
    pub fn is_embedded(&self) -> bool {
        self.centrifugo_url.is_none()
    }

    /// The WebSocket URL browsers connect to. When not configured, Centrifugo's
    /// `/connection/websocket`, or `None` in embedded mode (the app's own origin).
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
}

/// Builds a [`Config`] in code. Unset values take the defaults in the table on [`Config`].
#[derive(Debug, Clone, Default)]
pub struct ConfigBuilder {
    raw: Raw,
}

impl ConfigBuilder {
    /// The HMAC secret shared with Centrifugo.
    #[must_use]
    pub fn secret(mut self, secret: impl Into<Secret>) -> Self {
        self.raw.secret = Some(secret.into());
        self
    }

    /// Centrifugo's HTTP API key.
    #[must_use]
    pub fn api_key(mut self, api_key: impl Into<Secret>) -> Self {
        self.raw.api_key = Some(api_key.into());
        self
    }

    /// Centrifugo's base URL, e.g. `http://127.0.0.1:8000`.
    #[must_use]
    pub fn centrifugo_url(mut self, url: impl Into<String>) -> Self {
        self.raw.centrifugo_url = Some(url.into());
        self
    }

    /// The WebSocket URL browsers connect to.
    #[must_use]
    pub fn websocket_url(mut self, url: impl Into<String>) -> Self {
        self.raw.websocket_url = Some(url.into());
        self
    }

    /// The site slug.
    #[must_use]
    pub fn site_slug(mut self, slug: impl Into<String>) -> Self {
        self.raw.site_slug = Some(slug.into());
        self
    }

    /// The site name.
    #[must_use]
    pub fn site_name(mut self, name: impl Into<String>) -> Self {
        self.raw.site_name = Some(name.into());
        self
    }

    /// Debug output on or off.
    #[must_use]
    pub fn debug(mut self, debug: bool) -> Self {
        self.raw.debug = Some(debug);
        self
    }

    /// The token lifetime.
    #[must_use]
    pub fn token_ttl(mut self, ttl: Duration) -> Self {
        self.raw.token_ttl = Some(ttl);
        self
    }

    /// The publish timeout.
    #[must_use]
    pub fn publish_timeout(mut self, timeout: Duration) -> Self {
        self.raw.publish_timeout = Some(timeout);
        self
    }

    /// Replaces the allowed origins.
    #[must_use]
    pub fn allowed_origins<I, S>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.raw.allowed_origins = Some(origins.into_iter().map(Into::into).collect());
        self
    }

    /// Adds one allowed origin.
    #[must_use]
    pub fn allowed_origin(mut self, origin: impl Into<String>) -> Self {
        self.raw
            .allowed_origins
            .get_or_insert_with(Vec::new)
            .push(origin.into());
        self
    }

    /// Validates and builds.
    ///
    /// # Errors
    /// [`ConfigError`] naming the setting that is missing or invalid.
    pub fn build(self) -> Result<Config, ConfigError> {
        self.raw.build()
    }
}

/// Where a setting came from, so errors name it the way the user wrote it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Origin {
    #[default]
    Code,
    Env,
    File,
}

/// Unvalidated settings, layered from the sources.
#[derive(Debug, Clone, Default)]
struct Raw {
    secret: Option<Secret>,
    api_key: Option<Secret>,
    centrifugo_url: Option<String>,
    websocket_url: Option<String>,
    site_slug: Option<String>,
    site_name: Option<String>,
    debug: Option<bool>,
    token_ttl: Option<Duration>,
    publish_timeout: Option<Duration>,
    allowed_origins: Option<Vec<String>>,
    /// The source of each key that was set, for error messages.
    origins: Vec<(&'static str, Origin)>,
}

/// The `instant.toml` file; field names are the keys of the file.
// No `Debug`: it holds the secret and the API key as plain strings.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    secret: Option<String>,
    centrifugo_api_key: Option<String>,
    centrifugo_url: Option<String>,
    websocket_url: Option<String>,
    site_slug: Option<String>,
    site_name: Option<String>,
    debug: Option<bool>,
    token_ttl: Option<FileDuration>,
    publish_timeout: Option<FileDuration>,
    allowed_origins: Option<Vec<String>>,
    /// `[[channels]]` entries: the Centrifugo channel options the `instant` command derives its
    /// config from. The app itself declares its channels in code (`channels!`), so they are
    /// accepted here and left to the command.
    #[serde(default, rename = "channels")]
    _channels: Option<toml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum FileDuration {
    Seconds(u64),
    Text(String),
}

/// The configuration keys: `(file and builder name, environment variable)`.
const KEYS: [(&str, &str); 10] = [
    ("secret", "INSTANT_SECRET"),
    ("centrifugo_api_key", "INSTANT_CENTRIFUGO_API_KEY"),
    ("centrifugo_url", "INSTANT_CENTRIFUGO_URL"),
    ("websocket_url", "INSTANT_WEBSOCKET_URL"),
    ("site_slug", "INSTANT_SITE_SLUG"),
    ("site_name", "INSTANT_SITE_NAME"),
    ("debug", "INSTANT_DEBUG"),
    ("token_ttl", "INSTANT_TOKEN_TTL"),
    ("publish_timeout", "INSTANT_PUBLISH_TIMEOUT"),
    ("allowed_origins", "INSTANT_ALLOWED_ORIGINS"),
];

fn env_name(key: &str) -> &'static str {
    KEYS.iter()
        .find(|(k, _)| *k == key)
        .map_or("INSTANT_?", |(_, env)| env)
}

impl Raw {
    fn mark(&mut self, key: &'static str, origin: Origin) {
        self.origins.retain(|(k, _)| *k != key);
        self.origins.push((key, origin));
    }

    /// The key as the user wrote it in the source that set it last.
    fn key_name(&self, key: &'static str) -> String {
        let origin = self
            .origins
            .iter()
            .find(|(k, _)| *k == key)
            .map_or(Origin::Code, |(_, o)| *o);
        match origin {
            Origin::Env => env_name(key).to_owned(),
            Origin::Code | Origin::File => key.to_owned(),
        }
    }

    fn from_toml_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Self::from_toml(&text, &path.display().to_string())
    }

    fn from_toml(text: &str, path: &str) -> Result<Self, ConfigError> {
        let file: FileConfig = toml::from_str(text).map_err(|e| {
            let message = e.message().to_owned();
            // serde's message for deny_unknown_fields: "unknown field `x`, expected one of ...".
            match message
                .strip_prefix("unknown field `")
                .and_then(|rest| rest.split('`').next())
            {
                Some(key) => ConfigError::UnknownKey {
                    key: key.to_owned(),
                    path: path.to_owned(),
                },
                None => ConfigError::Parse {
                    path: path.to_owned(),
                    message: e.to_string().trim().to_owned(),
                },
            }
        })?;
        let mut raw = Self::default();
        let file_duration = |key: &str, value: FileDuration| match value {
            FileDuration::Seconds(secs) => Ok(Duration::from_secs(secs)),
            FileDuration::Text(text) => {
                parse_duration(&text).map_err(|reason| ConfigError::Invalid {
                    key: key.to_owned(),
                    reason,
                })
            }
        };
        if let Some(v) = file.secret {
            raw.secret = Some(Secret::new(v));
            raw.mark("secret", Origin::File);
        }
        if let Some(v) = file.centrifugo_api_key {
            raw.api_key = Some(Secret::new(v));
            raw.mark("centrifugo_api_key", Origin::File);
        }
        if let Some(v) = file.centrifugo_url {
            raw.centrifugo_url = Some(v);
            raw.mark("centrifugo_url", Origin::File);
        }
        if let Some(v) = file.websocket_url {
            raw.websocket_url = Some(v);
            raw.mark("websocket_url", Origin::File);
        }
        if let Some(v) = file.site_slug {
            raw.site_slug = Some(v);
            raw.mark("site_slug", Origin::File);
        }
        if let Some(v) = file.site_name {
            raw.site_name = Some(v);
            raw.mark("site_name", Origin::File);
        }
        if let Some(v) = file.debug {
            raw.debug = Some(v);
            raw.mark("debug", Origin::File);
        }
        if let Some(v) = file.token_ttl {
            raw.token_ttl = Some(file_duration("token_ttl", v)?);
            raw.mark("token_ttl", Origin::File);
        }
        if let Some(v) = file.publish_timeout {
            raw.publish_timeout = Some(file_duration("publish_timeout", v)?);
            raw.mark("publish_timeout", Origin::File);
        }
        if let Some(v) = file.allowed_origins {
            raw.allowed_origins = Some(v);
            raw.mark("allowed_origins", Origin::File);
        }
        Ok(raw)
    }

    fn apply_env<I, K, V>(&mut self, vars: I) -> Result<(), ConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        for (name, value) in vars {
            let (name, value) = (name.as_ref(), value.as_ref());
            // Empty variables count as unset, as in Centrifugo, so `INSTANT_X=` can clear nothing by accident.
            if value.is_empty() || !name.starts_with("INSTANT_") {
                continue;
            }
            let Some(&(key, _)) = KEYS.iter().find(|(_, env)| *env == name) else {
                continue;
            };
            let invalid = |reason: String| ConfigError::Invalid {
                key: name.to_owned(),
                reason,
            };
            match key {
                "secret" => self.secret = Some(Secret::new(value.to_owned())),
                "centrifugo_api_key" => self.api_key = Some(Secret::new(value.to_owned())),
                "centrifugo_url" => self.centrifugo_url = Some(value.to_owned()),
                "websocket_url" => self.websocket_url = Some(value.to_owned()),
                "site_slug" => self.site_slug = Some(value.to_owned()),
                "site_name" => self.site_name = Some(value.to_owned()),
                "debug" => self.debug = Some(parse_bool(value).map_err(invalid)?),
                "token_ttl" => self.token_ttl = Some(parse_duration(value).map_err(invalid)?),
                "publish_timeout" => {
                    self.publish_timeout = Some(parse_duration(value).map_err(invalid)?);
                }
                "allowed_origins" => {
                    self.allowed_origins = Some(
                        value
                            .split(|c: char| c == ',' || c.is_whitespace())
                            .filter(|s| !s.is_empty())
                            .map(str::to_owned)
                            .collect(),
                    );
                }
                _ => continue,
            }
            self.mark(key, Origin::Env);
        }
        Ok(())
    }

    fn build(self) -> Result<Config, ConfigError> {
        let invalid = |key: &'static str, reason: &str| ConfigError::Invalid {
            key: self.key_name(key),
            reason: reason.to_owned(),
        };

        let centrifugo_url = match &self.centrifugo_url {
            Some(url) => Some(
                validate_url(url, &["http", "https"]).map_err(|r| invalid("centrifugo_url", &r))?,
            ),
            None => None,
        };
        let websocket_url = match &self.websocket_url {
            Some(url) => {
                Some(validate_url(url, &["ws", "wss"]).map_err(|r| invalid("websocket_url", &r))?)
            }
            None => centrifugo_url.as_deref().map(|base| {
                let ws = base
                    .strip_prefix("https://")
                    .map(|rest| format!("wss://{rest}"))
                    .or_else(|| {
                        base.strip_prefix("http://")
                            .map(|rest| format!("ws://{rest}"))
                    })
                    .unwrap_or_else(|| base.to_owned());
                format!("{ws}/connection/websocket")
            }),
        };

        let (secret, secret_generated) = match &self.secret {
            Some(secret) if secret.is_empty() => return Err(invalid("secret", "it is empty")),
            Some(secret) => (secret.clone(), false),
            None if centrifugo_url.is_some() => {
                return Err(ConfigError::Missing {
                    key: match self.key_name("centrifugo_url").starts_with("INSTANT_") {
                        true => env_name("secret").to_owned(),
                        false => "secret".to_owned(),
                    },
                    reason: "with a Centrifugo URL the HMAC secret must be set to Centrifugo's client.token.hmac_secret_key".to_owned(),
                });
            }
            None => (PROCESS_SECRET.clone(), true),
        };
        if self.api_key.as_ref().is_some_and(Secret::is_empty) {
            return Err(invalid("centrifugo_api_key", "it is empty"));
        }

        let site_slug = self
            .site_slug
            .clone()
            .unwrap_or_else(|| DEFAULT_SITE_SLUG.to_owned());
        if site_slug.is_empty()
            || !site_slug
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(invalid(
                "site_slug",
                "use letters, digits, '-' and '_' only, at least one",
            ));
        }
        let site_name = self.site_name.clone().unwrap_or_else(|| site_slug.clone());

        let token_ttl = self.token_ttl.unwrap_or(DEFAULT_TOKEN_TTL);
        if token_ttl < Duration::from_secs(1) {
            return Err(invalid("token_ttl", "must be at least one second"));
        }
        let publish_timeout = self.publish_timeout.unwrap_or(DEFAULT_PUBLISH_TIMEOUT);
        if publish_timeout.is_zero() {
            return Err(invalid("publish_timeout", "must be more than zero"));
        }
        let allowed_origins = self.allowed_origins.clone().unwrap_or_default();
        if allowed_origins.iter().any(|o| o.trim().is_empty()) {
            return Err(invalid("allowed_origins", "contains an empty origin"));
        }

        Ok(Config {
            secret,
            secret_generated,
            api_key: self.api_key.clone(),
            centrifugo_url,
            websocket_url,
            site_slug,
            site_name,
            debug: self.debug.unwrap_or(false),
            token_ttl,
            publish_timeout,
            allowed_origins,
        })
    }
}

/// Checks the scheme and that a host follows; returns the URL without trailing slashes.
fn validate_url(url: &str, schemes: &[&str]) -> Result<String, String> {
    let url = url.trim();
    let expected = || {
        format!(
            "expected a URL starting with {}",
            schemes
                .iter()
                .map(|s| format!("{s}://"))
                .collect::<Vec<_>>()
                .join(" or ")
        )
    };
    let (scheme, rest) = url.split_once("://").ok_or_else(expected)?;
    if !schemes.contains(&scheme.to_ascii_lowercase().as_str()) {
        return Err(expected());
    }
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err("the URL has no host".to_owned());
    }
    Ok(url.trim_end_matches('/').to_owned())
}

fn parse_bool(value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err("expected true or false (also 1/0, yes/no, on/off)".to_owned()),
    }
}

/// Parses `30`, `500ms`, `30s`, `5m`, `2h` or `1d`.
fn parse_duration(value: &str) -> Result<Duration, String> {
    let value = value.trim();
    let split = value
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(split);
    let err = || "expected a duration such as 30, 500ms, 30s, 5m, 2h or 1d".to_owned();
    let number: u64 = number.parse().map_err(|_| err())?;
    let seconds = |factor: u64| {
        number
            .checked_mul(factor)
            .map(Duration::from_secs)
            .ok_or_else(|| "the duration is too long".to_owned())
    };
    match unit.trim() {
        "" | "s" => seconds(1),
        "ms" => Ok(Duration::from_millis(number)),
        "m" => seconds(60),
        "h" => seconds(3600),
        "d" => seconds(86_400),
        _ => Err(err()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_env_vars(pairs.iter().copied())
    }

    #[test]
    fn zero_configuration_is_embedded_mode_with_a_generated_secret() {
        let config = Config::builder().build().unwrap();
        assert!(config.is_embedded());
        assert!(config.secret_is_generated());
        assert!(config.secret().expose_secret().len() >= 40);
        assert_eq!(
            config.secret(),
            Config::builder().build().unwrap().secret(),
            "one generated secret per process"
        );
        assert_ne!(config.secret(), &Secret::generate());
        assert_eq!(config.site_slug(), "site");
        assert_eq!(config.token_ttl(), DEFAULT_TOKEN_TTL);
        assert_eq!(config.publish_timeout(), DEFAULT_PUBLISH_TIMEOUT);
        assert_eq!(config.websocket_url(), None);
        assert!(!config.debug());
    }

    #[test]
    fn the_builder_sets_every_value() {
        let config = Config::builder()
            .secret("s3cret")
            .api_key("k3y")
            .centrifugo_url("http://127.0.0.1:8000/")
            .site_slug("shop")
            .site_name("The Shop")
            .debug(true)
            .token_ttl(Duration::from_secs(60))
            .publish_timeout(Duration::from_millis(250))
            .allowed_origin("http://localhost:8080")
            .build()
            .unwrap();
        assert_eq!(config.secret().expose_secret(), "s3cret");
        assert!(!config.secret_is_generated());
        assert_eq!(config.api_key().unwrap().expose_secret(), "k3y");
        assert_eq!(config.centrifugo_url(), Some("http://127.0.0.1:8000"));
        assert_eq!(
            config.websocket_url(),
            Some("ws://127.0.0.1:8000/connection/websocket")
        );
        assert_eq!(config.site_name(), "The Shop");
        assert!(config.debug());
        assert_eq!(config.token_ttl(), Duration::from_secs(60));
        assert_eq!(config.publish_timeout(), Duration::from_millis(250));
        assert_eq!(config.allowed_origins(), ["http://localhost:8080"]);
    }

    #[test]
    fn environment_variables_are_read() {
        let config = env(&[
            ("INSTANT_SECRET", "abc"),
            ("INSTANT_CENTRIFUGO_URL", "https://rt.example.com"),
            ("INSTANT_CENTRIFUGO_API_KEY", "key"),
            (
                "INSTANT_WEBSOCKET_URL",
                "wss://ws.example.com/connection/websocket",
            ),
            ("INSTANT_SITE_SLUG", "blog"),
            ("INSTANT_SITE_NAME", "My blog"),
            ("INSTANT_DEBUG", "yes"),
            ("INSTANT_TOKEN_TTL", "2h"),
            ("INSTANT_PUBLISH_TIMEOUT", "1500ms"),
            (
                "INSTANT_ALLOWED_ORIGINS",
                "https://a.example, https://b.example",
            ),
            ("HOME", "/root"),
            ("INSTANT_UNRELATED", "x"),
        ])
        .unwrap();
        assert_eq!(config.centrifugo_url(), Some("https://rt.example.com"));
        assert_eq!(
            config.websocket_url(),
            Some("wss://ws.example.com/connection/websocket")
        );
        assert_eq!(config.site_slug(), "blog");
        assert_eq!(config.site_name(), "My blog");
        assert!(config.debug());
        assert_eq!(config.token_ttl(), Duration::from_secs(7200));
        assert_eq!(config.publish_timeout(), Duration::from_millis(1500));
        assert_eq!(
            config.allowed_origins(),
            ["https://a.example", "https://b.example"]
        );
    }

    #[test]
    fn errors_name_the_environment_variable() {
        let err = env(&[("INSTANT_TOKEN_TTL", "forever")]).unwrap_err();
        assert_eq!(err.key(), Some("INSTANT_TOKEN_TTL"));
        let err = env(&[("INSTANT_DEBUG", "maybe")]).unwrap_err();
        assert_eq!(err.key(), Some("INSTANT_DEBUG"));
        let err = env(&[("INSTANT_CENTRIFUGO_URL", "localhost:8000")]).unwrap_err();
        assert!(
            matches!(err, ConfigError::Invalid { ref key, .. } if key == "INSTANT_CENTRIFUGO_URL")
        );
        let err = env(&[("INSTANT_CENTRIFUGO_URL", "http://localhost:8000")]).unwrap_err();
        assert!(matches!(err, ConfigError::Missing { ref key, .. } if key == "INSTANT_SECRET"));
        let err = env(&[("INSTANT_SITE_SLUG", "a b")]).unwrap_err();
        assert_eq!(err.key(), Some("INSTANT_SITE_SLUG"));
        assert!(err.to_string().contains("INSTANT_SITE_SLUG"));
    }

    #[test]
    fn empty_environment_variables_count_as_unset() {
        let config = env(&[("INSTANT_CENTRIFUGO_URL", ""), ("INSTANT_SECRET", "")]).unwrap();
        assert!(config.is_embedded());
        assert!(config.secret_is_generated());
    }

    #[test]
    fn toml_files_are_read_and_errors_name_the_key() {
        let config = Config::from_toml_str(
            r#"
            secret = "abc"
            centrifugo_url = "http://127.0.0.1:8000"
            centrifugo_api_key = "key"
            site_slug = "shop"
            debug = true
            token_ttl = 600
            publish_timeout = "2s"
            allowed_origins = ["http://localhost:8080"]
            "#,
        )
        .unwrap();
        assert_eq!(config.token_ttl(), Duration::from_secs(600));
        assert_eq!(config.publish_timeout(), Duration::from_secs(2));
        assert_eq!(config.api_key().unwrap().expose_secret(), "key");
        assert_eq!(config.allowed_origins(), ["http://localhost:8080"]);

        let err = Config::from_toml_str("token_ttl = \"soon\"").unwrap_err();
        assert_eq!(err.key(), Some("token_ttl"));
        let err = Config::from_toml_str("centrifugo_url = \"http://x\"").unwrap_err();
        assert!(matches!(err, ConfigError::Missing { ref key, .. } if key == "secret"));
        let err = Config::from_toml_str("secrte = \"abc\"").unwrap_err();
        assert!(matches!(err, ConfigError::UnknownKey { ref key, .. } if key == "secrte"));
        let err = Config::from_toml_str("debug = \"yes\"").unwrap_err();
        assert!(matches!(err, ConfigError::Parse { .. }), "{err:?}");
        assert!(err.to_string().contains("debug"), "{err}");
        let err = Config::from_toml_file("/nonexistent/instant.toml").unwrap_err();
        assert!(matches!(err, ConfigError::Io { .. }));

        // The `instant` command's channel options live in the same file.
        let config = Config::from_toml_str(
            "site_slug = \"shop\"\n[[channels]]\nname = \"news\"\nlevel = \"public\"\n",
        )
        .unwrap();
        assert_eq!(config.site_slug(), "shop");
    }

    #[test]
    fn toml_file_on_disk() {
        let dir = std::env::temp_dir().join(format!("instant-config-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("instant.toml");
        std::fs::write(&path, "site_slug = \"disk\"\n").unwrap();
        let config = Config::from_toml_file(&path).unwrap();
        assert_eq!(config.site_slug(), "disk");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn environment_overrides_the_file_and_errors_name_the_overriding_source() {
        let mut raw = Raw::from_toml("site_slug = \"file\"\ntoken_ttl = 10", "f").unwrap();
        raw.apply_env([("INSTANT_SITE_SLUG", "env")]).unwrap();
        assert_eq!(raw.clone().build().unwrap().site_slug(), "env");
        assert_eq!(raw.build().unwrap().token_ttl(), Duration::from_secs(10));

        let mut raw = Raw::from_toml("site_slug = \"fine\"", "f").unwrap();
        raw.apply_env([("INSTANT_SITE_SLUG", "not fine")]).unwrap();
        assert_eq!(raw.build().unwrap_err().key(), Some("INSTANT_SITE_SLUG"));
    }

    #[test]
    fn secrets_never_show_in_debug_or_display() {
        let config = Config::builder()
            .secret("topsecretvalue")
            .api_key("apikeyvalue")
            .centrifugo_url("http://127.0.0.1:1")
            .build()
            .unwrap();
        let debug = format!("{config:?}");
        assert!(!debug.contains("topsecretvalue"), "{debug}");
        assert!(!debug.contains("apikeyvalue"), "{debug}");
        assert!(debug.contains("redacted"));
        assert_eq!(Secret::from("x").to_string(), "[redacted]");
        let err = env(&[("INSTANT_SECRET", "topsecretvalue"), ("INSTANT_DEBUG", "?")]).unwrap_err();
        assert!(!format!("{err:?} {err}").contains("topsecretvalue"));
    }

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("30").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("1d").unwrap(), Duration::from_secs(86_400));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert!(parse_duration("").is_err());
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("3w").is_err());
        assert!(parse_duration("99999999999999999999d").is_err());
    }

    #[test]
    fn invalid_values_are_typed_errors() {
        assert_eq!(
            Config::builder().secret("").build().unwrap_err().key(),
            Some("secret")
        );
        assert_eq!(
            Config::builder()
                .websocket_url("http://x")
                .build()
                .unwrap_err()
                .key(),
            Some("websocket_url")
        );
        assert_eq!(
            Config::builder()
                .publish_timeout(Duration::ZERO)
                .build()
                .unwrap_err()
                .key(),
            Some("publish_timeout")
        );
        assert_eq!(
            Config::builder()
                .token_ttl(Duration::from_millis(10))
                .build()
                .unwrap_err()
                .key(),
            Some("token_ttl")
        );
        assert_eq!(
            Config::builder()
                .centrifugo_url("http:///nohost")
                .secret("s")
                .build()
                .unwrap_err()
                .key(),
            Some("centrifugo_url")
        );
    }
}
