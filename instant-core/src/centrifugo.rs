//! A client of Centrifugo v6's HTTP API, on `awc`.
//!
//! `awc`'s client is not `Send`, while a [`Backend`] must be shared across threads, so the client
//! lives on a dedicated thread with its own actix-rt system. Callers talk to it through bounded
//! queues: awaited calls carry a reply channel, fire-and-forget events are drained into
//! `/api/batch` requests. The thread keeps its HTTP connections alive and reuses them, so a burst
//! of events costs one connection, not one per event.
//!
//! Awaiting works from any async runtime (tokio, actix, or a plain executor): the caller only
//! awaits channels, never the HTTP client itself.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

use crate::backend::{Backend, BoxFuture, DeliveryStats, PublishError, PublishReceipt};
use crate::config::{Config, ConfigError, Secret};
use crate::event::Event;

/// The largest response body read (history and presence answers can be large).
const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// Tuning of a [`CentrifugoClient`]; the defaults suit most apps.
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
    /// How many awaited calls may wait for the worker thread before callers wait to enqueue.
    pub request_queue_capacity: usize,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            queue_capacity: 16_384,
            max_batch: 500,
            max_retries: 5,
            retry_delay: Duration::from_millis(100),
            request_queue_capacity: 1024,
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
    /// What was published (an [`Event`] when `instant` published it).
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

/// Publishes events to Centrifugo v6 through its HTTP API, awaited or fire-and-forget.
///
/// Cheap to clone; clones share the worker thread, the connection pool, the queue and the counters.
/// The thread stops when the last clone is dropped, after sending what is queued.
///
/// # Fire-and-forget delivery and overflow
///
/// [`Backend::publish_detached`] never blocks and never fails: it puts the event in a bounded
/// queue ([`ClientOptions::queue_capacity`], 16,384 by default) and returns. The worker sends queued
/// events in order, many per `/api/batch` request (`parallel: false`, so Centrifugo applies them
/// in order). A batch that fails for a transient reason (Centrifugo unreachable, a timeout, an
/// internal error) is tried again after a delay that doubles each time, up to
/// [`ClientOptions::max_retries`] times; then its events are dropped. An event Centrifugo refuses
/// for good (unknown channel, bad request, refused API key) is dropped at once.
///
/// **When the queue is full** (Centrifugo is down or slower than the app for long enough), new
/// events are dropped on arrival, not older ones. Every drop is counted in [`DeliveryStats::dropped`]
/// and logged at `warn` level at most once per second, with the number dropped since the last
/// line. Events still queued when the process exits are lost; call [`CentrifugoClient::flush`]
/// before a graceful shutdown.
///
/// Use an awaited publish where the caller must know the outcome.
#[derive(Clone)]
pub struct CentrifugoClient {
    shared: Arc<Shared>,
}

struct Shared {
    url: String,
    timeout: Duration,
    requests: mpsc::Sender<Request>,
    detached: mpsc::Sender<Detached>,
    counters: Arc<Counters>,
}

impl fmt::Debug for CentrifugoClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CentrifugoClient")
            .field("url", &self.shared.url)
            .field("timeout", &self.shared.timeout)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

/// An awaited API call.
struct Request {
    method: &'static str,
    body: Value,
    deadline: Instant,
    reply: oneshot::Sender<Result<Value, PublishError>>,
}

/// What the fire-and-forget queue carries.
enum Detached {
    Event(Box<Event>),
    Flush(oneshot::Sender<()>),
}

#[derive(Debug, Default)]
struct Counters {
    queued: AtomicU64,
    delivered: AtomicU64,
    dropped: AtomicU64,
    retried: AtomicU64,
    /// Drops not yet reported in a log line, and when the last line was written (ms since start).
    unreported_drops: AtomicU64,
    last_drop_log_ms: AtomicU64,
    started: std::sync::OnceLock<Instant>,
}

impl Counters {
    fn drop_events(&self, count: u64, why: &str) {
        if count == 0 {
            return;
        }
        self.dropped.fetch_add(count, Ordering::Relaxed);
        self.unreported_drops.fetch_add(count, Ordering::Relaxed);
        // Rate-limited: at most one line per second, whatever the drop rate.
        let started = *self.started.get_or_init(Instant::now);
        let now_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let last = self.last_drop_log_ms.load(Ordering::Relaxed);
        let due = last == 0 || now_ms.saturating_sub(last) >= 1000;
        if due
            && self
                .last_drop_log_ms
                .compare_exchange(last, now_ms.max(1), Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            let unreported = self.unreported_drops.swap(0, Ordering::Relaxed);
            tracing::warn!(
                dropped = unreported,
                dropped_total = self.dropped.load(Ordering::Relaxed),
                reason = why,
                "instant: fire-and-forget events dropped"
            );
        }
    }
}

impl CentrifugoClient {
    /// A client for the Centrifugo at [`Config::centrifugo_url`] with [`Config::api_key`], with
    /// default [`ClientOptions`]. Starts the worker thread.
    ///
    /// # Errors
    /// [`ConfigError::Missing`] when the configuration has no Centrifugo URL or no API key.
    pub fn new(config: &Config) -> Result<Self, ConfigError> {
        Self::with_options(config, ClientOptions::default())
    }

    /// As [`CentrifugoClient::new`], with tuned options.
    ///
    /// # Errors
    /// [`ConfigError::Missing`] when the configuration has no Centrifugo URL or no API key.
    pub fn with_options(config: &Config, options: ClientOptions) -> Result<Self, ConfigError> {
        let url = config
            .centrifugo_url()
            .ok_or_else(|| ConfigError::Missing {
                key: "INSTANT_CENTRIFUGO_URL".to_owned(),
                reason:
                    "publishing through Centrifugo needs its URL (centrifugo_url in instant.toml)"
                        .to_owned(),
            })?
            .to_owned();
        let api_key = config.api_key().cloned().ok_or_else(|| ConfigError::Missing {
            key: "INSTANT_CENTRIFUGO_API_KEY".to_owned(),
            reason: "publishing through Centrifugo needs its http_api.key (centrifugo_api_key in instant.toml)"
                .to_owned(),
        })?;
        let timeout = config.publish_timeout();
        let (requests, requests_rx) = mpsc::channel(options.request_queue_capacity.max(1));
        let (detached, detached_rx) = mpsc::channel(options.queue_capacity.max(1));
        let counters = Arc::new(Counters::default());
        let worker = Worker {
            url: url.clone(),
            api_key,
            timeout,
            options,
            counters: Arc::clone(&counters),
        };
        std::thread::Builder::new()
            .name("instant-centrifugo".to_owned())
            .spawn(move || worker.run(requests_rx, detached_rx))
            .map_err(|e| ConfigError::Invalid {
                key: "INSTANT_CENTRIFUGO_URL".to_owned(),
                reason: format!("cannot start the publishing thread: {e}"),
            })?;
        Ok(Self {
            shared: Arc::new(Shared {
                url,
                timeout,
                requests,
                detached,
                counters,
            }),
        })
    }

    /// Centrifugo's base URL.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.shared.url
    }

    /// Calls any API method (`POST /api/{method}`) with a JSON object and returns its `result`.
    ///
    /// # Errors
    /// [`PublishError`]: unreachable, timeout, refused key, a Centrifugo error code, or an answer
    /// that is not JSON.
    pub async fn call(&self, method: &'static str, params: Value) -> Result<Value, PublishError> {
        if !params.is_object() {
            return Err(PublishError::BadInput(
                "API parameters must be a JSON object".to_owned(),
            ));
        }
        let (reply, answer) = oneshot::channel();
        let request = Request {
            method,
            body: params,
            deadline: Instant::now() + self.shared.timeout,
            reply,
        };
        self.shared
            .requests
            .send(request)
            .await
            .map_err(|_| not_running())?;
        answer.await.map_err(|_| not_running())?
    }

    /// Publishes one event on its channel and waits for Centrifugo's answer.
    ///
    /// # Errors
    /// As [`CentrifugoClient::call`], and [`PublishError::BadInput`] for an empty channel name.
    pub async fn publish_event(&self, event: &Event) -> Result<PublishReceipt, PublishError> {
        check_channel(&event.channel)?;
        let result = self.call("publish", publish_params(event)?).await?;
        Ok(receipt(&result))
    }

    /// Publishes one event on several channels in one request; the outer error is about the
    /// request, the inner ones about each channel, in the order given.
    ///
    /// # Errors
    /// As [`CentrifugoClient::call`].
    pub async fn broadcast<I, S>(
        &self,
        channels: I,
        event: &Event,
    ) -> Result<Vec<Result<PublishReceipt, PublishError>>, PublishError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let channels: Vec<String> = channels.into_iter().map(Into::into).collect();
        for channel in &channels {
            check_channel(channel)?;
        }
        let data = event_data(event)?;
        let result = self
            .call("broadcast", json!({ "channels": channels, "data": data }))
            .await?;
        let responses = result
            .get("responses")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        Ok(responses
            .iter()
            .map(|response| match server_error(response) {
                Some(error) => Err(error),
                // `receipt` looks inside `result` itself.
                None => Ok(receipt(response)),
            })
            .collect())
    }

    /// Publishes several events, each on its own channel, in one ordered `/api/batch` request;
    /// the outer error is about the request, the inner ones about each event, in order.
    ///
    /// # Errors
    /// As [`CentrifugoClient::call`].
    pub async fn batch(
        &self,
        events: &[Event],
    ) -> Result<Vec<Result<PublishReceipt, PublishError>>, PublishError> {
        let body = batch_body(events.iter())?;
        let result = self.call("batch", body).await?;
        parse_batch_replies(&result, events.len())
    }

    /// The clients subscribed to `channel`, by client id (the channel needs `presence`).
    ///
    /// # Errors
    /// As [`CentrifugoClient::call`]; code 108 when presence is off for the channel.
    pub async fn presence(
        &self,
        channel: &str,
    ) -> Result<HashMap<String, ClientInfo>, PublishError> {
        check_channel(channel)?;
        let result = self.call("presence", json!({ "channel": channel })).await?;
        decode(result.get("presence").cloned().unwrap_or_else(|| json!({})))
    }

    /// How many clients and users are subscribed to `channel` (the channel needs `presence`).
    ///
    /// # Errors
    /// As [`CentrifugoClient::call`]; code 108 when presence is off for the channel.
    pub async fn presence_stats(&self, channel: &str) -> Result<PresenceStats, PublishError> {
        check_channel(channel)?;
        decode(
            self.call("presence_stats", json!({ "channel": channel }))
                .await?,
        )
    }

    /// The last `limit` publications of `channel` (the channel needs `history_size` and
    /// `history_ttl`).
    ///
    /// # Errors
    /// As [`CentrifugoClient::call`]; code 108 when history is off for the channel.
    pub async fn history(&self, channel: &str, limit: u32) -> Result<History, PublishError> {
        check_channel(channel)?;
        decode(
            self.call("history", json!({ "channel": channel, "limit": limit }))
                .await?,
        )
    }

    /// Information about the Centrifugo nodes; a cheap way to check the URL and the key.
    ///
    /// # Errors
    /// As [`CentrifugoClient::call`].
    pub async fn info(&self) -> Result<ServerInfo, PublishError> {
        decode(self.call("info", json!({})).await?)
    }

    /// Resolves when every fire-and-forget event queued before this call has been delivered or
    /// dropped.
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self
            .shared
            .detached
            .send(Detached::Flush(done))
            .await
            .is_ok()
        {
            let _ = wait.await;
        }
    }
}

impl Backend for CentrifugoClient {
    fn publish(&self, event: Event) -> BoxFuture<'_, Result<PublishReceipt, PublishError>> {
        Box::pin(async move { self.publish_event(&event).await })
    }

    /// Queues the event without blocking; see the overflow rules on [`CentrifugoClient`].
    fn publish_detached(&self, event: Event) {
        let counters = &self.shared.counters;
        counters.queued.fetch_add(1, Ordering::Relaxed);
        if event.channel.is_empty() {
            counters.drop_events(1, "empty channel name");
            return;
        }
        match self
            .shared
            .detached
            .try_send(Detached::Event(Box::new(event)))
        {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => counters.drop_events(1, "queue full"),
            Err(mpsc::error::TrySendError::Closed(_)) => {
                counters.drop_events(1, "publishing thread stopped");
            }
        }
    }

    fn stats(&self) -> DeliveryStats {
        let c = &self.shared.counters;
        DeliveryStats {
            queued: c.queued.load(Ordering::Relaxed),
            delivered: c.delivered.load(Ordering::Relaxed),
            dropped: c.dropped.load(Ordering::Relaxed),
            retried: c.retried.load(Ordering::Relaxed),
        }
    }
}

fn not_running() -> PublishError {
    PublishError::NotRunning("the Centrifugo publishing thread has stopped".to_owned())
}

fn check_channel(channel: &str) -> Result<(), PublishError> {
    if channel.is_empty() {
        return Err(PublishError::BadInput(
            "the channel name is empty".to_owned(),
        ));
    }
    Ok(())
}

/// The event as the publication's data: a JSON object, never a string holding JSON.
fn event_data(event: &Event) -> Result<Value, PublishError> {
    serde_json::to_value(event).map_err(|e| PublishError::BadInput(e.to_string()))
}

fn publish_params(event: &Event) -> Result<Value, PublishError> {
    Ok(json!({ "channel": event.channel, "data": event_data(event)? }))
}

fn batch_body<'a>(events: impl Iterator<Item = &'a Event>) -> Result<Value, PublishError> {
    let commands = events
        .map(|event| {
            check_channel(&event.channel)?;
            Ok(json!({ "publish": publish_params(event)? }))
        })
        .collect::<Result<Vec<_>, PublishError>>()?;
    Ok(json!({ "commands": commands, "parallel": false }))
}

fn parse_batch_replies(
    result: &Value,
    expected: usize,
) -> Result<Vec<Result<PublishReceipt, PublishError>>, PublishError> {
    let replies = result
        .get("replies")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            PublishError::UnexpectedResponse("a batch answer without replies".to_owned())
        })?;
    if replies.len() != expected {
        return Err(PublishError::UnexpectedResponse(format!(
            "{} replies to a batch of {expected}",
            replies.len()
        )));
    }
    Ok(replies
        .iter()
        .map(|reply| match server_error(reply) {
            Some(error) => Err(error),
            None => Ok(receipt(reply.get("publish").unwrap_or(reply))),
        })
        .collect())
}

fn receipt(result: &Value) -> PublishReceipt {
    let result = result.get("result").unwrap_or(result);
    PublishReceipt {
        offset: result.get("offset").and_then(Value::as_u64),
        epoch: result
            .get("epoch")
            .and_then(Value::as_str)
            .filter(|e| !e.is_empty())
            .map(str::to_owned),
    }
}

/// `{"error":{"code","message"}}` (default error mode, batch replies) or `{"code","message"}`
/// (transport error mode bodies).
fn server_error(body: &Value) -> Option<PublishError> {
    let error = body.get("error").unwrap_or(body);
    let code = error.get("code")?.as_u64()?;
    let message = error
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    Some(PublishError::Server {
        code: u32::try_from(code).unwrap_or(u32::MAX),
        message,
    })
}

fn decode<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, PublishError> {
    serde_json::from_value(value).map_err(|e| PublishError::UnexpectedResponse(e.to_string()))
}

/// Interprets an HTTP answer of the API.
fn interpret(status: u16, body: &[u8], url: &str) -> Result<Value, PublishError> {
    if status == 401 {
        return Err(PublishError::Unauthorized);
    }
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    if let Some(error) = parsed.as_ref().and_then(server_error) {
        return Err(error);
    }
    match (status, parsed) {
        (200, Some(Value::Object(mut object))) => {
            Ok(object.remove("result").unwrap_or(Value::Object(object)))
        }
        (200, _) => Err(PublishError::UnexpectedResponse(
            "the answer is not a JSON object".to_owned(),
        )),
        // A proxy in front of Centrifugo saying it cannot reach it: worth retrying.
        (502..=504, _) => Err(PublishError::Unreachable {
            url: url.to_owned(),
            reason: format!("HTTP {status} from a proxy in front of Centrifugo"),
        }),
        (status, _) => Err(PublishError::UnexpectedResponse(format!(
            "HTTP {status}: {}",
            String::from_utf8_lossy(&body[..body.len().min(200)]).trim()
        ))),
    }
}

/// The state of the worker thread.
struct Worker {
    url: String,
    api_key: Secret,
    timeout: Duration,
    options: ClientOptions,
    counters: Arc<Counters>,
}

impl Worker {
    fn run(self, requests: mpsc::Receiver<Request>, detached: mpsc::Receiver<Detached>) {
        let system = actix_rt::System::new();
        system.block_on(async move {
            let client = awc::Client::builder()
                .connector(
                    awc::Connector::new()
                        .timeout(self.timeout)
                        .conn_keep_alive(Duration::from_secs(15)),
                )
                .disable_timeout()
                .finish();
            let worker = std::rc::Rc::new(self);
            tokio::join!(
                serve_requests(std::rc::Rc::clone(&worker), client.clone(), requests),
                serve_detached(worker, client, detached),
            );
        });
    }

    async fn post(
        &self,
        client: &awc::Client,
        method: &str,
        body: &Value,
        deadline: Instant,
    ) -> Result<Value, PublishError> {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(PublishError::Timeout(self.timeout));
        }
        let url = format!("{}/api/{method}", self.url);
        let exchange = async {
            let mut response = client
                .post(&url)
                .insert_header(("X-API-Key", self.api_key.expose_secret()))
                .insert_header(("X-Centrifugo-Error-Mode", "transport"))
                .insert_header(("Content-Type", "application/json"))
                .send_body(body.to_string())
                .await
                .map_err(|e| self.send_error(&e))?;
            let bytes = response
                .body()
                .limit(MAX_RESPONSE_BYTES)
                .await
                .map_err(|e| PublishError::UnexpectedResponse(e.to_string()))?;
            interpret(response.status().as_u16(), &bytes, &self.url)
        };
        actix_rt::time::timeout(remaining, exchange)
            .await
            .unwrap_or(Err(PublishError::Timeout(self.timeout)))
    }

    fn send_error(&self, error: &awc::error::SendRequestError) -> PublishError {
        use awc::error::{ConnectError, SendRequestError};
        match error {
            SendRequestError::Timeout | SendRequestError::Connect(ConnectError::Timeout) => {
                PublishError::Timeout(self.timeout)
            }
            SendRequestError::Url(e) => PublishError::BadInput(e.to_string()),
            SendRequestError::Response(e) => PublishError::UnexpectedResponse(e.to_string()),
            other => PublishError::Unreachable {
                url: self.url.clone(),
                reason: other.to_string(),
            },
        }
    }

    /// Sends one batch of fire-and-forget events, retrying transient failures.
    async fn deliver(&self, client: &awc::Client, events: Vec<Event>) {
        let mut pending = events;
        let mut attempt = 0u32;
        loop {
            let outcome = match batch_body(pending.iter()) {
                Ok(body) => {
                    let deadline = Instant::now() + self.timeout;
                    match self.post(client, "batch", &body, deadline).await {
                        Ok(result) => parse_batch_replies(&result, pending.len()),
                        Err(error) => Err(error),
                    }
                }
                Err(error) => Err(error),
            };
            let retry: Vec<Event> = match outcome {
                Ok(replies) => {
                    let mut retry = Vec::new();
                    let mut delivered = 0;
                    for (event, reply) in pending.into_iter().zip(replies) {
                        match reply {
                            Ok(_) => delivered += 1,
                            Err(error) if error.is_transient() => retry.push(event),
                            Err(error) => {
                                tracing::warn!(channel = %event.channel, %error, "instant: Centrifugo refused an event");
                                self.counters.drop_events(1, "refused by Centrifugo");
                            }
                        }
                    }
                    self.counters
                        .delivered
                        .fetch_add(delivered, Ordering::Relaxed);
                    retry
                }
                Err(error) if error.is_transient() => {
                    tracing::debug!(%error, events = pending.len(), attempt, "instant: batch failed, will retry");
                    pending
                }
                Err(error) => {
                    tracing::warn!(%error, events = pending.len(), "instant: Centrifugo refused a batch");
                    self.counters
                        .drop_events(pending.len() as u64, "refused by Centrifugo");
                    return;
                }
            };
            if retry.is_empty() {
                return;
            }
            if attempt >= self.options.max_retries {
                self.counters
                    .drop_events(retry.len() as u64, "retries exhausted");
                return;
            }
            self.counters
                .retried
                .fetch_add(retry.len() as u64, Ordering::Relaxed);
            let delay = self
                .options
                .retry_delay
                .saturating_mul(1 << attempt.min(16));
            actix_rt::time::sleep(delay.min(Duration::from_secs(30))).await;
            attempt += 1;
            pending = retry;
        }
    }
}

async fn serve_requests(
    worker: std::rc::Rc<Worker>,
    client: awc::Client,
    mut requests: mpsc::Receiver<Request>,
) {
    while let Some(request) = requests.recv().await {
        let worker = std::rc::Rc::clone(&worker);
        let client = client.clone();
        // Each call runs concurrently; the connector pools and reuses connections between them.
        actix_rt::spawn(async move {
            let result = worker
                .post(&client, request.method, &request.body, request.deadline)
                .await;
            let _ = request.reply.send(result);
        });
    }
}

async fn serve_detached(
    worker: std::rc::Rc<Worker>,
    client: awc::Client,
    mut queue: mpsc::Receiver<Detached>,
) {
    let max_batch = worker.options.max_batch.max(1);
    let mut batch: Vec<Event> = Vec::with_capacity(max_batch);
    let mut flushes: Vec<oneshot::Sender<()>> = Vec::new();
    while let Some(first) = queue.recv().await {
        let mut next = Some(first);
        // Take what is already queued, up to a full batch, without waiting for more.
        while let Some(item) = next.take() {
            match item {
                Detached::Event(event) => batch.push(*event),
                // A flush waits for the events queued before it: stop the batch here.
                Detached::Flush(done) => {
                    flushes.push(done);
                    break;
                }
            }
            if batch.len() >= max_batch {
                break;
            }
            next = queue.try_recv().ok();
        }
        if !batch.is_empty() {
            worker
                .deliver(
                    &client,
                    std::mem::replace(&mut batch, Vec::with_capacity(max_batch)),
                )
                .await;
        }
        for done in flushes.drain(..) {
            let _ = done.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_interpreted() {
        assert_eq!(interpret(401, b"", "u"), Err(PublishError::Unauthorized));
        assert_eq!(
            interpret(200, br#"{"result":{"offset":3,"epoch":"x"}}"#, "u").map(|v| receipt(&v)),
            Ok(PublishReceipt {
                offset: Some(3),
                epoch: Some("x".to_owned())
            })
        );
        assert_eq!(
            interpret(
                200,
                br#"{"error":{"code":102,"message":"unknown channel"}}"#,
                "u"
            ),
            Err(PublishError::Server {
                code: 102,
                message: "unknown channel".to_owned()
            })
        );
        assert_eq!(
            interpret(404, br#"{"code":102,"message":"unknown channel"}"#, "u"),
            Err(PublishError::Server {
                code: 102,
                message: "unknown channel".to_owned()
            })
        );
        assert!(matches!(
            interpret(503, b"<html>down</html>", "u"),
            Err(PublishError::Unreachable { .. })
        ));
        assert!(matches!(
            interpret(500, b"oops", "u"),
            Err(PublishError::UnexpectedResponse(m)) if m.contains("500")
        ));
        assert!(matches!(
            interpret(200, b"not json", "u"),
            Err(PublishError::UnexpectedResponse(_))
        ));
        assert_eq!(interpret(200, br#"{"result":{}}"#, "u"), Ok(json!({})));
    }

    #[test]
    fn batch_replies_are_matched_to_events() {
        let replies = json!({"replies": [{"publish": {}}, {"error": {"code": 102, "message": "unknown channel"}}, {"publish": {"offset": 5, "epoch": "e"}}]});
        let parsed = parse_batch_replies(&replies, 3).unwrap();
        assert_eq!(parsed[0], Ok(PublishReceipt::default()));
        assert!(matches!(
            parsed[1],
            Err(PublishError::Server { code: 102, .. })
        ));
        assert_eq!(parsed[2].as_ref().unwrap().offset, Some(5));
        assert!(parse_batch_replies(&replies, 2).is_err());
    }

    #[test]
    fn data_is_the_event_object_not_a_string() {
        let event = Event::new("site", "news", "hi").with_data(json!({"n": 1}));
        let params = publish_params(&event).unwrap();
        assert_eq!(params["channel"], "news");
        assert!(params["data"].is_object());
        assert_eq!(params["data"]["data"]["n"], 1);
        assert_eq!(params["data"]["uid"], event.uid);
        let body = batch_body([event].iter()).unwrap();
        assert_eq!(body["parallel"], false);
        assert!(body["commands"][0]["publish"]["data"].is_object());
    }

    #[test]
    fn new_needs_url_and_key() {
        let embedded = Config::builder().build().unwrap();
        assert_eq!(
            CentrifugoClient::new(&embedded).unwrap_err().key(),
            Some("INSTANT_CENTRIFUGO_URL")
        );
        let no_key = Config::builder()
            .secret("s")
            .centrifugo_url("http://127.0.0.1:9")
            .build()
            .unwrap();
        assert_eq!(
            CentrifugoClient::new(&no_key).unwrap_err().key(),
            Some("INSTANT_CENTRIFUGO_API_KEY")
        );
    }

    fn unreachable_config() -> Config {
        // A port that was free a moment ago: nothing listens there, connecting is refused.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        Config::builder()
            .secret("s")
            .api_key("k")
            .centrifugo_url(format!("http://127.0.0.1:{port}"))
            .publish_timeout(Duration::from_secs(3))
            .build()
            .unwrap()
    }

    #[test]
    fn an_unreachable_server_is_a_typed_error_from_a_tokio_runtime() {
        let client = CentrifugoClient::new(&unreachable_config()).unwrap();
        let outcome = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(client.publish_event(&Event::new("s", "c", "m")));
        assert!(
            matches!(outcome, Err(PublishError::Unreachable { .. })),
            "{outcome:?}"
        );
        assert!(outcome.unwrap_err().is_transient());
    }

    #[test]
    fn detached_events_are_dropped_and_counted_when_the_queue_is_full() {
        let client = CentrifugoClient::with_options(
            &unreachable_config(),
            ClientOptions::default()
                .queue_capacity(4)
                .max_batch(1)
                .max_retries(1)
                .retry_delay(Duration::from_millis(10)),
        )
        .unwrap();
        for i in 0..100 {
            client.publish_detached(Event::new("s", "c", format!("{i}")));
        }
        client.publish_detached(Event::new("s", "", "no channel"));
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(client.flush());
        let stats = client.stats();
        assert_eq!(stats.queued, 101);
        assert_eq!(stats.delivered, 0);
        assert_eq!(stats.dropped, 101, "{stats:?}");
        assert!(stats.retried >= 1, "{stats:?}");
    }

    #[test]
    fn bad_input_is_refused_before_sending() {
        let client = CentrifugoClient::new(&unreachable_config()).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        assert!(matches!(
            rt.block_on(client.publish_event(&Event::new("s", "", "m"))),
            Err(PublishError::BadInput(_))
        ));
        assert!(matches!(
            rt.block_on(client.call("publish", json!([]))),
            Err(PublishError::BadInput(_))
        ));
    }

    /// A loopback HTTP/1.1 server answering every request with `answer`, keeping connections
    /// open; reports each connection accepted and each request's head.
    fn fake_server(answer: &'static str) -> (String, mpsc::UnboundedReceiver<String>) {
        use std::io::{BufRead as _, BufReader, Read as _, Write as _};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (seen, heads) = mpsc::unbounded_channel();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let seen = seen.clone();
                let _ = seen.send("connection".to_owned());
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut writer = stream;
                    loop {
                        let mut head = String::new();
                        loop {
                            let mut line = String::new();
                            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                                return;
                            }
                            if line == "\r\n" {
                                break;
                            }
                            head.push_str(&line);
                        }
                        let length = head
                            .lines()
                            .find_map(|l| {
                                let (name, value) = l.split_once(':')?;
                                name.eq_ignore_ascii_case("content-length")
                                    .then(|| value.trim().parse::<usize>().ok())?
                            })
                            .unwrap_or(0);
                        let mut body = vec![0; length];
                        reader.read_exact(&mut body).unwrap();
                        let _ = seen.send(head);
                        if answer.is_empty() {
                            continue; // never answer
                        }
                        let response = format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{answer}",
                            answer.len()
                        );
                        writer.write_all(response.as_bytes()).unwrap();
                    }
                });
            }
        });
        (url, heads)
    }

    fn config_for(url: &str, timeout: Duration) -> Config {
        Config::builder()
            .secret("s")
            .api_key("the-api-key")
            .centrifugo_url(url)
            .publish_timeout(timeout)
            .build()
            .unwrap()
    }

    #[test]
    fn requests_carry_the_key_and_reuse_one_kept_alive_connection() {
        let (url, mut seen) = fake_server(r#"{"result":{}}"#);
        let client = CentrifugoClient::new(&config_for(&url, Duration::from_secs(10))).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        for i in 0..20 {
            let receipt = rt
                .block_on(client.publish_event(&Event::new("s", "c", format!("{i}"))))
                .unwrap();
            assert_eq!(receipt, PublishReceipt::default());
        }
        let mut connections = 0;
        let mut heads = Vec::new();
        while let Ok(item) = seen.try_recv() {
            if item == "connection" {
                connections += 1;
            } else {
                heads.push(item.to_ascii_lowercase());
            }
        }
        assert_eq!(heads.len(), 20);
        assert_eq!(connections, 1, "one connection, kept alive and reused");
        assert!(
            heads[0].starts_with("post /api/publish http/1.1"),
            "{}",
            heads[0]
        );
        assert!(heads[0].contains("x-api-key: the-api-key"), "{}", heads[0]);
        assert!(
            heads[0].contains("x-centrifugo-error-mode: transport"),
            "{}",
            heads[0]
        );
    }

    #[test]
    fn a_server_that_does_not_answer_is_a_timeout() {
        let (url, _seen) = fake_server("");
        let client = CentrifugoClient::new(&config_for(&url, Duration::from_millis(300))).unwrap();
        let outcome =
            actix_rt::System::new().block_on(client.publish_event(&Event::new("s", "c", "m")));
        assert_eq!(
            outcome,
            Err(PublishError::Timeout(Duration::from_millis(300)))
        );
    }
}
