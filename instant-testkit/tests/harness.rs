//! The harness itself, on the real programs.

use std::process::Command;
use std::time::Duration;

use instant_testkit::{Centrifugo, CentrifugoOptions, NodeClient, NodeSpec, centrifugo_binary};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(15);

#[test]
fn the_generated_config_passes_a_strict_check() {
    let server = Centrifugo::start(CentrifugoOptions::default());
    let output = Command::new(centrifugo_binary())
        .args(["checkconfig", "--strict", "-c"])
        .arg(server.config_path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_node_client_connects_subscribes_and_publishes() {
    let mut server = Centrifugo::start(CentrifugoOptions::default());
    let tokens = server.tokens();
    let mut client = NodeClient::spawn(
        NodeSpec::new(server.ws_url())
            .token(tokens.connection("alice", None))
            .subscribe("lobby"),
    );
    client.wait_for(|e| e.is("connected"), WAIT);
    client.wait_for(|e| e.is_on("subscribed", "lobby"), WAIT);
    // Join of our own client comes with join_leave on.
    let reply = client.request(json!({"cmd": "presence_stats", "channel": "lobby"}), WAIT);
    assert_eq!(reply.get("ok"), Some(&json!(true)), "{reply}");
    assert_eq!(reply.get("result").unwrap()["numUsers"], 1, "{reply}");

    server.stop();
    assert!(!server.is_running());
    let disconnected = client.wait_for(|e| e.is("connecting") || e.is("disconnected"), WAIT);
    assert!(disconnected.code().is_some(), "{disconnected}");
    server.restart();
    client.wait_for(|e| e.is("connected"), WAIT);
}

#[test]
fn two_centrifugo_nodes_share_a_redis_engine() {
    let redis = instant_testkit::Redis::start();
    let options = CentrifugoOptions::default().extra(json!({
        "engine": {"type": "redis", "redis": {"address": redis.address()}}
    }));
    let publishing_node = Centrifugo::start(options.clone());
    let subscribing_node = Centrifugo::start(options);
    let mut client = NodeClient::spawn(
        NodeSpec::new(subscribing_node.ws_url())
            .token(subscribing_node.tokens().connection("alice", None))
            .subscribe("lobby"),
    );
    client.wait_for(|e| e.is_on("subscribed", "lobby"), WAIT);

    // Published through the other node's HTTP API, delivered through Redis.
    let publisher = instant_core::CentrifugoClient::new(&publishing_node.config()).unwrap();
    let receipt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(publisher.call(
            "publish",
            json!({"channel": "lobby", "data": {"via": "redis"}}),
        ));
    assert!(receipt.is_ok(), "{receipt:?}");
    let publication = client.wait_for(|e| e.is_on("publication", "lobby"), WAIT);
    assert_eq!(publication.data(), Some(&json!({"via": "redis"})));
}
