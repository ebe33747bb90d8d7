//! The middleware's streaming rewrite: a server-rendered page of about 100 KB, sent by the handler
//! in 8 KB chunks, read whole through the app (`actix_web::test`, one actix runtime).
//!
//! Target (2-core machine): injecting the client into the page runs at **≥ 100 MB/s** (about 1 ms
//! per 100 KB page, tokens included), and a response the middleware leaves alone (`application/json`)
//! costs no more than **2×** the same app without the middleware.

// criterion_group! generates a public function without docs.
#![allow(missing_docs)]

use std::convert::Infallible;
use std::time::{Duration, Instant as Clock};

use actix_web::dev::{Service, ServiceResponse};
use actix_web::{App, HttpRequest, HttpResponse, test, web};
use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures_util::stream;
use instant_actix::{InstantMiddleware, Realtime, User};
use instant_bench::{channels, config, html_page};
use instant_core::Level;

const PAGE_SIZE: usize = 100 * 1024;
const CHUNK: usize = 8 * 1024;

/// The page as a stream of `CHUNK`-byte pieces, with `content_type`.
fn chunked(page: &Bytes, content_type: &'static str) -> HttpResponse {
    let chunks: Vec<Bytes> = (0..page.len())
        .step_by(CHUNK)
        .map(|at| page.slice(at..(at + CHUNK).min(page.len())))
        .collect();
    HttpResponse::Ok()
        .content_type(content_type)
        .streaming(stream::iter(chunks.into_iter().map(Ok::<_, Infallible>)))
}

fn pages(cfg: &mut web::ServiceConfig, page: Bytes) {
    let html = page.clone();
    cfg.route(
        "/page",
        web::get().to(move || {
            let page = html.clone();
            async move { chunked(&page, "text/html; charset=utf-8") }
        }),
    )
    .route(
        "/data",
        web::get().to(move || {
            let page = page.clone();
            async move { chunked(&page, "application/json") }
        }),
    );
}

/// Requests `path` `iters` times and reads each body whole; returns the time taken and the length
/// of the last body.
async fn fetch<S, B>(app: &S, path: &str, iters: u64) -> (Duration, usize)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    let start = Clock::now();
    let mut len = 0;
    for _ in 0..iters {
        let req = test::TestRequest::get().uri(path).to_request();
        let res = test::call_service(app, req).await;
        len = test::read_body(res).await.len();
    }
    (start.elapsed(), len)
}

fn injection(c: &mut Criterion) {
    let page = Bytes::from(html_page(PAGE_SIZE));
    let realtime = Realtime::builder()
        .config(config())
        .channels(channels())
        .users(|_: &HttpRequest| Some(User::new("42", Level::Users)))
        .build()
        .expect("instant set-up");
    let system = actix_rt::System::new();
    let with_middleware = system.block_on({
        let page = page.clone();
        test::init_service(
            App::new()
                .wrap(InstantMiddleware)
                .configure(realtime.routes())
                .configure(move |cfg| pages(cfg, page)),
        )
    });
    let without = system.block_on({
        let page = page.clone();
        test::init_service(App::new().configure(move |cfg| pages(cfg, page)))
    });

    // The rewrite really happens, once, and the other responses are untouched.
    let injected = system.block_on(async {
        let res = test::call_service(
            &with_middleware,
            test::TestRequest::get().uri("/page").to_request(),
        )
        .await;
        String::from_utf8(test::read_body(res).await.to_vec()).expect("UTF-8")
    });
    assert_eq!(injected.matches("id=\"instant-config\"").count(), 1);
    assert!(injected.len() > page.len());
    assert_eq!(
        system.block_on(fetch(&with_middleware, "/data", 1)).1,
        page.len()
    );

    let mut group = c.benchmark_group("inject into a 100 KB page in 8 KB chunks");
    group.throughput(Throughput::Bytes(page.len() as u64));
    group.bench_function("without the middleware", |b| {
        b.iter_custom(|iters| system.block_on(fetch(&without, "/page", iters)).0);
    });
    group.bench_function("injected by the middleware", |b| {
        b.iter_custom(|iters| system.block_on(fetch(&with_middleware, "/page", iters)).0);
    });
    group.bench_function("passed through the middleware (JSON)", |b| {
        b.iter_custom(|iters| system.block_on(fetch(&with_middleware, "/data", iters)).0);
    });
    group.finish();
}

fn quick() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = quick();
    targets = injection
}
criterion_main!(benches);
