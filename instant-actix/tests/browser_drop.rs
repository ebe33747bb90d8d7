//! A client drop in a real browser: a page (headless Chromium, the app's own client.js and the
//! local centrifuge.js) subscribed to `chat` (history of 200) and `small:feed` (history of 10)
//! loses its connection for 2 s, cut by a TCP proxy between the browser and the WebSocket server,
//! while 100 events are published on `chat` and 20 on `small:feed`. Once the page is back on its
//! own: `chat` has all 100, in order, without duplicates (recovered from the history); the history
//! of `small:feed` no longer covers the gap, so the page is told (`recovered: false`) and its
//! resync hook runs for that channel only (`instant/events/resync.js`, then the `instant:resync`
//! event). On the embedded server and on Centrifugo v6, with the same assertions. Needs node,
//! Chromium and the Centrifugo binary; fails, never skips, without them.

mod browser_support;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use browser_support::{Browser, RunningApp, centrifuge_js, numbers, publish};
use instant_actix::{EmbeddedOptions, Realtime};
use instant_core::{Channel, ChannelOptions, ChannelSet, Config, Level};
use instant_testkit::{Balancer, Centrifugo, CentrifugoOptions};
use serde_json::json;

const CHAT_EVENTS: u64 = 100;
const SMALL_EVENTS: u64 = 20;
const SECRET: &str = "browser-drop-secret-0123456789abcdef-0123";
const API_KEY: &str = "browser-drop-api-key-0123456789abcdef-012";

fn channels() -> ChannelSet {
    ChannelSet::new([
        Channel::new("chat", Level::Public).expect("chat"),
        Channel::new("small:feed", Level::Public).expect("small:feed"),
    ])
    .expect("channels")
}

fn realtime(config: Config) -> Realtime {
    let mut options = EmbeddedOptions::default();
    options.channel_defaults.history_size = 200;
    options.channel_defaults.history_ttl = Duration::from_secs(300);
    let mut small = ChannelOptions::default();
    small.history_size = 10;
    small.history_ttl = Duration::from_secs(300);
    Realtime::builder()
        .config(config)
        .channels(channels())
        .centrifuge_js(centrifuge_js())
        .embedded_options(options.channel("small:feed", small))
        .build()
        .expect("set-up")
}

/// Opens the page, cuts its connection for 2 s while publishing, then checks what it got.
async fn drop_for_two_seconds(
    name: &str,
    page: &str,
    balancer: &Balancer,
    target: u16,
    api: &str,
    key: &str,
) {
    let mut browser = Browser::open(page);
    browser.command("subscribed");
    balancer.cut();
    let cut_at = Instant::now();
    for n in 1..=CHAT_EVENTS {
        publish(api, key, "chat", n).await;
    }
    for n in 1..=SMALL_EVENTS {
        publish(api, key, "small:feed", n).await;
    }
    actix_rt::time::sleep(Duration::from_secs(2).saturating_sub(cut_at.elapsed())).await;
    balancer.route_to(target);
    let resubscribed = browser.command("resubscribed");
    let collected = browser.command(&format!("collect chat {CHAT_EVENTS}"));
    let resynced = browser.command("resync small:feed");
    let report = browser.command("report");
    eprintln!(
        "{name}: offline {:.1} s; chat {} events, resync {}, drops {}",
        cut_at.elapsed().as_secs_f64(),
        numbers(&collected, "chat").len(),
        resynced["resync"],
        report["drops"]
    );
    assert!(
        resubscribed["drops"].as_u64() > Some(0),
        "{name}: the page never lost its connection"
    );
    let expected: Vec<u64> = (1..=CHAT_EVENTS).collect();
    assert_eq!(
        numbers(&report, "chat"),
        expected,
        "{name}: chat in order, each once"
    );
    assert_eq!(
        report["resync"],
        json!(["small:feed"]),
        "{name}: the resync hook"
    );
    // What the small channel still held may have been recovered or not, but never twice.
    let small = numbers(&report, "small:feed");
    let mut unique = small.clone();
    unique.dedup();
    assert_eq!(small, unique, "{name}: small:feed duplicates");
}

#[actix_rt::test]
async fn a_page_offline_for_2_s_gets_all_100_events_and_is_told_of_a_gap_on_both_servers() {
    // The embedded server.
    let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = listener.local_addr().expect("address").port();
    let balancer = Balancer::start(port);
    let config = Config::builder()
        .secret(SECRET)
        .api_key(API_KEY)
        .allowed_origin(format!("http://127.0.0.1:{port}"))
        .websocket_url(balancer.ws_url())
        .build()
        .expect("config");
    let app = RunningApp::start(listener, realtime(config));
    drop_for_two_seconds(
        "embedded",
        &format!("http://127.0.0.1:{port}/"),
        &balancer,
        port,
        &format!("http://127.0.0.1:{port}/instant/api"),
        API_KEY,
    )
    .await;
    app.stop();

    // Centrifugo v6, configured as `instant genconfig` does for these channels.
    let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = listener.local_addr().expect("address").port();
    let page_origin = format!("http://127.0.0.1:{port}");
    let centrifugo = Centrifugo::start(
        CentrifugoOptions::default()
            .allow_anonymous_connect_without_token(true)
            .allowed_origins([page_origin.clone()])
            .history(200, Duration::from_secs(300))
            .force_recovery(true)
            .namespace(json!({
                "name": "small",
                "allow_subscribe_for_client": true,
                "allow_subscribe_for_anonymous": true,
                "history_size": 10,
                "history_ttl": "300s",
                "force_recovery": true,
                "allow_history_for_subscriber": true,
            })),
    );
    let balancer = Balancer::start(centrifugo.port());
    let config = centrifugo
        .config_builder()
        .allowed_origin(page_origin)
        .websocket_url(balancer.ws_url())
        .build()
        .expect("config");
    let _app = RunningApp::start(listener, realtime(config));
    drop_for_two_seconds(
        "Centrifugo",
        &format!("http://127.0.0.1:{port}/"),
        &balancer,
        centrifugo.port(),
        &format!("{}/api", centrifugo.url()),
        centrifugo.api_key().expose_secret(),
    )
    .await;
}
