//! Test harness of the `instant` workspace: real parts, not mocks.
//!
//! - [`Centrifugo`] runs a real Centrifugo v6 server on a free loopback port with a random HMAC
//!   secret and API key, and stops it when dropped.
//! - [`NodeClient`] runs the official JavaScript client (centrifuge-js 5) under Node and reports
//!   what it sees as JSON events.
//! - [`Redis`] runs a throw-away `redis-server`, for Centrifugo's Redis engine.
//! - [`Balancer`] is a TCP load balancer in front of Centrifugo nodes, that moves its clients
//!   from one node to another.
//!
//! They panic with an explanation when their program is missing: a test that needs them fails,
//! it never skips. `cargo xtask test` installs everything first.
//!
//! ```no_run
//! use std::time::Duration;
//! use instant_testkit::{Centrifugo, CentrifugoOptions, NodeClient, NodeSpec};
//!
//! let server = Centrifugo::start(CentrifugoOptions::default());
//! let tokens = server.config().tokens();
//! let mut client = NodeClient::spawn(
//!     NodeSpec::new(server.ws_url())
//!         .token(tokens.connection("", None))
//!         .subscribe("news"),
//! );
//! client.wait_for(|e| e.is("subscribed"), Duration::from_secs(10));
//! ```

mod balancer;
mod centrifugo;
mod node;
mod paths;
mod redis;

pub use crate::balancer::Balancer;
pub use crate::centrifugo::{Centrifugo, CentrifugoOptions};
pub use crate::node::{NodeClient, NodeEvent, NodeSpec};
pub use crate::paths::{centrifugo_binary, workspace_root};
pub use crate::redis::Redis;
