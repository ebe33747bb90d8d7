//! Channel patterns through every door: the page (channels a handler joins), both auth routes,
//! and `subscribe` on the embedded server; levels first, then the app's asynchronous check on
//! the parameters read from the concrete name.

mod common;
mod embedded_support;

use std::collections::BTreeSet;
use std::sync::mpsc;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, test, web};
use instant_actix::{EmbeddedOptions, InstantMiddleware, Realtime, User, join};
use instant_core::{Channel, ChannelSet, Level, ParamValue, Params};
use serde_json::{Value, json};

use common::{config, header_user, injected_config};
use embedded_support::{RawClient, WAIT};

/// The user kinds: (header value or none, id, level).
const USERS: [(Option<&str>, &str, Level); 4] = [
    (None, "", Level::Public),
    (Some("u1:users"), "u1", Level::Users),
    (Some("s1:staff"), "s1", Level::Staff),
    (Some("root:superuser"), "root", Level::Superuser),
];

fn patterns() -> ChannelSet {
    ChannelSet::new([
        Channel::new("$order_{id}", Level::Users).unwrap(),
        Channel::new("$board_{team}_{board}", Level::Staff).unwrap(),
        Channel::new("$audit_{id}", Level::Superuser).unwrap(),
        Channel::new("news_{topic}", Level::Public).unwrap(),
        Channel::new("$inbox", Level::Users).unwrap(),
    ])
    .unwrap()
}

/// Who owns order `id`: user `u<id>`. Staff and superusers see every order.
fn may_see_order(user: Option<&User>, params: &Params) -> bool {
    user.is_some_and(|user| {
        user.level >= Level::Staff
            || params
                .get("id")
                .is_some_and(|id| user.id == format!("u{id}"))
    })
}

/// The set-up with the asynchronous check: orders by owner, boards of team `a` only, and a `false`
/// for public channels that must never be consulted.
fn realtime() -> Realtime {
    Realtime::builder()
        .config(config())
        .channels(patterns())
        .users(header_user)
        .authorize_async(|user, channel, params| async move {
            // A real suspension point, as a database query has.
            tokio::task::yield_now().await;
            match channel.name() {
                "$order_{id}" => may_see_order(user.as_ref(), &params),
                "$board_{team}_{board}" => params.get("team") == Some("a"),
                "news_{topic}" => unreachable!("not consulted for public channels"),
                _ => true,
            }
        })
        .build()
        .unwrap()
}

/// The concrete names the matrix asks for, with the pattern's level and whether the check allows
/// `user` on it.
fn cases() -> Vec<(String, Level)> {
    vec![
        ("$order_1".into(), Level::Users),
        ("$order_2".into(), Level::Users),
        ("$board_a_7".into(), Level::Staff),
        ("$board_b_7".into(), Level::Staff),
        ("$audit_9".into(), Level::Superuser),
        ("news_rust".into(), Level::Public),
    ]
}

/// Whether the rules (not the code under test) let `id` of `level` join `name`.
fn allowed(id: &str, level: Level, name: &str, required: Level) -> bool {
    if level < required {
        return false;
    }
    match name {
        "$order_1" => level >= Level::Staff || id == "u1",
        "$order_2" => level >= Level::Staff || id == "u2",
        "$board_b_7" => false,
        _ => true,
    }
}

/// `/page?join=a,b`: a page whose handler joins the listed channels.
async fn page(req: HttpRequest) -> HttpResponse {
    let query = req.query_string().strip_prefix("join=").unwrap_or("");
    for name in query.split(',').filter(|n| !n.is_empty()) {
        join(&req, name);
    }
    HttpResponse::Ok()
        .content_type("text/html")
        .body("<html><head></head><body></body></html>")
}

fn request(header_value: Option<&str>) -> test::TestRequest {
    let mut req = test::TestRequest::default();
    if let Some(value) = header_value {
        req = req.insert_header(("x-test-user", value));
    }
    req
}

#[actix_rt::test]
async fn a_page_joins_the_pattern_channels_its_handler_names_when_allowed() {
    let realtime = realtime();
    let app = test::init_service(
        App::new()
            .wrap(InstantMiddleware)
            .configure(realtime.routes())
            .route("/page", web::get().to(page)),
    )
    .await;
    let tokens = config().tokens();
    let all: Vec<String> = cases().into_iter().map(|(name, _)| name).collect();
    for (header_value, id, level) in USERS {
        let uri = format!("/page?join={},$unknown_1,$order_{{id}}", all.join(","));
        let req = request(header_value).uri(&uri).to_request();
        let body = test::call_and_read_body(&app, req).await;
        let config = injected_config(std::str::from_utf8(&body).unwrap()).unwrap();
        let channels = config["channels"].as_array().unwrap();
        let names: BTreeSet<&str> = channels
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        // The fixed `$inbox` by level, the joined names by level and check; never a pattern itself.
        let mut expected: BTreeSet<&str> = cases()
            .iter()
            .filter(|(name, required)| allowed(id, level, name, *required))
            .map(|(name, _)| all.iter().find(|n| *n == name).unwrap().as_str())
            .collect();
        if level >= Level::Users {
            expected.insert("$inbox");
        }
        assert_eq!(names, expected, "{id:?}");
        for channel in channels {
            let name = channel["name"].as_str().unwrap();
            if name.starts_with('$') {
                let claims = tokens
                    .verify_subscription(channel["token"].as_str().unwrap(), name, id)
                    .unwrap();
                assert_eq!(claims.channel, name);
            } else {
                assert!(channel.get("token").is_none(), "{channel}");
            }
        }
    }
    // Without a `join`, a page holds no pattern channel.
    let req = request(Some("root:superuser")).uri("/page").to_request();
    let body = test::call_and_read_body(&app, req).await;
    let config = injected_config(std::str::from_utf8(&body).unwrap()).unwrap();
    assert_eq!(config["channels"].as_array().unwrap().len(), 1, "{config}");
}

/// The page a staff member gets when its handler joins `$order_7` and `$board_a_1`, with the
/// client's script and style sheet inlined.
async fn staff_page_joining_two_patterns(realtime: &Realtime) -> String {
    let app = test::init_service(
        App::new()
            .wrap(InstantMiddleware)
            .configure(realtime.routes())
            .route("/page", web::get().to(page)),
    )
    .await;
    let req = request(Some("s1:staff"))
        .uri("/page?join=$order_7,$board_a_1")
        .to_request();
    let body = test::call_and_read_body(&app, req).await;
    common::with_client_files(&app, std::str::from_utf8(&body).unwrap()).await
}

/// The entry of the channel `name` in a page's config.
fn page_channel<'a>(config: &'a Value, name: &str) -> &'a Value {
    config["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("{name} is on the page: {config}"))
}

#[actix_rt::test]
async fn a_patterns_handler_template_serves_its_channels_with_their_parameters() {
    // The templates' override mechanism: a handler named by the pattern.
    let realtime = Realtime::builder()
        .config(config())
        .channels(patterns())
        .users(header_user)
        .template(
            instant_actix::handler_template_name("$order_{id}"),
            "/* every order of {{ site }}: {{ channel }} */ seen.push(params.id);",
        )
        .build()
        .unwrap();
    let html = &staff_page_joining_two_patterns(&realtime).await;
    assert!(
        html.contains(
            "\"$order_{id}\": function (event_class, channel, message, data, site, uid, timestamp, params) {\n/* every order of testsite: $order_{id} */ seen.push(params.id);"
        ),
        "{html}"
    );
    // The client finds it by the channel's pattern, and hands it the parameters.
    let config = injected_config(html).unwrap();
    let order = page_channel(&config, "$order_7");
    assert_eq!(order["pattern"], "$order_{id}");
    assert_eq!(order["params"], json!({ "id": "7" }));
    let board = page_channel(&config, "$board_a_1");
    assert_eq!(board["params"], json!({ "team": "a", "board": "1" }));
    // The embedded server keeps history by default: the render-time position is there.
    assert_eq!(order["since"]["offset"], 0, "{order}");
    assert!(html.contains("own(joined.pattern) ? handlers[joined.pattern] : defaultHandler"));
    // A fixed channel has neither.
    let inbox = page_channel(&config, "$inbox");
    assert!(inbox.get("pattern").is_none() && inbox.get("params").is_none());
}

#[actix_rt::test]
async fn both_auth_routes_mint_pattern_tokens_only_when_allowed() {
    let realtime = realtime();
    let app = test::init_service(App::new().configure(realtime.routes())).await;
    let tokens = config().tokens();
    let mut names: Vec<String> = cases().into_iter().map(|(name, _)| name).collect();
    names.extend([
        "$order_{id}".to_owned(),
        "$unknown_1".to_owned(),
        "$order_a_b".to_owned(),
    ]);
    for (header_value, id, level) in USERS {
        let mut granted = BTreeSet::new();
        for name in &names {
            let req = request(header_value)
                .method(actix_web::http::Method::POST)
                .uri("/instant/auth/subscription")
                .set_json(json!({ "channel": name }))
                .to_request();
            let res = test::call_service(&app, req).await;
            let status = res.status();
            let body: Value = test::read_body_json(res).await;
            let required = cases().into_iter().find(|(n, _)| n == name).map(|(_, l)| l);
            let expect = required.is_some_and(|required| allowed(id, level, name, required));
            assert_eq!(status.is_success(), expect, "{id:?} {name}: {body}");
            if expect {
                tokens
                    .verify_subscription(body["token"].as_str().unwrap(), name, id)
                    .unwrap();
                granted.insert(name.clone());
            } else {
                assert_eq!(status, 403);
            }
        }
        let req = request(header_value)
            .method(actix_web::http::Method::POST)
            .uri("/instant/auth/subscription")
            .set_json(json!({ "channels": names }))
            .to_request();
        let body: Value = test::call_and_read_body_json(&app, req).await;
        let batch: BTreeSet<String> = body["tokens"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert_eq!(batch, granted, "{id:?}");
    }
}

/// A `Realtime` app (embedded server, routes, a page) served on a free loopback port.
fn serve(realtime: Realtime) -> (std::net::SocketAddr, actix_web::dev::ServerHandle) {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        actix_rt::System::new().block_on(async move {
            let http = HttpServer::new(move || {
                App::new()
                    .wrap(InstantMiddleware)
                    .configure(realtime.routes())
                    .route("/page", web::get().to(page))
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
async fn the_embedded_server_subscribes_to_pattern_channels_with_the_minted_tokens() {
    let mut options = EmbeddedOptions::default();
    options.max_pattern_channels = 2;
    let realtime = Realtime::builder()
        .config(config())
        .channels(patterns())
        .users(header_user)
        .embedded_options(options)
        .authorize_async(|user, channel, params| async move {
            channel.name() != "$order_{id}" || may_see_order(user.as_ref(), &params)
        })
        .build()
        .unwrap();
    let server = realtime.embedded_server().unwrap().clone();
    let publisher = realtime.publisher();
    let (addr, handle) = serve(realtime);
    let http = awc::Client::default();
    let subscription_token = |channel: &'static str| {
        let http = http.clone();
        async move {
            let mut res = http
                .post(format!("http://{addr}/instant/auth/subscription"))
                .insert_header(("x-test-user", "u1:users"))
                .send_json(&json!({ "channel": channel }))
                .await
                .unwrap();
            let body: Value = res.json().await.unwrap();
            body["token"].as_str().map(str::to_owned)
        }
    };
    let order = Channel::new("$order_{id}", Level::Users).unwrap();
    let own = order.with(1_u32);
    assert_eq!(own.as_str(), "$order_1");
    let token = subscription_token("$order_1")
        .await
        .expect("u1 owns order 1");
    assert!(subscription_token("$order_2").await.is_none());

    let mut client = RawClient::open(&format!("ws://{addr}/connection/websocket")).await;
    client
        .connect(&config().tokens().connection("u1", None))
        .await;
    let reply = client
        .call(
            "subscribe",
            json!({ "channel": own.as_str(), "token": token }),
        )
        .await;
    assert!(reply.get("subscribe").is_some(), "{reply}");
    // Without a token (none is minted for u1 on order 2): refused, as a private channel.
    let reply = client
        .call("subscribe", json!({ "channel": "$order_2" }))
        .await;
    assert_eq!(reply["error"]["code"], 103, "{reply}");
    // A public pattern channel needs no token; a name no declaration makes is refused.
    let reply = client
        .call("subscribe", json!({ "channel": "news_rust" }))
        .await;
    assert!(reply.get("subscribe").is_some(), "{reply}");
    let reply = client
        .call("subscribe", json!({ "channel": "news_a_b" }))
        .await;
    assert_eq!(reply["error"]["code"], 103, "{reply}");
    // The bound: two live pattern channels, a third is refused with 106.
    assert_eq!(server.live_pattern_channels(), 2);
    let reply = client
        .call("subscribe", json!({ "channel": "news_go" }))
        .await;
    assert_eq!(reply["error"]["code"], 106, "{reply}");

    publisher
        .publish(order.with(1_u32), "Order shipped")
        .data(json!({"id": 1}))
        .await
        .unwrap();
    let push = client.push().await;
    assert_eq!(push["channel"], "$order_1", "{push}");
    assert_eq!(push["pub"]["data"]["message"], "Order shipped");

    // `news_rust` had no publication: once its subscriber leaves, it goes and frees its slot.
    let reply = client
        .call("unsubscribe", json!({ "channel": "news_rust" }))
        .await;
    assert!(reply.get("unsubscribe").is_some(), "{reply}");
    assert_eq!(server.live_pattern_channels(), 1);
    let reply = client
        .call("subscribe", json!({ "channel": "news_go" }))
        .await;
    assert!(reply.get("subscribe").is_some(), "{reply}");
    // A value that could break the pattern never makes a name.
    assert!(ParamValue::new("a_b").is_err());
    drop(handle.stop(false));
}

#[actix_rt::test]
async fn only_channels_that_keep_a_history_carry_a_render_time_position() {
    let mut no_history = instant_actix::ChannelOptions::default();
    no_history.history_size = 0;
    let realtime = Realtime::builder()
        .config(config())
        .channels(patterns())
        .users(header_user)
        .embedded_options(EmbeddedOptions::default().channel("$order_{id}", no_history))
        .build()
        .unwrap();
    let html = staff_page_joining_two_patterns(&realtime).await;
    let config = injected_config(&html).unwrap();
    let channel = |name: &str| page_channel(&config, name);
    assert!(
        channel("$order_7").get("since").is_none(),
        "history is off for the order pattern"
    );
    assert_eq!(channel("$board_a_1")["since"]["offset"], 0);
    assert_eq!(channel("$inbox")["since"]["offset"], 0);
}
