//! `instant runws --embedded`: the real binary runs the embedded server as its own process from
//! the config `instant genconfig` writes, and centrifuge-js (the conformance scenarios of
//! `js/conformance/scenarios.mjs`, under Node) works against it as against Centrifugo; keys the
//! embedded server does not support are reported with their JSON path, and `--strict` refuses
//! them.
//!
//! Needs Node 20+ with `js/node_modules` installed; fails, never skips, without it.

mod support;

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use instant_core::{Secret, SubscriptionClaims, Tokens, now_secs};
use serde_json::{Value, json};
use support::{free_port, instant, run, stderr};

const SECRET: &str = "runws-embedded-secret-0123456789abcdef";
const API_KEY: &str = "runws-embedded-api-key-0123456789abcdef";

/// An app directory whose settings declare the conformance scenarios' channels, and the config
/// `instant genconfig` writes from them for a server on `port`.
fn app(port: u16) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    fs::write(
        root.path().join("instant.toml"),
        format!(
            r#"secret = "{SECRET}"
centrifugo_api_key = "{API_KEY}"

[[channels]]
name = "news"

[[channels]]
name = "chat"
presence = true
join_leave = true

[[channels]]
name = "$users"
level = "users"
"#
        ),
    )
    .unwrap();
    let output = run(instant(root.path()).args([
        "genconfig",
        "--port",
        &port.to_string(),
        "--address",
        "127.0.0.1",
        "--output",
        "config.json",
    ]));
    assert!(output.status.success(), "{}", stderr(&output));
    root
}

/// The running command, its standard error read line by line.
struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    log: Vec<String>,
}

impl Running {
    fn start(root: &Path, args: &[&str]) -> Self {
        let mut child = instant(root)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            lines,
            log: Vec::new(),
        }
    }

    fn wait_for(&mut self, needle: &str) {
        loop {
            match self.lines.recv_timeout(Duration::from_secs(60)) {
                Ok(line) => {
                    let found = line.contains(needle);
                    self.log.push(line);
                    if found {
                        return;
                    }
                }
                Err(_) => panic!("no line with {needle:?}; log:\n{}", self.log.join("\n")),
            }
        }
    }

    fn rest_of_log(&mut self) -> String {
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(2)) {
            self.log.push(line);
        }
        self.log.join("\n")
    }

    fn terminate(&self) {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.child.id()).unwrap());
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The tokens the scenarios use, signed with the settings' secret.
fn scenario_tokens() -> Value {
    let tokens = Tokens::new(Secret::new(SECRET.into()), Duration::from_secs(3600));
    let now = now_secs();
    let expired = tokens.sign_subscription(&SubscriptionClaims::new(
        "alice",
        "$users",
        now - 120,
        now - 60,
    ));
    let other_key = Tokens::new(Secret::generate(), Duration::from_secs(3600));
    json!({
        "alice": tokens.connection("alice", None),
        "alice_expired": tokens.sign_connection(&instant_core::ConnectionClaims::new("alice", now - 120, now - 60)),
        "bob": tokens.connection("bob", None),
        "alice_users": tokens.subscription("alice", "$users"),
        "alice_users_expired": expired,
        "alice_users_wrong_key": other_key.subscription("alice", "$users"),
        "alice_users_wrong_channel": tokens.subscription("alice", "$staff"),
    })
}

/// Runs one centrifuge-js scenario against the server on `port`; `Err` says what went wrong.
fn js_scenario(port: u16, scenario: &str) -> Result<(), String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../js/conformance/scenarios.mjs");
    let spec = json!({
        "url": format!("ws://127.0.0.1:{port}/connection/websocket"),
        "api_url": format!("http://127.0.0.1:{port}/api"),
        "api_key": API_KEY,
        "tokens": scenario_tokens(),
    });
    let node = std::env::var_os("INSTANT_NODE_BIN").unwrap_or_else(|| "node".into());
    let output = Command::new(&node)
        .arg(&script)
        .arg(scenario)
        .arg(spec.to_string())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {} (Node.js 20+ is needed): {e}", node.display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let verdict: Option<Value> = stdout
        .lines()
        .rev()
        .find_map(|line| serde_json::from_str(line).ok());
    match verdict {
        Some(v) if v["ok"] == true && output.status.success() => Ok(()),
        Some(v) => Err(format!(
            "{scenario}: {}",
            v["error"].as_str().unwrap_or("failed")
        )),
        None => Err(format!(
            "{scenario}: no verdict; stdout: {stdout}; stderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )),
    }
}

#[test]
fn runws_embedded_serves_centrifuge_js_from_the_genconfig_config_and_stops_on_sigterm() {
    let port = free_port();
    let root = app(port);
    let mut running = Running::start(
        root.path(),
        &["runws", "--embedded", "--config", "config.json"],
    );
    running.wait_for("the embedded server is ready");
    assert!(
        !running
            .log
            .iter()
            .any(|line| line.contains("not supported")),
        "genconfig's config has only supported keys:\n{}",
        running.log.join("\n")
    );

    let health = std::net::TcpStream::connect(("127.0.0.1", port));
    assert!(health.is_ok(), "it listens on http_server.port");
    let failures: Vec<String> = [
        "connect",
        "private_tokens",
        "publication_fields",
        "unsubscribe",
        "presence_join_leave",
        "history",
        "recovery",
        "unsubscribe_before_reply",
        "token_refresh_errors",
        "recovery_after_resubscribe",
        "unrecoverable_position",
    ]
    .into_iter()
    .filter_map(|scenario| js_scenario(port, scenario).err())
    .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // `instant publish` reaches it as it reaches Centrifugo, and the history has the event.
    let published = run(instant(root.path())
        .args([
            "publish",
            "--channel",
            "chat",
            "--message",
            "from the command",
        ])
        .env("INSTANT_CENTRIFUGO_URL", format!("http://127.0.0.1:{port}")));
    assert!(published.status.success(), "{}", stderr(&published));
    let mut response = ureq::post(format!("http://127.0.0.1:{port}/api/history"))
        .header("X-API-Key", API_KEY)
        .send(r#"{"channel": "chat", "limit": 1, "reverse": true}"#)
        .expect("history");
    let history: Value =
        serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(
        history["result"]["publications"][0]["data"]["message"], "from the command",
        "{history}"
    );

    running.terminate();
    let status = running.child.wait().unwrap();
    let log = running.rest_of_log();
    assert_eq!(status.code(), Some(0), "{log}");
    assert!(log.contains("the embedded server stopped"), "{log}");
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the port is free again"
    );
}

#[test]
fn runws_embedded_reports_unsupported_keys_and_strict_refuses_them() {
    let port = free_port();
    let root = app(port);
    let path = root.path().join("config.json");
    let mut config: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    config["admin"] = json!({"enabled": true});
    config["channel"]["namespaces"] = json!([{"name": "chat", "publish_proxy_enabled": true}]);
    fs::write(&path, config.to_string()).unwrap();

    let strict = run(instant(root.path())
        .args(["runws", "--embedded", "--strict", "--config", "config.json"])
        .env("CENTRIFUGO_CLIENT_INSECURE", "true"));
    let text = stderr(&strict);
    assert_eq!(strict.status.code(), Some(3), "{text}");
    assert!(
        text.contains("warning: CENTRIFUGO_CLIENT_INSECURE is set but not read"),
        "{text}"
    );
    for key in ["admin", "channel.namespaces[0].publish_proxy_enabled"] {
        let reported = text
            .lines()
            .filter(|line| line.starts_with(&format!("warning: {key}: ")))
            .count();
        assert_eq!(reported, 1, "{key} is reported once:\n{text}");
    }
    assert!(
        text.lines().any(|line| line.starts_with("error: ")
            && line.contains("--strict")
            && line.contains("; fix: ")),
        "{text}"
    );

    // Without --strict it starts with the supported keys, after the same warnings.
    let mut running = Running::start(
        root.path(),
        &["runws", "--embedded", "--config", "config.json"],
    );
    running.wait_for("the embedded server is ready");
    assert!(
        running
            .log
            .iter()
            .any(|l| l.starts_with("warning: admin: "))
    );
    // SIGHUP neither reloads nor stops it.
    let pid = nix::unistd::Pid::from_raw(i32::try_from(running.child.id()).unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGHUP).unwrap();
    running.wait_for("does not reload its config");
    assert!(
        matches!(running.child.try_wait(), Ok(None)),
        "still running"
    );
    running.terminate();
    assert_eq!(running.child.wait().unwrap().code(), Some(0));

    // A config that is not JSON is one error line, exit code 3.
    fs::write(&path, "{").unwrap();
    let broken = run(instant(root.path()).args(["runws", "--embedded", "--config", "config.json"]));
    assert_eq!(broken.status.code(), Some(3), "{}", stderr(&broken));
    assert!(stderr(&broken).contains("not a valid Centrifugo v6 JSON config"));
}
