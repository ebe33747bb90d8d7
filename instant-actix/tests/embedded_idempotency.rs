//! The embedded server's API honours `idempotency_key` as Centrifugo v6 does: a publish or a
//! broadcast repeated with the same key on the same channel returns the first result and is not
//! delivered again, so the core's client may retry a publish on another node safely.

mod embedded_support;

use embedded_support::{RawClient, TestServer};
use instant_actix::paths::PREFIX;
use instant_core::{CentrifugoClient, Config, Event, Secret};
use serde_json::{Value, json};

/// The core's Centrifugo client pointed at the embedded server: its base URL is the app's
/// [`PREFIX`], under which the API is mounted.
fn client(server: &TestServer) -> CentrifugoClient {
    let config = Config::builder()
        .secret(Secret::new(
            "unused-secret-0123456789abcdef0123456789".into(),
        ))
        .centrifugo_url(format!("{}{PREFIX}", server.http_url()))
        .api_key(Secret::new("test-api-key".into()))
        .build()
        .unwrap();
    CentrifugoClient::new(&config).unwrap()
}

async fn subscriber(server: &TestServer, channels: &[&str]) -> RawClient {
    let mut subscriber = RawClient::open(&server.ws_url()).await;
    subscriber.connect("").await;
    for channel in channels {
        subscriber
            .call("subscribe", json!({ "channel": channel }))
            .await;
    }
    subscriber
}

/// The next publication's `(channel, message)`.
async fn next_publication(subscriber: &mut RawClient) -> (String, String) {
    let push = subscriber.push().await;
    let message = push["pub"]["data"]["message"].as_str().unwrap_or_default();
    (
        push["channel"].as_str().unwrap_or_default().to_owned(),
        message.to_owned(),
    )
}

#[actix_rt::test]
async fn a_repeated_publish_returns_the_first_result_and_is_delivered_once() {
    let server = TestServer::with_defaults();
    let mut subscriber = subscriber(&server, &["news", "chat"]).await;
    let client = client(&server);

    // The core's client sends the event's uid as the idempotency_key.
    let event = Event::new("site", "news", "once");
    let first = client.publish_event(&event).await.unwrap();
    let again = client.publish_event(&event).await.unwrap();
    assert_eq!(first.offset, Some(1));
    assert_eq!(again, first, "the repeat answers with the first result");

    // The key is per channel: the same key on another channel publishes there.
    let elsewhere = client
        .call(
            "publish",
            json!({"channel": "chat", "data": {"message": "same key, other channel"}, "idempotency_key": event.uid}),
        )
        .await
        .unwrap();
    assert_eq!(elsewhere["offset"], 1);

    // Without a key every publish is delivered.
    for _ in 0..2 {
        client
            .call(
                "publish",
                json!({"channel": "news", "data": {"message": "unkeyed"}}),
            )
            .await
            .unwrap();
    }
    let received = [
        next_publication(&mut subscriber).await,
        next_publication(&mut subscriber).await,
        next_publication(&mut subscriber).await,
        next_publication(&mut subscriber).await,
    ];
    assert_eq!(
        received.map(|(channel, message)| format!("{channel}: {message}")),
        [
            "news: once",
            "chat: same key, other channel",
            "news: unkeyed",
            "news: unkeyed"
        ]
    );
}

#[actix_rt::test]
async fn a_repeated_broadcast_and_batch_publish_nothing_twice() {
    let server = TestServer::with_defaults();
    let mut subscriber = subscriber(&server, &["news", "chat"]).await;
    let client = client(&server);

    let event = Event::new("site", "news", "to both");
    let first = client.broadcast(["news", "chat"], &event).await.unwrap();
    let again = client.broadcast(["news", "chat"], &event).await.unwrap();
    assert_eq!(again, first);
    // Batches carry each event's key too.
    let batched = Event::new("site", "chat", "batched");
    let first_batch = client.batch(std::slice::from_ref(&batched)).await.unwrap();
    let again_batch = client.batch(std::slice::from_ref(&batched)).await.unwrap();
    assert_eq!(again_batch, first_batch);
    let marker = Event::new("site", "news", "marker");
    client.publish_event(&marker).await.unwrap();

    let mut received = Vec::new();
    while received.last().map(|(_, m): &(String, String)| m.as_str()) != Some("marker") {
        received.push(next_publication(&mut subscriber).await);
    }
    let mut received: Vec<String> = received
        .into_iter()
        .map(|(channel, message)| format!("{channel}: {message}"))
        .collect();
    // Separate channels are separate streams: compare without their interleaving.
    received.sort();
    assert_eq!(
        received,
        [
            "chat: batched",
            "chat: to both",
            "news: marker",
            "news: to both"
        ]
    );
    let history: Value = client
        .call("history", json!({"channel": "chat", "limit": 10}))
        .await
        .unwrap();
    assert_eq!(history["publications"].as_array().map(Vec::len), Some(2));
}
