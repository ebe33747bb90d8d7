//! The app object: one [`Instant`] set up once, giving the middleware, the routes and the publisher.

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use actix_web::web;
use bytes::Bytes;
use instant_core::{Backend, CentrifugoClient, Channel, ChannelSet, Config, Publisher};

use crate::embedded::{EmbeddedOptions, EmbeddedServer};
use crate::error::InstantError;
use crate::middleware::InstantMiddleware;
use crate::runtime::{AuthorizeFn, Runtime};
use crate::templates::{self, CentrifugeJs, TemplateSources};
use crate::user::{Anonymous, User, UserResolver};

/// The default memory cap of the HTML rewriter per response: past it, the rest of the page is passed
/// through unchanged.
pub const DEFAULT_MEMORY_LIMIT: usize = 1 << 20;

/// `instant` in an actix-web app: set it up once, then wrap the app in its
/// [middleware](Instant::middleware) and mount its [routes](Instant::routes).
///
/// ```no_run
/// use actix_web::{App, HttpServer, web};
/// use instant_actix::{Instant, User};
/// use instant_core::{Channel, ChannelSet, Level};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let channels = ChannelSet::new([
///     Channel::new("news", Level::Public)?,
///     Channel::new("$staff", Level::Staff)?.at("/dashboard")?,
/// ])?;
/// let instant = Instant::from_env()?
///     .channels(channels)
///     .users(|req: &actix_web::HttpRequest| {
///         req.headers().get("x-user").and_then(|v| v.to_str().ok()).map(User::staff)
///     })
///     .ready()?;
/// HttpServer::new(move || {
///     App::new()
///         .wrap(instant.middleware())
///         .configure(instant.routes())
///         .route("/", web::get().to(|| async { actix_web::HttpResponse::Ok().content_type("text/html").body("<html><head></head><body>hi</body></html>") }))
/// })
/// .bind(("127.0.0.1", 8080))?
/// .run()
/// .await?;
/// # Ok(()) }
/// ```
///
/// Clones share one backend (one embedded server or one Centrifugo client) and one set of rendered
/// templates. The setters are meant for start-up: a setter called after
/// [`ready`](Instant::ready) (or after the first `middleware`/`routes`/`publisher`) starts a new,
/// separate set-up.
#[derive(Clone)]
pub struct Instant {
    config: Config,
    channels: ChannelSet,
    resolver: Arc<dyn UserResolver>,
    authorize: Option<Arc<AuthorizeFn>>,
    templates: TemplateSources,
    centrifuge_js: CentrifugeJs,
    frontend: bool,
    memory_limit: usize,
    embedded_options: EmbeddedOptions,
    runtime: Arc<OnceLock<Arc<Runtime>>>,
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Instant")
            .field("config", &self.config)
            .field("channels", &self.channels)
            .field("centrifuge_js", &self.centrifuge_js)
            .field("frontend", &self.frontend)
            .finish_non_exhaustive()
    }
}

/// The environment variable naming a local `centrifuge.js` to serve instead of the CDN URL.
pub const CENTRIFUGE_JS_ENV: &str = "INSTANT_CENTRIFUGE_JS";
/// The environment variable naming the app's template directory.
pub const TEMPLATES_DIR_ENV: &str = "INSTANT_TEMPLATES_DIR";

impl Instant {
    /// Sets `instant` up with this configuration, no channels, and anonymous visitors only.
    #[must_use]
    pub fn new(config: Config) -> Self {
        Self {
            config,
            channels: ChannelSet::empty(),
            resolver: Arc::new(Anonymous),
            authorize: None,
            templates: TemplateSources::default(),
            centrifuge_js: CentrifugeJs::default(),
            frontend: true,
            memory_limit: DEFAULT_MEMORY_LIMIT,
            embedded_options: EmbeddedOptions::default(),
            runtime: Arc::default(),
        }
    }

    /// Sets `instant` up from `instant.toml` (when present) and the `INSTANT_*` environment
    /// variables ([`Config::load`]), plus `INSTANT_CENTRIFUGE_JS` (a local `centrifuge.js` to serve)
    /// and `INSTANT_TEMPLATES_DIR` (the app's template directory).
    ///
    /// # Errors
    /// [`InstantError::Config`] naming the key that is missing or invalid.
    pub fn from_env() -> Result<Self, InstantError> {
        let mut instant = Self::new(Config::load()?);
        if let Some(path) = std::env::var_os(CENTRIFUGE_JS_ENV).filter(|p| !p.is_empty()) {
            instant.centrifuge_js = CentrifugeJs::File(PathBuf::from(path));
        }
        if let Some(dir) = std::env::var_os(TEMPLATES_DIR_ENV).filter(|p| !p.is_empty()) {
            instant.templates.dir = Some(PathBuf::from(dir));
        }
        Ok(instant)
    }

    fn changed(mut self) -> Self {
        self.runtime = Arc::default();
        self
    }

    /// The channels the app declares (`instant::channels!` or [`ChannelSet::new`]).
    #[must_use]
    pub fn channels(mut self, channels: ChannelSet) -> Self {
        self.channels = channels;
        self.changed()
    }

    /// How to find the user behind a request (a [`UserResolver`] or a closure
    /// `Fn(&HttpRequest) -> Option<User>`). Without one, every visitor is anonymous.
    #[must_use]
    pub fn users(mut self, resolver: impl UserResolver) -> Self {
        self.resolver = Arc::new(resolver);
        self.changed()
    }

    /// An extra check per user and channel, on top of the levels: a channel is offered and a token
    /// minted only when it returns `true`. The user is `None` for anonymous visitors.
    #[must_use]
    pub fn authorize<F>(mut self, check: F) -> Self
    where
        F: Fn(Option<&User>, &Channel) -> bool + Send + Sync + 'static,
    {
        self.authorize = Some(Arc::new(check));
        self.changed()
    }

    /// Where the browser loads `centrifuge.js` from (default: the pinned CDN URL with its SRI hash).
    #[must_use]
    pub fn centrifuge_js(mut self, source: CentrifugeJs) -> Self {
        self.centrifuge_js = source;
        self.changed()
    }

    /// The app's template directory: a file there with the relative path of a built-in template
    /// (`instant/handlers/default.js`, `instant/handlers/<channel>.js`, `instant.css`, …) replaces it.
    #[must_use]
    pub fn templates_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.templates.dir = Some(dir.into());
        self.changed()
    }

    /// One template given as text (for instance with `include_str!`), replacing the built-in one
    /// or the directory's file of the same relative path.
    #[must_use]
    pub fn template(mut self, name: impl Into<String>, source: impl Into<String>) -> Self {
        self.templates.overrides.push((name.into(), source.into()));
        self.changed()
    }

    /// Whether the routes serve the superuser frontend at `/instant/` (default: yes; others get 404).
    #[must_use]
    pub fn frontend(mut self, enabled: bool) -> Self {
        self.frontend = enabled;
        self.changed()
    }

    /// The memory cap of the HTML rewriter per response (default [`DEFAULT_MEMORY_LIMIT`]).
    #[must_use]
    pub fn rewriter_memory_limit(mut self, bytes: usize) -> Self {
        self.memory_limit = bytes;
        self.changed()
    }

    /// The limits and per-channel options (history, presence, …) of the embedded server; unused
    /// when a Centrifugo URL is configured.
    #[must_use]
    pub fn embedded_options(mut self, options: EmbeddedOptions) -> Self {
        self.embedded_options = options;
        self.changed()
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Builds everything now: the backend (embedded server, or the Centrifugo client when a
    /// Centrifugo URL is configured), the templates, the local `centrifuge.js`.
    ///
    /// # Errors
    /// A template that does not compile, an unreadable template directory or `centrifuge.js`, or an
    /// invalid Centrifugo configuration.
    pub fn ready(self) -> Result<Self, InstantError> {
        self.runtime()?;
        Ok(self)
    }

    pub(crate) fn runtime(&self) -> Result<Arc<Runtime>, InstantError> {
        if let Some(runtime) = self.runtime.get() {
            return Ok(Arc::clone(runtime));
        }
        let runtime = Arc::new(self.build()?);
        // Two threads racing here both built one; the first stored wins and the other is dropped,
        // so only the winner's publisher may become the global one.
        let runtime = Arc::clone(self.runtime.get_or_init(|| runtime));
        // The first app set up in the process serves `instant::publish(..)`, the seed's call.
        runtime.publisher.install_global();
        Ok(runtime)
    }

    fn runtime_or_panic(&self) -> Arc<Runtime> {
        match self.runtime() {
            Ok(runtime) => runtime,
            Err(error) => panic!(
                "instant could not be set up: {error} (call `Instant::ready()?` to get this as an error)"
            ),
        }
    }

    fn build(&self) -> Result<Runtime, InstantError> {
        let rendered = templates::render(
            &self.templates,
            &self.config,
            &self.channels,
            &self.centrifuge_js,
        )?;
        let centrifuge_file = match &self.centrifuge_js {
            CentrifugeJs::File(path) => {
                Some(Bytes::from(std::fs::read(path).map_err(|source| {
                    InstantError::Io {
                        path: path.display().to_string(),
                        source,
                    }
                })?))
            }
            CentrifugeJs::Url { .. } => None,
        };
        let (backend, embedded, ws_url): (Arc<dyn Backend>, _, _) =
            match self.config.centrifugo_url() {
                Some(url) => {
                    let ws_url = self
                        .config
                        .websocket_url()
                        .map(str::to_owned)
                        .or_else(|| Some(websocket_url_of(url)));
                    (Arc::new(CentrifugoClient::new(&self.config)?), None, ws_url)
                }
                None => {
                    let server = EmbeddedServer::with_options(
                        &self.config,
                        self.channels.clone(),
                        self.embedded_options.clone(),
                    );
                    (
                        Arc::new(server.clone()),
                        Some(server),
                        self.config.websocket_url().map(str::to_owned),
                    )
                }
            };
        let publisher = Publisher::new(backend, self.config.site_slug());
        Ok(Runtime {
            config: self.config.clone(),
            channels: self.channels.clone(),
            tokens: self.config.tokens(),
            publisher,
            resolver: Arc::clone(&self.resolver),
            authorize: self.authorize.clone(),
            snippet: rendered.snippet,
            frontend: self.frontend.then_some(rendered.frontend),
            centrifuge_file,
            ws_url,
            memory_limit: self.memory_limit,
            embedded,
        })
    }

    /// The middleware that inserts the client into HTML pages; `App::wrap` it.
    ///
    /// # Panics
    /// When the set-up fails and [`ready`](Instant::ready) was not called to report it as an error.
    pub fn middleware(&self) -> InstantMiddleware {
        InstantMiddleware::new(self.runtime_or_panic())
    }

    /// The routes: `App::configure(instant.routes())`. They mount the auth routes
    /// (`POST /instant/auth/connection`, `POST /instant/auth/subscription`), the frontend
    /// (`GET /instant/`, `POST /instant/publish`, superusers only), the local `centrifuge.js` when
    /// one is configured, and the embedded server (`/connection/websocket`, `/api/{method}`) unless
    /// a Centrifugo URL is configured. They also register the [`Publisher`] as app data
    /// (`req.app_data::<Publisher>()`).
    ///
    /// # Panics
    /// When the set-up fails and [`ready`](Instant::ready) was not called to report it as an error.
    pub fn routes(&self) -> impl FnOnce(&mut web::ServiceConfig) + 'static {
        let runtime = self.runtime_or_panic();
        move |cfg| crate::routes::configure(&runtime, cfg)
    }

    /// The publisher of this app's events (a cheap clone handle).
    ///
    /// # Panics
    /// When the set-up fails and [`ready`](Instant::ready) was not called to report it as an error.
    #[must_use]
    pub fn publisher(&self) -> Publisher {
        self.runtime_or_panic().publisher.clone()
    }

    /// The embedded server, unless a Centrifugo URL is configured.
    ///
    /// # Panics
    /// When the set-up fails and [`ready`](Instant::ready) was not called to report it as an error.
    #[must_use]
    pub fn embedded_server(&self) -> Option<EmbeddedServer> {
        self.runtime_or_panic().embedded.clone()
    }
}

/// `http://host:8000/…` → `ws://host:8000/connection/websocket` (and `https` → `wss`).
fn websocket_url_of(centrifugo_url: &str) -> String {
    let (scheme, rest) = match centrifugo_url.split_once("://") {
        Some(("https", rest)) => ("wss", rest),
        Some((_, rest)) => ("ws", rest),
        None => ("ws", centrifugo_url),
    };
    let host = rest.split('/').next().unwrap_or(rest);
    format!("{scheme}://{host}/connection/websocket")
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
