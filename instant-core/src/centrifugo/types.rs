//! The public types of the client: its tuning options and Centrifugo's answers.

use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

/// Tuning of a [`CentrifugoClient`](super::CentrifugoClient); the defaults suit most apps.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientOptions {
    /// How many fire-and-forget events may wait to be sent; beyond that new ones are dropped.
    pub queue_capacity: usize,
    /// How many queued events go into one `/api/batch` request at most.
    pub max_batch: usize,
    /// How many times a batch that failed for a transient reason (server unreachable, timeout,
    /// internal error) is tried again before its events are dropped.
    pub max_retries: u32,
    /// The delay before the first retry; it doubles with each further one.
    pub retry_delay: Duration,
    /// How many awaited calls may wait for the worker thread before callers wait to enqueue
    /// (calls made on an actix-rt thread run there and do not queue).
    pub request_queue_capacity: usize,
    /// How many transient failures in a row open a node's circuit breaker (at least 1); 3 by
    /// default.
    pub failure_threshold: u32,
    /// How long an open node gets no requests before one probes it; doubles after each failed
    /// probe, up to 30 seconds. One second by default.
    pub open_delay: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            queue_capacity: 16_384,
            max_batch: 500,
            max_retries: 5,
            retry_delay: Duration::from_millis(100),
            request_queue_capacity: 1024,
            failure_threshold: 3,
            open_delay: Duration::from_secs(1),
        }
    }
}

impl ClientOptions {
    /// Sets [`ClientOptions::queue_capacity`] (at least 1).
    #[must_use]
    pub fn queue_capacity(mut self, capacity: usize) -> Self {
        self.queue_capacity = capacity.max(1);
        self
    }

    /// Sets [`ClientOptions::max_batch`] (at least 1).
    #[must_use]
    pub fn max_batch(mut self, max_batch: usize) -> Self {
        self.max_batch = max_batch.max(1);
        self
    }

    /// Sets [`ClientOptions::max_retries`].
    #[must_use]
    pub fn max_retries(mut self, max_retries: u32) -> Self {
        self.max_retries = max_retries;
        self
    }

    /// Sets [`ClientOptions::request_queue_capacity`] (at least 1).
    #[must_use]
    pub fn request_queue_capacity(mut self, capacity: usize) -> Self {
        self.request_queue_capacity = capacity.max(1);
        self
    }

    /// Sets [`ClientOptions::failure_threshold`] (at least 1).
    #[must_use]
    pub fn failure_threshold(mut self, failures: u32) -> Self {
        self.failure_threshold = failures.max(1);
        self
    }

    /// Sets [`ClientOptions::open_delay`].
    #[must_use]
    pub fn open_delay(mut self, delay: Duration) -> Self {
        self.open_delay = delay;
        self
    }

    /// Sets [`ClientOptions::retry_delay`].
    #[must_use]
    pub fn retry_delay(mut self, delay: Duration) -> Self {
        self.retry_delay = delay;
        self
    }
}

/// One client connected to one of the Centrifugo nodes (`presence`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct ClientInfo {
    /// The client (connection) id.
    pub client: String,
    /// The user id; empty for anonymous visitors.
    #[serde(default)]
    pub user: String,
    /// The `info` of the connection token.
    #[serde(default)]
    pub conn_info: Option<Value>,
    /// The `info` of the subscription token.
    #[serde(default)]
    pub chan_info: Option<Value>,
}

/// Counts of a channel's subscribers (`presence_stats`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct PresenceStats {
    /// Connections subscribed.
    #[serde(default)]
    pub num_clients: u64,
    /// Distinct users subscribed.
    #[serde(default)]
    pub num_users: u64,
}

/// One publication kept in a channel's history.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct HistoryPublication {
    /// What was published (an [`Event`](crate::Event) when `instant` published it).
    #[serde(default)]
    pub data: Value,
    /// Its position in the stream.
    #[serde(default)]
    pub offset: u64,
}

/// A channel's history (`history`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct History {
    /// The publications, oldest first.
    #[serde(default)]
    pub publications: Vec<HistoryPublication>,
    /// The stream epoch.
    #[serde(default)]
    pub epoch: String,
    /// The stream's current top offset.
    #[serde(default)]
    pub offset: u64,
}

/// One Centrifugo node (`info`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct NodeInfo {
    /// The node's unique id.
    #[serde(default)]
    pub uid: String,
    /// The node's name.
    #[serde(default)]
    pub name: String,
    /// The Centrifugo version.
    #[serde(default)]
    pub version: String,
    /// Connections on the node.
    #[serde(default)]
    pub num_clients: u64,
    /// Distinct users on the node.
    #[serde(default)]
    pub num_users: u64,
    /// Active channels.
    #[serde(default)]
    pub num_channels: u64,
    /// Seconds since the node started.
    #[serde(default)]
    pub uptime: u64,
}

/// What the `info` method returns: every node of the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct ServerInfo {
    /// The nodes.
    #[serde(default)]
    pub nodes: Vec<NodeInfo>,
}
