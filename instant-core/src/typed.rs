//! Typed events: a serde type that knows its channel, event class and message, derived with
//! `#[derive(TypedEvent)]` (in the facade, `instant::publishing::TypedEvent`), so that
//! [`Publisher::send`] publishes it checked at compile time.

use serde::Serialize;
use serde_json::Value;

use crate::backend::{Publish, Publisher};
use crate::deferred::{Deferred, DeferredEvent};
use crate::event::Event;

/// A value that is published as an event: its channel, class and message are the type's, its
/// JSON is the event's `data`.
///
/// Derive it (`#[derive(Serialize, instant::publishing::TypedEvent)]` with
/// `#[instant(channel = NAME, class = "…", message = "…")]`) rather than implementing it; by hand
/// it reads:
///
/// ```
/// use instant_core::TypedEvent;
/// use instant_core::testing::RecordingBackend;
///
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct OrderShipped {
///     id: u64,
/// }
///
/// impl TypedEvent for OrderShipped {
///     const CLASS: &'static str = "object edited";
///     const MESSAGE: &'static str = "Order shipped";
///     fn channel() -> &'static str {
///         "$orders"
///     }
/// }
///
/// let recorder = RecordingBackend::new();
/// recorder.publisher("mysite").send(OrderShipped { id: 7 }).detach();
/// let shipped: OrderShipped = recorder.assert_published_data("$orders", |o: &OrderShipped| o.id == 7);
/// assert_eq!(recorder.events()[0].message, "Order shipped");
/// ```
pub trait TypedEvent: Serialize {
    /// The event class.
    const CLASS: &'static str;
    /// The human-readable message.
    const MESSAGE: &'static str;

    /// The channel it is published on.
    fn channel() -> &'static str;

    /// The value as JSON, the event's `data`; a value that does not serialize is logged and
    /// gives `null`.
    fn data(&self) -> Value {
        serde_json::to_value(self).unwrap_or_else(|error| {
            tracing::error!(channel = Self::channel(), %error, "a typed event could not be serialized; sending null data");
            Value::Null
        })
    }
}

impl Publisher {
    /// Starts publishing a [`TypedEvent`]: its channel, class and message, its JSON as `data`.
    /// `.await` it for a `Result`, or [`detach`](Publish::detach) it.
    ///
    /// See [`TypedEvent`] for an example.
    #[expect(
        clippy::needless_pass_by_value,
        reason = "an event is handed over as a value: `send(OrderShipped { .. })`"
    )]
    pub fn send<E: TypedEvent>(&self, event: E) -> Publish<'_> {
        self.publish(E::channel(), E::MESSAGE)
            .event_class(E::CLASS)
            .data(event.data())
    }
}

impl Deferred {
    /// Keeps a [`TypedEvent`] until [`commit`](Deferred::commit).
    ///
    /// ```
    /// use instant_core::TypedEvent;
    /// use instant_core::testing::RecordingBackend;
    ///
    /// #[derive(serde::Serialize)]
    /// struct Created {
    ///     id: u64,
    /// }
    /// impl TypedEvent for Created {
    ///     const CLASS: &'static str = "object created";
    ///     const MESSAGE: &'static str = "Created";
    ///     fn channel() -> &'static str {
    ///         "news"
    ///     }
    /// }
    ///
    /// let recorder = RecordingBackend::new();
    /// let mut deferred = recorder.publisher("s").deferred();
    /// deferred.send(Created { id: 1 });
    /// deferred.commit_detached();
    /// recorder.assert_published_with("news", |e| e.event_class == "object created");
    /// ```
    #[expect(
        clippy::needless_pass_by_value,
        reason = "an event is handed over as a value: `send(OrderShipped { .. })`"
    )]
    pub fn send<E: TypedEvent>(&mut self, event: E) -> DeferredEvent<'_> {
        let site = self.site().to_owned();
        self.push(
            Event::new(site, E::channel(), E::MESSAGE)
                .with_event_class(E::CLASS)
                .with_data(event.data()),
        )
    }
}
