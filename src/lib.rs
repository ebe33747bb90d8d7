//! Real-time events for actix-web apps.

pub use instant_core::*;
