//! The core of [`instant`](https://docs.rs/instant): configuration, channels and levels, the event
//! payload, tokens, and publishing, with no actix-web server types.
//!
//! Apps depend on the `instant` facade crate, which re-exports everything here.
//!
//! # Dependencies, and why
//!
//! - `awc` (actix's HTTP client) talks to Centrifugo's HTTP API with kept-alive, pooled
//!   connections; it runs on a thread of its own because its client is not `Send`.
//! - `hmac` + `sha2` sign HS256 tokens, `base64` encodes them (URL-safe, unpadded), and `subtle`
//!   compares secrets in constant time. A general JWT crate would bring algorithm negotiation
//!   that the verifier must refuse anyway.
//! - `toml` reads `instant.toml`, with serde's unknown-key errors catching typos.
//! - `rand` draws the per-process secret of embedded mode from the operating system's generator.
//! - `thiserror` derives the typed errors, `tracing` logs, `tokio`'s channels carry work to the
//!   publishing thread and answers back from any runtime.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod backend;
mod centrifugo;
mod channel;
mod channel_options;
mod config;
mod event;
mod token;

pub use crate::backend::{
    Backend, BoxFuture, DeliveryStats, GlobalPublish, Publish, PublishError, PublishReceipt,
    Publisher, RecordingBackend, publish,
};
pub use crate::centrifugo::{
    CentrifugoClient, ClientInfo, ClientOptions, History, HistoryPublication, NodeInfo,
    PresenceStats, ServerInfo,
};
pub use crate::channel::{
    Channel, ChannelError, ChannelSet, Level, MAX_CHANNEL_NAME_LEN, PRIVATE_PREFIX, validate_name,
};
pub use crate::channel_options::ChannelOptions;
pub use crate::config::{
    CONFIG_FILE_ENV, CONFIG_FILE_NAME, Config, ConfigBuilder, ConfigError, DEFAULT_PUBLISH_TIMEOUT,
    DEFAULT_SITE_SLUG, DEFAULT_TOKEN_TTL, Secret,
};
pub use crate::event::{EVENT_CLASSES, Event};
pub use crate::token::{
    ALGORITHM, ConnectionClaims, SubscriptionClaims, TokenError, Tokens, now_secs,
};
