//! The counters and the metrics route: the counters move with publishes and denials, the route
//! is off by default, and when on it answers Prometheus text to superusers and to the bearer key
//! only.

use actix_web::{App, HttpRequest, test};
use instant_actix::{MetricsAccess, Realtime, User, paths};
use instant_core::{Channel, ChannelSet, Config, Level};

const KEY: &str = "metrics-test-bearer-key-0123456789abcdef";

fn realtime(access: Option<MetricsAccess>) -> Realtime {
    let config = Config::builder()
        .secret("metrics-test-secret-0123456789abcdefghij")
        .build()
        .unwrap();
    let mut builder = Realtime::builder()
        .config(config)
        .channels(
            ChannelSet::new([
                Channel::new("news", Level::Public).unwrap(),
                Channel::new("$staff", Level::Staff).unwrap(),
            ])
            .unwrap(),
        )
        .users(|req: &HttpRequest| {
            req.headers()
                .get("x-user")
                .and_then(|v| v.to_str().ok())
                .map(|id| match id {
                    "admin" => User::superuser(id),
                    _ => User::member(id),
                })
        });
    if let Some(access) = access {
        builder = builder.metrics_route(access);
    }
    builder.build().unwrap()
}

/// Checks the Prometheus text format (0.0.4) line by line: `# HELP`/`# TYPE` comments, and
/// samples `name{label="value",…} number` whose family was typed before. Returns the samples.
fn parse_exposition(text: &str) -> Vec<(String, f64)> {
    fn valid_name(name: &str) -> bool {
        let mut chars = name.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    }
    assert!(text.ends_with('\n'), "{text}");
    let mut typed = Vec::new();
    let mut samples = Vec::new();
    for line in text.lines() {
        if let Some(comment) = line.strip_prefix("# ") {
            let mut parts = comment.splitn(3, ' ');
            let (kind, name, rest) = (parts.next(), parts.next(), parts.next());
            assert!(name.is_some_and(valid_name), "bad comment line: {line}");
            match kind {
                Some("HELP") => assert!(rest.is_some(), "{line}"),
                Some("TYPE") => {
                    assert!(
                        matches!(rest, Some("counter" | "gauge")),
                        "bad type: {line}"
                    );
                    typed.push(name.unwrap().to_owned());
                }
                _ => panic!("bad comment line: {line}"),
            }
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("a sample has a value");
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("bad value: {line}"));
        let name = match series.split_once('{') {
            Some((name, labels)) => {
                let labels = labels.strip_suffix('}').expect("closed labels");
                for label in labels.split(',') {
                    let (key, quoted) = label.split_once('=').expect("label=value");
                    assert!(valid_name(key), "{line}");
                    assert!(quoted.starts_with('"') && quoted.ends_with('"'), "{line}");
                }
                name
            }
            None => series,
        };
        assert!(valid_name(name), "{line}");
        assert!(
            typed.iter().any(|t| t == name),
            "sample before its TYPE: {line}"
        );
        samples.push((series.to_owned(), value));
    }
    samples
}

#[actix_rt::test]
async fn the_route_is_off_by_default() {
    let realtime = realtime(None);
    let app = test::init_service(App::new().configure(realtime.routes())).await;
    let response = test::call_service(
        &app,
        test::TestRequest::get()
            .uri(paths::METRICS)
            .insert_header(("x-user", "admin"))
            .insert_header(("authorization", format!("Bearer {KEY}")))
            .to_request(),
    )
    .await;
    assert_eq!(response.status(), 404);
}

#[actix_rt::test]
async fn counters_move_and_the_route_answers_valid_exposition_text() {
    let realtime = realtime(Some(MetricsAccess::SuperusersOrBearerKey(KEY.into())));
    let app = test::init_service(App::new().configure(realtime.routes())).await;
    let publisher = realtime.publisher();

    publisher.publish("news", "one").await.unwrap();
    publisher.publish("news", "two").detach();
    assert!(publisher.publish("undeclared", "x").await.is_err());
    // A member asking for a staff channel's token: denied for its level.
    let refused = test::call_service(
        &app,
        test::TestRequest::post()
            .uri(paths::AUTH_SUBSCRIPTION)
            .insert_header(("x-user", "bob"))
            .set_json(serde_json::json!({ "channel": "$staff" }))
            .to_request(),
    )
    .await;
    assert_eq!(refused.status(), 403);

    let metrics = realtime.metrics();
    assert_eq!(metrics.published, 2, "{metrics:?}");
    assert_eq!(metrics.failed, 1, "{metrics:?}");
    assert_eq!(metrics.dropped, 0, "{metrics:?}");
    assert_eq!(metrics.denied("level"), 1, "{metrics:?}");

    // Neither a superuser nor the key: as if there were no route.
    for request in [
        test::TestRequest::get().uri(paths::METRICS),
        test::TestRequest::get()
            .uri(paths::METRICS)
            .insert_header(("x-user", "bob")),
        test::TestRequest::get()
            .uri(paths::METRICS)
            .insert_header(("authorization", "Bearer wrong-key")),
    ] {
        let response = test::call_service(&app, request.to_request()).await;
        assert_eq!(response.status(), 404);
    }
    assert_eq!(realtime.metrics().denied("metrics"), 3);

    for request in [
        test::TestRequest::get()
            .uri(paths::METRICS)
            .insert_header(("authorization", format!("Bearer {KEY}"))),
        test::TestRequest::get()
            .uri(paths::METRICS)
            .insert_header(("x-user", "admin")),
    ] {
        let response = test::call_service(&app, request.to_request()).await;
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers().get("content-type").unwrap(),
            "text/plain; version=0.0.4; charset=utf-8"
        );
        let body = test::read_body(response).await;
        let text = std::str::from_utf8(&body).unwrap();
        let samples = parse_exposition(text);
        let value = |series: &str| {
            samples
                .iter()
                .find(|(s, _)| s == series)
                .map(|(_, v)| *v)
                .unwrap_or_else(|| panic!("{series} missing from\n{text}"))
        };
        assert_eq!(value("instant_events_published_total"), 2.0);
        assert_eq!(value("instant_publish_failed_total"), 1.0);
        assert_eq!(value("instant_auth_denied_total{reason=\"level\"}"), 1.0);
        assert!(value("instant_auth_denied_total{reason=\"metrics\"}") >= 3.0);
        assert_eq!(value("instant_open_connections"), 0.0);
    }
}
