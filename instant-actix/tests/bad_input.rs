//! Bad input, answered with a clear error and never a crash: frames the protocol tests do not
//! cover yet (unknown commands, wrong types, frames that are not objects, a second `connect`, a
//! bad line among good ones), on the embedded server and on Centrifugo v6 with the same
//! assertions; and malformed, mistyped and huge bodies on the auth routes, the frontend's publish
//! form and the server API: never a 5xx. The app's own routes answer with a JSON reason; the
//! server API answers as Centrifugo's does (a plain-text 400 or 413, or a 200 carrying error 107).

mod embedded_support;

use actix_web::http::StatusCode;
use actix_web::{App, test};
use embedded_support::{RawClient, TestServer};
use instant_actix::{Realtime, User, paths};
use instant_core::{Channel, ChannelSet, Config, Level, Secret};
use instant_testkit::{Centrifugo, CentrifugoOptions};
use serde_json::{Value, json};

/// What a server did with a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    /// The reply's error code.
    Error(u64),
    /// A reply without error.
    Replied,
    /// The connection closed with this code.
    Closed(Option<u16>),
}

/// Frames sent after an anonymous `connect`, each on a fresh connection.
const FRAMES: &[(&str, &str)] = &[
    ("unknown command", r#"{"id":2,"shout":{"channel":"news"}}"#),
    ("id without a command", r#"{"id":2}"#),
    (
        "channel of the wrong type",
        r#"{"id":2,"subscribe":{"channel":5}}"#,
    ),
    ("params of the wrong type", r#"{"id":2,"subscribe":"news"}"#),
    (
        "id of the wrong type",
        r#"{"id":"2","subscribe":{"channel":"news"}}"#,
    ),
    ("negative id", r#"{"id":-2,"subscribe":{"channel":"news"}}"#),
    (
        "a JSON array",
        r#"[{"id":2,"subscribe":{"channel":"news"}}]"#,
    ),
    ("a JSON string", r#""subscribe""#),
    ("null", "null"),
    ("not JSON", "subscribe news"),
    ("a second connect", r#"{"id":2,"connect":{}}"#),
    (
        "a bad line after a good one",
        "{\"id\":2,\"subscribe\":{\"channel\":\"news\"}}\n{\"id\":3,",
    ),
    (
        "subscribe to an empty channel",
        r#"{"id":2,"subscribe":{"channel":""}}"#,
    ),
    (
        "history of an unknown channel",
        r#"{"id":2,"history":{"channel":"nowhere","limit":5}}"#,
    ),
];

/// Everything the server answered to `frame` (sent after an anonymous `connect`), up to the answer
/// to a sentinel command sent after it, or up to the close.
async fn frame_outcome(ws_url: &str, frame: &str) -> Vec<Outcome> {
    let mut client = RawClient::open(ws_url).await;
    client.connect("").await;
    client.send_text(frame).await;
    client
        .send_text(r#"{"id":99,"rpc":{"method":"sentinel"}}"#)
        .await;
    let mut seen = Vec::new();
    loop {
        match client.next_or_close().await {
            Ok(reply) if reply["id"] == 99 => return seen,
            Ok(reply) => seen.push(match reply["error"]["code"].as_u64() {
                Some(code) => Outcome::Error(code),
                None => Outcome::Replied,
            }),
            Err(code) => {
                seen.push(Outcome::Closed(code));
                return seen;
            }
        }
    }
}

/// Where the two servers answer differently: `(case, embedded, Centrifugo)`. None left: a
/// history request for a channel outside the declared ones answers 107 on both (bad request: the
/// name fails Centrifugo's `channel_regex`, and is not declared in the app).
const KNOWN_DIFFERENCES: &[(&str, Outcome, Outcome)] = &[];

#[actix_rt::test]
async fn malformed_and_unexpected_frames_get_the_same_answer_on_both_servers() {
    let embedded = TestServer::with_defaults();
    let centrifugo = Centrifugo::start(
        CentrifugoOptions::default()
            .allow_anonymous_connect_without_token(true)
            .extra(json!({"channel": {"without_namespace": {
                "channel_regex": r"^\$?(news|chat|users|staff)$",
            }}})),
    );
    let mut failures = Vec::new();
    for (case, frame) in FRAMES {
        let ours = frame_outcome(&embedded.ws_url(), frame).await;
        let theirs = frame_outcome(&centrifugo.ws_url(), frame).await;
        eprintln!("| {case} | {ours:?} | {theirs:?} |");
        if let Some((.., expected_ours, expected_theirs)) =
            KNOWN_DIFFERENCES.iter().find(|(c, ..)| c == case)
        {
            if (ours.as_slice(), theirs.as_slice())
                != (&[expected_ours.clone()][..], &[expected_theirs.clone()][..])
            {
                failures.push(format!("{case}: embedded {ours:?}, Centrifugo {theirs:?}"));
            }
        } else if ours != theirs || ours.is_empty() {
            failures.push(format!("{case}: embedded {ours:?}, Centrifugo {theirs:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

const API_KEY: &str = "bad-input-api-key-0123456789abcdef-01";

fn realtime() -> Realtime {
    let config = Config::builder()
        .secret(Secret::from("bad-input-secret-0123456789abcdef-0123"))
        .api_key(Secret::from(API_KEY))
        .build()
        .unwrap();
    let channels = ChannelSet::new([
        Channel::new("news", Level::Public).unwrap(),
        Channel::new("$staff", Level::Staff).unwrap(),
    ])
    .unwrap();
    Realtime::builder()
        .config(config)
        .channels(channels)
        .users(|req: &actix_web::HttpRequest| {
            req.headers()
                .contains_key("x-admin")
                .then(|| User::superuser("root"))
        })
        .build()
        .unwrap()
}

/// Bodies every JSON route is given.
fn bodies() -> Vec<(&'static str, String)> {
    let huge_string = "a".repeat(4 << 20);
    vec![
        ("empty", String::new()),
        ("not JSON", "{not json".into()),
        ("a JSON array", "[]".into()),
        ("a JSON string", r#""news""#.into()),
        ("null", "null".into()),
        (
            "channel of the wrong type",
            r#"{"channel":5,"data":{}}"#.into(),
        ),
        (
            "channels of the wrong type",
            r#"{"channels":"news","data":{}}"#.into(),
        ),
        (
            "commands of the wrong type",
            r#"{"commands":{"publish":{}}}"#.into(),
        ),
        (
            "message of the wrong type",
            r#"{"channel":"news","message":[1]}"#.into(),
        ),
        (
            "deeply nested",
            format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)),
        ),
        (
            "huge body",
            format!(r#"{{"channel":"news","data":"{huge_string}"}}"#),
        ),
        (
            "huge channel list",
            format!(
                r#"{{"channels":[{}]}}"#,
                vec![r#""news""#; 200_000].join(",")
            ),
        ),
    ]
}

#[actix_rt::test]
async fn bad_bodies_get_a_4xx_with_a_reason_and_never_a_5xx() {
    let realtime = realtime();
    let app = test::init_service(App::new().configure(realtime.routes())).await;
    let api = |method: &str| format!("{}/{method}", paths::EMBEDDED_API_PATH);
    let routes = [
        paths::AUTH_CONNECTION.to_owned(),
        paths::AUTH_SUBSCRIPTION.to_owned(),
        paths::PUBLISH.to_owned(),
        api("publish"),
        api("broadcast"),
        api("batch"),
        api("history"),
        api("presence"),
        api("presence_stats"),
        api("info"),
        api("no_such_method"),
    ];
    let mut tried = 0;
    let mut statuses = std::collections::BTreeMap::new();
    let mut failures = Vec::new();
    for route in &routes {
        for (case, body) in bodies() {
            let request = test::TestRequest::post()
                .uri(route)
                .insert_header(("content-type", "application/json"))
                .insert_header(("x-api-key", API_KEY))
                .insert_header(("x-admin", "1"))
                .set_payload(body)
                .to_request();
            let response = test::call_service(&app, request).await;
            let status = response.status();
            let body = test::read_body(response).await;
            let reason: Option<Value> = serde_json::from_slice(&body).ok();
            tried += 1;
            *statuses.entry(status.as_u16()).or_insert(0) += 1;
            let server_api = route.starts_with(paths::EMBEDDED_API_PATH);
            if status.is_server_error() {
                failures.push(format!("{route} / {case}: {status}"));
            } else if status == StatusCode::OK {
                // Only the server API may take these bodies, answering Centrifugo's way.
                if !server_api && route != paths::AUTH_CONNECTION {
                    failures.push(format!("{route} / {case}: accepted"));
                }
            } else if !status.is_client_error() || body.is_empty() {
                failures.push(format!("{route} / {case}: {status} without a reason"));
            } else if !server_api && reason.is_none_or(|r| !r["reason"].is_string()) {
                failures.push(format!("{route} / {case}: {status} without a JSON reason"));
            }
        }
    }
    eprintln!("{tried} bad requests, answered {statuses:?}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
