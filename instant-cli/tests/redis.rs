//! The multi-node set-up: two Centrifugo nodes configured by `genconfig --engine redis`, run by
//! `runws`, sharing a real Redis; an event published through one node reaches a subscriber of the
//! other.

mod support;

use std::fs;
use std::path::Path;
use std::time::Duration;

use instant_core::{Secret, Tokens};
use instant_testkit::{NodeClient, NodeSpec, Redis};
use support::{RunWs, centrifugo_bin, free_port, instant, run, stderr};

const SECRET: &str = "redis-test-secret-0123456789-abcdefghij";
const API_KEY: &str = "redis-test-api-key";
const WAIT: Duration = Duration::from_secs(20);

/// An app directory for a Centrifugo node on `port` using the Redis engine.
fn node(root: &Path, port: u16, redis: &Redis) {
    let dir = root.join("cf");
    fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink(centrifugo_bin(), dir.join("centrifugo")).unwrap();
    fs::write(
        root.join("instant.toml"),
        format!(
            "secret = \"{SECRET}\"\ncentrifugo_api_key = \"{API_KEY}\"\ncentrifugo_url = \"http://127.0.0.1:{port}\"\n\n[[channels]]\nname = \"news\"\n"
        ),
    )
    .unwrap();
    let output = run(instant(root).args([
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
        "cf/config.json",
    ]));
    assert!(output.status.success(), "{}", stderr(&output));
}

#[test]
fn an_event_published_on_one_node_reaches_a_subscriber_of_another() {
    let redis = Redis::start();
    let (first, second) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (first_port, second_port) = (free_port(), free_port());
    node(first.path(), first_port, &redis);
    node(second.path(), second_port, &redis);
    let mut first_node = RunWs::start(first.path());
    let mut second_node = RunWs::start(second.path());
    first_node.wait_for("Centrifugo is ready");
    second_node.wait_for("Centrifugo is ready");

    let tokens = Tokens::new(Secret::new(SECRET.to_owned()), Duration::from_secs(600));
    let mut client = NodeClient::spawn(
        NodeSpec::new(format!("ws://127.0.0.1:{first_port}/connection/websocket"))
            .token(tokens.connection("alice", None))
            .subscribe("news"),
    );
    client.wait_for(|e| e.is_on("subscribed", "news"), WAIT);

    let output = run(instant(second.path()).args([
        "publish",
        "--channel",
        "news",
        "--message",
        "through Redis",
    ]));
    assert!(output.status.success(), "{}", stderr(&output));
    let publication = client.wait_for(|e| e.is_on("publication", "news"), WAIT);
    assert_eq!(
        publication.data().unwrap()["message"],
        "through Redis",
        "{publication:?}"
    );
}
