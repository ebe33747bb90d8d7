//! Centrifugo v6 configuration derived from the app's settings and declared channels.
//!
//! Only v6 key names are written (`client.token.hmac_secret_key`, `http_api.key`,
//! `client.allowed_origins`, `channel.without_namespace`, `engine.type`, ...): Centrifugo v6 ignores
//! the flat v5 names with no more than a warning, and then runs without the secret or API key.

use std::collections::BTreeMap;

use base64::Engine as _;
use instant_core::{ChannelOptions, ChannelSettings, PRIVATE_PREFIX};
use rand::RngCore;
use serde_json::{Map, Value, json};

mod shared;

pub(crate) use self::shared::{V5_KEYS, shared_values};
use crate::cli::Engine;
use crate::error::{CliError, Result};

/// Origins allowed when neither `--origin` nor the settings name any: the usual local app ports.
pub(crate) const DEFAULT_ORIGINS: [&str; 2] = ["http://localhost:8080", "http://127.0.0.1:8080"];

/// Everything a Centrifugo config is made from.
#[derive(Debug)]
pub(crate) struct ConfigInputs<'a> {
    /// The HMAC secret that signs connection and subscription tokens.
    pub(crate) secret: &'a str,
    /// The HTTP API key.
    pub(crate) api_key: &'a str,
    /// The port Centrifugo listens on.
    pub(crate) port: u16,
    /// The address Centrifugo binds, when not every interface.
    pub(crate) address: Option<&'a str>,
    /// Browser origins allowed to connect.
    pub(crate) allowed_origins: &'a [String],
    /// The engine.
    pub(crate) engine: Engine,
    /// The Redis address for the Redis engine.
    pub(crate) redis_url: Option<&'a str>,
    /// The channels the app declares (`[[channels]]`, read and checked by the core).
    pub(crate) channels: &'a [ChannelSettings],
}

/// A random secret or key: 32 random bytes, base64url without padding (43 characters).
pub(crate) fn random_key() -> String {
    let mut bytes = [0_u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Channel options of one Centrifugo namespace, merged over the channels declared in it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct NamespaceOptions {
    presence: bool,
    join_leave: bool,
    presence_for_anonymous: bool,
    history_size: u32,
    history_ttl_seconds: u64,
    recover: bool,
    force_push_join_leave: bool,
    client_publish: bool,
    /// The namespace holds user-limited channels (`personal:#42`): `allow_user_limited_channels`.
    user_limited: bool,
}

impl NamespaceOptions {
    /// Everything off: what a namespace starts from before its channels are merged in.
    const NONE: Self = Self {
        presence: false,
        join_leave: false,
        presence_for_anonymous: false,
        history_size: 0,
        history_ttl_seconds: 0,
        recover: false,
        force_push_join_leave: false,
        client_publish: false,
        user_limited: false,
    };

    /// The options of one channel, or the embedded server's defaults for channels no
    /// `[[channels]]` entry describes (it recovers on every channel that keeps a history, hence
    /// `force_recovery` there).
    fn from_channel_options(options: &ChannelOptions) -> Self {
        let history = options.has_history();
        Self {
            presence: options.presence,
            join_leave: options.join_leave,
            presence_for_anonymous: options.presence_for_anonymous,
            history_size: if history {
                u32::try_from(options.history_size).unwrap_or(u32::MAX)
            } else {
                0
            },
            history_ttl_seconds: if history {
                options.history_ttl.as_secs().max(1)
            } else {
                0
            },
            recover: options.recovers(),
            force_push_join_leave: options.force_push_join_leave,
            client_publish: options.client_publish,
            user_limited: false,
        }
    }

    /// Merges one channel in: a namespace keeps and allows what any of its channels needs.
    fn merge(&mut self, channel: &Self) {
        self.presence |= channel.presence;
        self.join_leave |= channel.join_leave;
        self.presence_for_anonymous |= channel.presence_for_anonymous;
        self.history_size = self.history_size.max(channel.history_size);
        self.history_ttl_seconds = self.history_ttl_seconds.max(channel.history_ttl_seconds);
        self.recover |= channel.recover;
        self.force_push_join_leave |= channel.force_push_join_leave;
        self.client_publish |= channel.client_publish;
        self.user_limited |= channel.user_limited;
    }

    /// The options as Centrifugo's `ChannelOptions` keys. Non-`$` channels are public in
    /// `instant`, so any connection may subscribe to them; `$` channels always need a
    /// subscription token, which the app mints only for users of the right level.
    fn to_json(&self) -> Map<String, Value> {
        let mut map = Map::new();
        map.insert("allow_subscribe_for_client".into(), Value::Bool(true));
        map.insert("allow_subscribe_for_anonymous".into(), Value::Bool(true));
        map.insert("presence".into(), Value::Bool(self.presence));
        map.insert("join_leave".into(), Value::Bool(self.join_leave));
        map.insert("history_size".into(), json!(self.history_size));
        map.insert(
            "history_ttl".into(),
            json!(format!("{}s", self.history_ttl_seconds)),
        );
        map.insert("force_recovery".into(), Value::Bool(self.recover));
        // Written only when on, so the defaults' config stays Centrifugo's defaults.
        if self.force_push_join_leave {
            map.insert("force_push_join_leave".into(), Value::Bool(true));
        }
        if self.client_publish {
            map.insert("allow_publish_for_subscriber".into(), Value::Bool(true));
        }
        // Only the user named after `#` may subscribe to such a channel without a token; for
        // those channels Centrifugo ignores `allow_subscribe_for_client`.
        if self.user_limited {
            map.insert("allow_user_limited_channels".into(), Value::Bool(true));
        }
        // Logged-in subscribers may ask for presence where the channel keeps it, and get join
        // and leave messages where it sends them (Centrifugo sends them only to clients with
        // presence access); anonymous ones only where the channel opts in, as on the embedded
        // server.
        if self.presence || self.join_leave {
            map.insert("allow_presence_for_subscriber".into(), Value::Bool(true));
            if self.presence_for_anonymous {
                map.insert("allow_presence_for_anonymous".into(), Value::Bool(true));
            }
        }
        if self.history_size > 0 {
            map.insert("allow_history_for_subscriber".into(), Value::Bool(true));
            map.insert("allow_history_for_anonymous".into(), Value::Bool(true));
        }
        map
    }
}

/// The Centrifugo namespace of a channel: the part before `:` once the `$` prefix is removed,
/// as Centrifugo resolves it; `None` for channels without a namespace.
fn namespace_of(name: &str) -> Option<&str> {
    let bare = name.strip_prefix(PRIVATE_PREFIX).unwrap_or(name);
    bare.split_once(':').map(|(namespace, _)| namespace)
}

/// Merges the declared channels' options per namespace (`""` = no namespace). A pattern
/// (`$order_{id}`, `orders:{id}`) is placed like a fixed channel: in the namespace before its `:`,
/// else with the channels without a namespace; its options apply to every channel it makes. The core has
/// checked their names, levels and paths; Centrifugo's own rule for namespace names is checked
/// here.
fn namespaces(channels: &[ChannelSettings]) -> Result<BTreeMap<String, NamespaceOptions>, String> {
    let mut namespaces: BTreeMap<String, NamespaceOptions> = BTreeMap::new();
    for channel in channels {
        let namespace = namespace_of(&channel.name).unwrap_or("");
        // A pattern's options go to its namespace like a fixed channel's, so the namespace part
        // (before `:`) must be literal: every channel the pattern makes is in that namespace.
        if namespace.contains('{') {
            return Err(format!(
                "channel pattern `{}`: its namespace (the part before `:`) must be literal text, not a parameter",
                channel.name
            ));
        }
        if !namespace.is_empty() && !valid_namespace_name(namespace) {
            return Err(format!(
                "channel `{}`: namespace `{namespace}` must be 2+ characters of letters, digits, `-`, `_` or `.`",
                channel.name
            ));
        }
        let mut options = NamespaceOptions::from_channel_options(&channel.options);
        options.user_limited = instant_core::Channel::new(channel.name.clone(), channel.level)
            .is_ok_and(|c| c.is_user_limited());
        namespaces
            .entry(namespace.to_owned())
            .or_insert(NamespaceOptions::NONE)
            .merge(&options);
    }
    // The personal channels (`personal:#42`), which an app turns on in its code: their namespace
    // is always written, with the defaults unless a `[[channels]]` entry names the pattern.
    namespaces
        .entry(instant_core::PERSONAL_NAMESPACE.to_owned())
        .or_insert_with(|| NamespaceOptions::from_channel_options(&ChannelOptions::default()))
        .user_limited = true;
    Ok(namespaces)
}

/// Checks the declared channels as [`build`] does.
pub(crate) fn validate_channels(channels: &[ChannelSettings]) -> Result<(), String> {
    namespaces(channels).map(|_| ())
}

/// Centrifugo's rule for namespace names: `^[-a-zA-Z0-9_.]{2,}$`.
fn valid_namespace_name(name: &str) -> bool {
    name.len() >= 2
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Builds the Centrifugo v6 config as JSON.
///
/// # Errors
/// [`CliError::Settings`]-style reasons when a declared channel is invalid (returned as a string
/// for the caller to attach to the settings file).
pub(crate) fn build(inputs: &ConfigInputs<'_>) -> Result<Value, String> {
    let mut namespaces = namespaces(inputs.channels)?;
    // Channels without a namespace that no entry describes get the embedded server's defaults.
    let without_namespace = namespaces
        .remove("")
        .unwrap_or_else(|| NamespaceOptions::from_channel_options(&ChannelOptions::default()));
    let namespace_list: Vec<Value> = namespaces
        .iter()
        .map(|(name, options)| {
            let mut map = Map::new();
            map.insert("name".into(), Value::String(name.clone()));
            map.extend(options.to_json());
            Value::Object(map)
        })
        .collect();

    let engine = match inputs.engine {
        Engine::Memory => json!({ "type": "memory" }),
        Engine::Redis => json!({
            "type": "redis",
            "redis": { "address": inputs.redis_url.unwrap_or("redis://127.0.0.1:6379") },
        }),
    };

    let mut http_server = json!({ "port": inputs.port });
    if let Some(address) = inputs.address {
        http_server["address"] = Value::String(address.to_owned());
    }
    Ok(json!({
        "http_server": http_server,
        "client": {
            "token": { "hmac_secret_key": inputs.secret },
            "allowed_origins": inputs.allowed_origins,
            // Anonymous visitors' pages connect without a token, as they do to the embedded server.
            "allow_anonymous_connect_without_token": true,
        },
        "http_api": { "key": inputs.api_key },
        "health": { "enabled": true },
        "engine": engine,
        "channel": {
            "without_namespace": Value::Object(without_namespace.to_json()),
            "namespaces": namespace_list,
        },
    }))
}

/// The JSON text written to disk.
pub(crate) fn render(config: &Value) -> String {
    let mut text = serde_json::to_string_pretty(config).unwrap_or_else(|_| config.to_string());
    text.push('\n');
    text
}

/// Turns a channel error into the settings error of the file that declared it.
pub(crate) fn channel_error(path: &std::path::Path, reason: String) -> CliError {
    CliError::Settings {
        path: path.to_owned(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::time::Duration;

    use instant_core::Level;

    fn entry(name: &str, level: Level) -> ChannelSettings {
        ChannelSettings::new(name, level)
    }

    /// An entry with every option turned off explicitly (recovery follows the history).
    fn bare_entry(name: &str, level: Level) -> ChannelSettings {
        let mut options = ChannelOptions::default();
        options.history_size = 0;
        entry(name, level).with_options(options)
    }

    /// Reads Centrifugo channel options back as the embedded server's, the keys not written
    /// (`force_push_join_leave`, `allow_publish_for_*`) at Centrifugo's default, off.
    fn as_channel_options(json: &Value) -> ChannelOptions {
        let flag = |key: &str| json.get(key).and_then(Value::as_bool).unwrap_or(false);
        let mut options = ChannelOptions::default();
        options.presence = flag("presence");
        options.join_leave = flag("join_leave");
        options.presence_for_anonymous = flag("allow_presence_for_anonymous");
        options.force_push_join_leave = flag("force_push_join_leave");
        options.client_publish =
            flag("allow_publish_for_client") || flag("allow_publish_for_subscriber");
        options.history_size = usize::try_from(json["history_size"].as_u64().unwrap()).unwrap();
        options.history_ttl =
            instant_core::config::parse_duration(json["history_ttl"].as_str().unwrap())
                .unwrap_or_default();
        // The embedded server recovers wherever it keeps a history.
        assert_eq!(json["force_recovery"], options.has_history(), "{json}");
        assert_eq!(
            json.get("allow_presence_for_subscriber").is_some(),
            options.presence || options.join_leave,
            "{json}"
        );
        assert_eq!(
            json.get("allow_history_for_subscriber").is_some(),
            options.has_history(),
            "{json}"
        );
        options
    }

    fn inputs(channels: &[ChannelSettings]) -> ConfigInputs<'_> {
        ConfigInputs {
            secret: "s",
            api_key: "k",
            port: 8000,
            address: None,
            allowed_origins: &[],
            engine: Engine::Memory,
            redis_url: None,
            channels,
        }
    }

    #[test]
    fn v6_keys_hold_the_secret_key_and_origins() {
        let origins = vec!["http://localhost:8080".to_owned()];
        let config = build(&ConfigInputs {
            allowed_origins: &origins,
            ..inputs(&[])
        })
        .unwrap();
        assert_eq!(config["client"]["token"]["hmac_secret_key"], "s");
        assert_eq!(config["http_api"]["key"], "k");
        assert_eq!(
            config["client"]["allowed_origins"][0],
            "http://localhost:8080"
        );
        assert_eq!(config["health"]["enabled"], true);
        assert_eq!(
            config["client"]["allow_anonymous_connect_without_token"],
            true
        );
        assert_eq!(config["engine"]["type"], "memory");
        assert_eq!(
            config["channel"]["without_namespace"]["allow_subscribe_for_client"],
            true
        );
        let shared = shared_values(&config);
        assert_eq!(shared.secret.as_deref(), Some("s"));
        assert_eq!(shared.api_key.as_deref(), Some("k"));
        assert!(shared.v5_keys.is_empty(), "{:?}", shared.v5_keys);
    }

    #[test]
    fn genconfig_defaults_are_the_embedded_servers() {
        let defaults = ChannelOptions::default();
        // No `[[channels]]` at all.
        let config = build(&inputs(&[])).unwrap();
        let plain = &config["channel"]["without_namespace"];
        assert_eq!(as_channel_options(plain), defaults);
        assert_eq!(plain["history_ttl"], "300s");
        assert_eq!(plain["force_recovery"], true);
        // Presence and join/leave are off, and never open to anonymous clients by default.
        assert_eq!(plain["presence"], false);
        assert_eq!(plain["join_leave"], false);
        assert!(
            plain.get("allow_presence_for_anonymous").is_none(),
            "{plain}"
        );
        assert_eq!(plain["allow_history_for_anonymous"], true);
        // Entries that set nothing but their names, with and without a namespace.
        let config = build(&inputs(&[
            entry("news", Level::Public),
            entry("$chat:staff", Level::Staff),
        ]))
        .unwrap();
        assert_eq!(
            as_channel_options(&config["channel"]["without_namespace"]),
            defaults
        );
        assert_eq!(
            as_channel_options(&config["channel"]["namespaces"][0]),
            defaults
        );
    }

    #[test]
    fn an_entry_turns_the_defaults_off() {
        let config = build(&inputs(&[bare_entry("news", Level::Public)])).unwrap();
        let plain = &config["channel"]["without_namespace"];
        assert_eq!(plain["presence"], false);
        assert_eq!(plain["join_leave"], false);
        assert_eq!(plain["history_size"], 0);
        assert_eq!(plain["history_ttl"], "0s");
        assert_eq!(plain["force_recovery"], false);
        assert!(plain.get("allow_presence_for_subscriber").is_none());
        assert!(plain.get("allow_history_for_subscriber").is_none());
        // History without recovery, when asked for.
        let mut news = entry("news", Level::Public);
        news.options.recover = false;
        let config = build(&inputs(&[news])).unwrap();
        let plain = &config["channel"]["without_namespace"];
        assert_eq!(plain["history_size"], 100);
        assert_eq!(plain["force_recovery"], false);
    }

    #[test]
    fn channel_options_merge_per_namespace() {
        let mut news = bare_entry("news", Level::Public);
        news.options.history_size = 10;
        let mut chat = bare_entry("chat:lobby", Level::Public);
        chat.options.presence = true;
        chat.options.client_publish = true;
        let mut staff_chat = bare_entry("$chat:staff", Level::Staff);
        staff_chat.options.history_size = 50;
        staff_chat.options.history_ttl = Duration::from_secs(3600);
        staff_chat.options.recover = true;
        let config = build(&inputs(&[news, chat, staff_chat])).unwrap();
        let plain = &config["channel"]["without_namespace"];
        assert_eq!(plain["history_size"], 10);
        assert_eq!(plain["history_ttl"], "300s");
        assert_eq!(plain["force_recovery"], true);
        let namespaces = config["channel"]["namespaces"].as_array().unwrap();
        // `chat`, and `personal` for the personal channels, always written.
        assert_eq!(namespaces.len(), 2);
        assert_eq!(namespaces[0]["name"], "chat");
        assert!(namespaces[0].get("allow_user_limited_channels").is_none());
        assert_eq!(namespaces[1]["name"], "personal");
        assert_eq!(namespaces[1]["allow_user_limited_channels"], true);
        assert_eq!(namespaces[1]["history_size"], 100);
        assert_eq!(namespaces[1]["force_recovery"], true);
        assert_eq!(namespaces[0]["presence"], true);
        assert_eq!(namespaces[0]["join_leave"], false);
        assert_eq!(namespaces[0]["history_size"], 50);
        assert_eq!(namespaces[0]["history_ttl"], "3600s");
        assert_eq!(namespaces[0]["force_recovery"], true);
        assert_eq!(namespaces[0]["allow_presence_for_subscriber"], true);
        assert_eq!(namespaces[0]["allow_history_for_anonymous"], true);
        assert_eq!(namespaces[0]["allow_publish_for_subscriber"], true);
        assert!(plain.get("allow_publish_for_subscriber").is_none());
        assert_eq!(plain["allow_history_for_subscriber"], true);
        assert!(plain.get("allow_presence_for_subscriber").is_none());
    }

    #[test]
    fn presence_opens_to_anonymous_clients_only_where_a_channel_opts_in() {
        let mut members = bare_entry("members", Level::Public);
        members.options.presence = true;
        members.options.join_leave = true;
        let mut lobby = bare_entry("lobby:all", Level::Public);
        lobby.options.presence = true;
        lobby.options.presence_for_anonymous = true;
        let config = build(&inputs(&[members, lobby])).unwrap();
        let plain = &config["channel"]["without_namespace"];
        assert_eq!(plain["presence"], true);
        assert_eq!(plain["allow_presence_for_subscriber"], true);
        assert!(
            plain.get("allow_presence_for_anonymous").is_none(),
            "{plain}"
        );
        let lobby = &config["channel"]["namespaces"][0];
        assert_eq!(lobby["allow_presence_for_anonymous"], true);
    }

    #[test]
    fn patterns_go_to_their_namespace() {
        let mut order = bare_entry("$order_{id}", Level::Users);
        order.options.history_size = 10;
        let mut orders = bare_entry("orders:{id}", Level::Public);
        orders.options.presence = true;
        let config = build(&inputs(&[order, orders])).unwrap();
        assert_eq!(config["channel"]["without_namespace"]["history_size"], 10);
        assert_eq!(config["channel"]["namespaces"][0]["name"], "orders");
        assert_eq!(config["channel"]["namespaces"][0]["presence"], true);
        let err = build(&inputs(&[entry("{team}:board", Level::Public)])).unwrap_err();
        assert!(err.contains("must be literal text"), "{err}");
    }

    #[test]
    fn redis_engine_names_its_address() {
        let config = build(&ConfigInputs {
            engine: Engine::Redis,
            redis_url: Some("redis://127.0.0.1:6390"),
            ..inputs(&[])
        })
        .unwrap();
        assert_eq!(config["engine"]["type"], "redis");
        assert_eq!(
            config["engine"]["redis"]["address"],
            "redis://127.0.0.1:6390"
        );
    }

    #[test]
    fn namespaces_follow_centrifugos_rule() {
        let err = build(&inputs(&[entry("x:y", Level::Public)])).unwrap_err();
        assert!(err.contains("namespace"), "{err}");
        assert!(validate_channels(&[entry("ab:y", Level::Public)]).is_ok());
    }

    #[test]
    fn v5_names_are_detected() {
        let shared = shared_values(
            &json!({"token_hmac_secret_key": "x", "api_key": "y", "engine": "memory"}),
        );
        assert_eq!(
            shared.v5_keys,
            ["token_hmac_secret_key", "api_key", "engine"]
        );
    }

    #[test]
    fn random_keys_differ() {
        let a = random_key();
        assert_eq!(a.len(), 43);
        assert_ne!(a, random_key());
    }
}
