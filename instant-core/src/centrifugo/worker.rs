//! The awaited calls (tried again once on another node after a transient failure), made on the
//! caller's own actix-rt thread when there is one ([`call_here`]) and otherwise on the worker
//! thread: an awc client on its own actix-rt system, which also drains the fire-and-forget queue
//! into ordered `/api/batch` requests that move to the next node on failure.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};

use super::nodes::Nodes;
use super::types::ClientOptions;
use super::wire::{Body, Read, batch_body, check_replies, interpret, read_batch};
use crate::backend::PublishError;
use crate::config::Secret;
use crate::event::Event;

/// The largest response body read (history and presence answers can be large).
const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// An awaited API call queued for the worker thread, with how its answer is read.
pub(super) struct Request<T> {
    pub(super) method: &'static str,
    pub(super) body: Body,
    pub(super) deadline: Instant,
    pub(super) read: Read<T>,
    pub(super) reply: oneshot::Sender<Result<T, PublishError>>,
}

/// A queued [`Request`], whatever its answer is read into: the worker thread makes the call and
/// sends the answer back.
pub(super) trait Queued: Send {
    fn run(self: Box<Self>, caller: Arc<Caller>, client: awc::Client) -> LocalBoxFuture<()>;
}

type LocalBoxFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T>>>;

impl<T: Send + 'static> Queued for Request<T> {
    fn run(self: Box<Self>, caller: Arc<Caller>, client: awc::Client) -> LocalBoxFuture<()> {
        Box::pin(async move {
            let result = caller
                .call(&client, self.method, &self.body, self.deadline, self.read)
                .await;
            let _ = self.reply.send(result);
        })
    }
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

/// What an awaited call needs, shared by the worker thread and the callers' own actix-rt threads
/// (see [`call_here`]): the nodes and their breakers, the key, the timeout and the counters.
pub(super) struct Caller {
    pub(super) nodes: Arc<Nodes>,
    pub(super) api_key: Secret,
    pub(super) timeout: Duration,
    pub(super) counters: Arc<Counters>,
    /// Tells this client's thread-local `awc` clients apart from another client's.
    pub(super) id: u64,
}

impl Caller {
    /// A new `awc` client: Nagle's algorithm off, the publish timeout to connect, connections
    /// kept alive 15 seconds. Each thread that sends needs its own (`awc::Client` is not `Send`).
    fn http_client(&self) -> awc::Client {
        awc::Client::builder()
            .connector(
                awc::Connector::new()
                    .connector(super::no_delay::NoDelayConnector::default())
                    .timeout(self.timeout)
                    .conn_keep_alive(Duration::from_secs(15)),
            )
            .disable_timeout()
            .finish()
    }

    /// An awaited call: on a node picked by [`Nodes::pick`], then, after a transient failure of
    /// a call that may be repeated, once more on another node, with a deadline of its own.
    pub(super) async fn call<T>(
        &self,
        client: &awc::Client,
        method: &str,
        body: &Body,
        deadline: Instant,
        read: Read<T>,
    ) -> Result<T, PublishError> {
        let Some(first) = self.nodes.pick(&[]) else {
            return Err(super::wire::not_running());
        };
        let result = self
            .post(client, first, method, &body.bytes, deadline, read)
            .await;
        self.nodes.record(first, &result);
        let error = match result {
            Err(error) if body.retry && error.is_transient() => error,
            other => return other,
        };
        let Some(second) = self.nodes.pick(&[first]) else {
            return Err(error);
        };
        tracing::debug!(%error, node = self.nodes.url(second), method, "instant: trying another Centrifugo node");
        self.counters.retried.fetch_add(1, Ordering::Relaxed);
        let deadline = Instant::now() + self.timeout;
        let result = self
            .post(client, second, method, &body.bytes, deadline, read)
            .await;
        self.nodes.record(second, &result);
        result
    }

    async fn post<T>(
        &self,
        client: &awc::Client,
        node: usize,
        method: &str,
        body: &Bytes,
        deadline: Instant,
        read: Read<T>,
    ) -> Result<T, PublishError> {
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
            interpret(response.status().as_u16(), &bytes, base, read)
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
}

/// The state of the worker thread.
pub(super) struct Worker {
    pub(super) caller: Arc<Caller>,
    pub(super) options: ClientOptions,
}

impl Worker {
    pub(super) fn run(
        self,
        requests: mpsc::Receiver<Box<dyn Queued>>,
        detached: mpsc::Receiver<Detached>,
    ) {
        let system = actix_rt::System::new();
        system.block_on(async move {
            let client = self.caller.http_client();
            let worker = std::rc::Rc::new(self);
            tokio::join!(
                serve_requests(std::rc::Rc::clone(&worker), client.clone(), requests),
                serve_detached(worker, client, detached),
            );
        });
    }

    /// Sends one batch of fire-and-forget events. What fails for a transient reason moves at once
    /// to the next node not yet tried; when every node has been tried, it waits (a delay that
    /// doubles each round) and starts another round, up to `max_retries` rounds.
    async fn deliver(&self, client: &awc::Client, events: Vec<Event>) {
        let caller = &*self.caller;
        let mut pending = events;
        let mut attempt = 0u32;
        let mut tried: Vec<usize> = Vec::new();
        loop {
            let node = caller.nodes.pick(&tried);
            let outcome = match (batch_body(pending.iter()), node) {
                (Ok(body), Some(node)) => {
                    let deadline = Instant::now() + caller.timeout;
                    let sent = caller
                        .post(client, node, "batch", &body.bytes, deadline, read_batch)
                        .await;
                    caller.nodes.record(node, &sent);
                    sent.and_then(|replies| check_replies(replies, pending.len()))
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
                                caller.counters.drop_events(1, "refused by Centrifugo");
                            }
                        }
                    }
                    caller
                        .counters
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
                    caller
                        .counters
                        .drop_events(pending.len() as u64, "refused by Centrifugo");
                    return;
                }
            };
            if retry.is_empty() {
                return;
            }
            tried.extend(node);
            let round_over = tried.len() >= caller.nodes.len();
            if round_over && attempt >= self.options.max_retries {
                caller
                    .counters
                    .drop_events(retry.len() as u64, "retries exhausted");
                return;
            }
            caller
                .counters
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
    mut requests: mpsc::Receiver<Box<dyn Queued>>,
) {
    while let Some(request) = requests.recv().await {
        // Each call runs concurrently; the connector pools and reuses connections between them.
        actix_rt::spawn(request.run(Arc::clone(&worker.caller), client.clone()));
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

/// Whether the current thread runs an actix-rt arbiter that is still alive (an actix-web worker,
/// `#[actix_web::main]`, an `actix_rt::System`), where [`call_here`] may spawn a local task.
/// Never panics: outside a runtime, or on any other runtime, it is `false`.
pub(super) fn on_actix_thread() -> bool {
    // Arbiters run on a current-thread tokio runtime inside a `LocalSet`. The arbiter handle is a
    // thread-local actix-rt never clears, hence the check that the arbiter is still alive and
    // that the runtime polling the caller is a current-thread one.
    actix_rt::Arbiter::try_current().is_some_and(|arbiter| arbiter.alive())
        && tokio::runtime::Handle::try_current().is_ok_and(|runtime| {
            runtime.runtime_flavor() == tokio::runtime::RuntimeFlavor::CurrentThread
        })
}

thread_local! {
    /// The `awc` clients of this thread, one per [`CentrifugoClient`](super::CentrifugoClient)
    /// (by [`Caller::id`]) that has made an awaited call here. An entry whose client has been
    /// dropped is removed, and its connections closed, at the next awaited call made on this
    /// thread by any client; until then it holds at most the idle connections it had.
    static CLIENTS: RefCell<Vec<(u64, Weak<Caller>, awc::Client)>> = const { RefCell::new(Vec::new()) };
}

/// This thread's `awc` client for `caller`, made on first use.
fn local_client(caller: &Arc<Caller>) -> awc::Client {
    CLIENTS.with(|clients| {
        let mut clients = clients.borrow_mut();
        clients.retain(|(_, owner, _)| owner.strong_count() > 0);
        if let Some((_, _, client)) = clients.iter().find(|(id, ..)| *id == caller.id) {
            return client.clone();
        }
        let client = caller.http_client();
        clients.push((caller.id, Arc::downgrade(caller), client.clone()));
        client
    })
}

/// An awaited call made on the caller's own actix-rt thread ([`on_actix_thread`] must be true):
/// spawned there as a local task with this thread's `awc` client, so that no other thread is
/// woken on the way there or back. The future only holds the task's handle, so it stays `Send`.
/// The call runs to its end even if this future is dropped, as one queued for the worker does.
pub(super) async fn call_here<T: 'static>(
    caller: Arc<Caller>,
    method: &'static str,
    body: Body,
    deadline: Instant,
    read: Read<T>,
) -> Result<T, PublishError> {
    let task = actix_rt::spawn(async move {
        let client = local_client(&caller);
        caller.call(&client, method, &body, deadline, read).await
    });
    task.await.unwrap_or_else(|_| {
        Err(PublishError::NotRunning(
            "the actix-rt system stopped before Centrifugo answered".to_owned(),
        ))
    })
}
