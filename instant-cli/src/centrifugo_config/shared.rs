//! The values of an existing Centrifugo config that the app's settings must match, and the v5 key
//! names that Centrifugo v6 ignores.

use serde_json::Value;

/// The values of a Centrifugo config that the app's settings must match.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct SharedValues {
    /// `client.token.hmac_secret_key`.
    pub(crate) secret: Option<String>,
    /// `http_api.key`.
    pub(crate) api_key: Option<String>,
    /// `http_server.port` (8000 when absent).
    pub(crate) port: u16,
    /// `client.allowed_origins`.
    pub(crate) allowed_origins: Vec<String>,
    /// Flat v5 key names found at the top level, which v6 ignores.
    pub(crate) v5_keys: Vec<String>,
}

/// v5 names that v6 ignores, and their v6 replacement.
pub(crate) const V5_KEYS: [(&str, &str); 7] = [
    ("token_hmac_secret_key", "client.token.hmac_secret_key"),
    ("api_key", "http_api.key"),
    ("allowed_origins", "client.allowed_origins"),
    ("namespaces", "channel.namespaces"),
    ("port", "http_server.port"),
    ("engine", "engine.type"),
    ("health", "health.enabled"),
];

/// Reads the shared values from a Centrifugo JSON config.
pub(crate) fn shared_values(config: &Value) -> SharedValues {
    let text = |pointer: &str| {
        config
            .pointer(pointer)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    SharedValues {
        secret: text("/client/token/hmac_secret_key"),
        api_key: text("/http_api/key"),
        port: config
            .pointer("/http_server/port")
            .and_then(Value::as_u64)
            .and_then(|port| u16::try_from(port).ok())
            .unwrap_or(8000),
        allowed_origins: config
            .pointer("/client/allowed_origins")
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
        v5_keys: V5_KEYS
            .iter()
            .filter(|(v5, _)| {
                config.get(v5).is_some_and(|value| {
                    // `engine` and `health` are v6 objects; only their flat v5 scalar forms are stale.
                    !(matches!(*v5, "engine" | "health") && value.is_object())
                })
            })
            .map(|(v5, _)| (*v5).to_owned())
            .collect(),
    }
}
