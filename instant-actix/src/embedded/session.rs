//! One WebSocket connection: reads commands, answers them through the hub, pings, and enforces the
//! connection's deadlines. A separate writer task drains the connection's send queue into the
//! socket, so that neither the hub nor the reader ever waits on a slow client.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use actix_ws::{AggregatedMessage, AggregatedMessageStream, CloseCode, CloseReason, ProtocolError};
use bytestring::ByteString;
use instant_core::TokenError;
use tokio::time::Instant;

use super::Inner;
use super::hub::{ClientHandle, ClientQueue, NewPublication, RecoverFrom, Subscription, ttl_until};
use super::protocol::{
    ChannelRequest, ClientInfo, Command, ConnectRequest, ConnectResult, Disconnect, Empty,
    ErrorReply, ExpiryResult, HistoryRequest, PING_FRAME, PresenceResult, PublishRequest, Push,
    PushBody, RefreshRequest, Reply, ReplyBody, SERVER_VERSION, SubRefreshRequest,
    SubscribeRequest, UNSUBSCRIBE_EXPIRED, UnsubscribeBody, encode, encode_error,
};

fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Holds one of the server's connection slots until dropped.
#[derive(Debug)]
pub(crate) struct ConnectionPermit {
    server: Arc<Inner>,
}

impl ConnectionPermit {
    /// Takes a slot, or `None` when the server is at its connection limit.
    pub(crate) fn acquire(server: &Arc<Inner>) -> Option<Self> {
        let limit = server.options.max_connections;
        server
            .open_connections
            .fetch_update(
                std::sync::atomic::Ordering::AcqRel,
                std::sync::atomic::Ordering::Acquire,
                |n| (n < limit).then_some(n + 1),
            )
            .ok()
            .map(|_| Self {
                server: Arc::clone(server),
            })
    }
}

impl Drop for ConnectionPermit {
    fn drop(&mut self) {
        self.server
            .open_connections
            .fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
}

/// The identity a connection established with `connect`.
#[derive(Debug)]
struct Connected {
    user: Arc<str>,
    conn_info: Option<Arc<serde_json::value::RawValue>>,
    expires_at: Option<Instant>,
}

#[derive(Debug)]
struct SubscriptionState {
    info: Arc<ClientInfo>,
    expires_at: Option<Instant>,
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

struct Connection {
    server: Arc<Inner>,
    handle: ClientHandle,
    connected: Option<Connected>,
    subscriptions: HashMap<String, SubscriptionState>,
    connect_deadline: Instant,
    next_ping: Option<Instant>,
    pong_deadline: Option<Instant>,
    /// Pings sent and not answered yet, and when the last one went out.
    unanswered_pings: u32,
    last_ping: Option<Instant>,
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

/// Drains the queue into the socket; on disconnect, sends the close frame.
async fn write_loop(
    mut ws: actix_ws::Session,
    mut queue: ClientQueue,
    handle: ClientHandle,
    close_timeout: Duration,
) {
    let mut disconnect = handle.watch_disconnect();
    'frames: loop {
        if handle.disconnect_reason().is_some() {
            break;
        }
        tokio::select! {
            biased;
            _ = disconnect.changed() => break,
            frame = queue.frames.recv() => {
                let Some(frame) = frame else { break };
                let len = frame.len();
                let sent = tokio::select! {
                    biased;
                    result = ws.text(frame) => result.is_ok(),
                    _ = disconnect.changed() => {
                        handle.written(len);
                        break 'frames;
                    }
                };
                handle.written(len);
                if !sent {
                    handle.disconnect(Disconnect::WRITE_ERROR);
                    return;
                }
            }
        }
    }
    let reason = handle.disconnect_reason().unwrap_or(Disconnect::NORMAL);
    // Replies queued before the disconnect still go out, except to a client too slow for them.
    if reason != Disconnect::SLOW {
        while let Ok(frame) = queue.frames.try_recv() {
            let len = frame.len();
            let sent = tokio::time::timeout(close_timeout, ws.text(frame)).await;
            handle.written(len);
            if !matches!(sent, Ok(Ok(()))) {
                return;
            }
        }
    }
    let close = CloseReason {
        code: CloseCode::from(reason.code),
        description: (!reason.reason.is_empty()).then(|| reason.reason.to_owned()),
    };
    let _ = tokio::time::timeout(close_timeout, ws.close(Some(close))).await;
}

impl Connection {
    fn client_id(&self) -> &Arc<str> {
        self.handle.id()
    }

    fn send(&self, frame: &ByteString) {
        self.handle.send(frame);
    }

    fn reply(&self, id: u32, body: ReplyBody<'_>) {
        self.send(&encode(&Reply { id, body }));
    }

    fn error(&self, id: u32, error: ErrorReply) {
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
    fn token_expiry(&self, exp: Option<u64>) -> (ExpiryResult, Option<Instant>) {
        let Some(exp) = exp else {
            return (ExpiryResult::default(), None);
        };
        let (ttl, left) = ttl_until(exp);
        let deadline = Instant::now() + left + self.server.options.expired_close_delay;
        (ExpiryResult { expires: true, ttl }, Some(deadline))
    }

    fn ping_interval(&self) -> Duration {
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

    /// One text (or binary) message: JSON commands separated by newlines.
    fn handle_frame(&mut self, bytes: &[u8]) -> Result<(), Disconnect> {
        for line in bytes.split(|b| *b == b'\n') {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let command: Command =
                serde_json::from_slice(line).map_err(|_| Disconnect::BAD_REQUEST)?;
            self.dispatch(command)?;
        }
        Ok(())
    }

    fn dispatch(&mut self, command: Command) -> Result<(), Disconnect> {
        let id = command.id;
        if id == 0 {
            return self.command_without_id(&command);
        }
        if let Some(request) = command.connect {
            return self.connect(id, &request);
        }
        if self.connected.is_none() {
            // The first command must be `connect`.
            return Err(Disconnect::BAD_REQUEST);
        }
        if let Some(request) = command.subscribe {
            self.subscribe(id, &request)
        } else if let Some(request) = command.unsubscribe {
            self.unsubscribe(id, &request)
        } else if let Some(request) = command.publish {
            self.publish(id, request)
        } else if let Some(request) = command.presence {
            self.presence(id, &request, false)
        } else if let Some(request) = command.presence_stats {
            self.presence(id, &request, true)
        } else if let Some(request) = command.history {
            self.history(id, &request)
        } else if command.ping.is_some() {
            self.reply(id, ReplyBody::Ping(Empty {}));
            Ok(())
        } else if command.rpc.is_some() || command.send.is_some() {
            // No RPC handler: Centrifugo without an RPC proxy answers the same.
            self.error(id, ErrorReply::NOT_AVAILABLE);
            Ok(())
        } else if let Some(request) = command.refresh {
            self.refresh(id, &request)
        } else if let Some(request) = command.sub_refresh {
            self.sub_refresh(id, &request)
        } else {
            Err(Disconnect::BAD_REQUEST)
        }
    }

    /// Commands without an id: the pong answering a ping, or `send`.
    fn command_without_id(&mut self, command: &Command) -> Result<(), Disconnect> {
        if self.connected.is_none() {
            return Err(Disconnect::BAD_REQUEST);
        }
        if command.is_empty() {
            // A pong nobody asked for is a protocol error, as in Centrifugo.
            if self.unanswered_pings == 0 {
                return Err(Disconnect::BAD_REQUEST);
            }
            self.unanswered_pings -= 1;
            // With pings still unanswered, the next pong is due after the last ping.
            self.pong_deadline = (self.unanswered_pings > 0)
                .then(|| {
                    self.last_ping
                        .map(|at| at + self.server.options.pong_timeout)
                })
                .flatten();
            return Ok(());
        }
        if command.send.is_some() {
            // Asynchronous messages need a handler the embedded server does not have.
            return Err(Disconnect::NOT_AVAILABLE);
        }
        Err(Disconnect::BAD_REQUEST)
    }

    fn connect(&mut self, id: u32, request: &ConnectRequest) -> Result<(), Disconnect> {
        if self.connected.is_some() {
            return Err(Disconnect::BAD_REQUEST);
        }
        let (user, info, exp) = if request.token.is_empty() {
            (String::new(), None, None)
        } else {
            match self.server.tokens.verify_connection(&request.token) {
                Ok(claims) => (claims.sub, claims.info, claims.exp),
                Err(error) if error.is_expired() => {
                    self.error(id, ErrorReply::TOKEN_EXPIRED);
                    return Ok(());
                }
                Err(_) => return Err(Disconnect::INVALID_TOKEN),
            }
        };
        let (expiry, expires_at) = self.token_expiry(exp);
        let user: Arc<str> = Arc::from(user);
        self.server.hub.add_user(&user);
        self.connected = Some(Connected {
            user,
            conn_info: info.as_ref().and_then(raw_json),
            expires_at,
        });
        self.next_ping = Some(Instant::now() + self.ping_interval());
        self.reply(
            id,
            ReplyBody::Connect(ConnectResult {
                client: Arc::clone(self.client_id()),
                version: SERVER_VERSION,
                expires: expiry.expires,
                ttl: expiry.ttl,
                ping: self.server.options.ping_secs(),
                pong: true,
            }),
        );
        Ok(())
    }

    fn user(&self) -> Arc<str> {
        self.connected
            .as_ref()
            .map_or_else(|| Arc::from(""), |c| Arc::clone(&c.user))
    }

    fn subscribe(&mut self, id: u32, request: &SubscribeRequest) -> Result<(), Disconnect> {
        let channel = request.channel.as_str();
        if channel.is_empty() {
            return Err(Disconnect::BAD_REQUEST);
        }
        if self.subscriptions.contains_key(channel) {
            self.error(id, ErrorReply::ALREADY_SUBSCRIBED);
            return Ok(());
        }
        if self.subscriptions.len() >= self.server.options.max_channels_per_client {
            self.error(id, ErrorReply::LIMIT_EXCEEDED);
            return Ok(());
        }
        // Undeclared channels are refused like channels the client may not join.
        let Some(declared) = self.server.channels.get(channel) else {
            self.error(id, ErrorReply::PERMISSION_DENIED);
            return Ok(());
        };
        let user = self.user();
        let (expiry, expires_at) = if !request.token.is_empty() {
            match self
                .server
                .tokens
                .verify_subscription(&request.token, channel, &user)
            {
                Ok(claims) => self.token_expiry(claims.exp),
                Err(error) => return self.token_refused(id, &error),
            }
        } else if declared.is_private() {
            // Private channels open only with a subscription token.
            self.error(id, ErrorReply::PERMISSION_DENIED);
            return Ok(());
        } else {
            self.token_expiry(None)
        };
        let info = Arc::new(ClientInfo {
            user,
            client: Arc::clone(self.client_id()),
            conn_info: self.connected.as_ref().and_then(|c| c.conn_info.clone()),
            chan_info: None,
        });
        let recover = request.recover.then(|| RecoverFrom {
            offset: request.offset,
            epoch: request.epoch.clone(),
        });
        let subscription = Subscription {
            handle: self.handle.clone(),
            info: Arc::clone(&info),
            join_leave: request.join_leave,
        };
        match self
            .server
            .hub
            .subscribe(channel, id, subscription, recover, expiry)
        {
            Ok(()) => {
                self.subscriptions
                    .insert(channel.to_owned(), SubscriptionState { info, expires_at });
            }
            Err(error) => self.error(id, error),
        }
        Ok(())
    }

    /// Answers a refused subscription token as Centrifugo does: expired → 109 (the client fetches
    /// a new one), another user's or channel's token → disconnect 3500, else → 103.
    fn token_refused(&self, id: u32, error: &TokenError) -> Result<(), Disconnect> {
        match error {
            TokenError::Expired => {
                self.error(id, ErrorReply::TOKEN_EXPIRED);
                Ok(())
            }
            TokenError::WrongChannel { .. } | TokenError::WrongUser => {
                Err(Disconnect::INVALID_TOKEN)
            }
            _ => {
                self.error(id, ErrorReply::PERMISSION_DENIED);
                Ok(())
            }
        }
    }

    fn unsubscribe(&mut self, id: u32, request: &ChannelRequest) -> Result<(), Disconnect> {
        if self.subscriptions.remove(&request.channel).is_some() {
            self.server
                .hub
                .unsubscribe(&request.channel, self.handle.id());
        }
        self.reply(id, ReplyBody::Unsubscribe(Empty {}));
        Ok(())
    }

    fn publish(&mut self, id: u32, request: PublishRequest) -> Result<(), Disconnect> {
        let Some(data) = request.data else {
            self.error(id, ErrorReply::BAD_REQUEST);
            return Ok(());
        };
        let allowed = self
            .server
            .hub
            .options(&request.channel)
            .is_some_and(|o| o.client_publish);
        let subscription = self.subscriptions.get(&request.channel);
        let (true, Some(subscription)) = (allowed, subscription) else {
            self.error(id, ErrorReply::PERMISSION_DENIED);
            return Ok(());
        };
        let publication = NewPublication {
            data,
            info: Some(Arc::clone(&subscription.info)),
            tags: None,
            skip_history: false,
        };
        match self.server.hub.publish(&request.channel, publication) {
            Ok(_) => self.reply(id, ReplyBody::Publish(Empty {})),
            Err(error) => self.error(id, error),
        }
        Ok(())
    }

    fn presence(&self, id: u32, request: &ChannelRequest, stats: bool) -> Result<(), Disconnect> {
        if !self.subscriptions.contains_key(&request.channel) {
            self.error(id, ErrorReply::PERMISSION_DENIED);
            return Ok(());
        }
        let hub = &self.server.hub;
        let result = if stats {
            hub.presence_stats(&request.channel)
                .map(ReplyBody::PresenceStats)
        } else {
            hub.presence(&request.channel)
                .map(|presence| ReplyBody::Presence(PresenceResult { presence }))
        };
        match result {
            Ok(body) => self.reply(id, body),
            Err(error) => self.error(id, error),
        }
        Ok(())
    }

    fn history(&self, id: u32, request: &HistoryRequest) -> Result<(), Disconnect> {
        if !self.subscriptions.contains_key(&request.channel) {
            self.error(id, ErrorReply::PERMISSION_DENIED);
            return Ok(());
        }
        match self.server.hub.history(
            &request.channel,
            i64::from(request.limit),
            request.since.as_ref(),
            request.reverse,
        ) {
            Ok(result) => self.reply(id, ReplyBody::History(result)),
            Err(error) => self.error(id, error),
        }
        Ok(())
    }

    fn refresh(&mut self, id: u32, request: &RefreshRequest) -> Result<(), Disconnect> {
        if request.token.is_empty() {
            self.error(id, ErrorReply::BAD_REQUEST);
            return Ok(());
        }
        let claims = match self.server.tokens.verify_connection(&request.token) {
            Ok(claims) => claims,
            Err(error) if error.is_expired() => {
                self.error(id, ErrorReply::TOKEN_EXPIRED);
                return Ok(());
            }
            Err(_) => return Err(Disconnect::INVALID_TOKEN),
        };
        if self
            .connected
            .as_ref()
            .is_none_or(|connected| *claims.sub != *connected.user)
        {
            return Err(Disconnect::INVALID_TOKEN);
        }
        let (result, expires_at) = self.token_expiry(claims.exp);
        if let Some(connected) = self.connected.as_mut() {
            connected.expires_at = expires_at;
        }
        self.reply(id, ReplyBody::Refresh(result));
        Ok(())
    }

    fn sub_refresh(&mut self, id: u32, request: &SubRefreshRequest) -> Result<(), Disconnect> {
        if !self.subscriptions.contains_key(&request.channel) {
            self.error(id, ErrorReply::PERMISSION_DENIED);
            return Ok(());
        }
        let user = self.user();
        let claims =
            match self
                .server
                .tokens
                .verify_subscription(&request.token, &request.channel, &user)
            {
                Ok(claims) => claims,
                Err(error) => return self.token_refused(id, &error),
            };
        let (result, expires_at) = self.token_expiry(claims.exp);
        if let Some(subscription) = self.subscriptions.get_mut(&request.channel) {
            subscription.expires_at = expires_at;
        }
        self.reply(id, ReplyBody::SubRefresh(result));
        Ok(())
    }
}

/// A JSON value as raw JSON to embed in replies.
fn raw_json(value: &serde_json::Value) -> Option<Arc<serde_json::value::RawValue>> {
    serde_json::value::to_raw_value(value).ok().map(Arc::from)
}
