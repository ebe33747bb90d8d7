//! The HTML injector on arbitrary pages split at arbitrary chunk boundaries, through a real
//! actix-web app with `InstantMiddleware`.

use std::convert::Infallible;
use std::sync::OnceLock;

use actix_web::{App, HttpResponse, test, web};
use bytes::Bytes;
use instant_actix::{InstantMiddleware, Realtime};
use instant_core::testing::RecordingBackend;
use instant_core::{Config, Secret};

use crate::split_chunks;

/// The set-up, once per process: anonymous visitors, no server behind it.
fn realtime() -> &'static Realtime {
    static REALTIME: OnceLock<Realtime> = OnceLock::new();
    REALTIME.get_or_init(|| {
        let config = Config::builder()
            .secret(Secret::from(crate::tokens::SECRET))
            .site_slug("fuzz")
            .build()
            .expect("the fuzz configuration");
        Realtime::builder()
            .config(config)
            .backend(RecordingBackend::new())
            .build()
            .expect("the fuzz set-up")
    })
}

/// Serves `chunks` as a streamed `text/html` page through the middleware; returns the status and
/// the body the browser gets.
pub fn serve(chunks: Vec<Vec<u8>>) -> (u16, Vec<u8>) {
    let realtime = realtime().clone();
    crate::block_on(async move {
        let app = test::init_service(
            App::new()
                .wrap(InstantMiddleware)
                .configure(realtime.routes())
                .route(
                    "/page",
                    web::get().to(move || {
                        let stream = futures_util::stream::iter(
                            chunks
                                .clone()
                                .into_iter()
                                .map(|c| Ok::<_, Infallible>(Bytes::from(c))),
                        );
                        async move {
                            HttpResponse::Ok()
                                .content_type("text/html; charset=utf-8")
                                .streaming(stream)
                        }
                    }),
                ),
        )
        .await;
        let response =
            test::call_service(&app, test::TestRequest::get().uri("/page").to_request()).await;
        let status = response.status().as_u16();
        let body = test::read_body(response).await;
        (status, body.to_vec())
    })
}

/// The snippet the middleware inserts for an anonymous visitor.
pub fn snippet() -> &'static [u8] {
    static SNIPPET: OnceLock<Vec<u8>> = OnceLock::new();
    SNIPPET.get_or_init(|| {
        let (before, after) = (
            b"<html><head>".as_slice(),
            b"</head><body></body></html>".as_slice(),
        );
        let (status, body) = serve(vec![[before, after].concat()]);
        assert_eq!(status, 200);
        assert!(
            body.starts_with(before) && body.ends_with(after),
            "{}",
            String::from_utf8_lossy(&body)
        );
        let snippet = body[before.len()..body.len() - after.len()].to_vec();
        assert!(
            !snippet.is_empty(),
            "nothing was injected into a plain page"
        );
        // The snippet loads the client script and its style sheet instead of inlining them.
        let text = String::from_utf8_lossy(&snippet);
        assert!(
            text.contains("<script src=\"/instant/static/client.")
                && text.contains("<link rel=\"stylesheet\" href=\"/instant/static/client.")
                && !text.contains("<style"),
            "{text}"
        );
        snippet
    })
}

/// Serves the fuzz input (chunks split at `0xFF` bytes) and checks that the page comes back
/// unchanged or with exactly one snippet inserted somewhere.
///
/// # Panics
/// When the answer is not 200, or the body is neither the page nor the page plus one snippet.
pub fn check(data: &[u8]) {
    let snippet = snippet();
    let chunks = split_chunks(data);
    let page: Vec<u8> = chunks.concat();
    let (status, body) = serve(chunks);
    assert_eq!(
        status,
        200,
        "status {status} for {:?}",
        String::from_utf8_lossy(&page)
    );
    if body == page {
        return;
    }
    assert!(
        inserted_once(&page, &body, snippet),
        "the page was altered:\n page: {:?}\n body: {:?}",
        String::from_utf8_lossy(&page),
        String::from_utf8_lossy(&body)
    );
}

/// Whether `body` is `page` with `snippet` inserted at one position.
#[must_use]
pub fn inserted_once(page: &[u8], body: &[u8], snippet: &[u8]) -> bool {
    if body.len() != page.len() + snippet.len() {
        return false;
    }
    let prefix = page.iter().zip(body).take_while(|(a, b)| a == b).count();
    let suffix = page
        .iter()
        .rev()
        .zip(body.iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let lowest = page.len().saturating_sub(suffix);
    (lowest..=prefix.min(page.len())).any(|at| &body[at..at + snippet.len()] == snippet)
}
