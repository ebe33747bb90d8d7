//! The app restarts under an open page (embedded server): a page in headless Chromium is
//! subscribed to `chat` and has received 3 events; the app shuts its embedded server down
//! (`EmbeddedServer::shutdown`, close 3001) and stops, and a new app starts on the same port. The
//! page reconnects by itself and receives the events published after the restart. The history
//! lived in the old process's memory: the page's recovery fails (new epoch), so it is told
//! (`recovered: false`) and its resync hook runs. Needs node and Chromium; fails, never skips,
//! without them.

mod browser_support;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use browser_support::{Browser, RunningApp, centrifuge_js, numbers, publish};
use instant_actix::{EmbeddedOptions, Realtime};
use instant_core::{Channel, ChannelSet, Config, Level};
use serde_json::json;

const SECRET: &str = "app-restart-secret-0123456789abcdef-01234";
const API_KEY: &str = "app-restart-api-key-0123456789abcdef-0123";

fn realtime(port: u16) -> Realtime {
    let config = Config::builder()
        .secret(SECRET)
        .api_key(API_KEY)
        .allowed_origin(format!("http://127.0.0.1:{port}"))
        .build()
        .expect("config");
    let mut options = EmbeddedOptions::default();
    options.channel_defaults.history_size = 100;
    options.channel_defaults.history_ttl = Duration::from_secs(300);
    Realtime::builder()
        .config(config)
        .channels(
            ChannelSet::new([Channel::new("chat", Level::Public).expect("chat")])
                .expect("channels"),
        )
        .centrifuge_js(centrifuge_js())
        .embedded_options(options)
        .build()
        .expect("set-up")
}

/// Binds the port again once the old server let it go.
fn rebind(port: u16) -> TcpListener {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match TcpListener::bind(("127.0.0.1", port)) {
            Ok(listener) => return listener,
            Err(error) => {
                assert!(
                    Instant::now() < deadline,
                    "port {port} still taken: {error}"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

#[actix_rt::test]
async fn a_page_reconnects_by_itself_after_the_app_restarts_and_gets_new_events() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = listener.local_addr().expect("address").port();
    let api = format!("http://127.0.0.1:{port}/instant/api");
    let first = realtime(port);
    let embedded = first
        .embedded_server()
        .cloned()
        .expect("the embedded server");
    let app = RunningApp::start(listener, first);

    let mut browser = Browser::open(&format!("http://127.0.0.1:{port}/"));
    browser.command("subscribed");
    for n in 1..=3 {
        publish(&api, API_KEY, "chat", n).await;
    }
    assert_eq!(
        numbers(&browser.command("collect chat 3"), "chat"),
        [1, 2, 3]
    );

    // The app stops as it should on shutdown, and a new process-worth of state starts.
    let stopped_at = Instant::now();
    embedded.shutdown();
    app.stop();
    let _app = RunningApp::start(rebind(port), realtime(port));
    let back = browser.command("resubscribed");
    let away = stopped_at.elapsed();
    for n in 4..=8 {
        publish(&api, API_KEY, "chat", n).await;
    }
    let report = browser.command("collect chat 8");
    eprintln!(
        "back {:.1} s after the stop; drops {}, resync {}",
        away.as_secs_f64(),
        back["drops"],
        report["resync"]
    );
    assert_eq!(
        numbers(&report, "chat"),
        (1..=8).collect::<Vec<u64>>(),
        "the events before and after the restart, each once"
    );
    // The history did not survive the restart: the page is told it may have missed events.
    assert_eq!(report["resync"], json!(["chat"]));
}
