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
