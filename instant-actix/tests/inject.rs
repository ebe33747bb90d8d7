//! The middleware on a test service: where the client goes, the skip rules, headers, CSP nonce,
//! compression.

mod common;

use std::convert::Infallible;
use std::io::Read;

use actix_web::body::{BodySize, MessageBody};
use actix_web::http::{StatusCode, header};
use actix_web::middleware::Compress;
use actix_web::{App, HttpMessage, HttpResponse, test, web};
use bytes::Bytes;
use futures_util::stream;
use instant_actix::InstantMiddleware;
use instant_actix::markers::{CspNonce, SKIP_HEADER, SkipInjection};

use common::{count, injected_config, realtime};

const PAGE: &str =
    "<!doctype html><html><head><title>T</title></head><body><p>hello</p></body></html>";

fn html(body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(body)
}

fn chunked(chunks: &'static [&'static str]) -> HttpResponse {
    let stream = stream::iter(
        chunks
            .iter()
            .map(|c| Ok::<_, Infallible>(Bytes::from_static(c.as_bytes()))),
    );
    HttpResponse::Ok()
        .content_type("text/html")
        .streaming(stream)
}

fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/page", web::get().to(|| async { html(PAGE) }))
        .route(
            "/split",
            web::get().to(|| async {
                chunked(&[
                    "<html><head><title>T</title></h",
                    "ea",
                    "d><body>x</body></html>",
                ])
            }),
        )
        .route(
            "/no-head",
            web::get().to(|| async { html("<html><body><p>no head</p></body></html>") }),
        )
        .route(
            "/fragment",
            web::get().to(|| async { html("<p>just a fragment</p>") }),
        )
        .route(
            "/json",
            web::get()
                .to(|| async { HttpResponse::Ok().json(serde_json::json!({"html": "</head>"})) }),
        )
        .route(
            "/binary",
            web::get().to(|| async {
                HttpResponse::Ok()
                    .content_type("application/octet-stream")
                    .body(Bytes::from_static(b"\x00\x01</head>\xff"))
            }),
        )
        .route(
            "/with-length",
            web::get().to(|| async {
                let mut res = html(PAGE);
                res.headers_mut().insert(
                    header::CONTENT_LENGTH,
                    header::HeaderValue::from(PAGE.len()),
                );
                res
            }),
        )
        .route(
            "/status/{code}",
            web::get().to(|path: web::Path<u16>| async move {
                HttpResponse::build(StatusCode::from_u16(path.into_inner()).unwrap())
                    .content_type("text/html")
                    .body(PAGE)
            }),
        )
        .route(
            "/encoded",
            web::get().to(|| async {
                HttpResponse::Ok()
                    .content_type("text/html")
                    .insert_header((header::CONTENT_ENCODING, "br"))
                    .body(PAGE)
            }),
        )
        .route(
            "/skip-extension",
            web::get().to(|| async {
                let mut res = html(PAGE);
                res.extensions_mut().insert(SkipInjection);
                res
            }),
        )
        .route(
            "/skip-request-extension",
            web::get().to(|req: actix_web::HttpRequest| async move {
                // Marked by the handler itself, on the request.
                req.extensions_mut().insert(SkipInjection);
                html(PAGE)
            }),
        )
        .route(
            "/skip-header",
            web::get().to(|| async {
                HttpResponse::Ok()
                    .content_type("text/html")
                    .insert_header((SKIP_HEADER, "1"))
                    .body(PAGE)
            }),
        )
        .route(
            "/nonce",
            web::get().to(|req: actix_web::HttpRequest| async move {
                req.extensions_mut().insert(CspNonce("r4nd0m".into()));
                html(PAGE)
            }),
        )
        .route(
            "/empty",
            web::get().to(|| async { HttpResponse::Ok().content_type("text/html").finish() }),
        )
        .route("/head-only", web::head().to(|| async { html(PAGE) }));
}

/// The body of `GET uri`, as text.
macro_rules! body_of {
    ($app:expr, $uri:expr) => {{
        let res = test::call_service($app, test::TestRequest::get().uri($uri).to_request()).await;
        String::from_utf8(test::read_body(res).await.to_vec()).unwrap()
    }};
}

macro_rules! app {
    () => {
        test::init_service(
            App::new()
                .wrap(InstantMiddleware)
                .configure(realtime().routes())
                .configure(routes),
        )
        .await
    };
}

#[actix_rt::test]
async fn injects_once_at_the_end_of_head() {
    let app = app!();
    let res = test::call_service(&app, test::TestRequest::get().uri("/page").to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert_eq!(count(&body, "id=\"instant-config\""), 1, "{body}");
    let config_at = body.find("id=\"instant-config\"").unwrap();
    let head_end = body.find("</head>").unwrap();
    assert!(body.find("<title>T</title>").unwrap() < config_at && config_at < head_end);
    assert!(body.ends_with("</head><body><p>hello</p></body></html>"));
    assert!(body.contains("<script src=\"/static/centrifuge.js\"></script>"));
    assert!(
        !body.contains("new Centrifuge("),
        "the client is not inlined"
    );
    let client = common::client_script_url(&body).unwrap();
    assert!(body.find("/static/centrifuge.js").unwrap() < body.find(&client).unwrap());
    assert!(
        common::get_text(&app, &client)
            .await
            .contains("new Centrifuge(")
    );
    let config = injected_config(&body).unwrap();
    assert_eq!(config["site"], "testsite");
    assert_eq!(config["site_name"], "Test site");
    assert_eq!(config["token"], "");
    assert_eq!(
        config["connection_url"],
        instant_actix::paths::AUTH_CONNECTION
    );
    assert_eq!(
        config["subscription_url"],
        instant_actix::paths::AUTH_SUBSCRIPTION
    );
    assert!(config.get("publish_url").is_none(), "{config}");
    assert!(config.get("auth_url").is_none(), "{config}");
    assert!(
        config["ws_url"]
            .as_str()
            .unwrap()
            .ends_with("/connection/websocket")
    );
}

#[actix_rt::test]
async fn head_end_split_across_chunks() {
    let app = app!();
    let body = body_of!(&app, "/split");
    assert_eq!(count(&body, "id=\"instant-config\""), 1);
    let config_at = body.find("id=\"instant-config\"").unwrap();
    assert!(config_at > body.find("<title>T</title>").unwrap());
    assert!(body.ends_with("</head><body>x</body></html>"), "{body}");
}

#[actix_rt::test]
async fn without_head_before_body_end_then_document_end() {
    let app = app!();
    let body = body_of!(&app, "/no-head");
    assert_eq!(count(&body, "id=\"instant-config\""), 1);
    assert!(
        body.starts_with("<html><body><p>no head</p><script"),
        "{body}"
    );
    assert!(body.ends_with("</script></body></html>"));
    let body = body_of!(&app, "/fragment");
    assert_eq!(count(&body, "id=\"instant-config\""), 1);
    assert!(body.starts_with("<p>just a fragment</p><script"));
}

#[actix_rt::test]
async fn non_html_is_byte_identical() {
    let app = app!();
    let res = test::call_service(&app, test::TestRequest::get().uri("/binary").to_request()).await;
    assert_eq!(test::read_body(res).await.as_ref(), b"\x00\x01</head>\xff");
    let res = test::call_service(&app, test::TestRequest::get().uri("/json").to_request()).await;
    assert_eq!(
        test::read_body(res).await.as_ref(),
        br#"{"html":"</head>"}"#
    );
}

#[actix_rt::test]
async fn skip_rules_leave_the_page_untouched() {
    let app = app!();
    for uri in [
        "/status/206",
        "/encoded",
        "/skip-extension",
        "/skip-request-extension",
        "/skip-header",
    ] {
        let res = test::call_service(&app, test::TestRequest::get().uri(uri).to_request()).await;
        assert!(!res.headers().contains_key(SKIP_HEADER), "{uri}");
        let body = test::read_body(res).await;
        assert_eq!(
            body.as_ref(),
            PAGE.as_bytes(),
            "{uri} must not be rewritten"
        );
    }
    for code in [204, 304] {
        let res = test::call_service(
            &app,
            test::TestRequest::get()
                .uri(&format!("/status/{code}"))
                .to_request(),
        )
        .await;
        let body = test::read_body(res).await;
        assert!(
            !String::from_utf8_lossy(&body).contains("instant-config"),
            "{code}"
        );
    }
    let res = test::call_service(&app, test::TestRequest::get().uri("/empty").to_request()).await;
    assert!(test::read_body(res).await.is_empty());
    let res = test::call_service(
        &app,
        test::TestRequest::default()
            .method(actix_web::http::Method::HEAD)
            .uri("/head-only")
            .to_request(),
    )
    .await;
    assert!(res.headers().get(header::TRANSFER_ENCODING).is_none());
    let body = test::read_body(res).await;
    assert!(!String::from_utf8_lossy(&body).contains("instant-config"));
}

#[actix_rt::test]
async fn a_whole_page_gets_its_new_length_and_a_streamed_one_streams() {
    let app = app!();
    // The app's own Content-Length counts the page without the snippet: it goes, and the body,
    // whole in memory, reports the length with the snippet in.
    let res = test::call_service(
        &app,
        test::TestRequest::get().uri("/with-length").to_request(),
    )
    .await;
    assert!(res.headers().get(header::CONTENT_LENGTH).is_none());
    let size = res.response().body().size();
    let body = test::read_body(res).await;
    assert!(body.len() > PAGE.len());
    assert_eq!(size, BodySize::Sized(body.len() as u64));
    // A streamed page streams on.
    let res = test::call_service(&app, test::TestRequest::get().uri("/split").to_request()).await;
    assert_eq!(res.response().body().size(), BodySize::Stream);
    // A skipped page keeps its length.
    let res = test::call_service(&app, test::TestRequest::get().uri("/binary").to_request()).await;
    assert_eq!(res.response().body().size(), BodySize::Sized(10));
}

#[actix_rt::test]
async fn csp_nonce_goes_on_every_inserted_element() {
    let app = app!();
    let res = test::call_service(&app, test::TestRequest::get().uri("/nonce").to_request()).await;
    let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    // The config element, the centrifuge.js element, the style sheet and the client script.
    assert_eq!(count(&body, "nonce=\"r4nd0m\""), 4, "{body}");
    assert_eq!(count(&body, "<link rel=\"stylesheet\""), 1);
    assert_eq!(count(&body, "<script"), 3);
    let body = body_of!(&app, "/page");
    assert_eq!(count(&body, "nonce="), 0);
}

#[actix_rt::test]
async fn works_under_compress() {
    let app = test::init_service(
        App::new()
            .wrap(InstantMiddleware)
            .wrap(Compress::default())
            .configure(realtime().routes())
            .configure(routes),
    )
    .await;
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/page")
            .insert_header((header::ACCEPT_ENCODING, "gzip"))
            .to_request(),
    )
    .await;
    assert_eq!(res.headers().get(header::CONTENT_ENCODING).unwrap(), "gzip");
    let compressed = test::read_body(res).await;
    let mut body = String::new();
    flate2::read::GzDecoder::new(compressed.as_ref())
        .read_to_string(&mut body)
        .unwrap();
    assert_eq!(count(&body, "id=\"instant-config\""), 1);
    assert!(body.ends_with("</head><body><p>hello</p></body></html>"));
}

#[actix_rt::test]
async fn json_in_the_config_cannot_close_the_script() {
    let realtime = instant_actix::Realtime::builder()
        .config(
            instant_core::Config::builder()
                .secret(common::SECRET)
                .site_name("</script><script>alert(1)</script>")
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let app = test::init_service(
        App::new()
            .wrap(InstantMiddleware)
            .configure(realtime.routes())
            .configure(routes),
    )
    .await;
    let res = test::call_service(&app, test::TestRequest::get().uri("/page").to_request()).await;
    let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert!(!body.contains("<script>alert(1)"));
    let config = injected_config(&body).unwrap();
    assert_eq!(config["site_name"], "</script><script>alert(1)</script>");
}

#[actix_rt::test]
async fn on_the_wire_a_page_has_the_length_of_what_is_sent() {
    let realtime = realtime();
    let server = actix_web::HttpServer::new(move || {
        App::new()
            .wrap(InstantMiddleware)
            .configure(realtime.routes())
            .configure(routes)
    })
    .workers(1)
    .bind(("127.0.0.1", 0))
    .unwrap();
    let addr = server.addrs()[0];
    let server = server.run();
    let handle = server.handle();
    actix_rt::spawn(server);
    let client = awc::Client::default();
    let mut res = client
        .get(format!("http://{addr}/with-length"))
        .send()
        .await
        .unwrap();
    assert!(res.headers().get(header::TRANSFER_ENCODING).is_none());
    let length: usize = res
        .headers()
        .get(header::CONTENT_LENGTH)
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let body = res.body().await.unwrap();
    assert_eq!(body.len(), length);
    let body = String::from_utf8(body.to_vec()).unwrap();
    assert_eq!(count(&body, "id=\"instant-config\""), 1);
    assert!(body.ends_with("</head><body><p>hello</p></body></html>"));
    // A streamed page goes chunked, with no length.
    let res = client
        .get(format!("http://{addr}/split"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers().get(header::TRANSFER_ENCODING).unwrap(),
        "chunked"
    );
    assert!(res.headers().get(header::CONTENT_LENGTH).is_none());
    let mut res = client
        .get(format!("http://{addr}/binary"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers().get(header::CONTENT_LENGTH).unwrap(), "10");
    assert_eq!(res.body().await.unwrap().as_ref(), b"\x00\x01</head>\xff");
    handle.stop(true).await;
}
