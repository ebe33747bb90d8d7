//! The embedded real-time server: Centrifugo's client protocol and server API, served by the app
//! itself so that the first run needs no separate server.
//!
//! Browsers connect to `GET /connection/websocket` with the official Centrifugo clients
//! (centrifuge-js 5.x and others), unchanged; server code publishes in-process through
//! [`Backend`], or over HTTP through `POST /instant/api/{method}` with Centrifugo's JSON shapes,
//! so that Centrifugo's server SDKs work against it too.

mod api;
mod commands;
mod connection;
mod hub;
mod namespaces;
mod options;
mod outbox;
mod protocol;
mod standalone;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use instant_core::{
    Backend, BoxFuture, ChannelSet, Config, DeliveryStats, Event, PublishError, PublishReceipt,
    Secret, Tokens,
};

use self::connection::ConnectionPermit;
use self::hub::{Hub, NewPublication, Position};
pub use self::namespaces::{NamespaceError, NamespaceOptions, Namespaces};
pub use self::options::{ChannelOptions, EmbeddedOptions};
use self::outbox::ClientHandle;
use self::protocol::JsonText;
pub use self::standalone::{StandaloneConfig, StandaloneConfigError, UnsupportedKey};
use crate::paths::WEBSOCKET_PATH;

/// Where a standalone server answers health checks, as Centrifugo does.
const HEALTH_PATH: &str = "/health";

/// A Centrifugo-compatible real-time server running inside the app.
///
/// Mount it with [`EmbeddedServer::configure`]; publish to it in-process through [`Backend`]
/// (usually wrapped in an [`instant_core::Publisher`]). Cheap to clone: clones share one server.
///
/// ```no_run
/// use std::sync::Arc;
/// use actix_web::{App, HttpServer};
/// use instant_actix::EmbeddedServer;
/// use instant_core::{Channel, ChannelSet, Config, Level, Publisher};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let config = Config::load()?;
/// let channels = ChannelSet::new([Channel::new("news", Level::Public)?])?;
/// let server = EmbeddedServer::new(&config, channels);
/// let publisher = Publisher::new(Arc::new(server.clone()), config.site_slug());
/// publisher.publish("news", "the server is up").await?;
/// HttpServer::new(move || {
///     let server = server.clone();
///     App::new().configure(move |cfg| server.configure(cfg))
/// })
/// .bind(("127.0.0.1", 8080))?
/// .run()
/// .await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct EmbeddedServer {
    inner: Arc<Inner>,
}

/// The state every route and connection shares.
pub(crate) struct Inner {
    hub: Hub,
    tokens: Tokens,
    options: EmbeddedOptions,
    channels: ChannelSet,
    /// The namespace rules of a standalone server (`instant runws --embedded`); `None` for the
    /// app's server, which serves its declared channels.
    standalone: Option<standalone::Standalone>,
    api_key: Option<Secret>,
    allowed_origins: Vec<String>,
    trusted_proxies: Vec<std::net::IpAddr>,
    open_connections: AtomicUsize,
    /// Open connections per client IP address.
    connections_per_ip: std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>,
    /// Connections that connected without a token.
    anonymous_connections: AtomicUsize,
    /// Every open connection's handle, to close them all on shutdown.
    connections: std::sync::Mutex<std::collections::HashMap<Arc<str>, ClientHandle>>,
    shutting_down: std::sync::atomic::AtomicBool,
    started: std::time::Instant,
    node_id: String,
    queued: AtomicU64,
    delivered: AtomicU64,
    dropped: AtomicU64,
    /// Connections, subscriptions, deliveries and denials, shared with the app's publisher.
    pub(crate) metrics: Arc<instant_core::metrics::Metrics>,
}

impl fmt::Debug for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmbeddedServer")
            .field("channels", &self.channels.len())
            .field(
                "open_connections",
                &self.open_connections.load(Ordering::Relaxed),
            )
            .field("allowed_origins", &self.allowed_origins)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for EmbeddedServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

impl EmbeddedServer {
    /// A server for the declared `channels` with Centrifugo's default limits, verifying tokens
    /// with the secret of `config`, accepting its API key and its allowed origins.
    #[must_use]
    pub fn new(config: &Config, channels: ChannelSet) -> Self {
        Self::with_options(config, channels, EmbeddedOptions::default())
    }

    /// A server with its own limits, timings and channel options.
    #[must_use]
    pub fn with_options(config: &Config, channels: ChannelSet, options: EmbeddedOptions) -> Self {
        let hub = Hub::new(
            channels
                .iter()
                .filter(|c| !c.is_pattern())
                .map(instant_core::Channel::name),
            &options,
        )
        .with_patterns(
            channels
                .iter()
                .filter(|c| c.is_pattern())
                .map(|c| (c.clone(), options.channel_options(c.name()).clone())),
        );
        Self::from_parts(
            hub,
            Access {
                tokens: config.tokens(),
                api_key: config.api_key().cloned(),
                allowed_origins: config.allowed_origins().to_vec(),
                trusted_proxies: config.trusted_proxies().to_vec(),
            },
            channels,
            None,
            options,
        )
    }

    /// The standalone server of `instant runws --embedded`: no declared channels, but every
    /// channel its namespaces allow, decided as Centrifugo decides (see
    /// [`Namespaces`]), made on first use and removed once idle, within
    /// [`EmbeddedOptions::max_pattern_channels`]. [`EmbeddedServer::configure`] then mounts
    /// Centrifugo's paths: `/connection/websocket`, `/api` and `/api/{method}`, and `/health`
    /// when the config enables it. Browsers are checked against `client.allowed_origins` only,
    /// as Centrifugo does (no same-host exception).
    ///
    /// Without `client.token.hmac_secret_key` a random secret is used, so that no token is
    /// accepted.
    #[must_use]
    pub fn standalone(config: StandaloneConfig) -> Self {
        let StandaloneConfig {
            secret,
            api_key,
            allowed_origins,
            insecure,
            allow_anonymous_connect_without_token,
            health,
            options,
            namespaces,
            ..
        } = config;
        let secret = secret.unwrap_or_else(Secret::generate);
        let namespaces = Arc::new(namespaces);
        let hub = Hub::new(std::iter::empty(), &options).with_namespaces(Arc::clone(&namespaces));
        Self::from_parts(
            hub,
            Access {
                tokens: Tokens::new(secret, std::time::Duration::from_secs(3600)),
                api_key,
                allowed_origins,
                trusted_proxies: Vec::new(),
            },
            ChannelSet::default(),
            Some(standalone::Standalone {
                namespaces,
                insecure,
                anonymous_without_token: allow_anonymous_connect_without_token,
                health,
            }),
            options,
        )
    }

    fn from_parts(
        hub: Hub,
        access: Access,
        channels: ChannelSet,
        standalone: Option<standalone::Standalone>,
        options: EmbeddedOptions,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                hub,
                tokens: access.tokens,
                channels,
                standalone,
                api_key: access.api_key,
                allowed_origins: access.allowed_origins,
                trusted_proxies: access.trusted_proxies,
                open_connections: AtomicUsize::new(0),
                connections_per_ip: std::sync::Mutex::default(),
                anonymous_connections: AtomicUsize::new(0),
                connections: std::sync::Mutex::default(),
                shutting_down: std::sync::atomic::AtomicBool::new(false),
                started: std::time::Instant::now(),
                node_id: uuid::Uuid::new_v4().to_string(),
                queued: AtomicU64::new(0),
                delivered: AtomicU64::new(0),
                dropped: AtomicU64::new(0),
                metrics: Arc::default(),
                options,
            }),
        }
    }

    /// The limits and channel options in force.
    #[must_use]
    pub fn options(&self) -> &EmbeddedOptions {
        &self.inner.options
    }

    /// How many channels made from patterns are live right now (see
    /// [`EmbeddedOptions::max_pattern_channels`]).
    #[must_use]
    pub fn live_pattern_channels(&self) -> usize {
        self.inner.hub.live_pattern_channels()
    }

    /// How many WebSocket connections are open right now.
    #[must_use]
    pub fn open_connections(&self) -> usize {
        self.inner.open_connections.load(Ordering::Acquire)
    }

    /// Closes every connection with Centrifugo's 3001 (shutdown; clients reconnect later) and
    /// refuses new ones with 503. Call it when the app stops, so that open WebSockets do not hold
    /// up the HTTP server's graceful shutdown.
    pub fn shutdown(&self) {
        self.inner.shutting_down.store(true, Ordering::Release);
        let handles: Vec<ClientHandle> = self
            .inner
            .connections
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .values()
            .cloned()
            .collect();
        for handle in handles {
            handle.disconnect(protocol::Disconnect::SHUTDOWN);
        }
    }

    /// Mounts `GET` [`WEBSOCKET_PATH`] (`/connection/websocket`) and `POST`
    /// `{api_path}/{method}` ([`EmbeddedOptions::api_path`], by default `/instant/api/{method}`).
    /// A [standalone](EmbeddedServer::standalone) server also mounts Centrifugo's single API
    /// endpoint `POST {api_path}` (`{"method": "publish", "params": {..}}`) and, when its config
    /// enables it, `GET /health`.
    pub fn configure(&self, cfg: &mut web::ServiceConfig) {
        let for_websocket = Arc::clone(&self.inner);
        let for_api = Arc::clone(&self.inner);
        let api_root = self.inner.options.api_path.trim_end_matches('/').to_owned();
        let api = format!("{api_root}/{{method}}");
        cfg.route(
            WEBSOCKET_PATH,
            web::get().to(move |req: HttpRequest, body: web::Payload| {
                let server = Arc::clone(&for_websocket);
                async move { websocket(server, &req, body) }
            }),
        )
        .route(
            &api,
            web::post().to(
                move |req: HttpRequest, method: web::Path<String>, body: web::Bytes| {
                    let server = Arc::clone(&for_api);
                    async move { api::handle(&server, &req, &method, &body) }
                },
            ),
        )
        .route(
            &api,
            web::route().to(|| async { HttpResponse::MethodNotAllowed().finish() }),
        );
        let Some(standalone) = &self.inner.standalone else {
            return;
        };
        let for_single = Arc::clone(&self.inner);
        cfg.route(
            &api_root,
            web::post().to(move |req: HttpRequest, body: web::Bytes| {
                let server = Arc::clone(&for_single);
                async move { api::handle_single(&server, &req, &body) }
            }),
        )
        .route(
            &api_root,
            web::route().to(|| async { HttpResponse::MethodNotAllowed().finish() }),
        );
        if standalone.health {
            cfg.route(
                HEALTH_PATH,
                web::get().to(|| async {
                    HttpResponse::Ok()
                        .content_type("application/json")
                        .body("{}")
                }),
            );
        }
    }

    /// Publishes an event right away: into the channel's history and to every subscriber.
    fn publish_now(&self, event: &Event) -> Result<Position, PublishError> {
        let json = serde_json::value::to_raw_value(event).map(JsonText::from);
        self.publish_json(&event.channel, json)
    }

    /// Publishes the JSON of an event on `channel` right away.
    fn publish_json(
        &self,
        channel: &str,
        json: Result<JsonText, serde_json::Error>,
    ) -> Result<Position, PublishError> {
        self.inner.queued.fetch_add(1, Ordering::Relaxed);
        let outcome = json
            .map_err(|e| PublishError::BadInput(e.to_string()))
            .and_then(|data| {
                let publication = NewPublication {
                    data,
                    info: None,
                    tags: None,
                    skip_history: false,
                };
                self.inner
                    .hub
                    .publish(channel, publication)
                    .map_err(|e| PublishError::Server {
                        code: e.code,
                        message: e.message.to_owned(),
                    })
            });
        match outcome {
            Ok(position) => {
                self.inner.delivered.fetch_add(1, Ordering::Relaxed);
                self.inner
                    .metrics
                    .record_deliveries(u64::try_from(position.subscribers).unwrap_or(u64::MAX));
                Ok(position)
            }
            Err(error) => {
                self.inner.dropped.fetch_add(1, Ordering::Relaxed);
                Err(error)
            }
        }
    }
}

impl Inner {
    /// Whether a subscription to `channel` needs a token and is open without one: by the app's
    /// declared channels (undeclared ones are refused with 103, like channels the client may not
    /// join), or by the namespace rules of a standalone server.
    pub(crate) fn subscribe_gate(
        &self,
        channel: &str,
        user: &str,
    ) -> Result<namespaces::SubscribeGate, protocol::ErrorReply> {
        if let Some(standalone) = &self.standalone {
            return standalone
                .namespaces
                .subscribe_gate(channel, standalone.asker(user, false));
        }
        let (declared, _) = self
            .channels
            .resolve(channel)
            .ok_or(protocol::ErrorReply::PERMISSION_DENIED)?;
        let private = declared.is_private();
        // A user-limited channel (`personal:#42`) opens to its own user only, as Centrifugo's
        // `allow_user_limited_channels` does.
        let open = match declared.limited_to(channel) {
            Some(owner) => !user.is_empty() && owner == user,
            None => !private,
        };
        Ok(namespaces::SubscribeGate { private, open })
    }
}

/// Who may connect and call the API: token verification, the API key, the allowed origins.
struct Access {
    tokens: Tokens,
    api_key: Option<Secret>,
    allowed_origins: Vec<String>,
    trusted_proxies: Vec<std::net::IpAddr>,
}

fn receipt(position: &Position) -> PublishReceipt {
    let mut receipt = PublishReceipt::default();
    if position.offset > 0 {
        receipt.offset = Some(position.offset);
        receipt.epoch = Some(String::from(&*position.epoch));
    }
    receipt
}

impl Backend for EmbeddedServer {
    fn publish(&self, event: Event) -> BoxFuture<'_, Result<PublishReceipt, PublishError>> {
        Box::pin(std::future::ready(
            self.publish_now(&event).map(|position| receipt(&position)),
        ))
    }

    fn publish_detached(&self, event: Event) {
        if let Err(error) = self.publish_now(&event) {
            tracing::warn!(channel = %event.channel, %error, "event not published");
        }
    }

    /// The event's JSON is written around `data` as it is (it is never read into a `Value`).
    fn publish_json_data(
        &self,
        event: Event,
        data: &serde_json::value::RawValue,
    ) -> BoxFuture<'_, Result<PublishReceipt, PublishError>> {
        let json = Ok(event.to_json_with_data(data).into());
        let published = self
            .publish_json(&event.channel, json)
            .map(|position| receipt(&position));
        Box::pin(std::future::ready(published))
    }

    /// The event's JSON is written around `data` as it is (it is never read into a `Value`).
    fn publish_json_data_detached(&self, event: Event, data: &serde_json::value::RawValue) {
        let json = Ok(event.to_json_with_data(data).into());
        if let Err(error) = self.publish_json(&event.channel, json) {
            tracing::warn!(channel = %event.channel, %error, "event not published");
        }
    }

    /// The hub's subscribers of `channel`, every one (no `max_presence_entries` cut).
    fn presence(
        &self,
        channel: &str,
    ) -> BoxFuture<'_, Result<Vec<instant_core::presence::PresenceClient>, PublishError>> {
        let answer = self
            .inner
            .hub
            .presence(channel, usize::MAX)
            .map(|clients| {
                clients
                    .into_values()
                    .map(|info| {
                        let json = |raw: &Option<Arc<serde_json::value::RawValue>>| {
                            raw.as_ref()
                                .and_then(|raw| serde_json::from_str(raw.get()).ok())
                        };
                        instant_core::presence::PresenceClient::new(&*info.client, &*info.user)
                            .with_conn_info(json(&info.conn_info))
                            .with_chan_info(json(&info.chan_info))
                    })
                    .collect()
            })
            .map_err(|e| PublishError::Server {
                code: e.code,
                message: e.message.to_owned(),
            });
        Box::pin(std::future::ready(answer))
    }

    /// Awaited publishes are counted in `delivered` and `dropped` too.
    fn stats_include_awaited(&self) -> bool {
        true
    }

    fn shared_metrics(&self) -> Option<Arc<instant_core::metrics::Metrics>> {
        Some(Arc::clone(&self.inner.metrics))
    }

    fn stats(&self) -> DeliveryStats {
        let mut stats = DeliveryStats::default();
        stats.queued = self.inner.queued.load(Ordering::Relaxed);
        stats.delivered = self.inner.delivered.load(Ordering::Relaxed);
        stats.dropped = self.inner.dropped.load(Ordering::Relaxed);
        stats
    }

    fn stream_position<'a>(
        &'a self,
        channel: &'a str,
    ) -> BoxFuture<'a, Option<instant_core::StreamPosition>> {
        let position = self
            .inner
            .hub
            .stream_position(channel)
            .map(|(offset, epoch)| instant_core::StreamPosition::new(offset, epoch));
        Box::pin(std::future::ready(position))
    }
}

/// Upgrades to a WebSocket after checking the origin and the connection limit.
fn websocket(
    server: Arc<Inner>,
    req: &HttpRequest,
    body: web::Payload,
) -> Result<HttpResponse, actix_web::Error> {
    if !origin_allowed(req, &server) {
        server.metrics.record_denial("origin");
        tracing::info!(
            origin = ?req.headers().get(header::ORIGIN),
            "WebSocket refused: origin not allowed (set INSTANT_ALLOWED_ORIGINS)"
        );
        return Ok(HttpResponse::Forbidden().body("request origin is not allowed"));
    }
    if server.shutting_down.load(Ordering::Acquire) {
        return Ok(HttpResponse::ServiceUnavailable().body("the server is shutting down"));
    }
    let ip = crate::forwarded::client_ip(req, &server.trusted_proxies);
    let Some(permit) = ConnectionPermit::acquire(&server, ip) else {
        tracing::info!(?ip, "WebSocket refused: connection limit reached");
        return Ok(HttpResponse::ServiceUnavailable().body("connection limit reached"));
    };
    let (response, session, messages) = actix_ws::handle(req, body)?;
    let max = server.options.max_message_size;
    let messages = messages
        .max_frame_size(max)
        .aggregate_continuations()
        .max_continuation_size(max);
    actix_web::rt::spawn(connection::run(server, session, messages, permit));
    Ok(response)
}

/// Whether a WebSocket upgrade from this origin is allowed: no `Origin` header (not a browser),
/// or an origin the app's origin policy accepts.
fn origin_allowed(req: &HttpRequest, server: &Inner) -> bool {
    let Some(origin) = req.headers().get(header::ORIGIN) else {
        return true;
    };
    let allowed = &server.allowed_origins;
    // The host as the token routes read it, so that both agree behind a reverse proxy. A
    // standalone server, like Centrifugo, knows no site of its own: only the list counts.
    let host = crate::forwarded::host(req, &server.trusted_proxies);
    let host = server.standalone.is_none().then_some(host.as_ref());
    origin
        .to_str()
        .is_ok_and(|origin| crate::origin::is_allowed(origin, host, allowed))
}
