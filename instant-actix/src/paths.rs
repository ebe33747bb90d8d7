//! Every URL path `instant` serves or names, in one place.
//!
//! The routes mount these paths, the browser config hands them to the client script, and nothing
//! else in the crate spells them out.

/// The WebSocket endpoint (`/connection/websocket`), where the official Centrifugo clients
/// connect, the same on Centrifugo and on the embedded server, and the prefix of Centrifugo's
/// HTTP API (`/api`, as in `POST /api/{method}`).
pub use instant_core::paths::{API_PATH, WEBSOCKET_PATH};

/// The base of the `instant` routes, which plays Centrifugo's base URL for the embedded server:
/// a Centrifugo client given `http://<app>/instant` posts to `http://<app>/instant/api/{method}`,
/// the embedded server's API.
pub const PREFIX: &str = "/instant";

/// Where the embedded server's HTTP API is mounted by default (`POST /instant/api/{method}`):
/// [`API_PATH`] under [`PREFIX`], so that the app's own `/api` routes stay its own.
/// [`EmbeddedOptions::api_path`](crate::EmbeddedOptions::api_path) moves it.
pub const EMBEDDED_API_PATH: &str = "/instant/api";

/// `POST` here answers `{"token"}`: the connection token of the current user (`""` when
/// anonymous).
pub const AUTH_CONNECTION: &str = "/instant/auth/connection";

/// `POST {"channel"}` here answers `{"token"}` or 403 `{"error", "reason"}`;
/// `POST {"channels": [...]}` answers `{"tokens": {channel: token}}` for the allowed ones.
pub const AUTH_SUBSCRIPTION: &str = "/instant/auth/subscription";

/// The superuser frontend page (`GET`; also answered without the trailing slash).
pub const FRONTEND: &str = "/instant/";

/// `POST {channel, message, event_class?, data?}` publishes a test event (superusers only).
pub const PUBLISH: &str = "/instant/publish";

/// `GET` here answers the app's counters in Prometheus' text format, when
/// [`RealtimeBuilder::metrics_route`](crate::RealtimeBuilder::metrics_route) turns the route on
/// (it is off by default).
///
/// ```
/// assert_eq!(instant_actix::paths::METRICS, "/instant/metrics");
/// ```
pub const METRICS: &str = "/instant/metrics";

/// Where the routes serve a local `centrifuge.js` ([`CentrifugeJs::File`](crate::CentrifugeJs::File)).
pub const CENTRIFUGE_JS: &str = "/instant/static/centrifuge.js";

/// The folder of the files the routes serve: `centrifuge.js` ([`CENTRIFUGE_JS`]), and the client
/// script and style sheet, whose names hold a hash of their content
/// (`client.<hash>.js`, `client.<hash>.css`), so that they are cached for good
/// (`Cache-Control: public, max-age=31536000, immutable`) and a changed template gives a new URL.
pub const STATIC: &str = "/instant/static";

/// The path of the client script whose content hash is `hash`.
pub(crate) fn client_script(hash: &str) -> String {
    format!("{STATIC}/client.{hash}.js")
}

/// The path of the client style sheet whose content hash is `hash`.
pub(crate) fn client_style(hash: &str) -> String {
    format!("{STATIC}/client.{hash}.css")
}
