//! A client of Centrifugo v6's HTTP API, on `awc`.
//!
//! `awc`'s client is not `Send`, while a [`Backend`] must be shared across threads, so each
//! thread that sends has its own `awc` client:
//!
//! - **An awaited call made on an actix-rt thread** (an actix-web worker, `#[actix_web::main]`,
//!   an `actix_rt::System`) runs on that thread, as a local task with a thread-local `awc` client
//!   per [`CentrifugoClient`]; the caller awaits the task's handle, so the futures stay `Send`
//!   and no other thread is woken on the way there or back. Each such thread keeps its own
//!   kept-alive connections. The client of a dropped [`CentrifugoClient`] is released, with its
//!   connections, at the next awaited call made on that thread. Such a call needs its thread to
//!   run: do not block an actix-rt thread on it (`futures::executor::block_on` in a handler
//!   would wait forever); await it.
//! - **Any other awaited call** (a plain tokio runtime, another executor) goes to a dedicated
//!   thread with its own actix-rt system through a bounded queue and comes back through a reply
//!   channel: awaiting works from any async runtime, since the caller only awaits channels.
//! - **Fire-and-forget events** always go through that dedicated thread: a bounded queue drained
//!   into `/api/batch` requests.
//!
//! Both paths share the same call logic (node choice, circuit breakers, one retry on another
//! node, deadlines, counters) and keep their HTTP connections alive, so a burst of events costs
//! one connection per thread, not one per event.
//!
//! With several Centrifugo nodes ([`Config::centrifugo_urls`], a cluster sharing one Redis) the
//! requests go round robin over the nodes that answer, with a circuit breaker per node
//! ([`CentrifugoClient::node_health`]).

mod no_delay;
mod nodes;
mod types;
mod wire;
mod worker;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

use self::nodes::Nodes;
use self::wire::{
    Body, Read, Replies, batch_body, broadcast_body, check_channel, check_replies, decode,
    not_running, publish_body, read_batch, read_value, receipt, server_error, stream_positions_of,
};
use self::worker::{Caller, Counters, Detached, Queued, Request, Worker};
use crate::backend::{Backend, BoxFuture, DeliveryStats, NodeHealth, PublishError, PublishReceipt};
use crate::config::{Config, ConfigError};
use crate::event::Event;

pub use self::types::{
    ClientInfo, ClientOptions, History, HistoryPublication, NodeInfo, PresenceStats, ServerInfo,
};

/// Publishes events to Centrifugo v6 through its HTTP API, awaited or fire-and-forget.
///
/// Cheap to clone; clones share the worker thread and its connection pool, each actix-rt thread's
/// `awc` client, the queue, the nodes' breakers and the counters. The worker thread stops when
/// the last clone is dropped, after sending what is queued.
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
///
/// # Several nodes
///
/// Given several nodes ([`Config::centrifugo_urls`]: Centrifugo nodes sharing one Redis engine,
/// so that a publication on any of them reaches the subscribers of all), the client sends each
/// request to the next node, round robin, among those whose circuit breaker is closed. A node
/// that fails [`ClientOptions::failure_threshold`] times in a row for a transient reason
/// (unreachable, timeout, internal error) gets no requests for [`ClientOptions::open_delay`];
/// then one request probes it: an answer brings it back, a failure keeps it out for twice as long
/// (at most 30 seconds). [`CentrifugoClient::node_health`] reports each node's state.
///
/// Every publish carries the event's `uid` as Centrifugo's `idempotency_key`: a second publish
/// with the same key on the same channel, within Centrifugo's `idempotent_result_ttl` (five
/// minutes by default), returns the first one's result and is not delivered again. So:
///
/// - an awaited call that fails for a transient reason is tried once more on another node (a
///   publish, a broadcast, or a batch, all keyed by `uid`, and the methods that only read); each
///   attempt waits up to the publish timeout, so a call that moves to another node may take up
///   to twice [`Config::publish_timeout`];
/// - a fire-and-forget batch that fails moves at once to the next node not yet tried; the
///   doubling retry delay applies once every node has been tried, and
///   [`ClientOptions::max_retries`] counts these rounds.
///
/// A node that took a publish but failed before answering, then a retry on another node, still
/// delivers the event once: the nodes share the idempotency results through Redis.
#[derive(Clone)]
pub struct CentrifugoClient {
    shared: Arc<Shared>,
}

struct Shared {
    /// The nodes, key, timeout and counters, shared with the worker thread.
    caller: Arc<Caller>,
    requests: mpsc::Sender<Box<dyn Queued>>,
    detached: mpsc::Sender<Detached>,
}

impl fmt::Debug for CentrifugoClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CentrifugoClient")
            .field("urls", &self.shared.caller.nodes.urls().collect::<Vec<_>>())
            .field("timeout", &self.shared.caller.timeout)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl CentrifugoClient {
    /// A client for the Centrifugo nodes at [`Config::centrifugo_urls`] (often just
    /// [`Config::centrifugo_url`]) with [`Config::api_key`], with default [`ClientOptions`].
    /// Starts the worker thread.
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
        let urls = config.centrifugo_urls().to_vec();
        if urls.is_empty() {
            return Err(ConfigError::Missing {
                key: "INSTANT_CENTRIFUGO_URL".to_owned(),
                reason: "publishing through Centrifugo needs its URL (centrifugo_url in instant.toml, or centrifugo_urls for several nodes)"
                    .to_owned(),
            });
        }
        let api_key = config.api_key().cloned().ok_or_else(|| ConfigError::Missing {
            key: "INSTANT_CENTRIFUGO_API_KEY".to_owned(),
            reason: "publishing through Centrifugo needs its http_api.key (centrifugo_api_key in instant.toml)"
                .to_owned(),
        })?;
        let timeout = config.publish_timeout();
        let (requests, requests_rx) = mpsc::channel(options.request_queue_capacity.max(1));
        let (detached, detached_rx) = mpsc::channel(options.queue_capacity.max(1));
        let counters = Arc::new(Counters::default());
        let nodes = Arc::new(Nodes::new(
            urls,
            options.failure_threshold,
            options.open_delay,
        ));
        // Tells the thread-local `awc` clients of different instances apart.
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        let caller = Arc::new(Caller {
            nodes,
            api_key,
            timeout,
            counters,
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        });
        let worker = Worker {
            caller: Arc::clone(&caller),
            options,
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
                caller,
                requests,
                detached,
            }),
        })
    }

    /// The first node's base URL.
    #[must_use]
    pub fn url(&self) -> &str {
        self.shared.caller.nodes.url(0)
    }

    /// Every node's base URL, in the configured order.
    #[must_use]
    pub fn urls(&self) -> Vec<&str> {
        self.shared.caller.nodes.urls().collect()
    }

    /// Each node's health: its address, circuit-breaker state, consecutive transient failures,
    /// and how many requests it answered and failed; in the configured order.
    #[must_use]
    pub fn node_health(&self) -> Vec<NodeHealth> {
        self.shared.caller.nodes.health()
    }

    /// Calls any API method (`POST /api/{method}`) with a JSON object and returns its `result`.
    ///
    /// After a transient failure the call is tried once more on another node when that cannot
    /// apply it twice: a method that only reads (`presence`, `presence_stats`, `history`, `info`,
    /// `channels`), or a `publish`, `broadcast` or `batch` of publishes carrying an
    /// `idempotency_key`.
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
        self.send(method, Body::from_params(method, &params)?, read_value)
            .await
    }

    /// Makes one awaited call, its answer read by `read`: on the caller's own actix-rt thread
    /// when there is one, else through the worker thread's queue; waits for its answer.
    async fn send<T: Send + 'static>(
        &self,
        method: &'static str,
        body: Body,
        read: Read<T>,
    ) -> Result<T, PublishError> {
        let deadline = Instant::now() + self.shared.caller.timeout;
        if worker::on_actix_thread() {
            return worker::call_here(
                Arc::clone(&self.shared.caller),
                method,
                body,
                deadline,
                read,
            )
            .await;
        }
        let (reply, answer) = oneshot::channel();
        let request = Request {
            method,
            body,
            deadline,
            read,
            reply,
        };
        self.shared
            .requests
            .send(Box::new(request))
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
        let result = self
            .send("publish", publish_body(event)?, read_value)
            .await?;
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
        let result = self
            .send("broadcast", broadcast_body(&channels, event)?, read_value)
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
    pub async fn batch(&self, events: &[Event]) -> Result<Replies, PublishError> {
        let replies = self
            .send("batch", batch_body(events.iter())?, read_batch)
            .await?;
        check_replies(replies, events.len())
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
        let counters = &self.shared.caller.counters;
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
        let c = &self.shared.caller.counters;
        DeliveryStats {
            queued: c.queued.load(Ordering::Relaxed),
            delivered: c.delivered.load(Ordering::Relaxed),
            dropped: c.dropped.load(Ordering::Relaxed),
            retried: c.retried.load(Ordering::Relaxed),
        }
    }

    fn node_health(&self) -> Vec<NodeHealth> {
        CentrifugoClient::node_health(self)
    }

    fn flush(&self) -> BoxFuture<'_, ()> {
        Box::pin(CentrifugoClient::flush(self))
    }

    /// Centrifugo's `history` with limit 0: the position only; `None` when the channel keeps
    /// no history (108) or the call fails.
    fn stream_position<'a>(
        &'a self,
        channel: &'a str,
    ) -> BoxFuture<'a, Option<crate::StreamPosition>> {
        Box::pin(async move {
            match self.history(channel, 0).await {
                Ok(history) if !history.epoch.is_empty() => {
                    Some(crate::StreamPosition::new(history.offset, history.epoch))
                }
                Ok(_) => None,
                Err(error) => {
                    tracing::debug!(channel, %error, "instant: no stream position");
                    None
                }
            }
        })
    }

    /// One `batch` of `history` calls with limit 0: the positions of every channel a page joins,
    /// in one request to Centrifugo instead of one per channel.
    fn stream_positions<'a>(
        &'a self,
        channels: &'a [&'a str],
    ) -> BoxFuture<'a, Vec<Option<crate::StreamPosition>>> {
        Box::pin(async move {
            match channels {
                [] => Vec::new(),
                [channel] => vec![self.stream_position(channel).await],
                _ => {
                    let commands: Vec<Value> = channels
                        .iter()
                        .map(|channel| json!({"history": {"channel": channel, "limit": 0}}))
                        .collect();
                    match self.call("batch", json!({ "commands": commands })).await {
                        Ok(result) => stream_positions_of(&result, channels.len()),
                        Err(error) => {
                            tracing::debug!(%error, "instant: no stream positions");
                            vec![None; channels.len()]
                        }
                    }
                }
            }
        })
    }

    /// Centrifugo's `presence` API: every subscribed client, on every node (with Redis, the
    /// nodes share presence).
    fn presence(
        &self,
        channel: &str,
    ) -> BoxFuture<'_, Result<Vec<crate::presence::PresenceClient>, PublishError>> {
        let channel = channel.to_owned();
        Box::pin(async move {
            let clients = CentrifugoClient::presence(self, &channel).await?;
            Ok(clients
                .into_values()
                .map(|c| {
                    crate::presence::PresenceClient::new(c.client, c.user)
                        .with_conn_info(c.conn_info)
                        .with_chan_info(c.chan_info)
                })
                .collect())
        })
    }
}

#[cfg(test)]
mod tests;
