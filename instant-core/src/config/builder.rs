//! [`ConfigBuilder`] and the one validation every source goes through.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::keys::{self, SettingKey};
use super::{
    ChannelSettings, Config, ConfigError, DEFAULT_PUBLISH_TIMEOUT, DEFAULT_SITE_SLUG,
    DEFAULT_TOKEN_TTL, MAX_TOKEN_TTL, MIN_SECRET_LEN, Secret, Source,
};
use crate::paths::WEBSOCKET_PATH;

/// A setting's value, read but not yet validated.
#[derive(Debug, Clone)]
pub(crate) enum RawValue {
    Text(String),
    Secret(Secret),
    Bool(bool),
    Duration(Duration),
    List(Vec<String>),
    Path(PathBuf),
}

/// Unvalidated settings, layered from the sources: a later `set` of a key replaces an earlier one.
#[derive(Debug, Clone, Default)]
pub(crate) struct Raw {
    values: Vec<(&'static SettingKey, RawValue, Source)>,
    pub(crate) channels: Vec<ChannelSettings>,
}

impl Raw {
    pub(crate) fn set(&mut self, key: &'static SettingKey, value: RawValue, source: Source) {
        self.values.retain(|(k, _, _)| k.name != key.name);
        self.values.push((key, value, source));
    }

    fn get(&self, key: &SettingKey) -> Option<&RawValue> {
        self.values
            .iter()
            .find(|(k, _, _)| k.name == key.name)
            .map(|(_, value, _)| value)
    }

    fn text(&self, key: &SettingKey) -> Option<&str> {
        match self.get(key)? {
            RawValue::Text(text) => Some(text),
            _ => None,
        }
    }

    fn secret(&self, key: &SettingKey) -> Option<&Secret> {
        match self.get(key)? {
            RawValue::Secret(secret) => Some(secret),
            _ => None,
        }
    }

    fn duration(&self, key: &SettingKey) -> Option<Duration> {
        match self.get(key)? {
            RawValue::Duration(duration) => Some(*duration),
            _ => None,
        }
    }

    fn path(&self, key: &SettingKey) -> Option<PathBuf> {
        match self.get(key)? {
            RawValue::Path(path) => Some(path.clone()),
            _ => None,
        }
    }

    /// The key as the user wrote it in the source that set it last.
    fn key_name(&self, key: &SettingKey) -> String {
        let source = self
            .values
            .iter()
            .find(|(k, _, _)| k.name == key.name)
            .map_or(Source::Code, |(_, _, source)| *source);
        match source {
            Source::Env => key.env.to_owned(),
            _ => key.name.to_owned(),
        }
    }

    pub(crate) fn build(&self) -> Result<Config, ConfigError> {
        let invalid = |key: &SettingKey, reason: &str| ConfigError::Invalid {
            key: self.key_name(key),
            reason: reason.to_owned(),
        };

        let single_url = match self.text(&keys::CENTRIFUGO_URL) {
            Some(url) => Some(
                validate_url(url, &["http", "https"])
                    .map_err(|r| invalid(&keys::CENTRIFUGO_URL, &r))?,
            ),
            None => None,
        };
        let centrifugo_urls = self.centrifugo_urls(single_url.as_deref())?;
        let centrifugo_url = single_url.or_else(|| centrifugo_urls.first().cloned());
        let websocket_url = match self.text(&keys::WEBSOCKET_URL) {
            Some(url) => Some(
                validate_url(url, &["ws", "wss"]).map_err(|r| invalid(&keys::WEBSOCKET_URL, &r))?,
            ),
            None => centrifugo_url.as_deref().map(websocket_url_of),
        };

        let (secret, secret_generated) = match self.secret(&keys::SECRET) {
            Some(secret) if secret.expose_secret().len() < MIN_SECRET_LEN => {
                return Err(invalid(
                    &keys::SECRET,
                    &format!(
                        "it is {} bytes long and must be at least {MIN_SECRET_LEN}; make one with `openssl rand -base64 32` (`instant installws` writes one too)",
                        secret.expose_secret().len()
                    ),
                ));
            }
            Some(secret) => (secret.clone(), false),
            None if centrifugo_url.is_some() => {
                // Name the secret the way the user wrote the URL that requires it.
                let url_name = self.key_name(&keys::CENTRIFUGO_URL);
                return Err(ConfigError::Missing {
                    key: if url_name == keys::CENTRIFUGO_URL.env {
                        keys::SECRET.env.to_owned()
                    } else {
                        keys::SECRET.name.to_owned()
                    },
                    reason: "with a Centrifugo URL the HMAC secret must be set to Centrifugo's client.token.hmac_secret_key".to_owned(),
                });
            }
            None => generated_secret()?,
        };
        let api_key = self.secret(&keys::CENTRIFUGO_API_KEY).cloned();
        if api_key.as_ref().is_some_and(Secret::is_empty) {
            return Err(invalid(&keys::CENTRIFUGO_API_KEY, "it is empty"));
        }

        let site_slug = self
            .text(&keys::SITE_SLUG)
            .unwrap_or(DEFAULT_SITE_SLUG)
            .to_owned();
        if site_slug.is_empty()
            || !site_slug
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(invalid(
                &keys::SITE_SLUG,
                "use letters, digits, '-' and '_' only, at least one",
            ));
        }
        let site_name = self
            .text(&keys::SITE_NAME)
            .map_or_else(|| site_slug.clone(), str::to_owned);

        let token_ttl = self.duration(&keys::TOKEN_TTL).unwrap_or(DEFAULT_TOKEN_TTL);
        if token_ttl < Duration::from_secs(1) {
            return Err(invalid(&keys::TOKEN_TTL, "must be at least one second"));
        }
        if token_ttl > MAX_TOKEN_TTL {
            return Err(invalid(
                &keys::TOKEN_TTL,
                "must be at most 30 days (the browser renews tokens, so short lifetimes cost nothing)",
            ));
        }
        let publish_timeout = self
            .duration(&keys::PUBLISH_TIMEOUT)
            .unwrap_or(DEFAULT_PUBLISH_TIMEOUT);
        if publish_timeout.is_zero() {
            return Err(invalid(&keys::PUBLISH_TIMEOUT, "must be more than zero"));
        }
        let allowed_origins = match self.get(&keys::ALLOWED_ORIGINS) {
            Some(RawValue::List(origins)) => origins.clone(),
            _ => Vec::new(),
        };
        if allowed_origins.iter().any(|o| o.trim().is_empty()) {
            return Err(invalid(&keys::ALLOWED_ORIGINS, "contains an empty origin"));
        }
        let templates_dir = self.path(&keys::TEMPLATES_DIR);
        let centrifuge_js = self.path(&keys::CENTRIFUGE_JS);
        for (key, path) in [
            (&keys::TEMPLATES_DIR, &templates_dir),
            (&keys::CENTRIFUGE_JS, &centrifuge_js),
        ] {
            if path.as_ref().is_some_and(|p| p.as_os_str().is_empty()) {
                return Err(invalid(key, "it is empty"));
            }
        }
        let trusted_proxies = match self.get(&keys::TRUSTED_PROXIES) {
            Some(RawValue::List(list)) => list
                .iter()
                .map(|text| {
                    text.trim().parse::<IpAddr>().map_err(|_| {
                        invalid(
                            &keys::TRUSTED_PROXIES,
                            &format!("`{text}` is not an IP address (e.g. 127.0.0.1 or ::1)"),
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
            _ => Vec::new(),
        };
        super::channels::validate(&self.channels)?;

        Ok(Config {
            secret,
            secret_generated,
            api_key,
            centrifugo_url,
            centrifugo_urls,
            websocket_url,
            site_slug,
            site_name,
            debug: matches!(self.get(&keys::DEBUG), Some(RawValue::Bool(true))),
            token_ttl,
            publish_timeout,
            allowed_origins,
            templates_dir,
            centrifuge_js,
            trusted_proxies,
            channels: self.channels.clone(),
            sources: self
                .values
                .iter()
                .map(|(key, _, source)| (key.name, *source))
                .collect(),
        })
    }
}

impl Raw {
    /// The nodes of `centrifugo_urls`, validated and without duplicates; `centrifugo_url` alone
    /// when the list is not set. A `centrifugo_url` set beside the list must be one of its nodes.
    fn centrifugo_urls(&self, single: Option<&str>) -> Result<Vec<String>, ConfigError> {
        let invalid = |reason: String| ConfigError::Invalid {
            key: self.key_name(&keys::CENTRIFUGO_URLS),
            reason,
        };
        let Some(RawValue::List(list)) = self.get(&keys::CENTRIFUGO_URLS) else {
            return Ok(single.map(str::to_owned).into_iter().collect());
        };
        let mut urls: Vec<String> = Vec::with_capacity(list.len());
        for url in list {
            let url = validate_url(url, &["http", "https"])
                .map_err(|reason| invalid(format!("{url:?}: {reason}")))?;
            if !urls.contains(&url) {
                urls.push(url);
            }
        }
        if urls.is_empty() {
            return Err(invalid("it names no node".to_owned()));
        }
        if let Some(single) = single
            && !urls.iter().any(|url| url == single)
        {
            return Err(invalid(format!(
                "{} = {single} is not one of the nodes; list it, or unset it",
                self.key_name(&keys::CENTRIFUGO_URL)
            )));
        }
        Ok(urls)
    }
}

/// The per-process secret of embedded mode.
#[cfg(feature = "settings")]
#[allow(clippy::unnecessary_wraps)] // Without the `settings` feature this fails.
fn generated_secret() -> Result<(Secret, bool), ConfigError> {
    Ok((super::secret::PROCESS_SECRET.clone(), true))
}

/// Without the `settings` feature there is no random generator to draw a secret from.
#[cfg(not(feature = "settings"))]
fn generated_secret() -> Result<(Secret, bool), ConfigError> {
    Err(ConfigError::Missing {
        key: keys::SECRET.name.to_owned(),
        reason: "without the `settings` feature of instant-core no secret is generated; set one"
            .to_owned(),
    })
}

/// `http://host:8000` → `ws://host:8000/connection/websocket` (and `https` → `wss`).
fn websocket_url_of(base: &str) -> String {
    let ws = base
        .strip_prefix("https://")
        .map(|rest| format!("wss://{rest}"))
        .or_else(|| {
            base.strip_prefix("http://")
                .map(|rest| format!("ws://{rest}"))
        })
        .unwrap_or_else(|| base.to_owned());
    format!("{ws}{WEBSOCKET_PATH}")
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

/// Builds a [`Config`] in code. Unset values take the defaults in the table on [`Config`]; with
/// the `settings` feature, [`ConfigBuilder::from_sources`] starts from a file and the environment.
#[derive(Debug, Clone, Default)]
pub struct ConfigBuilder {
    pub(crate) raw: Raw,
}

impl ConfigBuilder {
    fn with(mut self, key: &'static SettingKey, value: RawValue) -> Self {
        self.raw.set(key, value, Source::Code);
        self
    }

    /// The HMAC secret shared with Centrifugo (`secret`).
    #[must_use]
    pub fn secret(self, secret: impl Into<Secret>) -> Self {
        self.with(&keys::SECRET, RawValue::Secret(secret.into()))
    }

    /// Centrifugo's HTTP API key (`centrifugo_api_key`).
    #[must_use]
    pub fn api_key(self, api_key: impl Into<Secret>) -> Self {
        self.with(&keys::CENTRIFUGO_API_KEY, RawValue::Secret(api_key.into()))
    }

    /// Centrifugo's base URL, e.g. `http://127.0.0.1:8000`.
    #[must_use]
    pub fn centrifugo_url(self, url: impl Into<String>) -> Self {
        self.with(&keys::CENTRIFUGO_URL, RawValue::Text(url.into()))
    }

    /// Every Centrifugo node's base URL (`centrifugo_urls`), for a cluster sharing one Redis:
    /// the publisher spreads its requests over them and moves off a node that does not answer.
    #[must_use]
    pub fn centrifugo_urls<I, S>(self, urls: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let urls = urls.into_iter().map(Into::into).collect();
        self.with(&keys::CENTRIFUGO_URLS, RawValue::List(urls))
    }

    /// The WebSocket URL browsers connect to.
    #[must_use]
    pub fn websocket_url(self, url: impl Into<String>) -> Self {
        self.with(&keys::WEBSOCKET_URL, RawValue::Text(url.into()))
    }

    /// The site slug.
    #[must_use]
    pub fn site_slug(self, slug: impl Into<String>) -> Self {
        self.with(&keys::SITE_SLUG, RawValue::Text(slug.into()))
    }

    /// The site name.
    #[must_use]
    pub fn site_name(self, name: impl Into<String>) -> Self {
        self.with(&keys::SITE_NAME, RawValue::Text(name.into()))
    }

    /// Debug output on or off.
    #[must_use]
    pub fn debug(self, debug: bool) -> Self {
        self.with(&keys::DEBUG, RawValue::Bool(debug))
    }

    /// The token lifetime.
    #[must_use]
    pub fn token_ttl(self, ttl: Duration) -> Self {
        self.with(&keys::TOKEN_TTL, RawValue::Duration(ttl))
    }

    /// The publish timeout.
    #[must_use]
    pub fn publish_timeout(self, timeout: Duration) -> Self {
        self.with(&keys::PUBLISH_TIMEOUT, RawValue::Duration(timeout))
    }

    /// Replaces the allowed origins.
    #[must_use]
    pub fn allowed_origins<I, S>(self, origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let origins = origins.into_iter().map(Into::into).collect();
        self.with(&keys::ALLOWED_ORIGINS, RawValue::List(origins))
    }

    /// Adds one allowed origin.
    #[must_use]
    pub fn allowed_origin(self, origin: impl Into<String>) -> Self {
        let mut origins = match self.raw.get(&keys::ALLOWED_ORIGINS) {
            Some(RawValue::List(origins)) => origins.clone(),
            _ => Vec::new(),
        };
        origins.push(origin.into());
        self.with(&keys::ALLOWED_ORIGINS, RawValue::List(origins))
    }

    /// The app's template directory.
    #[must_use]
    pub fn templates_dir(self, dir: impl Into<PathBuf>) -> Self {
        self.with(&keys::TEMPLATES_DIR, RawValue::Path(dir.into()))
    }

    /// A local `centrifuge.js` file to serve instead of the CDN's.
    #[must_use]
    pub fn centrifuge_js(self, file: impl Into<PathBuf>) -> Self {
        self.with(&keys::CENTRIFUGE_JS, RawValue::Path(file.into()))
    }

    /// The IP addresses of the reverse proxies whose forwarded headers are believed
    /// (`trusted_proxies`; see [`Config::trusted_proxies`]).
    #[must_use]
    pub fn trusted_proxies<I, S>(self, proxies: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let proxies = proxies.into_iter().map(Into::into).collect();
        self.with(&keys::TRUSTED_PROXIES, RawValue::List(proxies))
    }

    /// Declares one more channel (after those of the file, when the builder started from one).
    #[must_use]
    pub fn channel(mut self, channel: ChannelSettings) -> Self {
        self.raw.channels.push(channel);
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
