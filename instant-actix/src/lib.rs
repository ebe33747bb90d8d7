//! actix-web integration of `instant`: a middleware that inserts the real-time client into HTML
//! pages, the token routes centrifuge-js calls, a superuser frontend, and (by default) an embedded
//! server that speaks Centrifugo's client protocol.
//!
//! # Crate Features
//! - `session`: [`session::SessionUsers`], a ready [`UserResolver`] that reads the user from an
//!   `actix-session` session.
//!
//! # Example
//! ```no_run
//! use actix_web::{App, HttpServer, middleware::Compress, web};
//! use instant_actix::{Instant, User};
//! use instant_core::{Channel, ChannelSet, Level};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let instant = Instant::from_env()?
//!     .channels(ChannelSet::new([Channel::new("news", Level::Public)?])?)
//!     .users(|_req: &actix_web::HttpRequest| None::<User>)
//!     .ready()?;
//! let publisher = instant.publisher();
//! publisher.publish("news", "Server started").detach();
//! HttpServer::new(move || {
//!     App::new()
//!         .wrap(instant.middleware())
//!         .wrap(Compress::default())
//!         .configure(instant.routes())
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
//! ([`Instant::templates_dir`], `INSTANT_TEMPLATES_DIR`) or as text ([`Instant::template`]):
//! `instant/client.html` (the inserted snippet), `instant/client.js`,
//! `instant/handlers/default.js`, `instant/handlers/<channel>.js` (see [`handler_template_name`]),
//! `instant/events/connect.js`, `instant/events/disconnect.js`, `instant/extra_clients.js`,
//! `instant/event_class_format.js`, `instant/frontend.html` and `instant.css`. A handler is the body
//! of a function receiving `event_class, channel, message, data, site, uid, timestamp`.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod app;
mod body;
mod error;
#[doc(hidden)]
pub mod event;
mod middleware;
mod origin;
mod routes;
mod runtime;
#[cfg(feature = "session")]
#[cfg_attr(docsrs, doc(cfg(feature = "session")))]
pub mod session;
mod templates;
mod user;

mod embedded;
pub use embedded::{ChannelOptions, EmbeddedOptions, EmbeddedServer};

pub use crate::app::{CENTRIFUGE_JS_ENV, DEFAULT_MEMORY_LIMIT, Instant, TEMPLATES_DIR_ENV};
#[doc(hidden)]
pub use crate::body::InjectBody;
pub use crate::error::InstantError;
#[doc(hidden)]
pub use crate::middleware::InstantMiddlewareService;
pub use crate::middleware::{
    CspNonce, InstantMiddleware, JoinAllChannels, SKIP_HEADER, SkipInjection,
};
pub use crate::routes::{CONNECTION_PATH, FRONTEND_PATH, PUBLISH_PATH, SUBSCRIPTION_PATH};
pub use crate::templates::{CentrifugeJs, handler_template_name};
pub use crate::user::{Anonymous, User, UserResolver};
