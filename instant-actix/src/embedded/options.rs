//! Limits, timings and channel features of the embedded server, with Centrifugo's defaults.

use std::collections::HashMap;
use std::time::Duration;

pub use instant_core::ChannelOptions;

/// Limits and timings of the embedded server. Start from [`EmbeddedOptions::default`] (Centrifugo's
/// defaults) and change what you need.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EmbeddedOptions {
    /// The largest WebSocket message a client may send, in bytes (Centrifugo's
    /// `websocket.message_size_limit`, 65536); larger ones close the connection with 1009.
    pub max_message_size: usize,
    /// How many bytes may wait in one client's send queue (Centrifugo's `client.queue_max_size`,
    /// 1 MiB); a client too slow to drain it is disconnected with 3008, without delaying others.
    pub client_queue_max_bytes: usize,
    /// How many WebSocket connections the server accepts at once; further upgrades get 503.
    pub max_connections: usize,
    /// How many WebSocket connections one client IP address may hold at once (default 100);
    /// further upgrades from it get 503, so that one address cannot take every slot. The address
    /// is the peer's, or the one a proxy named in `trusted_proxies` forwards.
    pub max_connections_per_ip: usize,
    /// How many connections may be anonymous (connected without a token) at once (default 5,000,
    /// half the default [`max_connections`](Self::max_connections)); a further anonymous `connect` is closed
    /// with 3504 (connection limit), so that logged-in users always find a slot.
    pub max_anonymous_connections: usize,
    /// How many commands a connection may send per second on average (default 100): each
    /// command takes a token from a bucket of [`command_burst`](Self::command_burst) tokens that
    /// refills at this rate. A command finding the bucket empty is answered with error 111 (too
    /// many requests); a client that sends another `command_burst` commands without waiting is
    /// closed with 3013 (too many requests).
    pub command_rate: u32,
    /// The size of the command bucket (default 200): how many commands a connection may send at
    /// once, e.g. in one frame.
    pub command_burst: u32,
    /// The most entries one presence reply holds (default 1,000); on a bigger channel the reply
    /// lists the first ones by client id. `presence_stats` still counts every subscriber.
    pub max_presence_entries: usize,
    /// Where the server API is mounted: `POST {api_path}/{method}` (default
    /// [`EMBEDDED_API_PATH`](crate::paths::EMBEDDED_API_PATH), `/instant/api`), under the app's
    /// `instant` prefix so that it does not shadow the app's own `/api` routes. A Centrifugo
    /// client given the base URL `http://<app>/instant` reaches it (`instant publish`,
    /// Centrifugo's server SDKs with `http://<app>/instant/api`).
    pub api_path: String,
    /// How many channels one connection may subscribe to (`client.channel_limit`, 128).
    pub max_channels_per_client: usize,
    /// How often the server pings (`client.ping_interval`, 25 s); sent to clients in whole seconds.
    pub ping_interval: Duration,
    /// How long a client has to answer a ping (`client.pong_timeout`, 8 s); then 3012.
    pub pong_timeout: Duration,
    /// How long a new connection may take to send `connect` (`client.stale_close_delay`, 10 s);
    /// then 3502.
    pub connect_timeout: Duration,
    /// How long past its token's expiry a connection or subscription is kept, giving the client
    /// time to refresh it (Centrifugo's `client.expired_close_delay` and
    /// `client.expired_sub_close_delay`, 25 s); then 3005, or an unsubscribe with 2501.
    pub expired_close_delay: Duration,
    /// How long a closing connection may take to accept its close frame before it is dropped.
    pub close_timeout: Duration,
    /// The most publications one history call or one recovery returns (Centrifugo: 300).
    pub max_history_publications: usize,
    /// How many channels made from patterns (`$order_42` of `$order_{id}`) may be live at once
    /// (default 100,000). A channel is live from its first subscriber (or its first publication
    /// when it keeps a history) until it has no subscriber and its history has expired; a
    /// subscribe or publish that would make one more is answered with error 106 (limit exceeded).
    pub max_pattern_channels: usize,
    /// The options of every declared channel without an override.
    pub channel_defaults: ChannelOptions,
    /// Per-channel overrides of [`EmbeddedOptions::channel_defaults`], by channel name; a
    /// pattern's entry (named by the pattern, `$order_{id}`) applies to every channel it makes.
    pub channel_overrides: HashMap<String, ChannelOptions>,
}

impl Default for EmbeddedOptions {
    fn default() -> Self {
        Self {
            max_message_size: 65_536,
            client_queue_max_bytes: 1_048_576,
            max_connections: 10_000,
            max_connections_per_ip: 100,
            max_anonymous_connections: 5_000,
            command_rate: 100,
            command_burst: 200,
            max_presence_entries: 1_000,
            api_path: crate::paths::EMBEDDED_API_PATH.to_owned(),
            max_channels_per_client: 128,
            ping_interval: Duration::from_secs(25),
            pong_timeout: Duration::from_secs(8),
            connect_timeout: Duration::from_secs(10),
            expired_close_delay: Duration::from_secs(25),
            close_timeout: Duration::from_secs(5),
            max_history_publications: 300,
            max_pattern_channels: 100_000,
            channel_defaults: ChannelOptions::default(),
            channel_overrides: HashMap::new(),
        }
    }
}

impl EmbeddedOptions {
    /// Sets the options of one channel.
    #[must_use]
    pub fn channel(mut self, name: impl Into<String>, options: ChannelOptions) -> Self {
        self.channel_overrides.insert(name.into(), options);
        self
    }

    /// The options of the channel called `name`.
    #[must_use]
    pub fn channel_options(&self, name: &str) -> &ChannelOptions {
        self.channel_overrides
            .get(name)
            .unwrap_or(&self.channel_defaults)
    }

    /// The ping interval in whole seconds as the protocol announces it, at least 1.
    pub(crate) fn ping_secs(&self) -> u32 {
        u32::try_from(self.ping_interval.as_secs())
            .unwrap_or(u32::MAX)
            .max(1)
    }
}
