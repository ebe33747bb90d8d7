//! A recording [`Backend`] and assertions on what it recorded, for the apps' own tests.
//!
//! Give a [`RecordingBackend`] to the app instead of the real server (in the actix-web set-up:
//! `Realtime::builder().backend(recorder.clone())`, or [`RecordingBackend::publisher`] for code
//! that takes a [`Publisher`]), run the code under test, then assert:
//!
//! ```
//! use instant_core::testing::RecordingBackend;
//!
//! let recorder = RecordingBackend::new();
//! let publisher = recorder.publisher("mysite");
//!
//! // The code under test; awaiting the publish records it the same way.
//! publisher.publish("$orders", "Order shipped").event_class("ok").detach();
//!
//! let event = recorder.assert_published_with("$orders", |e| e.event_class == "ok");
//! assert_eq!(event.message, "Order shipped");
//! recorder.assert_published_times("$orders", 1);
//! recorder.assert_not_published("news");
//! ```
//!
//! A failing assertion panics with every event recorded so far, one per line.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde::de::DeserializeOwned;

use crate::backend::{Backend, BoxFuture, DeliveryStats, PublishError, PublishReceipt, Publisher};
use crate::event::Event;
use crate::presence::PresenceClient;

/// A backend that records events instead of sending them, for the apps' own tests. Clones share
/// one record.
///
/// [`RecordingBackend::failing`] makes one that refuses every publish, to test how an app copes
/// with an unreachable server.
///
/// ```
/// use instant_core::testing::RecordingBackend;
///
/// let recorder = RecordingBackend::new();
/// recorder.publisher("mysite").publish("news", "Hello").detach();
/// assert_eq!(recorder.events()[0].message, "Hello");
/// recorder.clear();
/// recorder.assert_nothing_published();
/// ```
#[derive(Debug, Default, Clone)]
pub struct RecordingBackend {
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    events: Vec<Event>,
    /// The error every publish gets, for a failing backend.
    failure: Option<PublishError>,
    /// Events refused because of `failure`.
    refused: u64,
    /// What [`Backend::presence`] answers, per channel.
    presence: std::collections::HashMap<String, Vec<PresenceClient>>,
}

impl RecordingBackend {
    /// An empty recorder.
    ///
    /// ```
    /// assert!(instant_core::testing::RecordingBackend::new().events().is_empty());
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A backend that refuses every publish with `error`: awaited publishes return it, detached
    /// ones are counted as dropped, and nothing is recorded.
    ///
    /// ```
    /// use instant_core::testing::RecordingBackend;
    /// use instant_core::{Backend as _, PublishError};
    ///
    /// let down = RecordingBackend::failing(PublishError::NotRunning("test".into()));
    /// down.publisher("mysite").publish("news", "Hello").detach();
    /// assert_eq!(down.stats().dropped, 1);
    /// down.assert_nothing_published();
    /// ```
    #[must_use]
    pub fn failing(error: PublishError) -> Self {
        let backend = Self::default();
        backend.lock().failure = Some(error);
        backend
    }

    /// A [`Publisher`] for site `site` publishing into this recorder.
    ///
    /// ```
    /// let recorder = instant_core::testing::RecordingBackend::new();
    /// assert_eq!(recorder.publisher("mysite").site(), "mysite");
    /// ```
    #[must_use]
    pub fn publisher(&self, site: &str) -> Publisher {
        Publisher::new(Arc::new(self.clone()), site)
    }

    /// Every event published so far, in order.
    ///
    /// ```
    /// let recorder = instant_core::testing::RecordingBackend::new();
    /// recorder.publisher("s").publish("news", "a").detach();
    /// assert_eq!(recorder.events().len(), 1);
    /// ```
    #[must_use]
    pub fn events(&self) -> Vec<Event> {
        self.lock().events.clone()
    }

    /// The events published on `channel`, in order.
    ///
    /// ```
    /// let recorder = instant_core::testing::RecordingBackend::new();
    /// recorder.publisher("s").publish("news", "a").detach();
    /// recorder.publisher("s").publish("other", "b").detach();
    /// assert_eq!(recorder.events_on("news").len(), 1);
    /// ```
    #[must_use]
    pub fn events_on(&self, channel: impl AsRef<str>) -> Vec<Event> {
        let channel = channel.as_ref();
        self.lock()
            .events
            .iter()
            .filter(|e| e.channel == channel)
            .cloned()
            .collect()
    }

    /// Forgets the events recorded so far.
    ///
    /// ```
    /// let recorder = instant_core::testing::RecordingBackend::new();
    /// recorder.publisher("s").publish("news", "a").detach();
    /// recorder.clear();
    /// assert!(recorder.events().is_empty());
    /// ```
    pub fn clear(&self) {
        self.lock().events.clear();
    }

    /// Asserts that an event was published on `channel` and returns the first one.
    ///
    /// # Panics
    /// When none was, listing every event recorded.
    ///
    /// ```
    /// let recorder = instant_core::testing::RecordingBackend::new();
    /// recorder.publisher("s").publish("news", "Hello").detach();
    /// assert_eq!(recorder.assert_published("news").message, "Hello");
    /// ```
    #[track_caller]
    pub fn assert_published(&self, channel: impl AsRef<str>) -> Event {
        self.assert_published_with(channel, |_| true)
    }

    /// Asserts that an event matching `predicate` was published on `channel` and returns the
    /// first such event.
    ///
    /// # Panics
    /// When none was, listing every event recorded.
    ///
    /// ```
    /// let recorder = instant_core::testing::RecordingBackend::new();
    /// recorder.publisher("s").publish("news", "Hello").event_class("info").detach();
    /// recorder.assert_published_with("news", |e| e.event_class == "info");
    /// ```
    #[track_caller]
    pub fn assert_published_with(
        &self,
        channel: impl AsRef<str>,
        predicate: impl Fn(&Event) -> bool,
    ) -> Event {
        let channel = channel.as_ref();
        let state = self.lock();
        if let Some(event) = state
            .events
            .iter()
            .find(|e| e.channel == channel && predicate(e))
        {
            return event.clone();
        }
        let on_channel = state.events.iter().filter(|e| e.channel == channel).count();
        let what = if on_channel == 0 {
            "no event was published on it".to_owned()
        } else {
            format!("{on_channel} event(s) were published on it, none matching the predicate")
        };
        panic!(
            "expected an event on `{channel}`, but {what}\n{}",
            listing(&state.events)
        );
    }

    /// Asserts that an event was published on `channel` whose `data` reads as a `T` matching
    /// `predicate`, and returns that `T`: for events made from typed values.
    ///
    /// # Panics
    /// When none was, listing every event recorded.
    ///
    /// ```
    /// use serde::Deserialize;
    ///
    /// #[derive(Deserialize)]
    /// struct Shipped {
    ///     id: u64,
    /// }
    ///
    /// let recorder = instant_core::testing::RecordingBackend::new();
    /// recorder.publisher("s").publish("$orders", "Shipped").data(serde_json::json!({"id": 7})).detach();
    /// let shipped: Shipped = recorder.assert_published_data("$orders", |s: &Shipped| s.id == 7);
    /// assert_eq!(shipped.id, 7);
    /// ```
    #[track_caller]
    pub fn assert_published_data<T: DeserializeOwned>(
        &self,
        channel: impl AsRef<str>,
        predicate: impl Fn(&T) -> bool,
    ) -> T {
        let event = self.assert_published_with(channel, |e| {
            T::deserialize(&e.data).is_ok_and(|data| predicate(&data))
        });
        T::deserialize(&event.data)
            .unwrap_or_else(|_| unreachable!("the data deserialized a moment ago"))
    }

    /// Asserts that exactly `times` events were published on `channel`, and returns them.
    ///
    /// # Panics
    /// When another number was, listing every event recorded.
    ///
    /// ```
    /// let recorder = instant_core::testing::RecordingBackend::new();
    /// recorder.publisher("s").publish("news", "a").detach();
    /// recorder.publisher("s").publish("news", "b").detach();
    /// recorder.assert_published_times("news", 2);
    /// ```
    #[track_caller]
    pub fn assert_published_times(&self, channel: impl AsRef<str>, times: usize) -> Vec<Event> {
        let channel = channel.as_ref();
        let state = self.lock();
        let events: Vec<Event> = state
            .events
            .iter()
            .filter(|e| e.channel == channel)
            .cloned()
            .collect();
        assert!(
            events.len() == times,
            "expected {times} event(s) on `{channel}`, but {} were published on it\n{}",
            events.len(),
            listing(&state.events)
        );
        events
    }

    /// Asserts that nothing was published on `channel`.
    ///
    /// # Panics
    /// When something was, listing every event recorded.
    ///
    /// ```
    /// let recorder = instant_core::testing::RecordingBackend::new();
    /// recorder.publisher("s").publish("news", "a").detach();
    /// recorder.assert_not_published("$admin");
    /// ```
    #[track_caller]
    pub fn assert_not_published(&self, channel: impl AsRef<str>) {
        self.assert_published_times(channel, 0);
    }

    /// Asserts that nothing was published at all.
    ///
    /// # Panics
    /// When something was, listing every event recorded.
    ///
    /// ```
    /// instant_core::testing::RecordingBackend::new().assert_nothing_published();
    /// ```
    #[track_caller]
    pub fn assert_nothing_published(&self) {
        let state = self.lock();
        assert!(
            state.events.is_empty(),
            "expected no event, but {} were published\n{}",
            state.events.len(),
            listing(&state.events)
        );
    }

    /// Sets who is on `channel`, for [`Publisher::presence`] in tests: the subscribed clients
    /// (one per tab). A channel never set answers error 108, as a channel without presence.
    ///
    /// ```
    /// use instant_core::presence::PresenceClient;
    /// use instant_core::testing::RecordingBackend;
    ///
    /// let recorder = RecordingBackend::new();
    /// recorder.set_presence("chat", [PresenceClient::new("tab-1", "alice")]);
    /// ```
    pub fn set_presence(&self, channel: &str, clients: impl IntoIterator<Item = PresenceClient>) {
        self.lock()
            .presence
            .insert(channel.to_owned(), clients.into_iter().collect());
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn record(&self, event: Event) -> Result<PublishReceipt, PublishError> {
        let mut state = self.lock();
        if let Some(error) = &state.failure {
            let error = error.clone();
            state.refused += 1;
            return Err(error);
        }
        state.events.push(event);
        Ok(PublishReceipt::default())
    }
}

/// The recorded events, one per line, for a panic message.
fn listing(events: &[Event]) -> String {
    if events.is_empty() {
        return "published events: none".to_owned();
    }
    let mut out = format!("published events ({}):", events.len());
    for (i, e) in events.iter().enumerate() {
        let _ = write!(
            out,
            "\n  {}. channel `{}`, class {:?}, message {:?}, data {}",
            i + 1,
            e.channel,
            e.event_class,
            e.message,
            e.data
        );
    }
    out
}

impl Backend for RecordingBackend {
    fn publish(&self, event: Event) -> BoxFuture<'_, Result<PublishReceipt, PublishError>> {
        Box::pin(std::future::ready(self.record(event)))
    }

    fn publish_detached(&self, event: Event) {
        // A refusal is counted in `stats`, as a real backend counts a dropped event.
        let _ = self.record(event);
    }

    fn presence(&self, channel: &str) -> BoxFuture<'_, Result<Vec<PresenceClient>, PublishError>> {
        let answer =
            self.lock()
                .presence
                .get(channel)
                .cloned()
                .ok_or_else(|| PublishError::Server {
                    code: 108,
                    message: "not available".to_owned(),
                });
        Box::pin(std::future::ready(answer))
    }

    fn stats_include_awaited(&self) -> bool {
        true
    }

    fn stats(&self) -> DeliveryStats {
        let state = self.lock();
        let delivered = state.events.len() as u64;
        DeliveryStats {
            queued: delivered + state.refused,
            delivered,
            dropped: state.refused,
            ..DeliveryStats::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use std::future::IntoFuture as _;

    use super::*;

    fn recorder_with_two_events() -> RecordingBackend {
        let recorder = RecordingBackend::new();
        let publisher = recorder.publisher("mysite");
        publisher
            .publish("$orders", "New order")
            .event_class("object created")
            .data(serde_json::json!({"id": 7}))
            .detach();
        publisher.publish("news", "Hello").detach();
        recorder
    }

    fn panic_message(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
        let payload = std::panic::catch_unwind(f).expect_err("the assertion panics");
        payload
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default()
    }

    #[test]
    fn a_missing_event_panics_with_what_was_published() {
        let recorder = recorder_with_two_events();
        let message = panic_message(move || {
            recorder.assert_published("$admin");
        });
        assert!(
            message.starts_with("expected an event on `$admin`, but no event was published on it"),
            "{message}"
        );
        assert!(message.contains("published events (2):"), "{message}");
        assert!(
            message.contains(
                "1. channel `$orders`, class \"object created\", message \"New order\", data {\"id\":7}"
            ),
            "{message}"
        );
        assert!(message.contains("2. channel `news`"), "{message}");
    }

    #[test]
    fn a_predicate_that_matches_nothing_panics() {
        let recorder = recorder_with_two_events();
        assert_eq!(
            recorder
                .assert_published_with("$orders", |e| e.data["id"] == 7)
                .message,
            "New order"
        );
        let message = panic_message(move || {
            recorder.assert_published_with("$orders", |e| e.data["id"] == 8);
        });
        assert!(
            message.contains("1 event(s) were published on it, none matching the predicate"),
            "{message}"
        );
    }

    #[test]
    fn counts_and_absence_are_checked() {
        let recorder = recorder_with_two_events();
        recorder.assert_published_times("news", 1);
        recorder.assert_not_published("$admin");
        let again = recorder.clone();
        let message = panic_message(move || {
            again.assert_published_times("news", 2);
        });
        assert!(
            message.starts_with("expected 2 event(s) on `news`, but 1 were published on it"),
            "{message}"
        );
        let message = panic_message(move || recorder.assert_nothing_published());
        assert!(
            message.starts_with("expected no event, but 2 were published"),
            "{message}"
        );
    }

    #[test]
    fn typed_data_is_matched_and_returned() {
        #[derive(serde::Deserialize)]
        struct Order {
            id: u64,
        }
        let recorder = recorder_with_two_events();
        let order: Order = recorder.assert_published_data("$orders", |o: &Order| o.id == 7);
        assert_eq!(order.id, 7);
        let message = panic_message(move || {
            recorder.assert_published_data("news", |_: &Order| true);
        });
        assert!(message.contains("none matching the predicate"), "{message}");
    }

    /// The output of a future that is ready at once, as the recorder's are.
    pub(crate) fn ready<F: std::future::Future>(future: F) -> F::Output {
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match std::pin::pin!(future).poll(&mut cx) {
            std::task::Poll::Ready(output) => output,
            std::task::Poll::Pending => panic!("the future is not ready"),
        }
    }

    #[test]
    fn a_failing_backend_refuses_and_counts() {
        let down =
            RecordingBackend::failing(PublishError::Timeout(std::time::Duration::from_secs(1)));
        let publisher = down.publisher("mysite");
        assert_eq!(
            ready(publisher.publish("news", "a").into_future()),
            Err(PublishError::Timeout(std::time::Duration::from_secs(1)))
        );
        publisher.publish("news", "b").detach();
        let stats = down.stats();
        assert_eq!((stats.queued, stats.delivered, stats.dropped), (2, 0, 2));
        down.assert_nothing_published();
    }
}
