//! Safe defaults and limits: presence closed to anonymous clients (embedded server and
//! Centrifugo), the per-connection command budget, the per-address and anonymous connection caps,
//! pages with tokens kept out of caches, the WebSocket URL and origin host not taken from
//! forwarded headers, `authorize` on private channels only, one answer for every refused channel,
//! and the server API under `/instant/api`, leaving the app's `/api` alone.

mod common;
mod embedded_support;

use std::time::Duration;

use actix_web::http::{StatusCode, header};
use actix_web::{App, HttpResponse, test, web};
use embedded_support::{RawClient, TestServer, test_config};
use instant_actix::{ChannelOptions, EmbeddedOptions, InstantMiddleware, User, paths};
use instant_testkit::{Centrifugo, CentrifugoOptions};
use serde_json::{Value, json};

/// `news` with presence and join/leave on, for logged-in subscribers only; `chat` open to
/// anonymous subscribers too; `$users` with the defaults (presence off).
fn presence_options() -> EmbeddedOptions {
    let mut members = ChannelOptions::default();
    members.presence = true;
    members.join_leave = true;
    let mut everyone = members.clone();
    everyone.presence_for_anonymous = true;
    EmbeddedOptions::default()
        .channel("news", members)
        .channel("chat", everyone)
}

/// Alice (logged in) and an anonymous client subscribe to `channel` asking for join/leave
/// messages, then Bob joins. Returns what Alice and the anonymous client got: their presence
/// replies and whether Bob's join reached them.
async fn presence_seen(ws_url: &str, tokens: &instant_core::Tokens, channel: &str) -> [Value; 4] {
    let mut alice = RawClient::open(ws_url).await;
    alice.connect(&tokens.connection("alice", None)).await;
    alice
        .call("subscribe", json!({"channel": channel, "join_leave": true}))
        .await;
    let mut anonymous = RawClient::open(ws_url).await;
    anonymous.connect("").await;
    anonymous
        .call("subscribe", json!({"channel": channel, "join_leave": true}))
        .await;
    let mut bob = RawClient::open(ws_url).await;
    bob.connect(&tokens.connection("bob", None)).await;
    bob.call("subscribe", json!({"channel": channel})).await;
    // Once Bob's next command is answered, his subscription (and its join messages) is done.
    bob.call("presence_stats", json!({"channel": channel}))
        .await;

    let alice_join = loop {
        let push = alice.push().await;
        if push["join"]["info"]["user"] == "bob" {
            break push;
        }
    };
    let alice_presence = alice.call("presence", json!({"channel": channel})).await;
    let anonymous_presence = anonymous
        .call("presence", json!({"channel": channel}))
        .await;
    // A join sent to the anonymous client came before the answer to its presence call, and
    // `reply` keeps such pushes buffered.
    let mut anonymous_joined = false;
    while let Some(message) = anonymous.buffered_message() {
        anonymous_joined |= message["push"]["join"]["info"]["user"] == "bob";
    }
    [
        alice_presence,
        alice_join,
        anonymous_presence,
        Value::Bool(anonymous_joined),
    ]
}

#[actix_rt::test]
async fn presence_and_join_leave_are_closed_to_anonymous_clients_on_the_embedded_server() {
    let defaults = ChannelOptions::default();
    assert!(!defaults.presence && !defaults.join_leave && !defaults.presence_for_anonymous);

    let server = TestServer::start(test_config(), presence_options());
    let tokens = server.config.tokens();
    let [alice, alice_join, anonymous, anonymous_joined] =
        presence_seen(&server.ws_url(), &tokens, "news").await;
    assert!(alice["presence"]["presence"].is_object(), "{alice}");
    assert_eq!(alice_join["join"]["info"]["user"], "bob", "{alice_join}");
    assert_eq!(anonymous["error"]["code"], 103, "{anonymous}");
    assert_eq!(anonymous_joined, false, "no join/leave feed for anonymous");

    // Opted in: anonymous subscribers see presence and joins.
    let [_, _, anonymous, anonymous_joined] =
        presence_seen(&server.ws_url(), &tokens, "chat").await;
    assert!(anonymous["presence"]["presence"].is_object(), "{anonymous}");
    assert_eq!(anonymous_joined, true);

    // The defaults: no presence at all.
    let mut alice = RawClient::open(&server.ws_url()).await;
    alice
        .connect(&tokens.connection("alice", Some(&json!({"name": "Alice"}))))
        .await;
    alice
        .call(
            "subscribe",
            json!({"channel": "$users", "token": tokens.subscription("alice", "$users")}),
        )
        .await;
    let reply = alice.call("presence", json!({"channel": "$users"})).await;
    assert_eq!(reply["error"]["code"], 108, "{reply}");
}

#[actix_rt::test]
async fn presence_is_closed_to_anonymous_clients_on_centrifugo() {
    // What `instant genconfig` writes for a channel with presence and join/leave on and no
    // `presence_for_anonymous` (see centrifugo_config's tests): presence for subscribers only.
    let centrifugo = Centrifugo::start(
        CentrifugoOptions::default()
            .presence(true)
            .join_leave(true)
            .allow_subscribe_for_client(true)
            .allow_subscribe_for_anonymous(true)
            .allow_anonymous_connect_without_token(true),
    );
    let [alice, alice_join, anonymous, anonymous_joined] =
        presence_seen(&centrifugo.ws_url(), &centrifugo.tokens(), "news").await;
    assert!(alice["presence"]["presence"].is_object(), "{alice}");
    assert_eq!(alice_join["join"]["info"]["user"], "bob", "{alice_join}");
    assert_eq!(anonymous["error"]["code"], 103, "{anonymous}");
    assert_eq!(anonymous_joined, false);
}

#[actix_rt::test]
async fn a_frame_of_many_commands_is_cut_short_by_the_command_budget() {
    let mut options = presence_options();
    options.command_burst = 20;
    options.command_rate = 1;
    let server = TestServer::start(test_config(), options);
    let tokens = server.config.tokens();
    let mut client = RawClient::open(&server.ws_url()).await;
    client.connect(&tokens.connection("alice", None)).await;
    client.call("subscribe", json!({"channel": "news"})).await;
    // One frame of 1,000 presence commands.
    let frame: Vec<String> = (100..1100)
        .map(|id| json!({"id": id, "presence": {"channel": "news"}}).to_string())
        .collect();
    client.send_text(frame.join("\n")).await;
    let (mut answered, mut refused) = (0, 0);
    let code = loop {
        match client.next_or_close().await {
            Ok(message) if message.get("presence").is_some() => answered += 1,
            Ok(message) if message["error"]["code"] == 111 => {
                assert_eq!(message["error"]["temporary"], true, "{message}");
                refused += 1;
            }
            Ok(message) => panic!("unexpected {message}"),
            Err(code) => break code,
        }
    };
    assert_eq!(code, Some(3013), "too many requests");
    // The budget left after connect and subscribe, then refusals up to one more burst.
    assert!((17..=20).contains(&answered), "{answered} answered");
    assert!((18..=21).contains(&refused), "{refused} refused");
    assert!(answered + refused < 1000);
}

#[actix_rt::test]
async fn presence_replies_are_capped() {
    let mut options = presence_options();
    options.max_presence_entries = 2;
    let server = TestServer::start(test_config(), options);
    let tokens = server.config.tokens();
    let mut clients = Vec::new();
    for user in ["a", "b", "c", "d"] {
        let mut client = RawClient::open(&server.ws_url()).await;
        client.connect(&tokens.connection(user, None)).await;
        client.call("subscribe", json!({"channel": "news"})).await;
        clients.push(client);
    }
    let reply = clients[0]
        .call("presence", json!({"channel": "news"}))
        .await;
    assert_eq!(reply["presence"]["presence"].as_object().unwrap().len(), 2);
    let stats = clients[0]
        .call("presence_stats", json!({"channel": "news"}))
        .await;
    assert_eq!(stats["presence_stats"]["num_clients"], 4, "{stats}");
}

#[actix_rt::test]
async fn one_address_cannot_take_every_slot_and_anonymous_ones_have_their_own_budget() {
    let mut options = EmbeddedOptions::default();
    options.max_connections = 10;
    options.max_connections_per_ip = 3;
    options.max_anonymous_connections = 1;
    let server = TestServer::start(test_config(), options);
    let tokens = server.config.tokens();
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(RawClient::open(&server.ws_url()).await);
    }
    // The fourth from the same address is refused like one over the global cap.
    assert_eq!(
        RawClient::open_with(&server.ws_url(), None).await.err(),
        Some(503)
    );
    assert!(server.server.open_connections() <= 3);
    // Anonymous connections share their own budget: the second is closed with 3504.
    open[0].connect("").await;
    open[1].send_text(r#"{"id":1,"connect":{}}"#).await;
    assert_eq!(open[1].closed().await, Some(3504));
    open[2].connect(&tokens.connection("alice", None)).await;
    // A closed connection gives its address's slot back.
    drop(open.remove(1));
    let mut again = None;
    for _ in 0..100 {
        if let Ok(client) = RawClient::open_with(&server.ws_url(), None).await {
            again = Some(client);
            break;
        }
        actix_rt::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(again.is_some(), "the slot came back");
}

fn page(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/",
        web::get().to(|| async {
            HttpResponse::Ok()
                .content_type("text/html")
                .insert_header((header::CACHE_CONTROL, "public, max-age=600"))
                .insert_header(("cdn-cache-control", "max-age=600"))
                .insert_header(("surrogate-control", "max-age=600"))
                .body("<html><head></head><body></body></html>")
        }),
    );
}

#[actix_rt::test]
async fn pages_with_tokens_are_no_store_and_lose_shared_cache_directives() {
    let realtime = common::realtime();
    let app = test::init_service(
        App::new()
            .wrap(InstantMiddleware)
            .configure(realtime.routes())
            .configure(page),
    )
    .await;
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/")
            .insert_header(("x-test-user", "u1:users"))
            .to_request(),
    )
    .await;
    let headers = res.headers();
    assert_eq!(headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
    assert!(headers.get("cdn-cache-control").is_none());
    assert!(headers.get("surrogate-control").is_none());
    // An anonymous page holds no token: the app's caching stands.
    let res = test::call_service(&app, test::TestRequest::get().uri("/").to_request()).await;
    assert_eq!(
        res.headers().get(header::CACHE_CONTROL).unwrap(),
        "public, max-age=600"
    );
}

async fn ws_url_of_page(trusted_proxies: &[&str], peer: &str) -> String {
    let config = instant_core::Config::builder()
        .secret(common::SECRET)
        .trusted_proxies(trusted_proxies.iter().copied())
        .build()
        .unwrap();
    let realtime = common::builder().config(config).build().unwrap();
    let app = test::init_service(
        App::new()
            .wrap(InstantMiddleware)
            .configure(realtime.routes())
            .configure(page),
    )
    .await;
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/")
            .peer_addr(peer.parse().unwrap())
            .insert_header((header::HOST, "app.example:8080"))
            .insert_header(("x-forwarded-host", "evil.example"))
            .insert_header(("x-forwarded-proto", "https"))
            .insert_header(("forwarded", "host=evil.example;proto=https"))
            .to_request(),
    )
    .await;
    let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    common::injected_config(&body).unwrap()["ws_url"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[actix_rt::test]
async fn the_websocket_url_ignores_forwarded_headers_unless_a_trusted_proxy_sent_them() {
    assert_eq!(
        ws_url_of_page(&[], "192.0.2.7:4000").await,
        "ws://app.example:8080/connection/websocket"
    );
    assert_eq!(
        ws_url_of_page(&["10.0.0.1"], "192.0.2.7:4000").await,
        "ws://app.example:8080/connection/websocket"
    );
    assert_eq!(
        ws_url_of_page(&["10.0.0.1"], "10.0.0.1:4000").await,
        "wss://evil.example/connection/websocket"
    );
}

#[actix_rt::test]
async fn the_origin_check_reads_the_host_not_forwarded_headers() {
    let realtime = common::realtime();
    let app = test::init_service(App::new().configure(realtime.routes())).await;
    let res = test::call_service(
        &app,
        test::TestRequest::post()
            .uri(paths::AUTH_CONNECTION)
            .peer_addr("192.0.2.7:4000".parse().unwrap())
            .insert_header((header::HOST, "app.example"))
            .insert_header(("x-forwarded-host", "evil.example"))
            .insert_header((header::ORIGIN, "http://evil.example"))
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

async fn post_json<S, B>(app: &S, uri: &str, user: Option<&str>, body: Value) -> (StatusCode, Value)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let mut req = test::TestRequest::post().uri(uri).set_json(body);
    if let Some(value) = user {
        req = req.insert_header(("x-test-user", value));
    }
    let res = test::call_service(app, req.to_request()).await;
    let status = res.status();
    let body = test::read_body(res).await;
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

#[actix_rt::test]
async fn authorize_guards_private_channels_and_the_page_and_routes_agree() {
    // A hook that refuses everything: private channels are refused everywhere; public ones need
    // no token, so the hook is not consulted for them (documented on `authorize`).
    let realtime = common::builder().authorize(|_, _| false).build().unwrap();
    let app = test::init_service(
        App::new()
            .wrap(InstantMiddleware)
            .configure(realtime.routes())
            .configure(page),
    )
    .await;
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/")
            .insert_header(("x-test-user", "root:superuser"))
            .to_request(),
    )
    .await;
    let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    let config = common::injected_config(&body).unwrap();
    let names: Vec<&str> = config["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["public_all"], "{config}");
    let (status, _) = post_json(
        &app,
        paths::AUTH_SUBSCRIPTION,
        Some("root:superuser"),
        json!({"channel": "$superuser_all"}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[actix_rt::test]
async fn refused_channels_get_one_answer_whether_declared_or_not() {
    let realtime = common::realtime();
    let app = test::init_service(App::new().configure(realtime.routes())).await;
    let undeclared = post_json(
        &app,
        paths::AUTH_SUBSCRIPTION,
        None,
        json!({"channel": "$does_not_exist"}),
    )
    .await;
    let private = post_json(
        &app,
        paths::AUTH_SUBSCRIPTION,
        None,
        json!({"channel": "$staff_all"}),
    )
    .await;
    assert_eq!(undeclared.0, StatusCode::FORBIDDEN);
    assert_eq!(undeclared, private);
    let logged_in = post_json(
        &app,
        paths::AUTH_SUBSCRIPTION,
        Some("u1:users"),
        json!({"channel": "$staff_all"}),
    )
    .await;
    assert_eq!(logged_in, private);
}

#[actix_rt::test]
async fn a_user_with_an_empty_id_is_anonymous() {
    let realtime = common::builder()
        .users(|_: &actix_web::HttpRequest| Some(User::superuser("")))
        .build()
        .unwrap();
    let app = test::init_service(App::new().configure(realtime.routes())).await;
    let (status, reply) = post_json(&app, paths::AUTH_CONNECTION, None, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(reply["token"], "", "no token for an empty user id");
    let (status, _) = post_json(
        &app,
        paths::AUTH_SUBSCRIPTION,
        None,
        json!({"channel": "$superuser_all"}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[actix_rt::test]
async fn the_server_api_leaves_the_apps_own_api_routes_alone() {
    let realtime = common::builder()
        .config(
            instant_core::Config::builder()
                .secret(common::SECRET)
                .api_key("test-api-key")
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let app = test::init_service(
        App::new()
            .configure(realtime.routes())
            .route(
                "/api/users",
                web::get().to(|| async { HttpResponse::Ok().json(json!(["alice"])) }),
            )
            .route(
                "/api/publish",
                web::post().to(|| async { HttpResponse::Ok().body("the app's own") }),
            ),
    )
    .await;
    let res = test::call_service(
        &app,
        test::TestRequest::get().uri("/api/users").to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(test::read_body(res).await, r#"["alice"]"#);
    let res = test::call_service(
        &app,
        test::TestRequest::post().uri("/api/publish").to_request(),
    )
    .await;
    assert_eq!(test::read_body(res).await, "the app's own");
    // The embedded server's API, under the instant prefix.
    let res = test::call_service(
        &app,
        test::TestRequest::post()
            .uri(&format!("{}/publish", paths::EMBEDDED_API_PATH))
            .insert_header(("X-API-Key", "test-api-key"))
            .set_json(json!({"channel": "public_all", "data": {"n": 1}}))
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let reply: Value = test::read_body_json(res).await;
    assert!(reply.get("result").is_some(), "{reply}");
}
