//! No secret, API key or token where it does not belong: a whole session against an app (pages,
//! auth routes, WebSocket, publishes, refused requests) with every log line at the default level
//! captured, then `Debug` output of the set-up and of errors, and pages for other users, scanned
//! for the secret, the API key and the tokens of a logged-in user.

mod embedded_support;

use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, mpsc};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use embedded_support::{RawClient, WAIT};
use instant_actix::{InstantMiddleware, Realtime, User, paths};
use instant_core::{Channel, ChannelSet, Config, Level, Secret};
use instant_fuzz_checks::jwt;
use serde_json::{Value, json};

const SECRET: &str = "scan-secret-7f3a9c2e5b8d1f4a6c0e9b2d7a5f3c1e";
const API_KEY: &str = "scan-api-key-c4e8a1f7b3d9e2a6f0c5b8d1e7a3f9c2";

/// Everything `tracing` writes, process-wide.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl Write for Log {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Log {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

fn header_user(req: &HttpRequest) -> Option<User> {
    let value = req.headers().get("x-test-user")?.to_str().ok()?;
    let (id, level) = value.split_once(':')?;
    Some(User::new(id, level.parse().ok()?))
}

fn realtime() -> Realtime {
    let config = Config::builder()
        .secret(Secret::from(SECRET))
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
        .users(header_user)
        .build()
        .unwrap()
}

const PAGE: &str = "<!doctype html><html><head><title>T</title></head><body>hi</body></html>";

fn serve(realtime: Realtime) -> (SocketAddr, actix_web::dev::ServerHandle) {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        actix_rt::System::new().block_on(async move {
            let http = HttpServer::new(move || {
                App::new()
                    .wrap(InstantMiddleware)
                    .configure(realtime.routes())
                    .route(
                        "/",
                        web::get().to(|| async {
                            HttpResponse::Ok()
                                .content_type("text/html; charset=utf-8")
                                .body(PAGE)
                        }),
                    )
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

/// Sends a request; returns the status and the body.
async fn request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<String>,
) -> (u16, String) {
    let client = awc::Client::default();
    let mut req = match method {
        "GET" => client.get(url),
        _ => client.post(url),
    };
    for (name, value) in headers {
        req = req.insert_header((*name, *value));
    }
    let mut response = match body {
        Some(body) => req
            .insert_header(("content-type", "application/json"))
            .send_body(body),
        None => req.send(),
    }
    .await
    .expect("the app answers");
    let body = response.body().limit(1 << 20).await.expect("a body");
    (
        response.status().as_u16(),
        String::from_utf8_lossy(&body).into_owned(),
    )
}

#[actix_rt::test]
async fn no_secret_api_key_or_token_in_logs_debug_output_or_other_users_pages() {
    let log = Log::default();
    let writer = log.clone();
    // The default level (INFO), for every thread of the app.
    tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();

    let realtime = realtime();
    let (addr, handle) = serve(realtime.clone());
    let base = format!("http://{addr}");
    let origin = [("origin", base.as_str())];
    let alice = [("x-test-user", "alice:staff"), ("origin", base.as_str())];

    // Alice's page and her tokens from the auth routes.
    let (status, alice_page) = request("GET", &format!("{base}/"), &alice, None).await;
    assert_eq!(status, 200);
    let (status, body) = request(
        "POST",
        &format!("{base}{}", paths::AUTH_CONNECTION),
        &alice,
        Some("{}".into()),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let connection_token = serde_json::from_str::<Value>(&body).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = request(
        "POST",
        &format!("{base}{}", paths::AUTH_SUBSCRIPTION),
        &alice,
        Some(json!({"channel": "$staff"}).to_string()),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let subscription_token = serde_json::from_str::<Value>(&body).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut alice_tokens = jwt::find_tokens(&alice_page);
    assert!(!alice_tokens.is_empty(), "alice's page has her tokens");
    alice_tokens.extend([connection_token.clone(), subscription_token.clone()]);

    // Refused requests: an anonymous caller, a wrong API key, bad JSON, another site.
    let (status, _) = request(
        "POST",
        &format!("{base}{}", paths::AUTH_SUBSCRIPTION),
        &origin,
        Some(json!({"channel": "$staff"}).to_string()),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = request(
        "POST",
        &format!("{base}{}", paths::AUTH_SUBSCRIPTION),
        &alice,
        Some("{not json".into()),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = request(
        "POST",
        &format!("{base}{}", paths::AUTH_CONNECTION),
        &[
            ("x-test-user", "alice:staff"),
            ("origin", "http://evil.example"),
        ],
        Some("{}".into()),
    )
    .await;
    assert_eq!(status, 403);
    let api = format!("{base}{}/publish", paths::EMBEDDED_API_PATH);
    let (status, _) = request(
        "POST",
        &api,
        &[("x-api-key", "wrong-key")],
        Some(json!({"channel": "news", "data": {}}).to_string()),
    )
    .await;
    assert_eq!(status, 401);

    // The WebSocket: alice connects and subscribes; a forged token is refused.
    let ws = format!("ws://{addr}{}", paths::WEBSOCKET_PATH);
    let mut client = RawClient::open(&ws).await;
    client.connect(&connection_token).await;
    let reply = client
        .call(
            "subscribe",
            json!({"channel": "$staff", "token": subscription_token}),
        )
        .await;
    assert!(reply.get("subscribe").is_some(), "{reply}");
    let mut forged = RawClient::open(&ws).await;
    forged
        .command("connect", json!({"token": format!("{connection_token}x")}))
        .await;
    assert_eq!(forged.closed().await, Some(3500));

    // Publishes: through the API with the key, and through the publisher.
    let (status, body) = request(
        "POST",
        &api,
        &[("x-api-key", API_KEY)],
        Some(json!({"channel": "$staff", "data": {"n": 1}}).to_string()),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    realtime
        .publisher()
        .publish("$staff", "Hello")
        .await
        .expect("published");
    assert_eq!(client.push().await["channel"], "$staff");
    assert_eq!(client.push().await["channel"], "$staff");

    // An anonymous visitor's and another user's pages carry none of alice's tokens, and only
    // tokens of their own.
    for (who, headers) in [
        ("", &origin[..]),
        (
            "bob",
            &[("x-test-user", "bob:staff"), ("origin", base.as_str())][..],
        ),
    ] {
        let (status, page) = request("GET", &format!("{base}/"), headers, None).await;
        assert_eq!(status, 200);
        for token in &alice_tokens {
            assert!(!page.contains(token.as_str()), "{who:?} got alice's token");
        }
        for token in jwt::find_tokens(&page) {
            let claims = jwt::payload(&token).expect("a JWT payload");
            assert_eq!(claims["sub"], who, "{who:?}'s page has {claims}");
        }
        // The client script and style sheet the page loads are shared by everyone: no tokens.
        let files: Vec<&str> = page
            .split('"')
            .filter(|part| part.starts_with(&format!("{}/client.", paths::STATIC)))
            .collect();
        assert_eq!(files.len(), 2, "{page}");
        for file in files {
            let (status, text) = request("GET", &format!("{base}{file}"), headers, None).await;
            assert_eq!(status, 200, "{file}");
            assert!(jwt::find_tokens(&text).is_empty(), "a token in {file}");
        }
    }
    drop(handle.stop(true));

    // Debug output of the set-up and of errors.
    let short_secret = Config::builder()
        .secret(Secret::from("short-secret-xyz"))
        .build()
        .expect_err("a short secret is refused");
    let debug = [
        format!("{:?}", realtime.config()),
        format!("{:#?}", realtime.config()),
        format!("{realtime:?}"),
        format!("{:?}", realtime.publisher()),
        format!("{:?}", realtime.embedded_server()),
        format!("{:?}", realtime.config().tokens()),
        format!("{short_secret:?} {short_secret}"),
        format!(
            "{:?}",
            realtime
                .config()
                .tokens()
                .verify_connection(&format!("{connection_token}x"))
        ),
    ];

    let log = log.text();
    assert!(
        log.contains("INFO") || log.contains("WARN"),
        "the log captured the session: {log}"
    );
    for (what, text) in [("the log", log.as_str())]
        .into_iter()
        .chain(debug.iter().map(|d| ("Debug output", d.as_str())))
    {
        for (name, needle) in [
            ("the secret", SECRET),
            ("the API key", API_KEY),
            ("the short secret", "short-secret-xyz"),
        ] {
            assert!(!text.contains(needle), "{name} in {what}: {text}");
        }
        for token in &alice_tokens {
            assert!(!text.contains(token.as_str()), "a token in {what}: {text}");
        }
        assert!(
            jwt::find_tokens(text).is_empty(),
            "a token in {what}: {text}"
        );
    }
    eprintln!(
        "scanned {} bytes of log and {} Debug strings",
        log.len(),
        debug.len()
    );
}
