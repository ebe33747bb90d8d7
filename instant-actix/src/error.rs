//! The errors of `instant`: [`SetupError`] when the app sets it up, [`RouteError`] when one of its
//! routes refuses a request.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

/// Why [`RealtimeBuilder::build`](crate::RealtimeBuilder::build) could not set `instant` up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// The configuration is missing a value or holds an invalid one.
    #[error(transparent)]
    Config(#[from] instant_core::ConfigError),
    /// A template (built in or from the app's template directory) does not compile or render.
    #[error("template `{name}`: {reason}")]
    Template {
        /// The template's relative path, such as `instant/handlers/default.js`.
        name: String,
        /// What went wrong, with Tera's explanation.
        reason: String,
    },
    /// The app's template directory or the local Centrifugo client file cannot be read.
    #[error("cannot read `{path}`: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The app's channels cannot take the personal channel (a declaration that makes the same
    /// names as `personal:#{user}`).
    #[error("the personal channel cannot be added to the app's channels: {0}")]
    Channels(#[from] instant_core::ChannelError),
    /// A `[[channels]]` entry of the settings gives a declared channel another level than the app.
    #[error(
        "channel `{channel}` is declared with level {declared} by the app but with level {configured} in the settings"
    )]
    ChannelLevel {
        /// The channel's name.
        channel: String,
        /// The level the app declares.
        declared: instant_core::Level,
        /// The level the settings give it.
        configured: instant_core::Level,
    },
}

impl SetupError {
    pub(crate) fn template(name: &str, error: &tera::Error) -> Self {
        use std::error::Error as _;
        let mut reason = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            reason.push_str(": ");
            reason.push_str(&cause.to_string());
            source = cause.source();
        }
        Self::Template {
            name: name.to_owned(),
            reason,
        }
    }

    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

/// Why one of `instant`'s routes refused a request. Each variant answers with its status and a
/// JSON body `{"error", "reason"}` (404 has no body).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RouteError {
    /// The user may not have what was asked (a token, the publish form): 403.
    #[error("permission denied: {reason}")]
    Denied {
        /// Why, such as "the channel needs level staff and the user has level users".
        reason: String,
    },
    /// A browser sent the request from another site: 403.
    #[error("{reason}")]
    CrossSite {
        /// The refused origin, or the missing or unreadable header.
        reason: String,
    },
    /// The body is malformed, or asks for something that does not exist: 400.
    #[error("bad request: {reason}")]
    BadRequest {
        /// What is wrong with the body.
        reason: String,
    },
    /// Nothing is served here for this user (the frontend for a non-superuser): 404.
    #[error("not found")]
    NotFound,
    /// The backend did not accept an event published from the frontend: 502.
    #[error("publish failed: {reason}")]
    PublishFailed {
        /// The backend's answer.
        reason: String,
    },
}

impl RouteError {
    /// A [`RouteError::Denied`].
    pub(crate) fn denied(reason: impl Into<String>) -> Self {
        Self::Denied {
            reason: reason.into(),
        }
    }

    /// A [`RouteError::BadRequest`].
    pub(crate) fn bad_request(reason: impl Into<String>) -> Self {
        Self::BadRequest {
            reason: reason.into(),
        }
    }
}

impl ResponseError for RouteError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Denied { .. } | Self::CrossSite { .. } => StatusCode::FORBIDDEN,
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::PublishFailed { .. } => StatusCode::BAD_GATEWAY,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        match self {
            Self::Denied { reason } | Self::CrossSite { reason } => {
                response.json(json!({"error": "permission denied", "reason": reason}))
            }
            Self::BadRequest { reason } => {
                response.json(json!({"error": "bad request", "reason": reason}))
            }
            Self::NotFound => response.finish(),
            Self::PublishFailed { reason } => {
                response.json(json!({"ok": false, "error": "publish failed", "reason": reason}))
            }
        }
    }
}
