//! The design card's spelling, through the facade: `App::new().wrap(InstantMiddleware)` finds the
//! set-up that `.configure(realtime.routes())` registered and puts the client into HTML pages.

use actix_web::{App, HttpResponse, test, web};
use instant::{InstantMiddleware, Realtime};

instant::channels! {
    static CHANNELS;
    public "news",
}

async fn page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body("<!doctype html><html><head><title>t</title></head><body>hello</body></html>")
}

#[actix_web::test]
async fn wrap_instant_middleware_injects_the_client() {
    let config = instant::config::Config::builder()
        .build()
        .expect("the default settings are valid");
    let realtime = Realtime::builder()
        .config(config)
        .channels(CHANNELS.clone())
        .build()
        .expect("set up");
    let app = test::init_service(
        App::new()
            .wrap(InstantMiddleware)
            .configure(realtime.routes())
            .route("/", web::get().to(page)),
    )
    .await;
    let body = test::call_and_read_body(&app, test::TestRequest::get().uri("/").to_request()).await;
    let html = String::from_utf8(body.to_vec()).expect("UTF-8 page");
    assert_eq!(html.matches("id=\"instant-config\"").count(), 1, "{html}");
    assert!(
        html.contains("\"news\""),
        "the page joins the public channel: {html}"
    );
    assert!(html.ends_with("hello</body></html>"), "{html}");
}
