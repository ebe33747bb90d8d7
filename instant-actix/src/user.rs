//! Who the user behind a request is: the app tells `instant` through a [`UserResolver`].

use actix_web::HttpRequest;
use instant_core::Level;
use serde_json::Value;

/// A known user of the app, as far as `instant` needs to know them.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    /// A stable id; it becomes the `sub` claim of the user's tokens.
    pub id: String,
    /// The highest channel level this user may join: [`Level::Users`], [`Level::Staff`] or
    /// [`Level::Superuser`] (a known user with [`Level::Public`] joins public channels only).
    pub level: Level,
    /// Optional JSON attached to the connection (Centrifugo's `info` claim, seen by other clients
    /// in presence and join/leave messages).
    pub info: Option<Value>,
}

impl User {
    /// A user with this id and level and no `info`.
    #[must_use]
    pub fn new(id: impl Into<String>, level: Level) -> Self {
        Self {
            id: id.into(),
            level,
            info: None,
        }
    }

    /// A logged-in user with no special rights ([`Level::Users`]).
    #[must_use]
    pub fn member(id: impl Into<String>) -> Self {
        Self::new(id, Level::Users)
    }

    /// A staff member ([`Level::Staff`]).
    #[must_use]
    pub fn staff(id: impl Into<String>) -> Self {
        Self::new(id, Level::Staff)
    }

    /// A superuser ([`Level::Superuser`]).
    #[must_use]
    pub fn superuser(id: impl Into<String>) -> Self {
        Self::new(id, Level::Superuser)
    }

    /// Attaches connection `info`.
    #[must_use]
    pub fn with_info(mut self, info: Value) -> Self {
        self.info = Some(info);
        self
    }
}

/// The level of a possibly anonymous user: anonymous visitors are [`Level::Public`].
pub(crate) fn level_of(user: Option<&User>) -> Level {
    user.map_or(Level::Public, |user| user.level)
}

/// Finds the user behind a request; `None` means an anonymous visitor.
///
/// Implemented for plain closures `Fn(&HttpRequest) -> Option<User>`, so an app can read its own
/// session, identity or header:
///
/// ```
/// # use instant_actix::{User, UserResolver};
/// # use actix_web::HttpRequest;
/// let resolver = |req: &HttpRequest| {
///     req.headers().get("x-user").and_then(|v| v.to_str().ok()).map(User::member)
/// };
/// # fn takes(_: impl UserResolver) {}
/// # takes(resolver);
/// ```
///
/// The resolver runs after the app's handler, on the request the response answers, so session
/// changes made by the handler (a login) are already visible.
pub trait UserResolver: Send + Sync + 'static {
    /// The user behind `req`, or `None` for an anonymous visitor.
    fn resolve(&self, req: &HttpRequest) -> Option<User>;
}

impl<F> UserResolver for F
where
    F: Fn(&HttpRequest) -> Option<User> + Send + Sync + 'static,
{
    fn resolve(&self, req: &HttpRequest) -> Option<User> {
        self(req)
    }
}

/// The resolver used when the app sets none: everyone is anonymous.
#[derive(Debug, Clone, Copy, Default)]
pub struct Anonymous;

impl UserResolver for Anonymous {
    fn resolve(&self, _req: &HttpRequest) -> Option<User> {
        None
    }
}
