//! Publishing after commit: a [`Deferred`] scope keeps events until [`Deferred::commit`] sends
//! them, and discards them when it is dropped, so that an app publishes only what its database
//! transaction committed.

use std::fmt;

use serde_json::Value;

use crate::backend::{PublishError, PublishReceipt, Publisher};
use crate::event::Event;

impl Publisher {
    /// Starts a scope whose events are sent only by [`Deferred::commit`] and discarded when it is
    /// dropped: publish inside a database transaction, commit the scope after the transaction.
    ///
    /// ```
    /// use instant_core::testing::RecordingBackend;
    ///
    /// let recorder = RecordingBackend::new();
    /// let publisher = recorder.publisher("mysite");
    ///
    /// let mut deferred = publisher.deferred();
    /// deferred.publish("$orders", "New order").event_class("object created");
    /// recorder.assert_nothing_published(); // kept until the commit
    /// drop(deferred); // the transaction rolled back: nothing is sent
    /// recorder.assert_nothing_published();
    /// ```
    pub fn deferred(&self) -> Deferred {
        Deferred {
            publisher: self.clone(),
            events: Vec::new(),
        }
    }
}

/// Events kept until [`commit`](Deferred::commit), discarded when dropped; made by
/// [`Publisher::deferred`].
///
/// ```
/// use instant_core::testing::RecordingBackend;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), instant_core::PublishError> {
/// let recorder = RecordingBackend::new();
/// let publisher = recorder.publisher("mysite");
///
/// let mut deferred = publisher.deferred();
/// deferred.publish("$orders", "New order").data(serde_json::json!({"id": 7}));
/// deferred.publish("news", "We have a new order");
/// // … the database transaction commits here …
/// deferred.commit().await?;
///
/// recorder.assert_published_with("$orders", |e| e.data["id"] == 7);
/// recorder.assert_published("news");
/// # Ok(()) }
/// ```
#[must_use = "deferred events are sent only by `.commit()`; dropping the scope discards them"]
pub struct Deferred {
    publisher: Publisher,
    events: Vec<Event>,
}

impl fmt::Debug for Deferred {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Deferred")
            .field("site", &self.publisher.site())
            .field("events", &self.events)
            .finish()
    }
}

impl Deferred {
    /// Keeps an event on `channel` with `message`; set its class and data on what it returns.
    ///
    /// ```
    /// # let publisher = instant_core::testing::RecordingBackend::new().publisher("s");
    /// let mut deferred = publisher.deferred();
    /// deferred.publish("news", "Hello").event_class("info");
    /// assert_eq!(deferred.events()[0].event_class, "info");
    /// # deferred.discard();
    /// ```
    pub fn publish(
        &mut self,
        channel: impl Into<String>,
        message: impl Into<String>,
    ) -> DeferredEvent<'_> {
        self.push(Event::new(self.publisher.site(), channel, message))
    }

    /// Keeps a ready-made event.
    ///
    /// ```
    /// # let publisher = instant_core::testing::RecordingBackend::new().publisher("s");
    /// let mut deferred = publisher.deferred();
    /// deferred.push(instant_core::Event::new("s", "news", "Hello"));
    /// assert_eq!(deferred.len(), 1);
    /// # deferred.discard();
    /// ```
    pub fn push(&mut self, event: Event) -> DeferredEvent<'_> {
        self.events.push(event);
        let last = self.events.len() - 1;
        DeferredEvent(&mut self.events[last])
    }

    /// The events kept so far, in order.
    ///
    /// ```
    /// # let publisher = instant_core::testing::RecordingBackend::new().publisher("s");
    /// let deferred = publisher.deferred();
    /// assert!(deferred.events().is_empty());
    /// # deferred.discard();
    /// ```
    #[must_use]
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// The site slug stamped on the events.
    ///
    /// ```
    /// # let publisher = instant_core::testing::RecordingBackend::new().publisher("mysite");
    /// assert_eq!(publisher.deferred().site(), "mysite");
    /// ```
    #[must_use]
    pub fn site(&self) -> &str {
        self.publisher.site()
    }

    /// How many events are kept.
    ///
    /// ```
    /// # let publisher = instant_core::testing::RecordingBackend::new().publisher("s");
    /// let mut deferred = publisher.deferred();
    /// deferred.publish("news", "a");
    /// assert_eq!(deferred.len(), 1);
    /// # deferred.discard();
    /// ```
    #[must_use]
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether no event is kept.
    ///
    /// ```
    /// # let publisher = instant_core::testing::RecordingBackend::new().publisher("s");
    /// assert!(publisher.deferred().is_empty());
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Sends every kept event, in order, waiting for each answer. Every event is tried even when
    /// one fails.
    ///
    /// # Errors
    /// The first [`PublishError`], when any publish failed (the others were sent).
    ///
    /// See [`Deferred`] for an example.
    pub async fn commit(mut self) -> Result<Vec<PublishReceipt>, PublishError> {
        let events = std::mem::take(&mut self.events);
        let mut receipts = Vec::with_capacity(events.len());
        let mut first_error = None;
        for event in events {
            match self.publisher.publish_event(event).await {
                Ok(receipt) => receipts.push(receipt),
                Err(error) => {
                    tracing::error!(%error, "publishing a committed event failed");
                    first_error.get_or_insert(error);
                }
            }
        }
        first_error.map_or(Ok(receipts), Err)
    }

    /// Sends every kept event without waiting, as [`Publish::detach`](crate::Publish::detach)
    /// does: never blocks, never fails; failures are logged and counted.
    ///
    /// ```
    /// use instant_core::testing::RecordingBackend;
    ///
    /// let recorder = RecordingBackend::new();
    /// let mut deferred = recorder.publisher("s").deferred();
    /// deferred.publish("news", "a");
    /// deferred.commit_detached();
    /// recorder.assert_published("news");
    /// ```
    pub fn commit_detached(mut self) {
        for event in std::mem::take(&mut self.events) {
            self.publisher.backend().publish_detached(event);
        }
    }

    /// Discards every kept event, as dropping the scope does, but says so in the code.
    ///
    /// ```
    /// use instant_core::testing::RecordingBackend;
    ///
    /// let recorder = RecordingBackend::new();
    /// let mut deferred = recorder.publisher("s").deferred();
    /// deferred.publish("news", "a");
    /// deferred.discard();
    /// recorder.assert_nothing_published();
    /// ```
    pub fn discard(mut self) {
        self.events.clear();
    }
}

impl Drop for Deferred {
    fn drop(&mut self) {
        if !self.events.is_empty() {
            tracing::debug!(
                count = self.events.len(),
                "deferred events discarded: the scope was dropped without commit"
            );
        }
    }
}

/// An event kept by a [`Deferred`] scope, to set its class and data.
///
/// ```
/// # let publisher = instant_core::testing::RecordingBackend::new().publisher("s");
/// let mut deferred = publisher.deferred();
/// deferred
///     .publish("$orders", "New order")
///     .event_class("object created")
///     .data(serde_json::json!({"id": 7}));
/// assert_eq!(deferred.events()[0].data["id"], 7);
/// # deferred.discard();
/// ```
#[derive(Debug)]
pub struct DeferredEvent<'a>(&'a mut Event);

impl DeferredEvent<'_> {
    /// Sets the event class.
    ///
    /// See [`DeferredEvent`] for an example.
    pub fn event_class(self, event_class: impl Into<String>) -> Self {
        self.0.event_class = event_class.into();
        self
    }

    /// Attaches JSON data.
    ///
    /// See [`DeferredEvent`] for an example.
    pub fn data(self, data: Value) -> Self {
        self.0.data = data;
        self
    }

    /// Sends the event, once committed, to every tab but the sender's, as
    /// [`Publish::to_others`](crate::Publish::to_others).
    ///
    /// ```
    /// use instant_core::sender::ClientId;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let recorder = instant_core::testing::RecordingBackend::new();
    /// let mut deferred = recorder.publisher("s").deferred();
    /// deferred.publish("chat", "Hi").to_others(ClientId::parse("tab-1"));
    /// deferred.commit().await.unwrap();
    /// assert_eq!(recorder.events()[0].sender.as_deref(), Some("tab-1"));
    /// # }
    /// ```
    pub fn to_others(self, sender: impl Into<Option<crate::sender::ClientId>>) -> Self {
        self.0.sender = sender.into().map(|id| id.as_str().to_owned());
        self
    }

    /// The event as built so far.
    ///
    /// ```
    /// # let publisher = instant_core::testing::RecordingBackend::new().publisher("s");
    /// let mut deferred = publisher.deferred();
    /// assert_eq!(deferred.publish("news", "a").event().channel, "news");
    /// # deferred.discard();
    /// ```
    #[must_use]
    pub fn event(&self) -> &Event {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;

    use super::*;
    use crate::testing::RecordingBackend;

    fn ready<F: Future>(future: F) -> F::Output {
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match std::pin::pin!(future).poll(&mut cx) {
            std::task::Poll::Ready(output) => output,
            std::task::Poll::Pending => panic!("the future is not ready"),
        }
    }

    #[test]
    fn commit_sends_in_order_and_drop_discards() {
        let recorder = RecordingBackend::new();
        let publisher = recorder.publisher("mysite");

        let mut deferred = publisher.deferred();
        deferred.publish("a", "first").event_class("info");
        deferred.publish("b", "second");
        recorder.assert_nothing_published();
        let receipts = ready(deferred.commit()).unwrap();
        assert_eq!(receipts.len(), 2);
        let events = recorder.events();
        assert_eq!(
            events
                .iter()
                .map(|e| e.message.as_str())
                .collect::<Vec<_>>(),
            ["first", "second"]
        );
        assert_eq!(
            (events[0].site.as_str(), events[0].event_class.as_str()),
            ("mysite", "info")
        );

        recorder.clear();
        let mut rolled_back = publisher.deferred();
        rolled_back.publish("a", "never");
        drop(rolled_back);
        recorder.assert_nothing_published();
    }

    #[test]
    fn commit_tries_every_event_and_returns_the_first_error() {
        let down = RecordingBackend::failing(PublishError::NotRunning("down".into()));
        let mut deferred = down.publisher("mysite").deferred();
        deferred.publish("a", "1");
        deferred.publish("b", "2");
        assert_eq!(
            ready(deferred.commit()),
            Err(PublishError::NotRunning("down".into()))
        );
        // Both were tried: the failing recorder counts each refusal.
        assert_eq!(crate::Backend::stats(&down).dropped, 2);
    }
}
