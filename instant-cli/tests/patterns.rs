//! Channel patterns on a real Centrifugo v6: `genconfig` writes the options of `[[channels]]`
//! entries named by patterns into their namespaces (checked by `centrifugo checkconfig
//! --strict`), the app's auth route mints a token for a concrete channel only when its
//! asynchronous check allows the user, and a centrifuge-js client receives what the app publishes
//! on that channel; the personal channels' namespace it always writes opens `personal:#u1` to
//! `u1` only.

mod support;

use std::fs;
use std::time::Duration;

use actix_web::{App, HttpRequest, test};
use instant_actix::{Realtime, User};
use instant_core::{Channel, ChannelSet, Config, Level};
use instant_testkit::{Centrifugo, NodeClient, NodeSpec};
use serde_json::{Value, json};

use support::{centrifugo_bin, free_port, instant, run, stderr, stdout};

const SECRET: &str = "test-secret-0123456789abcdef0123456789";
const API_KEY: &str = "test-api-key";
const WAIT: Duration = Duration::from_secs(15);

fn settings(port: u16) -> String {
    format!(
        r#"
secret = "{SECRET}"
centrifugo_api_key = "{API_KEY}"
centrifugo_url = "http://127.0.0.1:{port}"

[[channels]]
name = "$order_{{id}}"
level = "users"
history_size = 10
history_ttl = "5m"

[[channels]]
name = "orders:{{id}}"
presence = true
"#
    )
}

fn user(req: &HttpRequest) -> Option<User> {
    let id = req.headers().get("x-user")?.to_str().ok()?;
    Some(User::member(id))
}

#[actix_rt::test]
async fn a_concrete_pattern_channel_works_on_centrifugo() {
    let root = tempfile::tempdir().unwrap();
    let port = free_port();
    fs::write(root.path().join("instant.toml"), settings(port)).unwrap();
    let generated = run(instant(root.path()).args([
        "genconfig",
        "--port",
        &port.to_string(),
        "--address",
        "127.0.0.1",
    ]));
    assert!(generated.status.success(), "{}", stderr(&generated));
    let config_path = root.path().join("centrifugo.json");
    fs::write(&config_path, stdout(&generated)).unwrap();
    let checked = run(std::process::Command::new(centrifugo_bin())
        .args(["checkconfig", "--strict", "--config"])
        .arg(&config_path));
    assert!(
        checked.status.success(),
        "{}{}",
        stdout(&checked),
        stderr(&checked)
    );
    // The pattern without a namespace sets the options of channels without one; `orders:{id}`
    // makes the namespace `orders`.
    let config: Value = serde_json::from_str(&stdout(&generated)).unwrap();
    assert_eq!(config["channel"]["without_namespace"]["history_size"], 10);
    assert_eq!(config["channel"]["namespaces"][0]["name"], "orders");
    assert_eq!(config["channel"]["namespaces"][0]["presence"], true);

    let server = Centrifugo::start_from_file(&config_path);
    let order = Channel::new("$order_{id}", Level::Users).unwrap();
    let orders = Channel::new("orders:{id}", Level::Public).unwrap();
    let realtime = Realtime::builder()
        .config(
            Config::builder()
                .secret(SECRET)
                .api_key(API_KEY)
                .centrifugo_url(server.url())
                .build()
                .unwrap(),
        )
        .channels(ChannelSet::new([order.clone(), orders.clone()]).unwrap())
        .users(user)
        // The owner of order N is user `uN`.
        .authorize_async(|user, _channel, params| async move {
            user.zip(params.get("id"))
                .is_some_and(|(user, id)| user.id == format!("u{id}"))
        })
        .build()
        .unwrap();
    let app = test::init_service(App::new().configure(realtime.routes())).await;
    let token_for = |channel: String| {
        test::TestRequest::post()
            .uri("/instant/auth/subscription")
            .insert_header(("x-user", "u1"))
            .set_json(json!({ "channel": channel }))
            .to_request()
    };
    let res = test::call_service(&app, token_for(order.with(2_u8).into())).await;
    assert_eq!(res.status(), 403);
    let body: Value = test::call_and_read_body_json(&app, token_for(order.with(1_u8).into())).await;
    let token = body["token"].as_str().expect("u1 owns order 1").to_owned();

    let mut client = NodeClient::spawn(
        NodeSpec::new(server.ws_url())
            .token(server.tokens().connection("u1", None))
            .subscribe_with_token("$order_1", token)
            .subscribe("orders:1"),
    );
    client.wait_for_each("subscribed", &["$order_1", "orders:1"], WAIT);

    let publisher = realtime.publisher();
    let receipt = publisher
        .publish(order.with(1_u8), "Order shipped")
        .await
        .unwrap();
    assert_eq!(
        receipt.offset,
        Some(1),
        "the pattern's history options apply"
    );
    publisher
        .publish(orders.with(1_u8), "Order viewed")
        .await
        .unwrap();
    let shipped = client.wait_for(|e| e.is_on("publication", "$order_1"), WAIT);
    assert_eq!(shipped.data().unwrap()["message"], "Order shipped");
    let viewed = client.wait_for(|e| e.is_on("publication", "orders:1"), WAIT);
    assert_eq!(viewed.data().unwrap()["channel"], "orders:1");

    // The personal channels' namespace, always written: only the user after `#` subscribes.
    let personal = &config["channel"]["namespaces"][1];
    assert_eq!(personal["name"], "personal");
    assert_eq!(personal["allow_user_limited_channels"], true);
    let mut own = NodeClient::spawn(
        NodeSpec::new(server.ws_url())
            .token(server.tokens().connection("u1", None))
            .subscribe("personal:#u1"),
    );
    own.wait_for(|e| e.is_on("subscribed", "personal:#u1"), WAIT);
    let mut other = NodeClient::spawn(
        NodeSpec::new(server.ws_url())
            .token(server.tokens().connection("u2", None))
            .subscribe("personal:#u1"),
    );
    let refused = other.wait_for(
        |e| e.is("subscribe_error") || e.is("unsubscribed") || e.is("subscribed"),
        WAIT,
    );
    assert!(!refused.is("subscribed"), "{refused}");
    assert_eq!(refused.code(), Some(103), "{refused}");
    publisher
        .to_user("u1", "Only for u1")
        .unwrap()
        .await
        .unwrap();
    let event = own.wait_for(|e| e.is_on("publication", "personal:#u1"), WAIT);
    assert_eq!(event.data().unwrap()["message"], "Only for u1");
}
