//! A ready [`UserResolver`] on top of `actix-session`.
//!
//! The app's login handler stores the user with [`login`]; [`SessionUsers`] reads it back on every
//! request; [`logout`] removes it. The session keys are:
//!
//! | key | value |
//! |---|---|
//! | `instant.user_id` ([`USER_ID_KEY`]) | the user id, a JSON string |
//! | `instant.level` ([`LEVEL_KEY`]) | `"users"`, `"staff"` or `"superuser"` (missing = `"users"`) |
//! | `instant.user_info` ([`USER_INFO_KEY`]) | optional connection info, any JSON |
//!
//! `SessionMiddleware` must wrap the `instant` middleware (register it after).

use actix_session::{Session, SessionExt, SessionInsertError};
use actix_web::HttpRequest;
use instant_core::Level;
use serde_json::Value;

use crate::user::{User, UserResolver};

/// The session key of the user id.
pub const USER_ID_KEY: &str = "instant.user_id";
/// The session key of the user's level.
pub const LEVEL_KEY: &str = "instant.level";
/// The session key of the user's connection info.
pub const USER_INFO_KEY: &str = "instant.user_info";

/// Reads the user that [`login`] stored in the `actix-session` session.
#[derive(Debug, Clone, Copy, Default)]
pub struct SessionUsers;

impl UserResolver for SessionUsers {
    fn resolve(&self, req: &HttpRequest) -> Option<User> {
        let session = req.get_session();
        let id = session.get::<String>(USER_ID_KEY).ok().flatten()?;
        let level = session
            .get::<Level>(LEVEL_KEY)
            .ok()
            .flatten()
            .unwrap_or(Level::Users);
        let info = session.get::<Value>(USER_INFO_KEY).ok().flatten();
        Some(User { id, level, info })
    }
}

/// Stores `user` in the session (renewing the session id against fixation).
///
/// # Errors
/// When the session cannot serialize a value.
pub fn login(session: &Session, user: &User) -> Result<(), SessionInsertError> {
    session.renew();
    session.insert(USER_ID_KEY, &user.id)?;
    session.insert(LEVEL_KEY, user.level)?;
    match &user.info {
        Some(info) => session.insert(USER_INFO_KEY, info)?,
        None => {
            session.remove(USER_INFO_KEY);
        }
    }
    Ok(())
}

/// Forgets the user (the whole session is purged).
pub fn logout(session: &Session) {
    session.purge();
}
