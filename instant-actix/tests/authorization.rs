//! The authorization matrix: 4 kinds of user × 4 channel levels × path filters, checked in the
//! injected browser config and in both auth routes; plus malformed bodies and cross-site requests.

mod common;

use std::collections::BTreeSet;

use actix_web::http::{StatusCode, header};
use actix_web::{App, HttpResponse, test, web};
use instant_actix::InstantMiddleware;
use instant_core::{Level, Tokens};
use serde_json::{Value, json};

use common::{config, injected_config, matrix_channels, realtime};

/// The user kinds: (header value or none, id, level).
const USERS: [(Option<&str>, &str, Level); 4] = [
    (None, "", Level::Public),
    (Some("u1:users"), "u1", Level::Users),
    (Some("s1:staff"), "s1", Level::Staff),
    (Some("root:superuser"), "root", Level::Superuser),
];

fn tokens() -> Tokens {
    config().tokens()
}

fn page(cfg: &mut web::ServiceConfig) {
    let handler = || async {
        HttpResponse::Ok()
            .content_type("text/html")
            .body("<html><head></head><body></body></html>")
    };
    cfg.route("/", web::get().to(handler))
        .route("/a", web::get().to(handler))
        .route("/b", web::get().to(handler));
}

/// The channels `level` may join on `path`, by the rules (not by the code under test).
fn expected(level: Level, path: &str) -> BTreeSet<String> {
    matrix_channels()
        .iter()
        .filter(|c| level >= c.level())
        .filter(|c| c.paths().len() == 0 || c.paths().any(|p| p == path))
        .map(|c| c.name().to_owned())
        .collect()
}

#[actix_rt::test]
async fn injected_config_follows_levels_and_paths() {
    let realtime = realtime();
    let app = test::init_service(
        App::new()
            .wrap(InstantMiddleware)
            .configure(realtime.routes())
            .configure(page),
    )
    .await;
    let tokens = tokens();
    for (header_value, id, level) in USERS {
        for path in ["/", "/a", "/b"] {
            let mut req = test::TestRequest::get().uri(path);
            if let Some(value) = header_value {
                req = req.insert_header(("x-test-user", value));
            }
            let res = test::call_service(&app, req.to_request()).await;
            let private_page = res
                .headers()
                .get(header::CACHE_CONTROL)
                .is_some_and(|v| v == "no-store");
            let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
            let config = injected_config(&body).expect("config injected");
            let channels = config["channels"].as_array().unwrap();
            let names: BTreeSet<String> = channels
                .iter()
                .map(|c| c["name"].as_str().unwrap().to_owned())
                .collect();
            assert_eq!(names, expected(level, path), "{id:?} on {path}");
            for channel in channels {
                let name = channel["name"].as_str().unwrap();
                let channel_level: Level =
                    serde_json::from_value(channel["level"].clone()).unwrap();
                assert!(level >= channel_level, "{id:?} got {name} above its level");
                match channel.get("token") {
                    Some(Value::String(token)) => {
                        assert!(name.starts_with('$'), "public {name} needs no token");
                        let claims = tokens.verify_subscription(token, name, id).unwrap();
                        assert_eq!(claims.channel, name);
                    }
                    None => assert!(!name.starts_with('$'), "private {name} lacks its token"),
                    Some(other) => panic!("token of {name} is {other}"),
                }
            }
            let token = config["token"].as_str().unwrap();
            if level == Level::Public {
                assert_eq!(token, "", "anonymous visitors connect without a token");
                assert!(!private_page);
            } else {
                assert_eq!(tokens.verify_connection(token).unwrap().sub, id);
                assert!(
                    private_page,
                    "a page with tokens must not be cached by shared caches"
                );
            }
        }
    }
}

async fn post<S, B>(app: &S, uri: &str, user: Option<&str>, body: Value) -> (StatusCode, Value)
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
async fn auth_routes_follow_levels_whatever_the_page_showed() {
    let realtime = realtime();
    let app = test::init_service(App::new().configure(realtime.routes())).await;
    let tokens = tokens();
    let mut all: Vec<String> = matrix_channels()
        .iter()
        .map(|c| c.name().to_owned())
        .collect();
    all.push("$undeclared".into());
    for (header_value, id, level) in USERS {
        let (status, reply) = post(&app, "/instant/auth/connection", header_value, json!({})).await;
        assert_eq!(status, StatusCode::OK);
        let token = reply["token"].as_str().unwrap();
        if level == Level::Public {
            assert_eq!(token, "");
        } else {
            assert_eq!(tokens.verify_connection(token).unwrap().sub, id);
        }
        for channel in &all {
            let allowed = matrix_channels()
                .get(channel)
                .is_some_and(|c| level >= c.level());
            let (status, reply) = post(
                &app,
                "/instant/auth/subscription",
                header_value,
                json!({ "channel": channel }),
            )
            .await;
            if allowed {
                assert_eq!(status, StatusCode::OK, "{id:?} on {channel}: {reply}");
                let token = reply["token"].as_str().unwrap();
                tokens.verify_subscription(token, channel, id).unwrap();
            } else {
                assert_eq!(status, StatusCode::FORBIDDEN, "{id:?} on {channel}");
                assert!(reply["token"].is_null());
                assert!(!reply["reason"].as_str().unwrap().is_empty());
            }
        }
        let (status, reply) = post(
            &app,
            "/instant/auth/subscription",
            header_value,
            json!({ "channels": all }),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let granted: BTreeSet<String> = reply["tokens"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(channel, token)| {
                tokens
                    .verify_subscription(token.as_str().unwrap(), channel, id)
                    .unwrap();
                channel.clone()
            })
            .collect();
        let expected: BTreeSet<String> = matrix_channels()
            .iter()
            .filter(|c| level >= c.level())
            .map(|c| c.name().to_owned())
            .collect();
        assert_eq!(granted, expected, "batch of {id:?}");
    }
}

#[actix_rt::test]
async fn the_apps_own_check_narrows_both_sides() {
    let realtime = common::builder()
        .authorize(|user, channel| {
            !(channel.name() == "$staff_all" && user.is_some_and(|u| u.id == "s2"))
        })
        .build()
        .unwrap();
    let app = test::init_service(
        App::new()
            .wrap(InstantMiddleware)
            .configure(realtime.routes())
            .configure(page),
    )
    .await;
    let (status, reply) = post(
        &app,
        "/instant/auth/subscription",
        Some("s2:staff"),
        json!({"channel": "$staff_all"}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(reply["reason"].as_str().unwrap().contains("may not join"));
    let (status, _) = post(
        &app,
        "/instant/auth/subscription",
        Some("s1:staff"),
        json!({"channel": "$staff_all"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/")
            .insert_header(("x-test-user", "s2:staff"))
            .to_request(),
    )
    .await;
    let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    let config = injected_config(&body).unwrap();
    let names: Vec<&str> = config["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(
        !names.contains(&"$staff_all") && names.contains(&"$users_all"),
        "{names:?}"
    );
}

#[actix_rt::test]
async fn malformed_bodies_get_400_with_a_reason() {
    let realtime = realtime();
    let app = test::init_service(App::new().configure(realtime.routes())).await;
    let cases: [(&str, &[u8], &str); 5] = [
        ("application/json", b"{not json", "json"),
        ("application/json", br#"{"channel": 5}"#, "type"),
        (
            "application/json",
            br#"{"channel": "a", "channels": ["b"]}"#,
            "exactly one",
        ),
        ("application/json", br#"{"chanel": "a"}"#, "unknown field"),
        (
            "text/plain",
            br#"{"channel": "public_all"}"#,
            "content type",
        ),
    ];
    for (content_type, body, hint) in cases {
        let res = test::call_service(
            &app,
            test::TestRequest::post()
                .uri("/instant/auth/subscription")
                .insert_header((header::CONTENT_TYPE, content_type))
                .set_payload(body.to_vec())
                .to_request(),
        )
        .await;
        assert_eq!(
            res.status(),
            StatusCode::BAD_REQUEST,
            "{}",
            String::from_utf8_lossy(body)
        );
        let reply: Value = serde_json::from_slice(&test::read_body(res).await).unwrap();
        let reason = reply["reason"].as_str().unwrap().to_lowercase();
        assert!(reason.contains(hint), "{reason:?} should mention {hint:?}");
    }
}

#[actix_rt::test]
async fn cross_site_posts_are_refused() {
    let realtime = realtime();
    let app = test::init_service(App::new().configure(realtime.routes())).await;
    let user = ("x-test-user", "root:superuser");
    let attempts: [(&[(&str, &str)], StatusCode); 6] = [
        (&[("origin", "http://evil.example")], StatusCode::FORBIDDEN),
        (&[("sec-fetch-site", "cross-site")], StatusCode::FORBIDDEN),
        (
            &[
                ("sec-fetch-site", "same-site"),
                ("origin", "http://sub.localhost:8080"),
            ],
            StatusCode::FORBIDDEN,
        ),
        (
            &[
                ("sec-fetch-site", "same-origin"),
                ("origin", "http://localhost:8080"),
            ],
            StatusCode::OK,
        ),
        (&[("origin", "http://localhost:8080")], StatusCode::OK),
        (
            &[
                ("sec-fetch-site", "cross-site"),
                ("origin", "http://allowed.example"),
            ],
            StatusCode::OK,
        ),
    ];
    for uri in ["/instant/auth/connection", "/instant/auth/subscription"] {
        for (headers, expected) in attempts {
            let mut req = test::TestRequest::post()
                .uri(uri)
                .insert_header(user)
                .set_json(json!({"channel": "$superuser_all"}));
            for header in headers {
                req = req.insert_header(*header);
            }
            let res = test::call_service(&app, req.to_request()).await;
            assert_eq!(res.status(), expected, "{uri} with {headers:?}");
        }
    }
}

#[actix_rt::test]
async fn the_frontend_and_its_publish_route_are_for_superusers_only() {
    let realtime = realtime();
    let app = test::init_service(
        App::new()
            .wrap(InstantMiddleware)
            .configure(realtime.routes()),
    )
    .await;
    for (user, expected) in [
        (None, StatusCode::NOT_FOUND),
        (Some("s1:staff"), StatusCode::NOT_FOUND),
        (Some("root:superuser"), StatusCode::OK),
    ] {
        let mut req = test::TestRequest::get().uri("/instant/");
        if let Some(value) = user {
            req = req.insert_header(("x-test-user", value));
        }
        let res = test::call_service(&app, req.to_request()).await;
        assert_eq!(res.status(), expected, "{user:?}");
        if expected == StatusCode::OK {
            let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
            let config = injected_config(&body).unwrap();
            // The frontend joins every channel, whatever their paths.
            assert_eq!(
                config["channels"].as_array().unwrap().len(),
                matrix_channels().len()
            );
        }
    }
    let event = json!({"channel": "public_all", "message": "hi", "event_class": "info"});
    let (status, _) = post(&app, "/instant/publish", None, event.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = post(&app, "/instant/publish", Some("s1:staff"), event.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, reply) = post(
        &app,
        "/instant/publish",
        Some("root:superuser"),
        json!({"channel": "$nope", "message": "hi"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{reply}");
    let (status, reply) = post(&app, "/instant/publish", Some("root:superuser"), event).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert!(reply["uid"].as_str().is_some_and(|uid| !uid.is_empty()));
}
