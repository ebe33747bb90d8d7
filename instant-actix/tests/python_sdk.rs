//! Centrifugo's official Python server SDK, `cent` 5.x, works against the embedded server's HTTP
//! API as it does against a real Centrifugo v6: `py/cent_scenario.py` publishes, broadcasts,
//! batches, reads history, presence, presence stats and info (with the sync `Client`, and the
//! stream position with the aiohttp `AsyncClient`), and checks cent's typed errors for a wrong API
//! key and an unknown channel; the same assertions hold on the three servers (the app's embedded
//! server, the standalone one of `instant runws --embedded`, and Centrifugo), and a WebSocket
//! subscriber receives what cent published.
//!
//! Needs Python with `py/requirements.txt` installed: `$INSTANT_PYTHON`, else
//! `<workspace>/.tools/venv/bin/python` (`cargo xtask install` makes it), and the Centrifugo binary
//! (see `instant_testkit::centrifugo_binary`). Fails, never skips, without them.

mod embedded_support;
mod standalone_support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use embedded_support::{RawClient, TestServer};
use instant_actix::EmbeddedOptions;
use instant_core::{Config, Secret, Tokens};
use instant_testkit::{Centrifugo, CentrifugoOptions, workspace_root};
use serde_json::{Value, json};
use standalone_support::StandaloneServer;

/// The channels of the scenario: `news` and `chat` are declared on the embedded server and open on
/// Centrifugo (no namespace); `nowhere:x` is in a namespace that neither server has.
const CHANNEL: &str = "news";
const OTHER: &str = "chat";
const UNKNOWN: &str = "nowhere:x";

/// The user of the WebSocket subscriber that the presence steps see.
const USER: &str = "alice";

/// The Python interpreter with `cent`: `$INSTANT_PYTHON`, else the venv `cargo xtask install` makes.
fn python() -> PathBuf {
    let python = std::env::var_os("INSTANT_PYTHON")
        .filter(|p| !p.is_empty())
        .map_or_else(
            || workspace_root().join(".tools/venv/bin/python"),
            PathBuf::from,
        );
    let probe = Command::new(&python)
        .args([
            "-c",
            "import cent, importlib.metadata as m; print(m.version('cent'))",
        ])
        .output();
    match probe {
        Ok(output) if output.status.success() => python,
        Ok(output) => panic!(
            "Python at {} cannot import the Centrifugo SDK `cent`: {}\n\
             Run `cargo xtask install` (it makes <workspace>/.tools/venv with py/requirements.txt) \
             or set INSTANT_PYTHON to a Python that has it.",
            python.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        ),
        Err(e) => panic!(
            "cannot run Python at {}: {e}\n\
             Run `cargo xtask install` (it makes <workspace>/.tools/venv with py/requirements.txt) \
             or set INSTANT_PYTHON to a Python that has the Centrifugo SDK `cent`.",
            python.display()
        ),
    }
}

/// Runs `py/cent_scenario.py` against an API; returns each step's JSON line by step name.
fn run_scenario(server: &str, api_url: &str, api_key: &Secret) -> BTreeMap<String, Value> {
    let script = workspace_root().join("py/cent_scenario.py");
    let output = Command::new(python())
        .arg(&script)
        .args(["--channel", CHANNEL, "--other", OTHER, "--unknown", UNKNOWN])
        // After `--`, a key that starts with `-` is still the key.
        .args(["--", api_url, api_key.expose_secret()])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<Value> = stdout
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    let failed: Vec<&Value> = lines.iter().filter(|l| l["ok"] == false).collect();
    assert!(
        output.status.success() && failed.is_empty(),
        "{server}: the cent scenario failed ({}):\n{}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status,
        failed
            .iter()
            .map(|l| format!("  {}: {}", l["step"], l["problem"]))
            .collect::<Vec<_>>()
            .join("\n"),
    );
    let summary = lines.iter().find(|l| l["summary"] == true);
    assert_eq!(
        summary.map(|s| (s["passed"].clone(), s["failed"].clone())),
        Some((json!(10), json!(0))),
        "{server}: unexpected summary; stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    lines
        .into_iter()
        .filter_map(|l| Some((l["step"].as_str()?.to_owned(), l)))
        .collect()
}

/// A WebSocket client of `user` subscribed to [`CHANNEL`], so that presence has someone in it.
async fn subscriber(ws_url: &str, tokens: &Tokens) -> RawClient {
    let mut client = RawClient::open(ws_url).await;
    client.connect(&tokens.connection(USER, None)).await;
    let reply = client
        .call("subscribe", json!({ "channel": CHANNEL }))
        .await;
    assert!(
        reply.get("subscribe").is_some(),
        "subscribe failed: {reply}"
    );
    client
}

/// The scenario and its assertions, the same for both servers.
async fn scenario(server: &str, ws_url: &str, api_url: &str, api_key: &Secret, tokens: &Tokens) {
    let mut client = subscriber(ws_url, tokens).await;
    let steps = run_scenario(server, api_url, api_key);
    let result = |step: &str| steps[step]["result"].clone();

    let published = json!({"text": "hello from cent", "n": 1, "nested": {"ok": true}});
    let broadcast = json!({"text": "to both channels", "n": 2});

    let publish = result("publish");
    assert_eq!(publish["offset"], 1, "{server}: {publish}");
    let epoch = publish["epoch"].as_str().unwrap_or_default().to_owned();
    assert!(!epoch.is_empty(), "{server}: {publish}");

    let responses = result("broadcast")["responses"].clone();
    let offsets: Vec<Value> = responses
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["result"]["offset"].clone())
        .collect();
    assert_eq!(offsets, [json!(2), json!(1)], "{server}: {responses}");
    assert!(
        responses
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["error"].is_null())
    );

    let replies = result("batch")["replies"].clone();
    let offsets: Vec<Value> = replies
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["offset"].clone())
        .collect();
    assert_eq!(offsets, [json!(2), json!(3)], "{server}: {replies}");

    let history = result("history");
    let publications: Vec<(Value, Value)> = history["publications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["offset"].clone(), p["data"].clone()))
        .collect();
    assert_eq!(
        publications,
        [(json!(1), published.clone()), (json!(2), broadcast.clone())],
        "{server}: {history}"
    );
    assert_eq!(
        (history["offset"].clone(), history["epoch"].clone()),
        (json!(2), json!(epoch)),
        "{server}: {history}"
    );

    let presence = result("presence")["presence"].clone();
    let entries = presence.as_object().unwrap();
    assert_eq!(entries.len(), 1, "{server}: {presence}");
    let (id, info) = entries.iter().next().unwrap();
    assert_eq!(
        (info["client"].as_str(), info["user"].as_str()),
        (Some(id.as_str()), Some(USER)),
        "{server}: {presence}"
    );
    let stats = result("presence_stats");
    assert_eq!(
        (stats["num_clients"].clone(), stats["num_users"].clone()),
        (json!(1), json!(1)),
        "{server}: {stats}"
    );

    let info = result("info");
    let nodes = info["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 1, "{server}: {info}");
    assert!(
        nodes[0]["uid"].as_str().is_some_and(|s| !s.is_empty())
            && nodes[0]["name"].as_str().is_some_and(|s| !s.is_empty()),
        "{server}: {info}"
    );

    let position = result("async_client");
    assert_eq!(
        (position["offset"].clone(), position["epoch"].clone()),
        (json!(2), json!(epoch)),
        "{server}: {position}"
    );

    assert_eq!(
        steps["wrong_key"]["error"]["type"], "CentUnauthorizedError",
        "{server}: {}",
        steps["wrong_key"]
    );
    assert_eq!(
        steps["unknown_channel"]["error"],
        json!({"type": "CentApiResponseError", "code": 102, "message": "unknown channel"}),
        "{server}"
    );

    // The subscriber got what cent published to its channel, in order.
    for (offset, data) in [(1, &published), (2, &broadcast)] {
        let push = client.push().await;
        assert_eq!(push["channel"], CHANNEL, "{server}: {push}");
        assert_eq!(
            (&push["pub"]["offset"], &push["pub"]["data"]),
            (&json!(offset), data),
            "{server}: {push}"
        );
    }
}

#[actix_rt::test]
async fn cent_works_against_the_embedded_server() {
    let api_key = Secret::generate();
    let config = Config::builder()
        .secret(Secret::generate())
        .api_key(api_key.clone())
        .build()
        .unwrap();
    // Presence on, as in the Centrifugo target.
    let mut options = EmbeddedOptions::default();
    options.channel_defaults.presence = true;
    let server = TestServer::start(config, options);
    scenario(
        "embedded server",
        &server.ws_url(),
        &format!(
            "{}{}",
            server.http_url(),
            instant_actix::paths::EMBEDDED_API_PATH
        ),
        &api_key,
        &server.config.tokens(),
    )
    .await;
}

#[actix_rt::test]
async fn cent_works_against_centrifugo() {
    let server = Centrifugo::start(CentrifugoOptions::default());
    scenario(
        "Centrifugo v6",
        &server.ws_url(),
        &format!("{}/api", server.url()),
        server.api_key(),
        &server.tokens(),
    )
    .await;
}

#[actix_rt::test]
async fn cent_works_against_the_standalone_embedded_server() {
    let (secret, api_key) = (Secret::generate(), Secret::generate());
    // What `CentrifugoOptions::default()` gives the Centrifugo target, as a v6 config.
    let server = StandaloneServer::start(&json!({
        "client": { "token": { "hmac_secret_key": secret.expose_secret() } },
        "http_api": { "key": api_key.expose_secret() },
        "channel": { "without_namespace": {
            "allow_subscribe_for_client": true,
            "allow_subscribe_for_anonymous": true,
            "presence": true,
            "join_leave": true,
            "allow_presence_for_subscriber": true,
            "allow_history_for_subscriber": true,
            "history_size": 100,
            "history_ttl": "300s",
        } },
        "health": { "enabled": true },
    }));
    assert!(server.unsupported.is_empty(), "{:?}", server.unsupported);
    scenario(
        "standalone embedded server",
        &server.ws_url(),
        &format!("{}/api", server.http_url()),
        &api_key,
        &Tokens::new(secret, std::time::Duration::from_secs(3600)),
    )
    .await;
}
