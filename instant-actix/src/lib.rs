//! actix-web integration of `instant`: a middleware that inserts the real-time client into HTML
//! pages, the token routes centrifuge-js calls, a superuser frontend, and (by default) an embedded
//! server that speaks Centrifugo's client protocol.
//!
//! The set-up is a [`RealtimeBuilder`] made by [`Realtime::builder`]; its `build()` gives a
//! [`Realtime`] (or a [`SetupError`]), whose [`routes`](Realtime::routes) an `App` configures and
//! whose [`publisher`](Realtime::publisher) publishes. [`InstantMiddleware`] finds the set-up the
//! routes registered. The URL paths are in [`paths`], the markers an app puts on requests and
//! responses in [`markers`].
//!
//! # Crate Features
//! - `session`: [`session::SessionUsers`], a ready [`UserResolver`] that reads the user from an
//!   `actix-session` session.
//!
//! # Example
//! ```no_run
//! use actix_web::{App, HttpServer, middleware::Compress};
//! use instant_actix::{InstantMiddleware, Realtime, User};
//! use instant_core::{Channel, ChannelSet, Level};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let realtime = Realtime::builder()
//!     .channels(ChannelSet::new([Channel::new("news", Level::Public)?])?)
//!     .users(|_req: &actix_web::HttpRequest| None::<User>)
//!     .build()?;
//! realtime.publisher().publish("news", "Server started").detach();
//! HttpServer::new(move || {
//!     App::new()
//!         .wrap(InstantMiddleware)
//!         .wrap(Compress::default())
//!         .configure(realtime.routes())
//! })
//! .bind(("127.0.0.1", 8080))?
//! .run()
//! .await?;
//! # Ok(()) }
//! ```
//!
//! # Templates
//! The browser side is made of Tera templates compiled into the binary. An app overrides any of
//! them by giving a file with the same relative path in its template directory
//! ([`RealtimeBuilder::templates_dir`], `INSTANT_TEMPLATES_DIR`) or as text
//! ([`RealtimeBuilder::template`]):
//! `instant/client.html` (the inserted snippet), `instant/client.js` (rendered once, with the
//! handlers, and served with `instant.css` at URLs holding their content hash, under
//! [`paths::STATIC`]),
//! `instant/handlers/default.js`, `instant/handlers/<channel>.js` (see [`handler_template_name`]),
//! `instant/events/connect.js`, `instant/events/disconnect.js`, `instant/extra_clients.js`,
//! `instant/event_class_format.js`, `instant/frontend.html`, `instant.css`, the presence handlers
//! `instant/presence/here.js`, `joining.js` and `leaving.js` (receiving `channel` and `users` or
//! `user`, each `{id, info, tabs}`), and the client's parts `instant/presence.js` and
//! `instant/sender.js`. A handler is the body of a function receiving
//! `event_class, channel, message, data, site, uid, timestamp`.
//!
//! The client script reads its settings from the JSON of
//! `<script type="application/json" id="instant-config">`: `ws_url`, `site`, `site_name`,
//! `debug`, `token` (the connection token, `""` when anonymous), `channels` (each `name`, `level`
//! and, for private channels, `token`; `presence: true` where the page follows who is on it),
//! `connection_url` and `subscription_url` (where tokens are
//! renewed: [`paths::AUTH_CONNECTION`], [`paths::AUTH_SUBSCRIPTION`]) and, on the frontend page
//! only, `publish_url` ([`paths::PUBLISH`]).

#![cfg_attr(docsrs, feature(doc_cfg))]

// The modules form layers; a module imports only from its own layer or the layers below it:
// 1. paths, markers, user, error, origin, body  (no imports from this crate but each other)
// 2. templates
// 3. embedded                                      (the embedded server)
// 4. runtime                                       (the built set-up shared by requests)
// 5. middleware, routes, event, session
// 6. app                                           (Realtime and RealtimeBuilder)
// 7. testing                                       (helpers for the apps' tests)

mod app;
mod body;
mod embedded;
mod error;
#[doc(hidden)]
pub mod event;
mod forwarded;
mod head_end;
pub mod markers;
mod metrics_route;
mod middleware;
mod origin;
mod page_tokens;
pub mod paths;
mod routes;
mod runtime;
mod sender;
#[cfg(feature = "session")]
#[cfg_attr(docsrs, doc(cfg(feature = "session")))]
pub mod session;
mod templates;
pub mod testing;
mod user;

pub use crate::app::{DEFAULT_MEMORY_LIMIT, Realtime, RealtimeBuilder};
#[doc(hidden)]
pub use crate::body::InjectBody;
pub use crate::embedded::{
    ChannelOptions, EmbeddedOptions, EmbeddedServer, NamespaceError, NamespaceOptions, Namespaces,
    StandaloneConfig, StandaloneConfigError, UnsupportedKey,
};
pub use crate::error::{RouteError, SetupError};
pub use crate::metrics_route::MetricsAccess;
#[doc(hidden)]
pub use crate::middleware::InstantMiddlewareService;
pub use crate::middleware::{InstantMiddleware, join};
pub use crate::sender::Sender;
pub use crate::templates::{CentrifugeJs, handler_template_name};
pub use crate::user::{Anonymous, User, UserResolver};
