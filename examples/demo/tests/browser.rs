//! A real browser on the demo: headless Chromium (driven by playwright-core from `js/node_modules`)
//! logs in as `admin`, opens `/a/path`, an event is published on `$mysite_admin1` (a channel that
//! only that path joins), and the page's per-channel handler adds it to the page. The screenshot is
//! kept in `test-artifacts/demo-a-path.png`.
//!
//! Then `user`, who owns order 1 in the demo's SQLite database, opens `/orders/1` with its client
//! held back: an event published between the page's rendering and its subscription still reaches
//! the order pattern's handler (the page subscribes from the stream position it was rendered at),
//! as do live ones and those for `user`'s personal channel (through the default handler); on
//! `/orders/2` the order's channel is refused at the page, the auth route and the server; a stale
//! position is reported through the resync hook.
//!
//! The demo runs as a child process with the local `centrifuge.js` (no network), once with the
//! embedded real-time server (no Centrifugo) and once with a real Centrifugo v6.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The demo server, killed when dropped.
struct Demo {
    child: Child,
    url: String,
}

impl Demo {
    fn start(env: &[(&str, String)]) -> Self {
        let centrifuge_js = workspace().join("js/node_modules/centrifuge/dist/centrifuge.js");
        assert!(
            centrifuge_js.is_file(),
            "{} is missing: run `npm ci` in js/",
            centrifuge_js.display()
        );
        let mut child = Command::new(env!("CARGO_BIN_EXE_demo"))
            .env("INSTANT_ADDR", "127.0.0.1:0")
            .env("INSTANT_CENTRIFUGE_JS", &centrifuge_js)
            .env("INSTANT_DEBUG", "true")
            // Short-lived tokens, so that the browser renews them during the test.
            .env("INSTANT_TOKEN_TTL", "3s")
            .env_remove("INSTANT_CENTRIFUGO_URL")
            .envs(env.iter().map(|(k, v)| (*k, v)))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the demo starts");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout
            .read_line(&mut line)
            .expect("the demo prints its address");
        // Keep reading, so that the demo never writes into a closed pipe.
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                println!("demo: {line}");
            }
        });
        let url = line
            .split_whitespace()
            .find(|word| word.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in the demo's first line: {line:?}"))
            .to_owned();
        Self { child, url }
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_published_event_reaches_the_pages_channel_handler() {
    let demo = Demo::start(&[]);
    let ws_url = demo.url.replace("http://", "ws://") + "/connection/websocket";
    run_scenario(&demo, "embedded", &ws_url);
}

#[test]
fn the_same_page_works_on_a_real_centrifugo() {
    // The personal channels' namespace as `instant genconfig` writes it, and recovery on, as
    // genconfig sets it for channels with history.
    let centrifugo = instant_testkit::Centrifugo::start(
        instant_testkit::CentrifugoOptions::default()
            .allow_anonymous_connect_without_token(true)
            .force_recovery(true)
            .namespace(serde_json::json!({
                "name": "personal",
                "allow_subscribe_for_client": true,
                "allow_subscribe_for_anonymous": true,
                "allow_user_limited_channels": true,
                "history_size": 100,
                "history_ttl": "300s",
                "force_recovery": true,
                "allow_history_for_subscriber": true,
            })),
    );
    let demo = Demo::start(&[
        ("INSTANT_CENTRIFUGO_URL", centrifugo.url()),
        (
            "INSTANT_CENTRIFUGO_API_KEY",
            centrifugo.api_key().expose_secret().to_owned(),
        ),
        (
            "INSTANT_SECRET",
            centrifugo.secret().expose_secret().to_owned(),
        ),
    ]);
    let ws_url = centrifugo.ws_url();
    run_scenario(&demo, "centrifugo", &ws_url);
}

fn run_scenario(demo: &Demo, backend: &str, ws_url: &str) {
    let artifacts = workspace().join("test-artifacts").join(backend);
    std::fs::create_dir_all(&artifacts).unwrap();
    let output = Command::new("node")
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/browser.mjs"))
        .arg(&demo.url)
        .arg(&artifacts)
        .env("INSTANT_JS_DIR", workspace().join("js"))
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("backend {backend}\n{stdout}");
    let steps: Vec<Value> = stdout
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    let step = |name: &str| steps.iter().find(|s| s["step"] == name).cloned();
    assert!(
        output.status.success(),
        "the browser run failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let logged_in = step("logged-in").unwrap();
    assert!(logged_in["text"].as_str().unwrap().contains("admin"));
    let config = step("config").unwrap();
    let channels: Vec<&str> = config["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(channels.contains(&"$mysite_admin1") && channels.contains(&"$mysite_staff1"));
    assert_eq!(config["token"], true);
    assert_eq!(
        config["ws_url"], ws_url,
        "the page connects to the {backend} server"
    );
    let refreshed = step("refreshed").unwrap();
    assert!(
        refreshed["connection"].as_u64().unwrap() > 0
            && refreshed["subscription"].as_u64().unwrap() > 0,
        "centrifuge-js renews expiring tokens through the auth routes: {refreshed}"
    );
    assert_eq!(
        refreshed["drops"], 0,
        "renewing tokens must not cost the page its connection: {refreshed}"
    );
    let published = step("published").unwrap();
    assert_eq!(published["status"], 200, "{published}");
    let handled = step("handled").unwrap();
    let text = handled["text"].as_str().unwrap();
    assert!(text.contains("Hello from the browser test"), "{text}");
    assert!(text.contains("$mysite_admin1"));
    assert!(handled["label"].as_str().unwrap().contains("i-created"));
    assert!(artifacts.join("demo-a-path.png").is_file());

    let frontend = step("frontend-config").unwrap();
    assert_eq!(
        frontend["channels"].as_array().unwrap().len(),
        8,
        "the frontend joins all seven fixed channels and the admin's personal one: {frontend}"
    );
    let feed = step("frontend-feed").unwrap();
    assert!(
        feed["row"]
            .as_str()
            .unwrap()
            .contains("From the frontend form"),
        "{feed}"
    );
    assert!(feed["row"].as_str().unwrap().contains("$mysite_staff1"));
    assert!(feed["label"].as_str().unwrap().contains("i-warning"));
    assert_eq!(feed["count"], "1");
    assert_eq!(feed["result"], "Published.");
    let anonymous = step("anonymous-config").unwrap();
    assert_eq!(
        anonymous["token"], "",
        "anonymous visitors connect without a token"
    );
    assert_eq!(
        anonymous["channels"],
        serde_json::json!(["mysite_public1", "mysite_public2"])
    );
    let handled = step("anonymous-handled").unwrap();
    assert!(handled["text"].as_str().unwrap().contains("For everyone"));
    // Debug mode (INSTANT_DEBUG=true) logs every event in the console.
    let console = step("console").unwrap();
    assert!(
        console["lines"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l.as_str().unwrap().starts_with("instant event")),
        "{console}"
    );
    orders_scenario(&step);
}

/// The order pages as `user` (see the module's documentation).
fn orders_scenario(step: &dyn Fn(&str) -> Option<Value>) {
    let published = step("order-gap-published").unwrap();
    assert_eq!(published["status"], 200, "{published}");
    let config = step("order-config").unwrap();
    assert_eq!(
        config["channels"],
        serde_json::json!([
            "$mysite_users1",
            "mysite_public1",
            "mysite_public2",
            "personal:#user",
            "$order_1"
        ]),
        "{config}"
    );
    let order = &config["order"];
    assert_eq!(order["pattern"], "$order_{id}", "{order}");
    assert_eq!(order["params"]["id"], "1", "{order}");
    assert!(
        order["since"]["epoch"]
            .as_str()
            .is_some_and(|e| !e.is_empty()),
        "the page carries the render-time position: {order}"
    );
    assert_eq!(
        config["user"],
        serde_json::json!({"id": "user", "level": "users"})
    );
    assert_eq!(config["path"], "/orders/1");
    let handled = step("order-gap-handled").unwrap();
    assert!(
        handled["text"]
            .as_str()
            .unwrap()
            .contains("Order 1: Published before the page subscribed"),
        "the event published before the subscription arrives: {handled}"
    );
    assert_eq!(handled["channel"], "$order_1");
    let form = step("order-form").unwrap();
    assert_eq!(form["prefilled"], "$order_{id}", "{form}");
    assert_eq!(form["result"], "Published.", "{form}");
    let page = step("order-page").unwrap();
    assert_eq!(page["access"], "true", "{page}");
    assert_eq!(page["status"], "connected", "{page}");
    assert_eq!(page["joined"], config["channels"], "{page}");
    assert_eq!(page["events"].as_array().unwrap().len(), 2, "{page}");

    let personal = step("personal-published").unwrap();
    assert_eq!(personal["status"], 200, "{personal}");
    let note = step("personal-handled").unwrap();
    assert!(
        note["text"]
            .as_str()
            .unwrap()
            .contains("Your invoice is ready"),
        "{note}"
    );
    let refused = step("personal-refused").unwrap();
    assert_eq!(
        (&refused["subscribed"], &refused["code"]),
        (&serde_json::json!(false), &serde_json::json!(103)),
        "another user's personal channel: {refused}"
    );

    let refused = step("order-refused").unwrap();
    assert_eq!(
        refused["channels"],
        serde_json::json!([
            "$mysite_users1",
            "mysite_public1",
            "mysite_public2",
            "personal:#user"
        ]),
        "{refused}"
    );
    assert_eq!(refused["access"], "false", "{refused}");
    assert_eq!(refused["tokenStatus"], 403, "{refused}");
    assert_eq!(
        refused["subscribe"],
        serde_json::json!({"subscribed": false, "code": 103}),
        "{refused}"
    );
    let resync = step("resync").unwrap();
    assert!(
        resync["channels"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "$order_1"),
        "{resync}"
    );
}
