//! The seed's call, `instant::publish(channel, message)`, goes through the publisher an app
//! installs explicitly with `install_global_publisher`, here against a real Centrifugo v6 and a real centrifuge-js
//! subscriber. Its own test binary, so that no other app of the process is set up before.
//!
//! Needs the Centrifugo binary and the Node clients (`cargo xtask test` installs them); the test
//! fails, never skips, without them.

use std::time::Duration;

use instant_testkit::{Centrifugo, CentrifugoOptions, NodeClient, NodeSpec};

const PATIENCE: Duration = Duration::from_secs(20);

#[actix_web::test]
async fn instant_publish_goes_through_the_installed_app() {
    let server = Centrifugo::start(CentrifugoOptions::default());
    let mut subscriber = NodeClient::spawn(
        NodeSpec::new(server.ws_url())
            .token(server.tokens().connection("reader", None))
            .subscribe("news"),
    );
    subscriber.wait_for(|e| e.is_on("subscribed", "news"), PATIENCE);

    let before = instant::publish("news", "before set-up").await;
    assert!(
        matches!(before, Err(instant::PublishError::NotRunning(_))),
        "{before:?}"
    );

    let realtime = instant::Realtime::builder()
        .config(server.config())
        .build()
        .expect("instant set up against the test server");
    let still_before = instant::publish("news", "set up, not installed").await;
    assert!(
        matches!(still_before, Err(instant::PublishError::NotRunning(_))),
        "building an app installs no global publisher by itself: {still_before:?}"
    );
    assert!(
        realtime.install_global_publisher(),
        "the first install wins"
    );
    instant::publish("news", "Hello from the seed's call")
        .event_class("info")
        .data(serde_json::json!({ "n": 1 }))
        .await
        .expect("published through the app's publisher");

    let publication = subscriber.wait_for(|e| e.is_on("publication", "news"), PATIENCE);
    let event = publication.data().expect("a publication carries data");
    assert_eq!(event["message"], "Hello from the seed's call");
    assert_eq!(event["event_class"], "info");
    assert_eq!(event["data"], serde_json::json!({ "n": 1 }));
    assert_eq!(event["site"], server.config().site_slug());
}
