//! Real-time events for actix-web apps, delivered to browsers through
//! [Centrifugo](https://centrifugal.dev) or an embedded server speaking its client protocol.
//!
//! Declare the channels once with [`channels!`], checked at compile time; set the app up with
//! [`Realtime::builder`]; wrap the app in [`InstantMiddleware`], which puts the browser client into
//! its HTML pages; publish from anywhere with a [`Publisher`], or from a handler with
//! [`#[instant::event]`](macro@event), which publishes after the handler succeeded.
//!
//! Add it to `Cargo.toml` as `instant = { package = "instant-events", version = "0.1" }`; the
//! library is called `instant` whatever the dependency is named, and the macros follow a rename.
//!
//! # What is where
//!
//! The crate root holds what an app names every day. The rest is in modules: [`config`] (the
//! settings and their keys), [`channel`] (naming rules and per-channel options), [`publishing`]
//! (the [`Backend`](publishing::Backend) trait and delivery figures), [`centrifugo`] (the HTTP API
//! client), [`tokens`] (connection and subscription JWTs), [`testing`] (a recording backend with
//! assertions, page and token helpers, for an app's own tests), and with the `actix` feature [`middleware`], [`paths`], [`routes`],
//! [`templates`], [`users`], [`embedded`], and [`session`] with the `session` feature.
//!
//! # Crate Features
//!
//! - `actix` (default): the actix-web integration: [`Realtime`], [`InstantMiddleware`], the auth
//!   routes, the embedded server and `#[instant::event]`.
//! - `session`: a ready user resolver on top of `actix-session` ([`session`]).
//!
//! # Example
//!
//! ```no_run
//! use actix_web::{App, HttpServer, post, web};
//! use instant::InstantMiddleware;
//! use serde::{Deserialize, Serialize};
//!
//! instant::channels! {
//!     /// Every channel of the app.
//!     pub static CHANNELS;
//!     /// New orders, for the admins.
//!     superuser "$mysite_admin1" at ["/admin/orders"] as ADMIN1,
//!     staff     "$mysite_staff1",
//!     public    "mysite_public1" as PUBLIC,
//! }
//!
//! #[derive(Deserialize)]
//! struct NewOrder {
//!     item: String,
//! }
//!
//! #[derive(Serialize)]
//! struct Order {
//!     id: u64,
//!     item: String,
//! }
//!
//! /// Creates an order; on success the order is published on `$mysite_admin1`.
//! #[instant::event(channel = ADMIN1, class = "object created", message = "New order")]
//! #[post("/orders")]
//! async fn create_order(form: web::Json<NewOrder>) -> actix_web::Result<web::Json<Order>> {
//!     let item = form.into_inner().item;
//!     Ok(web::Json(Order { id: 1, item }))
//! }
//!
//! #[actix_web::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // Settings from `instant.toml` and `INSTANT_*` variables; with none, the embedded server.
//!     let realtime = instant::Realtime::builder().channels(CHANNELS.clone()).build()?;
//!     HttpServer::new(move || {
//!         App::new()
//!             .wrap(InstantMiddleware)
//!             .configure(realtime.routes())
//!             .service(create_order)
//!     })
//!     .bind(("127.0.0.1", 8080))?
//!     .run()
//!     .await?;
//!     Ok(())
//! }
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

// Lets the macros' `::instant::…` paths resolve inside this crate's own tests and docs.
#[allow(unused_extern_crates)]
extern crate self as instant;

// The README's Rust blocks are compiled as doctests, so the front door follows every rename.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

#[cfg(feature = "actix")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix")))]
pub use instant_actix::{
    InstantMiddleware, Realtime, RealtimeBuilder, SetupError, User, UserResolver,
};
pub use instant_core::{Channel, ChannelSet, Event, Level, PublishError, Publisher, publish};

pub mod config {
    //! The settings: one table of keys read from the builder, `instant.toml` and `INSTANT_*`
    //! variables, also what `instant check` reports.
    pub use instant_core::{
        CONFIG_FILE_ENV, CONFIG_FILE_NAME, ChannelSettings, Config, ConfigBuilder, ConfigError,
        DEFAULT_PUBLISH_TIMEOUT, DEFAULT_SITE_SLUG, DEFAULT_TOKEN_TTL, Secret,
    };
}

pub mod channel {
    //! Channel naming rules, patterns (`$order_{id}`: [`ChannelName`], [`Params`],
    //! [`ParamValue`]) and what a channel keeps and allows.
    pub use instant_core::pattern::{MAX_PARAM_LEN, PatternArg, PatternArgs};
    pub use instant_core::{
        ChannelError, ChannelName, ChannelOptions, MAX_CHANNEL_NAME_LEN, PERSONAL_CHANNEL,
        PERSONAL_NAMESPACE, PRIVATE_PREFIX, ParamValue, Params, PatternError, USER_BOUNDARY,
        personal_channel, validate_name,
    };
}

pub mod publishing {
    //! Where events go: the [`Backend`] trait behind every [`Publisher`](crate::Publisher), the
    //! builders that `publish` returns, the [`Deferred`] scope that publishes after a database
    //! commit ([`Publisher::deferred`](crate::Publisher::deferred)), and delivery figures,
    //! per Centrifugo node too ([`NodeHealth`]).
    pub use instant_core::{
        Backend, BoxFuture, Deferred, DeferredEvent, DeliveryStats, EVENT_CLASSES, EventJson,
        GlobalPublish, NodeHealth, NodeState, Publish, PublishReceipt, StreamPosition, TypedEvent,
    };

    /// Makes a serde type a [`TypedEvent`]: published on its channel with its event class and
    /// message, its JSON as the event's `data`, by [`Publisher::send`](crate::Publisher::send)
    /// (and [`Deferred::send`]), so a wrong event does not compile.
    ///
    /// ```text
    /// #[derive(Serialize, TypedEvent)]
    /// #[instant(channel = NAME, class = "…", message = "…")]
    /// ```
    ///
    /// - `channel` (required): a channel constant declared with [`channels!`](crate::channels)
    ///   or a string literal (checked like a declared name).
    /// - `class`, `message`: string literals; default: empty.
    ///
    /// The attribute may be split over several `#[instant(…)]`. Mistakes are compile errors at
    /// the offending token: a missing attribute or channel, an unknown option (with a
    /// suggestion), an option given twice, a non-literal class or message, a channel that is
    /// neither a constant nor a literal, an invalid literal name; and (from rustc) a type that
    /// is not `Serialize`, a constant that is not a channel, `send` of a type without the
    /// derive.
    ///
    /// ```
    /// use instant::publishing::TypedEvent;
    /// use instant::testing::RecordingBackend;
    /// use serde::{Deserialize, Serialize};
    ///
    /// instant::channels! {
    ///     static CHANNELS;
    ///     staff "$orders" as ORDERS,
    /// }
    ///
    /// #[derive(Serialize, Deserialize, TypedEvent)]
    /// #[instant(channel = ORDERS, class = "object edited", message = "Order shipped")]
    /// struct OrderShipped {
    ///     id: u64,
    /// }
    ///
    /// let recorder = RecordingBackend::new();
    /// let publisher = recorder.publisher("mysite");
    /// publisher.send(OrderShipped { id: 7 }).detach(); // or `.await?`
    ///
    /// let shipped: OrderShipped =
    ///     recorder.assert_published_data(ORDERS, |o: &OrderShipped| o.id == 7);
    /// assert_eq!(recorder.events()[0].message, "Order shipped");
    /// ```
    pub use instant_macros::TypedEvent;
}

pub mod presence {
    //! Who is on a channel: [`Publisher::presence`](crate::Publisher::presence) returns a
    //! [`Presence`], one [`PresentUser`] per user id however many tabs the user has open, on the
    //! embedded server and on Centrifugo; the channel needs presence turned on (`presence` in
    //! its `[[channels]]` entry or its embedded `ChannelOptions`).
    //!
    //! ```
    //! use instant::presence::PresenceClient;
    //! use instant::testing::RecordingBackend;
    //!
    //! # #[actix_web::main] async fn main() -> Result<(), instant::PublishError> {
    //! let recorder = RecordingBackend::new();
    //! recorder.set_presence("$chat", [
    //!     PresenceClient::new("tab-1", "alice"),
    //!     PresenceClient::new("tab-2", "alice"),
    //!     PresenceClient::new("tab-3", "bob"),
    //! ]);
    //! let presence = recorder.publisher("mysite").presence("$chat").await?;
    //! assert_eq!(presence.user_ids(), ["alice", "bob"]);
    //! assert_eq!(presence.user("alice").unwrap().tabs(), 2);
    //! # Ok(()) }
    //! ```
    pub use instant_core::presence::{Presence, PresenceClient, PresentUser, users_of};
}

pub mod metrics {
    //! Counters of the app's real-time traffic ([`Realtime::metrics`](crate::Realtime::metrics),
    //! [`Publisher::metrics`](crate::Publisher::metrics)) and their Prometheus text
    //! ([`MetricsSnapshot::to_prometheus`]); `MetricsAccess` (feature `actix`) opens the
    //! optional route that serves it.
    pub use instant_core::metrics::{Metrics, MetricsSnapshot, PROMETHEUS_CONTENT_TYPE};

    #[cfg(feature = "actix")]
    #[cfg_attr(docsrs, doc(cfg(feature = "actix")))]
    pub use instant_actix::MetricsAccess;
}

pub mod centrifugo {
    //! The client of Centrifugo's HTTP API and the answers it reads.
    pub use instant_core::{
        CentrifugoClient, ClientInfo, ClientOptions, History, HistoryPublication, NodeInfo,
        PresenceStats, ServerInfo,
    };
}

pub mod tokens {
    //! HS256 connection and subscription tokens, as Centrifugo v6 checks them.
    pub use instant_core::{ConnectionClaims, SubscriptionClaims, TokenError, Tokens};
}

pub mod testing {
    //! Helpers for an app's own tests: a [`RecordingBackend`] with assertions on what was
    //! published, and (feature `actix`) what the middleware put into a page and the tokens the
    //! auth routes issue.
    //!
    //! Give the recorder to the app's set-up with
    //! [`RealtimeBuilder::backend`](crate::RealtimeBuilder::backend), call the app with
    //! `actix_web::test`, then assert:
    //!
    //! ```
    //! use instant::testing::RecordingBackend;
    //!
    //! # fn main() -> Result<(), Box<dyn std::error::Error>> {
    //! let recorder = RecordingBackend::new();
    //! let realtime = instant::Realtime::builder()
    //!     .config(instant::config::Config::builder().build()?)
    //!     .backend(recorder.clone())
    //!     .build()?;
    //! realtime.publisher().publish("$orders", "Shipped").event_class("ok").detach();
    //! recorder.assert_published_with("$orders", |e| e.event_class == "ok");
    //! recorder.assert_published_times("$orders", 1);
    //! recorder.assert_not_published("news");
    //! # Ok(()) }
    //! ```
    pub use instant_core::testing::RecordingBackend;

    #[cfg(feature = "actix")]
    #[cfg_attr(docsrs, doc(cfg(feature = "actix")))]
    pub use instant_actix::testing::{
        IssuedTokens, PageChannel, PageConfig, PageConfigError, issued_tokens, page_config,
    };
}

#[cfg(feature = "actix")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix")))]
pub mod middleware {
    //! [`InstantMiddleware`], the markers that steer it per request, [`join`] (the concrete
    //! channels, such as a pattern's, that a page joins), and [`Sender`] (the browser tab behind
    //! a request, for events [to others](crate::publishing::Publish::to_others)).
    pub use instant_actix::Sender;
    pub use instant_actix::markers::*;
    pub use instant_actix::{DEFAULT_MEMORY_LIMIT, InstantMiddleware, join};
    pub use instant_core::sender::{CLIENT_HEADER, ClientId};
}

#[cfg(feature = "actix")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix")))]
pub mod paths {
    //! Every URL path `instant` serves or names.
    pub use instant_actix::paths::*;
}

#[cfg(feature = "actix")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix")))]
pub mod routes {
    //! The errors of the auth and frontend routes that [`Realtime::routes`](crate::Realtime::routes)
    //! mounts.
    pub use instant_actix::RouteError;
}

#[cfg(feature = "actix")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix")))]
pub mod users {
    //! Who is behind a request: [`User`], [`UserResolver`], and
    //! the resolver that sees everyone as anonymous.
    pub use instant_actix::{Anonymous, User, UserResolver};
}

#[cfg(feature = "actix")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix")))]
pub mod templates {
    //! The browser side: where `centrifuge.js` comes from and the templates an app may override.
    pub use instant_actix::{CentrifugeJs, handler_template_name};
}

#[cfg(feature = "actix")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix")))]
pub mod embedded {
    //! The embedded server: Centrifugo's client protocol and server API inside the app.
    pub use instant_actix::{ChannelOptions, EmbeddedOptions, EmbeddedServer};
}

#[cfg(feature = "session")]
#[cfg_attr(docsrs, doc(cfg(feature = "session")))]
pub mod session {
    //! A [`UserResolver`](crate::UserResolver) reading the user from an `actix-session` session.
    pub use instant_actix::session::*;
}

/// Declares the app's channels, checked at compile time, as a [`ChannelSet`] with no run-time
/// parsing.
///
/// # Grammar
///
/// ```text
/// channels!   { header? declaration ( "," declaration )* ","? }
/// header      := attribute* visibility ( "static" | "const" ) IDENT ";"
/// declaration := attribute* level "name" ( "at" "[" "/path" ( "," "/path" )* "]" )? ( "as" IDENT )?
/// level       := "superuser" | "staff" | "users" | "public"
/// ```
///
/// - **Item form** (with a header): `pub static CHANNELS;` declares
///   `pub static CHANNELS: ChannelSet`, and each `as NAME` declares
///   `pub const NAME: &'static Channel` (same visibility), which [`#[instant::event]`](macro@event) and [`Publisher::publish`] (through
///   [`Channel::name`]) take, so publishing code refers to a checked name. Attributes above a named
///   declaration, such as doc comments, go on its constant.
/// - **Expression form** (no header): an expression of type `ChannelSet`, usable in a `static`,
///   a `const` or a `let`. It cannot name constants.
///
/// A channel is joinable by users of its level and above (public < users < staff < superuser),
/// and only on the listed request paths when `at [...]` is given.
///
/// # Checks
///
/// Each is a compile error pointing at the offending token, and one invocation reports them all:
/// a private (superuser, staff, users) name without the `$` prefix, a public name with it, a name
/// declared twice, an empty name, a name Centrifugo refuses (over 255 bytes, whitespace, control
/// characters), a path not starting with `/`, a path listed twice, `at []`, an unknown level
/// (with a suggestion for a misspelling), and a missing comma.
///
/// # Examples
///
/// ```
/// instant::channels! {
///     pub static CHANNELS;
///     superuser "$mysite_admin1" at ["/a/path", "/another/path"] as ADMIN1,
///     superuser "$mysite_admin2",
///     staff     "$mysite_staff1" at ["/a/path"],
///     staff     "$mysite_staff2",
///     users     "$mysite_users1",
///     public    "mysite_public1" as PUBLIC1,
///     public    "mysite_public2",
/// }
///
/// use instant::Level;
/// assert_eq!(CHANNELS.len(), 7);
/// assert_eq!(ADMIN1.name(), "$mysite_admin1");
/// assert!(CHANNELS.may_join(Level::Staff, "$mysite_staff2"));
/// assert!(!CHANNELS.may_join(Level::Users, ADMIN1.name()));
/// assert_eq!(CHANNELS.joinable_on(Level::Public, "/").count(), 2);
///
/// // The expression form.
/// static OTHERS: instant::ChannelSet = instant::channels! {
///     users "$mysite_users1",
///     public "mysite_public1",
/// };
/// assert!(OTHERS.get("mysite_public1").is_some());
/// ```
#[doc(inline)]
pub use instant_macros::channels;

/// Publishes an event after an actix-web handler returned a success (2xx) response.
///
/// ```text
/// #[instant::event(channel = NAME, class = "…", message = "…" [, data = EXPR] [, wait [, on_error = "log" | "fail"]])]
/// ```
///
/// - `channel` (required): the channel, usually a constant named in [`channels!`]; anything
///   `AsRef<str>` is accepted.
/// - `class`: the event class, a string literal. The browser knows the seed vocabulary (see
///   [`EVENT_CLASSES`](publishing::EVENT_CLASSES): `default`, `important`, `ok`, `info`, `debug`, `warning`, `error`,
///   `object created`, `object edited`, `object deleted`); any string is allowed. Default: empty.
/// - `message`: the human-readable message, a string literal. Default: empty.
/// - `data`: any `Serialize` expression, evaluated after the handler succeeded; it may use the
///   handler's arguments that the body did not consume. Default: the handler's JSON body when it
///   returns `Json<T>` or `Result<Json<T>, E>` (the very bytes the HTTP client receives, keys in
///   the order `T` serializes them), else `null`.
/// - `wait`: await the publish before the response is sent. By default the event is handed to the
///   publisher in the background and the response is not delayed.
///
/// - `on_error` (with `wait`): the failure policy. `"log"` (the default): a failed publish is
///   logged and counted ([`Publisher::failed_publishes`]), and the handler's response is sent as
///   it is. `"fail"`: a failed publish (or an app without a publisher) is logged and counted, and
///   the response becomes a `503 Service Unavailable`; the handler's work is not undone.
///
/// On an error or a non-2xx response nothing is published. Without `on_error = "fail"` the
/// response is never changed: a failed publish is logged and counted (fire-and-forget failures
/// in [`Publisher::stats`]), never turned into an error response.
///
/// # Placement
///
/// Put it above actix-web's route macros (`#[get]`, `#[post]`, …), so it sees the handler before
/// they turn it into a service. Below them works too, since they keep the attributes of the
/// function they wrap. It also works on handlers registered by hand with
/// `web::resource(..).route(web::post().to(handler))`.
///
/// # What it changes in the handler
///
/// The function gets one more, hidden argument, the `HttpRequest` (so a handler may take at most
/// 15 extractors of its own), and returns the `HttpResponse` that actix-web would have made of its
/// output. The publisher is the one [`Realtime::routes`] registers as app data (or a
/// `web::Data<Publisher>`, or the global one); when the app has none, the event is dropped with
/// an error in the log, and the request is answered normally.
///
/// # Example
///
/// ```no_run
/// use actix_web::{post, web};
///
/// instant::channels! {
///     pub static CHANNELS;
///     superuser "$mysite_admin1" as ADMIN1,
/// }
///
/// #[instant::event(channel = ADMIN1, class = "object deleted", message = "Order deleted",
///                  data = serde_json::json!({ "id": *id }))]
/// #[post("/orders/{id}/delete")]
/// async fn delete_order(id: web::Path<u64>) -> actix_web::HttpResponse {
///     actix_web::HttpResponse::NoContent().finish()
/// }
/// ```
#[cfg(feature = "actix")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix")))]
#[doc(inline)]
pub use instant_macros::event;

/// What the macros' expansions name; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use ::std::borrow::Cow;

    pub use ::actix_web;
    pub use ::actix_web::{HttpRequest, HttpResponse};
    pub use ::serde_json;
    pub use instant_core::{Channel, ChannelSet, Level, TypedEvent};

    #[cfg(feature = "actix")]
    pub use instant_actix::event::{
        DataProbe, JsonResponseData, NoResponseData, channel_name, handler_output, into_response,
        publish_event, publish_event_and_wait, publish_event_or_fail, to_data, typed_event,
    };
}
