//! `genconfig`, `runws` and `check` against the real Centrifugo v6 binary.

mod support;

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};

use support::{RunWs, centrifugo_bin, free_port, instant, run, stderr, stdout};

/// An app directory with settings for a Centrifugo on `port`, and `cf/` holding the real binary.
fn app(port: u16, extra_settings: &str) -> (tempfile::TempDir, PathBuf) {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("cf");
    fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink(centrifugo_bin(), dir.join("centrifugo")).unwrap();
    fs::write(
        root.path().join("instant.toml"),
        format!(
            "secret = \"test-secret-0123456789abcdef0123456789\"\ncentrifugo_api_key = \"test-api-key\"\ncentrifugo_url = \"http://127.0.0.1:{port}\"\nallowed_origins = [\"http://localhost:8080\"]\n{extra_settings}"
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
        "cf/config.json",
    ]));
    assert!(output.status.success(), "{}", stderr(&output));
    (root, dir)
}

fn checkconfig(config: &Path) -> std::process::Output {
    run(std::process::Command::new(centrifugo_bin())
        .args(["checkconfig", "--strict", "--config"])
        .arg(config))
}

#[test]
fn genconfig_output_passes_centrifugo_checkconfig_strict() {
    let root = tempfile::tempdir().unwrap();
    fs::write(
        root.path().join("instant.toml"),
        r#"
secret = "0123456789abcdef0123456789abcdef"
centrifugo_api_key = "key"

[[channels]]
name = "news"
paths = ["/news"]
history_size = 20
history_ttl = "10m"
recover = true

[[channels]]
name = "$users"
level = "users"
presence = true

[[channels]]
name = "$chat:staff"
level = "staff"
presence = true
join_leave = true

[[channels]]
name = "chat:lobby"
"#,
    )
    .unwrap();

    let memory = run(instant(root.path()).args(["genconfig", "--origin", "https://example.test"]));
    assert!(memory.status.success(), "{}", stderr(&memory));
    let config_path = root.path().join("memory.json");
    fs::write(&config_path, stdout(&memory)).unwrap();
    let checked = checkconfig(&config_path);
    assert!(
        checked.status.success(),
        "checkconfig --strict refused:\n{}{}\n{}",
        stdout(&checked),
        stderr(&checked),
        stdout(&memory)
    );
    let config: serde_json::Value = serde_json::from_str(&stdout(&memory)).unwrap();
    assert_eq!(
        config["client"]["token"]["hmac_secret_key"],
        "0123456789abcdef0123456789abcdef"
    );
    assert_eq!(config["http_api"]["key"], "key");
    assert_eq!(
        config["client"]["allowed_origins"][0],
        "https://example.test"
    );
    assert_eq!(
        config["channel"]["without_namespace"]["history_ttl"],
        "600s"
    );
    assert_eq!(config["channel"]["namespaces"][0]["name"], "chat");
    assert_eq!(config["channel"]["namespaces"][0]["join_leave"], true);

    let redis = run(instant(root.path()).args([
        "genconfig",
        "--engine",
        "redis",
        "--redis-url",
        "redis://127.0.0.1:6379",
        "--output",
        "redis.json",
    ]));
    assert!(redis.status.success(), "{}", stderr(&redis));
    let checked = checkconfig(&root.path().join("redis.json"));
    assert!(
        checked.status.success(),
        "{}{}",
        stdout(&checked),
        stderr(&checked)
    );

    // Without `[[channels]]`, the embedded server's defaults, which Centrifugo accepts too.
    let bare = tempfile::tempdir().unwrap();
    fs::write(
        bare.path().join("instant.toml"),
        "secret = \"0123456789abcdef0123456789abcdef\"\ncentrifugo_api_key = \"key\"\n",
    )
    .unwrap();
    let defaults = run(instant(bare.path()).args(["genconfig", "--output", "defaults.json"]));
    assert!(defaults.status.success(), "{}", stderr(&defaults));
    let defaults_path = bare.path().join("defaults.json");
    let checked = checkconfig(&defaults_path);
    assert!(
        checked.status.success(),
        "{}{}",
        stdout(&checked),
        stderr(&checked)
    );
    let config: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&defaults_path).unwrap()).unwrap();
    let plain = &config["channel"]["without_namespace"];
    // Presence and join/leave off by default, and never open to anonymous clients.
    assert_eq!(plain["presence"], false);
    assert_eq!(plain["join_leave"], false);
    assert!(
        plain.get("allow_presence_for_anonymous").is_none(),
        "{plain}"
    );
    assert_eq!(plain["history_size"], 100);
    assert_eq!(plain["history_ttl"], "300s");
    assert_eq!(plain["force_recovery"], true);

    // --output refuses to overwrite without --force.
    let again = run(instant(root.path()).args(["genconfig", "--output", "redis.json"]));
    assert_eq!(again.status.code(), Some(1), "{}", stderr(&again));
    assert!(stderr(&again).contains("--force"), "{}", stderr(&again));
}

#[test]
fn runws_starts_centrifugo_and_stops_it_on_sigterm() {
    let port = free_port();
    let (root, _dir) = app(port, "");
    let mut running = RunWs::start(root.path());
    running.wait_for("Centrifugo is ready");

    // While it runs, `check` finds everything in order.
    let check = run(instant(root.path()).args(["check", "--dir", "cf"]));
    assert!(check.status.success(), "{}", stderr(&check));
    assert!(stderr(&check).contains("Centrifugo accepts the API key"));

    // A wrong API key is one line with its fix, and a non-zero exit.
    let wrong = run(instant(root.path())
        .args(["check", "--dir", "cf"])
        .env("INSTANT_CENTRIFUGO_API_KEY", "wrong"));
    assert_eq!(wrong.status.code(), Some(3), "{}", stderr(&wrong));
    let refused = stderr(&wrong)
        .lines()
        .filter(|line| line.starts_with("error: ") && line.contains("; fix: "))
        .count();
    assert_eq!(refused, 2, "{}", stderr(&wrong));

    // SIGHUP reaches Centrifugo, which reloads its config and keeps running.
    running.signal(nix::sys::signal::Signal::SIGHUP);
    running.wait_for("configuration successfully reloaded");
    assert!(
        matches!(running.child.try_wait(), Ok(None)),
        "still running"
    );

    running.terminate();
    let status = running.child.wait().unwrap();
    let log = running.rest_of_log();
    assert_eq!(
        status.code(),
        Some(0),
        "exits with Centrifugo's code:\n{log}"
    );
    assert!(
        log.contains("signal received"),
        "Centrifugo got the signal:\n{log}"
    );
    let agent_down = std::net::TcpStream::connect(("127.0.0.1", port)).is_err();
    assert!(agent_down, "Centrifugo is gone");
}

#[test]
fn runws_exits_with_centrifugos_code_when_it_cannot_start() {
    let busy = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    let (root, _dir) = app(port, "");
    let output = run(instant(root.path()).args(["runws", "--dir", "cf"]));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(
        message
            .lines()
            .any(|line| line.starts_with("error: Centrifugo exited") && line.contains("fix:")),
        "{message}"
    );
    drop(busy);
}

#[test]
fn runws_without_an_install_names_the_fix() {
    let root = tempfile::tempdir().unwrap();
    let output = run(instant(root.path()).args(["runws", "--dir", "nowhere"]));
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("run `instant installws`"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn check_reports_each_problem_on_one_line() {
    let port = free_port();
    let (root, dir) = app(port, "");
    // A v5-style config: the flat names v6 ignores, and a secret that differs from the settings'.
    fs::write(
        dir.join("config.json"),
        r#"{"token_hmac_secret_key": "other", "api_key": "test-api-key", "allowed_origins": ["*"], "health": {"enabled": true}}"#,
    )
    .unwrap();
    let output = run(instant(root.path()).args(["check", "--dir", "cf"]));
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let message = stderr(&output);
    let problems: Vec<&str> = message
        .lines()
        .filter(|line| line.starts_with("error: "))
        .collect();
    for needle in [
        "v5 key `token_hmac_secret_key`",
        "v5 key `api_key`",
        "v5 key `allowed_origins`",
        "empty client.allowed_origins",
        "checkconfig --strict` rejects",
        "secret differs",
        "centrifugo_api_key differs",
        "does not answer",
        "but cf/config.json makes Centrifugo listen on 8000",
    ] {
        assert!(
            problems.iter().any(|line| line.contains(needle)),
            "no problem line with {needle:?}:\n{message}"
        );
    }
    assert!(
        problems
            .iter()
            .filter(|line| !line.contains("problem(s) found"))
            .all(|line| line.contains("; fix: ")),
        "every problem names its fix:\n{message}"
    );
}
