//! Where the middleware inserts the client when the page streams in pieces, and what it leaves
//! alone: a `</head>` inside a comment, a script, a style, a title or an attribute is not an
//! insertion point, wherever the chunks are cut; once the client is in, the rest of the page
//! passes through byte for byte, whatever it holds.

mod common;

use std::convert::Infallible;

use actix_web::{App, HttpResponse, test, web};
use bytes::Bytes;
use futures_util::stream;
use instant_actix::InstantMiddleware;

use common::realtime;

thread_local! {
    /// One set-up per test: the page config carries each channel's stream position (its history
    /// epoch), so every request of a test must reach the same embedded server for the snippets
    /// to be equal.
    static REALTIME: instant_actix::Realtime = realtime();
}

/// Serves `chunks` as one HTML response, each a separate body chunk, through the middleware, for
/// an anonymous visitor (no tokens, so the snippet is the same on every request).
async fn through_middleware(chunks: Vec<Bytes>) -> Bytes {
    let realtime = REALTIME.with(Clone::clone);
    let app = test::init_service(
        App::new()
            .wrap(InstantMiddleware)
            .configure(realtime.routes())
            .route(
                "/page",
                web::get().to(move || {
                    let chunks = chunks.clone();
                    async move {
                        HttpResponse::Ok()
                            .content_type("text/html; charset=utf-8")
                            .streaming(stream::iter(chunks.into_iter().map(Ok::<_, Infallible>)))
                    }
                }),
            ),
    )
    .await;
    let res = test::call_service(&app, test::TestRequest::get().uri("/page").to_request()).await;
    assert!(res.status().is_success());
    test::read_body(res).await
}

/// The snippet the middleware inserts for an anonymous visitor on `/page`.
async fn snippet() -> String {
    let out = through_middleware(vec![Bytes::from_static(b"<head></head>")]).await;
    let out = String::from_utf8(out.to_vec()).expect("UTF-8");
    out.strip_prefix("<head>")
        .and_then(|s| s.strip_suffix("</head>"))
        .expect("the snippet goes before </head>")
        .to_owned()
}

/// `page` with the snippet inserted at the first occurrence of `marker`.
fn expected(page: &[u8], marker: &str, snippet: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(page);
    let at = text.find(marker).expect("the marker is in the page");
    let mut out = page[..at].to_vec();
    out.extend_from_slice(snippet.as_bytes());
    out.extend_from_slice(&page[at..]);
    out
}

/// Every way of cutting `page` in two, and one byte per chunk: the output is `want` each time.
async fn check_every_split(page: &'static [u8], want: &[u8]) {
    for cut in 0..=page.len() {
        let chunks = vec![
            Bytes::from_static(&page[..cut]),
            Bytes::from_static(&page[cut..]),
        ]
        .into_iter()
        .filter(|c| !c.is_empty())
        .collect();
        let out = through_middleware(chunks).await;
        assert_eq!(
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(want),
            "cut at byte {cut}"
        );
    }
    let bytes: Vec<Bytes> = (0..page.len())
        .map(|i| Bytes::from_static(&page[i..=i]))
        .collect();
    assert_eq!(
        String::from_utf8_lossy(&through_middleware(bytes).await),
        String::from_utf8_lossy(want),
        "one byte per chunk"
    );
}

#[actix_rt::test]
async fn head_end_in_a_comment_is_not_an_insertion_point() {
    const PAGE: &[u8] =
        b"<!doctype html><html><head><!-- </head> --><title>T</title></head><body>b</body></html>";
    let want = expected(PAGE, "</head><body>", &snippet().await);
    check_every_split(PAGE, &want).await;
}

#[actix_rt::test]
async fn head_end_in_a_script_is_not_an_insertion_point() {
    const PAGE: &[u8] = b"<html><head><script>var s = \"</head>\"; if (a<b) {}</script></head><body>b</body></html>";
    let want = expected(PAGE, "</head><body>", &snippet().await);
    check_every_split(PAGE, &want).await;
}

#[actix_rt::test]
async fn head_end_in_a_style_or_title_is_not_an_insertion_point() {
    const PAGE: &[u8] = b"<html><head><style>p::after{content:\"</head>\"}</style><title>a </head> b</title></head><body></body></html>";
    let want = expected(PAGE, "</head><body>", &snippet().await);
    check_every_split(PAGE, &want).await;
}

#[actix_rt::test]
async fn head_end_in_an_attribute_is_not_an_insertion_point() {
    const PAGE: &[u8] = b"<html><head><meta name=\"x\" content=\"</head>\"><meta content='</head>'></head><body></body></html>";
    let want = expected(PAGE, "</head><body>", &snippet().await);
    check_every_split(PAGE, &want).await;
}

#[actix_rt::test]
async fn the_rest_of_the_page_passes_through_byte_for_byte() {
    // After the real </head>: another </head>, an unterminated comment, bytes that are not UTF-8,
    // a stray </body>. None of it is parsed or changed once the client is in.
    let mut page = b"<html><head><title>T</title></head><body><p>a</head>b</p>".to_vec();
    page.extend_from_slice(b"<!-- never closed \xff\xfe </body> <head></head>");
    page.extend(std::iter::repeat_n(b'x', 300_000));
    page.extend_from_slice(b"</body></html>");
    let want = expected(&page, "</head><body>", &snippet().await);
    // As one body, and in uneven chunks.
    let page = Bytes::from(page);
    let out = through_middleware(vec![page.clone()]).await;
    assert!(
        out == want,
        "one body: the rest must pass through unchanged"
    );
    let chunks: Vec<Bytes> = [0, 7, 40, 41, 100, 5_000, 150_000, page.len()]
        .windows(2)
        .map(|w| page.slice(w[0]..w[1]))
        .collect();
    let out = through_middleware(chunks).await;
    assert!(out == want, "chunked: the rest must pass through unchanged");
}

#[actix_rt::test]
async fn the_client_goes_in_once_when_the_head_ends_late() {
    // A long head: </head> comes after many kilobytes of styles, in a later chunk.
    let mut page = b"<html><head><style>".to_vec();
    for i in 0..2_000 {
        page.extend_from_slice(format!(".c{i}{{color:red}} /* </head> */\n").as_bytes());
    }
    page.extend_from_slice(b"</style></head><body><p>x</p></body></html>");
    let want = expected(&page, "</head><body>", &snippet().await);
    let page = Bytes::from(page);
    let chunks: Vec<Bytes> = (0..page.len())
        .step_by(8 * 1024)
        .map(|at| page.slice(at..(at + 8 * 1024).min(page.len())))
        .collect();
    assert!(through_middleware(chunks).await == want);
    assert!(through_middleware(vec![page]).await == want);
}
