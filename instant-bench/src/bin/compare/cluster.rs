//! Comparison 6: delivered events per second through one Centrifugo v6 node, and through two
//! nodes sharing one Redis, published by instant's `Publisher` given the nodes' API addresses
//! (`centrifugo_urls`), with the subscribers spread over the nodes.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use instant_bench::{CHANNEL, Subscribers};
use instant_core::{CentrifugoClient, Config, Publisher};
use instant_testkit::{Centrifugo, Redis};
use serde_json::json;

use crate::Plan;
use crate::report::{Measure, Ratio, Section, Unit};

const SECRET: &str = "cluster-benchmark-secret-0123456789abcdef";
const API_KEY: &str = "cluster-benchmark-api-key-0123456789abcdef";
/// Subscriber groups (client threads).
const GROUPS: usize = 2;

/// A free loopback port (another process may take it before Centrifugo binds it; then
/// Centrifugo fails to start and the run fails loudly).
fn free_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Writes a Centrifugo v6 configuration for one node of a Redis-backed cluster; returns its path.
///
/// The channels keep instant's defaults (history of 100 for five minutes, recovery on, presence
/// and join/leave off); anonymous clients may connect and subscribe, as the benchmark's
/// subscribers do.
fn node_config(dir: &Path, name: &str, port: u16, redis: &Redis) -> PathBuf {
    let config = json!({
        "http_server": { "address": "127.0.0.1", "port": port },
        "client": {
            "token": { "hmac_secret_key": SECRET },
            "allowed_origins": ["*"],
            "allow_anonymous_connect_without_token": true,
        },
        "http_api": { "key": API_KEY },
        "channel": {
            "without_namespace": {
                "allow_subscribe_for_client": true,
                "allow_subscribe_for_anonymous": true,
                "history_size": 100,
                "history_ttl": "300s",
                "force_recovery": true,
            },
        },
        "engine": { "type": "redis", "redis": { "address": redis.address() } },
        "health": { "enabled": true },
        "usage_stats": { "disabled": true },
        "log": { "level": "error" },
    });
    let path = dir.join(name);
    std::fs::write(&path, config.to_string())
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    path
}

/// One Redis, `nodes` Centrifugo nodes on it, a publisher over all of them and subscribers
/// spread evenly over the nodes.
struct Cluster {
    // Dropped in this order: subscribers, publisher, nodes, then Redis.
    subscribers: Vec<Subscribers>,
    publisher: Publisher,
    _nodes: Vec<Centrifugo>,
    _redis: Redis,
    _dir: PathBuf,
}

impl Cluster {
    fn start(root: &Path, nodes: usize, subscribers: usize) -> Self {
        let redis = Redis::start();
        let dir = root.join(format!("target/bench-cluster/{nodes}-nodes"));
        std::fs::create_dir_all(&dir)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        let started: Vec<Centrifugo> = (0..nodes)
            .map(|i| {
                let file = node_config(&dir, &format!("node-{i}.json"), free_port(), &redis);
                Centrifugo::start_from_file(&file)
            })
            .collect();
        let config = Config::builder()
            .secret(SECRET)
            .api_key(API_KEY)
            .centrifugo_urls(started.iter().map(Centrifugo::url))
            .site_slug("bench")
            .build()
            .expect("a valid configuration");
        let client = CentrifugoClient::new(&config).expect("a Centrifugo client");
        let publisher = Publisher::new(Arc::new(client), "bench");
        // Two groups of subscribers, each on a client thread of its own, whatever the number of
        // nodes: group i connects to node i % nodes. The client side is then the same for one
        // node and for two.
        let subscribers = (0..GROUPS)
            .map(|i| Subscribers::connect(&started[i % nodes].ws_url(), subscribers / GROUPS))
            .collect();
        Self {
            subscribers,
            publisher,
            _nodes: started,
            _redis: redis,
            _dir: dir,
        }
    }

    /// How many subscribers there are in all.
    fn subscribers(&self) -> u64 {
        self.subscribers.iter().map(Subscribers::len).sum()
    }

    /// Publishes `k` events fire-and-forget through the publisher (which batches them and sends
    /// the batches round robin to the nodes) and returns the seconds until every subscriber on
    /// every node has received all of them.
    fn round(&mut self, k: u64) -> f64 {
        for subscribers in &mut self.subscribers {
            subscribers.expect(k);
        }
        let start = Instant::now();
        for n in 0..k {
            self.publisher
                .publish(CHANNEL, format!("Order {n} was shipped"))
                .event_class("object edited")
                .data(json!({"id": n, "model": "shop.Order", "status": "shipped"}))
                .detach();
        }
        for subscribers in &self.subscribers {
            subscribers.wait();
        }
        start.elapsed().as_secs_f64()
    }
}

pub(crate) fn run(plan: &Plan) -> Section {
    let (subscribers, k) = if plan.smoke { (20, 5) } else { (1_000, 100) };
    println!(
        "compare: cluster, {subscribers} subscribers, {k} events per run, {} repetitions",
        plan.reps
    );
    let mut one = Cluster::start(&plan.root, 1, subscribers);
    let mut two = Cluster::start(&plan.root, 2, subscribers);
    // One unmeasured round each: connections, Redis scripts and the publisher's thread warm up.
    one.round(k);
    two.round(k);
    let mut one_samples = Vec::new();
    let mut two_samples = Vec::new();
    for rep in 0..plan.reps {
        one_samples.push(one.round(k));
        two_samples.push(two.round(k));
        println!(
            "compare: cluster rep={}: 1 node {}, 2 nodes {}",
            rep + 1,
            crate::report::seconds(one_samples[rep]),
            crate::report::seconds(two_samples[rep])
        );
    }
    let deliveries = (k * one.subscribers()) as f64;
    let failed = one.publisher.failed_publishes() + two.publisher.failed_publishes();
    assert_eq!(failed, 0, "publishes failed during the cluster comparison");
    drop(one);
    drop(two);

    let half = subscribers / GROUPS;
    let size = format!("{k} events × {subscribers} subscribers");
    let a = Measure {
        label: "1 Centrifugo node, Redis engine".to_owned(),
        size: size.clone(),
        samples: one_samples,
        work: deliveries,
    };
    let b = Measure {
        label: "2 Centrifugo nodes, one Redis".to_owned(),
        size,
        samples: two_samples,
        work: deliveries,
    };
    // Deliveries per second, 2 nodes over 1 node: the time of one over the time of two.
    let ratio = Ratio::of(
        "2 nodes / 1 node (delivered events per second)",
        &a,
        &b,
        None,
    );
    Section {
        title: "6. Centrifugo cluster: one node and two nodes sharing one Redis".to_owned(),
        chart: "cluster.svg".to_owned(),
        intro: vec![format!(
            "Redis (Debian's `redis-server`) and Centrifugo v6 nodes with its Redis engine; \
             {subscribers} anonymous WebSocket subscribers of one channel, in two groups of \
             {half} on two client threads: both groups on the one node, or one group on each of \
             the two nodes. instant's `Publisher`, over a `CentrifugoClient` \
             given every node's API address (`centrifugo_urls`), publishes {k} events \
             fire-and-forget: its worker batches them and sends each batch to the next node, \
             round robin; each node publishes into Redis, and every node delivers to its own \
             subscribers. Each figure is the time from the first publish until every subscriber \
             on every node has received all {k} events; the rate is delivered events \
             (publications × subscribers) per second. Channels keep instant's defaults: history \
             of 100 for five minutes, recovery on, presence off."
        )],
        setup: vec![
            format!(
                "Centrifugo: {}; Redis: {}",
                crate::version_of(
                    &instant_testkit::centrifugo_binary().to_string_lossy(),
                    &["version"]
                ),
                crate::version_of("redis-server", &["--version"])
            ),
            "Everything (Redis, the nodes, the subscribers' client threads, the publisher) shares \
             the same 2 cores"
                .to_owned(),
        ],
        unit: Unit::Seconds,
        measures: vec![a, b],
        ratios: vec![ratio],
        notes: crate::findings::CLUSTER
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
    }
}
