//! The commands of one connection: `connect`, `subscribe`, `publish`, `history`, … answered
//! through the hub, as Centrifugo's client protocol defines them.

use std::sync::Arc;

use instant_core::TokenError;
use tokio::time::Instant;

use super::connection::{AnonymousPermit, Connected, Connection, Spend, SubscriptionState};
use super::hub::{NewPublication, RecoverFrom, Stream, Subscription};
use super::protocol::{
    ChannelRequest, ClientInfo, Command, ConnectRequest, ConnectResult, Disconnect, Empty,
    ErrorReply, HistoryRequest, PresenceResult, PublishRequest, RefreshRequest, ReplyBody,
    SERVER_VERSION, SubRefreshRequest, SubscribeRequest,
};

impl Connection {
    /// One text (or binary) message: JSON commands separated by newlines.
    ///
    /// Each command spends from the connection's command budget; processing stops as
    /// soon as the connection is being closed (over budget, too slow, shut down).
    pub(super) fn handle_frame(&mut self, bytes: &[u8]) -> Result<(), Disconnect> {
        for line in bytes.split(|b| *b == b'\n') {
            if self.handle.disconnect_reason().is_some() {
                break;
            }
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let command: Command =
                serde_json::from_slice(line).map_err(|_| Disconnect::BAD_REQUEST)?;
            let options = &self.server.options;
            match self
                .budget
                .spend(options.command_rate, options.command_burst)
            {
                Spend::Ok => self.dispatch(command)?,
                Spend::Refuse if command.id != 0 => {
                    self.error(command.id, ErrorReply::TOO_MANY_REQUESTS);
                }
                // A pong (or `send`) over budget has no reply to carry the error.
                Spend::Refuse => {}
                Spend::Disconnect => return Err(Disconnect::TOO_MANY_REQUESTS),
            }
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
        let standalone = self.server.standalone.as_ref();
        let (user, info, exp) = if request.token.is_empty() {
            // A standalone server accepts connections without a token only when its config says
            // so; Centrifugo closes the others with 3501 (no credentials).
            if standalone.is_some_and(|s| !s.anonymous_without_token && !s.insecure) {
                return Err(Disconnect::BAD_REQUEST);
            }
            (String::new(), None, None)
        } else {
            match self.server.tokens.verify_connection(&request.token) {
                Ok(claims) => (claims.sub, claims.info, claims.exp),
                Err(error) if error.is_expired() => {
                    self.deny("expired_token", "connect", &error);
                    self.error(id, ErrorReply::TOKEN_EXPIRED);
                    return Ok(());
                }
                Err(error) => {
                    self.deny("invalid_token", "connect", &error);
                    return Err(Disconnect::INVALID_TOKEN);
                }
            }
        };
        // Anonymous connections have their own budget of slots, so that logged-in users always
        // find one.
        let anonymous = if user.is_empty() {
            Some(AnonymousPermit::acquire(&self.server).ok_or(Disconnect::CONNECTION_LIMIT)?)
        } else {
            None
        };
        // `client.insecure` turns connection expiry off, as in Centrifugo.
        let exp = exp.filter(|_| standalone.is_none_or(|s| !s.insecure));
        let (expiry, expires_at) = self.token_expiry(exp);
        let user: Arc<str> = Arc::from(user);
        self.server.hub.add_user(&user);
        self.connected = Some(Connected {
            user,
            _anonymous: anonymous,
            conn_info: info.as_ref().and_then(raw_json),
            expires_at,
        });
        self.next_ping = Some(Instant::now() + self.ping_interval());
        tracing::debug!(client = %self.client_id(), user = %self.user(), "instant: embedded server client connected");
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
        let user = self.user();
        // The channel policy: declared channels in an app, namespace rules when standalone.
        let gate = match self.server.subscribe_gate(channel, &user) {
            Ok(gate) => gate,
            Err(error) => {
                self.error(id, error);
                return Ok(());
            }
        };
        let stream = match &self.server.standalone {
            Some(standalone) => standalone.namespaces.stream(
                channel,
                standalone.asker(&user, true),
                request.recoverable,
                request.positioned,
            ),
            None => Stream::FULL,
        };
        let (expiry, expires_at) = if !request.token.is_empty() {
            match self
                .server
                .tokens
                .verify_subscription(&request.token, channel, &user)
            {
                Ok(claims) => self.token_expiry(claims.exp),
                Err(error) => return self.token_refused(id, &error),
            }
        } else if gate.private || !gate.open {
            // Private channels open only with a subscription token; others as the policy says.
            self.deny("no_token", "subscribe", &channel);
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
            stream,
        };
        match self
            .server
            .hub
            .subscribe(channel, id, subscription, recover, expiry)
        {
            Ok(()) => {
                self.server.metrics.record_subscription();
                tracing::debug!(client = %self.client_id(), channel, "instant: embedded server subscription");
                self.subscriptions
                    .insert(channel.to_owned(), SubscriptionState { info, expires_at });
            }
            Err(error) => self.error(id, error),
        }
        Ok(())
    }

    /// Answers a refused subscription token as Centrifugo does: expired or not valid yet → 109
    /// (the client fetches a new one), another user's or channel's token → disconnect 3500, else
    /// → 103.
    fn token_refused(&self, id: u32, error: &TokenError) -> Result<(), Disconnect> {
        let reason = match error {
            TokenError::Expired | TokenError::NotYetValid => "expired_token",
            TokenError::WrongChannel { .. } | TokenError::WrongUser => "token_mismatch",
            _ => "invalid_token",
        };
        self.deny(reason, "subscribe", error);
        match error {
            TokenError::Expired | TokenError::NotYetValid => {
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

    /// Counts and logs a denied `connect` or `subscribe` under `reason`.
    fn deny(&self, reason: &'static str, command: &str, detail: &dyn std::fmt::Display) {
        self.server.metrics.record_denial(reason);
        tracing::info!(client = %self.client_id(), user = %self.user(), command, reason, %detail, "instant: embedded server denied a request");
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
        let subscription = self.subscriptions.get(&request.channel);
        let info = if let Some(standalone) = &self.server.standalone {
            let user = self.user();
            let asker = standalone.asker(&user, subscription.is_some());
            if let Err(error) = standalone.namespaces.may_publish(&request.channel, asker) {
                self.error(id, error);
                return Ok(());
            }
            subscription.map_or_else(
                || {
                    Arc::new(ClientInfo {
                        user: Arc::clone(&user),
                        client: Arc::clone(self.client_id()),
                        conn_info: self.connected.as_ref().and_then(|c| c.conn_info.clone()),
                        chan_info: None,
                    })
                },
                |s| Arc::clone(&s.info),
            )
        } else {
            let allowed = self
                .server
                .hub
                .options(&request.channel)
                .is_some_and(|o| o.client_publish);
            let (true, Some(subscription)) = (allowed, subscription) else {
                self.error(id, ErrorReply::PERMISSION_DENIED);
                return Ok(());
            };
            Arc::clone(&subscription.info)
        };
        let publication = NewPublication {
            data: data.into(),
            info: Some(info),
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
        if let Some(standalone) = &self.server.standalone {
            let user = self.user();
            let asker = standalone.asker(&user, self.subscriptions.contains_key(&request.channel));
            if let Err(error) = standalone
                .namespaces
                .may_ask_presence(&request.channel, asker)
            {
                self.error(id, error);
                return Ok(());
            }
        } else if !self.subscriptions.contains_key(&request.channel) {
            self.error(id, ErrorReply::PERMISSION_DENIED);
            return Ok(());
        }
        let hub = &self.server.hub;
        // As Centrifugo: presence off → 108; on, but the client is anonymous and the channel
        // does not open presence to anonymous clients → 103.
        if self.server.standalone.is_none()
            && let Some(options) = hub.options(&request.channel)
            && options.presence
            && !options.presence_for_anonymous
            && self.user().is_empty()
        {
            self.error(id, ErrorReply::PERMISSION_DENIED);
            return Ok(());
        }
        let result = if stats {
            hub.presence_stats(&request.channel)
                .map(ReplyBody::PresenceStats)
        } else {
            hub.presence(&request.channel, self.server.options.max_presence_entries)
                .map(|presence| ReplyBody::Presence(PresenceResult { presence }))
        };
        match result {
            Ok(body) => self.reply(id, body),
            Err(error) => self.error(id, error),
        }
        Ok(())
    }

    fn history(&self, id: u32, request: &HistoryRequest) -> Result<(), Disconnect> {
        if let Some(standalone) = &self.server.standalone {
            let user = self.user();
            let asker = standalone.asker(&user, self.subscriptions.contains_key(&request.channel));
            if let Err(error) = standalone
                .namespaces
                .may_ask_history(&request.channel, asker)
            {
                self.error(id, error);
                return Ok(());
            }
        } else if self.server.channels.resolve(&request.channel).is_none() {
            // A name outside the declared channels is a bad request, as for Centrifugo, whose
            // `channel_regex` refuses it before any permission check.
            self.error(id, ErrorReply::BAD_REQUEST);
            return Ok(());
        } else if !self.subscriptions.contains_key(&request.channel) {
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
