//! A `#[instant::event]` handler's event reaches a real centrifuge-js subscriber through a real
//! Centrifugo v6, published by the core's Centrifugo client; a failed request publishes nothing.
//!
//! Needs the Centrifugo binary and the Node clients (`cargo xtask test` installs them); the test
//! fails, never skips, without them.

use std::sync::Arc;
use std::time::Duration;

use actix_web::{App, test};
use instant::Publisher;
use instant::centrifugo::CentrifugoClient;
use instant_testkit::{Centrifugo, CentrifugoOptions, NodeClient, NodeSpec};
use serde_json::json;

mod support;

use support::{ADMIN1, CHANNELS, create_order};

const PATIENCE: Duration = Duration::from_secs(30);

#[actix_web::test]
async fn a_subscriber_receives_the_event_of_a_successful_handler_only() {
    let server = Centrifugo::start(CentrifugoOptions::default());
    let tokens = server.tokens();
    let channel = ADMIN1.name();
    let mut subscriber = NodeClient::spawn(
        NodeSpec::new(server.ws_url())
            .token(tokens.connection("admin", None))
            .subscribe_with_token(channel, tokens.subscription("admin", channel)),
    );
    subscriber.wait_for(|e| e.is_on("subscribed", channel), PATIENCE);

    let backend = CentrifugoClient::new(&server.config()).expect("the test server's config");
    let publisher = Publisher::new(Arc::new(backend), "mysite");
    assert!(CHANNELS.get(channel).is_some());
    let app = test::init_service(App::new().app_data(publisher).service(create_order)).await;

    // Publications on one channel arrive in order: if the first one the subscriber sees is the
    // second request's, the failed first request published nothing.
    let failed = test::TestRequest::post()
        .uri("/orders")
        .set_json(json!({ "item": "" }))
        .to_request();
    assert_eq!(test::call_service(&app, failed).await.status(), 400);
    let created = test::TestRequest::post()
        .uri("/orders")
        .set_json(json!({ "item": "tea" }))
        .to_request();
    let response = test::call_service(&app, created).await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = test::read_body_json(response).await;
    assert_eq!(body, json!({ "id": 7, "item": "tea" }));

    let publication = subscriber.wait_for(|e| e.is_on("publication", channel), PATIENCE);
    let event = publication.data().expect("a publication carries data");
    assert_eq!(event["channel"], channel);
    assert_eq!(event["site"], "mysite");
    assert_eq!(event["event_class"], "object created");
    assert_eq!(event["message"], "New order");
    assert_eq!(event["data"], json!({ "id": 7, "item": "tea" }));
    assert!(event["uid"].as_str().is_some_and(|uid| !uid.is_empty()));
}

#[actix_web::test]
async fn the_publisher_registered_by_the_routes_is_the_one_used() {
    let server = Centrifugo::start(CentrifugoOptions::default());
    let tokens = server.tokens();
    let channel = ADMIN1.name();
    let mut subscriber = NodeClient::spawn(
        NodeSpec::new(server.ws_url())
            .token(tokens.connection("admin", None))
            .subscribe_with_token(channel, tokens.subscription("admin", channel)),
    );
    subscriber.wait_for(|e| e.is_on("subscribed", channel), PATIENCE);

    let realtime = instant::Realtime::builder()
        .config(server.config())
        .channels(CHANNELS.clone())
        .build()
        .expect("instant set up against the test server");
    let app = test::init_service(
        App::new()
            .configure(realtime.routes())
            .service(create_order),
    )
    .await;
    let created = test::TestRequest::post()
        .uri("/orders")
        .set_json(json!({ "item": "coffee" }))
        .to_request();
    assert_eq!(test::call_service(&app, created).await.status(), 200);

    let publication = subscriber.wait_for(|e| e.is_on("publication", channel), PATIENCE);
    let event = publication.data().expect("a publication carries data");
    assert_eq!(event["data"], json!({ "id": 7, "item": "coffee" }));
    assert_eq!(event["site"], server.config().site_slug());
}
