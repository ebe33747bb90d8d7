//! Publishing and tokens against a real Centrifugo v6, with centrifuge-js as the subscriber.
//!
//! These tests need the Centrifugo binary and the Node clients (`cargo xtask test` installs both);
//! without them they fail.

use std::sync::Arc;
use std::time::Duration;

use instant_core::{
    Backend, CentrifugoClient, ClientOptions, Event, PublishError, Publisher, Secret,
    SubscriptionClaims, Tokens, now_secs,
};
use instant_testkit::{Centrifugo, CentrifugoOptions, NodeClient, NodeEvent, NodeSpec};
use serde_json::json;

/// Generous: the machines running the suite may be slow and busy; nothing here measures speed.
const WAIT: Duration = Duration::from_secs(20);

fn subscriber(server: &Centrifugo, spec: impl FnOnce(NodeSpec) -> NodeSpec) -> NodeClient {
    let token = server.tokens().connection("alice", None);
    NodeClient::spawn(spec(NodeSpec::new(server.ws_url()).token(token)))
}

#[actix_rt::test]
async fn a_published_event_reaches_a_subscriber_with_every_field_intact() {
    let server = Centrifugo::start(CentrifugoOptions::default());
    let mut client = subscriber(&server, |spec| spec.subscribe("news"));
    client.wait_for(|e| e.is_on("subscribed", "news"), WAIT);

    let backend = Arc::new(CentrifugoClient::new(&server.config()).unwrap());
    let publisher = Publisher::new(backend, "shop");
    let data = json!({"id": 7, "title": "Ünïcode ✓", "tags": ["a", "b"], "nested": {"ok": true}, "none": null});
    let publish = publisher
        .publish("news", "Order shipped")
        .event_class("object edited")
        .data(data.clone());
    let sent = publish.event().clone();
    let receipt = publish.await.expect("publish");
    assert!(
        receipt.offset.is_some(),
        "history is on, so Centrifugo gives an offset"
    );

    let publication = client.wait_for(|e| e.is_on("publication", "news"), WAIT);
    let received = publication.data().expect("publication data");
    assert!(
        received.is_object(),
        "data arrives as a JSON object, not a string: {received}"
    );
    let received: Event = serde_json::from_value(received.clone()).unwrap();
    assert_eq!(received, sent);
    assert_eq!(received.site, "shop");
    assert_eq!(received.channel, "news");
    assert_eq!(received.message, "Order shipped");
    assert_eq!(received.event_class, "object edited");
    assert_eq!(received.data, data);
    assert!(!received.uid.is_empty());
    assert!(received.timestamp > 1_700_000_000_000);
}

#[tokio::test]
async fn batch_broadcast_presence_history_and_info_work() {
    let server = Centrifugo::start(CentrifugoOptions::default());
    let mut client = subscriber(&server, |spec| spec.subscribe("a").subscribe("b"));
    client.wait_for_each("subscribed", &["a", "b"], WAIT);
    let centrifugo = CentrifugoClient::new(&server.config()).unwrap();

    let first = Event::new("s", "a", "first");
    let second = Event::new("s", "b", "second");
    let replies = centrifugo
        .batch(&[first.clone(), second.clone()])
        .await
        .unwrap();
    assert!(replies.iter().all(Result::is_ok), "{replies:?}");
    // Channels are independent streams: the two may arrive in either order.
    let got = client.wait_for_each("publication", &["a", "b"], WAIT);
    assert_eq!(got[0].data().unwrap()["uid"], first.uid);
    assert_eq!(got[1].data().unwrap()["uid"], second.uid);

    let everyone = Event::new("s", "", "to all");
    let replies = centrifugo.broadcast(["a", "b"], &everyone).await.unwrap();
    assert_eq!(replies.len(), 2);
    assert!(replies.iter().all(Result::is_ok), "{replies:?}");
    for got in client.wait_for_each("publication", &["a", "b"], WAIT) {
        assert_eq!(got.data().unwrap()["uid"], everyone.uid);
    }

    let presence = centrifugo.presence("a").await.unwrap();
    assert_eq!(presence.len(), 1);
    assert_eq!(presence.values().next().unwrap().user, "alice");
    let stats = centrifugo.presence_stats("a").await.unwrap();
    assert_eq!((stats.num_clients, stats.num_users), (1, 1));

    let history = centrifugo.history("a", 10).await.unwrap();
    let uids: Vec<_> = history
        .publications
        .iter()
        .map(|p| p.data["uid"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(uids, [first.uid.clone(), everyone.uid.clone()]);
    assert!(!history.epoch.is_empty());

    let info = centrifugo.info().await.unwrap();
    assert_eq!(info.nodes.len(), 1);
    assert!(!info.nodes[0].uid.is_empty());
}

#[tokio::test]
async fn stream_positions_come_in_one_batch_and_match_the_single_answers() {
    let mut options = CentrifugoOptions::default();
    options.namespaces = vec![json!({"name": "live", "history_size": 0})];
    let server = Centrifugo::start(options);
    let centrifugo = CentrifugoClient::new(&server.config()).unwrap();
    for n in 0..3 {
        centrifugo
            .publish_event(&Event::new("s", "orders", format!("order {n}")))
            .await
            .unwrap();
    }
    centrifugo
        .publish_event(&Event::new("s", "stock", "restocked"))
        .await
        .unwrap();

    let channels = ["orders", "live:board", "stock"];
    let positions = centrifugo.stream_positions(&channels).await;
    assert_eq!(positions.len(), 3);
    let orders = positions[0].clone().expect("orders keeps a history");
    assert_eq!(orders.offset, 3);
    assert!(!orders.epoch.is_empty());
    assert_eq!(positions[1], None, "the live namespace keeps no history");
    assert_eq!(positions[2].as_ref().map(|p| p.offset), Some(1));
    for (channel, batched) in channels.iter().zip(&positions) {
        assert_eq!(
            &centrifugo.stream_position(channel).await,
            batched,
            "{channel}"
        );
    }
    assert!(centrifugo.stream_positions(&[]).await.is_empty());
}

#[actix_rt::test]
async fn centrifugo_error_codes_are_typed() {
    let server = Centrifugo::start(CentrifugoOptions::default().presence(false));
    let centrifugo = CentrifugoClient::new(&server.config()).unwrap();
    // No namespace "missing" is configured: 102 unknown channel.
    let err = centrifugo
        .publish(Event::new("s", "missing:room", "m"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, PublishError::Server { code: 102, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("namespace"), "{err}");
    // Presence is off: 108 not available.
    let err = centrifugo.presence_stats("room").await.unwrap_err();
    assert!(
        matches!(err, PublishError::Server { code: 108, .. }),
        "{err:?}"
    );
    // One bad event in a batch fails alone.
    let replies = centrifugo
        .batch(&[
            Event::new("s", "ok", "m"),
            Event::new("s", "missing:x", "m"),
        ])
        .await
        .unwrap();
    assert!(replies[0].is_ok());
    assert!(matches!(
        replies[1],
        Err(PublishError::Server { code: 102, .. })
    ));
}

/// Subscribes one fresh client to `channel` with `token` (or none) and returns the first decisive
/// event: `subscribed`, or a refusal (subscribe error, unsubscribe, disconnect).
fn try_subscribe(server: &Centrifugo, channel: &str, token: Option<String>) -> NodeEvent {
    let mut client = subscriber(server, |spec| match token {
        Some(token) => spec.subscribe_with_token(channel, token),
        None => spec.subscribe(channel),
    });
    client.wait_for(
        |e| {
            e.is_on("subscribed", channel)
                || e.is_on("subscribe_error", channel)
                || e.is_on("unsubscribed", channel)
                || e.is("disconnected")
        },
        WAIT,
    )
}

#[test]
fn private_channels_need_a_valid_subscription_token() {
    let server = Centrifugo::start(CentrifugoOptions::default());
    let tokens = server.tokens();
    let channel = "$orders";

    let no_token = try_subscribe(&server, channel, None);
    assert!(
        no_token.is("unsubscribed") && no_token.code() == Some(103),
        "no token: expected permission denied (103), got {no_token}"
    );

    let ours = try_subscribe(
        &server,
        channel,
        Some(tokens.subscription("alice", channel)),
    );
    assert!(ours.is("subscribed"), "our token: {ours}");

    let now = now_secs();
    let expired = tokens.sign_subscription(&SubscriptionClaims::new(
        "alice",
        channel,
        now - 120,
        now - 60,
    ));
    let refused = try_subscribe(&server, channel, Some(expired));
    assert!(
        refused.is("subscribe_error") && refused.code() == Some(109),
        "expired token: expected token expired (109), got {refused}"
    );

    let wrong_key = Tokens::new(
        Secret::from("not-the-server-secret"),
        Duration::from_secs(60),
    )
    .subscription("alice", channel);
    let refused = try_subscribe(&server, channel, Some(wrong_key));
    assert!(
        refused.is("unsubscribed") && refused.code() == Some(103),
        "token signed with another key: expected permission denied (103), got {refused}"
    );

    let other_channel = tokens.subscription("alice", "$other");
    let refused = try_subscribe(&server, channel, Some(other_channel));
    assert!(
        refused.is("disconnected") && refused.code() == Some(3500),
        "token for another channel: expected disconnect 3500 invalid token, got {refused}"
    );

    let other_user = tokens.subscription("bob", channel);
    let refused = try_subscribe(&server, channel, Some(other_user));
    assert!(
        refused.is("disconnected") && refused.code() == Some(3500),
        "token for another user: expected disconnect 3500 invalid token, got {refused}"
    );
}

#[actix_rt::test]
async fn a_wrong_api_key_is_a_typed_error() {
    let server = Centrifugo::start(CentrifugoOptions::default());
    let config = server
        .config_builder()
        .api_key("wrong-key")
        .build()
        .unwrap();
    let centrifugo = CentrifugoClient::new(&config).unwrap();
    let err = centrifugo
        .publish(Event::new("s", "news", "m"))
        .await
        .unwrap_err();
    assert_eq!(err, PublishError::Unauthorized);
    assert!(!err.is_transient());
    assert_eq!(
        centrifugo.info().await.unwrap_err(),
        PublishError::Unauthorized
    );

    // Fire-and-forget drops at once, without retrying a key that cannot work.
    centrifugo.publish_detached(Event::new("s", "news", "m"));
    centrifugo.flush().await;
    let stats = centrifugo.stats();
    assert_eq!(
        (stats.queued, stats.delivered, stats.dropped, stats.retried),
        (1, 0, 1, 0)
    );
}

#[actix_rt::test]
async fn with_centrifugo_stopped_an_awaited_publish_is_unreachable_and_nothing_panics() {
    let mut server = Centrifugo::start(CentrifugoOptions::default());
    let config = server
        .config_builder()
        .publish_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let centrifugo = CentrifugoClient::with_options(
        &config,
        ClientOptions::default()
            .max_retries(2)
            .retry_delay(Duration::from_millis(50)),
    )
    .unwrap();
    // A first publish leaves a kept-alive connection in the pool.
    centrifugo
        .publish(Event::new("s", "news", "before"))
        .await
        .unwrap();

    server.stop();
    for _ in 0..3 {
        let err = centrifugo
            .publish(Event::new("s", "news", "after"))
            .await
            .unwrap_err();
        assert!(
            matches!(err, PublishError::Unreachable { .. }),
            "expected Unreachable, got {err:?}"
        );
        assert!(err.is_transient());
    }

    centrifugo.publish_detached(Event::new("s", "news", "lost"));
    centrifugo.flush().await;
    let stats = centrifugo.stats();
    assert_eq!(stats.queued, 1);
    assert_eq!(stats.dropped, 1, "{stats:?}");
    assert_eq!(stats.retried, 2, "{stats:?}");

    // Back up: publishing works again on a fresh connection.
    server.restart();
    centrifugo
        .publish(Event::new("s", "news", "again"))
        .await
        .unwrap();
}

#[tokio::test]
async fn ten_thousand_fire_and_forget_events_all_arrive() {
    const EVENTS: u64 = 10_000;
    let server = Centrifugo::start(CentrifugoOptions::default());
    let mut client = subscriber(&server, |spec| spec.subscribe("bulk").quiet_publications());
    client.wait_for(|e| e.is_on("subscribed", "bulk"), WAIT);

    let centrifugo = CentrifugoClient::new(&server.config()).unwrap();
    let publisher = Publisher::new(Arc::new(centrifugo.clone()), "site");
    for i in 0..EVENTS {
        publisher
            .publish("bulk", format!("event {i}"))
            .data(json!({"i": i}))
            .detach();
    }
    centrifugo.flush().await;
    let stats = publisher.stats();
    assert_eq!(stats.queued, EVENTS);
    assert_eq!(stats.dropped, 0, "{stats:?}");
    assert_eq!(stats.delivered, EVENTS, "{stats:?}");

    let last = client.wait_for(
        |e| {
            e.is_on("publication_count", "bulk")
                && e.get("count").and_then(serde_json::Value::as_u64) == Some(EVENTS)
        },
        Duration::from_secs(120),
    );
    assert_eq!(last.get("count").unwrap(), EVENTS);
    assert!(
        client
            .events_seen()
            .iter()
            .all(|e| !e.is("disconnected") && !e.is("unsubscribed")),
        "the subscriber stayed connected"
    );
}
