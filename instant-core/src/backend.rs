//! Where events go: the [`Backend`] trait and the [`Publisher`] handle apps publish through (the
//! recording test double is in [`crate::testing`]).

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};

use serde_json::Value;
use serde_json::value::RawValue;

use crate::event::Event;
use crate::event_json::with_json_data;
use crate::metrics::{Metrics, MetricsSnapshot};
use crate::presence::{Presence, PresenceClient, users_of};
use crate::sender::ClientId;

/// A boxed, `Send` future, the return type of [`Backend`] methods.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a successful publish tells back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PublishReceipt {
    /// The publication's offset in the channel history, when the channel keeps history.
    pub offset: Option<u64>,
    /// The history epoch, when the channel keeps history.
    pub epoch: Option<String>,
}

/// A position in a channel's stream: the offset of its latest publication and the history epoch
/// (which changes when the history is lost). A client subscribing with it as `since` receives
/// every publication after it, or is told that the history no longer covers it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct StreamPosition {
    /// The offset of the latest publication (0 before the first).
    pub offset: u64,
    /// The history epoch.
    pub epoch: String,
}

impl StreamPosition {
    /// A position, for backends outside this crate.
    #[must_use]
    pub fn new(offset: u64, epoch: impl Into<String>) -> Self {
        Self {
            offset,
            epoch: epoch.into(),
        }
    }
}

/// Why a publish failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PublishError {
    /// The server could not be reached.
    #[error("the real-time server at {url} could not be reached: {reason}")]
    Unreachable {
        /// The URL that was tried.
        url: String,
        /// What the connection attempt said.
        reason: String,
    },
    /// The server did not answer in time.
    #[error("the real-time server did not answer within {0:?}")]
    Timeout(std::time::Duration),
    /// The server refused the API key.
    #[error(
        "the real-time server refused the API key: check that INSTANT_CENTRIFUGO_API_KEY matches http_api.key"
    )]
    Unauthorized,
    /// The server answered with an error code.
    #[error("the real-time server refused the publish: {message} (code {code}{hint})", hint = code_hint(*.code))]
    Server {
        /// Centrifugo's error code.
        code: u32,
        /// Centrifugo's message.
        message: String,
    },
    /// The input was refused before it was sent.
    #[error("invalid publish: {0}")]
    BadInput(String),
    /// An answer that could not be understood.
    #[error("the real-time server gave an unexpected answer: {0}")]
    UnexpectedResponse(String),
    /// The publishing queue is closed (the app is shutting down) or no backend is set up.
    #[error("no real-time backend is running: {0}")]
    NotRunning(String),
}

impl PublishError {
    /// Whether trying again later may succeed.
    #[must_use]
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Unreachable { .. } | Self::Timeout(_) => true,
            Self::Server { code, .. } => *code == 100 || *code == 111,
            _ => false,
        }
    }
}

fn code_hint(code: u32) -> &'static str {
    match code {
        100 => ", internal server error",
        102 => ", unknown channel: declare its namespace in the Centrifugo config",
        103 => ", permission denied",
        104 => ", method not found",
        107 => ", bad request",
        108 => ", not available: enable presence or history for the channel",
        112 => ", unrecoverable position",
        113 => ", conflict",
        _ => "",
    }
}

/// Counters of fire-and-forget delivery.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeliveryStats {
    /// Events handed to the backend.
    pub queued: u64,
    /// Events the backend delivered.
    pub delivered: u64,
    /// Events dropped: the queue was full, or the backend gave up after its retries.
    pub dropped: u64,
    /// Failed attempts that were retried.
    pub retried: u64,
}

/// The circuit-breaker state of one Centrifugo node.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NodeState {
    /// The node answers: it takes its share of requests.
    #[default]
    Closed,
    /// The node failed several times in a row: it gets no requests until its delay has passed.
    Open,
    /// The delay has passed and one probe request is out; its answer closes or reopens the node.
    HalfOpen,
}

/// The health of one server node a backend publishes through ([`Backend::node_health`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NodeHealth {
    /// The node's HTTP address.
    pub url: String,
    /// Its circuit-breaker state.
    pub state: NodeState,
    /// Transient failures (unreachable, timeout, internal error) since its last answer.
    pub consecutive_failures: u32,
    /// Requests it answered (an error code included) since the backend started.
    pub successes: u64,
    /// Requests that failed for a transient reason since the backend started.
    pub failures: u64,
}

impl NodeHealth {
    /// A node's health, for backends outside this crate.
    #[must_use]
    pub fn new(
        url: String,
        state: NodeState,
        consecutive_failures: u32,
        successes: u64,
        failures: u64,
    ) -> Self {
        Self {
            url,
            state,
            consecutive_failures,
            successes,
            failures,
        }
    }
}

/// Where events go: Centrifugo's HTTP API, the embedded server, or a test double.
pub trait Backend: Send + Sync + 'static {
    /// Publishes and waits for the server's answer.
    fn publish(&self, event: Event) -> BoxFuture<'_, Result<PublishReceipt, PublishError>>;

    /// Publishes without waiting and without ever blocking the caller; failures are logged and
    /// counted in [`Backend::stats`].
    fn publish_detached(&self, event: Event);

    /// Publishes and waits, as [`Backend::publish`], an event whose data is JSON text already
    /// (`event.data` is not read): a backend that sends events as JSON writes it in as it is
    /// ([`Event::to_json_with_data`]). The default reads it into `event.data` and calls
    /// [`Backend::publish`].
    fn publish_json_data(
        &self,
        event: Event,
        data: &RawValue,
    ) -> BoxFuture<'_, Result<PublishReceipt, PublishError>> {
        self.publish(with_json_data(event, data))
    }

    /// Publishes without waiting, as [`Backend::publish_detached`], an event whose data is JSON
    /// text already (`event.data` is not read). The default reads it into `event.data` and calls
    /// [`Backend::publish_detached`].
    fn publish_json_data_detached(&self, event: Event, data: &RawValue) {
        self.publish_detached(with_json_data(event, data));
    }

    /// Delivery counters.
    fn stats(&self) -> DeliveryStats;

    /// The health of each server node it publishes through, in the configured order; empty for
    /// a backend without remote nodes (the default).
    fn node_health(&self) -> Vec<NodeHealth> {
        Vec::new()
    }

    /// Resolves when every fire-and-forget event handed over before the call has been delivered
    /// or dropped (and counted in [`Backend::stats`]); at once for a backend that queues nothing
    /// (the default).
    fn flush(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }

    /// The current position of `channel`'s stream, so that a page rendered now can subscribe
    /// from it and miss nothing published before its subscription; `None` when the channel
    /// keeps no history or the backend cannot tell (the default).
    fn stream_position<'a>(&'a self, channel: &'a str) -> BoxFuture<'a, Option<StreamPosition>> {
        let _ = channel;
        Box::pin(std::future::ready(None))
    }

    /// The positions of several streams, in the order given: what a page joining these channels
    /// subscribes from. The default asks [`Backend::stream_position`] for each in turn; a backend
    /// that asks over the network answers them in one request.
    fn stream_positions<'a>(
        &'a self,
        channels: &'a [&'a str],
    ) -> BoxFuture<'a, Vec<Option<StreamPosition>>> {
        Box::pin(async move {
            let mut positions = Vec::with_capacity(channels.len());
            for channel in channels {
                positions.push(self.stream_position(channel).await);
            }
            positions
        })
    }

    /// The clients subscribed to `channel`, one entry per connection (the channel needs presence
    /// turned on). The default: error 108, not available.
    ///
    /// ```
    /// use instant_core::Backend as _;
    /// use instant_core::presence::PresenceClient;
    /// use instant_core::testing::RecordingBackend;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let recorder = RecordingBackend::new();
    /// recorder.set_presence("chat", [PresenceClient::new("tab-1", "alice")]);
    /// assert_eq!(recorder.presence("chat").await.unwrap()[0].user, "alice");
    /// assert!(recorder.presence("news").await.is_err());
    /// # }
    /// ```
    ///
    /// # Errors
    /// [`PublishError::Server`] with Centrifugo's code (102 unknown channel, 108 presence off),
    /// or the transport's errors.
    fn presence(&self, channel: &str) -> BoxFuture<'_, Result<Vec<PresenceClient>, PublishError>> {
        let _ = channel;
        Box::pin(std::future::ready(Err(PublishError::Server {
            code: 108,
            message: "not available".to_owned(),
        })))
    }

    /// Whether [`Backend::stats`] counts awaited publishes too (`delivered` and `dropped`), as
    /// the embedded server and the recording backend do; `false` (the default) when it counts
    /// fire-and-forget events only. [`Publisher::metrics`] reads it to count every event once.
    ///
    /// ```
    /// use instant_core::Backend as _;
    ///
    /// assert!(instant_core::testing::RecordingBackend::new().stats_include_awaited());
    /// ```
    fn stats_include_awaited(&self) -> bool {
        false
    }

    /// The counters the backend reports to itself (connections, subscriptions, deliveries,
    /// denials), which a [`Publisher::new`] over it then shares; `None` (the default) for a
    /// backend that counts nothing of the kind.
    ///
    /// ```
    /// use instant_core::Backend as _;
    ///
    /// assert!(instant_core::testing::RecordingBackend::new().shared_metrics().is_none());
    /// ```
    fn shared_metrics(&self) -> Option<Arc<Metrics>> {
        None
    }
}

/// The handle apps publish through. Cheap to clone.
#[derive(Clone)]
pub struct Publisher {
    backend: Arc<dyn Backend>,
    site: Arc<str>,
    /// Awaited publishes and the integrations' counters, shared by the clones.
    metrics: Arc<Metrics>,
}

impl fmt::Debug for Publisher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Publisher")
            .field("site", &self.site)
            .finish_non_exhaustive()
    }
}

impl Publisher {
    /// A publisher that stamps events with the site slug `site` and hands them to `backend`.
    pub fn new(backend: Arc<dyn Backend>, site: impl Into<Arc<str>>) -> Self {
        let metrics = backend.shared_metrics().unwrap_or_default();
        Self::with_metrics(backend, site, metrics)
    }

    /// As [`Publisher::new`], counting into `metrics`, which other parts of the app (the auth
    /// routes, the embedded server) also report to.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use instant_core::Publisher;
    /// use instant_core::metrics::Metrics;
    /// use instant_core::testing::RecordingBackend;
    ///
    /// let metrics = Arc::new(Metrics::default());
    /// let publisher = Publisher::with_metrics(Arc::new(RecordingBackend::new()), "s", Arc::clone(&metrics));
    /// metrics.record_denial("level");
    /// assert_eq!(publisher.metrics().denied("level"), 1);
    /// ```
    pub fn with_metrics(
        backend: Arc<dyn Backend>,
        site: impl Into<Arc<str>>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            backend,
            site: site.into(),
            metrics,
        }
    }

    /// Starts an event on `channel` with `message`; add a class and data, then `.await` it for a
    /// `Result`, or call [`Publish::detach`] to send it without waiting.
    pub fn publish(&self, channel: impl Into<String>, message: impl Into<String>) -> Publish<'_> {
        Publish {
            backend: &*self.backend,
            metrics: &self.metrics,
            event: Event::new(&*self.site, channel, message),
            json_data: None,
        }
    }

    /// Starts an event for one user, on their personal channel (`personal:#<user id>`, see
    /// [`Channel::personal`](crate::Channel::personal)), which every page of that user joins
    /// when the app turns personal channels on; then as [`Publisher::publish`].
    ///
    /// # Errors
    /// [`PatternError::InvalidValue`](crate::PatternError::InvalidValue) for an id that cannot
    /// name a channel: other than 1 to 64 ASCII letters, digits or `-` (integer ids and UUIDs
    /// always can).
    pub fn to_user(
        &self,
        user_id: &str,
        message: impl Into<String>,
    ) -> Result<Publish<'_>, crate::PatternError> {
        Ok(self.publish(crate::channel::personal_channel(user_id)?, message))
    }

    /// Publishes a ready-made event and waits for the answer.
    ///
    /// # Errors
    /// [`PublishError`] from the backend.
    pub async fn publish_event(&self, event: Event) -> Result<PublishReceipt, PublishError> {
        counted(&self.metrics, &*self.backend, event, None).await
    }

    /// The site slug stamped on events.
    #[must_use]
    pub fn site(&self) -> &str {
        &self.site
    }

    /// The backend behind this publisher.
    #[must_use]
    pub fn backend(&self) -> &Arc<dyn Backend> {
        &self.backend
    }

    /// Delivery counters of fire-and-forget publishing.
    #[must_use]
    pub fn stats(&self) -> DeliveryStats {
        self.backend.stats()
    }

    /// How many awaited publishes through this publisher (and its clones) returned an error,
    /// `#[instant::event(.., wait)]` publishes included; fire-and-forget failures are in
    /// [`Publisher::stats`].
    ///
    /// ```
    /// use instant_core::PublishError;
    /// use instant_core::testing::RecordingBackend;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let publisher = RecordingBackend::failing(PublishError::NotRunning("down".into())).publisher("s");
    /// assert!(publisher.publish("news", "Hello").await.is_err());
    /// assert_eq!(publisher.failed_publishes(), 1);
    /// # }
    /// ```
    #[must_use]
    pub fn failed_publishes(&self) -> u64 {
        self.metrics.awaited_failed.load(Ordering::Relaxed)
    }

    /// Who is on `channel`: one [`PresentUser`](crate::presence::PresentUser) per user id,
    /// however many tabs the user has open, and how many anonymous clients (the channel needs
    /// presence: `presence = true` in its `[[channels]]` entry or its embedded
    /// `ChannelOptions`). Through Centrifugo's `presence` API, or the embedded server's hub.
    ///
    /// ```
    /// use instant_core::presence::PresenceClient;
    /// use instant_core::testing::RecordingBackend;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), instant_core::PublishError> {
    /// let recorder = RecordingBackend::new();
    /// recorder.set_presence("chat", [
    ///     PresenceClient::new("tab-1", "alice"),
    ///     PresenceClient::new("tab-2", "alice"),
    /// ]);
    /// let presence = recorder.publisher("mysite").presence("chat").await?;
    /// assert_eq!(presence.user_ids(), ["alice"]);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`PublishError::Server`] with code 108 when presence is off for the channel, 102 for an
    /// unknown channel; the transport's errors with Centrifugo.
    pub async fn presence(&self, channel: &str) -> Result<Presence, PublishError> {
        let clients = self.backend.presence(channel).await?;
        Ok(users_of(clients))
    }

    /// The counters at this moment: events published, failed and dropped, denied authorization
    /// requests by reason, and the embedded server's connections, subscriptions and deliveries
    /// ([`MetricsSnapshot::to_prometheus`] writes them for Prometheus).
    #[must_use]
    pub fn metrics(&self) -> MetricsSnapshot {
        let stats = self.backend.stats();
        let ok = self.metrics.awaited_ok.load(Ordering::Relaxed);
        let failed = self.metrics.awaited_failed.load(Ordering::Relaxed);
        let mut snapshot = self.metrics.snapshot();
        if self.backend.stats_include_awaited() {
            snapshot.published = stats.delivered;
            snapshot.dropped = stats.dropped.saturating_sub(failed);
        } else {
            snapshot.published = stats.delivered + ok;
            snapshot.dropped = stats.dropped;
        }
        snapshot.failed = failed;
        snapshot.retried = stats.retried;
        snapshot
    }

    /// The live counters this publisher shares with the parts of the app that report to it.
    ///
    /// ```
    /// let publisher = instant_core::testing::RecordingBackend::new().publisher("s");
    /// publisher.metrics_handle().record_subscription();
    /// assert_eq!(publisher.metrics().subscriptions, 1);
    /// ```
    #[must_use]
    pub fn metrics_handle(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// The health of each Centrifugo node the backend publishes through (address, circuit-breaker
    /// state, consecutive failures); empty with the embedded server.
    #[must_use]
    pub fn node_health(&self) -> Vec<NodeHealth> {
        self.backend.node_health()
    }

    /// Resolves when every fire-and-forget event published before the call has been delivered or
    /// dropped: call it on graceful shutdown, after the server stops, so that queued events are
    /// not lost at exit. Events dropped meanwhile are counted in [`Publisher::stats`].
    pub async fn flush(&self) {
        self.backend.flush().await;
    }

    /// Makes this publisher the one [`publish`] uses. Returns `false` when one was installed already.
    pub fn install_global(&self) -> bool {
        GLOBAL.set(self.clone()).is_ok()
    }

    /// The publisher installed with [`Publisher::install_global`].
    #[must_use]
    pub fn global() -> Option<&'static Self> {
        GLOBAL.get()
    }
}

static GLOBAL: OnceLock<Publisher> = OnceLock::new();

/// Publishes `message` on `channel` through the app's publisher, the seed's call:
/// `publish(channel, message).event_class("info").data(json!({..})).await?`.
///
/// Before a global publisher is installed ([`Publisher::install_global`]), awaiting it returns
/// [`PublishError::NotRunning`].
pub fn publish(channel: impl Into<String>, message: impl Into<String>) -> GlobalPublish {
    GlobalPublish {
        publisher: Publisher::global(),
        event: Event::new(
            Publisher::global().map_or("", |p| p.site()),
            channel,
            message,
        ),
    }
}

/// An event being built by [`Publisher::publish`].
#[must_use = "an event is sent only when awaited or detached"]
pub struct Publish<'a> {
    backend: &'a dyn Backend,
    metrics: &'a Metrics,
    event: Event,
    /// Data given as JSON text, which takes the place of `event.data`.
    json_data: Option<&'a RawValue>,
}

impl fmt::Debug for Publish<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Publish")
            .field("event", &self.event)
            .field("json_data", &self.json_data)
            .finish_non_exhaustive()
    }
}

impl<'a> Publish<'a> {
    /// Sets the event class (the seed's vocabulary: `info`, `ok`, `warning`, `object created`, …).
    pub fn event_class(mut self, event_class: impl Into<String>) -> Self {
        self.event.event_class = event_class.into();
        self
    }

    /// Attaches JSON data.
    pub fn data(mut self, data: Value) -> Self {
        self.event.data = data;
        self.json_data = None;
        self
    }

    /// Attaches data that is JSON text already, such as the body of a JSON response: a backend
    /// that sends events as JSON (the embedded server) writes it in as it is, never reading it
    /// into a [`Value`]; the others read it. It replaces data given with [`Publish::data`], and
    /// [`Publish::event`] shows `null` in its place.
    ///
    /// ```
    /// use instant_core::testing::RecordingBackend;
    /// use serde_json::value::RawValue;
    ///
    /// let recorder = RecordingBackend::new();
    /// let body: &RawValue = serde_json::from_str(r#"{"id":7,"status":"created"}"#).unwrap();
    /// recorder.publisher("s").publish("news", "New order").json_data(body).detach();
    /// assert_eq!(recorder.events()[0].data["id"], 7);
    /// ```
    pub fn json_data(mut self, data: &'a RawValue) -> Self {
        self.event.data = Value::Null;
        self.json_data = Some(data);
        self
    }

    /// Sends the event to every tab but the sender's: `sender` is the client id the injected
    /// client sent with the request being handled ([`ClientId`]; in an actix-web handler, the
    /// `instant::middleware::Sender` extractor), and the injected client of that tab skips the
    /// event. With `None` (a request not sent by the injected client) everyone gets it.
    ///
    /// ```
    /// use instant_core::sender::ClientId;
    /// use instant_core::testing::RecordingBackend;
    ///
    /// let recorder = RecordingBackend::new();
    /// let sender = ClientId::parse("6f1c3e52-8d0a-4c7e-9a55-0e4b1f7d2c11");
    /// recorder.publisher("s").publish("chat", "Hi").to_others(sender).detach();
    /// assert_eq!(recorder.events()[0].sender.as_deref(), Some("6f1c3e52-8d0a-4c7e-9a55-0e4b1f7d2c11"));
    /// ```
    pub fn to_others(mut self, sender: impl Into<Option<ClientId>>) -> Self {
        self.event.sender = sender.into().map(|id| id.as_str().to_owned());
        self
    }

    /// Sends the event without waiting; failures are logged and counted.
    pub fn detach(self) {
        tracing::debug!(channel = %self.event.channel, uid = %self.event.uid, "instant: publish (fire-and-forget)");
        match self.json_data {
            Some(data) => self.backend.publish_json_data_detached(self.event, data),
            None => self.backend.publish_detached(self.event),
        }
    }

    /// The event as built so far.
    #[must_use]
    pub fn event(&self) -> &Event {
        &self.event
    }
}

impl<'a> IntoFuture for Publish<'a> {
    type Output = Result<PublishReceipt, PublishError>;
    type IntoFuture = BoxFuture<'a, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(counted(
            self.metrics,
            self.backend,
            self.event,
            self.json_data,
        ))
    }
}

/// `publish` inside an `instant.publish` span, counted in `metrics` and logged when it fails.
async fn counted(
    metrics: &Metrics,
    backend: &dyn Backend,
    event: Event,
    json_data: Option<&RawValue>,
) -> Result<PublishReceipt, PublishError> {
    let span = tracing::debug_span!("instant.publish", channel = %event.channel, uid = %event.uid);
    let publish = match json_data {
        Some(data) => backend.publish_json_data(event, data),
        None => backend.publish(event),
    };
    let result = tracing::Instrument::instrument(publish, span.clone()).await;
    let _entered = span.enter();
    match &result {
        Ok(receipt) => {
            metrics.awaited_ok.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(offset = ?receipt.offset, "instant: published");
        }
        Err(error) => {
            metrics.awaited_failed.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(%error, transient = error.is_transient(), "instant: publish failed");
        }
    }
    result
}

/// An event being built by [`publish`].
#[must_use = "an event is sent only when awaited or detached"]
#[derive(Debug)]
pub struct GlobalPublish {
    publisher: Option<&'static Publisher>,
    event: Event,
}

impl GlobalPublish {
    /// Sends the event to every tab but the sender's, as [`Publish::to_others`].
    ///
    /// ```
    /// # fn handler(sender: Option<instant_core::sender::ClientId>) {
    /// // In a request handler, with the app's publisher installed as the global one:
    /// instant_core::publish("chat", "Hi").to_others(sender).detach();
    /// # }
    /// ```
    pub fn to_others(mut self, sender: impl Into<Option<ClientId>>) -> Self {
        self.event.sender = sender.into().map(|id| id.as_str().to_owned());
        self
    }

    /// Sets the event class.
    pub fn event_class(mut self, event_class: impl Into<String>) -> Self {
        self.event.event_class = event_class.into();
        self
    }

    /// Attaches JSON data.
    pub fn data(mut self, data: Value) -> Self {
        self.event.data = data;
        self
    }

    /// Sends the event without waiting. Returns `false`, and logs, when no publisher is set up.
    pub fn detach(self) -> bool {
        match self.publisher {
            Some(publisher) => {
                publisher.backend.publish_detached(self.event);
                true
            }
            None => {
                tracing::error!(channel = %self.event.channel, "no global publisher is installed: event dropped; call `realtime.install_global_publisher()` or `Publisher::install_global`");
                false
            }
        }
    }
}

impl IntoFuture for GlobalPublish {
    type Output = Result<PublishReceipt, PublishError>;
    type IntoFuture = BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        match self.publisher {
            Some(publisher) => Box::pin(publisher.publish_event(self.event)),
            None => Box::pin(std::future::ready(Err(PublishError::NotRunning(
                "no global publisher is installed: call `realtime.install_global_publisher()` once after `Realtime::builder()...build()?`, or `Publisher::install_global`".into(),
            )))),
        }
    }
}
