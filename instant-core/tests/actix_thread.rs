//! Awaited calls made from an actix-rt thread (as in an actix-web handler), which run on that
//! thread, and from a plain multi-thread tokio runtime, which go through the client's own thread,
//! against a real Centrifugo v6.
//!
//! These tests need the Centrifugo binary (`cargo xtask test` installs it); without it they fail.

use std::time::Duration;

use instant_core::{Backend, CentrifugoClient, Config, Event, NodeState, PublishReceipt};
use instant_testkit::{Centrifugo, CentrifugoOptions};

/// A URL where nothing listens: a port that was free a moment ago, so connecting is refused.
fn dead_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}")
}

/// Publishes `event` and checks that Centrifugo kept it in the channel's history.
async fn publish_and_find(client: &CentrifugoClient, event: Event) -> PublishReceipt {
    let receipt = client.publish(event.clone()).await.expect("publish");
    let history = client.history(&event.channel, 100).await.expect("history");
    assert!(
        history
            .publications
            .iter()
            .any(|p| p.data["uid"] == event.uid.as_str()),
        "the event is in the channel's history: {history:?}"
    );
    receipt
}

#[test]
fn an_awaited_publish_from_an_actix_rt_system_reaches_centrifugo_with_its_receipt() {
    let server = Centrifugo::start(CentrifugoOptions::default());
    let client = CentrifugoClient::new(&server.config()).unwrap();
    actix_rt::System::new().block_on(async {
        let first = publish_and_find(&client, Event::new("s", "news", "first")).await;
        let second = publish_and_find(&client, Event::new("s", "news", "second")).await;
        let (Some(first), Some(second)) = (first.offset, second.offset) else {
            panic!("history is on, so Centrifugo gives offsets: {first:?} {second:?}");
        };
        assert!(second > first, "offsets grow: {first} then {second}");

        // Several calls in flight at once on this thread, each from a local task of its own.
        let tasks: Vec<_> = (0..20)
            .map(|i| {
                let client = client.clone();
                actix_rt::spawn(async move {
                    client
                        .publish(Event::new("s", "news", format!("task {i}")))
                        .await
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap().expect("publish from a local task");
        }
    });
    // The system is gone; the same client keeps working from elsewhere.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        publish_and_find(&client, Event::new("s", "news", "after")).await;
    });
}

#[test]
fn a_batch_from_an_actix_rt_system_gives_each_event_its_own_receipt_or_error() {
    let server = Centrifugo::start(CentrifugoOptions::default());
    let client = CentrifugoClient::new(&server.config()).unwrap();
    actix_rt::System::new().block_on(async {
        let events = [
            Event::new("s", "news", "one"),
            Event::new("s", "missing:x", "no such namespace"),
            Event::new("s", "news", "two"),
        ];
        let replies = client.batch(&events).await.expect("the batch is answered");
        assert_eq!(replies.len(), 3);
        let (Ok(one), Ok(two)) = (&replies[0], &replies[2]) else {
            panic!("the events on a declared channel are published: {replies:?}");
        };
        let (Some(first), Some(second)) = (one.offset, two.offset) else {
            panic!("history is on, so Centrifugo gives offsets: {replies:?}");
        };
        assert_eq!(second, first + 1, "in the batch's order");
        assert_eq!(one.epoch, two.epoch);
        assert!(one.epoch.as_deref().is_some_and(|epoch| !epoch.is_empty()));
        assert!(
            matches!(
                &replies[1],
                Err(instant_core::PublishError::Server { code: 102, .. })
            ),
            "the event on an unknown namespace fails alone: {replies:?}"
        );
        let history = client.history("news", 10).await.expect("history");
        let uids: Vec<_> = history
            .publications
            .iter()
            .map(|p| &p.data["uid"])
            .collect();
        assert_eq!(uids, [&events[0].uid, &events[2].uid]);
    });
}

#[test]
fn from_an_actix_rt_system_a_call_to_a_dead_node_is_tried_again_on_another() {
    let server = Centrifugo::start(CentrifugoOptions::default());
    let config: Config = server
        .config_builder()
        .centrifugo_urls([dead_url(), server.url()])
        .publish_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let client = CentrifugoClient::new(&config).unwrap();
    actix_rt::System::new().block_on(async {
        // Round robin starts on the dead node: at least one of these goes there first.
        for i in 0..4 {
            publish_and_find(&client, Event::new("s", "news", format!("failover {i}"))).await;
        }
    });
    let health = client.node_health();
    assert!(
        health[0].failures >= 1,
        "the dead node's failures are recorded: {health:?}"
    );
    assert_eq!(health[0].successes, 0, "{health:?}");
    assert!(health[1].successes >= 4, "{health:?}");
    assert_eq!(health[1].state, NodeState::Closed, "{health:?}");
    assert!(client.stats().retried >= 1, "{:?}", client.stats());
}

#[test]
fn the_same_client_works_from_an_actix_rt_system_and_a_multi_thread_tokio_runtime() {
    let server = Centrifugo::start(CentrifugoOptions::default());
    let client = CentrifugoClient::new(&server.config()).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let from_tokio = client.clone();
    runtime.block_on(async move {
        // On the runtime's worker threads, and from its `block_on`.
        let task = tokio::spawn({
            let client = from_tokio.clone();
            async move { publish_and_find(&client, Event::new("s", "news", "tokio task")).await }
        });
        task.await.unwrap();
        publish_and_find(&from_tokio, Event::new("s", "news", "tokio")).await;
    });
    // An actix-rt system on another thread, while the tokio runtime is still alive.
    let from_actix = client.clone();
    std::thread::spawn(move || {
        actix_rt::System::new().block_on(async move {
            publish_and_find(&from_actix, Event::new("s", "news", "actix")).await;
        });
    })
    .join()
    .unwrap();
    runtime.block_on(async {
        publish_and_find(&client, Event::new("s", "news", "tokio again")).await;
    });
    assert_eq!(client.node_health()[0].failures, 0);
}
