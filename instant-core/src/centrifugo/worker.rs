//! The worker thread: the awc client on its own actix-rt system, the awaited calls (tried again
//! once on another node after a transient failure), and the fire-and-forget queue drained into
//! ordered `/api/batch` requests that move to the next node on failure.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use super::nodes::Nodes;
use super::types::ClientOptions;
use super::wire::{Body, batch_body, interpret, parse_batch_replies};
use crate::backend::PublishError;
use crate::config::Secret;
use crate::event::Event;

/// The largest response body read (history and presence answers can be large).
const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// An awaited API call.
pub(super) struct Request {
    pub(super) method: &'static str,
    pub(super) body: Body,
    pub(super) deadline: Instant,
    pub(super) reply: oneshot::Sender<Result<Value, PublishError>>,
}

/// What the fire-and-forget queue carries.
pub(super) enum Detached {
    Event(Box<Event>),
    Flush(oneshot::Sender<()>),
}

#[derive(Debug, Default)]
pub(super) struct Counters {
    pub(super) queued: AtomicU64,
    pub(super) delivered: AtomicU64,
    pub(super) dropped: AtomicU64,
    pub(super) retried: AtomicU64,
    /// Drops not yet reported in a log line, and when the last line was written (ms since start).
    pub(super) unreported_drops: AtomicU64,
    pub(super) last_drop_log_ms: AtomicU64,
    pub(super) started: std::sync::OnceLock<Instant>,
}

impl Counters {
    pub(super) fn drop_events(&self, count: u64, why: &str) {
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

/// The state of the worker thread.
pub(super) struct Worker {
    pub(super) nodes: Arc<Nodes>,
    pub(super) api_key: Secret,
    pub(super) timeout: Duration,
    pub(super) options: ClientOptions,
    pub(super) counters: Arc<Counters>,
}

impl Worker {
    pub(super) fn run(self, requests: mpsc::Receiver<Request>, detached: mpsc::Receiver<Detached>) {
        let system = actix_rt::System::new();
        system.block_on(async move {
            let client = awc::Client::builder()
                .connector(
                    awc::Connector::new()
                        .connector(super::no_delay::NoDelayConnector::default())
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

    /// An awaited call: on a node picked by [`Nodes::pick`], then, after a transient failure of
    /// a call that may be repeated, once more on another node, with a deadline of its own.
    async fn call(&self, client: &awc::Client, request: &Request) -> Result<Value, PublishError> {
        let Some(first) = self.nodes.pick(&[]) else {
            return Err(super::wire::not_running());
        };
        let result = self
            .post(
                client,
                first,
                request.method,
                &request.body.bytes,
                request.deadline,
            )
            .await;
        self.nodes.record(first, &result);
        let error = match result {
            Err(error) if request.body.retry && error.is_transient() => error,
            other => return other,
        };
        let Some(second) = self.nodes.pick(&[first]) else {
            return Err(error);
        };
        tracing::debug!(%error, node = self.nodes.url(second), method = request.method, "instant: trying another Centrifugo node");
        self.counters.retried.fetch_add(1, Ordering::Relaxed);
        let deadline = Instant::now() + self.timeout;
        let result = self
            .post(
                client,
                second,
                request.method,
                &request.body.bytes,
                deadline,
            )
            .await;
        self.nodes.record(second, &result);
        result
    }

    async fn post(
        &self,
        client: &awc::Client,
        node: usize,
        method: &str,
        body: &Bytes,
        deadline: Instant,
    ) -> Result<Value, PublishError> {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(PublishError::Timeout(self.timeout));
        }
        let base = self.nodes.url(node);
        let url = format!("{base}/api/{method}");
        let exchange = async {
            let mut response = client
                .post(&url)
                .insert_header(("X-API-Key", self.api_key.expose_secret()))
                .insert_header(("X-Centrifugo-Error-Mode", "transport"))
                .insert_header(("Content-Type", "application/json"))
                .send_body(body.clone())
                .await
                .map_err(|e| self.send_error(base, &e))?;
            let bytes = response
                .body()
                .limit(MAX_RESPONSE_BYTES)
                .await
                .map_err(|e| PublishError::UnexpectedResponse(e.to_string()))?;
            interpret(response.status().as_u16(), &bytes, base)
        };
        actix_rt::time::timeout(remaining, exchange)
            .await
            .unwrap_or(Err(PublishError::Timeout(self.timeout)))
    }

    fn send_error(&self, base: &str, error: &awc::error::SendRequestError) -> PublishError {
        use awc::error::{ConnectError, SendRequestError};
        match error {
            SendRequestError::Timeout | SendRequestError::Connect(ConnectError::Timeout) => {
                PublishError::Timeout(self.timeout)
            }
            SendRequestError::Url(e) => PublishError::BadInput(e.to_string()),
            SendRequestError::Response(e) => PublishError::UnexpectedResponse(e.to_string()),
            other => PublishError::Unreachable {
                url: base.to_owned(),
                reason: other.to_string(),
            },
        }
    }

    /// Sends one batch of fire-and-forget events. What fails for a transient reason moves at once
    /// to the next node not yet tried; when every node has been tried, it waits (a delay that
    /// doubles each round) and starts another round, up to `max_retries` rounds.
    async fn deliver(&self, client: &awc::Client, events: Vec<Event>) {
        let mut pending = events;
        let mut attempt = 0u32;
        let mut tried: Vec<usize> = Vec::new();
        loop {
            let node = self.nodes.pick(&tried);
            let outcome = match (batch_body(pending.iter()), node) {
                (Ok(body), Some(node)) => {
                    let deadline = Instant::now() + self.timeout;
                    let sent = self
                        .post(client, node, "batch", &body.bytes, deadline)
                        .await;
                    self.nodes.record(node, &sent);
                    match sent {
                        Ok(result) => parse_batch_replies(&result, pending.len()),
                        Err(error) => Err(error),
                    }
                }
                (Err(error), _) => Err(error),
                (Ok(_), None) => Err(super::wire::not_running()),
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
            tried.extend(node);
            let round_over = tried.len() >= self.nodes.len();
            if round_over && attempt >= self.options.max_retries {
                self.counters
                    .drop_events(retry.len() as u64, "retries exhausted");
                return;
            }
            self.counters
                .retried
                .fetch_add(retry.len() as u64, Ordering::Relaxed);
            if round_over {
                let delay = self
                    .options
                    .retry_delay
                    .saturating_mul(1 << attempt.min(16));
                actix_rt::time::sleep(delay.min(Duration::from_secs(30))).await;
                attempt += 1;
                tried.clear();
            }
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
            let result = worker.call(&client, &request).await;
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
