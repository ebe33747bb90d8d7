//! `instant installws --from-source`, and the fall-back to it when the download host is
//! unreachable: real `go install` builds of Centrifugo (Go 1.26+ must be installed).

mod support;

use std::fs;
use std::process::Command;

use support::{RunWs, entries, free_port, instant, run, stderr, stdout};

fn go_is_installed() {
    let go = Command::new("go").arg("version").output();
    assert!(
        go.is_ok_and(|output| output.status.success()),
        "these tests build Centrifugo with Go 1.26+, which must be on the PATH"
    );
}

#[test]
fn from_source_builds_a_centrifugo_that_runs_with_the_config_and_settings_it_wrote() {
    go_is_installed();
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("cf");
    let port = free_port().to_string();
    let install = [
        "installws",
        "--from-source",
        "--dir",
        "cf",
        "--port",
        &port,
        "--address",
        "127.0.0.1",
    ];

    let output = run(instant(root.path()).args(install));
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        entries(&dir),
        ["centrifugo", "centrifugo.version", "config.json"]
    );
    // The build is stamped with its version, as release builds are, and the marker agrees.
    let version = run(Command::new(dir.join("centrifugo")).arg("version"));
    assert!(
        stdout(&version).starts_with("Centrifugo v6.9.1 "),
        "{}",
        stdout(&version)
    );
    assert_eq!(
        fs::read_to_string(dir.join("centrifugo.version")).unwrap(),
        "6.9.1\n"
    );

    // The seed's workflow: installws, runws, and everything checks out.
    let mut running = RunWs::start(root.path());
    running.wait_for("Centrifugo is ready");
    let check = run(instant(root.path()).args(["check", "--dir", "cf"]));
    assert!(check.status.success(), "{}", stderr(&check));
    assert!(
        stderr(&check).contains("`centrifugo checkconfig --strict` accepts"),
        "{}",
        stderr(&check)
    );
    assert!(
        stderr(&check).contains("Centrifugo accepts the API key"),
        "{}",
        stderr(&check)
    );
    running.terminate();
    assert_eq!(running.child.wait().unwrap().code(), Some(0));

    // The right version is kept: the second run does not build (a PATH without Go proves it).
    let no_go = root.path().join("empty-path");
    fs::create_dir_all(&no_go).unwrap();
    let again = run(instant(root.path()).args(install).env("PATH", &no_go));
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("already installed"),
        "{}",
        stderr(&again)
    );
}

#[test]
fn an_unreachable_download_host_falls_back_to_go_install() {
    go_is_installed();
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("cf");
    let dead = format!("http://127.0.0.1:{}", free_port());

    let output = run(instant(root.path())
        .args(["installws", "--binary-only", "--base-url", &dead, "--dir"])
        .arg(&dir));
    assert!(output.status.success(), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(
        message.contains("cannot reach") && message.contains("building from source"),
        "{message}"
    );
    let version = run(Command::new(dir.join("centrifugo")).arg("version"));
    assert!(stdout(&version).contains("v6.9.1"), "{}", stdout(&version));
}
