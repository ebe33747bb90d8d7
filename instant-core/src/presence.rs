//! Who is on a channel: [`Publisher::presence`](crate::Publisher::presence) lists the users
//! subscribed to a channel that turns presence on, one entry per user however many tabs (client
//! connections) the user has open.
//!
//! Backends report each subscribed client ([`PresenceClient`], what Centrifugo's `presence` API
//! returns); [`users_of`] folds them into [`PresentUser`]s by user id. Anonymous clients (an empty
//! user id) have no identity to fold on and are left out of the users; [`Presence::anonymous`]
//! counts them.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

/// One client connection subscribed to a channel, as a backend reports it.
///
/// ```
/// use instant_core::presence::PresenceClient;
///
/// let tab = PresenceClient::new("tab-1", "alice")
///     .with_conn_info(Some(serde_json::json!({ "name": "Alice" })))
///     .with_chan_info(None);
/// assert_eq!((tab.client.as_str(), tab.user.as_str()), ("tab-1", "alice"));
/// assert_eq!(tab.conn_info.unwrap()["name"], "Alice");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PresenceClient {
    /// The client (connection) id: one per browser tab.
    pub client: String,
    /// The user id of the connection token; empty for an anonymous visitor.
    pub user: String,
    /// The connection's `info` (the `info` of the user's connection token).
    pub conn_info: Option<Value>,
    /// The subscription's `info`, when its token carried one.
    pub chan_info: Option<Value>,
}

impl PresenceClient {
    /// A subscribed client, for backends outside this crate.
    #[must_use]
    pub fn new(client: impl Into<String>, user: impl Into<String>) -> Self {
        Self {
            client: client.into(),
            user: user.into(),
            conn_info: None,
            chan_info: None,
        }
    }

    /// Sets the connection's `info`.
    #[must_use]
    pub fn with_conn_info(mut self, info: Option<Value>) -> Self {
        self.conn_info = info;
        self
    }

    /// Sets the subscription's `info`.
    #[must_use]
    pub fn with_chan_info(mut self, info: Option<Value>) -> Self {
        self.chan_info = info;
        self
    }
}

/// One user present on a channel, with every client (tab) the user has subscribed.
///
/// ```
/// use instant_core::presence::{PresenceClient, users_of};
///
/// let presence = users_of([PresenceClient::new("a", "alice"), PresenceClient::new("b", "alice")]);
/// let alice = &presence.users[0];
/// assert_eq!((alice.id.as_str(), alice.tabs()), ("alice", 2));
/// assert_eq!(alice.clients, ["a", "b"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PresentUser {
    /// The user id (the `sub` of the connection token: the app's `User::id`).
    pub id: String,
    /// The user's `info` from the connection token (the first client's that has one).
    pub info: Option<Value>,
    /// The client ids of the user's subscribed connections, sorted; at least one.
    pub clients: Vec<String>,
}

impl PresentUser {
    /// How many tabs (client connections) of this user are subscribed.
    #[must_use]
    pub fn tabs(&self) -> usize {
        self.clients.len()
    }
}

/// Who is on a channel: the users, each once, and how many anonymous clients.
///
/// ```
/// use instant_core::presence::{PresenceClient, users_of};
///
/// let presence = users_of([
///     PresenceClient::new("a", "bob"),
///     PresenceClient::new("b", "alice"),
///     PresenceClient::new("c", ""),
/// ]);
/// assert_eq!(presence.user_ids(), ["alice", "bob"]);
/// assert!(presence.contains("bob") && !presence.contains("carol"));
/// assert_eq!(presence.user("alice").unwrap().tabs(), 1);
/// assert_eq!(presence.anonymous, 1);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Presence {
    /// The logged-in users, one entry per user id, sorted by id.
    pub users: Vec<PresentUser>,
    /// Subscribed clients without a user (anonymous visitors, where the channel lets them in).
    pub anonymous: usize,
}

impl Presence {
    /// Whether the user `id` is on the channel.
    #[must_use]
    pub fn contains(&self, id: &str) -> bool {
        self.user(id).is_some()
    }

    /// The entry of user `id`.
    #[must_use]
    pub fn user(&self, id: &str) -> Option<&PresentUser> {
        self.users
            .binary_search_by(|u| u.id.as_str().cmp(id))
            .ok()
            .map(|i| &self.users[i])
    }

    /// The user ids, sorted.
    #[must_use]
    pub fn user_ids(&self) -> Vec<&str> {
        self.users.iter().map(|u| u.id.as_str()).collect()
    }
}

/// Folds subscribed clients into one [`PresentUser`] per user id (sorted by id), counting
/// anonymous clients apart.
///
/// ```
/// use instant_core::presence::{PresenceClient, users_of};
///
/// let presence = users_of([
///     PresenceClient::new("tab-1", "alice"),
///     PresenceClient::new("tab-2", "alice"),
///     PresenceClient::new("tab-3", "bob"),
///     PresenceClient::new("tab-4", ""),
/// ]);
/// assert_eq!(presence.user_ids(), ["alice", "bob"]);
/// assert_eq!(presence.user("alice").unwrap().tabs(), 2);
/// assert_eq!(presence.anonymous, 1);
/// ```
#[must_use]
pub fn users_of(clients: impl IntoIterator<Item = PresenceClient>) -> Presence {
    let mut users: BTreeMap<String, PresentUser> = BTreeMap::new();
    let mut anonymous = 0;
    for client in clients {
        if client.user.is_empty() {
            anonymous += 1;
            continue;
        }
        let entry = users
            .entry(client.user.clone())
            .or_insert_with(|| PresentUser {
                id: client.user,
                info: None,
                clients: Vec::new(),
            });
        if entry.info.is_none() {
            entry.info = client.conn_info;
        }
        entry.clients.push(client.client);
    }
    let users = users
        .into_values()
        .map(|mut user| {
            user.clients.sort_unstable();
            user.clients.dedup();
            user
        })
        .collect();
    Presence { users, anonymous }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_tabs_of_one_user_are_one_entry_with_the_first_info() {
        let presence = users_of([
            PresenceClient::new("b", "alice"),
            PresenceClient::new("a", "alice")
                .with_conn_info(Some(serde_json::json!({"name": "Alice"}))),
            PresenceClient::new("c", "bob"),
        ]);
        assert_eq!(presence.users.len(), 2);
        let alice = presence.user("alice").unwrap();
        assert_eq!(alice.clients, ["a", "b"]);
        assert_eq!(alice.info, Some(serde_json::json!({"name": "Alice"})));
        assert!(presence.contains("bob") && !presence.contains("carol"));
        assert_eq!(presence.anonymous, 0);
    }
}
