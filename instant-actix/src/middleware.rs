//! For middleware documentation, see [`InstantMiddleware`].

use std::future::{Future, Ready};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};

use actix_web::body::{BodySize, EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{Error, HttpMessage, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use pin_project_lite::pin_project;

use crate::body::InjectBody;
use crate::markers::{CspNonce, JoinAllChannels, SKIP_HEADER, SkipInjection};
use crate::runtime::{JoinedChannels, Runtime};

/// Inserts the `instant` client into HTML pages: the browser config
/// (`<script type="application/json" id="instant-config">`) of the request's user and path, the
/// `centrifuge.js` script, and the links to the client's style sheet and script, once per page,
/// at the end of `<head>`, else before `</body>`, else at the end of the document. The client
/// script and style sheet are the same for every page and user: the routes serve them at URLs
/// holding their content hash ([`paths::STATIC`](crate::paths::STATIC)), cached for good.
///
/// It finds the app's set-up in the app data that [`Realtime::routes`](crate::Realtime::routes)
/// registers, so mount those routes in the same `App`:
/// `App::new().wrap(InstantMiddleware).configure(realtime.routes())`. Without them it passes every
/// response through untouched and logs one error per process. A page answered whole whose head is
/// plain markup gets the snippet before `</head>` without an HTML parser; any other page is
/// rewritten as it streams (lol_html); the rewriter's memory per response is capped, and past the
/// cap (or on markup it cannot parse) the rest of the page passes through unchanged. Once the
/// snippet is in, the rest of the page is not parsed.
///
/// Left untouched: responses that are not `text/html`, answers to `HEAD`, statuses 1xx, 204, 206
/// and 304, empty bodies, bodies that already have a `Content-Encoding`, and pages that opt out
/// with [`SkipInjection`] or the `x-instant-skip` header. A page answered whole is sent with its
/// new `Content-Length`; a streamed page loses the app's (it is sent chunked). A page that
/// received tokens gets
/// `Cache-Control: no-store` (replacing the app's) and loses any `CDN-Cache-Control` and
/// `Surrogate-Control`, so that no cache keeps a user's tokens.
///
/// A page's tokens are reused for the same user (and channel) for a tenth of the token lifetime,
/// at most a minute, so a user opening page after page costs no signing each time; every page's
/// tokens still have nine tenths of their lifetime or more left, and its channels are authorized
/// again on every page. The client renews its tokens
/// through the auth routes, which the same `configure` mounts and which always mint new ones. With
/// the embedded server and no `INSTANT_WEBSOCKET_URL`, the page connects to
/// `ws(s)://<the request's Host>/connection/websocket`; forwarded headers (`X-Forwarded-Host`,
/// `Forwarded`) count only from the reverse proxies named in `trusted_proxies`.
///
/// # Ordering
/// Register `Compress` *after* this middleware so that compression is the outer layer and sees the
/// rewritten page: `App::new().wrap(InstantMiddleware).wrap(Compress::default())`. A session or
/// identity middleware that the user resolver reads must also be outer (registered after).
///
/// # Example
/// ```no_run
/// use actix_web::{App, HttpServer, middleware::Compress};
/// use instant_actix::{InstantMiddleware, Realtime};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let realtime = Realtime::builder().build()?;
/// HttpServer::new(move || {
///     App::new()
///         .wrap(InstantMiddleware)
///         .wrap(Compress::default())
///         .configure(realtime.routes())
/// })
/// .bind(("127.0.0.1", 8080))?
/// .run()
/// .await?;
/// # Ok(()) }
/// ```
#[must_use]
#[derive(Debug, Clone, Copy, Default)]
pub struct InstantMiddleware;

impl<S, B> Transform<S, ServiceRequest> for InstantMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<InjectBody<B>, B>>;
    type Error = Error;
    type Transform = InstantMiddlewareService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        std::future::ready(Ok(InstantMiddlewareService { service }))
    }
}

/// The service of [`InstantMiddleware`].
#[doc(hidden)]
#[derive(Debug)]
pub struct InstantMiddlewareService<S> {
    service: S,
}

/// Logs, once per process, that a response went by without a set-up to inject with.
fn report_missing_set_up() {
    static REPORTED: AtomicBool = AtomicBool::new(false);
    if !REPORTED.swap(true, Ordering::Relaxed) {
        tracing::error!(
            "InstantMiddleware found no instant set-up: mount `.configure(realtime.routes())` in the same App"
        );
    }
}

impl<S, B> Service<ServiceRequest> for InstantMiddlewareService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<InjectBody<B>, B>>;
    type Error = Error;
    type Future = InstantResponse<S::Future, B>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        InstantResponse::Inner {
            inner: self.service.call(req),
        }
    }
}

/// A page's response once its snippet is built.
type PageFuture<B> =
    LocalBoxFuture<'static, Result<ServiceResponse<EitherBody<InjectBody<B>, B>>, Error>>;

pin_project! {
    /// The response future of [`InstantMiddlewareService`]: the app's response, then, for a page
    /// to inject into, the building of its snippet. Written out rather than boxed, so that a
    /// response that is not a page (JSON, assets, …) costs no allocation on its way through.
    #[doc(hidden)]
    #[project = InstantResponseProj]
    pub enum InstantResponse<F, B> {
        /// Waiting for the app's response.
        Inner {
            #[pin]
            inner: F,
        },
        /// Building the page's snippet.
        Page {
            page: PageFuture<B>,
        },
    }
}

impl<F, B> std::fmt::Debug for InstantResponse<F, B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Inner { .. } => "InstantResponse::Inner",
            Self::Page { .. } => "InstantResponse::Page",
        })
    }
}

impl<F, B> Future for InstantResponse<F, B>
where
    F: Future<Output = Result<ServiceResponse<B>, Error>>,
    B: MessageBody + 'static,
{
    type Output = Result<ServiceResponse<EitherBody<InjectBody<B>, B>>, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let page = match self.as_mut().project() {
            InstantResponseProj::Page { page } => return page.as_mut().poll(cx),
            InstantResponseProj::Inner { inner } => {
                let mut res = ready!(inner.poll(cx))?;
                let opted_out = res.headers_mut().remove(SKIP_HEADER).next().is_some();
                // What is not a page to inject into (JSON, assets, …) passes before any other
                // work.
                if opted_out || !injectable(&res) {
                    return Poll::Ready(Ok(res.map_into_right_body()));
                }
                let Some(runtime) = res.request().app_data::<web::Data<Runtime>>().cloned() else {
                    report_missing_set_up();
                    return Poll::Ready(Ok(res.map_into_right_body()));
                };
                Box::pin(inject(res, runtime))
            }
        };
        self.set(InstantResponse::Page { page });
        self.poll(cx)
    }
}

/// The page `res` with the snippet of its request in.
async fn inject<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
    runtime: web::Data<Runtime>,
) -> Result<ServiceResponse<EitherBody<InjectBody<B>, B>>, Error> {
    let nonce = res.request().extensions().get::<CspNonce>().cloned();
    let all_paths = res.response().extensions().contains::<JoinAllChannels>();
    let request = res.request().clone();
    let (snippet, has_token) = runtime
        .snippet_for(&request, nonce.as_ref().map(|n| n.0.as_str()), all_paths)
        .await;
    let limit = runtime.memory_limit;
    Ok(res.map_body(move |head, body| {
        head.headers.remove(header::CONTENT_LENGTH);
        if has_token {
            mark_private(&mut head.headers);
        }
        EitherBody::left(InjectBody::new(body, snippet, limit))
    }))
}

/// The skip rules: a `text/html` response (checked first, as most responses are not) with a
/// body, an answer to anything but `HEAD`, with no `Content-Encoding`, a status that has a page,
/// and no [`SkipInjection`] marker on the request or the response.
fn injectable<B: MessageBody>(res: &ServiceResponse<B>) -> bool {
    let headers = res.headers();
    let html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .get(..9)
                .is_some_and(|t| t.eq_ignore_ascii_case("text/html"))
        });
    if !html {
        return false;
    }
    let status = res.status();
    if status.is_informational()
        || matches!(
            status,
            StatusCode::NO_CONTENT | StatusCode::PARTIAL_CONTENT | StatusCode::NOT_MODIFIED
        )
        || res.request().method() == Method::HEAD
        || headers.contains_key(header::CONTENT_ENCODING)
        || res.response().extensions().contains::<SkipInjection>()
        || res.request().extensions().contains::<SkipInjection>()
    {
        return false;
    }
    !matches!(
        res.response().body().size(),
        BodySize::None | BodySize::Sized(0)
    )
}

/// The shared-cache directives, named once (a name given as text is parsed on every call).
const CDN_CACHE_CONTROL: header::HeaderName = header::HeaderName::from_static("cdn-cache-control");
const SURROGATE_CONTROL: header::HeaderName = header::HeaderName::from_static("surrogate-control");

/// A page that carries a user's tokens must not be stored by any cache: `Cache-Control: no-store`
/// replaces whatever the app set, and the shared-cache directives (`CDN-Cache-Control`,
/// `Surrogate-Control`) go.
fn mark_private(headers: &mut actix_web::http::header::HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.remove(CDN_CACHE_CONTROL);
    headers.remove(SURROGATE_CONTROL);
}

/// Makes the page answering `req` join a concrete channel, such as one made from a pattern
/// (`ORDER.with(42)`): the middleware authorizes it like the declared channels (level, then the
/// app's `authorize` checks for a private channel) and, when allowed, puts it into the page's
/// config with its subscription token. Without a `join`, a pattern's channels are joined on no
/// page. A name no declaration makes, or one the user may not join, is left out and logged.
///
/// ```
/// # use actix_web::{HttpRequest, HttpResponse, get, web};
/// # use instant_core::{Channel, Level};
/// # static ORDER: std::sync::LazyLock<Channel> = std::sync::LazyLock::new(|| Channel::new("$order_{id}", Level::Users).unwrap());
/// #[get("/orders/{id}")]
/// async fn order_page(req: HttpRequest, id: web::Path<u64>) -> HttpResponse {
///     instant_actix::join(&req, ORDER.with(*id));
///     HttpResponse::Ok().content_type("text/html").body("<html><head></head><body>…</body></html>")
/// }
/// ```
pub fn join(req: &HttpRequest, channel: impl AsRef<str>) {
    let name = channel.as_ref().to_owned();
    let mut extensions = req.extensions_mut();
    let joined = &mut extensions.get_or_insert_with(JoinedChannels::default).0;
    if !joined.contains(&name) {
        joined.push(name);
    }
}
