//! One WebSocket connection: reads commands, answers them through the hub ([`super::commands`]),
//! pings, and enforces the connection's deadlines. A separate writer task
//! ([`super::outbox::write_loop`]) drains the connection's send queue into the socket, so that
//! neither the hub nor the reader ever waits on a slow client.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use actix_ws::{AggregatedMessage, AggregatedMessageStream, ProtocolError};
use bytestring::ByteString;
use tokio::time::Instant;

use super::Inner;
use super::hub::ttl_until;
use super::outbox::{ClientHandle, write_loop};
use super::protocol::{
    ClientInfo, Disconnect, ErrorReply, ExpiryResult, PING_FRAME, Push, PushBody, Reply, ReplyBody,
    UNSUBSCRIBE_EXPIRED, UnsubscribeBody, encode, encode_error,
};

fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Holds one of the server's connection slots, and one of its client address's, until dropped.
#[derive(Debug)]
pub(crate) struct ConnectionPermit {
    server: Arc<Inner>,
    ip: Option<IpAddr>,
}

impl ConnectionPermit {
    /// Takes a slot, or `None` when the server is at its connection limit or the client address
    /// `ip` at its own.
    pub(crate) fn acquire(server: &Arc<Inner>, ip: Option<IpAddr>) -> Option<Self> {
        let limit = server.options.max_connections;
        server
            .open_connections
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < limit).then_some(n + 1)
            })
            .ok()?;
        // From here on, dropping the permit gives the slot back.
        let mut permit = Self {
            server: Arc::clone(server),
            ip: None,
        };
        let Some(ip) = ip else {
            return Some(permit);
        };
        let mut per_ip = lock(&server.connections_per_ip);
        let count = per_ip.entry(ip).or_insert(0);
        if *count >= server.options.max_connections_per_ip {
            return None;
        }
        *count += 1;
        drop(per_ip);
        permit.ip = Some(ip);
        Some(permit)
    }
}

impl Drop for ConnectionPermit {
    fn drop(&mut self) {
        if let Some(ip) = self.ip {
            let mut per_ip = lock(&self.server.connections_per_ip);
            if let Some(count) = per_ip.get_mut(&ip) {
                *count -= 1;
                if *count == 0 {
                    per_ip.remove(&ip);
                }
            }
        }
        self.server.open_connections.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Holds one of the server's anonymous connection slots until dropped.
#[derive(Debug)]
pub(super) struct AnonymousPermit {
    server: Arc<Inner>,
}

impl AnonymousPermit {
    /// Takes an anonymous slot, or `None` when they are all taken.
    pub(super) fn acquire(server: &Arc<Inner>) -> Option<Self> {
        let limit = server.options.max_anonymous_connections;
        server
            .anonymous_connections
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < limit).then_some(n + 1)
            })
            .ok()
            .map(|_| Self {
                server: Arc::clone(server),
            })
    }
}

impl Drop for AnonymousPermit {
    fn drop(&mut self) {
        self.server
            .anonymous_connections
            .fetch_sub(1, Ordering::AcqRel);
    }
}

/// A connection's command budget: a token bucket refilled at `command_rate` per second, holding
/// at most `command_burst`.
#[derive(Debug)]
pub(super) struct CommandBudget {
    tokens: f64,
    refilled_at: Instant,
    /// Commands refused in a row; reaching the burst size closes the connection.
    refused: u32,
}

/// What the budget says about one command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Spend {
    /// Within budget: serve it.
    Ok,
    /// Over budget: answer it with error 111.
    Refuse,
    /// Over budget and still sending: close with 3013.
    Disconnect,
}

impl CommandBudget {
    fn new(burst: u32) -> Self {
        Self {
            tokens: f64::from(burst),
            refilled_at: Instant::now(),
            refused: 0,
        }
    }

    /// Takes a token for one command.
    pub(super) fn spend(&mut self, rate: u32, burst: u32) -> Spend {
        let now = Instant::now();
        let elapsed = now.duration_since(self.refilled_at).as_secs_f64();
        self.refilled_at = now;
        self.tokens = (self.tokens + elapsed * f64::from(rate)).min(f64::from(burst));
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            self.refused = 0;
            return Spend::Ok;
        }
        self.refused += 1;
        if self.refused > burst.max(1) {
            Spend::Disconnect
        } else {
            Spend::Refuse
        }
    }
}

/// The identity a connection established with `connect`.
#[derive(Debug)]
pub(super) struct Connected {
    pub(super) user: Arc<str>,
    /// The anonymous slot of a connection without a token.
    pub(super) _anonymous: Option<AnonymousPermit>,
    pub(super) conn_info: Option<Arc<serde_json::value::RawValue>>,
    pub(super) expires_at: Option<Instant>,
}

#[derive(Debug)]
pub(super) struct SubscriptionState {
    pub(super) info: Arc<ClientInfo>,
    pub(super) expires_at: Option<Instant>,
}

/// What a timer deadline means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Deadline {
    Connect,
    Ping,
    Pong,
    ConnectionExpiry,
    SubscriptionExpiry,
}

pub(super) struct Connection {
    pub(super) server: Arc<Inner>,
    pub(super) handle: ClientHandle,
    pub(super) connected: Option<Connected>,
    pub(super) subscriptions: HashMap<String, SubscriptionState>,
    pub(super) connect_deadline: Instant,
    pub(super) next_ping: Option<Instant>,
    pub(super) pong_deadline: Option<Instant>,
    /// Pings sent and not answered yet, and when the last one went out.
    pub(super) unanswered_pings: u32,
    pub(super) last_ping: Option<Instant>,
    pub(super) budget: CommandBudget,
}

/// Serves one upgraded WebSocket until it closes.
pub(crate) async fn run(
    server: Arc<Inner>,
    ws: actix_ws::Session,
    mut messages: AggregatedMessageStream,
    permit: ConnectionPermit,
) {
    let id: Arc<str> = Arc::from(uuid::Uuid::new_v4().to_string());
    let (handle, queue) = ClientHandle::new(Arc::clone(&id), server.options.client_queue_max_bytes);
    let mut disconnect = handle.watch_disconnect();
    lock(&server.connections).insert(Arc::clone(&id), handle.clone());
    server.metrics.record_connection_opened();
    tracing::debug!(client = %id, "instant: embedded server connection opened");
    if server
        .shutting_down
        .load(std::sync::atomic::Ordering::Acquire)
    {
        handle.disconnect(Disconnect::SHUTDOWN);
    }
    let writer = actix_web::rt::spawn(write_loop(
        ws.clone(),
        queue,
        handle.clone(),
        server.options.close_timeout,
    ));
    let mut pong_session = ws;
    let server_burst = server.options.command_burst;
    let mut conn = Connection {
        connect_deadline: Instant::now() + server.options.connect_timeout,
        server,
        handle,
        connected: None,
        subscriptions: HashMap::new(),
        next_ping: None,
        pong_deadline: None,
        unanswered_pings: 0,
        last_ping: None,
        budget: CommandBudget::new(server_burst),
    };
    loop {
        if conn.handle.disconnect_reason().is_some() {
            break;
        }
        let (deadline, kind) = conn.next_deadline();
        tokio::select! {
            biased;
            _ = disconnect.changed() => break,
            message = messages.recv() => {
                let outcome = match message {
                    None | Some(Ok(AggregatedMessage::Close(_))) => Err(Disconnect::NORMAL),
                    Some(Ok(AggregatedMessage::Text(text))) => conn.handle_frame(text.as_bytes()),
                    Some(Ok(AggregatedMessage::Binary(bytes))) => conn.handle_frame(&bytes),
                    Some(Ok(AggregatedMessage::Ping(bytes))) => {
                        let pong = pong_session.pong(&bytes);
                        // A client that does not read its pong is dealt with by the queue limits.
                        let _ = tokio::time::timeout(Duration::from_secs(1), pong).await;
                        Ok(())
                    }
                    Some(Ok(AggregatedMessage::Pong(_))) => Ok(()),
                    Some(Err(error)) => Err(protocol_error_disconnect(&error)),
                };
                if let Err(reason) = outcome {
                    conn.handle.disconnect(reason);
                    break;
                }
            }
            () = tokio::time::sleep_until(deadline), if kind.is_some() => {
                if let Some(kind) = kind
                    && let Err(reason) = conn.on_deadline(kind)
                {
                    conn.handle.disconnect(reason);
                    break;
                }
            }
        }
    }
    conn.leave_everything();
    // Make sure the writer stops even when the reader ended first.
    conn.handle.disconnect(Disconnect::NORMAL);
    lock(&conn.server.connections).remove(&id);
    conn.server.metrics.record_connection_closed();
    tracing::debug!(
        client = %id,
        user = %conn.connected.as_ref().map_or("", |c| &*c.user),
        reason = ?conn.handle.disconnect_reason(),
        "instant: embedded server connection closed"
    );
    let _ = writer.await;
    drop(permit);
}

fn protocol_error_disconnect(error: &ProtocolError) -> Disconnect {
    match error {
        ProtocolError::Overflow => Disconnect::MESSAGE_TOO_BIG,
        // The aggregated stream reports an oversize message split in continuation frames so.
        ProtocolError::Io(e) if e.to_string().contains("maximum continuation size") => {
            Disconnect::MESSAGE_TOO_BIG
        }
        _ => Disconnect::BAD_REQUEST,
    }
}

impl Connection {
    pub(super) fn client_id(&self) -> &Arc<str> {
        self.handle.id()
    }

    pub(super) fn send(&self, frame: &ByteString) {
        self.handle.send(frame);
    }

    pub(super) fn reply(&self, id: u32, body: ReplyBody<'_>) {
        self.send(&encode(&Reply { id, body }));
    }

    pub(super) fn error(&self, id: u32, error: ErrorReply) {
        self.send(&encode_error(id, error));
    }

    /// The earliest pending deadline; the earlier kind wins a tie. Runs once per message, so it
    /// allocates nothing.
    fn next_deadline(&self) -> (Instant, Option<Deadline>) {
        let connect = self.connected.is_none().then_some(self.connect_deadline);
        let connection_expiry = self.connected.as_ref().and_then(|c| c.expires_at);
        let subscription_expiry = self
            .subscriptions
            .values()
            .filter_map(|s| s.expires_at)
            .min();
        [
            (connect, Deadline::Connect),
            (self.next_ping, Deadline::Ping),
            (self.pong_deadline, Deadline::Pong),
            (connection_expiry, Deadline::ConnectionExpiry),
            (subscription_expiry, Deadline::SubscriptionExpiry),
        ]
        .into_iter()
        .filter_map(|(at, kind)| Some((at?, kind)))
        .min_by_key(|(at, _)| *at)
        .map_or((Instant::now(), None), |(at, kind)| (at, Some(kind)))
    }

    fn on_deadline(&mut self, kind: Deadline) -> Result<(), Disconnect> {
        let now = Instant::now();
        match kind {
            Deadline::Connect => Err(Disconnect::STALE),
            Deadline::Pong => Err(Disconnect::NO_PONG),
            Deadline::ConnectionExpiry => Err(Disconnect::CONNECTION_EXPIRED),
            Deadline::Ping => {
                self.send(&ByteString::from_static(PING_FRAME));
                if self.pong_deadline.is_none() {
                    self.pong_deadline = Some(now + self.server.options.pong_timeout);
                }
                self.unanswered_pings += 1;
                self.last_ping = Some(now);
                self.next_ping = Some(now + self.ping_interval());
                Ok(())
            }
            Deadline::SubscriptionExpiry => {
                let expired: Vec<String> = self
                    .subscriptions
                    .iter()
                    .filter(|(_, s)| s.expires_at.is_some_and(|at| at <= now))
                    .map(|(name, _)| name.clone())
                    .collect();
                for channel in expired {
                    self.subscriptions.remove(&channel);
                    self.server.hub.unsubscribe(&channel, self.client_id());
                    self.reply(
                        0,
                        ReplyBody::Push(Push {
                            channel: &channel,
                            body: PushBody::Unsubscribe(UnsubscribeBody {
                                code: UNSUBSCRIBE_EXPIRED,
                                reason: "subscription expired",
                            }),
                        }),
                    );
                }
                Ok(())
            }
        }
    }

    /// What the client is told about a token expiring at `exp` (seconds since the Unix epoch), and
    /// when the token stops being honoured: its expiry plus the grace time the client has to
    /// refresh it.
    pub(super) fn token_expiry(&self, exp: Option<u64>) -> (ExpiryResult, Option<Instant>) {
        let Some(exp) = exp else {
            return (ExpiryResult::default(), None);
        };
        let (ttl, left) = ttl_until(exp);
        // A far-off expiry (a token minted with a huge lifetime) is no deadline at all, rather
        // than an overflow.
        let deadline = Instant::now()
            .checked_add(left)
            .and_then(|at| at.checked_add(self.server.options.expired_close_delay));
        (ExpiryResult { expires: true, ttl }, deadline)
    }

    pub(super) fn ping_interval(&self) -> Duration {
        Duration::from_secs(u64::from(self.server.options.ping_secs()))
    }

    /// Leaves every channel and forgets the user, once the connection is over.
    fn leave_everything(&mut self) {
        for (channel, _) in self.subscriptions.drain() {
            self.server.hub.unsubscribe(&channel, self.handle.id());
        }
        if let Some(connected) = self.connected.take() {
            self.server.hub.remove_user(&connected.user);
        }
    }
}
