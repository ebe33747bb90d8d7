//! The embedded server's HTTP API and in-process publishing: the core's `CentrifugoClient` works
//! against it unchanged, keys are checked, errors come back in both of Centrifugo's error modes.

mod embedded_support;

use std::time::Duration;

use embedded_support::{RawClient, TestServer, test_config};
use instant_actix::{EmbeddedOptions, EmbeddedServer};
use instant_core::{
    Backend as _, CentrifugoClient, ChannelSet, Config, Event, PublishError, Secret,
};
use serde_json::{Value, json};

/// Posts to the API; returns the status and the body (JSON when it parses).
async fn post(
    server: &TestServer,
    method: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Value) {
    let mut request =
        awc::Client::default().post(format!("{}/instant/api/{method}", server.http_url()));
    for (name, value) in headers {
        request = request.insert_header((*name, *value));
    }
    let mut response = request.send_body(body.to_owned()).await.expect("request");
    let bytes = response.body().await.expect("body");
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (response.status().as_u16(), value)
}

const KEY: (&str, &str) = ("X-API-Key", "test-api-key");

#[actix_rt::test]
async fn the_core_centrifugo_client_works_against_the_embedded_server() {
    let mut options = EmbeddedOptions::default();
    options.channel_defaults.presence = true;
    let server = TestServer::start(test_config(), options);
    let mut subscriber = RawClient::open(&server.ws_url()).await;
    subscriber.connect("").await;
    subscriber
        .call("subscribe", json!({"channel": "news"}))
        .await;

    let config = Config::builder()
        .secret(Secret::new(
            "unused-secret-0123456789abcdef0123456789".into(),
        ))
        // The embedded server answers Centrifugo's API under the app's `/instant` prefix.
        .centrifugo_url(format!("{}/instant", server.http_url()))
        .api_key(Secret::new("test-api-key".into()))
        .build()
        .unwrap();
    let client = CentrifugoClient::new(&config).unwrap();

    let event = Event::new("site", "news", "hello").with_event_class("info");
    let receipt = client.publish_event(&event).await.unwrap();
    assert_eq!(receipt.offset, Some(1));
    assert!(receipt.epoch.is_some());
    let push = subscriber.push().await;
    assert_eq!(push["pub"]["data"], serde_json::to_value(&event).unwrap());

    // A new event: the same one again would be recognised by its idempotency key.
    let event = Event::new("site", "news", "hello again");
    let results = client
        .broadcast(["news", "chat", "nowhere"], &event)
        .await
        .unwrap();
    assert_eq!(results[0].as_ref().unwrap().offset, Some(2));
    assert_eq!(results[1].as_ref().unwrap().offset, Some(1));
    assert!(matches!(
        results[2],
        Err(PublishError::Server { code: 102, .. })
    ));

    let batch = client
        .batch(&[
            Event::new("site", "chat", "one"),
            Event::new("site", "nowhere", "two"),
        ])
        .await
        .unwrap();
    assert_eq!(batch[0].as_ref().unwrap().offset, Some(2));
    assert!(matches!(
        batch[1],
        Err(PublishError::Server { code: 102, .. })
    ));

    let presence = client.presence("news").await.unwrap();
    assert_eq!(presence.len(), 1);
    let stats = client.presence_stats("news").await.unwrap();
    assert_eq!((stats.num_clients, stats.num_users), (1, 1));
    let history = client.history("news", 10).await.unwrap();
    assert_eq!(history.publications.len(), 2);
    assert_eq!(history.offset, 2);
    let info = client.info().await.unwrap();
    assert_eq!(info.nodes[0].num_clients, 1);

    let missing = client
        .publish_event(&Event::new("site", "nowhere", "x"))
        .await
        .unwrap_err();
    assert!(
        matches!(missing, PublishError::Server { code: 102, .. }),
        "{missing:?}"
    );
}

#[actix_rt::test]
async fn the_api_key_is_required_in_either_header() {
    let server = TestServer::with_defaults();
    let body = r#"{"channel":"news","data":{"a":1}}"#;
    assert_eq!(post(&server, "publish", &[], body).await.0, 401);
    assert_eq!(
        post(&server, "publish", &[("X-API-Key", "wrong")], body)
            .await
            .0,
        401
    );
    let (status, answer) = post(&server, "publish", &[KEY], body).await;
    assert_eq!(
        (status, answer["result"]["offset"].clone()),
        (200, json!(1))
    );
    let (status, answer) = post(
        &server,
        "publish",
        &[("Authorization", "apikey test-api-key")],
        body,
    )
    .await;
    assert_eq!(
        (status, answer["result"]["offset"].clone()),
        (200, json!(2))
    );

    // Without a configured key the API stays closed.
    let keyless = TestServer::start(
        Config::builder()
            .secret(Secret::new("s-0123456789abcdef0123456789abcdef".into()))
            .build()
            .unwrap(),
        EmbeddedOptions::default(),
    );
    assert_eq!(
        post(&keyless, "info", &[("X-API-Key", "")], "{}").await.0,
        401
    );
}

#[actix_rt::test]
async fn errors_come_back_in_centrifugos_shapes() {
    let mut options = EmbeddedOptions::default();
    options.channel_defaults.presence = true;
    let server = TestServer::start(test_config(), options);
    let transport = ("X-Centrifugo-Error-Mode", "transport");
    let no_data = r#"{"channel":"news"}"#;
    assert_eq!(
        post(&server, "publish", &[KEY], no_data).await,
        (
            200,
            json!({"error": {"code": 107, "message": "bad request"}})
        )
    );
    assert_eq!(
        post(&server, "publish", &[KEY, transport], no_data).await,
        (400, json!({"code": 107, "message": "bad request"}))
    );
    let unknown = r#"{"channel":"nowhere","data":{}}"#;
    assert_eq!(
        post(&server, "publish", &[KEY, transport], unknown).await,
        (404, json!({"code": 102, "message": "unknown channel"}))
    );
    assert_eq!(post(&server, "publish", &[KEY], "not json").await.0, 400);
    assert_eq!(post(&server, "subscribe", &[KEY], "{}").await.0, 404);
    let get = awc::Client::default()
        .get(format!("{}/instant/api/publish", server.http_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(get.status().as_u16(), 405);

    let (status, answer) = post(
        &server,
        "batch",
        &[KEY],
        r#"{"commands":[{"publish":{"channel":"chat","data":1}},{"presence_stats":{"channel":"chat"}},{"publish":{"channel":"chat"}}]}"#,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(answer["replies"][0]["publish"]["offset"], 1);
    assert_eq!(answer["replies"][1]["presence_stats"]["num_clients"], 0);
    assert_eq!(answer["replies"][2]["error"]["code"], 107);
}

#[actix_rt::test]
async fn in_process_publishing_reaches_subscribers_without_http() {
    let server = TestServer::with_defaults();
    let mut subscriber = RawClient::open(&server.ws_url()).await;
    subscriber.connect("").await;
    subscriber
        .call("subscribe", json!({"channel": "chat"}))
        .await;

    let event = Event::new("site", "chat", "saved")
        .with_event_class("object created")
        .with_data(json!({"id": 7}));
    let receipt = server.server.publish(event.clone()).await.unwrap();
    assert_eq!(receipt.offset, Some(1));
    let push = subscriber.push().await;
    assert_eq!(push["channel"], "chat");
    assert_eq!(push["pub"]["offset"], 1);
    assert_eq!(push["pub"]["data"], serde_json::to_value(&event).unwrap());

    server
        .server
        .publish_detached(Event::new("site", "chat", "detached"));
    assert_eq!(
        subscriber.push().await["pub"]["data"]["message"],
        "detached"
    );

    let refused = server
        .server
        .publish(Event::new("site", "undeclared", "x"))
        .await
        .unwrap_err();
    assert!(matches!(refused, PublishError::Server { code: 102, .. }));
    let stats = server.server.stats();
    assert_eq!((stats.queued, stats.delivered, stats.dropped), (3, 2, 1));
}

#[test]
fn a_channel_without_history_publishes_without_an_offset() {
    let mut options = EmbeddedOptions::default();
    options.channel_defaults.history_size = 0;
    let server = EmbeddedServer::with_options(
        &test_config(),
        ChannelSet::new([instant_core::Channel::new("news", instant_core::Level::Public).unwrap()])
            .unwrap(),
        options,
    );
    let receipt = futures_executor(server.publish(Event::new("s", "news", "m"))).unwrap();
    assert_eq!(receipt.offset, None);
    assert_eq!(receipt.epoch, None);
}

/// Runs a ready future (in-process publishing never waits).
fn futures_executor<F: std::future::IntoFuture>(future: F) -> F::Output {
    actix_rt::System::new().block_on(async move {
        tokio::time::timeout(Duration::from_secs(5), future.into_future())
            .await
            .expect("in-process publishing does not wait")
    })
}
