//! The state shared by the middleware and the routes, built once by
//! [`RealtimeBuilder::build`](crate::RealtimeBuilder::build).

use std::fmt;
use std::sync::Arc;

use actix_web::{HttpMessage, HttpRequest};
use bytes::Bytes;
use futures_util::future::LocalBoxFuture;
use instant_core::{Channel, ChannelSet, Config, Level, Params, Publisher, StreamPosition, Tokens};
use serde::Serialize;

use crate::embedded::EmbeddedServer;
use crate::page_tokens::PageTokens;
use crate::templates::{Asset, Snippet, may_need_escape, push_script_safe};
use crate::user::{User, UserResolver, level_of};
use crate::{forwarded, paths};

/// The app's own check per user and channel, on top of the levels.
pub(crate) type AuthorizeFn = dyn Fn(Option<&User>, &Channel) -> bool + Send + Sync;

/// The app's asynchronous check per user, channel (a pattern or a fixed channel) and the
/// parameters read from the concrete name.
pub(crate) type AuthorizeAsyncFn =
    dyn Fn(Option<User>, Channel, Params) -> LocalBoxFuture<'static, bool> + Send + Sync;

/// The concrete channels a handler asked its page to join (`join`), in request extensions.
#[derive(Debug, Default, Clone)]
pub(crate) struct JoinedChannels(pub(crate) Vec<String>);

/// Why a user may not join a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Denial {
    /// The app does not declare the channel.
    Undeclared,
    /// The channel needs a higher level.
    Level { required: Level, actual: Level },
    /// The app's `authorize` check said no.
    Refused,
    /// A user-limited channel (`personal:#42`) of another user.
    NotOwner,
}

impl Denial {
    /// The reason's label in the metrics (`instant_auth_denied_total{reason}`).
    pub(crate) fn label(&self) -> &'static str {
        match self {
            Self::Undeclared => "undeclared",
            Self::Level { .. } => "level",
            Self::Refused => "refused",
            Self::NotOwner => "not_owner",
        }
    }
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Undeclared => f.write_str("the channel is not declared"),
            Self::Level { required, actual } => write!(
                f,
                "the channel needs level {required} and the user has level {}",
                if *actual == Level::Public {
                    "public (anonymous)"
                } else {
                    actual.as_str()
                }
            ),
            Self::Refused => f.write_str("the app's authorization check refused it"),
            Self::NotOwner => f.write_str("the channel belongs to another user"),
        }
    }
}

/// Everything a request needs, shared by all workers.
pub(crate) struct Runtime {
    pub(crate) config: Config,
    pub(crate) channels: ChannelSet,
    pub(crate) tokens: Tokens,
    /// The tokens written into pages, reused for a while per user.
    pub(crate) page_tokens: PageTokens,
    pub(crate) publisher: Publisher,
    pub(crate) resolver: Arc<dyn UserResolver>,
    pub(crate) authorize: Option<Arc<AuthorizeFn>>,
    pub(crate) authorize_async: Option<Arc<AuthorizeAsyncFn>>,
    pub(crate) snippet: Snippet,
    /// The rendered client script, served at its hashed URL.
    pub(crate) client_js: Asset,
    /// The rendered client style sheet, served at its hashed URL.
    pub(crate) client_css: Asset,
    pub(crate) frontend: Option<String>,
    pub(crate) centrifuge_file: Option<Bytes>,
    /// The WebSocket URL given by the configuration, or derived from the Centrifugo URL; `None`
    /// means "this app's host" (the embedded server).
    pub(crate) ws_url: Option<String>,
    pub(crate) memory_limit: usize,
    pub(crate) embedded: Option<EmbeddedServer>,
    /// The channels (fixed names and patterns) with presence on, and whether anonymous
    /// subscribers see it too (`presence_for_anonymous`).
    pub(crate) presence: std::collections::HashMap<String, bool>,
    /// The channels (fixed names and patterns) that keep a history, so have a stream position.
    pub(crate) history: std::collections::HashSet<String>,
    /// Who may read the metrics route; `None`: the route is off.
    pub(crate) metrics_access: Option<crate::metrics_route::MetricsAccess>,
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("config", &self.config)
            .field("channels", &self.channels)
            .field("ws_url", &self.ws_url)
            .finish_non_exhaustive()
    }
}

/// The JSON of `<script type="application/json" id="instant-config">`.
#[derive(Debug, Serialize)]
pub(crate) struct BrowserConfig<'a> {
    pub(crate) ws_url: String,
    pub(crate) site: &'a str,
    pub(crate) site_name: &'a str,
    pub(crate) debug: bool,
    pub(crate) token: String,
    pub(crate) channels: Vec<BrowserChannel>,
    /// The logged-in user (`null` for an anonymous visitor).
    pub(crate) user: Option<BrowserUser>,
    /// The request path the page was rendered for.
    pub(crate) path: String,
    /// Where the client renews its connection token.
    pub(crate) connection_url: &'static str,
    /// Where the client gets and renews its subscription tokens.
    pub(crate) subscription_url: &'static str,
    /// Where the frontend page publishes its test events (the frontend page only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) publish_url: Option<&'static str>,
}

/// The user a page was rendered for.
#[derive(Debug, Serialize)]
pub(crate) struct BrowserUser {
    pub(crate) id: String,
    pub(crate) level: Level,
}

/// One channel the page subscribes to.
#[derive(Debug, Serialize)]
pub(crate) struct BrowserChannel {
    pub(crate) name: String,
    pub(crate) level: Level,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) token: Option<String>,
    /// Whether the page follows who is on the channel (presence on, and visible to this user).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(crate) presence: bool,
    /// The declared pattern that makes the channel (`$order_{id}`), for its handler.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) pattern: Option<String>,
    /// The pattern's parameters read from the name (`{"id": "42"}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) params: Option<std::collections::BTreeMap<String, String>>,
    /// The stream position when the page was rendered: the client subscribes from there, so
    /// that nothing published in between is lost.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) since: Option<StreamPosition>,
}

impl BrowserConfig<'_> {
    /// The config as compact JSON for the inside of a `<script>` element: byte for byte the text
    /// serde writes for it, then escaped as
    /// [`escape_json_for_script`](crate::templates::escape_json_for_script) escapes it (tests
    /// hold them together), written field by field. Most of it needs no escaping (tokens, URLs,
    /// channel names), so each string is checked in blocks and copied whole when it is plain;
    /// the tokens minted here and the fixed strings are not checked at all.
    pub(crate) fn to_script_json(&self) -> String {
        let mut out = Vec::with_capacity(
            512 + self.token.len()
                + self
                    .channels
                    .iter()
                    .map(BrowserChannel::len_hint)
                    .sum::<usize>(),
        );
        out.extend_from_slice(b"{\"ws_url\":");
        push_json_str(&mut out, &self.ws_url);
        out.extend_from_slice(b",\"site\":");
        push_json_str(&mut out, self.site);
        out.extend_from_slice(b",\"site_name\":");
        push_json_str(&mut out, self.site_name);
        out.extend_from_slice(if self.debug {
            b",\"debug\":true,\"token\":"
        } else {
            b",\"debug\":false,\"token\":"
        });
        push_plain_str(&mut out, &self.token);
        out.extend_from_slice(b",\"channels\":[");
        for (index, channel) in self.channels.iter().enumerate() {
            if index > 0 {
                out.push(b',');
            }
            channel.write_json(&mut out);
        }
        out.extend_from_slice(b"],\"user\":");
        match &self.user {
            Some(user) => {
                out.extend_from_slice(b"{\"id\":");
                push_json_str(&mut out, &user.id);
                out.extend_from_slice(b",\"level\":");
                push_plain_str(&mut out, user.level.as_str());
                out.push(b'}');
            }
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"path\":");
        push_json_str(&mut out, &self.path);
        out.extend_from_slice(b",\"connection_url\":");
        push_plain_str(&mut out, self.connection_url);
        out.extend_from_slice(b",\"subscription_url\":");
        push_plain_str(&mut out, self.subscription_url);
        if let Some(url) = self.publish_url {
            out.extend_from_slice(b",\"publish_url\":");
            push_plain_str(&mut out, url);
        }
        out.push(b'}');
        // Written from `&str`s and ASCII.
        String::from_utf8(out).unwrap_or_default()
    }
}

impl BrowserChannel {
    /// About the bytes of its JSON, to size the buffer once.
    fn len_hint(&self) -> usize {
        64 + self.name.len() + self.token.as_ref().map_or(0, String::len)
    }

    fn write_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"name\":");
        push_json_str(out, &self.name);
        out.extend_from_slice(b",\"level\":");
        push_plain_str(out, self.level.as_str());
        if let Some(token) = &self.token {
            out.extend_from_slice(b",\"token\":");
            push_plain_str(out, token);
        }
        if self.presence {
            out.extend_from_slice(b",\"presence\":true");
        }
        if let Some(pattern) = &self.pattern {
            out.extend_from_slice(b",\"pattern\":");
            push_json_str(out, pattern);
        }
        if let Some(params) = &self.params {
            out.extend_from_slice(b",\"params\":{");
            for (index, (key, value)) in params.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                push_json_str(out, key);
                out.push(b':');
                push_json_str(out, value);
            }
            out.push(b'}');
        }
        if let Some(since) = &self.since {
            out.extend_from_slice(b",\"since\":{\"offset\":");
            out.extend_from_slice(since.offset.to_string().as_bytes());
            out.extend_from_slice(b",\"epoch\":");
            push_json_str(out, &since.epoch);
            out.push(b'}');
        }
        out.push(b'}');
    }
}

/// Whether `text` holds a byte that JSON or a script element needs escaped: `"`, `\\`, a control
/// character, or one [`push_script_safe`] may escape. Block by block without stopping
/// early inside a block, so that the compiler can compare many bytes at once.
fn needs_escaping(text: &str) -> bool {
    text.as_bytes().chunks(32).any(|block| {
        block.iter().fold(false, |found, &b| {
            found | (b < 0x20) | matches!(b, b'"' | b'\\') | may_need_escape(b)
        })
    })
}

/// Appends `text` as a JSON string escaped as serde escapes it, then for a script element
/// ([`push_script_safe`]).
fn push_json_str(out: &mut Vec<u8>, text: &str) {
    if needs_escaping(text) {
        // Writing into a `Vec` cannot fail, and serde writes UTF-8.
        let json = serde_json::to_string(text).unwrap_or_default();
        push_script_safe(out, &json);
    } else {
        push_plain_str(out, text);
    }
}

/// Appends a string that needs no escaping as a JSON string: a token minted here (base64url
/// and dots), a level's name, a route's path.
fn push_plain_str(out: &mut Vec<u8>, text: &str) {
    debug_assert!(!needs_escaping(text), "{text:?} needs escaping");
    out.push(b'"');
    out.extend_from_slice(text.as_bytes());
    out.push(b'"');
}

impl Runtime {
    /// The user behind `req`. A user with an empty id counts as anonymous (and is logged): its
    /// tokens would carry the `sub` of anonymous connections, so anyone could use them.
    pub(crate) fn resolve(&self, req: &HttpRequest) -> Option<User> {
        let user = self.resolver.resolve(req)?;
        if user.id.is_empty() {
            tracing::warn!(
                path = req.path(),
                "instant: the user resolver returned a user with an empty id; treated as anonymous"
            );
            return None;
        }
        Some(user)
    }

    /// Whether the app's checks (`authorize`, then `authorize_async`) let `user` join `channel`
    /// with these parameters. They are consulted for private channels only: public channels
    /// need no token, so no check could keep a client from subscribing to them.
    async fn app_allows(&self, user: Option<&User>, channel: &Channel, params: &Params) -> bool {
        if !channel.is_private() {
            return true;
        }
        if let Some(check) = &self.authorize
            && !check(user, channel)
        {
            return false;
        }
        match &self.authorize_async {
            Some(check) => check(user.cloned(), channel.clone(), params.clone()).await,
            None => true,
        }
    }

    /// Whether `user` may join the concrete channel `name`: declared (a fixed channel or a name
    /// a pattern makes), level high enough, then the app's checks (private channels).
    pub(crate) async fn authorize(
        &self,
        user: Option<&User>,
        name: &str,
    ) -> Result<(&Channel, Params), Denial> {
        let (channel, params) = self.channels.resolve(name).ok_or(Denial::Undeclared)?;
        let actual = level_of(user);
        if !actual.may_join(channel.level()) {
            return Err(Denial::Level {
                required: channel.level(),
                actual,
            });
        }
        if let Some(owner) = channel.limited_to(name)
            && user.is_none_or(|user| user.id != owner)
        {
            return Err(Denial::NotOwner);
        }
        if !self.app_allows(user, channel, &params).await {
            return Err(Denial::Refused);
        }
        Ok((channel, params))
    }

    /// The connection token of `user`; anonymous visitors get `""` and connect without one.
    pub(crate) fn connection_token(&self, user: Option<&User>) -> String {
        user.map_or_else(String::new, |user| {
            self.tokens.connection(&user.id, user.info.as_ref())
        })
    }

    /// The subscription token of `user` on `channel`.
    pub(crate) fn subscription_token(&self, user: Option<&User>, channel: &str) -> String {
        self.tokens
            .subscription(user.map_or("", |u| u.id.as_str()), channel)
    }

    /// The WebSocket URL the browser connects to: the configured one, else this app's host as
    /// the request names it (forwarded headers only from the `trusted_proxies`).
    pub(crate) fn ws_url(&self, req: &HttpRequest) -> String {
        if let Some(url) = &self.ws_url {
            return url.clone();
        }
        let trusted = self.config.trusted_proxies();
        let scheme = if forwarded::scheme(req, trusted) == "https" {
            "wss://"
        } else {
            "ws://"
        };
        let host = forwarded::host(req, trusted);
        let mut url =
            String::with_capacity(scheme.len() + host.len() + paths::WEBSOCKET_PATH.len());
        url.push_str(scheme);
        url.push_str(&host);
        url.push_str(paths::WEBSOCKET_PATH);
        url
    }

    /// The browser config of `user` on the page at `path`: the fixed channels of the path, then
    /// the concrete channels the handler joined ([`join`](crate::join)), each allowed by the
    /// levels and the app's checks; with `all_paths` the path filters of the fixed channels are
    /// ignored and the publish URL is given (the frontend page). The checks run concurrently.
    pub(crate) async fn browser_config(
        &self,
        req: &HttpRequest,
        user: Option<&User>,
        all_paths: bool,
    ) -> BrowserConfig<'_> {
        let level = level_of(user);
        let path = req.path();
        let mut names: Vec<String> = self
            .channels
            .joinable(level)
            .filter(|c| all_paths || c.connects_on(path))
            .map(|c| c.name().to_owned())
            .collect();
        // Every page of a logged-in user joins the user's own user-limited channels
        // (`personal:#42`), when the app declares such a pattern.
        if let Some(user) = user {
            for pattern in self.channels.iter().filter(|c| c.is_user_limited()) {
                match pattern.try_with([user.id.as_str()]) {
                    Ok(name) => names.push(name.into_string()),
                    Err(error) => tracing::debug!(
                        user = %user.id,
                        pattern = pattern.name(),
                        %error,
                        "instant: no personal channel for this user id"
                    ),
                }
            }
        }
        let fixed = names.len();
        let joined = req.extensions().get::<JoinedChannels>().cloned();
        for name in joined.into_iter().flat_map(|joined| joined.0) {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        let decisions =
            futures_util::future::join_all(names.iter().map(|name| self.authorize(user, name)))
                .await;
        let mut channels = Vec::with_capacity(names.len());
        // Whether each of `channels` keeps a history, so has a position worth asking for.
        let mut with_history = Vec::with_capacity(names.len());
        for (index, (name, decision)) in names.iter().zip(decisions).enumerate() {
            if let Ok((channel, _)) = &decision {
                with_history.push(self.history.contains(channel.name()));
            }
            match decision {
                Ok((channel, params)) => channels.push(BrowserChannel {
                    name: name.clone(),
                    level: channel.level(),
                    token: channel.is_private().then(|| {
                        self.page_tokens
                            .subscription(user.map_or("", |u| u.id.as_str()), name)
                    }),
                    presence: self
                        .presence
                        .get(channel.name())
                        .is_some_and(|anonymous_too| user.is_some() || *anonymous_too),
                    pattern: channel.is_pattern().then(|| channel.name().to_owned()),
                    params: channel.is_pattern().then(|| {
                        params
                            .iter()
                            .map(|(k, v)| (k.to_owned(), v.to_owned()))
                            .collect()
                    }),
                    since: None,
                }),
                // A fixed channel refused by the app's check is left out quietly, as it always
                // was; a channel the handler joined by name is worth a line.
                Err(denial) if index < fixed => {
                    tracing::debug!(channel = %name, reason = %denial, "instant: channel left out of the page");
                }
                Err(denial) => tracing::info!(
                    user = user.map_or("<anonymous>", |u| u.id.as_str()),
                    level = %level,
                    channel = %name,
                    reason = %denial,
                    path,
                    "instant: channel left out of the page"
                ),
            }
        }
        // Where each stream with a history stands now, asked of the backend in one go.
        let asked: Vec<&str> = channels
            .iter()
            .zip(&with_history)
            .filter(|(_, history)| **history)
            .map(|(channel, _)| channel.name.as_str())
            .collect();
        let mut positions = if asked.is_empty() {
            Vec::new()
        } else {
            self.publisher.backend().stream_positions(&asked).await
        }
        .into_iter();
        for (channel, history) in channels.iter_mut().zip(with_history) {
            if history {
                channel.since = positions.next().flatten();
            }
        }
        BrowserConfig {
            ws_url: self.ws_url(req),
            site: self.config.site_slug(),
            site_name: self.config.site_name(),
            debug: self.config.debug(),
            // Anonymous visitors connect without a token.
            token: user.map_or_else(String::new, |user| {
                self.page_tokens.connection(&user.id, user.info.as_ref())
            }),
            channels,
            user: user.map(|user| BrowserUser {
                id: user.id.clone(),
                level: user.level,
            }),
            path: path.to_owned(),
            connection_url: paths::AUTH_CONNECTION,
            subscription_url: paths::AUTH_SUBSCRIPTION,
            publish_url: all_paths.then_some(paths::PUBLISH),
        }
    }

    /// The snippet for this page, and whether it holds a token (so the page is private).
    pub(crate) async fn snippet_for(
        &self,
        req: &HttpRequest,
        nonce: Option<&str>,
        all_paths: bool,
    ) -> (String, bool) {
        let user = self.resolve(req);
        let config = self.browser_config(req, user.as_ref(), all_paths).await;
        let has_token =
            !config.token.is_empty() || config.channels.iter().any(|c| c.token.is_some());
        let json = config.to_script_json();
        (self.snippet.render(nonce, &json), has_token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channel(name: &str) -> BrowserChannel {
        BrowserChannel {
            name: name.to_owned(),
            level: Level::Public,
            token: None,
            presence: false,
            pattern: None,
            params: None,
            since: None,
        }
    }

    fn config<'a>(site: &'a str, channels: Vec<BrowserChannel>) -> BrowserConfig<'a> {
        BrowserConfig {
            ws_url: "ws://localhost:8080/connection/websocket".to_owned(),
            site,
            site_name: site,
            debug: false,
            token: String::new(),
            channels,
            user: None,
            path: "/".to_owned(),
            connection_url: paths::AUTH_CONNECTION,
            subscription_url: paths::AUTH_SUBSCRIPTION,
            publish_url: None,
        }
    }

    fn assert_written_as_serde_writes(config: &BrowserConfig<'_>) {
        let serde = serde_json::to_string(config).unwrap();
        assert_eq!(
            config.to_script_json(),
            crate::templates::escape_json_for_script(&serde)
        );
    }

    #[test]
    fn an_anonymous_page_without_channels() {
        assert_written_as_serde_writes(&config("mysite", Vec::new()));
    }

    #[test]
    fn every_field_of_a_logged_in_users_page() {
        let mut order = channel("$order_42");
        order.level = Level::Users;
        order.token = Some("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2ln".to_owned());
        order.presence = true;
        order.pattern = Some("$order_{id}".to_owned());
        order.params = Some(
            [("id", "42"), ("z", "1")]
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .into(),
        );
        order.since = Some(StreamPosition::new(17, "ab12"));
        let mut admin = channel("$mysite_admin1");
        admin.level = Level::Superuser;
        admin.token = Some("t".to_owned());
        let mut page = config("mysite", vec![channel("mysite_public1"), order, admin]);
        page.debug = true;
        page.token = "eyJ.eyJ.sig".to_owned();
        page.user = Some(BrowserUser {
            id: "42".to_owned(),
            level: Level::Staff,
        });
        page.path = "/a/path".to_owned();
        page.publish_url = Some(paths::PUBLISH);
        assert_written_as_serde_writes(&page);
    }

    /// Every string but the tokens minted here and the fixed ones (levels, route paths), which
    /// are written unchecked.
    #[test]
    fn strings_that_need_escaping_at_any_offset() {
        let awkward = [
            "quote \" here",
            "back\\slash",
            "tab\tnew\nline\u{1}\u{1f}",
            "</script><!-- & \u{2028} é €",
            "",
        ];
        for text in awkward {
            for pad in 0..70 {
                let text = format!("{}{text}", "a".repeat(pad));
                let mut with_user = channel(&text);
                with_user.pattern = Some(text.clone());
                with_user.params = Some([(text.clone(), text.clone())].into());
                with_user.since = Some(StreamPosition::new(0, text.clone()));
                let mut page = config(&text, vec![with_user]);
                page.user = Some(BrowserUser {
                    id: text.clone(),
                    level: Level::Users,
                });
                page.path.clone_from(&text);
                page.ws_url.clone_from(&text);
                assert_written_as_serde_writes(&page);
            }
        }
    }
}
