//! The scaled-out set-up of the README's "Scaling out": one Redis, two Centrifugo nodes configured
//! by `instant genconfig --engine redis`, and the app's publisher given both nodes' API addresses
//! (`centrifugo_urls` in `instant.toml`). Events, presence and history are shared by the nodes; a
//! killed node costs no event and repeats none; a node that comes back is used again.
//!
//! Needs Centrifugo, `redis-server` and the Node clients (`cargo xtask test` installs them);
//! without them it fails.

mod support;

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use instant_core::{
    CentrifugoClient, ClientOptions, Config, Event, NodeState, PublishError, Secret, Tokens,
};
use instant_testkit::{Balancer, Centrifugo, NodeClient, NodeEvent, NodeSpec, Redis};
use serde_json::{Value, json};
use support::{free_port, instant, run, stderr};

const SECRET: &str = "cluster-test-secret-0123456789-abcdefghij";
const API_KEY: &str = "cluster-test-api-key";
const WAIT: Duration = Duration::from_secs(15);
/// Channels of the `cluster` namespace: history, recovery and presence on. Presence is asked for
/// explicitly: channels without it answer presence requests with code 108.
const CHANNELS: [&str; 4] = [
    "cluster:feed",
    "cluster:presence",
    "cluster:recover",
    "cluster:failover",
];

/// Redis, two Centrifugo nodes on it, and the app's settings naming both.
struct Cluster {
    // Dropped in this order: the nodes before their Redis.
    a: Centrifugo,
    b: Centrifugo,
    _redis: Redis,
    config: Config,
    _dir: tempfile::TempDir,
}

impl Cluster {
    /// The README's recipe: `instant.toml` with `centrifugo_urls`, one
    /// `instant genconfig --engine redis --redis-url … --port …` per node, `centrifugo -c`.
    fn start() -> Self {
        let redis = Redis::start();
        let dir = tempfile::tempdir().unwrap();
        let (port_a, port_b) = (free_port(), free_port());
        let channels: String = CHANNELS
            .iter()
            .map(|name| {
                format!(
                    "\n[[channels]]\nname = \"{name}\"\npresence = true\nhistory_size = 100\nhistory_ttl = \"5m\"\nrecover = true\n"
                )
            })
            .collect();
        fs::write(
            dir.path().join("instant.toml"),
            format!(
                "secret = \"{SECRET}\"\ncentrifugo_api_key = \"{API_KEY}\"\n\
                 centrifugo_urls = [\"http://127.0.0.1:{port_a}\", \"http://127.0.0.1:{port_b}\"]\n\
                 publish_timeout = \"2s\"\n{channels}"
            ),
        )
        .unwrap();
        let node_config = |name: &str, port: u16| -> PathBuf {
            let output = run(instant(dir.path()).args([
                "genconfig",
                "--engine",
                "redis",
                "--redis-url",
                &redis.url(),
                "--port",
                &port.to_string(),
                "--address",
                "127.0.0.1",
                "--output",
                name,
            ]));
            assert!(output.status.success(), "{}", stderr(&output));
            dir.path().join(name)
        };
        let (file_a, file_b) = (
            node_config("node-a.json", port_a),
            node_config("node-b.json", port_b),
        );
        let config = Config::from_toml_file(dir.path().join("instant.toml")).unwrap();
        assert_eq!(
            config.centrifugo_urls(),
            [
                format!("http://127.0.0.1:{port_a}"),
                format!("http://127.0.0.1:{port_b}")
            ]
        );
        Self {
            a: Centrifugo::start_from_file(&file_a),
            b: Centrifugo::start_from_file(&file_b),
            _redis: redis,
            config,
            _dir: dir,
        }
    }

    /// The app's publisher over both nodes, with a quick circuit breaker for the test.
    fn publisher(&self) -> CentrifugoClient {
        CentrifugoClient::with_options(
            &self.config,
            ClientOptions::default()
                .failure_threshold(2)
                .open_delay(Duration::from_millis(300)),
        )
        .unwrap()
    }

    /// A client of one node only, to ask that node itself.
    fn node_api(node: &Centrifugo) -> CentrifugoClient {
        let config = Config::builder()
            .secret(SECRET)
            .api_key(API_KEY)
            .centrifugo_url(node.url())
            .build()
            .unwrap();
        CentrifugoClient::new(&config).unwrap()
    }

    fn tokens(&self) -> Tokens {
        Tokens::new(Secret::new(SECRET.to_owned()), Duration::from_secs(600))
    }

    fn subscriber(&self, ws_url: &str, user: &str, channel: &str) -> NodeClient {
        let mut client = NodeClient::spawn(
            NodeSpec::new(ws_url)
                .token(self.tokens().connection(user, None))
                .subscribe(channel),
        );
        client.wait_for(|e| e.is_on("subscribed", channel), WAIT);
        client
    }
}

fn event(channel: &str, message: impl Into<String>) -> Event {
    Event::new("cluster", channel, message)
}

fn uid_of(publication: &NodeEvent) -> String {
    publication
        .data()
        .and_then(|data| data.get("uid"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// The `uid`s of `channel`'s publications the client reports within `quiet` of each other, in
/// order, until `until` holds for them or `WAIT` passes.
fn collect_uids(
    client: &mut NodeClient,
    channel: &str,
    quiet: Duration,
    mut until: impl FnMut(&[String]) -> bool,
) -> Vec<String> {
    let deadline = Instant::now() + WAIT;
    let mut uids = Vec::new();
    while Instant::now() < deadline {
        match client.try_wait_for(|e| e.is_on("publication", channel), quiet) {
            Some(publication) => uids.push(uid_of(&publication)),
            None if until(&uids) => break,
            None => {}
        }
    }
    uids
}

#[actix_rt::test]
async fn nodes_on_one_redis_share_events_presence_and_history() {
    let cluster = Cluster::start();
    let publisher = cluster.publisher();

    // Every event published through node A reaches a subscriber of node B.
    let mut on_b = cluster.subscriber(&cluster.b.ws_url(), "bob", "cluster:feed");
    let through_a = Cluster::node_api(&cluster.a);
    let mut sent = Vec::new();
    for n in 0..20 {
        let event = event("cluster:feed", format!("feed {n}"));
        through_a
            .publish_event(&event)
            .await
            .expect("publish through A");
        sent.push(event.uid);
    }
    let received = collect_uids(
        &mut on_b,
        "cluster:feed",
        Duration::from_millis(300),
        |uids| uids.len() >= sent.len(),
    );
    // Every one, once. The order is not compared: a subscriber on node B once saw three of
    // them after a later one (their offsets in publishing order), in the order node B read them
    // from Redis.
    let (mut received, mut sent) = (received, sent);
    received.sort_unstable();
    sent.sort_unstable();
    assert_eq!(received, sent, "{}", on_b.report());

    // The same event (same uid, so the same idempotency_key) published again through node B
    // returns the first result and is not delivered again: what makes a retry on another node safe.
    let again = event("cluster:feed", "once");
    let first = through_a.publish_event(&again).await.expect("publish");
    let second = Cluster::node_api(&cluster.b)
        .publish_event(&again)
        .await
        .expect("the same publish through B");
    assert_eq!(first, second, "the second answer is the first one's");
    let marker = event("cluster:feed", "marker");
    through_a.publish_event(&marker).await.expect("publish");
    let received = collect_uids(
        &mut on_b,
        "cluster:feed",
        Duration::from_millis(300),
        |uids| uids.contains(&marker.uid),
    );
    assert_eq!(received, [again.uid.clone(), marker.uid.clone()]);

    // Presence on the opted-in channel lists the clients of both nodes, whichever node is asked.
    let mut ann = NodeClient::spawn(
        NodeSpec::new(cluster.a.ws_url())
            .token(cluster.tokens().connection("ann", None))
            .subscribe("cluster:presence"),
    );
    let ann_id = ann
        .wait_for(|e| e.is("connected"), WAIT)
        .get("client")
        .cloned();
    ann.wait_for(|e| e.is_on("subscribed", "cluster:presence"), WAIT);
    let mut bob = NodeClient::spawn(
        NodeSpec::new(cluster.b.ws_url())
            .token(cluster.tokens().connection("bob", None))
            .subscribe("cluster:presence"),
    );
    let bob_id = bob
        .wait_for(|e| e.is("connected"), WAIT)
        .get("client")
        .cloned();
    bob.wait_for(|e| e.is_on("subscribed", "cluster:presence"), WAIT);
    let expected: HashSet<String> = [ann_id, bob_id]
        .into_iter()
        .map(|id| id.and_then(|v| v.as_str().map(str::to_owned)).unwrap())
        .collect();
    for node in [&cluster.a, &cluster.b] {
        let presence = Cluster::node_api(node)
            .presence("cluster:presence")
            .await
            .expect("presence");
        let clients: HashSet<String> = presence.keys().cloned().collect();
        assert_eq!(clients, expected, "presence asked of {}", node.url());
        let users: HashSet<&str> = presence.values().map(|c| c.user.as_str()).collect();
        assert_eq!(users, HashSet::from(["ann", "bob"]));
    }

    // A subscriber of node B whose connection drops, and who comes back through node A, recovers
    // what it missed from the shared history.
    let balancer = Balancer::start(cluster.b.port());
    let mut roamer = cluster.subscriber(&balancer.ws_url(), "carol", "cluster:recover");
    let first = event("cluster:recover", "before the drop");
    publisher.publish_event(&first).await.expect("publish");
    let seen = roamer.wait_for(|e| e.is_on("publication", "cluster:recover"), WAIT);
    assert_eq!(uid_of(&seen), first.uid);

    balancer.cut();
    roamer.wait_for(|e| e.is_on("subscribing", "cluster:recover"), WAIT);
    let mut missed = Vec::new();
    for n in 0..5 {
        let event = event("cluster:recover", format!("missed {n}"));
        publisher
            .publish_event(&event)
            .await
            .expect("publish while away");
        missed.push(event.uid);
    }
    balancer.route_to(cluster.a.port());
    let back = roamer.wait_for(|e| e.is_on("subscribed", "cluster:recover"), WAIT);
    assert_eq!(back.get("recovered"), Some(&json!(true)), "{back}");
    let recovered = collect_uids(
        &mut roamer,
        "cluster:recover",
        Duration::from_millis(300),
        |uids| uids.len() >= missed.len(),
    );
    assert_eq!(recovered, missed, "{}", roamer.report());
    assert!(balancer.forwarded_to(cluster.a.port()) >= 1);
}

#[actix_rt::test]
async fn a_killed_node_costs_no_event_repeats_none_and_is_used_again_when_back() {
    let mut cluster = Cluster::start();
    let publisher = cluster.publisher();
    let mut on_b = cluster.subscriber(&cluster.b.ws_url(), "bob", "cluster:failover");

    // Four concurrent streams of awaited publishes; node A is killed while they run.
    const STREAMS: usize = 4;
    const PER_STREAM: usize = 40;
    let done = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for stream in 0..STREAMS {
        let publisher = publisher.clone();
        let done = Arc::clone(&done);
        tasks.push(actix_rt::spawn(async move {
            let mut outcomes: Vec<(String, Result<(), PublishError>)> = Vec::new();
            for n in 0..PER_STREAM {
                let event = event("cluster:failover", format!("stream {stream} event {n}"));
                let outcome = publisher.publish_event(&event).await.map(drop);
                outcomes.push((event.uid, outcome));
                done.fetch_add(1, Ordering::Relaxed);
                actix_rt::time::sleep(Duration::from_millis(5)).await;
            }
            outcomes
        }));
    }
    let kill_after = STREAMS * PER_STREAM / 3;
    while done.load(Ordering::Relaxed) < kill_after {
        actix_rt::time::sleep(Duration::from_millis(2)).await;
    }
    cluster.a.stop();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.extend(task.await.unwrap());
    }
    let published: HashSet<&str> = outcomes
        .iter()
        .filter(|(_, outcome)| outcome.is_ok())
        .map(|(uid, _)| uid.as_str())
        .collect();
    let failed: Vec<(&str, &PublishError)> = outcomes
        .iter()
        .filter_map(|(uid, outcome)| outcome.as_ref().err().map(|e| (uid.as_str(), e)))
        .collect();
    assert!(
        failed.len() <= 2,
        "with node B up, awaited publishes move to it: {failed:?}"
    );

    let received = collect_uids(
        &mut on_b,
        "cluster:failover",
        Duration::from_millis(500),
        |uids| published.iter().all(|uid| uids.iter().any(|u| u == uid)),
    );
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for uid in &received {
        *counts.entry(uid.as_str()).or_default() += 1;
    }
    let repeated: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(repeated.is_empty(), "events delivered twice: {repeated:?}");
    let lost: Vec<_> = published
        .iter()
        .filter(|uid| !counts.contains_key(**uid))
        .collect();
    assert!(
        lost.is_empty(),
        "published events never delivered: {lost:?}"
    );
    for uid in counts.keys() {
        assert!(
            published.contains(uid) || failed.iter().any(|(f, _)| f == uid),
            "{uid} was never published"
        );
    }
    let health = publisher.node_health();
    eprintln!(
        "{} published, {} failed, {} received; health after the kill: {health:?}",
        published.len(),
        failed.len(),
        received.len()
    );
    assert_eq!(health[0].url, cluster.a.url());
    assert_ne!(health[0].state, NodeState::Closed, "{health:?}");
    assert!(health[0].failures >= 1, "{health:?}");
    assert_eq!(health[1].state, NodeState::Closed, "{health:?}");

    // Node A comes back on the same port: a probe closes its breaker and it takes publishes again.
    cluster.a.restart();
    let mut on_a = cluster.subscriber(&cluster.a.ws_url(), "ann", "cluster:failover");
    let answered_before = health[0].successes;
    let deadline = Instant::now() + WAIT;
    let mut after = Vec::new();
    loop {
        let event = event("cluster:failover", "after the restart");
        publisher
            .publish_event(&event)
            .await
            .expect("publish after the restart");
        after.push(event.uid);
        let health = publisher.node_health();
        if health[0].state == NodeState::Closed && health[0].successes > answered_before {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "node A is not used again: {health:?}"
        );
        actix_rt::time::sleep(Duration::from_millis(50)).await;
    }
    let on_a_uids = collect_uids(
        &mut on_a,
        "cluster:failover",
        Duration::from_millis(300),
        |uids| uids.len() >= after.len(),
    );
    assert_eq!(on_a_uids, after, "{}", on_a.report());
    let info = Cluster::node_api(&cluster.a)
        .info()
        .await
        .expect("node A's own /api/info");
    assert_eq!(info.nodes.len(), 2, "both nodes see each other: {info:?}");
}
