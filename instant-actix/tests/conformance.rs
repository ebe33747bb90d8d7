//! The conformance suite: the same scenarios, with the same assertions, against three servers: the
//! embedded server inside an app, the standalone embedded server of `instant runws --embedded`
//! (built by the same library function from a Centrifugo v6 JSON config), and a real Centrifugo
//! v6. The standalone server and Centrifugo run the very same config (history, recovery, presence
//! and join/leave on; anonymous connections allowed; a `channel_regex` opening only the app's
//! channels); the app's server declares the same channels with the same options.
//!
//! Two clients drive it: the official centrifuge-js 5 under Node (`js/conformance/scenarios.mjs`),
//! and a minimal Rust client speaking the JSON protocol for the exact codes and shapes on the wire.
//! A scenario passing on one server and failing on the other is a bug of the embedded server.
//!
//! Needs Node 20+ with `js/node_modules` installed and the Centrifugo binary (see
//! `instant_testkit::centrifugo_binary`); fails, never skips, without them.

mod embedded_support;
mod standalone_support;

use std::process::Command;
use std::time::Duration;

use embedded_support::{RawClient, TestServer};
use instant_actix::EmbeddedOptions;
use instant_core::{Config, Secret, SubscriptionClaims, Tokens, now_secs};
use instant_testkit::{Centrifugo, workspace_root};
use serde_json::{Value, json};
use standalone_support::StandaloneServer;

/// One of the three servers under test.
enum Server {
    Embedded(TestServer),
    Standalone(StandaloneServer),
    Centrifugo(Centrifugo),
}

struct Target {
    name: &'static str,
    server: Server,
    secret: Secret,
    api_key: Secret,
}

/// Server pings every 5 s with a 3 s pong timeout, for the idle scenario.
const SHORT_PING: (u64, u64) = (5, 3);

impl Target {
    fn embedded(short_ping: bool) -> Self {
        let secret = Secret::generate();
        let api_key = Secret::generate();
        let config = Config::builder()
            .secret(secret.clone())
            .api_key(api_key.clone())
            .build()
            .unwrap();
        let mut options = EmbeddedOptions::default();
        options.channel_defaults.history_size = 100;
        options.channel_defaults.history_ttl = Duration::from_secs(300);
        // Presence and join/leave for every subscriber, anonymous ones too, as the Centrifugo
        // target is configured.
        options.channel_defaults.presence = true;
        options.channel_defaults.join_leave = true;
        options.channel_defaults.presence_for_anonymous = true;
        if short_ping {
            options.ping_interval = Duration::from_secs(SHORT_PING.0);
            options.pong_timeout = Duration::from_secs(SHORT_PING.1);
        }
        Self {
            name: "embedded server",
            server: Server::Embedded(TestServer::start(config, options)),
            secret,
            api_key,
        }
    }

    /// Centrifugo v6 with [`conformance_config`].
    fn centrifugo(short_ping: bool) -> Self {
        let (secret, api_key) = (Secret::generate(), Secret::generate());
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("config.json");
        let config = conformance_config(free_port(), &secret, &api_key, short_ping);
        std::fs::write(&path, config.to_string()).expect("write the config");
        let server = Centrifugo::start_from_file(&path);
        Self {
            name: "Centrifugo v6",
            secret,
            api_key,
            server: Server::Centrifugo(server),
        }
    }

    /// The standalone embedded server with the same config as Centrifugo's.
    fn standalone(short_ping: bool) -> Self {
        let (secret, api_key) = (Secret::generate(), Secret::generate());
        let config = conformance_config(0, &secret, &api_key, short_ping);
        let server = StandaloneServer::start(&config);
        assert!(
            server.unsupported.is_empty(),
            "the standalone server does not support {:?}",
            server.unsupported
        );
        Self {
            name: "standalone embedded server",
            secret,
            api_key,
            server: Server::Standalone(server),
        }
    }

    /// One of the three servers: 0 the app's embedded server, 1 the standalone one, 2 Centrifugo.
    fn nth(n: usize, short_ping: bool) -> Self {
        match n {
            0 => Self::embedded(short_ping),
            1 => Self::standalone(short_ping),
            _ => Self::centrifugo(short_ping),
        }
    }

    /// The three servers, the app's embedded one first.
    fn all(short_ping: bool) -> [Self; 3] {
        [
            Self::embedded(short_ping),
            Self::standalone(short_ping),
            Self::centrifugo(short_ping),
        ]
    }

    /// The base URL a Centrifugo API client is given: the embedded server answers the API under
    /// the app's `/instant` prefix.
    fn api_base(&self) -> String {
        match &self.server {
            Server::Embedded(server) => format!("{}/instant", server.http_url()),
            Server::Standalone(server) => server.http_url(),
            Server::Centrifugo(server) => server.url(),
        }
    }

    fn ws_url(&self) -> String {
        match &self.server {
            Server::Embedded(server) => server.ws_url(),
            Server::Standalone(server) => server.ws_url(),
            Server::Centrifugo(server) => server.ws_url(),
        }
    }

    fn tokens(&self) -> Tokens {
        Tokens::new(self.secret.clone(), Duration::from_secs(3600))
    }

    /// Tokens for the scenarios: good ones, an expired one, one signed with another key and one
    /// for another channel.
    fn scenario_tokens(&self) -> Value {
        let tokens = self.tokens();
        let now = now_secs();
        let expired = tokens.sign_subscription(&SubscriptionClaims::new(
            "alice",
            "$users",
            now - 120,
            now - 60,
        ));
        let other_key = Tokens::new(Secret::generate(), Duration::from_secs(3600));
        json!({
            "alice": tokens.connection("alice", None),
            "alice_expired": tokens.sign_connection(&instant_core::ConnectionClaims::new("alice", now - 120, now - 60)),
            "bob": tokens.connection("bob", None),
            "alice_users": tokens.subscription("alice", "$users"),
            "alice_users_expired": expired,
            "alice_users_wrong_key": other_key.subscription("alice", "$users"),
            "alice_users_wrong_channel": tokens.subscription("alice", "$staff"),
        })
    }

    fn spec(&self) -> Value {
        json!({
            "url": self.ws_url(),
            "api_url": format!("{}/api", self.api_base()),
            "api_key": self.api_key.expose_secret(),
            "tokens": self.scenario_tokens(),
            "idle_ms": 65_000,
        })
    }

    /// Publishes through the server API; returns the result object.
    async fn publish(&self, channel: &str, data: Value) -> Value {
        let mut response = awc::Client::default()
            .post(format!("{}/api/publish", self.api_base()))
            .insert_header(("X-API-Key", self.api_key.expose_secret()))
            .send_json(&json!({ "channel": channel, "data": data }))
            .await
            .expect("API request");
        let answer: Value = response.json().await.expect("JSON answer");
        assert!(
            answer.get("error").is_none(),
            "{}: publish failed: {answer}",
            self.name
        );
        answer["result"].clone()
    }
}

/// The Centrifugo v6 config of the standalone server and of Centrifugo: anonymous connections,
/// the app's channels only (`channel_regex`), history with recovery, presence and join/leave for
/// every subscriber, anonymous ones too.
fn conformance_config(port: u16, secret: &Secret, api_key: &Secret, short_ping: bool) -> Value {
    let mut config = json!({
        "http_server": { "address": "127.0.0.1", "port": port },
        "client": {
            "token": { "hmac_secret_key": secret.expose_secret() },
            "allowed_origins": ["*"],
            "allow_anonymous_connect_without_token": true,
        },
        "http_api": { "key": api_key.expose_secret() },
        "channel": { "without_namespace": {
            "channel_regex": r"^\$?(news|chat|users|staff)$",
            "allow_subscribe_for_client": true,
            "allow_subscribe_for_anonymous": true,
            "presence": true,
            "join_leave": true,
            "allow_presence_for_subscriber": true,
            "allow_presence_for_anonymous": true,
            "allow_history_for_subscriber": true,
            "allow_history_for_anonymous": true,
            "history_size": 100,
            "history_ttl": "300s",
            "force_recovery": true,
        } },
        "health": { "enabled": true },
        "usage_stats": { "disabled": true },
    });
    if short_ping {
        config["client"]["ping_interval"] = json!(format!("{}s", SHORT_PING.0));
        config["client"]["pong_timeout"] = json!(format!("{}s", SHORT_PING.1));
    }
    config
}

/// A port free on `127.0.0.1` right now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free loopback port")
}

/// Runs a centrifuge-js scenario; `Err` holds what went wrong.
fn run_js(target: &Target, scenario: &str) -> Result<(), String> {
    let script = workspace_root().join("js/conformance/scenarios.mjs");
    let node = std::env::var_os("INSTANT_NODE_BIN").unwrap_or_else(|| "node".into());
    let output = Command::new(&node)
        .arg(&script)
        .arg(scenario)
        .arg(target.spec().to_string())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {} (Node.js 20+ is needed): {e}", node.display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let verdict: Option<Value> = stdout
        .lines()
        .rev()
        .find_map(|line| serde_json::from_str(line).ok());
    match verdict {
        Some(v) if v["ok"] == true && output.status.success() => Ok(()),
        Some(v) => Err(v["error"].as_str().unwrap_or("failed").to_owned()),
        None => Err(format!(
            "no verdict; stdout: {stdout}; stderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )),
    }
}

/// Runs a centrifuge-js scenario on the three servers, in parallel, and fails naming each server
/// it failed on.
fn js_scenario(scenario: &str, short_ping: bool) {
    let failures: Vec<String> = std::thread::scope(|scope| {
        let runs: Vec<_> = (0..3)
            .map(|n| {
                scope.spawn(move || {
                    let target = Target::nth(n, short_ping);
                    run_js(&target, scenario).map_err(|e| format!("on {}: {e}", target.name))
                })
            })
            .collect();
        runs.into_iter()
            .filter_map(|run| run.join().expect("scenario thread").err())
            .collect()
    });
    assert!(
        failures.is_empty(),
        "scenario {scenario} failed {}",
        failures.join("\n")
    );
}

#[test]
fn js_connect_with_a_token_and_anonymously() {
    js_scenario("connect", false);
}

#[test]
fn js_subscribe_allowed_and_refused_by_level() {
    js_scenario("subscribe_levels", false);
}

#[test]
fn js_private_channel_with_good_expired_wrong_key_and_wrong_channel_tokens() {
    js_scenario("private_tokens", false);
}

#[test]
fn js_publication_fields() {
    js_scenario("publication_fields", false);
}

#[test]
fn js_unsubscribe_stops_publications() {
    js_scenario("unsubscribe", false);
}

#[test]
fn js_presence_and_join_leave() {
    js_scenario("presence_join_leave", false);
}

#[test]
fn js_history() {
    js_scenario("history", false);
}

#[test]
fn js_recovery_after_a_dropped_connection_brings_exactly_the_missed_publications() {
    js_scenario("recovery", false);
}

#[test]
fn js_reconnect_loop_after_the_server_closes_the_connection() {
    js_scenario("reconnect_after_server_close", true);
}

#[test]
fn js_unsubscribe_between_subscribe_and_its_reply() {
    js_scenario("unsubscribe_before_reply", false);
}

#[test]
fn js_token_refresh_errors_end_unauthorized() {
    js_scenario("token_refresh_errors", false);
}

#[test]
fn js_recovery_after_resubscribe_and_after_a_client_disconnect() {
    js_scenario("recovery_after_resubscribe", false);
}

#[test]
fn js_unrecoverable_position_subscribes_without_recovery() {
    js_scenario("unrecoverable_position", false);
}

#[test]
fn js_ping_pong_keeps_an_idle_connection_alive_past_a_minute() {
    js_scenario("idle", true);
}

// The same assertions on the wire, with the Rust client.

/// Runs `check` against the three servers.
async fn on_all<F>(check: F)
where
    F: AsyncFn(&Target),
{
    for target in Target::all(false) {
        eprintln!("checking {}", target.name);
        check(&target).await;
    }
}

#[actix_rt::test]
async fn wire_a_malformed_frame_or_a_command_before_connect_closes_with_3501() {
    on_all(async |target| {
        let mut client = RawClient::open(&target.ws_url()).await;
        client.connect("").await;
        client.send_text(r#"{"id":2,"subscribe":"#).await;
        assert_eq!(client.closed().await, Some(3501), "{}", target.name);

        let mut early = RawClient::open(&target.ws_url()).await;
        early.command("subscribe", json!({"channel": "news"})).await;
        assert_eq!(early.closed().await, Some(3501), "{}", target.name);
    })
    .await;
}

#[actix_rt::test]
async fn wire_connection_tokens_expired_answer_109_and_invalid_close_with_3500() {
    on_all(async |target| {
        let tokens = target.tokens();
        let now = now_secs();
        let mut claims = instant_core::ConnectionClaims::new("alice", now - 120, now - 60);
        let expired = tokens.sign_connection(&claims);
        let mut client = RawClient::open(&target.ws_url()).await;
        let reply = client.call("connect", json!({ "token": expired })).await;
        assert_eq!(reply["error"]["code"], 109, "{}: {reply}", target.name);

        claims.exp = Some(now + 60);
        let foreign =
            Tokens::new(Secret::generate(), Duration::from_secs(60)).sign_connection(&claims);
        let mut client = RawClient::open(&target.ws_url()).await;
        client.command("connect", json!({ "token": foreign })).await;
        assert_eq!(client.closed().await, Some(3500), "{}", target.name);

        let mut client = RawClient::open(&target.ws_url()).await;
        let result = client.connect(&tokens.connection("alice", None)).await;
        assert_eq!(result["expires"], true, "{}: {result}", target.name);
        assert!(
            result["ttl"].as_u64().unwrap() > 3000,
            "{}: {result}",
            target.name
        );
        assert_eq!(result["pong"], true, "{}: {result}", target.name);
        assert!(result["client"].as_str().is_some_and(|c| !c.is_empty()));
    })
    .await;
}

#[actix_rt::test]
async fn wire_subscription_answers_and_codes() {
    on_all(async |target| {
        let name = target.name;
        let tokens = target.tokens();
        let specimen = target.scenario_tokens();
        let mut client = RawClient::open(&target.ws_url()).await;
        client.connect(&tokens.connection("alice", None)).await;

        let public = client.call("subscribe", json!({"channel": "news"})).await;
        let result = &public["subscribe"];
        assert_eq!(result["recoverable"], true, "{name}: {public}");
        assert_eq!(result["positioned"], true, "{name}: {public}");
        assert!(
            result["epoch"].as_str().is_some_and(|e| !e.is_empty()),
            "{name}: {public}"
        );
        let again = client.call("subscribe", json!({"channel": "news"})).await;
        assert_eq!(again["error"]["code"], 105, "{name}: {again}");

        for (token, code) in [
            (None, 103),
            (Some(&specimen["alice_users_wrong_key"]), 103),
            (Some(&specimen["alice_users_expired"]), 109),
        ] {
            let request = match token {
                Some(token) => json!({"channel": "$users", "token": token}),
                None => json!({"channel": "$users"}),
            };
            let reply = client.call("subscribe", request).await;
            assert_eq!(reply["error"]["code"], code, "{name}: {reply}");
        }
        let good = client
            .call(
                "subscribe",
                json!({"channel": "$users", "token": specimen["alice_users"]}),
            )
            .await;
        assert_eq!(good["subscribe"]["expires"], true, "{name}: {good}");

        let refused = client
            .call("publish", json!({"channel": "news", "data": {"x": 1}}))
            .await;
        assert_eq!(refused["error"]["code"], 103, "{name}: {refused}");
        let no_rpc = client.call("rpc", json!({"method": "m", "data": {}})).await;
        assert_eq!(no_rpc["error"]["code"], 108, "{name}: {no_rpc}");
        let unsubscribed = client
            .call("unsubscribe", json!({"channel": "$users"}))
            .await;
        assert_eq!(
            unsubscribed,
            json!({"id": unsubscribed["id"], "unsubscribe": {}})
        );

        client
            .command(
                "subscribe",
                json!({"channel": "$users", "token": specimen["alice_users_wrong_channel"]}),
            )
            .await;
        assert_eq!(client.closed().await, Some(3500), "{name}");
    })
    .await;
}

#[actix_rt::test]
async fn wire_publications_history_and_recovery() {
    on_all(async |target| {
        let name = target.name;
        let mut live = RawClient::open(&target.ws_url()).await;
        live.connect("").await;
        live.call("subscribe", json!({"channel": "chat"})).await;

        let first = target.publish("chat", json!({"n": 1})).await;
        let push = live.push().await;
        assert_eq!(push["channel"], "chat", "{name}: {push}");
        assert_eq!(push["pub"]["data"], json!({"n": 1}), "{name}: {push}");
        assert_eq!(push["pub"]["offset"], first["offset"], "{name}: {push}");
        assert!(push["pub"].get("info").is_none(), "{name}: {push}");

        for n in 2..=4 {
            target.publish("chat", json!({"n": n})).await;
        }
        let history = live.call("history", json!({"channel": "chat", "limit": 10})).await;
        let publications = history["history"]["publications"]
            .as_array()
            .unwrap_or_else(|| panic!("{name}: {history}"));
        let numbers: Vec<_> = publications.iter().map(|p| p["data"]["n"].clone()).collect();
        assert_eq!(numbers, [1, 2, 3, 4], "{name}: {history}");
        let position = live.call("history", json!({"channel": "chat"})).await;
        assert_eq!(position["history"]["publications"], json!([]), "{name}: {position}");
        assert_eq!(position["history"]["offset"], publications[3]["offset"], "{name}");
        let wrong_epoch = live
            .call("history", json!({"channel": "chat", "limit": 1, "since": {"offset": 1, "epoch": "not-the-epoch"}}))
            .await;
        assert_eq!(wrong_epoch["error"]["code"], 112, "{name}: {wrong_epoch}");

        // A client that stopped at the first publication recovers exactly the three after it.
        let epoch = history["history"]["epoch"].clone();
        let mut returning = RawClient::open(&target.ws_url()).await;
        returning.connect("").await;
        let reply = returning
            .call(
                "subscribe",
                json!({"channel": "chat", "recover": true, "offset": first["offset"], "epoch": epoch}),
            )
            .await;
        let result = &reply["subscribe"];
        assert_eq!(result["recovered"], true, "{name}: {reply}");
        assert_eq!(result["was_recovering"], true, "{name}: {reply}");
        let recovered: Vec<_> = result["publications"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["data"]["n"].clone())
            .collect();
        assert_eq!(recovered, [2, 3, 4], "{name}: {reply}");

        // From another epoch nothing can be recovered.
        let mut lost = RawClient::open(&target.ws_url()).await;
        lost.connect("").await;
        let reply = lost
            .call(
                "subscribe",
                json!({"channel": "chat", "recover": true, "offset": 1, "epoch": "gone"}),
            )
            .await;
        assert!(reply["subscribe"].get("recovered").is_none(), "{name}: {reply}");
        assert_eq!(reply["subscribe"]["was_recovering"], true, "{name}: {reply}");
    })
    .await;
}

#[actix_rt::test]
async fn wire_the_server_pings_a_pong_keeps_the_connection_and_an_unasked_pong_is_refused() {
    for target in Target::all(true) {
        let name = target.name;
        let mut client = RawClient::open(&target.ws_url()).await;
        let connected = client.connect("").await;
        assert_eq!(connected["ping"], SHORT_PING.0, "{name}: {connected}");
        assert_eq!(connected["pong"], true, "{name}: {connected}");
        client.call("subscribe", json!({"channel": "news"})).await;
        // Wait for two pings, answering each; the connection still serves commands afterwards.
        let published = target.publish("news", json!({"after": "pings"}));
        while client.pings < 2 {
            let stats = client
                .call("presence_stats", json!({"channel": "news"}))
                .await;
            assert_eq!(stats["presence_stats"]["num_clients"], 1, "{name}: {stats}");
            actix_rt::time::sleep(Duration::from_millis(500)).await;
        }
        published.await;
        assert_eq!(
            client.push().await["pub"]["data"]["after"],
            "pings",
            "{name}"
        );

        let mut eager = RawClient::open(&target.ws_url()).await;
        eager.connect("").await;
        eager.send_text("{}").await;
        assert_eq!(eager.closed().await, Some(3501), "{name}");
    }
}

#[actix_rt::test]
async fn wire_server_api_answers_in_the_same_shapes() {
    for target in Target::all(false) {
        let name = target.name;
        let mut subscriber = RawClient::open(&target.ws_url()).await;
        let client_id = subscriber
            .connect(&target.tokens().connection("alice", None))
            .await["client"]
            .clone();
        subscriber
            .call("subscribe", json!({"channel": "news"}))
            .await;

        let api = async |method: &str, body: Value| -> Value {
            let mut response = awc::Client::default()
                .post(format!("{}/api/{method}", target.api_base()))
                .insert_header(("X-API-Key", target.api_key.expose_secret()))
                .send_json(&body)
                .await
                .expect("API request");
            assert_eq!(response.status(), 200, "{name}: {method}");
            response.json().await.expect("JSON answer")
        };

        let published = api("publish", json!({"channel": "news", "data": {"n": 1}})).await;
        assert_eq!(published["result"]["offset"], 1, "{name}: {published}");
        assert!(
            published["result"]["epoch"].is_string(),
            "{name}: {published}"
        );

        let broadcast = api(
            "broadcast",
            json!({"channels": ["news", "chat"], "data": {"n": 2}}),
        )
        .await;
        let responses = broadcast["result"]["responses"].as_array().unwrap();
        let offsets: Vec<_> = responses
            .iter()
            .map(|r| r["result"]["offset"].clone())
            .collect();
        assert_eq!(offsets, [2, 1], "{name}: {broadcast}");

        let batch = api(
            "batch",
            json!({"commands": [
                {"publish": {"channel": "chat", "data": {"n": 3}}},
                {"publish": {"channel": "chat"}},
            ]}),
        )
        .await;
        assert_eq!(
            batch["replies"][0]["publish"]["offset"], 2,
            "{name}: {batch}"
        );
        assert_eq!(batch["replies"][1]["error"]["code"], 107, "{name}: {batch}");

        let presence = api("presence", json!({"channel": "news"})).await;
        let entry = &presence["result"]["presence"][client_id.as_str().unwrap()];
        assert_eq!(entry["user"], "alice", "{name}: {presence}");
        assert_eq!(entry["client"], client_id, "{name}: {presence}");
        let stats = api("presence_stats", json!({"channel": "news"})).await;
        assert_eq!(
            stats["result"],
            json!({"num_clients": 1, "num_users": 1}),
            "{name}: {stats}"
        );

        let history = api(
            "history",
            json!({"channel": "news", "limit": 10, "reverse": true}),
        )
        .await;
        let numbers: Vec<_> = history["result"]["publications"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["data"]["n"].clone())
            .collect();
        assert_eq!(numbers, [2, 1], "{name}: {history}");
        assert_eq!(history["result"]["offset"], 2, "{name}: {history}");

        let missing_data = api("publish", json!({"channel": "news"})).await;
        assert_eq!(missing_data["error"]["code"], 107, "{name}: {missing_data}");

        // Centrifugo refreshes its node counts every few seconds, so only the shape compares.
        let info = api("info", json!({})).await;
        let node = &info["result"]["nodes"][0];
        for field in [
            "uid",
            "name",
            "version",
            "num_clients",
            "num_users",
            "num_channels",
        ] {
            assert!(node.get(field).is_some(), "{name}: no {field} in {info}");
        }
    }
}

/// Centrifugo's own paths, which the standalone server serves and the app's server leaves to the
/// app: `/health`, the single API endpoint `/api` with `{"method", "params"}` commands, and the
/// answers to bodies that do not decode.
#[actix_rt::test]
async fn wire_single_api_endpoint_health_and_bad_bodies_as_centrifugo() {
    for target in [Target::standalone(false), Target::centrifugo(false)] {
        let name = target.name;
        let base = target.api_base();
        let client = awc::Client::default();
        let mut health = client
            .get(format!("{base}/health"))
            .send()
            .await
            .expect("health");
        assert_eq!(health.status(), 200, "{name}");
        assert_eq!(health.body().await.unwrap().as_ref(), b"{}", "{name}");

        let post = async |path: &str, key: Option<&str>, body: &str| {
            let mut request = client.post(format!("{base}{path}"));
            if let Some(key) = key {
                request = request.insert_header(("Authorization", format!("apikey {key}")));
            }
            let mut response = request.send_body(body.to_owned()).await.expect("request");
            let body = response.body().await.expect("body");
            (
                response.status().as_u16(),
                String::from_utf8_lossy(&body).into_owned(),
            )
        };
        let key = Some(target.api_key.expose_secret());
        let commands = [
            json!({"method": "publish", "params": {"channel": "news", "data": {"n": 1}}}),
            json!({"id": 7, "method": "HISTORY", "params": {"channel": "news", "limit": 10}}),
            json!({"method": "publish", "params": {"channel": "nowhere:x", "data": {}}}),
            json!({"method": "presence_stats", "params": {"channel": "chat"}}),
        ];
        let body: Vec<String> = commands.iter().map(Value::to_string).collect();
        let (status, text) = post("/api", key, &body.join("\n")).await;
        assert_eq!(status, 200, "{name}: {text}");
        let replies: Vec<Value> = text
            .lines()
            .map(|line| serde_json::from_str(line).expect("a JSON reply per line"))
            .collect();
        assert_eq!(replies.len(), 4, "{name}: {text}");
        assert_eq!(replies[0]["result"]["offset"], 1, "{name}: {text}");
        assert_eq!(replies[1]["id"], 7, "{name}: {text}");
        assert_eq!(
            replies[1]["result"]["publications"][0]["data"],
            json!({"n": 1}),
            "{name}: {text}"
        );
        assert_eq!(
            replies[2]["error"],
            json!({"code": 102, "message": "unknown channel"}),
            "{name}: {text}"
        );
        assert_eq!(
            replies[3]["result"],
            json!({"num_clients": 0, "num_users": 0}),
            "{name}: {text}"
        );

        // A wrong key: 401 with an empty body, on both endpoints.
        assert_eq!(
            post("/api", Some("wrong"), "{}").await,
            (401, String::new()),
            "{name}"
        );
        assert_eq!(
            post("/api/info", None, "{}").await,
            (401, String::new()),
            "{name}"
        );
        // A body that does not decode: 400, as Centrifugo's HTTP handler answers it; a decoded
        // body with a bad value: Centrifugo's error shape.
        assert_eq!(post("/api/publish", key, "{").await.0, 400, "{name}");
        assert_eq!(post("/api", key, "{").await.0, 400, "{name}");
        let (status, text) = post("/api/publish", key, r#"{"channel": "", "data": {}}"#).await;
        assert_eq!(status, 200, "{name}: {text}");
        assert_eq!(
            serde_json::from_str::<Value>(&text).unwrap()["error"]["code"],
            107,
            "{name}: {text}"
        );
    }
}

/// A config with namespaces, for the channel rules of the standalone server and Centrifugo.
fn namespaces_config(port: u16, secret: &Secret, api_key: &Secret, anonymous: bool) -> Value {
    json!({
        "http_server": { "address": "127.0.0.1", "port": port },
        "client": {
            "token": { "hmac_secret_key": secret.expose_secret() },
            "allow_anonymous_connect_without_token": anonymous,
        },
        "http_api": { "key": api_key.expose_secret() },
        "channel": {
            "without_namespace": {},
            "namespaces": [
                { "name": "open", "allow_subscribe_for_client": true, "allow_subscribe_for_anonymous": true,
                  "channel_regex": "^[a-z0-9]+$" },
                { "name": "members", "allow_subscribe_for_client": true, "presence": true,
                  "allow_presence_for_subscriber": true, "allow_publish_for_subscriber": true,
                  "allow_user_limited_channels": true },
                { "name": "closed", "history_size": 10, "history_ttl": "60s",
                  "allow_history_for_client": true },
            ],
        },
        "health": { "enabled": true },
        "usage_stats": { "disabled": true },
    })
}

/// The standalone server and Centrifugo with [`namespaces_config`].
fn namespace_targets(anonymous: bool) -> [Target; 2] {
    let (secret, api_key) = (Secret::generate(), Secret::generate());
    let standalone = StandaloneServer::start(&namespaces_config(0, &secret, &api_key, anonymous));
    assert!(
        standalone.unsupported.is_empty(),
        "{:?}",
        standalone.unsupported
    );
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("config.json");
    let config = namespaces_config(free_port(), &secret, &api_key, anonymous);
    std::fs::write(&path, config.to_string()).expect("write the config");
    let centrifugo = Centrifugo::start_from_file(&path);
    [
        Target {
            name: "standalone embedded server",
            server: Server::Standalone(standalone),
            secret: secret.clone(),
            api_key: api_key.clone(),
        },
        Target {
            name: "Centrifugo v6",
            server: Server::Centrifugo(centrifugo),
            secret,
            api_key,
        },
    ]
}

/// Namespace rules, decided the same way: 102 for an unknown namespace, 107 for a name its
/// `channel_regex` refuses, 103 without permission, a subscription token opening any channel,
/// user-limited channels, publish, presence and history permissions, and 3501 for a connection
/// without a token when anonymous connections are off.
#[actix_rt::test]
async fn wire_namespace_rules_as_centrifugo() {
    for target in namespace_targets(true) {
        let name = target.name;
        let tokens = target.tokens();
        let code = |reply: &Value| reply["error"]["code"].as_u64().unwrap_or(0);

        let mut anonymous = RawClient::open(&target.ws_url()).await;
        anonymous.connect("").await;
        for (channel, expected) in [
            ("open:room1", 0),
            ("open:Room-1", 107),
            ("nowhere:x", 102),
            ("plain", 103),
            ("members:a", 103),
            ("closed:a", 103),
            ("$open:x", 103),
        ] {
            let reply = anonymous
                .call("subscribe", json!({ "channel": channel }))
                .await;
            assert_eq!(code(&reply), expected, "{name}: {channel}: {reply}");
        }
        let history = anonymous
            .call("history", json!({ "channel": "closed:a", "limit": 1 }))
            .await;
        assert_eq!(code(&history), 103, "{name}: anonymous history: {history}");

        let mut alice = RawClient::open(&target.ws_url()).await;
        alice.connect(&tokens.connection("alice", None)).await;
        for (channel, expected) in [
            ("members:a", 0),
            ("members:b#bob,alice", 0),
            ("members:c#bob", 103),
            ("closed:a", 103),
        ] {
            let reply = alice.call("subscribe", json!({ "channel": channel })).await;
            assert_eq!(code(&reply), expected, "{name}: {channel}: {reply}");
        }
        let token = tokens.subscription("alice", "closed:b");
        let reply = alice
            .call(
                "subscribe",
                json!({ "channel": "closed:b", "token": token }),
            )
            .await;
        assert_eq!(code(&reply), 0, "{name}: a token opens closed:b: {reply}");
        let token = tokens.subscription("alice", "$closed:c");
        let reply = alice
            .call(
                "subscribe",
                json!({ "channel": "$closed:c", "token": token }),
            )
            .await;
        assert_eq!(code(&reply), 0, "{name}: a token opens $closed:c: {reply}");

        for (channel, expected) in [("members:a", 0), ("members:z", 103), ("open:room1", 103)] {
            let reply = alice
                .call("publish", json!({ "channel": channel, "data": {"x": 1} }))
                .await;
            assert_eq!(code(&reply), expected, "{name}: publish {channel}: {reply}");
        }
        let presence = alice
            .call("presence_stats", json!({ "channel": "members:a" }))
            .await;
        assert_eq!(
            presence["presence_stats"]["num_clients"], 1,
            "{name}: {presence}"
        );
        let off = alice
            .call("presence", json!({ "channel": "closed:b" }))
            .await;
        assert_eq!(code(&off), 108, "{name}: {off}");
        let history = alice
            .call("history", json!({ "channel": "closed:a", "limit": 1 }))
            .await;
        assert_eq!(
            code(&history),
            0,
            "{name}: history for any client: {history}"
        );
        let none = alice
            .call("history", json!({ "channel": "members:a", "limit": 1 }))
            .await;
        assert_eq!(code(&none), 108, "{name}: {none}");
    }

    for target in namespace_targets(false) {
        let mut client = RawClient::open(&target.ws_url()).await;
        client.command("connect", json!({})).await;
        assert_eq!(client.closed().await, Some(3501), "{}", target.name);
    }
}

/// The standalone server makes a channel on first use and removes it when idle, within
/// `max_pattern_channels` (error 106 beyond).
#[actix_rt::test]
async fn standalone_channels_live_while_used_within_the_bound() {
    let (secret, api_key) = (Secret::generate(), Secret::generate());
    let mut config = instant_actix::StandaloneConfig::from_json(
        &namespaces_config(0, &secret, &api_key, true).to_string(),
    )
    .unwrap();
    config.options.max_pattern_channels = 2;
    let server = instant_actix::EmbeddedServer::standalone(config);
    let http = standalone_support::StandaloneServer::serve(server.clone());
    let mut client = RawClient::open(&http.ws_url()).await;
    client.connect("").await;
    for channel in ["open:a", "open:b"] {
        let reply = client
            .call("subscribe", json!({ "channel": channel }))
            .await;
        assert!(reply.get("subscribe").is_some(), "{reply}");
    }
    assert_eq!(server.live_pattern_channels(), 2);
    let full = client
        .call("subscribe", json!({ "channel": "open:c" }))
        .await;
    assert_eq!(full["error"]["code"], 106, "{full}");
    client
        .call("unsubscribe", json!({ "channel": "open:a" }))
        .await;
    assert_eq!(server.live_pattern_channels(), 1);
    let room = client
        .call("subscribe", json!({ "channel": "open:c" }))
        .await;
    assert!(room.get("subscribe").is_some(), "{room}");
}

/// Recovery and positioning are granted as Centrifugo grants them: by `force_recovery`, or to a
/// client that asks (`recoverable`, `positioned`) and may read the history; the subscribe replies
/// of the standalone server and Centrifugo are the same, epochs aside.
#[actix_rt::test]
async fn wire_recovery_and_positioning_are_granted_as_centrifugo_grants_them() {
    let config = |port: u16, secret: &Secret, api_key: &Secret| {
        json!({
            "http_server": { "address": "127.0.0.1", "port": port },
            "client": {
                "token": { "hmac_secret_key": secret.expose_secret() },
                "allow_anonymous_connect_without_token": true,
            },
            "http_api": { "key": api_key.expose_secret() },
            "channel": {
                "without_namespace": {
                    "allow_subscribe_for_client": true, "allow_subscribe_for_anonymous": true,
                    "history_size": 10, "history_ttl": "60s",
                    "allow_history_for_subscriber": true, "allow_history_for_anonymous": true,
                },
                "namespaces": [
                    { "name": "hidden", "allow_subscribe_for_client": true,
                      "allow_subscribe_for_anonymous": true, "history_size": 10, "history_ttl": "60s" },
                    { "name": "forced", "allow_subscribe_for_client": true,
                      "allow_subscribe_for_anonymous": true, "history_size": 10, "history_ttl": "60s",
                      "force_recovery": true },
                ],
            },
            "health": { "enabled": true },
            "usage_stats": { "disabled": true },
        })
    };
    let (secret, api_key) = (Secret::generate(), Secret::generate());
    let standalone = StandaloneServer::start(&config(0, &secret, &api_key));
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("config.json");
    std::fs::write(&path, config(free_port(), &secret, &api_key).to_string()).unwrap();
    let centrifugo = Centrifugo::start_from_file(&path);

    let requests = [
        json!({"channel": "a"}),
        json!({"channel": "b", "recoverable": true}),
        json!({"channel": "c", "positioned": true}),
        json!({"channel": "hidden:d", "recoverable": true}),
        json!({"channel": "e", "recover": true, "offset": 0, "epoch": "x"}),
        json!({"channel": "f", "recoverable": true, "recover": true, "offset": 0, "epoch": "x"}),
        json!({"channel": "forced:g"}),
    ];
    let mut answers = Vec::new();
    for url in [standalone.ws_url(), centrifugo.ws_url()] {
        let mut client = RawClient::open(&url).await;
        client.connect("").await;
        let mut replies = Vec::new();
        for request in &requests {
            let mut reply = client.call("subscribe", request.clone()).await["subscribe"].clone();
            if reply.get("epoch").is_some() {
                reply["epoch"] = json!("E");
            }
            replies.push(reply);
        }
        answers.push(replies);
    }
    assert_eq!(
        answers[0], answers[1],
        "standalone (left) and Centrifugo (right)"
    );
    assert_eq!(answers[1][0], json!({}));
    assert_eq!(answers[1][1]["recoverable"], true);
}
