//! Faults: Centrifugo killed mid-stream and started again on the same port; events queued for
//! fire-and-forget delivery flushed on shutdown.
//!
//! "Received" is what the restarted Centrifugo holds in the channel's history, which is what a
//! subscriber gets. Needs the Centrifugo binary; fails, never skips, without it.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use instant_core::{CentrifugoClient, ClientOptions, PublishError, Publisher};
use instant_testkit::{Centrifugo, CentrifugoOptions};

/// How long the server stays down.
const OUTAGE: Duration = Duration::from_secs(2);

/// Generous: only a bound on waiting, nothing is measured against it.
const WAIT: Duration = Duration::from_secs(30);

fn server() -> Centrifugo {
    Centrifugo::start(
        CentrifugoOptions::default()
            .presence(false)
            .join_leave(false)
            .history(1000, Duration::from_secs(600)),
    )
}

fn start_publisher(
    server: &Centrifugo,
    queue_capacity: usize,
) -> (Publisher, Arc<CentrifugoClient>) {
    let mut options = ClientOptions::default();
    options.queue_capacity = queue_capacity;
    // Keep retrying through the outage: 100 ms doubling, 8 rounds (over 25 s in all).
    options.max_retries = 8;
    options.retry_delay = Duration::from_millis(100);
    let client = Arc::new(CentrifugoClient::with_options(&server.config(), options).unwrap());
    (Publisher::new(client.clone(), "faults"), client)
}

/// The messages in the channel's history.
async fn received(client: &CentrifugoClient, channel: &str) -> BTreeSet<String> {
    let history = client.history(channel, 1000).await.expect("history");
    history
        .publications
        .iter()
        .map(|p| p.data["message"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Publishes awaited until one succeeds; every failure must be a transient, typed one.
async fn publish_until_accepted(publisher: &Publisher, channel: &str, message: &str) -> usize {
    let started = Instant::now();
    let mut failures = 0;
    loop {
        match publisher.publish(channel, message).await {
            Ok(_) => return failures,
            Err(error) => {
                assert!(error.is_transient(), "not a transient error: {error:?}");
                failures += 1;
            }
        }
        assert!(
            started.elapsed() < WAIT,
            "no publish accepted after the restart"
        );
        actix_rt::time::sleep(Duration::from_millis(100)).await;
    }
}

#[actix_rt::test]
async fn a_restart_loses_nothing_the_queue_held_and_counts_what_it_could_not_hold() {
    // Within capacity: 200 queued during the outage, room for 1,000.
    let mut server = server();
    let (publisher, client) = start_publisher(&server, 1000);
    for n in 0..20 {
        publisher
            .publish("within", format!("before {n}"))
            .await
            .expect("up");
    }
    server.stop();
    let error = publisher
        .publish("within", "during")
        .await
        .expect_err("the server is down");
    assert!(
        matches!(
            error,
            PublishError::Unreachable { .. } | PublishError::Timeout(_)
        ),
        "{error:?}"
    );
    let outage = Instant::now();
    let mut sent = BTreeSet::new();
    for n in 0..200 {
        let message = format!("queued {n}");
        publisher.publish("within", message.clone()).detach();
        sent.insert(message);
    }
    std::thread::sleep(OUTAGE.saturating_sub(outage.elapsed()));
    server.restart();
    let failures_after = publish_until_accepted(&publisher, "within", "after").await;
    publisher.flush().await;
    let stats = publisher.stats();
    let got = received(&client, "within").await;
    let lost: Vec<_> = sent.difference(&got).collect();
    eprintln!(
        "within capacity: 200 queued during a {OUTAGE:?} outage, {} lost, stats {stats:?}, \
         {failures_after} awaited publishes refused after the restart",
        lost.len()
    );
    assert!(lost.is_empty(), "lost {lost:?}");
    assert!(got.contains("after"));
    assert_eq!(stats.dropped, 0, "{stats:?}");
    assert_eq!(stats.delivered, 200, "{stats:?}");

    // Beyond capacity: 500 handed over with room for 100; every one delivered or counted.
    let (small, client) = start_publisher(&server, 100);
    small.publish("beyond", "first").await.expect("up");
    server.stop();
    let mut sent = BTreeSet::new();
    for n in 0..500 {
        let message = format!("queued {n}");
        small.publish("beyond", message.clone()).detach();
        sent.insert(message);
    }
    std::thread::sleep(OUTAGE);
    server.restart();
    publish_until_accepted(&small, "beyond", "after").await;
    small.flush().await;
    let stats = small.stats();
    let got = received(&client, "beyond").await;
    let delivered = sent.intersection(&got).count() as u64;
    eprintln!(
        "beyond capacity: 500 handed over with room for 100, {delivered} delivered, {} dropped \
         and counted, stats {stats:?}",
        stats.dropped
    );
    assert!(stats.dropped > 0, "{stats:?}");
    assert_eq!(delivered + stats.dropped, 500, "{stats:?}");
    assert_eq!(stats.delivered, delivered, "{stats:?}");
}

#[actix_rt::test]
async fn flush_delivers_every_queued_event_before_shutdown() {
    let server = server();
    let (publisher, client) = start_publisher(&server, 10_000);
    let mut sent = BTreeSet::new();
    for n in 0..1000 {
        let message = format!("event {n}");
        publisher.publish("shutdown", message.clone()).detach();
        sent.insert(message);
    }
    publisher.flush().await;
    // Right after the flush, before anything else could deliver them.
    let stats = publisher.stats();
    assert_eq!(stats.delivered, 1000, "{stats:?}");
    assert_eq!(stats.dropped, 0, "{stats:?}");
    drop(publisher);
    let got = received(&client, "shutdown").await;
    assert_eq!(got, sent);
}
