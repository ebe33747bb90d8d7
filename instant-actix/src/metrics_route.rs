//! The optional metrics route ([`paths::METRICS`](crate::paths::METRICS)): the app's counters in
//! Prometheus' text format, for superusers or a scraper holding a bearer key.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use instant_core::Secret;
use instant_core::metrics::PROMETHEUS_CONTENT_TYPE;
use subtle::ConstantTimeEq;

use crate::error::RouteError;
use crate::runtime::Runtime;
use crate::user::level_of;

/// Who may read [`paths::METRICS`](crate::paths::METRICS), the route that
/// [`RealtimeBuilder::metrics_route`](crate::RealtimeBuilder::metrics_route) turns on (it is off
/// by default). Anyone else gets 404, as if the route did not exist.
///
/// ```
/// use instant_actix::{MetricsAccess, Realtime};
///
/// // A Prometheus scrape config with `authorization: { credentials: "<the key>" }`.
/// let builder = Realtime::builder()
///     .metrics_route(MetricsAccess::BearerKey("a-long-random-scrape-key-0123456789abcdef".into()));
/// # drop(builder);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum MetricsAccess {
    /// Logged-in superusers (the app's user resolver says who).
    Superusers,
    /// Requests with `Authorization: Bearer <key>` (compared in constant time).
    BearerKey(Secret),
    /// Either.
    SuperusersOrBearerKey(Secret),
}

impl MetricsAccess {
    fn allows(&self, req: &HttpRequest, runtime: &Runtime) -> bool {
        let superuser =
            || level_of(runtime.resolve(req).as_ref()) == instant_core::Level::Superuser;
        let bearer = |key: &Secret| {
            req.headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .is_some_and(|given| {
                    !key.expose_secret().is_empty()
                        && bool::from(given.as_bytes().ct_eq(key.expose_secret().as_bytes()))
                })
        };
        match self {
            Self::Superusers => superuser(),
            Self::BearerKey(key) => bearer(key),
            Self::SuperusersOrBearerKey(key) => bearer(key) || superuser(),
        }
    }
}

/// `GET` [`paths::METRICS`](crate::paths::METRICS).
pub(crate) async fn metrics(
    req: HttpRequest,
    runtime: web::Data<Runtime>,
) -> Result<HttpResponse, RouteError> {
    let access = runtime
        .metrics_access
        .as_ref()
        .ok_or(RouteError::NotFound)?;
    if !access.allows(&req, &runtime) {
        runtime.publisher.metrics_handle().record_denial("metrics");
        tracing::info!(
            path = req.path(),
            reason = "metrics",
            "instant: metrics refused: neither a superuser nor the bearer key"
        );
        return Err(RouteError::NotFound);
    }
    Ok(HttpResponse::Ok()
        .content_type(PROMETHEUS_CONTENT_TYPE)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(runtime.publisher.metrics().to_prometheus()))
}
