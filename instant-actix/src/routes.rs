//! The routes: token endpoints for centrifuge-js, the superuser frontend, the client script and
//! style sheet, the local `centrifuge.js`.

use std::collections::BTreeMap;
use std::sync::Arc;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::RouteError;
use crate::markers::JoinAllChannels;
use crate::paths;
use crate::runtime::Runtime;
use crate::templates::Asset;
use crate::user::{User, level_of};

/// The largest JSON body the routes read.
const BODY_LIMIT: usize = 64 * 1024;
/// The most channels one batch request may ask for.
const MAX_BATCH: usize = 256;
/// The reason given for every refused subscription token: an undeclared channel and one the user
/// may not join get the same answer, so that the route does not tell which channels exist.
const REFUSED: &str = "the channel does not exist or the user may not join it";

/// Mounts the routes of `runtime` and registers it (and its publisher) as app data.
pub(crate) fn configure(runtime: &Arc<Runtime>, cfg: &mut web::ServiceConfig) {
    cfg.app_data(runtime.publisher.clone());
    // App-level, so that the middleware finds it on every request of this App.
    cfg.app_data(web::Data::from(Arc::clone(runtime)));
    let json = web::JsonConfig::default()
        .limit(BODY_LIMIT)
        .error_handler(|error, req| {
            let reason = error.to_string();
            tracing::info!(path = req.path(), %reason, "instant: malformed request body");
            RouteError::bad_request(reason).into()
        });
    cfg.service(web::resource(paths::AUTH_CONNECTION).route(web::post().to(connection)));
    cfg.service(
        web::resource(paths::AUTH_SUBSCRIPTION)
            .app_data(json.clone())
            .route(web::post().to(subscription)),
    );
    if runtime.frontend.is_some() {
        cfg.service(
            web::resource([paths::FRONTEND, paths::FRONTEND.trim_end_matches('/')])
                .route(web::get().to(frontend)),
        );
        cfg.service(
            web::resource(paths::PUBLISH)
                .app_data(json)
                .route(web::post().to(publish)),
        );
    }
    if runtime.metrics_access.is_some() {
        cfg.service(
            web::resource(paths::METRICS).route(web::get().to(crate::metrics_route::metrics)),
        );
    }
    // GET and HEAD (answered without the body).
    cfg.service(
        web::resource(runtime.client_js.path.as_str())
            .route(web::get().to(client_js))
            .route(web::head().to(client_js)),
    );
    cfg.service(
        web::resource(runtime.client_css.path.as_str())
            .route(web::get().to(client_css))
            .route(web::head().to(client_css)),
    );
    if runtime.centrifuge_file.is_some() {
        cfg.service(web::resource(paths::CENTRIFUGE_JS).route(web::get().to(centrifuge_js)));
    }
    if let Some(server) = &runtime.embedded {
        server.configure(cfg);
    }
}

/// Refuses a POST that a browser sends from another site: `Sec-Fetch-Site` must be `same-origin`
/// (or `none`), else `Origin` must be this host or one of the allowed origins. Requests without
/// either header do not come from a browser page and cannot ride on a visitor's cookies.
pub(crate) fn check_same_origin(
    req: &HttpRequest,
    allowed: &[String],
    trusted_proxies: &[std::net::IpAddr],
) -> Result<(), String> {
    let fetch_site = req
        .headers()
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok());
    if matches!(fetch_site, Some("same-origin" | "none")) {
        return Ok(());
    }
    match req.headers().get(header::ORIGIN).map(HeaderValue::to_str) {
        Some(Ok(origin)) => {
            let host = crate::forwarded::host(req, trusted_proxies);
            if crate::origin::is_allowed(origin, Some(&host), allowed) {
                Ok(())
            } else {
                Err(format!("cross-site request from origin {origin} refused"))
            }
        }
        Some(Err(_)) => Err("unreadable Origin header".to_owned()),
        None if fetch_site.is_some() => Err("cross-site request refused".to_owned()),
        None => Ok(()),
    }
}

/// [`RouteError::CrossSite`] for a request [`check_same_origin`] refuses, logged as a refused
/// `what`.
fn refuse_cross_site(req: &HttpRequest, runtime: &Runtime, what: &str) -> Result<(), RouteError> {
    check_same_origin(
        req,
        runtime.config.allowed_origins(),
        runtime.config.trusted_proxies(),
    )
    .map_err(|reason| {
        runtime
            .publisher
            .metrics_handle()
            .record_denial("cross_site");
        tracing::warn!(path = req.path(), %reason, "instant: {what} refused");
        RouteError::CrossSite { reason }
    })
}

fn user_label(user: Option<&User>) -> &str {
    user.map_or("<anonymous>", |u| u.id.as_str())
}

async fn connection(
    req: HttpRequest,
    runtime: web::Data<Runtime>,
) -> Result<HttpResponse, RouteError> {
    refuse_cross_site(&req, &runtime, "connection token")?;
    let user = runtime.resolve(&req);
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({"token": runtime.connection_token(user.as_ref())})))
}

/// The body of the subscription route: one channel or a batch.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SubscriptionRequest {
    channel: Option<String>,
    channels: Option<Vec<String>>,
}

async fn subscription(
    req: HttpRequest,
    runtime: web::Data<Runtime>,
    body: web::Json<SubscriptionRequest>,
) -> Result<HttpResponse, RouteError> {
    refuse_cross_site(&req, &runtime, "subscription token")?;
    let user = runtime.resolve(&req);
    let user = user.as_ref();
    let body = match body.into_inner() {
        SubscriptionRequest {
            channel: Some(channel),
            channels: None,
        } => {
            runtime.authorize(user, &channel).await.map_err(|denial| {
                runtime.publisher.metrics_handle().record_denial(denial.label());
                tracing::info!(user = user_label(user), level = %level_of(user), channel = %channel, reason = %denial, "instant: subscription token refused");
                // The same answer for every refusal, so that nobody learns which channels exist.
                RouteError::denied(REFUSED)
            })?;
            json!({"token": runtime.subscription_token(user, &channel)})
        }
        SubscriptionRequest {
            channel: None,
            channels: Some(channels),
        } => {
            if channels.len() > MAX_BATCH {
                return Err(RouteError::bad_request(format!(
                    "at most {MAX_BATCH} channels per request"
                )));
            }
            let mut tokens = BTreeMap::new();
            let mut refused = 0_usize;
            let mut first_refused = None;
            // The app's checks (a database query each, say) run concurrently.
            let decisions = futures_util::future::join_all(
                channels
                    .iter()
                    .map(|channel| async { runtime.authorize(user, channel).await.map(|_| ()) }),
            )
            .await;
            for (channel, decision) in channels.into_iter().zip(decisions) {
                match decision {
                    Ok(_) => {
                        let token = runtime.subscription_token(user, &channel);
                        tokens.insert(channel, token);
                    }
                    Err(denial) => {
                        runtime
                            .publisher
                            .metrics_handle()
                            .record_denial(denial.label());
                        refused += 1;
                        first_refused.get_or_insert((channel, denial));
                    }
                }
            }
            // One line per request, however many channels it names.
            if let Some((channel, reason)) = first_refused {
                tracing::info!(user = user_label(user), level = %level_of(user), refused, first = %channel, %reason, "instant: subscription tokens refused");
            }
            json!({"tokens": tokens})
        }
        _ => {
            return Err(RouteError::bad_request(
                "expected exactly one of `channel` (a name) or `channels` (a list of names)",
            ));
        }
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body))
}

fn is_superuser(user: Option<&User>) -> bool {
    level_of(user) == instant_core::Level::Superuser
}

async fn frontend(
    req: HttpRequest,
    runtime: web::Data<Runtime>,
) -> Result<HttpResponse, RouteError> {
    let user = runtime.resolve(&req);
    let page = runtime
        .frontend
        .as_ref()
        .filter(|_| is_superuser(user.as_ref()))
        .ok_or(RouteError::NotFound)?;
    let mut response = HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(page.clone());
    response.extensions_mut().insert(JoinAllChannels);
    Ok(response)
}

/// The body of the publish route.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PublishRequest {
    channel: String,
    message: String,
    #[serde(default)]
    event_class: Option<String>,
    #[serde(default)]
    data: Option<Value>,
}

async fn publish(
    req: HttpRequest,
    runtime: web::Data<Runtime>,
    body: web::Json<PublishRequest>,
) -> Result<HttpResponse, RouteError> {
    refuse_cross_site(&req, &runtime, "publish")?;
    let user = runtime.resolve(&req);
    if !is_superuser(user.as_ref()) {
        runtime
            .publisher
            .metrics_handle()
            .record_denial("not_superuser");
        tracing::warn!(
            user = user_label(user.as_ref()),
            "instant: publish refused: superusers only"
        );
        return Err(RouteError::denied(
            "only superusers may publish from the frontend",
        ));
    }
    let body = body.into_inner();
    // A fixed channel or a concrete name a pattern makes (`$order_42`), not a pattern itself.
    if runtime.channels.resolve(&body.channel).is_none() {
        return Err(RouteError::bad_request(format!(
            "channel `{}` is not declared",
            body.channel
        )));
    }
    let mut publish = runtime.publisher.publish(body.channel, body.message);
    if let Some(event_class) = body.event_class.filter(|c| !c.is_empty()) {
        publish = publish.event_class(event_class);
    }
    if let Some(data) = body.data {
        publish = publish.data(data);
    }
    let uid = publish.event().uid.clone();
    publish.await.map_err(|error| {
        tracing::warn!(%error, "instant: publish from the frontend failed");
        RouteError::PublishFailed {
            reason: error.to_string(),
        }
    })?;
    Ok(HttpResponse::Ok().json(json!({"ok": true, "uid": uid})))
}

async fn centrifuge_js(runtime: web::Data<Runtime>) -> Result<HttpResponse, RouteError> {
    let file = runtime
        .centrifuge_file
        .as_ref()
        .ok_or(RouteError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(file.clone()))
}

/// How long a file whose URL holds its content hash may be cached: for good.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Answers a hashed file, or 304 when the browser already holds it.
fn serve_asset(req: &HttpRequest, asset: &Asset) -> HttpResponse {
    let fresh = req
        .headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| {
            let tag = tag.trim();
            tag == "*" || tag.trim_start_matches("W/") == asset.etag
        });
    let mut response = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::CACHE_CONTROL, IMMUTABLE))
        .insert_header((header::ETAG, asset.etag.as_str()));
    if fresh {
        response.finish()
    } else {
        response
            .content_type(asset.content_type)
            .body(asset.body.clone())
    }
}

/// The rendered `instant/client.js`.
async fn client_js(req: HttpRequest, runtime: web::Data<Runtime>) -> HttpResponse {
    serve_asset(&req, &runtime.client_js)
}

/// The rendered `instant.css`.
async fn client_css(req: HttpRequest, runtime: web::Data<Runtime>) -> HttpResponse {
    serve_asset(&req, &runtime.client_css)
}
