//! The authorization matrix through every door, on both servers: 4 kinds of user (anonymous,
//! user, staff, superuser) × 8 channels (4 levels, each on every path and limited to `/a`) × the
//! pages `/`, `/a` and `/b`, both auth routes, and then over a real WebSocket `subscribe`, client
//! `publish`, `presence` and `history` on each channel, with the tokens the page gave and with
//! those the auth routes gave.
//!
//! The same doors for channel patterns: `users "$order_{id}"`, whose per-object asynchronous check
//! lets order N to its owner `uN` (and to staff and superusers), the public `"room_{name}"`, the
//! personal channels (`personal:#{user}`, their own user only), and names no declaration makes.
//! A page holds a pattern's channel only where its handler joins it (`/j`).
//!
//! The app runs on a real HTTP server twice: once with its embedded server, once pointing at a
//! real Centrifugo v6 configured as `instant genconfig` configures it (public channels open to
//! anyone, `$` channels by token only, presence and history for subscribers, history for
//! anonymous ones too, presence not, client publishing off; the `personal` namespace with the same
//! options and `allow_user_limited_channels`). Every outcome is derived from the
//! rules, not from either server, and both servers must give it, with one exception the config
//! rules make: Centrifugo does not know the app's declarations, so a name without `$` or `#`
//! that no declaration makes (`room_a_b`) is open there as its namespace's options say, while the
//! app's doors and the embedded server refuse it. Needs the Centrifugo binary; fails, never
//! skips, without it.

mod common;
mod embedded_support;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use embedded_support::{RawClient, WAIT};
use instant_actix::{EmbeddedOptions, InstantMiddleware, Realtime, RealtimeBuilder, User, join};
use instant_core::{Channel, ChannelOptions, ChannelSet, Level, Params};
use instant_testkit::{Centrifugo, CentrifugoOptions};
use serde_json::{Value, json};

use common::{injected_config, matrix_channels};

/// The user kinds: (header value or none, id, level).
const USERS: [(Option<&str>, &str, Level); 4] = [
    (None, "", Level::Public),
    (Some("u1:users"), "u1", Level::Users),
    (Some("s1:staff"), "s1", Level::Staff),
    (Some("root:superuser"), "root", Level::Superuser),
];

const PATHS: [&str; 4] = ["/", "/a", "/b", JOIN_PATH];

/// The page whose handler joins every name of [`JOINED`].
const JOIN_PATH: &str = "/j";

/// The concrete names checked besides the fixed channels: made by the patterns, personal ones,
/// and names no declaration makes (`room_a_b`: `_` is no parameter character).
const JOINED: [&str; 10] = [
    "$order_1",
    "$order_2",
    "room_lobby",
    "personal:#u1",
    "personal:#s1",
    "personal:#root",
    "$unknown_1",
    "room_a_b",
    "$order_{id}",
    "personal:#{user}",
];

/// The names of [`JOINED`] no declaration makes: a pattern's own name is none of its channels.
const UNDECLARED: [&str; 4] = ["$unknown_1", "room_a_b", "$order_{id}", "personal:#{user}"];

/// The fixed channels of the matrix and the two patterns; `personal:#{user}` comes with
/// `personal_channel(true)`.
fn channels() -> ChannelSet {
    let mut channels: Vec<Channel> = matrix_channels().iter().cloned().collect();
    channels.push(Channel::new("$order_{id}", Level::Users).expect("pattern"));
    channels.push(Channel::new("room_{name}", Level::Public).expect("pattern"));
    ChannelSet::new(channels).expect("channels")
}

/// Order N is user `uN`'s; staff and superusers see every order.
fn may_see_order(user: Option<&User>, params: &Params) -> bool {
    user.is_some_and(|user| {
        user.level >= Level::Staff
            || params
                .get("id")
                .is_some_and(|id| user.id == format!("u{id}"))
    })
}

/// Both sites' set-up: the channels, personal channels, and the per-object check.
fn builder() -> RealtimeBuilder {
    common::builder()
        .channels(channels())
        .personal_channel(true)
        .authorize_async(|user, channel, params| async move {
            // A real suspension point, as a database query has.
            tokio::task::yield_now().await;
            channel.name() != "$order_{id}" || may_see_order(user.as_ref(), &params)
        })
}

/// Every name the doors are asked about: the fixed channels, then [`JOINED`].
fn all_names() -> Vec<String> {
    matrix_channels()
        .iter()
        .map(|c| c.name().to_owned())
        .chain(JOINED.map(str::to_owned))
        .collect()
}

/// Whether the rules (not the code under test) let `id` of `level` join `name`.
fn allowed(id: &str, level: Level, name: &str) -> bool {
    if let Some(channel) = matrix_channels().get(name) {
        return level >= channel.level();
    }
    match name {
        "$order_1" => level >= Level::Staff || id == "u1",
        "$order_2" => level >= Level::Staff,
        "room_lobby" => true,
        "personal:#u1" | "personal:#s1" | "personal:#root" => {
            !id.is_empty() && name == format!("personal:#{id}")
        }
        other if UNDECLARED.contains(&other) => false,
        other => panic!("no rule for {other}"),
    }
}

/// What a server did with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    Ok,
    Error(u64),
    Closed(Option<u16>),
}

/// The app on a real HTTP server, with its pages.
struct Site {
    name: &'static str,
    base: String,
    ws_url: String,
    handle: actix_web::dev::ServerHandle,
    /// Whether the server opens names no declaration makes (see [`expected_over_websocket`]).
    opens_undeclared_public: bool,
    _centrifugo: Option<Centrifugo>,
}

impl Drop for Site {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

fn serve(realtime: Realtime) -> (SocketAddr, actix_web::dev::ServerHandle) {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_rt::System::new().block_on(async move {
            let http = HttpServer::new(move || {
                let page = || async {
                    HttpResponse::Ok()
                        .content_type("text/html")
                        .body("<html><head></head><body></body></html>")
                };
                let joining = |req: HttpRequest| async move {
                    for name in JOINED {
                        join(&req, name);
                    }
                    HttpResponse::Ok()
                        .content_type("text/html")
                        .body("<html><head></head><body></body></html>")
                };
                App::new()
                    .wrap(InstantMiddleware)
                    .configure(realtime.routes())
                    .route("/", web::get().to(page))
                    .route("/a", web::get().to(page))
                    .route("/b", web::get().to(page))
                    .route(JOIN_PATH, web::get().to(joining))
            })
            .workers(1)
            .bind(("127.0.0.1", 0))
            .expect("bind");
            let addr = http.addrs()[0];
            let running = http.run();
            tx.send((addr, running.handle()))
                .expect("report the address");
            running.await.expect("serve");
        });
    });
    rx.recv_timeout(WAIT).expect("the app starts")
}

impl Site {
    fn embedded() -> Self {
        let mut options = EmbeddedOptions::default();
        options.channel_defaults = genconfig_like();
        let realtime = builder().embedded_options(options).build().expect("set-up");
        let (addr, handle) = serve(realtime);
        Self {
            name: "embedded",
            base: format!("http://{addr}"),
            ws_url: format!("ws://{addr}/connection/websocket"),
            handle,
            opens_undeclared_public: false,
            _centrifugo: None,
        }
    }

    fn centrifugo() -> Self {
        // The personal channels' namespace as `instant genconfig` writes it for a `[[channels]]`
        // entry `personal:#{user}` with presence and history.
        let personal = json!({
            "name": "personal",
            "allow_subscribe_for_client": true,
            "allow_subscribe_for_anonymous": true,
            "allow_user_limited_channels": true,
            "presence": true,
            "allow_presence_for_subscriber": true,
            "history_size": 10,
            "history_ttl": "300s",
            "allow_history_for_subscriber": true,
            "allow_history_for_anonymous": true,
        });
        let centrifugo = Centrifugo::start(
            CentrifugoOptions::default()
                .allow_anonymous_connect_without_token(true)
                .namespace(personal)
                .extra(json!({"channel": {"without_namespace": {
                    // What `instant genconfig` writes for channels with presence and history.
                    "allow_subscribe_for_client": true,
                    "allow_subscribe_for_anonymous": true,
                    "presence": true,
                    "allow_presence_for_subscriber": true,
                    "history_size": 10,
                    "history_ttl": "300s",
                    "allow_history_for_subscriber": true,
                    "allow_history_for_anonymous": true,
                }}})),
        );
        let config = centrifugo
            .config_builder()
            .site_slug("testsite")
            .build()
            .expect("config");
        let realtime = builder().config(config).build().expect("set-up");
        let (addr, handle) = serve(realtime);
        Self {
            name: "Centrifugo",
            base: format!("http://{addr}"),
            ws_url: centrifugo.ws_url(),
            handle,
            opens_undeclared_public: true,
            _centrifugo: Some(centrifugo),
        }
    }
}

/// The channel options both servers get: presence and a history of 10.
fn genconfig_like() -> ChannelOptions {
    let mut options = ChannelOptions::default();
    options.presence = true;
    options.history_size = 10;
    options.history_ttl = Duration::from_secs(300);
    options
}

/// The channels `id` of `level` may join on `path`, by the rules (not by the code under test):
/// the fixed ones of the path, the user's personal channel on every page, and the joined names
/// on the page that joins them.
fn expected_on_page(id: &str, level: Level, path: &str) -> BTreeSet<String> {
    let mut expected: BTreeSet<String> = matrix_channels()
        .iter()
        .filter(|c| level >= c.level())
        .filter(|c| c.paths().len() == 0 || c.paths().any(|p| p == path))
        .map(|c| c.name().to_owned())
        .collect();
    if !id.is_empty() {
        expected.insert(format!("personal:#{id}"));
    }
    if path == JOIN_PATH {
        expected.extend(
            JOINED
                .iter()
                .filter(|name| allowed(id, level, name))
                .map(|name| (*name).to_owned()),
        );
    }
    expected
}

/// What the rules ask of one WebSocket door.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    Is(Outcome),
    /// Any error: the servers refuse a name no declaration makes with different codes (the
    /// embedded server's `history` answers 107, as behind a Centrifugo `channel_regex`).
    Refused,
}

impl Want {
    fn accepts(self, got: Outcome) -> bool {
        match self {
            Self::Is(want) => got == want,
            Self::Refused => matches!(got, Outcome::Error(_)),
        }
    }
}

/// What each WebSocket door should answer, by the rules: `(subscribe, publish, presence,
/// history)` for `id` of `level` on `channel`.
fn expected_over_websocket(site: &Site, id: &str, level: Level, channel: &str) -> [Want; 4] {
    let undeclared = UNDECLARED.contains(&channel);
    let open = allowed(id, level, channel)
        // Centrifugo knows namespaces, not the app's declarations: `allow_subscribe_for_client`
        // opens every name without `$` or a `#` user boundary in its namespace.
        || (undeclared && site.opens_undeclared_public && !channel.contains(['$', '#']));
    if !open {
        // Refused at subscribe; not subscribed, nothing else is open either.
        return if undeclared {
            [Want::Refused; 4]
        } else {
            [Want::Is(Outcome::Error(103)); 4]
        };
    }
    let presence = if level == Level::Public {
        // Presence is for logged-in subscribers only, unless a channel opts in.
        Outcome::Error(103)
    } else {
        Outcome::Ok
    };
    // Client publishing is off: events go through the server.
    [Outcome::Ok, Outcome::Error(103), presence, Outcome::Ok].map(Want::Is)
}

async fn get_page(site: &Site, path: &str, user: Option<&str>) -> Value {
    let mut request = awc::Client::default().get(format!("{}{path}", site.base));
    if let Some(user) = user {
        request = request.insert_header(("x-test-user", user));
    }
    let mut response = request.send().await.expect("page");
    let body = response.body().await.expect("page body");
    injected_config(&String::from_utf8_lossy(&body)).expect("config injected")
}

async fn post(site: &Site, path: &str, user: Option<&str>, body: &Value) -> (u16, Value) {
    let mut request = awc::Client::default().post(format!("{}{path}", site.base));
    if let Some(user) = user {
        request = request.insert_header(("x-test-user", user));
    }
    let mut response = request.send_json(body).await.expect("auth route");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn outcome(client: &mut RawClient, method: &str, params: Value) -> Outcome {
    let id = client.command(method, params).await;
    loop {
        match client.next_or_close().await {
            Ok(reply) if reply["id"] == id && reply.get(method).is_some() => return Outcome::Ok,
            Ok(reply) if reply["id"] == id => {
                return Outcome::Error(
                    reply["error"]["code"]
                        .as_u64()
                        .unwrap_or_else(|| panic!("neither result nor error: {reply}")),
                );
            }
            // Pushes (join, publications) may come in between.
            Ok(reply) if reply.get("push").is_some() => {}
            Ok(other) => panic!("unexpected message: {other}"),
            Err(code) => return Outcome::Closed(code),
        }
    }
}

/// Connects with `token`, then goes through every channel with `tokens` (none for a channel
/// without one); returns what each door answered per channel.
async fn through_websocket(
    site: &Site,
    token: &str,
    tokens: &BTreeMap<String, String>,
) -> BTreeMap<String, [Outcome; 4]> {
    let mut client = RawClient::open(&site.ws_url).await;
    client.connect(token).await;
    let mut outcomes = BTreeMap::new();
    for channel in all_names() {
        let mut subscribe = json!({"channel": channel});
        if let Some(token) = tokens.get(&channel) {
            subscribe["token"] = json!(token);
        }
        let subscribed = outcome(&mut client, "subscribe", subscribe).await;
        let published = outcome(
            &mut client,
            "publish",
            json!({"channel": channel, "data": {"from": "client"}}),
        )
        .await;
        let presence = outcome(&mut client, "presence", json!({"channel": channel})).await;
        let history = outcome(
            &mut client,
            "history",
            json!({"channel": channel, "limit": -1}),
        )
        .await;
        outcomes.insert(channel, [subscribed, published, presence, history]);
    }
    outcomes
}

/// Runs the whole matrix on one site; returns the failures and how many checks passed.
async fn matrix(site: &Site) -> (Vec<String>, usize) {
    let mut failures = Vec::new();
    let mut checks = 0;
    let mut check = |ok: bool, what: String| {
        checks += 1;
        if !ok {
            failures.push(format!("{}: {what}", site.name));
        }
    };
    for (header, id, level) in USERS {
        let who = if id.is_empty() { "anonymous" } else { id };
        // The page door: the channels listed, with a token for each private one.
        let mut page_tokens = BTreeMap::new();
        let mut page_connection_token = String::new();
        for path in PATHS {
            let config = get_page(site, path, header).await;
            let listed: BTreeSet<String> = config["channels"]
                .as_array()
                .expect("channels")
                .iter()
                .map(|c| c["name"].as_str().expect("name").to_owned())
                .collect();
            let expected = expected_on_page(id, level, path);
            check(
                listed == expected,
                format!("page {path} of {who} lists {listed:?}, expected {expected:?}"),
            );
            for channel in config["channels"].as_array().expect("channels") {
                if let Some(token) = channel["token"].as_str() {
                    page_tokens.insert(
                        channel["name"].as_str().expect("name").to_owned(),
                        token.to_owned(),
                    );
                }
            }
            page_connection_token = config["token"].as_str().unwrap_or_default().to_owned();
        }
        // Both auth routes.
        let (status, reply) = post(site, "/instant/auth/connection", header, &json!({})).await;
        check(
            status == 200,
            format!("connection token of {who}: {status}"),
        );
        let route_connection_token = reply["token"].as_str().unwrap_or_default().to_owned();
        check(
            route_connection_token.is_empty() == (level == Level::Public),
            format!("connection token of {who}: {reply}"),
        );
        let mut route_tokens = BTreeMap::new();
        for name in all_names() {
            let (status, reply) = post(
                site,
                "/instant/auth/subscription",
                header,
                &json!({ "channel": name }),
            )
            .await;
            let allowed = allowed(id, level, &name);
            check(
                status == if allowed { 200 } else { 403 },
                format!("subscription token of {who} for {name}: {status} {reply}"),
            );
            if let Some(token) = reply["token"].as_str().filter(|t| !t.is_empty()) {
                route_tokens.insert(name.clone(), token.to_owned());
            }
        }
        let (status, reply) = post(
            site,
            "/instant/auth/subscription",
            header,
            &json!({ "channels": all_names() }),
        )
        .await;
        let batch: BTreeSet<String> = reply["tokens"]
            .as_object()
            .map(|tokens| tokens.keys().cloned().collect())
            .unwrap_or_default();
        let allowed: BTreeSet<String> = all_names()
            .into_iter()
            .filter(|name| allowed(id, level, name))
            .collect();
        check(
            status == 200 && batch == allowed,
            format!("batch of {who}: {status} {reply}"),
        );
        // Over the WebSocket, with the page's tokens, then with the routes'.
        for (door, token, tokens) in [
            ("page", &page_connection_token, &page_tokens),
            ("auth routes", &route_connection_token, &route_tokens),
        ] {
            for (channel, got) in through_websocket(site, token, tokens).await {
                let want = expected_over_websocket(site, id, level, &channel);
                check(
                    want.iter().zip(got).all(|(want, got)| want.accepts(got)),
                    format!(
                        "{who} on {channel} with the {door}' tokens: (subscribe, publish, \
                         presence, history) = {got:?}, expected {want:?}"
                    ),
                );
            }
        }
    }
    (failures, checks)
}

#[actix_rt::test]
async fn every_door_follows_the_rules_on_both_servers() {
    let mut failures = Vec::new();
    for site in [Site::embedded(), Site::centrifugo()] {
        let (mut mine, checks) = matrix(&site).await;
        eprintln!("{}: {checks} checks, {} failed", site.name, mine.len());
        failures.append(&mut mine);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
