//! The routes: token endpoints for centrifuge-js, the superuser frontend, the local client file.

use std::collections::BTreeMap;
use std::sync::Arc;

use actix_web::error::InternalError;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::middleware::JoinAllChannels;
use crate::runtime::Runtime;
use crate::user::{User, level_of};

/// `POST` here answers `{"token"}`: the connection token of the current user (`""` when anonymous).
pub const CONNECTION_PATH: &str = "/instant/auth/connection";
/// `POST {"channel"}` here answers `{"token"}` or 403 `{"error", "reason"}`;
/// `POST {"channels": [...]}` answers `{"tokens": {channel: token}}` for the allowed ones.
pub const SUBSCRIPTION_PATH: &str = "/instant/auth/subscription";
/// The superuser frontend page.
pub const FRONTEND_PATH: &str = "/instant/";
/// `POST {channel, message, event_class?, data?}` publishes a test event (superusers only).
pub const PUBLISH_PATH: &str = "/instant/publish";

/// The largest JSON body the routes read.
const BODY_LIMIT: usize = 64 * 1024;
/// The most channels one batch request may ask for.
const MAX_BATCH: usize = 256;

pub(crate) fn configure(runtime: &Arc<Runtime>, cfg: &mut web::ServiceConfig) {
    cfg.app_data(runtime.publisher.clone());
    let data = web::Data::from(Arc::clone(runtime));
    let json = web::JsonConfig::default()
        .limit(BODY_LIMIT)
        .error_handler(|error, req| {
            let reason = error.to_string();
            tracing::info!(path = req.path(), %reason, "instant: malformed request body");
            InternalError::from_response(
                error,
                HttpResponse::BadRequest().json(json!({"error": "bad request", "reason": reason})),
            )
            .into()
        });
    cfg.service(
        web::resource(CONNECTION_PATH)
            .app_data(data.clone())
            .route(web::post().to(connection)),
    );
    cfg.service(
        web::resource(SUBSCRIPTION_PATH)
            .app_data(data.clone())
            .app_data(json.clone())
            .route(web::post().to(subscription)),
    );
    if runtime.frontend.is_some() {
        cfg.service(
            web::resource([FRONTEND_PATH, "/instant"])
                .app_data(data.clone())
                .route(web::get().to(frontend)),
        );
        cfg.service(
            web::resource(PUBLISH_PATH)
                .app_data(data.clone())
                .app_data(json)
                .route(web::post().to(publish)),
        );
    }
    if runtime.centrifuge_file.is_some() {
        cfg.service(
            web::resource(crate::CentrifugeJs::LOCAL_PATH)
                .app_data(data)
                .route(web::get().to(centrifuge_js)),
        );
    }
    if let Some(server) = &runtime.embedded {
        server.configure(cfg);
    }
}

fn forbidden(reason: &str) -> HttpResponse {
    HttpResponse::Forbidden().json(json!({"error": "permission denied", "reason": reason}))
}

fn bad_request(reason: &str) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({"error": "bad request", "reason": reason}))
}

/// Refuses a POST that a browser sends from another site: `Sec-Fetch-Site` must be `same-origin`
/// (or `none`), else `Origin` must be this host or one of the allowed origins. Requests without
/// either header do not come from a browser page and cannot ride on a visitor's cookies.
pub(crate) fn check_same_origin(req: &HttpRequest, allowed: &[String]) -> Result<(), String> {
    let fetch_site = req
        .headers()
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok());
    if matches!(fetch_site, Some("same-origin" | "none")) {
        return Ok(());
    }
    match req.headers().get(header::ORIGIN).map(HeaderValue::to_str) {
        Some(Ok(origin)) => {
            let host = req.connection_info().host().to_owned();
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

/// The 403 for a request [`check_same_origin`] refuses, logged as a refused `what`.
fn refuse_cross_site(req: &HttpRequest, runtime: &Runtime, what: &str) -> Option<HttpResponse> {
    let reason = check_same_origin(req, runtime.config.allowed_origins()).err()?;
    tracing::warn!(path = req.path(), %reason, "instant: {what} refused");
    Some(forbidden(&reason))
}

fn user_label(user: Option<&User>) -> &str {
    user.map_or("<anonymous>", |u| u.id.as_str())
}

async fn connection(req: HttpRequest, runtime: web::Data<Runtime>) -> HttpResponse {
    if let Some(refusal) = refuse_cross_site(&req, &runtime, "connection token") {
        return refusal;
    }
    let user = runtime.resolve(&req);
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({"token": runtime.connection_token(user.as_ref())}))
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
) -> HttpResponse {
    if let Some(refusal) = refuse_cross_site(&req, &runtime, "subscription token") {
        return refusal;
    }
    let user = runtime.resolve(&req);
    let user = user.as_ref();
    match body.into_inner() {
        SubscriptionRequest {
            channel: Some(channel),
            channels: None,
        } => match runtime.authorize(user, &channel) {
            Ok(_) => HttpResponse::Ok()
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .json(json!({"token": runtime.subscription_token(user, &channel)})),
            Err(denial) => {
                let reason = denial.to_string();
                tracing::warn!(user = user_label(user), level = %level_of(user), channel = %channel, %reason, "instant: subscription token refused");
                forbidden(&reason)
            }
        },
        SubscriptionRequest {
            channel: None,
            channels: Some(channels),
        } => {
            if channels.len() > MAX_BATCH {
                return bad_request(&format!("at most {MAX_BATCH} channels per request"));
            }
            let mut tokens = BTreeMap::new();
            for channel in channels {
                match runtime.authorize(user, &channel) {
                    Ok(_) => {
                        let token = runtime.subscription_token(user, &channel);
                        tokens.insert(channel, token);
                    }
                    Err(denial) => {
                        tracing::warn!(user = user_label(user), level = %level_of(user), channel = %channel, reason = %denial, "instant: subscription token refused");
                    }
                }
            }
            HttpResponse::Ok()
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .json(json!({"tokens": tokens}))
        }
        _ => bad_request(
            "expected exactly one of `channel` (a name) or `channels` (a list of names)",
        ),
    }
}

fn is_superuser(user: Option<&User>) -> bool {
    level_of(user) == instant_core::Level::Superuser
}

async fn frontend(req: HttpRequest, runtime: web::Data<Runtime>) -> HttpResponse {
    let user = runtime.resolve(&req);
    let Some(page) = runtime
        .frontend
        .as_ref()
        .filter(|_| is_superuser(user.as_ref()))
    else {
        return HttpResponse::NotFound().finish();
    };
    let mut response = HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(page.clone());
    response.extensions_mut().insert(JoinAllChannels);
    response
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
) -> HttpResponse {
    if let Some(refusal) = refuse_cross_site(&req, &runtime, "publish") {
        return refusal;
    }
    let user = runtime.resolve(&req);
    if !is_superuser(user.as_ref()) {
        tracing::warn!(
            user = user_label(user.as_ref()),
            "instant: publish refused: superusers only"
        );
        return forbidden("only superusers may publish from the frontend");
    }
    let body = body.into_inner();
    if runtime.channels.get(&body.channel).is_none() {
        return bad_request(&format!("channel `{}` is not declared", body.channel));
    }
    let mut publish = runtime.publisher.publish(body.channel, body.message);
    if let Some(event_class) = body.event_class.filter(|c| !c.is_empty()) {
        publish = publish.event_class(event_class);
    }
    if let Some(data) = body.data {
        publish = publish.data(data);
    }
    let uid = publish.event().uid.clone();
    match publish.await {
        Ok(_) => HttpResponse::Ok().json(json!({"ok": true, "uid": uid})),
        Err(error) => {
            tracing::warn!(%error, "instant: publish from the frontend failed");
            HttpResponse::BadGateway()
                .json(json!({"ok": false, "error": "publish failed", "reason": error.to_string()}))
        }
    }
}

async fn centrifuge_js(runtime: web::Data<Runtime>) -> HttpResponse {
    match &runtime.centrifuge_file {
        Some(file) => HttpResponse::Ok()
            .content_type("text/javascript; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
            .body(file.clone()),
        None => HttpResponse::NotFound().finish(),
    }
}
