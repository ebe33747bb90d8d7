//! A client drops: a subscriber of a channel with history loses its connection for 2 s while 100
//! events are published; once back, it recovers all 100, in order, without duplicates. The same
//! assertions on the embedded server and on Centrifugo v6, with the protocol client.
//! Needs the Centrifugo binary; fails, never skips, without it.

mod embedded_support;

use std::time::Duration;

use embedded_support::{RawClient, TestServer};
use instant_actix::{EmbeddedOptions, paths};
use instant_core::{Config, Secret};
use instant_testkit::{Centrifugo, CentrifugoOptions};
use serde_json::{Value, json};

const EVENTS: u64 = 100;

async fn api(base: &str, key: &str, method: &str, body: Value) -> Value {
    let mut response = awc::Client::default()
        .post(format!("{base}/{method}"))
        .insert_header(("X-API-Key", key))
        .send_json(&body)
        .await
        .expect("API request");
    let answer: Value = response.json().await.expect("JSON answer");
    assert!(answer.get("error").is_none(), "{answer}");
    answer["result"].clone()
}

/// Drops a subscriber, publishes, brings it back; returns the numbers it recovered.
async fn drop_and_recover(ws_url: &str, api_base: &str, key: &str) -> Vec<u64> {
    let mut client = RawClient::open(ws_url).await;
    client.connect("").await;
    let subscribed = client
        .call("subscribe", json!({"channel": "chat", "recoverable": true}))
        .await;
    assert!(subscribed["subscribe"]["epoch"].is_string(), "{subscribed}");
    let (offset, epoch) = (
        subscribed["subscribe"]["offset"].as_u64().unwrap_or(0),
        subscribed["subscribe"]["epoch"].clone(),
    );
    drop(client);
    let away = std::time::Instant::now();
    for n in 1..=EVENTS {
        api(
            api_base,
            key,
            "publish",
            json!({"channel": "chat", "data": {"n": n}}),
        )
        .await;
    }
    actix_rt::time::sleep(Duration::from_secs(2).saturating_sub(away.elapsed())).await;
    let mut back = RawClient::open(ws_url).await;
    back.connect("").await;
    let reply = back
        .call(
            "subscribe",
            json!({"channel": "chat", "recover": true, "offset": offset, "epoch": epoch}),
        )
        .await;
    assert_eq!(reply["subscribe"]["recovered"], true, "{ws_url}: {reply}");
    reply["subscribe"]["publications"]
        .as_array()
        .unwrap_or_else(|| panic!("{reply}"))
        .iter()
        .map(|p| p["data"]["n"].as_u64().unwrap())
        .collect()
}

#[actix_rt::test]
async fn a_dropped_subscriber_recovers_all_100_events_in_order_on_both_servers() {
    let key = Secret::generate();
    let config = Config::builder()
        .secret(Secret::generate())
        .api_key(key.clone())
        .build()
        .unwrap();
    let mut options = EmbeddedOptions::default();
    options.channel_defaults.history_size = 200;
    options.channel_defaults.history_ttl = Duration::from_secs(300);
    let embedded = TestServer::start(config, options);
    let centrifugo = Centrifugo::start(
        CentrifugoOptions::default()
            .history(200, Duration::from_secs(300))
            .force_recovery(true)
            .allow_anonymous_connect_without_token(true),
    );
    let expected: Vec<u64> = (1..=EVENTS).collect();
    let ours = drop_and_recover(
        &embedded.ws_url(),
        &format!("{}{}", embedded.http_url(), paths::EMBEDDED_API_PATH),
        key.expose_secret(),
    )
    .await;
    assert_eq!(ours, expected, "embedded server");
    let theirs = drop_and_recover(
        &centrifugo.ws_url(),
        &format!("{}/api", centrifugo.url()),
        centrifugo.api_key().expose_secret(),
    )
    .await;
    assert_eq!(theirs, expected, "Centrifugo");
}
