//! The example's binary against real Centrifugo v6 servers, as its README runs it: settings in
//! `INSTANT_*` variables, the demo's pages and login, the superuser frontend's publish route.
//!
//! - One node: a page's `#instant-config` sends the browser to Centrifugo's WebSocket endpoint
//!   with tokens Centrifugo accepts, and an event published as `admin` through the app's
//!   `/instant/publish` reaches a centrifuge-js subscriber connected to Centrifugo; the app serves
//!   no WebSocket endpoint of its own.
//! - Two nodes sharing one Redis (`INSTANT_CENTRIFUGO_URLS`): events published through the app,
//!   which spreads them over both nodes, reach a subscriber on each node, every one exactly once.
//!
//! Needs Centrifugo, `redis-server` and the Node clients (`cargo xtask test` installs them).

use std::collections::BTreeSet;
use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use instant::testing::PageConfig;
use instant_testkit::{Centrifugo, CentrifugoOptions, NodeClient, NodeSpec, Redis};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(5);
/// Shared by the nodes of the two-node test (Centrifugo reads them from its config).
const SECRET: &str = "cluster-example-secret-0123456789-abcdef";
const API_KEY: &str = "cluster-example-api-key-0123456789-abcdef";

/// The example's binary, killed when dropped.
struct Example {
    child: Child,
    url: String,
    http: ureq::Agent,
    _dir: tempfile::TempDir,
}

impl Example {
    /// Runs the example in an empty directory (no `instant.toml`) with only these variables.
    fn start(env: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_cluster"))
            .current_dir(dir.path())
            .env_clear()
            .env("INSTANT_ADDR", "127.0.0.1:0")
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the example starts");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout
            .read_line(&mut line)
            .expect("the example prints its address");
        // Keep reading, so that the example never writes into a closed pipe.
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                println!("example: {line}");
            }
        });
        let url = line
            .split_whitespace()
            .find(|word| word.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in the example's first line: {line:?}"))
            .to_owned();
        let http = ureq::Agent::config_builder()
            .max_redirects(0)
            .http_status_as_error(false)
            .timeout_global(Some(WAIT))
            .build()
            .new_agent();
        Self {
            child,
            url,
            http,
            _dir: dir,
        }
    }

    /// Logs in through the demo's form; returns the session cookie (`name=value`).
    fn log_in(&self, user: &str) -> String {
        let response = self
            .http
            .post(format!("{}/login", self.url))
            .send_form([("username", user), ("password", demo::PASSWORD)])
            .unwrap();
        assert_eq!(response.status(), 303, "logging in as {user}");
        let cookie = response
            .headers()
            .get("set-cookie")
            .expect("the login sets the session cookie")
            .to_str()
            .unwrap();
        cookie.split(';').next().unwrap().to_owned()
    }

    /// The `#instant-config` of a page, as `cookie`'s user (or anonymously).
    fn page(&self, path: &str, cookie: Option<&str>) -> PageConfig {
        let mut request = self.http.get(format!("{}{path}", self.url));
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        let mut response = request.call().unwrap();
        assert_eq!(response.status(), 200, "GET {path}");
        let html = response.body_mut().read_to_string().unwrap();
        PageConfig::from_html(&html).unwrap_or_else(|e| panic!("{path}: {e}\n{html}"))
    }

    /// Publishes through the superuser frontend's route; returns the event's `uid`.
    fn publish(&self, cookie: &str, channel: &str, message: &str) -> String {
        let mut response = self
            .http
            .post(format!("{}{}", self.url, instant::paths::PUBLISH))
            .header("cookie", cookie)
            .content_type("application/json")
            .send(
                json!({
                    "channel": channel,
                    "message": message,
                    "event_class": "info",
                    "data": {"via": "centrifugo"},
                })
                .to_string(),
            )
            .unwrap();
        let body = response.body_mut().read_to_string().unwrap();
        assert_eq!(response.status(), 200, "publish: {body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["ok"], json!(true), "{body}");
        body["uid"].as_str().unwrap().to_owned()
    }

    fn status(&self, path: &str) -> u16 {
        self.http
            .get(format!("{}{path}", self.url))
            .call()
            .unwrap()
            .status()
            .as_u16()
    }
}

impl Drop for Example {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A centrifuge-js client on `ws_url` with a page's connection token, subscribed with the page's
/// tokens to `channels`.
fn subscriber(ws_url: &str, page: &PageConfig, channels: &[&str]) -> NodeClient {
    let mut spec = NodeSpec::new(ws_url).token(page.token.clone());
    for name in channels {
        let channel = page
            .channel(name)
            .unwrap_or_else(|| panic!("the page does not join {name}: {page:#?}"));
        spec = match &channel.token {
            Some(token) => spec.subscribe_with_token(*name, token.clone()),
            None => spec.subscribe(*name),
        };
    }
    let mut client = NodeClient::spawn(spec);
    // The subscriptions answer in any order: a channel with a token may come second.
    client.wait_for_each("subscribed", channels, WAIT);
    client
}

/// The uid of a publication event, whose data is the event as the browser receives it.
fn received_uid(event: &instant_testkit::NodeEvent) -> String {
    let data = event.data().expect("a publication has data");
    data["uid"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn the_demo_publishes_and_connects_through_centrifugo() {
    let centrifugo =
        Centrifugo::start(CentrifugoOptions::default().allow_anonymous_connect_without_token(true));
    let url = centrifugo.url();
    let example = Example::start(&[
        ("INSTANT_CENTRIFUGO_URL", &url),
        ("INSTANT_SECRET", centrifugo.secret().expose_secret()),
        (
            "INSTANT_CENTRIFUGO_API_KEY",
            centrifugo.api_key().expose_secret(),
        ),
        ("INSTANT_SITE_SLUG", "mysite"),
    ]);

    // Anonymous visitors are sent to Centrifugo, for the public channels only.
    let anonymous = example.page("/", None);
    assert_eq!(anonymous.ws_url, centrifugo.ws_url());
    assert_eq!(
        anonymous.channel_names(),
        ["mysite_public1", "mysite_public2"]
    );
    // The app serves no WebSocket endpoint of its own with Centrifugo.
    assert_eq!(example.status("/connection/websocket"), 404);

    // A staff member's page on /a/path: tokens that Centrifugo accepts.
    let staff = example.log_in("staff");
    let page = example.page("/a/path", Some(&staff));
    assert_eq!(page.ws_url, centrifugo.ws_url());
    let mut browser = subscriber(&page.ws_url, &page, &["$mysite_staff1", "mysite_public1"]);

    // The superuser frontend publishes through Centrifugo's API; Centrifugo delivers.
    let admin = example.log_in("admin");
    let uid = example.publish(&admin, "$mysite_staff1", "Stock is low");
    let event = browser.wait_for(|e| e.is_on("publication", "$mysite_staff1"), WAIT);
    let data = event.data().unwrap();
    assert_eq!(received_uid(&event), uid);
    assert_eq!(
        (&data["message"], &data["event_class"], &data["site"]),
        (&json!("Stock is low"), &json!("info"), &json!("mysite")),
        "{event}"
    );
    assert_eq!(data["data"], json!({"via": "centrifugo"}));

    let uid = example.publish(&admin, "mysite_public1", "Hello everyone");
    let event = browser.wait_for(|e| e.is_on("publication", "mysite_public1"), WAIT);
    assert_eq!(received_uid(&event), uid);

    // A staff member may not publish through the frontend.
    let response = example
        .http
        .post(format!("{}{}", example.url, instant::paths::PUBLISH))
        .header("cookie", &staff)
        .content_type("application/json")
        .send(json!({"channel": "mysite_public1", "message": "no"}).to_string())
        .unwrap();
    assert_eq!(response.status(), 403);
}

#[test]
fn two_nodes_on_one_redis_deliver_every_event_to_both() {
    let redis = Redis::start();
    let shared = json!({
        "engine": {"type": "redis", "redis": {"address": redis.address()}},
        "client": {"token": {"hmac_secret_key": SECRET}},
        "http_api": {"key": API_KEY},
    });
    let node = || Centrifugo::start(CentrifugoOptions::default().extra(shared.clone()));
    let (a, b) = (node(), node());
    let nodes = format!("{} {}", a.url(), b.url());
    let example = Example::start(&[
        ("INSTANT_CENTRIFUGO_URLS", &nodes),
        ("INSTANT_SECRET", SECRET),
        ("INSTANT_CENTRIFUGO_API_KEY", API_KEY),
    ]);

    // The browsers' WebSocket URL follows the first node unless `websocket_url` names a load
    // balancer; the page's tokens are good on every node, since they share the secret.
    let user = example.log_in("user");
    let page = example.page("/", Some(&user));
    assert_eq!(page.ws_url, a.ws_url());
    let channels = ["$mysite_users1", "mysite_public1"];
    let mut on_a = subscriber(&a.ws_url(), &page, &channels);
    let mut on_b = subscriber(&b.ws_url(), &page, &channels);

    // The app spreads its publishes over both nodes; Redis carries each to the other node.
    let admin = example.log_in("admin");
    let sent: BTreeSet<String> = (0..6)
        .map(|i| example.publish(&admin, channels[i % 2], &format!("event {i}")))
        .collect();
    assert_eq!(sent.len(), 6);
    for (name, client) in [("node A", &mut on_a), ("node B", &mut on_b)] {
        let mut received = BTreeSet::new();
        while received.len() < sent.len() {
            let event = client.wait_for(|e| e.is("publication"), WAIT);
            assert!(
                received.insert(received_uid(&event)),
                "{name} received {event} twice"
            );
        }
        assert_eq!(received, sent, "{name}");
        // Nothing more arrives: no event is delivered twice.
        assert!(
            client
                .try_wait_for(|e| e.is("publication"), Duration::from_millis(300))
                .is_none(),
            "{name} received an extra publication"
        );
    }
}
