//! Personal channels: `RealtimeBuilder::personal_channel(true)` makes every page of a logged-in
//! user join `personal:#<id>`, `Publisher::to_user` publishes there, and only that user may
//! subscribe to it: on the embedded server (checked by the hub, without a token) and on a real
//! Centrifugo v6 (a user-limited channel: `allow_user_limited_channels` decides by the
//! connection's `sub`), each with a real client.

mod common;
mod embedded_support;

use std::sync::mpsc;
use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, test, web};
use instant_actix::{InstantMiddleware, Realtime};
use instant_core::{Channel, ChannelSet, Config, Level, PatternError, personal_channel};
use instant_testkit::{Centrifugo, CentrifugoOptions, NodeClient, NodeSpec};
use serde_json::{Value, json};

use common::{config, header_user, injected_config};
use embedded_support::{RawClient, WAIT};

fn channels() -> ChannelSet {
    ChannelSet::new([Channel::new("news", Level::Public).unwrap()]).unwrap()
}

fn realtime(config: Config) -> Realtime {
    Realtime::builder()
        .config(config)
        .channels(channels())
        .users(header_user)
        .personal_channel(true)
        .build()
        .unwrap()
}

async fn page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html")
        .body("<html><head></head><body></body></html>")
}

fn serve(realtime: Realtime) -> (std::net::SocketAddr, actix_web::dev::ServerHandle) {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        actix_rt::System::new().block_on(async move {
            let http = HttpServer::new(move || {
                App::new()
                    .wrap(InstantMiddleware)
                    .configure(realtime.routes())
                    .route("/", web::get().to(page))
            })
            .workers(1)
            .bind(("127.0.0.1", 0))
            .unwrap();
            let addr = http.addrs()[0];
            let running = http.run();
            tx.send((addr, running.handle())).unwrap();
            running.await.unwrap();
        });
    });
    rx.recv_timeout(WAIT).unwrap()
}

#[actix_rt::test]
async fn every_page_of_a_logged_in_user_joins_the_users_own_channel() {
    let realtime = realtime(config());
    let app = test::init_service(
        App::new()
            .wrap(InstantMiddleware)
            .configure(realtime.routes())
            .route("/", web::get().to(page)),
    )
    .await;
    let page_of = |user: Option<&'static str>| {
        let mut req = test::TestRequest::get().uri("/");
        if let Some(user) = user {
            req = req.insert_header(("x-test-user", user));
        }
        req.to_request()
    };
    let body = test::call_and_read_body(&app, page_of(Some("u1:users"))).await;
    let config = injected_config(std::str::from_utf8(&body).unwrap()).unwrap();
    let personal = config["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "personal:#u1")
        .unwrap_or_else(|| panic!("u1's page joins personal:#u1: {config}"));
    // Guarded by the user part, not by a token; its pattern and parameter go to the handler.
    assert!(personal.get("token").is_none(), "{personal}");
    assert_eq!(personal["pattern"], "personal:#{user}");
    assert_eq!(personal["params"], json!({ "user": "u1" }));
    assert_eq!(config["user"], json!({ "id": "u1", "level": "users" }));
    assert_eq!(config["path"], "/");

    // Anonymous visitors have none; a user id that cannot name a channel gets none either.
    let body = test::call_and_read_body(&app, page_of(None)).await;
    let config = injected_config(std::str::from_utf8(&body).unwrap()).unwrap();
    let names: Vec<&str> = config["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["news"]);
    assert_eq!(config["user"], Value::Null);
    let body = test::call_and_read_body(&app, page_of(Some("a_b:users"))).await;
    let config = injected_config(std::str::from_utf8(&body).unwrap()).unwrap();
    assert_eq!(config["channels"].as_array().unwrap().len(), 1, "{config}");

    // No subscription token for another user's channel (a token would open it on Centrifugo).
    for (user, channel, allowed) in [
        ("u2:users", "personal:#u1", false),
        ("u1:superuser", "personal:#u2", false),
        ("u1:users", "personal:#u1", true),
    ] {
        let req = test::TestRequest::post()
            .uri("/instant/auth/subscription")
            .insert_header(("x-test-user", user))
            .set_json(json!({ "channel": channel }))
            .to_request();
        let res = test::call_service(&app, req).await;
        assert_eq!(res.status().is_success(), allowed, "{user} {channel}");
    }
    assert!(matches!(
        realtime.publisher().to_user("a_b", "no"),
        Err(PatternError::InvalidValue(_))
    ));
}

#[actix_rt::test]
async fn on_the_embedded_server_only_the_user_subscribes_to_the_personal_channel() {
    let realtime = realtime(config());
    let publisher = realtime.publisher();
    let (addr, handle) = serve(realtime);
    let url = format!("ws://{addr}/connection/websocket");
    let tokens = config().tokens();
    let mut alice = RawClient::open(&url).await;
    alice.connect(&tokens.connection("u1", None)).await;
    let mut bob = RawClient::open(&url).await;
    bob.connect(&tokens.connection("u2", None)).await;
    let mut anonymous = RawClient::open(&url).await;
    anonymous.connect("").await;

    let own = personal_channel("u1").unwrap();
    assert_eq!(own.as_str(), "personal:#u1");
    let reply = alice
        .call("subscribe", json!({ "channel": own.as_str() }))
        .await;
    assert!(reply.get("subscribe").is_some(), "{reply}");
    for client in [&mut bob, &mut anonymous] {
        let reply = client
            .call("subscribe", json!({ "channel": "personal:#u1" }))
            .await;
        assert_eq!(reply["error"]["code"], 103, "{reply}");
    }

    publisher
        .to_user("u1", "Your export is ready")
        .unwrap()
        .data(json!({ "n": 1 }))
        .await
        .unwrap();
    let push = alice.push().await;
    assert_eq!(push["channel"], "personal:#u1", "{push}");
    assert_eq!(push["pub"]["data"]["message"], "Your export is ready");
    // Bob's own channel is his: he gets his event, and nothing of alice's.
    let reply = bob
        .call("subscribe", json!({ "channel": "personal:#u2" }))
        .await;
    assert!(reply.get("subscribe").is_some(), "{reply}");
    publisher.to_user("u2", "For bob").unwrap().await.unwrap();
    let push = bob.push().await;
    assert_eq!(push["channel"], "personal:#u2", "{push}");
    assert_eq!(push["pub"]["data"]["message"], "For bob");
    drop(handle.stop(false));
}

#[actix_rt::test]
async fn on_centrifugo_the_tokens_sub_decides_who_subscribes_to_a_personal_channel() {
    // The `personal` namespace as `instant genconfig` writes it: clients may subscribe in
    // general, and user-limited channels open to their own user only.
    let server = Centrifugo::start(CentrifugoOptions::default().force_recovery(true).namespace(
        json!({
            "name": "personal",
            "allow_subscribe_for_client": true,
            "allow_subscribe_for_anonymous": true,
            "allow_user_limited_channels": true,
            "history_size": 100,
            "history_ttl": "300s",
            "force_recovery": true,
            "allow_history_for_subscriber": true,
        }),
    ));
    let realtime = realtime(server.config());
    let publisher = realtime.publisher();
    let tokens = server.tokens();
    let mut alice = NodeClient::spawn(
        NodeSpec::new(server.ws_url())
            .token(tokens.connection("u1", None))
            .subscribe("personal:#u1"),
    );
    let mut bob = NodeClient::spawn(
        NodeSpec::new(server.ws_url())
            .token(tokens.connection("u2", None))
            .subscribe("personal:#u1"),
    );
    alice.wait_for(|e| e.is_on("subscribed", "personal:#u1"), WAIT);
    let refused = bob.wait_for(
        |e| e.is("subscribe_error") || e.is("unsubscribed") || e.is("subscribed"),
        WAIT,
    );
    assert!(
        !refused.is("subscribed"),
        "bob subscribed to alice's channel: {refused}"
    );
    assert_eq!(refused.code(), Some(103), "{refused}");

    let receipt = publisher
        .to_user("u1", "Your export is ready")
        .unwrap()
        .await
        .unwrap();
    assert!(
        receipt.offset.is_some(),
        "the personal namespace keeps history"
    );
    let event = alice.wait_for(|e| e.is_on("publication", "personal:#u1"), WAIT);
    assert_eq!(event.data().unwrap()["message"], "Your export is ready");
    assert!(
        bob.try_wait_for(|e| e.is("publication"), Duration::from_secs(1))
            .is_none(),
        "{}",
        bob.report()
    );
}
