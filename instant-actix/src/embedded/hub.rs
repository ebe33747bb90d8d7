//! The hub: every declared channel with its subscribers, history and presence. Pushes go into the
//! connections' outboxes ([`super::outbox`]).
//!
//! Each channel has its own lock. The fixed channels are set when the server is built; the
//! channels of a pattern (`$order_42` of `$order_{id}`) are made on first use and removed once
//! they have no subscriber and no history left, at most
//! [`EmbeddedOptions::max_pattern_channels`] at once (beyond: error 106, limit exceeded). The
//! table of those channels is locked only to find, add or remove one, never while a channel is
//! locked, and a removed channel is marked so that an operation that raced with its removal
//! looks it up again. A push is serialized once and the same bytes are queued for every
//! subscriber; queuing never blocks (sockets are written by each connection's own writer task), so
//! a slow client is cut off with 3008 instead of delaying the others. Queuing happens under the
//! channel's lock so that every subscriber sees a channel's messages in offset order, with the
//! subscribe reply (and its recovered publications) before any later publication.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use bytestring::ByteString;

use super::options::{ChannelOptions, EmbeddedOptions};
use super::outbox::ClientHandle;
use super::protocol::{
    ClientInfo, ErrorReply, ExpiryResult, HistoryResult, InfoBody, JsonText, PresenceStatsResult,
    Publication, Push, PushBody, Reply, ReplyBody, StreamPosition, SubscribeResult, encode,
    encode_publication,
};

/// What a subscriber asked for when subscribing.
#[derive(Debug)]
pub(crate) struct Subscription {
    pub(crate) handle: ClientHandle,
    pub(crate) info: Arc<ClientInfo>,
    pub(crate) join_leave: bool,
    /// Whether the subscriber is told the stream position and may recover.
    pub(crate) stream: Stream,
}

/// Whether a subscription gets the channel's stream position (`positioned`, with the epoch and
/// offset) and recovery (`recoverable`), on a channel that keeps a history. The app's server
/// gives both wherever there is a history; a standalone server as Centrifugo decides, by
/// `force_recovery` or the client asking with access to the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stream {
    pub(crate) recovery: bool,
    pub(crate) positioning: bool,
}

impl Stream {
    /// Position and recovery.
    pub(crate) const FULL: Self = Self {
        recovery: true,
        positioning: true,
    };
}

/// Where a subscribing client says it stopped, to recover what it missed.
#[derive(Debug, Clone)]
pub(crate) struct RecoverFrom {
    pub(crate) offset: u64,
    pub(crate) epoch: String,
}

/// A publication to add to a channel.
#[derive(Debug)]
pub(crate) struct NewPublication {
    pub(crate) data: JsonText,
    pub(crate) info: Option<Arc<ClientInfo>>,
    pub(crate) tags: Option<BTreeMap<String, String>>,
    pub(crate) skip_history: bool,
}

/// Where a publication landed: its offset and the history epoch, when the channel keeps history.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Position {
    pub(crate) offset: u64,
    /// Shared with the channel: most publishes do not read it.
    pub(crate) epoch: Arc<str>,
    /// How many subscribers the publication was queued for.
    pub(crate) subscribers: usize,
}

#[derive(Debug)]
struct StoredPublication {
    publication: Arc<Publication>,
    expires_at: Instant,
}

#[derive(Debug)]
struct ChannelState {
    /// Set when a pattern's channel left the table; whoever still holds it looks again.
    removed: bool,
    options: ChannelOptions,
    epoch: Arc<str>,
    top_offset: u64,
    history: VecDeque<StoredPublication>,
    subscribers: HashMap<Arc<str>, Subscription>,
}

impl ChannelState {
    fn new(options: ChannelOptions) -> Self {
        Self {
            removed: false,
            options,
            epoch: new_epoch().into(),
            top_offset: 0,
            history: VecDeque::new(),
            subscribers: HashMap::new(),
        }
    }

    /// Whether a pattern's channel may go: nobody subscribed and nothing left in its history.
    fn idle(&mut self, now: Instant) -> bool {
        self.expire_history(now);
        self.subscribers.is_empty() && self.history.is_empty()
    }

    fn expire_history(&mut self, now: Instant) {
        while self.history.front().is_some_and(|p| p.expires_at <= now) {
            self.history.pop_front();
        }
    }

    /// Queues `frame` for every subscriber; for join/leave, only those that asked for them (or
    /// all, with `force_push_join_leave`), and never anonymous ones unless the channel opens
    /// presence to them (`presence_for_anonymous`).
    fn fan_out(&self, frame: &ByteString, join_leave_only: bool) -> usize {
        let force = self.options.force_push_join_leave;
        let anonymous_too = self.options.presence_for_anonymous;
        let mut sent = 0;
        for subscriber in self.subscribers.values() {
            if !join_leave_only
                || ((force || subscriber.join_leave)
                    && (anonymous_too || !subscriber.info.user.is_empty()))
            {
                subscriber.handle.send(frame);
                sent += 1;
            }
        }
        sent
    }

    fn push_presence_change(&self, channel: &str, info: &ClientInfo, join: bool) {
        if !self.options.join_leave {
            return;
        }
        let body = if join {
            PushBody::Join(InfoBody { info })
        } else {
            PushBody::Leave(InfoBody { info })
        };
        let frame = encode(&Reply {
            id: 0,
            body: ReplyBody::Push(Push { channel, body }),
        });
        self.fan_out(&frame, true);
    }

    /// The publications after `offset`, when the history still holds all of them.
    fn publications_after(&self, offset: u64) -> Option<Vec<Arc<Publication>>> {
        if offset > self.top_offset {
            return None;
        }
        let first_kept = self
            .history
            .front()
            .map_or(self.top_offset + 1, |p| p.publication.offset);
        if offset + 1 < first_kept {
            return None;
        }
        Some(
            self.history
                .iter()
                .filter(|p| p.publication.offset > offset)
                .map(|p| Arc::clone(&p.publication))
                .collect(),
        )
    }
}

/// Counts of what the hub holds, for the server API's `info`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct HubCounts {
    pub(crate) clients: u32,
    pub(crate) users: u32,
    pub(crate) channels: u32,
    pub(crate) subscriptions: u32,
}

type SharedState = Arc<Mutex<ChannelState>>;

/// Every declared channel and every connected client.
#[derive(Debug)]
pub(crate) struct Hub {
    channels: HashMap<Box<str>, SharedState>,
    /// The declared patterns with their options.
    patterns: Vec<(instant_core::Channel, ChannelOptions)>,
    /// The channel policy of a standalone server: every channel its namespaces allow, made like
    /// a pattern's channel (on first use, within the same bound); `None` in an app.
    namespaces: Option<Arc<super::namespaces::Namespaces>>,
    /// The live channels made from patterns.
    pattern_channels: Mutex<HashMap<Box<str>, SharedState>>,
    max_pattern_channels: usize,
    /// Connected clients (after `connect`) per user id, for the user and client counts.
    users: Mutex<HashMap<Arc<str>, u32>>,
    max_history_publications: usize,
    /// The results of recent API publishes by `idempotency_key`.
    pub(crate) idempotent_results: super::api::IdempotentResults,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere must not take the whole server down with poisoned locks.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Hub {
    /// A hub for these channel names.
    pub(crate) fn new<'a>(
        names: impl IntoIterator<Item = &'a str>,
        options: &EmbeddedOptions,
    ) -> Self {
        let channels = names
            .into_iter()
            .map(|name| {
                let state = ChannelState::new(options.channel_options(name).clone());
                (Box::from(name), Arc::new(Mutex::new(state)))
            })
            .collect();
        Self {
            channels,
            patterns: Vec::new(),
            namespaces: None,
            pattern_channels: Mutex::new(HashMap::new()),
            max_pattern_channels: options.max_pattern_channels,
            users: Mutex::new(HashMap::new()),
            max_history_publications: options.max_history_publications,
            idempotent_results: super::api::IdempotentResults::default(),
        }
    }

    /// Adds the declared patterns, each with its options (those of the `[[channels]]` entry or
    /// the override named by the pattern itself).
    pub(crate) fn with_patterns(
        mut self,
        patterns: impl IntoIterator<Item = (instant_core::Channel, ChannelOptions)>,
    ) -> Self {
        self.patterns.extend(patterns);
        self
    }

    /// Makes channels by namespace rules instead of declarations (the standalone server).
    pub(crate) fn with_namespaces(
        mut self,
        namespaces: Arc<super::namespaces::Namespaces>,
    ) -> Self {
        self.namespaces = Some(namespaces);
        self
    }

    /// The options of the pattern (or namespace) that makes `name`, if one does.
    fn pattern_options(&self, name: &str) -> Option<&ChannelOptions> {
        if let Some(namespaces) = &self.namespaces {
            return namespaces.channel_options(name);
        }
        self.patterns
            .iter()
            .find(|(pattern, _)| pattern.matches(name).is_some())
            .map(|(_, options)| options)
    }

    /// The state of channel `name`: a fixed channel, or a pattern's channel, made when `create`
    /// and missing (`Ok(None)` when missing and not made).
    fn lookup(&self, name: &str, create: bool) -> Result<Option<SharedState>, ErrorReply> {
        if let Some(state) = self.channels.get(name) {
            return Ok(Some(Arc::clone(state)));
        }
        let Some(options) = self.pattern_options(name) else {
            return Err(ErrorReply::UNKNOWN_CHANNEL);
        };
        let mut live = lock(&self.pattern_channels);
        if let Some(state) = live.get(name) {
            return Ok(Some(Arc::clone(state)));
        }
        if !create {
            return Ok(None);
        }
        if live.len() >= self.max_pattern_channels {
            sweep(&mut live);
            if live.len() >= self.max_pattern_channels {
                tracing::warn!(
                    channel = name,
                    limit = self.max_pattern_channels,
                    "embedded server: too many live pattern channels (max_pattern_channels)"
                );
                return Err(ErrorReply::LIMIT_EXCEEDED);
            }
        }
        let state = Arc::new(Mutex::new(ChannelState::new(options.clone())));
        live.insert(Box::from(name), Arc::clone(&state));
        Ok(Some(state))
    }

    /// Runs `f` on the state of channel `name` (made when missing, see [`Hub::lookup`]), looking
    /// again when a pattern's channel was removed in between.
    fn with_channel<R>(
        &self,
        name: &str,
        create: bool,
        f: impl FnOnce(&mut ChannelState) -> R,
    ) -> Result<Option<R>, ErrorReply> {
        let mut f = Some(f);
        loop {
            let Some(shared) = self.lookup(name, create)? else {
                return Ok(None);
            };
            let mut state = lock(&shared);
            if state.removed {
                continue;
            }
            let f = f.take().expect("called once");
            return Ok(Some(f(&mut state)));
        }
    }

    /// Runs `f` on channel `name`, made when missing.
    fn on_channel<R>(
        &self,
        name: &str,
        f: impl FnOnce(&mut ChannelState) -> Result<R, ErrorReply>,
    ) -> Result<R, ErrorReply> {
        self.with_channel(name, true, f)?
            .unwrap_or(Err(ErrorReply::UNKNOWN_CHANNEL))
    }

    /// Removes a pattern's channel once it has no subscriber and no history left.
    fn release(&self, name: &str) {
        if self.channels.contains_key(name) {
            return;
        }
        let mut live = lock(&self.pattern_channels);
        let idle = live.get(name).is_some_and(|shared| {
            let mut state = lock(shared);
            let idle = state.idle(Instant::now());
            state.removed = idle;
            idle
        });
        if idle {
            live.remove(name);
        }
    }

    /// The top offset and epoch of a channel that keeps a history (a pattern's channel is made
    /// for it), for a page to subscribe from; `None` without history or for an unknown channel.
    pub(crate) fn stream_position(&self, name: &str) -> Option<(u64, String)> {
        if !self.options(name)?.has_history() {
            return None;
        }
        self.on_channel(name, |state| {
            Ok((state.top_offset, String::from(&*state.epoch)))
        })
        .ok()
    }

    /// How many pattern channels are live.
    pub(crate) fn live_pattern_channels(&self) -> usize {
        lock(&self.pattern_channels).len()
    }

    /// The options of a declared channel, or of the pattern that makes it.
    pub(crate) fn options(&self, name: &str) -> Option<ChannelOptions> {
        match self.channels.get(name) {
            Some(state) => Some(lock(state).options.clone()),
            None => self.pattern_options(name).cloned(),
        }
    }

    /// Adds a publication to a channel: history, then every subscriber.
    pub(crate) fn publish(
        &self,
        channel: &str,
        new: NewPublication,
    ) -> Result<Position, ErrorReply> {
        // A declared channel is always there: one lookup, one lock.
        if let Some(state) = self.channels.get(channel) {
            return Ok(publish_into(&mut lock(state), channel, new));
        }
        // A pattern's channel without state and without history has nobody to tell and nothing
        // to keep: it is not made for this.
        let create = self.options(channel).is_some_and(|o| o.has_history()) && !new.skip_history;
        let outcome =
            self.with_channel(channel, create, |state| publish_into(state, channel, new))?;
        Ok(outcome.unwrap_or_default())
    }
}

/// [`Hub::publish`] on a locked channel.
fn publish_into(state: &mut ChannelState, channel: &str, new: NewPublication) -> Position {
    {
        // Publications that skip the history get no offset, as in Centrifugo.
        let keep = state.options.has_history() && !new.skip_history;
        let offset = if keep {
            state.top_offset += 1;
            state.top_offset
        } else {
            0
        };
        let publication = Arc::new(Publication {
            data: new.data,
            info: new.info,
            offset,
            tags: new.tags,
        });
        if keep {
            let now = Instant::now();
            state.expire_history(now);
            let ttl = state.options.history_ttl;
            state.history.push_back(StoredPublication {
                publication: Arc::clone(&publication),
                expires_at: now + ttl,
            });
            while state.history.len() > state.options.history_size {
                state.history.pop_front();
            }
        }
        // Nobody subscribed: no frame to write.
        let subscribers = if state.subscribers.is_empty() {
            0
        } else {
            state.fan_out(&encode_publication(channel, &publication), false)
        };
        if keep {
            Position {
                offset,
                epoch: Arc::clone(&state.epoch),
                subscribers,
            }
        } else {
            Position {
                subscribers,
                ..Position::default()
            }
        }
    }
}

impl Hub {
    /// Adds a subscriber and queues its subscribe reply (with any recovered publications) and the
    /// join message, all under the channel's lock so that no publication slips in between.
    pub(crate) fn subscribe(
        &self,
        channel: &str,
        reply_id: u32,
        subscription: Subscription,
        recover: Option<RecoverFrom>,
        expiry: ExpiryResult,
    ) -> Result<(), ErrorReply> {
        let max_history_publications = self.max_history_publications;
        self.on_channel(channel, |state| {
            subscribe_into(
                state,
                channel,
                reply_id,
                subscription,
                recover,
                expiry,
                max_history_publications,
            );
            Ok(())
        })
    }
}

/// [`Hub::subscribe`] on a locked channel.
fn subscribe_into(
    state: &mut ChannelState,
    channel: &str,
    reply_id: u32,
    subscription: Subscription,
    recover: Option<RecoverFrom>,
    expiry: ExpiryResult,
    max_history_publications: usize,
) {
    {
        state.expire_history(Instant::now());
        let mut result = SubscribeResult {
            expires: expiry.expires,
            ttl: expiry.ttl,
            ..SubscribeResult::default()
        };
        let stream = subscription.stream;
        if !stream.recovery && recover.is_some() {
            // Asked, not granted: Centrifugo answers that it was asked, and nothing more.
            result.was_recovering = true;
        }
        if state.options.has_history() && (stream.recovery || stream.positioning) {
            result.recoverable = stream.recovery;
            result.positioned = true;
            result.epoch = String::from(&*state.epoch);
            result.offset = state.top_offset;
            if let Some(from) = recover.filter(|_| stream.recovery) {
                result.was_recovering = true;
                if *from.epoch == *state.epoch
                    && let Some(missed) = state.publications_after(from.offset)
                    && missed.len() <= max_history_publications
                {
                    result.recovered = true;
                    // The client moves its position forward through the publications.
                    result.offset = from.offset;
                    result.publications = missed;
                }
            }
        }
        let frame = encode(&Reply {
            id: reply_id,
            body: ReplyBody::Subscribe(result),
        });
        let info = Arc::clone(&subscription.info);
        let id = Arc::clone(subscription.handle.id());
        subscription.handle.send(&frame);
        state.subscribers.insert(id, subscription);
        state.push_presence_change(channel, &info, true);
    }
}

/// Removes the idle pattern channels of the table.
fn sweep(live: &mut HashMap<Box<str>, SharedState>) {
    let now = Instant::now();
    live.retain(|_, shared| {
        let mut state = lock(shared);
        let idle = state.idle(now);
        state.removed = idle;
        !idle
    });
}

impl Hub {
    /// Removes a subscriber and tells the others it left. Returns whether it was subscribed. A
    /// pattern's channel left with no subscriber and no history goes.
    pub(crate) fn unsubscribe(&self, channel: &str, client: &str) -> bool {
        let removed = self.with_channel(channel, false, |state| {
            match state.subscribers.remove(client) {
                Some(subscription) => {
                    state.push_presence_change(channel, &subscription.info, false);
                    true
                }
                None => false,
            }
        });
        self.release(channel);
        matches!(removed, Ok(Some(true)))
    }

    /// Who is subscribed, by client id: at most `limit` entries (the first by client id).
    pub(crate) fn presence(
        &self,
        channel: &str,
        limit: usize,
    ) -> Result<BTreeMap<Arc<str>, Arc<ClientInfo>>, ErrorReply> {
        self.on_channel(channel, |state| presence_of(state, limit))
    }

    /// How many clients and distinct users are subscribed.
    pub(crate) fn presence_stats(&self, channel: &str) -> Result<PresenceStatsResult, ErrorReply> {
        self.on_channel(channel, presence_stats_of)
    }

    /// The history: `limit` 0 gives only the position, a negative limit as many as allowed.
    pub(crate) fn history(
        &self,
        channel: &str,
        limit: i64,
        since: Option<&StreamPosition>,
        reverse: bool,
    ) -> Result<HistoryResult, ErrorReply> {
        let max = self.max_history_publications;
        self.on_channel(channel, |state| {
            history_of(state, limit, since, reverse, max)
        })
    }
}

fn presence_of(
    state: &mut ChannelState,
    limit: usize,
) -> Result<BTreeMap<Arc<str>, Arc<ClientInfo>>, ErrorReply> {
    {
        if !state.options.presence {
            return Err(ErrorReply::NOT_AVAILABLE);
        }
        if state.subscribers.len() > limit {
            let mut ids: Vec<&Arc<str>> = state.subscribers.keys().collect();
            ids.sort_unstable();
            return Ok(ids
                .into_iter()
                .take(limit)
                .map(|id| (Arc::clone(id), Arc::clone(&state.subscribers[id].info)))
                .collect());
        }
        Ok(state
            .subscribers
            .iter()
            .map(|(id, s)| (Arc::clone(id), Arc::clone(&s.info)))
            .collect())
    }
}

fn presence_stats_of(state: &mut ChannelState) -> Result<PresenceStatsResult, ErrorReply> {
    {
        if !state.options.presence {
            return Err(ErrorReply::NOT_AVAILABLE);
        }
        let mut users: Vec<&str> = state.subscribers.values().map(|s| &*s.info.user).collect();
        users.sort_unstable();
        users.dedup();
        Ok(PresenceStatsResult {
            num_clients: u32::try_from(state.subscribers.len()).unwrap_or(u32::MAX),
            num_users: u32::try_from(users.len()).unwrap_or(u32::MAX),
        })
    }
}

fn history_of(
    state: &mut ChannelState,
    limit: i64,
    since: Option<&StreamPosition>,
    reverse: bool,
    max: usize,
) -> Result<HistoryResult, ErrorReply> {
    {
        if !state.options.has_history() {
            return Err(ErrorReply::NOT_AVAILABLE);
        }
        state.expire_history(Instant::now());
        if let Some(since) = since
            && *since.epoch != *state.epoch
        {
            return Err(ErrorReply::UNRECOVERABLE_POSITION);
        }
        let limit = match usize::try_from(limit) {
            Ok(n) => n.min(max),
            Err(_) => max,
        };
        let selected = state.history.iter().filter(|p| match since {
            None => true,
            Some(s) if reverse => p.publication.offset < s.offset,
            Some(s) => p.publication.offset > s.offset,
        });
        let publications: Vec<_> = if reverse {
            selected
                .rev()
                .take(limit)
                .map(|p| Arc::clone(&p.publication))
                .collect()
        } else {
            selected
                .take(limit)
                .map(|p| Arc::clone(&p.publication))
                .collect()
        };
        Ok(HistoryResult {
            publications,
            epoch: String::from(&*state.epoch),
            offset: state.top_offset,
        })
    }
}

impl Hub {
    /// Records a connected client of `user`.
    pub(crate) fn add_user(&self, user: &Arc<str>) {
        *lock(&self.users).entry(Arc::clone(user)).or_insert(0) += 1;
    }

    /// Forgets a connected client of `user`.
    pub(crate) fn remove_user(&self, user: &str) {
        let mut users = lock(&self.users);
        if let Some(count) = users.get_mut(user) {
            *count -= 1;
            if *count == 0 {
                users.remove(user);
            }
        }
    }

    /// The counts for the server API's `info`.
    pub(crate) fn counts(&self) -> HubCounts {
        let (clients, users) = {
            let users = lock(&self.users);
            (users.values().sum::<u32>(), users.len())
        };
        let mut counts = HubCounts {
            clients,
            users: u32::try_from(users).unwrap_or(u32::MAX),
            ..HubCounts::default()
        };
        let live: Vec<SharedState> = lock(&self.pattern_channels).values().cloned().collect();
        for channel in self.channels.values().chain(&live) {
            let n = lock(channel).subscribers.len();
            if n > 0 {
                counts.channels += 1;
                counts.subscriptions += u32::try_from(n).unwrap_or(u32::MAX);
            }
        }
        counts
    }
}

/// A fresh history epoch: 8 random letters, as Centrifugo's memory engine makes.
fn new_epoch() -> String {
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let bytes = uuid::Uuid::new_v4().into_bytes();
    bytes[..8]
        .iter()
        .map(|b| char::from(LETTERS[usize::from(*b) % LETTERS.len()]))
        .collect()
}

/// The whole seconds left until `exp` (seconds since the Unix epoch), at least 1.
pub(crate) fn ttl_until(exp: u64) -> (u32, Duration) {
    let left = exp.saturating_sub(instant_core::now_secs()).max(1);
    (
        u32::try_from(left).unwrap_or(u32::MAX),
        Duration::from_secs(left),
    )
}

#[cfg(test)]
mod tests {
    use serde_json::value::RawValue;

    use super::*;
    use crate::embedded::outbox::ClientQueue;
    use crate::embedded::protocol::Disconnect;

    fn raw(json: &str) -> Box<RawValue> {
        RawValue::from_string(json.to_owned()).unwrap()
    }

    fn new_pub(n: u32) -> NewPublication {
        NewPublication {
            data: raw(&format!(r#"{{"n":{n}}}"#)).into(),
            info: None,
            tags: None,
            skip_history: false,
        }
    }

    fn hub(history_size: usize) -> Hub {
        let mut options = EmbeddedOptions::default();
        options.channel_defaults.history_size = history_size;
        Hub::new(["news"], &options)
    }

    fn subscriber(id: &str, max: usize) -> (Subscription, ClientQueue, ClientHandle) {
        let (handle, queue) = ClientHandle::new(Arc::from(id), max);
        let info = Arc::new(ClientInfo {
            user: Arc::from("u"),
            client: Arc::from(id),
            conn_info: None,
            chan_info: None,
        });
        (
            Subscription {
                handle: handle.clone(),
                info,
                join_leave: false,
                stream: Stream::FULL,
            },
            queue,
            handle,
        )
    }

    fn drain(queue: &mut ClientQueue) -> Vec<String> {
        let mut frames = Vec::new();
        while let Ok(frame) = queue.frames.try_recv() {
            frames.push(frame.to_string());
        }
        frames
    }

    #[test]
    fn publications_get_increasing_offsets_and_undeclared_channels_are_refused() {
        let hub = hub(10);
        let first = hub.publish("news", new_pub(1)).unwrap();
        let second = hub.publish("news", new_pub(2)).unwrap();
        assert_eq!((first.offset, second.offset), (1, 2));
        assert_eq!(first.epoch, second.epoch);
        assert_eq!(first.epoch.len(), 8);
        assert_eq!(
            hub.publish("other", new_pub(3)).unwrap_err(),
            ErrorReply::UNKNOWN_CHANNEL
        );
    }

    #[test]
    fn recovery_returns_exactly_the_missed_publications() {
        let hub = hub(3);
        let position = hub.publish("news", new_pub(1)).unwrap();
        hub.publish("news", new_pub(2)).unwrap();
        hub.publish("news", new_pub(3)).unwrap();
        let (sub, mut queue, _) = subscriber("c1", 1 << 20);
        let from = RecoverFrom {
            offset: position.offset,
            epoch: String::from(&*position.epoch),
        };
        hub.subscribe("news", 7, sub, Some(from), ExpiryResult::default())
            .unwrap();
        let frames = drain(&mut queue);
        assert_eq!(frames.len(), 1);
        let reply: serde_json::Value = serde_json::from_str(&frames[0]).unwrap();
        let result = &reply["subscribe"];
        assert_eq!(result["recovered"], true);
        assert_eq!(result["was_recovering"], true);
        let offsets: Vec<_> = result["publications"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["offset"].as_u64().unwrap())
            .collect();
        assert_eq!(offsets, [2, 3]);
    }

    #[test]
    fn recovery_fails_when_the_history_lost_publications_or_the_epoch_differs() {
        let hub = hub(2);
        let position = hub.publish("news", new_pub(1)).unwrap();
        for n in 2..=4 {
            hub.publish("news", new_pub(n)).unwrap();
        }
        for from in [
            RecoverFrom {
                offset: position.offset,
                epoch: String::from(&*position.epoch),
            },
            RecoverFrom {
                offset: 3,
                epoch: "other".into(),
            },
        ] {
            let (sub, mut queue, _) = subscriber("c1", 1 << 20);
            hub.subscribe("news", 1, sub, Some(from), ExpiryResult::default())
                .unwrap();
            let reply: serde_json::Value = serde_json::from_str(&drain(&mut queue)[0]).unwrap();
            assert_eq!(reply["subscribe"]["was_recovering"], true);
            assert!(reply["subscribe"].get("recovered").is_none());
            assert!(reply["subscribe"].get("publications").is_none());
            assert_eq!(reply["subscribe"]["offset"], 4);
            hub.unsubscribe("news", "c1");
        }
    }

    #[test]
    fn a_client_over_its_queue_limit_is_disconnected_as_slow_and_others_still_get_everything() {
        let hub = hub(0);
        let (slow, _slow_queue, slow_handle) = subscriber("slow", 200);
        let (fast, mut fast_queue, _) = subscriber("fast", 1 << 20);
        hub.subscribe("news", 1, slow, None, ExpiryResult::default())
            .unwrap();
        hub.subscribe("news", 1, fast, None, ExpiryResult::default())
            .unwrap();
        for n in 0..20 {
            hub.publish("news", new_pub(n)).unwrap();
        }
        assert_eq!(slow_handle.disconnect_reason(), Some(Disconnect::SLOW));
        assert_eq!(drain(&mut fast_queue).len(), 21);
    }

    #[test]
    fn a_publication_is_serialized_once_and_its_bytes_shared_by_every_subscriber() {
        let hub = hub(10);
        let mut queues = Vec::new();
        for id in ["a", "b", "c"] {
            let (sub, queue, _) = subscriber(id, 1 << 20);
            hub.subscribe("news", 1, sub, None, ExpiryResult::default())
                .unwrap();
            queues.push(queue);
        }
        hub.publish("news", new_pub(1)).unwrap();
        let frames: Vec<ByteString> = queues
            .iter_mut()
            .map(|queue| {
                let _subscribe_reply = queue.frames.try_recv().unwrap();
                queue.frames.try_recv().unwrap()
            })
            .collect();
        assert!(frames.iter().all(|f| f.as_ptr() == frames[0].as_ptr()));
        assert!(frames[0].contains(r#""pub":{"data":{"n":1},"offset":1}"#));
    }

    fn pattern_hub(max: usize, history_size: usize) -> Hub {
        let options = EmbeddedOptions {
            max_pattern_channels: max,
            ..EmbeddedOptions::default()
        };
        let mut order = ChannelOptions::default();
        order.history_size = history_size;
        let pattern =
            instant_core::Channel::new("$order_{id}", instant_core::Level::Users).unwrap();
        Hub::new(["news"], &options).with_patterns([(pattern, order)])
    }

    #[test]
    fn pattern_channels_live_while_used_and_within_the_bound() {
        let hub = pattern_hub(2, 0);
        // No history and nobody subscribed: a publication makes no channel.
        assert_eq!(
            hub.publish("$order_1", new_pub(1)).unwrap(),
            Position::default()
        );
        assert_eq!(hub.live_pattern_channels(), 0);
        let (a, mut queue_a, _) = subscriber("a", 1 << 20);
        let (b, _queue_b, _) = subscriber("b", 1 << 20);
        let (c, _queue_c, _) = subscriber("c", 1 << 20);
        hub.subscribe("$order_1", 1, a, None, ExpiryResult::default())
            .unwrap();
        hub.subscribe("$order_2", 1, b, None, ExpiryResult::default())
            .unwrap();
        assert_eq!(hub.live_pattern_channels(), 2);
        assert_eq!(
            hub.subscribe("$order_3", 1, c, None, ExpiryResult::default())
                .unwrap_err(),
            ErrorReply::LIMIT_EXCEEDED
        );
        hub.publish("$order_1", new_pub(2)).unwrap();
        let frames = drain(&mut queue_a);
        assert!(frames[1].contains(r#""channel":"$order_1""#), "{frames:?}");
        assert_eq!(
            hub.publish("$orders_1", new_pub(3)).unwrap_err(),
            ErrorReply::UNKNOWN_CHANNEL
        );
        // The last subscriber leaves: the channel goes, and its slot is free again.
        assert!(hub.unsubscribe("$order_2", "b"));
        assert_eq!(hub.live_pattern_channels(), 1);
        let (c, _queue_c, _) = subscriber("c", 1 << 20);
        hub.subscribe("$order_3", 1, c, None, ExpiryResult::default())
            .unwrap();
        assert_eq!(hub.counts().channels, 2);
    }

    #[test]
    fn a_pattern_channel_with_history_stays_until_its_history_expires() {
        let hub = pattern_hub(1, 10);
        let position = hub.publish("$order_1", new_pub(1)).unwrap();
        assert_eq!(position.offset, 1);
        assert_eq!(hub.live_pattern_channels(), 1);
        let history = hub.history("$order_1", -1, None, false).unwrap();
        assert_eq!(history.publications.len(), 1);
        assert_eq!(*history.epoch, *position.epoch);
        // Full, and the channel still holds its history: no room for another.
        assert_eq!(
            hub.publish("$order_2", new_pub(1)).unwrap_err(),
            ErrorReply::LIMIT_EXCEEDED
        );
        // Once the history is gone, the sweep makes room.
        lock(&lock(&hub.pattern_channels)["$order_1"])
            .history
            .clear();
        hub.publish("$order_2", new_pub(1)).unwrap();
        assert_eq!(hub.live_pattern_channels(), 1);
    }

    #[test]
    fn history_honours_limit_since_and_reverse() {
        let hub = hub(10);
        for n in 1..=5 {
            hub.publish("news", new_pub(n)).unwrap();
        }
        let offsets =
            |r: HistoryResult| -> Vec<u64> { r.publications.iter().map(|p| p.offset).collect() };
        assert!(offsets(hub.history("news", 0, None, false).unwrap()).is_empty());
        assert_eq!(
            offsets(hub.history("news", 2, None, false).unwrap()),
            [1, 2]
        );
        assert_eq!(offsets(hub.history("news", 2, None, true).unwrap()), [5, 4]);
        let epoch = hub.history("news", 0, None, false).unwrap().epoch;
        let since = StreamPosition { offset: 3, epoch };
        assert_eq!(
            offsets(hub.history("news", -1, Some(&since), false).unwrap()),
            [4, 5]
        );
        let wrong = StreamPosition {
            offset: 3,
            epoch: "x".into(),
        };
        assert_eq!(
            hub.history("news", -1, Some(&wrong), false).unwrap_err(),
            ErrorReply::UNRECOVERABLE_POSITION
        );
    }
}
