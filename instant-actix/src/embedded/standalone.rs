//! The embedded server as its own process, configured by a Centrifugo v6 JSON config (what
//! `instant genconfig` writes, or a hand-written one): the `instant runws --embedded` mode.
//!
//! It reads the keys below, in Centrifugo v6's names; every other key is listed in
//! [`StandaloneConfig::unsupported`] with its JSON path, so that the command reports it (and
//! refuses to start with `--strict`), never ignoring it silently.
//!
//! - `http_server.address`, `http_server.port` (default every interface, port 8000)
//! - `client.token.hmac_secret_key`, `client.allowed_origins`, `client.insecure`,
//!   `client.allow_anonymous_connect_without_token`, `client.ping_interval`,
//!   `client.pong_timeout`, `client.channel_limit`
//! - `http_api.key`, `health.enabled`, `engine.type` (`memory` only), `usage_stats.disabled`
//!   (`true` only: the embedded server sends none)
//! - `channel.without_namespace` and `channel.namespaces[]` with the options of
//!   [`NamespaceOptions`] (and `name`)

use std::collections::BTreeMap;
use std::time::Duration;

use instant_core::Secret;
use serde::Deserialize;
use serde_json::Value;

use super::namespaces::{Asker, NamespaceError, NamespaceOptions, Namespaces};
use super::options::EmbeddedOptions;

/// A key of the config the standalone server does not support, with its JSON path.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UnsupportedKey {
    /// Where it is, e.g. `channel.namespaces[1].subscribe_proxy_enabled`.
    pub path: String,
    /// Why it is reported, e.g. `not supported by the embedded server`.
    pub reason: String,
}

/// Why a config cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StandaloneConfigError {
    /// Not JSON, or a key with a value of the wrong type.
    #[error("the config is not a valid Centrifugo v6 JSON config: {0}")]
    Json(#[from] serde_json::Error),
    /// A duration that does not read (`"300s"`, `"5m"`, `"1h"`, `"500ms"`).
    #[error("{path} is not a duration: {reason}")]
    Duration {
        /// The key's JSON path.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A namespace without a name.
    #[error("channel.namespaces[{0}] has no name")]
    NamespaceWithoutName(usize),
    /// A namespace Centrifugo would refuse too.
    #[error(transparent)]
    Namespace(#[from] NamespaceError),
}

/// A Centrifugo v6 config as the standalone server reads it.
#[derive(Debug)]
#[non_exhaustive]
pub struct StandaloneConfig {
    /// `http_server.address`; empty for every interface.
    pub address: String,
    /// `http_server.port` (8000).
    pub port: u16,
    /// `client.token.hmac_secret_key`: the HMAC secret of connection and subscription tokens.
    pub secret: Option<Secret>,
    /// `http_api.key`; without it the server API stays closed (401), as in Centrifugo.
    pub api_key: Option<Secret>,
    /// `client.allowed_origins`: browser origins allowed to connect (`*` matches any run of
    /// characters); empty, only clients without an `Origin` header connect, as in Centrifugo.
    pub allowed_origins: Vec<String>,
    /// `client.insecure`: every connection is accepted (anonymous without a token) and may
    /// subscribe, publish, ask presence and history; for development only.
    pub insecure: bool,
    /// `client.allow_anonymous_connect_without_token`: connections without a token are accepted
    /// as anonymous; otherwise they are closed with 3501.
    pub allow_anonymous_connect_without_token: bool,
    /// `health.enabled`: `GET /health` answers 200 `{}`.
    pub health: bool,
    /// The limits and timings (`client.ping_interval`, `client.pong_timeout`,
    /// `client.channel_limit`; the rest the embedded server's defaults, without a cap per client
    /// address), with the server API at `/api`.
    pub options: EmbeddedOptions,
    /// `channel.without_namespace` and `channel.namespaces`.
    pub namespaces: Namespaces,
    unsupported: Vec<UnsupportedKey>,
}

impl StandaloneConfig {
    /// Reads a Centrifugo v6 JSON config.
    ///
    /// # Errors
    ///
    /// Not JSON, a value of the wrong type, a duration that does not read, or namespaces
    /// Centrifugo refuses (no name, an invalid or repeated name, a `channel_regex` that does not
    /// compile).
    pub fn from_json(text: &str) -> Result<Self, StandaloneConfigError> {
        let raw: RawConfig = serde_json::from_str(text)?;
        let mut unsupported = Vec::new();
        report(&mut unsupported, "", &raw.other);
        let http_server = raw.http_server.unwrap_or_default();
        report(&mut unsupported, "http_server.", &http_server.other);
        let client = raw.client.unwrap_or_default();
        report(&mut unsupported, "client.", &client.other);
        let token = client.token.unwrap_or_default();
        report(&mut unsupported, "client.token.", &token.other);
        let http_api = raw.http_api.unwrap_or_default();
        report(&mut unsupported, "http_api.", &http_api.other);
        let health = raw.health.unwrap_or_default();
        report(&mut unsupported, "health.", &health.other);
        let engine = raw.engine.unwrap_or_default();
        report(&mut unsupported, "engine.", &engine.other);
        if let Some(kind) = engine.kind.as_deref().filter(|k| *k != "memory") {
            unsupported.push(UnsupportedKey {
                path: "engine.type".into(),
                reason: format!(
                    "engine {kind:?} is not supported: the embedded server keeps its state in memory, on one node"
                ),
            });
        }
        let usage_stats = raw.usage_stats.unwrap_or_default();
        report(&mut unsupported, "usage_stats.", &usage_stats.other);
        if usage_stats.disabled == Some(false) {
            unsupported.push(UnsupportedKey {
                path: "usage_stats.disabled".into(),
                reason: "the embedded server sends no usage statistics".to_owned(),
            });
        }
        let channel = raw.channel.unwrap_or_default();
        report(&mut unsupported, "channel.", &channel.other);

        let without = channel.without_namespace.unwrap_or_default();
        let without_namespace =
            without.into_options("channel.without_namespace", &mut unsupported)?;
        let mut namespaces = Vec::new();
        for (index, namespace) in channel
            .namespaces
            .unwrap_or_default()
            .into_iter()
            .enumerate()
        {
            let Some(name) = namespace.name.clone() else {
                return Err(StandaloneConfigError::NamespaceWithoutName(index));
            };
            let path = format!("channel.namespaces[{index}]");
            namespaces.push((name, namespace.into_options(&path, &mut unsupported)?));
        }

        let mut options = EmbeddedOptions {
            api_path: "/api".to_owned(),
            ..EmbeddedOptions::default()
        };
        // No cap per client address, as in Centrifugo: behind a reverse proxy every connection
        // comes from the proxy's address, and the standalone server trusts no forwarded header.
        options.max_connections_per_ip = options.max_connections;
        if let Some(interval) = client.ping_interval {
            options.ping_interval = interval.read("client.ping_interval")?;
        }
        if let Some(timeout) = client.pong_timeout {
            options.pong_timeout = timeout.read("client.pong_timeout")?;
        }
        if let Some(limit) = client.channel_limit {
            options.max_channels_per_client = limit;
        }
        Ok(Self {
            address: http_server.address.unwrap_or_default(),
            port: http_server.port.unwrap_or(8000),
            secret: token
                .hmac_secret_key
                .filter(|s| !s.is_empty())
                .map(Secret::new),
            api_key: http_api.key.filter(|s| !s.is_empty()).map(Secret::new),
            allowed_origins: client.allowed_origins.unwrap_or_default(),
            insecure: client.insecure.unwrap_or(false),
            allow_anonymous_connect_without_token: client
                .allow_anonymous_connect_without_token
                .unwrap_or(false),
            health: health.enabled.unwrap_or(false),
            options,
            namespaces: Namespaces::new(without_namespace, namespaces)?,
            unsupported,
        })
    }

    /// The keys of the config the standalone server does not support, each with its JSON path,
    /// in the order of the file's sections.
    #[must_use]
    pub fn unsupported(&self) -> &[UnsupportedKey] {
        &self.unsupported
    }
}

/// The access rules of a standalone server: its namespaces and its `client` options.
#[derive(Debug)]
pub(crate) struct Standalone {
    pub(crate) namespaces: std::sync::Arc<Namespaces>,
    pub(crate) insecure: bool,
    pub(crate) anonymous_without_token: bool,
    pub(crate) health: bool,
}

impl Standalone {
    /// `user`, subscribed to the channel in question or not, for the permission checks.
    pub(crate) fn asker<'a>(&self, user: &'a str, subscribed: bool) -> Asker<'a> {
        Asker {
            user,
            subscribed,
            insecure: self.insecure,
        }
    }
}

fn report(unsupported: &mut Vec<UnsupportedKey>, prefix: &str, other: &BTreeMap<String, Value>) {
    for key in other.keys() {
        unsupported.push(UnsupportedKey {
            path: format!("{prefix}{key}"),
            reason: "not supported by the embedded server".to_owned(),
        });
    }
}

/// A Go-style duration string, read with the project's one syntax.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
struct RawDuration(String);

impl RawDuration {
    fn read(&self, path: &str) -> Result<Duration, StandaloneConfigError> {
        instant_core::config::parse_duration(&self.0).map_err(|reason| {
            StandaloneConfigError::Duration {
                path: path.to_owned(),
                reason,
            }
        })
    }
}

#[derive(Debug, Default, Deserialize)]
struct RawConfig {
    http_server: Option<RawHttpServer>,
    client: Option<RawClient>,
    http_api: Option<RawHttpApi>,
    channel: Option<RawChannel>,
    health: Option<RawHealth>,
    engine: Option<RawEngine>,
    usage_stats: Option<RawUsageStats>,
    #[serde(flatten)]
    other: BTreeMap<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
struct RawHttpServer {
    address: Option<String>,
    port: Option<u16>,
    #[serde(flatten)]
    other: BTreeMap<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
struct RawClient {
    token: Option<RawToken>,
    allowed_origins: Option<Vec<String>>,
    insecure: Option<bool>,
    allow_anonymous_connect_without_token: Option<bool>,
    ping_interval: Option<RawDuration>,
    pong_timeout: Option<RawDuration>,
    channel_limit: Option<usize>,
    #[serde(flatten)]
    other: BTreeMap<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
struct RawToken {
    hmac_secret_key: Option<String>,
    #[serde(flatten)]
    other: BTreeMap<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
struct RawHttpApi {
    key: Option<String>,
    #[serde(flatten)]
    other: BTreeMap<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
struct RawHealth {
    enabled: Option<bool>,
    #[serde(flatten)]
    other: BTreeMap<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
struct RawUsageStats {
    disabled: Option<bool>,
    #[serde(flatten)]
    other: BTreeMap<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
struct RawEngine {
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(flatten)]
    other: BTreeMap<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
struct RawChannel {
    without_namespace: Option<RawNamespace>,
    namespaces: Option<Vec<RawNamespace>>,
    #[serde(flatten)]
    other: BTreeMap<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
struct RawNamespace {
    name: Option<String>,
    presence: Option<bool>,
    join_leave: Option<bool>,
    force_push_join_leave: Option<bool>,
    history_size: Option<usize>,
    history_ttl: Option<RawDuration>,
    force_recovery: Option<bool>,
    allow_subscribe_for_client: Option<bool>,
    allow_subscribe_for_anonymous: Option<bool>,
    allow_publish_for_client: Option<bool>,
    allow_publish_for_subscriber: Option<bool>,
    allow_publish_for_anonymous: Option<bool>,
    allow_presence_for_client: Option<bool>,
    allow_presence_for_subscriber: Option<bool>,
    allow_presence_for_anonymous: Option<bool>,
    allow_history_for_client: Option<bool>,
    allow_history_for_subscriber: Option<bool>,
    allow_history_for_anonymous: Option<bool>,
    allow_user_limited_channels: Option<bool>,
    channel_regex: Option<String>,
    #[serde(flatten)]
    other: BTreeMap<String, Value>,
}

impl RawNamespace {
    fn into_options(
        self,
        path: &str,
        unsupported: &mut Vec<UnsupportedKey>,
    ) -> Result<NamespaceOptions, StandaloneConfigError> {
        report(unsupported, &format!("{path}."), &self.other);
        if path == "channel.without_namespace" && self.name.is_some() {
            unsupported.push(UnsupportedKey {
                path: format!("{path}.name"),
                reason: "the channels without a namespace have no name".to_owned(),
            });
        }
        let flag = Option::unwrap_or_default;
        let history_ttl = match &self.history_ttl {
            Some(ttl) => ttl.read(&format!("{path}.history_ttl"))?,
            None => Duration::ZERO,
        };
        Ok(NamespaceOptions {
            presence: flag(self.presence),
            join_leave: flag(self.join_leave),
            force_push_join_leave: flag(self.force_push_join_leave),
            history_size: self.history_size.unwrap_or(0),
            history_ttl,
            force_recovery: flag(self.force_recovery),
            allow_subscribe_for_client: flag(self.allow_subscribe_for_client),
            allow_subscribe_for_anonymous: flag(self.allow_subscribe_for_anonymous),
            allow_publish_for_client: flag(self.allow_publish_for_client),
            allow_publish_for_subscriber: flag(self.allow_publish_for_subscriber),
            allow_publish_for_anonymous: flag(self.allow_publish_for_anonymous),
            allow_presence_for_client: flag(self.allow_presence_for_client),
            allow_presence_for_subscriber: flag(self.allow_presence_for_subscriber),
            allow_presence_for_anonymous: flag(self.allow_presence_for_anonymous),
            allow_history_for_client: flag(self.allow_history_for_client),
            allow_history_for_subscriber: flag(self.allow_history_for_subscriber),
            allow_history_for_anonymous: flag(self.allow_history_for_anonymous),
            allow_user_limited_channels: flag(self.allow_user_limited_channels),
            channel_regex: self.channel_regex.filter(|r| !r.is_empty()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_genconfig_style_config_reads_without_unsupported_keys() {
        let config = StandaloneConfig::from_json(
            r#"{
              "client": {
                "token": {"hmac_secret_key": "a-secret-of-at-least-thirty-two-bytes"},
                "allowed_origins": ["http://localhost:8080"],
                "allow_anonymous_connect_without_token": true,
                "ping_interval": "5s", "pong_timeout": "3s"
              },
              "http_api": {"key": "an-api-key"},
              "http_server": {"address": "127.0.0.1", "port": 8123},
              "engine": {"type": "memory"},
              "health": {"enabled": true},
              "channel": {
                "without_namespace": {"allow_subscribe_for_client": true, "history_size": 10, "history_ttl": "300s", "force_recovery": true},
                "namespaces": [{"name": "chat", "presence": true, "join_leave": true, "channel_regex": "^[a-z]+$"}]
              }
            }"#,
        )
        .unwrap();
        assert!(
            config.unsupported().is_empty(),
            "{:?}",
            config.unsupported()
        );
        assert_eq!((config.address.as_str(), config.port), ("127.0.0.1", 8123));
        assert!(config.allow_anonymous_connect_without_token && config.health);
        assert!(!config.insecure);
        assert_eq!(config.options.ping_interval, Duration::from_secs(5));
        assert_eq!(config.options.api_path, "/api");
        assert_eq!(
            config.options.max_connections_per_ip,
            config.options.max_connections
        );
        let without = config.namespaces.without_namespace();
        assert_eq!(without.history_ttl, Duration::from_secs(300));
        assert!(without.has_history() && without.force_recovery);
        assert!(config.namespaces.namespace("chat").unwrap().presence);
    }

    #[test]
    fn every_unsupported_key_is_reported_with_its_path() {
        let config = StandaloneConfig::from_json(
            r#"{
              "admin": {"enabled": true},
              "token_hmac_secret_key": "v5",
              "client": {"proxy": {}, "token": {"rsa_public_key": "x"}},
              "engine": {"type": "redis", "redis": {"address": "localhost:6379"}},
              "channel": {
                "private_prefix": "$",
                "without_namespace": {"subscription_type": "map"},
                "namespaces": [{"name": "ab"}, {"name": "cd", "publish_proxy_enabled": true}]
              }
            }"#,
        )
        .unwrap();
        let paths: Vec<&str> = config
            .unsupported()
            .iter()
            .map(|k| k.path.as_str())
            .collect();
        assert_eq!(
            paths,
            [
                "admin",
                "token_hmac_secret_key",
                "client.proxy",
                "client.token.rsa_public_key",
                "engine.redis",
                "engine.type",
                "channel.private_prefix",
                "channel.without_namespace.subscription_type",
                "channel.namespaces[1].publish_proxy_enabled",
            ]
        );
    }

    #[test]
    fn bad_configs_are_typed_errors() {
        assert!(matches!(
            StandaloneConfig::from_json("{"),
            Err(StandaloneConfigError::Json(_))
        ));
        assert!(matches!(
            StandaloneConfig::from_json(r#"{"http_server": {"port": "80"}}"#),
            Err(StandaloneConfigError::Json(_))
        ));
        let ttl = StandaloneConfig::from_json(
            r#"{"channel": {"namespaces": [{"name": "ab", "history_ttl": "soon"}]}}"#,
        );
        match ttl {
            Err(StandaloneConfigError::Duration { path, .. }) => {
                assert_eq!(path, "channel.namespaces[0].history_ttl");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            StandaloneConfig::from_json(r#"{"channel": {"namespaces": [{"presence": true}]}}"#),
            Err(StandaloneConfigError::NamespaceWithoutName(0))
        ));
        assert!(matches!(
            StandaloneConfig::from_json(r#"{"channel": {"namespaces": [{"name": "x"}]}}"#),
            Err(StandaloneConfigError::Namespace(
                NamespaceError::InvalidName(_)
            ))
        ));
    }
}
