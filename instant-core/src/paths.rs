//! Centrifugo's own URL paths, which the embedded server serves too: the one home for them.

/// The WebSocket endpoint browsers connect to, on Centrifugo and on the embedded server.
pub const WEBSOCKET_PATH: &str = "/connection/websocket";

/// The prefix of the HTTP API (`POST /api/{method}`), on Centrifugo and on the embedded server.
pub const API_PATH: &str = "/api";
