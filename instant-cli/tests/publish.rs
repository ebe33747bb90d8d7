//! `instant publish` and `instant token` against real servers, with centrifuge-js subscribers:
//! Centrifugo v6, and an app's embedded server (which serves the same `/api`).

mod support;

use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use actix_web::{App, HttpServer};
use instant_actix::EmbeddedServer;
use instant_core::{Channel, ChannelSet, Config, Event, Level};
use instant_testkit::{Centrifugo, CentrifugoOptions, NodeClient, NodeSpec};
use serde_json::json;
use support::{free_port, instant, run, stderr, stdout};

/// Generous: the machines running the suite may be slow and busy; nothing here measures speed.
const WAIT: Duration = Duration::from_secs(20);

/// `instant` configured through the environment for the server at `url`.
fn instant_for(url: &str, secret: &str, api_key: &str) -> Command {
    let root = std::env::temp_dir();
    let mut command = instant(&root);
    command
        .args(["--settings", "/nonexistent/instant.toml"])
        .env("INSTANT_CENTRIFUGO_URL", url)
        .env("INSTANT_SECRET", secret)
        .env("INSTANT_CENTRIFUGO_API_KEY", api_key)
        .env("INSTANT_SITE_SLUG", "shop");
    command
}

fn publish_args<'a>(channel: &'a str, message: &'a str) -> [&'a str; 9] {
    [
        "publish",
        "--channel",
        channel,
        "--message",
        message,
        "--event-class",
        "order shipped",
        "--data",
        r#"{"id": 7, "tags": ["a", "b"]}"#,
    ]
}

fn assert_delivered(client: &mut NodeClient, channel: &str, message: &str) {
    let publication = client.wait_for(|e| e.is_on("publication", channel), WAIT);
    let event: Event =
        serde_json::from_value(publication.data().expect("publication data").clone()).unwrap();
    assert_eq!(event.channel, channel);
    assert_eq!(event.message, message);
    assert_eq!(event.event_class, "order shipped");
    assert_eq!(event.site, "shop");
    assert_eq!(event.data, json!({"id": 7, "tags": ["a", "b"]}));
}

#[test]
fn publish_delivers_to_a_subscriber_on_centrifugo() {
    let server = Centrifugo::start(CentrifugoOptions::default());
    let (secret, api_key) = (
        server.secret().expose_secret().to_owned(),
        server.api_key().expose_secret().to_owned(),
    );
    let token = server.tokens().connection("alice", None);
    let mut client = NodeClient::spawn(
        NodeSpec::new(server.ws_url())
            .token(token)
            .subscribe("news"),
    );
    client.wait_for(|e| e.is_on("subscribed", "news"), WAIT);

    let output =
        run(instant_for(&server.url(), &secret, &api_key).args(publish_args("news", "Hello")));
    assert!(output.status.success(), "{}", stderr(&output));
    assert_delivered(&mut client, "news", "Hello");

    // A wrong API key: a non-zero exit and one clear line.
    let refused = run(instant_for(&server.url(), &secret, "wrong").args(publish_args("news", "x")));
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    let message = stderr(&refused);
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(
        message.starts_with("error: publish to \"news\" failed"),
        "{message}"
    );
    assert!(message.contains("fix:"), "{message}");

    // Data that is not JSON is a usage error, caught before anything is sent.
    let bad = run(instant_for(&server.url(), &secret, &api_key).args([
        "publish",
        "--channel",
        "news",
        "--message",
        "x",
        "--data",
        "{not json",
    ]));
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    assert!(
        stderr(&bad).contains("--data is not JSON"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn publish_to_a_server_that_is_down_exits_with_unreachable() {
    let url = format!("http://127.0.0.1:{}", free_port());
    let output = run(
        instant_for(&url, "secret-0123456789abcdef0123456789abcdef", "key")
            .args(publish_args("news", "x")),
    );
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("instant runws"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn tokens_minted_by_the_command_are_accepted_by_centrifugo() {
    let server = Centrifugo::start(CentrifugoOptions::default());
    let secret = server.secret().expose_secret().to_owned();
    let api_key = server.api_key().expose_secret().to_owned();
    let mint = |args: &[&str]| {
        let output = run(instant_for(&server.url(), &secret, &api_key)
            .arg("token")
            .args(args));
        assert!(output.status.success(), "{}", stderr(&output));
        stdout(&output).trim().to_owned()
    };
    let connection = mint(&["--user", "42", "--ttl", "10m"]);
    let subscription = mint(&["--user", "42", "--channel", "$users", "--ttl", "10m"]);
    let claims = server.tokens().verify_connection(&connection).unwrap();
    assert_eq!(claims.sub, "42");

    let mut client = NodeClient::spawn(
        NodeSpec::new(server.ws_url())
            .token(connection)
            .subscribe_with_token("$users", subscription),
    );
    client.wait_for(|e| e.is("connected"), WAIT);
    client.wait_for(|e| e.is_on("subscribed", "$users"), WAIT);
}

#[test]
fn token_without_a_secret_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let output = run(instant(root.path()).args(["token", "--user", "1"]));
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(stderr(&output).contains("no secret"), "{}", stderr(&output));
    assert!(stdout(&output).is_empty());
}

/// Runs an actix-web app with an embedded server for `news` on a free loopback port.
fn embedded_app(config: &Config) -> u16 {
    let channels = ChannelSet::new([Channel::new("news", Level::Public).unwrap()]).unwrap();
    let embedded = EmbeddedServer::new(config, channels);
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        actix_rt::System::new().block_on(async move {
            let server = HttpServer::new(move || {
                let embedded = embedded.clone();
                App::new().configure(move |cfg| embedded.configure(cfg))
            })
            .workers(1)
            .bind(("127.0.0.1", 0))
            .expect("bind");
            sender.send(server.addrs()[0].port()).expect("send port");
            server.run().await
        })
    });
    receiver.recv_timeout(WAIT).expect("the app starts")
}

#[test]
fn publish_delivers_to_a_subscriber_on_the_embedded_server() {
    let config = Config::builder()
        .secret("embedded-secret-0123456789abcdef0123456789")
        .api_key("embedded-api-key")
        .build()
        .unwrap();
    let port = embedded_app(&config);
    // The embedded server answers Centrifugo's API under the app's `/instant` prefix.
    let url = format!("http://127.0.0.1:{port}/instant");
    let token = config.tokens().connection("alice", None);
    let mut client = NodeClient::spawn(
        NodeSpec::new(format!("ws://127.0.0.1:{port}/connection/websocket"))
            .token(token)
            .subscribe("news"),
    );
    client.wait_for(|e| e.is_on("subscribed", "news"), WAIT);

    let output = run(instant_for(
        &url,
        "embedded-secret-0123456789abcdef0123456789",
        "embedded-api-key",
    )
    .args(publish_args("news", "Hello embedded")));
    assert!(output.status.success(), "{}", stderr(&output));
    assert_delivered(&mut client, "news", "Hello embedded");
}
