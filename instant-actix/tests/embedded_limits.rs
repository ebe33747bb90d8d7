//! The embedded server's limits, each against a real WebSocket client: a client too slow to read
//! is cut off with 3008 while the others get everything, an oversize message closes with 1009, a
//! connection that never sends `connect` closes with 3502, a client that stops answering pings
//! closes with 3012, foreign origins and connections over the limit are refused at the upgrade.

mod embedded_support;

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use embedded_support::{RawClient, TestServer, WAIT, test_config};
use instant_actix::EmbeddedOptions;
use instant_core::{Backend as _, Config, Event};
use serde_json::{Value, json};

async fn api(server: &TestServer, method: &str, body: Value) -> Value {
    let mut response = awc::Client::default()
        .post(format!("{}/instant/api/{method}", server.http_url()))
        .insert_header(("X-API-Key", "test-api-key"))
        .send_json(&body)
        .await
        .expect("API request");
    response.json().await.expect("JSON answer")
}

#[actix_rt::test]
async fn a_slow_client_is_disconnected_with_3008_while_a_fast_one_gets_every_publication() {
    let mut options = EmbeddedOptions::default();
    options.client_queue_max_bytes = 64 * 1024;
    options.close_timeout = Duration::from_secs(60);
    options.channel_defaults.history_size = 0;
    // presence_stats tells when the slow client is gone.
    options.channel_defaults.presence = true;
    let server = TestServer::start(test_config(), options);

    let mut slow = RawClient::open(&server.ws_url()).await;
    slow.connect("").await;
    slow.call("subscribe", json!({"channel": "news"})).await;

    let mut fast = RawClient::open(&server.ws_url()).await;
    fast.connect("").await;
    fast.call("subscribe", json!({"channel": "news"})).await;
    let received = Rc::new(Cell::new(0_usize));
    let counter = Rc::clone(&received);
    let fast_reader = actix_rt::spawn(async move {
        loop {
            let push = fast.push().await;
            if push.get("pub").is_some() {
                counter.set(counter.get() + 1);
            }
        }
    });

    // The slow client reads nothing: once the socket buffers are full its queue grows past the
    // limit and the hub drops it from the channel. The fast client reads each publication as it
    // comes.
    let filler = "x".repeat(16 * 1024);
    let mut published = 0_usize;
    let mut slow_dropped = false;
    while published < 20_000 {
        let event = Event::new("site", "news", "load").with_data(json!({ "filler": filler }));
        server.server.publish(event).await.expect("publish");
        published += 1;
        let deadline = std::time::Instant::now() + WAIT;
        while received.get() < published && std::time::Instant::now() < deadline {
            actix_rt::time::sleep(Duration::from_millis(1)).await;
        }
        assert_eq!(received.get(), published, "the fast client was held up");
        if published.is_multiple_of(20) {
            let stats = api(&server, "presence_stats", json!({"channel": "news"})).await;
            if stats["result"]["num_clients"] == 1 {
                slow_dropped = true;
                break;
            }
        }
    }
    assert!(slow_dropped, "the slow client was never disconnected");

    // Reading again, the slow client finds the close frame after what was already sent.
    assert_eq!(slow.closed_within(WAIT * 6).await, Some(3008));

    let deadline = std::time::Instant::now() + WAIT * 3;
    while received.get() < published && std::time::Instant::now() < deadline {
        actix_rt::time::sleep(Duration::from_millis(20)).await;
    }
    fast_reader.abort();
    assert_eq!(
        received.get(),
        published,
        "the fast client missed publications"
    );
}

#[actix_rt::test]
async fn a_message_over_the_size_limit_closes_with_1009() {
    let mut options = EmbeddedOptions::default();
    options.max_message_size = 1024;
    let server = TestServer::start(test_config(), options);
    let mut client = RawClient::open(&server.ws_url()).await;
    client.connect("").await;
    let channel = "n".repeat(2000);
    client
        .send_text(json!({"id": 2, "subscribe": {"channel": channel}}).to_string())
        .await;
    assert_eq!(client.closed().await, Some(1009));
}

#[actix_rt::test]
async fn a_connection_that_never_sends_connect_closes_as_stale_with_3502() {
    let mut options = EmbeddedOptions::default();
    options.connect_timeout = Duration::from_secs(1);
    let server = TestServer::start(test_config(), options);
    let mut client = RawClient::open(&server.ws_url()).await;
    assert_eq!(client.closed().await, Some(3502));
}

#[actix_rt::test]
async fn a_client_that_answers_pings_stays_and_one_that_does_not_closes_with_3012() {
    let mut options = EmbeddedOptions::default();
    options.ping_interval = Duration::from_secs(1);
    options.pong_timeout = Duration::from_secs(1);
    let server = TestServer::start(test_config(), options);

    let mut silent = RawClient::open(&server.ws_url()).await;
    silent.answer_pings = false;
    let connect = silent.connect("").await;
    assert_eq!(connect["ping"], 1);
    assert_eq!(connect["pong"], true);

    let mut polite = RawClient::open(&server.ws_url()).await;
    polite.connect("").await;

    // The polite client reads (and so answers pings) while the silent one does not.
    while polite.pings < 4 {
        actix_rt::time::sleep(Duration::from_millis(200)).await;
        let reply = polite.call("subscribe", json!({"channel": "news"})).await;
        assert!(reply.get("subscribe").is_some() || reply["error"]["code"] == 105);
    }
    assert_eq!(silent.closed().await, Some(3012));
}

#[actix_rt::test]
async fn origins_other_than_the_allowed_ones_and_the_same_origin_are_refused_at_the_upgrade() {
    let config = Config::builder()
        .secret(instant_core::Secret::new(
            "s-0123456789abcdef0123456789abcdef".into(),
        ))
        .allowed_origins(["https://*.allowed.example"])
        .build()
        .unwrap();
    let server = TestServer::start(config, EmbeddedOptions::default());
    let url = server.ws_url();
    assert_eq!(
        RawClient::open_with(&url, Some("https://evil.example"))
            .await
            .err(),
        Some(403)
    );
    assert!(
        RawClient::open_with(&url, Some("https://app.allowed.example"))
            .await
            .is_ok()
    );
    let same_origin = server.http_url();
    assert!(RawClient::open_with(&url, Some(&same_origin)).await.is_ok());
    // Clients outside browsers send no Origin.
    assert!(RawClient::open_with(&url, None).await.is_ok());
}

#[actix_rt::test]
async fn connections_over_the_limit_are_refused_with_503() {
    let mut options = EmbeddedOptions::default();
    options.max_connections = 1;
    let server = TestServer::start(test_config(), options);
    let mut first = RawClient::open(&server.ws_url()).await;
    first.connect("").await;
    assert_eq!(
        RawClient::open_with(&server.ws_url(), None).await.err(),
        Some(503)
    );
    drop(first);
    // The slot frees once the first connection is gone.
    let deadline = std::time::Instant::now() + WAIT;
    while server.server.open_connections() > 0 && std::time::Instant::now() < deadline {
        actix_rt::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(RawClient::open_with(&server.ws_url(), None).await.is_ok());
}

#[actix_rt::test]
async fn shutdown_closes_every_connection_with_3001_and_refuses_new_ones() {
    let server = TestServer::with_defaults();
    let mut connected = RawClient::open(&server.ws_url()).await;
    connected.connect("").await;
    connected
        .call("subscribe", json!({"channel": "news"}))
        .await;
    let mut waiting = RawClient::open(&server.ws_url()).await;
    server.server.shutdown();
    assert_eq!(connected.closed().await, Some(3001));
    assert_eq!(waiting.closed().await, Some(3001));
    assert_eq!(
        RawClient::open_with(&server.ws_url(), None).await.err(),
        Some(503)
    );
}
