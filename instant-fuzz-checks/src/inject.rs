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
    serve_as(chunks, false)
}

/// Serves `page` as one `text/html` body of known length (what most handlers answer), the path
/// on which the middleware may find the head's end without the HTML rewriter.
pub fn serve_whole(page: Vec<u8>) -> (u16, Vec<u8>) {
    serve_as(vec![page], true)
}

fn serve_as(chunks: Vec<Vec<u8>>, whole: bool) -> (u16, Vec<u8>) {
    let realtime = realtime().clone();
    crate::block_on(async move {
        let app = test::init_service(
            App::new()
                .wrap(InstantMiddleware)
                .configure(realtime.routes())
                .route(
                    "/page",
                    web::get().to(move || {
                        let page = Bytes::from(chunks.concat());
                        let stream = futures_util::stream::iter(
                            chunks
                                .clone()
                                .into_iter()
                                .map(|c| Ok::<_, Infallible>(Bytes::from(c))),
                        );
                        async move {
                            let mut answer = HttpResponse::Ok();
                            answer.content_type("text/html; charset=utf-8");
                            if whole {
                                answer.body(page)
                            } else {
                                answer.streaming(stream)
                            }
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
/// unchanged or with exactly one snippet inserted somewhere, and that the same page served whole
/// comes back exactly as the streamed one (the whole page may skip the HTML rewriter; the
/// rewriter reads every streamed one).
///
/// # Panics
/// When the answer is not 200, the body is neither the page nor the page plus one snippet, or the
/// whole and the streamed page differ.
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
    let (status, whole) = serve_whole(page.clone());
    assert_eq!(status, 200);
    // An empty body of known length is left alone (an empty stream gets the snippet).
    let expected = if page.is_empty() { &page } else { &body };
    assert!(
        &whole == expected,
        "served whole, the page differs from the streamed one:\n page: {:?}\n whole: {:?}\n streamed: {:?}",
        String::from_utf8_lossy(&page),
        String::from_utf8_lossy(&whole),
        String::from_utf8_lossy(&body)
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
