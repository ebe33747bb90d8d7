//! The set-up: a [`RealtimeBuilder`] collects the app's choices, [`RealtimeBuilder::build`] makes
//! the [`Realtime`] that gives the routes and the publisher.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use actix_web::web;
use bytes::Bytes;
use instant_core::{Backend, CentrifugoClient, Channel, ChannelSet, Config, Params, Publisher};

use crate::embedded::{EmbeddedOptions, EmbeddedServer};
use crate::error::SetupError;
use crate::metrics_route::MetricsAccess;
use crate::page_tokens::PageTokens;
use crate::paths;
use crate::runtime::{AuthorizeAsyncFn, AuthorizeFn, Runtime};
use crate::templates::{self, CentrifugeJs, TemplateSources};
use crate::user::{Anonymous, User, UserResolver};

/// The default memory cap of the HTML rewriter per response: past it, the rest of the page is passed
/// through unchanged.
pub const DEFAULT_MEMORY_LIMIT: usize = 1 << 20;

/// `instant` set up in an actix-web app: mount its [routes](Realtime::routes) and wrap the app in
/// [`InstantMiddleware`](crate::InstantMiddleware).
///
/// Made once at start-up by [`Realtime::builder`]; cheap to clone (clones share one backend, one
/// embedded server or one Centrifugo client, and one set of rendered templates), and nothing on it
/// panics.
///
/// ```no_run
/// use actix_web::{App, HttpServer, web};
/// use instant_actix::{InstantMiddleware, Realtime, User};
/// use instant_core::{Channel, ChannelSet, Level};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let channels = ChannelSet::new([
///     Channel::new("news", Level::Public)?,
///     Channel::new("$staff", Level::Staff)?.at("/dashboard")?,
/// ])?;
/// let realtime = Realtime::builder()
///     .channels(channels)
///     .users(|req: &actix_web::HttpRequest| {
///         req.headers().get("x-user").and_then(|v| v.to_str().ok()).map(User::staff)
///     })
///     .build()?;
/// HttpServer::new(move || {
///     App::new()
///         .wrap(InstantMiddleware)
///         .configure(realtime.routes())
///         .route("/", web::get().to(|| async { actix_web::HttpResponse::Ok().content_type("text/html").body("<html><head></head><body>hi</body></html>") }))
/// })
/// .bind(("127.0.0.1", 8080))?
/// .run()
/// .await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Realtime {
    runtime: Arc<Runtime>,
}

impl fmt::Debug for Realtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Realtime")
            .field("runtime", &self.runtime)
            .finish()
    }
}

impl Realtime {
    /// Starts a set-up: no channels, anonymous visitors only, the settings of `instant.toml` and
    /// the `INSTANT_*` environment variables unless [`RealtimeBuilder::config`] gives others.
    pub fn builder() -> RealtimeBuilder {
        RealtimeBuilder::default()
    }

    /// The routes: `App::configure(realtime.routes())`. They mount the auth routes
    /// ([`paths::AUTH_CONNECTION`], [`paths::AUTH_SUBSCRIPTION`]), the frontend
    /// ([`paths::FRONTEND`], [`paths::PUBLISH`], superusers only), the local `centrifuge.js` at
    /// [`paths::CENTRIFUGE_JS`] when one is configured, and the embedded server
    /// ([`paths::WEBSOCKET_PATH`], `{API_PATH}/{method}`) unless a Centrifugo URL is configured.
    ///
    /// They also register, as app data of the `App`, the set-up that
    /// [`InstantMiddleware`](crate::InstantMiddleware) reads and the [`Publisher`]
    /// (`req.app_data::<Publisher>()`) that `#[instant::event]` handlers publish through. Configure
    /// them on the `App` itself, not inside a scope, so that the middleware finds them.
    pub fn routes(&self) -> impl FnOnce(&mut web::ServiceConfig) + 'static {
        let runtime = Arc::clone(&self.runtime);
        move |cfg| crate::routes::configure(&runtime, cfg)
    }

    /// The publisher of this app's events (a cheap clone handle).
    #[must_use]
    pub fn publisher(&self) -> Publisher {
        self.runtime.publisher.clone()
    }

    /// The embedded server, unless a Centrifugo URL is configured.
    #[must_use]
    pub fn embedded_server(&self) -> Option<&EmbeddedServer> {
        self.runtime.embedded.as_ref()
    }

    /// The settings in force.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.runtime.config
    }

    /// Makes this app's publisher the process's global one, the publisher that
    /// `instant::publish(..)` and handlers without a registered publisher use. Nothing installs it
    /// implicitly. The first call in the process wins: returns `false` when a global publisher was
    /// already installed (this one is then not).
    pub fn install_global_publisher(&self) -> bool {
        self.publisher().install_global()
    }

    /// The app's counters at this moment: events published, failed and dropped, denied
    /// authorization requests by reason, and the embedded server's connections, subscriptions
    /// and deliveries ([`MetricsSnapshot::to_prometheus`](instant_core::metrics::MetricsSnapshot::to_prometheus)
    /// writes them for Prometheus; [`RealtimeBuilder::metrics_route`] serves them).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let realtime = instant_actix::Realtime::builder()
    ///     .config(instant_core::Config::builder().build()?)
    ///     .build()?;
    /// assert_eq!(realtime.metrics().published, 0);
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn metrics(&self) -> instant_core::metrics::MetricsSnapshot {
        self.runtime.publisher.metrics()
    }
}

/// The choices of a [`Realtime`] set-up; made by [`Realtime::builder`], finished by
/// [`RealtimeBuilder::build`].
#[must_use]
pub struct RealtimeBuilder {
    config: Option<Config>,
    channels: ChannelSet,
    resolver: Arc<dyn UserResolver>,
    authorize: Option<Arc<AuthorizeFn>>,
    authorize_async: Option<Arc<AuthorizeAsyncFn>>,
    templates: TemplateSources,
    centrifuge_js: Option<CentrifugeJs>,
    frontend: bool,
    memory_limit: usize,
    embedded_options: EmbeddedOptions,
    backend: Option<Arc<dyn Backend>>,
    personal_channel: bool,
    metrics_access: Option<MetricsAccess>,
}

impl Default for RealtimeBuilder {
    fn default() -> Self {
        Self {
            config: None,
            channels: ChannelSet::empty(),
            resolver: Arc::new(Anonymous),
            authorize: None,
            authorize_async: None,
            templates: TemplateSources::default(),
            centrifuge_js: None,
            frontend: true,
            memory_limit: DEFAULT_MEMORY_LIMIT,
            embedded_options: EmbeddedOptions::default(),
            backend: None,
            personal_channel: false,
            metrics_access: None,
        }
    }
}

impl fmt::Debug for RealtimeBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RealtimeBuilder")
            .field("config", &self.config)
            .field("channels", &self.channels)
            .field("centrifuge_js", &self.centrifuge_js)
            .field("frontend", &self.frontend)
            .finish_non_exhaustive()
    }
}

impl RealtimeBuilder {
    /// The channels the app declares (`instant::channels!` or [`ChannelSet::new`]).
    pub fn channels(mut self, channels: ChannelSet) -> Self {
        self.channels = channels;
        self
    }

    /// Turns on the personal channel of each user (default: off): the pattern
    /// `personal:#{user}` ([`Channel::personal`]) joins the app's channels, every page of a
    /// logged-in user joins the user's own channel (`personal:#42` for user 42), and
    /// [`Publisher::to_user`] publishes to it. Only that user may subscribe to it: the part after
    /// `#` must be the connection's user id, on the embedded server as on Centrifugo (a
    /// user-limited channel, `allow_user_limited_channels` in the `personal` namespace that
    /// `instant genconfig` writes). User ids must be 1 to 64 ASCII letters, digits or `-`.
    pub fn personal_channel(mut self, enabled: bool) -> Self {
        self.personal_channel = enabled;
        self
    }

    /// How to find the user behind a request (a [`UserResolver`] or a closure
    /// `Fn(&HttpRequest) -> Option<User>`). Without one, every visitor is anonymous.
    pub fn users(mut self, resolver: impl UserResolver) -> Self {
        self.resolver = Arc::new(resolver);
        self
    }

    /// An extra check per user and **private** (`$`) channel, on top of the levels: such a
    /// channel is offered on pages and its subscription token minted (auth routes) only when it
    /// returns `true`, and without a token neither server lets a client subscribe to it. The
    /// user is `None` for anonymous visitors. For a pattern's channel (`$order_42`) it receives
    /// the pattern (`$order_{id}`); [`authorize_async`](RealtimeBuilder::authorize_async) also
    /// receives the parameters.
    ///
    /// The check is not consulted for public channels: they need no token, so any client could
    /// subscribe to them with a raw `subscribe` whatever the check said. To restrict a channel,
    /// declare it at a private level (`users`, `staff` or `superuser`, with the `$` prefix).
    pub fn authorize<F>(mut self, check: F) -> Self
    where
        F: Fn(Option<&User>, &Channel) -> bool + Send + Sync + 'static,
    {
        self.authorize = Some(Arc::new(check));
        self
    }

    /// An asynchronous check per user, **private** channel and parameters, on top of the levels
    /// and of [`authorize`](RealtimeBuilder::authorize) (both must pass when both are set): a
    /// database query deciding whether user 7 may see order 42. It receives the user (`None`
    /// when anonymous), the declared channel (for a pattern, the pattern: `$order_{id}`) and the
    /// [`Params`] read from the concrete name (`params.parse::<u64>("id")`; empty for a fixed
    /// channel), all owned, and returns a future of `bool`.
    ///
    /// It decides where `authorize` does: which private channels a page joins (declared ones and
    /// those the handler [joins](crate::join)) and which subscription tokens the auth routes
    /// mint; without a token neither server lets a client subscribe. It runs only after the
    /// level allowed the user, and is not consulted for public channels. Refusals are logged
    /// with their reason.
    ///
    /// ```
    /// # use instant_actix::Realtime;
    /// let builder = Realtime::builder().authorize_async(|user, channel, params| async move {
    ///     // e.g. `SELECT 1 FROM orders WHERE id = ? AND owner = ?` with sqlx
    ///     match (channel.name(), user) {
    ///         ("$order_{id}", Some(user)) => params.get("id") == Some(user.id.as_str()),
    ///         _ => true,
    ///     }
    /// });
    /// # drop(builder);
    /// ```
    pub fn authorize_async<F, Fut>(mut self, check: F) -> Self
    where
        F: Fn(Option<User>, Channel, Params) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = bool> + 'static,
    {
        self.authorize_async = Some(Arc::new(move |user, channel, params| {
            Box::pin(check(user, channel, params))
        }));
        self
    }

    /// The settings to use instead of loading them from `instant.toml` and the `INSTANT_*`
    /// environment variables ([`Config::load`]) in [`build`](RealtimeBuilder::build).
    pub fn config(mut self, config: Config) -> Self {
        self.config = Some(config);
        self
    }

    /// Where the browser loads `centrifuge.js` from. Without it: the settings' local file
    /// ([`Config::centrifuge_js`]: `centrifuge_js` in `instant.toml`, `INSTANT_CENTRIFUGE_JS`)
    /// when given, else the pinned CDN URL with its SRI hash.
    pub fn centrifuge_js(mut self, source: CentrifugeJs) -> Self {
        self.centrifuge_js = Some(source);
        self
    }

    /// The app's template directory, instead of the settings' one ([`Config::templates_dir`]:
    /// `templates_dir` in `instant.toml`, `INSTANT_TEMPLATES_DIR`): a file there with the relative path of a built-in template
    /// (`instant/handlers/default.js`, `instant/handlers/<channel>.js`, `instant.css`, …) replaces
    /// it.
    pub fn templates_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.templates.dir = Some(dir.into());
        self
    }

    /// One template given as text (for instance with `include_str!`), replacing the built-in one
    /// or the directory's file of the same relative path.
    pub fn template(mut self, name: impl Into<String>, source: impl Into<String>) -> Self {
        self.templates.overrides.push((name.into(), source.into()));
        self
    }

    /// Whether the routes serve the superuser frontend at [`paths::FRONTEND`] (default: yes;
    /// others get 404).
    pub fn frontend(mut self, enabled: bool) -> Self {
        self.frontend = enabled;
        self
    }

    /// Serves the app's counters ([`Realtime::metrics`]) in Prometheus' text format at
    /// [`paths::METRICS`] (`GET /instant/metrics`) to those `access` lets in; anyone else gets
    /// 404. Off by default: without this call the route does not exist.
    ///
    /// ```
    /// use instant_actix::{MetricsAccess, Realtime};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let realtime = Realtime::builder()
    ///     .config(instant_core::Config::builder().build()?)
    ///     .metrics_route(MetricsAccess::Superusers)
    ///     .build()?;
    /// # drop(realtime); Ok(()) }
    /// ```
    pub fn metrics_route(mut self, access: MetricsAccess) -> Self {
        self.metrics_access = Some(access);
        self
    }

    /// The memory cap of the HTML rewriter per response (default [`DEFAULT_MEMORY_LIMIT`]).
    pub fn rewriter_memory_limit(mut self, bytes: usize) -> Self {
        self.memory_limit = bytes;
        self
    }

    /// The limits and per-channel options (history, presence, …) of the embedded server; unused
    /// when a Centrifugo URL is configured. A channel given here with
    /// [`EmbeddedOptions::channel`] keeps these options over the settings' `[[channels]]` entry.
    pub fn embedded_options(mut self, options: EmbeddedOptions) -> Self {
        self.embedded_options = options;
        self
    }

    /// Publishes through `backend` instead of the embedded server or Centrifugo: for tests, with
    /// a [`RecordingBackend`](instant_core::testing::RecordingBackend). No embedded server is
    /// started then, and the WebSocket URL is the settings' one, else this app's host.
    ///
    /// ```
    /// use instant_actix::Realtime;
    /// use instant_core::{Config, testing::RecordingBackend};
    ///
    /// let recorder = RecordingBackend::new();
    /// let realtime = Realtime::builder()
    ///     .config(Config::builder().build()?)
    ///     .backend(recorder.clone())
    ///     .build()?;
    /// realtime.publisher().publish("news", "Hello").detach();
    /// recorder.assert_published("news");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn backend(mut self, backend: impl Backend) -> Self {
        self.backend = Some(Arc::new(backend));
        self
    }

    /// Builds everything: loads the settings when none were given, then makes the backend
    /// (the embedded server, or the Centrifugo client when a Centrifugo URL is configured), the
    /// templates and the local `centrifuge.js`.
    ///
    /// # Errors
    /// [`SetupError::Config`] for missing or invalid settings, [`SetupError::Template`] for a
    /// template that does not compile, [`SetupError::Io`] for an unreadable template directory or
    /// `centrifuge.js`, [`SetupError::ChannelLevel`] for a `[[channels]]` entry contradicting the
    /// app's channels.
    pub fn build(self) -> Result<Realtime, SetupError> {
        let config = match self.config {
            Some(config) => config,
            None => Config::load()?,
        };
        let mut channels = self.channels;
        if self.personal_channel && channels.get(instant_core::PERSONAL_CHANNEL).is_none() {
            channels = ChannelSet::new(channels.iter().cloned().chain([Channel::personal()]))?;
        }
        let mut templates = self.templates;
        if templates.dir.is_none() {
            templates.dir = config.templates_dir().map(Path::to_path_buf);
        }
        let centrifuge_js = self
            .centrifuge_js
            .or_else(|| {
                config
                    .centrifuge_js()
                    .map(|file| CentrifugeJs::File(file.to_path_buf()))
            })
            .unwrap_or_default();
        let embedded_options = embedded_options(&config, &channels, self.embedded_options)?;
        // Presence per channel, from the same options the embedded server and genconfig use.
        let presence = channels
            .iter()
            .filter_map(|channel| {
                let options = embedded_options.channel_options(channel.name());
                options
                    .presence
                    .then(|| (channel.name().to_owned(), options.presence_for_anonymous))
            })
            .collect();
        let history = channels
            .iter()
            .filter(|channel| {
                embedded_options
                    .channel_options(channel.name())
                    .has_history()
            })
            .map(|channel| channel.name().to_owned())
            .collect();
        let rendered = templates::render(&templates, &config, &channels, &centrifuge_js)?;
        let centrifuge_file = match &centrifuge_js {
            CentrifugeJs::File(path) => Some(Bytes::from(
                std::fs::read(path).map_err(|source| SetupError::io(path, source))?,
            )),
            CentrifugeJs::Url { .. } => None,
        };
        let (backend, embedded, ws_url): (Arc<dyn Backend>, _, _) =
            match (self.backend, config.centrifugo_url()) {
                (Some(backend), _) => (backend, None, config.websocket_url().map(str::to_owned)),
                (None, Some(url)) => {
                    let ws_url = config
                        .websocket_url()
                        .map_or_else(|| websocket_url_of(url), str::to_owned);
                    (
                        Arc::new(CentrifugoClient::new(&config)?),
                        None,
                        Some(ws_url),
                    )
                }
                (None, None) => {
                    let server =
                        EmbeddedServer::with_options(&config, channels.clone(), embedded_options);
                    (
                        Arc::new(server.clone()),
                        Some(server),
                        config.websocket_url().map(str::to_owned),
                    )
                }
            };
        let publisher = Publisher::new(backend, config.site_slug());
        let runtime = Runtime {
            tokens: config.tokens(),
            page_tokens: PageTokens::new(config.tokens()),
            channels,
            publisher,
            resolver: self.resolver,
            authorize: self.authorize,
            authorize_async: self.authorize_async,
            snippet: rendered.snippet,
            client_js: rendered.client_js,
            client_css: rendered.client_css,
            frontend: self.frontend.then_some(rendered.frontend),
            centrifuge_file,
            ws_url,
            memory_limit: self.memory_limit,
            embedded,
            presence,
            history,
            metrics_access: self.metrics_access,
            config,
        };
        Ok(Realtime {
            runtime: Arc::new(runtime),
        })
    }
}

/// The embedded server's options: the app's, plus the options of the settings' `[[channels]]`
/// entries for the channels the code did not configure with [`EmbeddedOptions::channel`].
///
/// An entry giving a declared channel another level is an error; one naming a channel the app
/// does not declare is logged and ignored.
fn embedded_options(
    config: &Config,
    channels: &ChannelSet,
    mut options: EmbeddedOptions,
) -> Result<EmbeddedOptions, SetupError> {
    for entry in config.channels() {
        let Some(declared) = channels.get(&entry.name) else {
            tracing::warn!(
                channel = %entry.name,
                "the settings configure channel `{}`, which the app does not declare; the entry is ignored",
                entry.name
            );
            continue;
        };
        if declared.level() != entry.level {
            return Err(SetupError::ChannelLevel {
                channel: entry.name.clone(),
                declared: declared.level(),
                configured: entry.level,
            });
        }
        options
            .channel_overrides
            .entry(entry.name.clone())
            .or_insert_with(|| entry.options.clone());
    }
    Ok(options)
}

/// `http://host:8000/…` → `ws://host:8000/connection/websocket` (and `https` → `wss`).
fn websocket_url_of(centrifugo_url: &str) -> String {
    let (scheme, rest) = match centrifugo_url.split_once("://") {
        Some(("https", rest)) => ("wss", rest),
        Some((_, rest)) => ("ws", rest),
        None => ("ws", centrifugo_url),
    };
    let host = rest.split('/').next().unwrap_or(rest);
    format!("{scheme}://{host}{}", paths::WEBSOCKET_PATH)
}

#[cfg(test)]
mod tests {
    #[test]
    fn websocket_url_follows_the_centrifugo_url() {
        assert_eq!(
            super::websocket_url_of("http://127.0.0.1:8000"),
            "ws://127.0.0.1:8000/connection/websocket"
        );
        assert_eq!(
            super::websocket_url_of("https://rt.example.org/api"),
            "wss://rt.example.org/connection/websocket"
        );
    }
}
