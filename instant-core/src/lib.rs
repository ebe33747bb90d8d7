//! The core of [`instant`](https://docs.rs/instant): configuration, channels and levels, the event
//! payload, tokens, and publishing, with no actix-web server types.
//!
//! Apps depend on the `instant` facade crate, which re-exports what they need from here.
//!
//! # Crate Features
//!
//! - `client` (default): [`CentrifugoClient`], the Centrifugo HTTP API client, with `awc`,
//!   `actix-rt` and `tokio`.
//! - `settings` (default): reading [`Config`] from `instant.toml` and `INSTANT_*` variables
//!   (`Config::load`), with `toml`, and the generated per-process secret, with `rand`.
//!
//! Without features the crate keeps the channel naming rules, events, tokens, publishing through
//! any [`Backend`], and [`Config::builder`]: what the `instant-macros` proc-macro needs, without
//! an HTTP client in the compiler's process.
//!
//! # Dependencies, and why
//!
//! - `awc` (actix's HTTP client) talks to Centrifugo's HTTP API with kept-alive, pooled
//!   connections; it runs on a thread of its own because its client is not `Send`.
//! - `hmac` + `sha2` sign HS256 tokens, `base64` encodes them (URL-safe, unpadded), and `subtle`
//!   compares secrets in constant time. A general JWT crate would bring algorithm negotiation
//!   that the verifier must refuse anyway.
//! - `toml` reads `instant.toml`; the keys are checked against one table ([`config::KEYS`]).
//! - `rand` draws the per-process secret of embedded mode from the operating system's generator.
//! - `thiserror` derives the typed errors, `tracing` logs, `tokio`'s channels carry work to the
//!   publishing thread and answers back from any runtime (awaited calls made on an actix-rt
//!   thread run there instead).

#![cfg_attr(docsrs, feature(doc_cfg))]

mod backend;
#[cfg(feature = "client")]
mod centrifugo;
mod channel;
mod channel_options;
pub mod config;
mod deferred;
mod event;
mod event_json;
pub mod metrics;
pub mod paths;
pub mod pattern;
pub mod presence;
pub mod sender;
pub mod testing;
mod token;
mod typed;

pub use crate::backend::{
    Backend, BoxFuture, DeliveryStats, GlobalPublish, NodeHealth, NodeState, Publish, PublishError,
    PublishReceipt, Publisher, StreamPosition, publish,
};
#[cfg(feature = "client")]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub use crate::centrifugo::{
    CentrifugoClient, ClientInfo, ClientOptions, History, HistoryPublication, NodeInfo,
    PresenceStats, ServerInfo,
};
pub use crate::channel::{
    Channel, ChannelError, ChannelSet, Level, MAX_CHANNEL_NAME_LEN, PERSONAL_CHANNEL,
    PERSONAL_NAMESPACE, PRIVATE_PREFIX, USER_BOUNDARY, personal_channel, validate_name,
};
pub use crate::channel_options::ChannelOptions;
pub use crate::config::{
    CONFIG_FILE_ENV, CONFIG_FILE_NAME, ChannelSettings, Config, ConfigBuilder, ConfigError,
    DEFAULT_PUBLISH_TIMEOUT, DEFAULT_SITE_SLUG, DEFAULT_TOKEN_TTL, Secret,
};
pub use crate::deferred::{Deferred, DeferredEvent};
pub use crate::event::{EVENT_CLASSES, Event};
pub use crate::event_json::EventJson;
pub use crate::pattern::{ChannelName, ParamValue, Params, PatternError};
pub use crate::testing::RecordingBackend;
pub use crate::token::{ConnectionClaims, SubscriptionClaims, TokenError, Tokens, now_secs};
pub use crate::typed::TypedEvent;
