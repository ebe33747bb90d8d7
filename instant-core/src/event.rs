//! The event payload every browser handler receives.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One event, as it travels to the browser: the publication `data` is this object itself, never a
/// JSON string wrapped in JSON.
///
/// Handlers in the browser receive each field as a variable of the same name
/// (`event_class, channel, message, data, site, uid, timestamp`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// The channel it is published on.
    pub channel: String,
    /// The slug of the site that published it.
    pub site: String,
    /// A human-readable message.
    pub message: String,
    /// A free-form class such as `info` or `object created`; empty when not given.
    #[serde(default)]
    pub event_class: String,
    /// Any JSON the app attaches; `null` when not given.
    #[serde(default)]
    pub data: Value,
    /// A unique id for this event (a UUID v4).
    pub uid: String,
    /// When it was published, in milliseconds since the Unix epoch.
    pub timestamp: u64,
    /// The Centrifugo client id of the browser tab that caused it, when published
    /// [to others](crate::Publish::to_others): that tab's injected client skips it. Absent from
    /// the JSON when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender: Option<String>,
}

impl Event {
    /// A new event with a fresh `uid` and the current time as `timestamp`.
    #[must_use]
    pub fn new(
        site: impl Into<String>,
        channel: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            channel: channel.into(),
            site: site.into(),
            message: message.into(),
            event_class: String::new(),
            data: Value::Null,
            uid: new_uid(),
            timestamp: now_millis(),
            sender: None,
        }
    }

    /// Sets the event class.
    #[must_use]
    pub fn with_event_class(mut self, event_class: impl Into<String>) -> Self {
        self.event_class = event_class.into();
        self
    }

    /// Sets the JSON data.
    #[must_use]
    pub fn with_data(mut self, data: Value) -> Self {
        self.data = data;
        self
    }
}

/// The event classes of the seed's vocabulary, which the browser labels and icons know.
/// Any other string is allowed too.
pub const EVENT_CLASSES: [&str; 10] = [
    "default",
    "important",
    "ok",
    "info",
    "debug",
    "warning",
    "error",
    "object created",
    "object edited",
    "object deleted",
];

/// A fresh UUID v4 in its hyphenated lower-case form, written straight into its buffer (what
/// `to_string` would give, without going through the formatting machinery).
fn new_uid() -> String {
    let mut buffer = uuid::Uuid::encode_buffer();
    uuid::Uuid::new_v4()
        .hyphenated()
        .encode_lower(&mut buffer)
        .to_owned()
}

fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_as_an_object_with_every_field() {
        let event = Event::new("mysite", "public", "hello")
            .with_event_class("info")
            .with_data(serde_json::json!({"a": 1}));
        let value = serde_json::to_value(&event).unwrap();
        let object = value.as_object().unwrap();
        for key in [
            "channel",
            "site",
            "message",
            "event_class",
            "data",
            "uid",
            "timestamp",
        ] {
            assert!(object.contains_key(key), "missing {key}");
        }
        assert_eq!(value["data"]["a"], 1);
        assert!(event.timestamp > 1_700_000_000_000);
        assert_ne!(event.uid, Event::new("s", "c", "m").uid);
        let parsed = uuid::Uuid::parse_str(&event.uid).unwrap();
        assert_eq!(parsed.get_version_num(), 4);
        assert_eq!(event.uid, parsed.hyphenated().to_string());
    }
}
