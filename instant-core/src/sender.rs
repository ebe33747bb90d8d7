//! Events "to others": the browser tab whose request caused an event does not run its handler
//! for it, as Laravel's `broadcast(..)->toOthers()` and Phoenix's `broadcast_from`.
//!
//! Centrifugo has no way to leave a client out of a publication, so the exclusion happens in the
//! browser: the injected client sends its Centrifugo client id with the page's same-origin
//! `fetch` and `XMLHttpRequest` requests in the [`CLIENT_HEADER`] header, the app reads it back as a [`ClientId`]
//! (`instant::middleware::Sender` in an actix-web handler), and an event published with
//! [`Publish::to_others`](crate::Publish::to_others) carries it in [`Event::sender`](crate::Event::sender):
//! the injected client of that tab skips the event, every other tab handles it.

use std::fmt;

/// The request header in which the injected client sends its Centrifugo client id.
///
/// ```
/// assert_eq!(instant_core::sender::CLIENT_HEADER, "x-instant-client");
/// ```
pub const CLIENT_HEADER: &str = "x-instant-client";

/// The longest client id accepted (Centrifugo's are UUIDs, 36 characters).
///
/// ```
/// use instant_core::sender::{ClientId, MAX_CLIENT_ID_LEN};
///
/// assert!(ClientId::parse(&"a".repeat(MAX_CLIENT_ID_LEN)).is_some());
/// assert!(ClientId::parse(&"a".repeat(MAX_CLIENT_ID_LEN + 1)).is_none());
/// ```
pub const MAX_CLIENT_ID_LEN: usize = 64;

/// A Centrifugo client id (one browser tab's connection), as sent in [`CLIENT_HEADER`]: 1 to
/// [`MAX_CLIENT_ID_LEN`] ASCII letters, digits, `-` or `_`.
///
/// ```
/// use instant_core::sender::ClientId;
///
/// let id = ClientId::parse("6f1c3e52-8d0a-4c7e-9a55-0e4b1f7d2c11").unwrap();
/// assert_eq!(id.as_str(), "6f1c3e52-8d0a-4c7e-9a55-0e4b1f7d2c11");
/// assert!(ClientId::parse("").is_none());
/// assert!(ClientId::parse("<script>").is_none());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ClientId(String);

impl ClientId {
    /// Reads a client id; `None` when it is empty, too long or holds other characters.
    #[must_use]
    pub fn parse(value: &str) -> Option<Self> {
        let valid = !value.is_empty()
            && value.len() <= MAX_CLIENT_ID_LEN
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        valid.then(|| Self(value.to_owned()))
    }

    /// The id.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ClientId").field(&self.0).finish()
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&ClientId> for Option<ClientId> {
    fn from(id: &ClientId) -> Self {
        Some(id.clone())
    }
}
