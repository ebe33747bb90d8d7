//! Helpers for an app's own tests with actix-web's test tools: what the middleware put into a page
//! ([`PageConfig`], [`page_config`]) and the tokens the auth routes issue to a user
//! ([`issued_tokens`]).
//!
//! Build the app as in production, with [`RealtimeBuilder::backend`](crate::RealtimeBuilder::backend)
//! giving it a [`RecordingBackend`](instant_core::testing::RecordingBackend) to assert on what it
//! publishes:
//!
//! ```
//! use actix_web::{App, HttpResponse, test, web};
//! use instant_actix::testing::{issued_tokens, page_config};
//! use instant_actix::{InstantMiddleware, Realtime, User};
//! use instant_core::testing::RecordingBackend;
//! use instant_core::{Channel, ChannelSet, Config, Level};
//!
//! # #[actix_web::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let recorder = RecordingBackend::new();
//! let realtime = Realtime::builder()
//!     .config(Config::builder().build()?)
//!     .channels(ChannelSet::new([
//!         Channel::new("news", Level::Public)?,
//!         Channel::new("$staff", Level::Staff)?,
//!     ])?)
//!     // A stand-in for the app's login: the user named by a header.
//!     .users(|req: &actix_web::HttpRequest| {
//!         req.headers().get("x-user").and_then(|v| v.to_str().ok()).map(User::staff)
//!     })
//!     .backend(recorder.clone())
//!     .build()?;
//! let app = test::init_service(
//!     App::new()
//!         .wrap(InstantMiddleware)
//!         .configure(realtime.routes())
//!         .route("/", web::get().to(|| async {
//!             HttpResponse::Ok().content_type("text/html").body("<html><head></head><body></body></html>")
//!         })),
//! )
//! .await;
//!
//! // What an anonymous visitor's page joins.
//! let page = page_config(&app, test::TestRequest::get().uri("/").to_request()).await;
//! assert_eq!(page.channel_names(), ["news"]);
//! assert!(page.token.is_empty());
//!
//! // The tokens a staff member gets.
//! let as_alice = || test::TestRequest::default().insert_header(("x-user", "alice"));
//! let issued = issued_tokens(&realtime, &app, as_alice, &["news", "$staff"]).await;
//! assert_eq!(issued.user_id(), "alice");
//! assert!(issued.granted("$staff"));
//!
//! realtime.publisher().publish("news", "Hello").detach();
//! recorder.assert_published_with("news", |e| e.message == "Hello");
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::fmt;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::test::{self, TestRequest};
use instant_core::{ConnectionClaims, Level, SubscriptionClaims};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::Realtime;
use crate::paths;

/// The browser config the middleware put into a page: the JSON of
/// `<script type="application/json" id="instant-config">`, typed.
///
/// ```
/// use instant_actix::testing::PageConfig;
///
/// let html = r#"<head><script type="application/json" id="instant-config">{"ws_url":"ws://h/connection/websocket",
///   "site":"mysite","site_name":"My site","debug":false,"token":"",
///   "channels":[{"name":"news","level":"public"}],
///   "connection_url":"/instant/auth/connection","subscription_url":"/instant/auth/subscription"}</script></head>"#;
/// let page = PageConfig::from_html(html)?;
/// assert_eq!(page.channel_names(), ["news"]);
/// assert!(page.publish_url.is_none());
/// # Ok::<(), instant_actix::testing::PageConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct PageConfig {
    /// The WebSocket URL the browser connects to.
    pub ws_url: String,
    /// The site slug.
    pub site: String,
    /// The site's display name.
    pub site_name: String,
    /// Whether the client logs what it does.
    pub debug: bool,
    /// The connection token; empty for an anonymous visitor.
    pub token: String,
    /// The channels the page joins, in the order of the app's declaration.
    pub channels: Vec<PageChannel>,
    /// Where the client renews its connection token.
    pub connection_url: String,
    /// Where the client gets and renews its subscription tokens.
    pub subscription_url: String,
    /// Where the frontend page publishes (that page only).
    #[serde(default)]
    pub publish_url: Option<String>,
}

/// One channel a page joins.
///
/// ```
/// use instant_actix::testing::PageChannel;
/// use instant_core::Level;
///
/// let channel: PageChannel = serde_json::from_str(r#"{"name":"$staff","level":"staff","token":"t"}"#)?;
/// assert_eq!((channel.level, channel.token.as_deref()), (Level::Staff, Some("t")));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct PageChannel {
    /// The channel's name.
    pub name: String,
    /// Its level.
    pub level: Level,
    /// Its subscription token, for private channels.
    #[serde(default)]
    pub token: Option<String>,
}

/// Why [`PageConfig::from_html`] found no config.
///
/// ```
/// use instant_actix::testing::{PageConfig, PageConfigError};
///
/// assert!(matches!(PageConfig::from_html("<p>hi</p>"), Err(PageConfigError::Missing)));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PageConfigError {
    /// The page has no `#instant-config` element: the middleware did not inject the client.
    #[error("the page has no `#instant-config` element: the client was not injected")]
    Missing,
    /// The element holds something else than the expected JSON.
    #[error("the `#instant-config` element does not hold the expected JSON: {0}")]
    Invalid(#[from] serde_json::Error),
}

impl PageConfig {
    /// Reads the config from a page's HTML.
    ///
    /// # Errors
    /// [`PageConfigError::Missing`] when the page has none, [`PageConfigError::Invalid`] when it
    /// does not read as a [`PageConfig`].
    ///
    /// ```
    /// use instant_actix::testing::PageConfig;
    ///
    /// assert!(PageConfig::from_html("<html></html>").is_err());
    /// ```
    pub fn from_html(html: &str) -> Result<Self, PageConfigError> {
        let start = html
            .find("id=\"instant-config\"")
            .ok_or(PageConfigError::Missing)?;
        let after_tag = html[start..]
            .find('>')
            .map(|i| start + i + 1)
            .ok_or(PageConfigError::Missing)?;
        let end = html[after_tag..]
            .find("</script>")
            .map(|i| after_tag + i)
            .ok_or(PageConfigError::Missing)?;
        Ok(serde_json::from_str(&html[after_tag..end])?)
    }

    /// The names of the channels the page joins.
    ///
    /// ```
    /// # use instant_actix::testing::PageConfig;
    /// # let page = PageConfig::from_html(r#"<script id="instant-config">{"ws_url":"","site":"s","site_name":"s","debug":false,"token":"","channels":[{"name":"news","level":"public"}],"connection_url":"","subscription_url":""}</script>"#).unwrap();
    /// assert_eq!(page.channel_names(), ["news"]);
    /// ```
    #[must_use]
    pub fn channel_names(&self) -> Vec<&str> {
        self.channels.iter().map(|c| c.name.as_str()).collect()
    }

    /// The channel `name`, when the page joins it.
    ///
    /// ```
    /// # use instant_actix::testing::PageConfig;
    /// # let page = PageConfig::from_html(r#"<script id="instant-config">{"ws_url":"","site":"s","site_name":"s","debug":false,"token":"","channels":[{"name":"news","level":"public"}],"connection_url":"","subscription_url":""}</script>"#).unwrap();
    /// assert!(page.channel("news").is_some() && page.channel("$admin").is_none());
    /// ```
    #[must_use]
    pub fn channel(&self, name: &str) -> Option<&PageChannel> {
        self.channels.iter().find(|c| c.name == name)
    }
}

/// Calls `app` with `request` and reads the [`PageConfig`] the middleware put into the page.
///
/// # Panics
/// When the response is not a success, or its page holds no readable config; the message gives
/// the status and the start of the body.
///
/// See the [module's example](self).
pub async fn page_config<S, R, B>(app: &S, request: R) -> PageConfig
where
    S: Service<R, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let response = test::call_service(app, request).await;
    let status = response.status();
    let body = test::read_body(response).await;
    let html = String::from_utf8_lossy(&body);
    assert!(
        status.is_success(),
        "the page answered {status}: {}",
        excerpt(&html)
    );
    PageConfig::from_html(&html)
        .unwrap_or_else(|error| panic!("{error}; the page: {}", excerpt(&html)))
}

/// The tokens the auth routes issued to one user, verified with the app's secret.
///
/// Made by [`issued_tokens`].
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct IssuedTokens {
    /// The claims of the connection token; `None` for an anonymous visitor (who gets `""`).
    pub connection: Option<ConnectionClaims>,
    /// The claims of each subscription token issued, by channel. A channel the user may not join
    /// is missing.
    pub subscriptions: BTreeMap<String, SubscriptionClaims>,
}

impl fmt::Debug for IssuedTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedTokens")
            .field("user_id", &self.user_id())
            .field("channels", &self.subscriptions.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl IssuedTokens {
    /// The user the tokens are for (the `sub` claim), `""` for an anonymous visitor.
    ///
    /// See the [module's example](self).
    #[must_use]
    pub fn user_id(&self) -> &str {
        self.connection.as_ref().map_or("", |c| c.sub.as_str())
    }

    /// Whether a subscription token was issued for `channel`.
    ///
    /// See the [module's example](self).
    #[must_use]
    pub fn granted(&self, channel: impl AsRef<str>) -> bool {
        self.subscriptions.contains_key(channel.as_ref())
    }

    /// The channels a subscription token was issued for, sorted.
    ///
    /// See the [module's example](self).
    #[must_use]
    pub fn granted_channels(&self) -> Vec<&str> {
        self.subscriptions.keys().map(String::as_str).collect()
    }
}

/// Calls the auth routes of `realtime` in `app` as one user, and verifies the tokens they issue
/// with the app's secret: the connection route, then the subscription route for `channels` (one
/// batch request).
///
/// `as_user` makes each request the way the app recognises its user (a session cookie, a header,
/// …); it is called once per route. Its method and path are replaced.
///
/// # Panics
/// When a route does not answer 200 with the expected JSON, or a token does not verify (a bad
/// signature, another user, another channel, expired).
///
/// See the [module's example](self).
pub async fn issued_tokens<S, B>(
    realtime: &Realtime,
    app: &S,
    as_user: impl Fn() -> TestRequest,
    channels: &[&str],
) -> IssuedTokens
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let tokens = realtime.config().tokens();
    let request = as_user()
        .method(actix_web::http::Method::POST)
        .uri(paths::AUTH_CONNECTION)
        .to_request();
    let answer = call_json(app, request, paths::AUTH_CONNECTION).await;
    let token = answer["token"]
        .as_str()
        .unwrap_or_else(|| panic!("{} answered no `token`: {answer}", paths::AUTH_CONNECTION));
    let connection = (!token.is_empty()).then(|| {
        tokens
            .verify_connection(token)
            .unwrap_or_else(|error| panic!("the connection token does not verify: {error}"))
    });
    let user_id = connection.as_ref().map_or("", |c| c.sub.as_str());

    let request = as_user()
        .method(actix_web::http::Method::POST)
        .uri(paths::AUTH_SUBSCRIPTION)
        .set_json(json!({ "channels": channels }))
        .to_request();
    let answer = call_json(app, request, paths::AUTH_SUBSCRIPTION).await;
    let issued = answer["tokens"].as_object().unwrap_or_else(|| {
        panic!(
            "{} answered no `tokens`: {answer}",
            paths::AUTH_SUBSCRIPTION
        )
    });
    let subscriptions = issued
        .iter()
        .map(|(channel, token)| {
            let token = token.as_str().unwrap_or_default();
            let claims = tokens
                .verify_subscription(token, channel, user_id)
                .unwrap_or_else(|error| {
                    panic!("the subscription token of `{channel}` does not verify: {error}")
                });
            (channel.clone(), claims)
        })
        .collect();
    IssuedTokens {
        connection,
        subscriptions,
    }
}

async fn call_json<S, B>(app: &S, request: actix_http::Request, path: &str) -> Value
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let response = test::call_service(app, request).await;
    let status = response.status();
    let body = test::read_body(response).await;
    let text = String::from_utf8_lossy(&body);
    assert!(
        status.is_success(),
        "{path} answered {status}: {}",
        excerpt(&text)
    );
    serde_json::from_str(&text)
        .unwrap_or_else(|error| panic!("{path} answered no JSON ({error}): {}", excerpt(&text)))
}

/// The start of a body, for a panic message.
fn excerpt(text: &str) -> &str {
    match text.char_indices().nth(600) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}
