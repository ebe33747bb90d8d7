//! `instant installws` downloading a release from a local HTTP server: verified, unpacked,
//! installed atomically; damaged downloads refused with nothing left behind.

mod support;

use std::fs;
use std::path::Path;

use support::{
    ReleaseServer, VERSION, checksums, entries, fake_archive, instant, run, sha256_hex, stderr,
};

/// Runs `installws` from `server` into `<root>/centrifugo`, with `<root>/instant.toml` as settings,
/// and a PATH without Go so the download path is the only one.
fn installws(root: &Path, base_url: &str, extra: &[&str]) -> std::process::Output {
    let no_go = root.join("empty-path");
    fs::create_dir_all(&no_go).unwrap();
    run(instant(root)
        .args(["installws", "--base-url", base_url, "--dir"])
        .arg(root.join("centrifugo"))
        .args(extra)
        .env("PATH", &no_go))
}

#[test]
fn a_verified_release_is_installed_with_its_config_and_settings() {
    let root = tempfile::tempdir().unwrap();
    let archive = fake_archive(VERSION);
    let server = ReleaseServer::release(archive.clone(), checksums(&sha256_hex(&archive)));
    fs::write(
        root.path().join("instant.toml"),
        "# the app's settings\nsite_name = \"Demo\"\n\n[[channels]]\nname = \"news\"\nhistory_size = 10\n",
    )
    .unwrap();

    let output = installws(root.path(), &server.base_url(), &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let dir = root.path().join("centrifugo");
    assert_eq!(
        entries(&dir),
        ["centrifugo", "centrifugo.version", "config.json"],
        "only the binary, its marker and the config are left"
    );
    let version = run(std::process::Command::new(dir.join("centrifugo")).arg("version"));
    assert!(support::stdout(&version).contains("Centrifugo v6.9.1"));
    assert_eq!(
        fs::read_to_string(dir.join("centrifugo.version")).unwrap(),
        "6.9.1\n"
    );

    // The config uses v6 keys, and the settings now hold the same secret, key and URL.
    let config: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("config.json")).unwrap()).unwrap();
    let secret = config["client"]["token"]["hmac_secret_key"]
        .as_str()
        .unwrap();
    let api_key = config["http_api"]["key"].as_str().unwrap();
    assert!(secret.len() >= 32 && api_key.len() >= 32);
    assert_eq!(config["health"]["enabled"], true);
    assert_eq!(config["channel"]["without_namespace"]["history_size"], 10);
    let settings = fs::read_to_string(root.path().join("instant.toml")).unwrap();
    let table: toml::Table = settings.parse().unwrap();
    assert_eq!(table["secret"].as_str(), Some(secret));
    assert_eq!(table["centrifugo_api_key"].as_str(), Some(api_key));
    assert_eq!(
        table["centrifugo_url"].as_str(),
        Some("http://localhost:8000")
    );
    assert_eq!(table["site_name"].as_str(), Some("Demo"));
    assert!(settings.starts_with("# the app's settings"), "{settings}");
    assert!(settings.contains("[[channels]]"), "{settings}");

    // Running it again keeps the installed version and the secrets, and downloads nothing.
    let asked = server.requests().len();
    let again = installws(root.path(), &server.base_url(), &[]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("already installed"),
        "{}",
        stderr(&again)
    );
    assert_eq!(server.requests().len(), asked, "no second download");
    let config_again: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("config.json")).unwrap()).unwrap();
    assert_eq!(config_again, config);
    assert_eq!(
        fs::read_to_string(root.path().join("instant.toml")).unwrap(),
        settings
    );
}

#[test]
fn a_wrong_checksum_is_refused_and_nothing_is_left() {
    let root = tempfile::tempdir().unwrap();
    let archive = fake_archive(VERSION);
    let server = ReleaseServer::release(archive, checksums(&sha256_hex(b"another file")));

    let output = installws(root.path(), &server.base_url(), &[]);
    assert_eq!(output.status.code(), Some(5), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(message.contains("SHA-256 mismatch"), "{message}");
    assert!(message.contains("nothing was installed"), "{message}");
    assert_eq!(
        message.lines().count(),
        2,
        "a progress line and one error line: {message}"
    );
    assert!(
        !root.path().join("centrifugo").exists(),
        "nothing left behind"
    );
    assert!(
        !root.path().join("instant.toml").exists(),
        "settings untouched"
    );
}

#[test]
fn a_corrupt_archive_is_refused_and_an_existing_install_is_kept() {
    let root = tempfile::tempdir().unwrap();
    // An older install that must survive the failed upgrade untouched.
    let dir = root.path().join("centrifugo");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("centrifugo"), "old binary").unwrap();
    let mut damaged = fake_archive(VERSION);
    let middle = damaged.len() / 2;
    damaged.truncate(middle);
    damaged.extend_from_slice(&[0xAB; 64]);
    // The checksum matches the damaged bytes, so the archive check itself must catch it.
    let server = ReleaseServer::release(damaged.clone(), checksums(&sha256_hex(&damaged)));

    let output = installws(root.path(), &server.base_url(), &[]);
    assert_eq!(output.status.code(), Some(5), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(
        message.contains("is not a valid .tar.gz archive"),
        "{message}"
    );
    assert_eq!(entries(&dir), ["centrifugo"], "no temporary files left");
    assert_eq!(
        fs::read_to_string(dir.join("centrifugo")).unwrap(),
        "old binary"
    );
}

#[test]
fn an_archive_with_the_wrong_version_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let archive = fake_archive("6.0.0");
    let server = ReleaseServer::release(archive.clone(), checksums(&sha256_hex(&archive)));

    let output = installws(root.path(), &server.base_url(), &[]);
    assert_eq!(output.status.code(), Some(5), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("expected Centrifugo v6.9.1"),
        "{}",
        stderr(&output)
    );
    assert!(!root.path().join("centrifugo").exists());
}

#[test]
fn a_version_missing_from_the_checksums_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let archive = fake_archive(VERSION);
    let server = ReleaseServer::release(archive, b"nothing useful\n".to_vec());

    let output = installws(root.path(), &server.base_url(), &[]);
    assert_eq!(output.status.code(), Some(5), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("is not listed in"),
        "{}",
        stderr(&output)
    );
    assert!(!root.path().join("centrifugo").exists());
}

#[test]
fn an_unreachable_host_is_reported() {
    let root = tempfile::tempdir().unwrap();
    let port = support::free_port();

    let output = installws(root.path(), &format!("http://127.0.0.1:{port}"), &[]);
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(
        message.contains("cannot reach http://127.0.0.1:"),
        "{message}"
    );
    assert!(
        message.contains("--from-source"),
        "the fix is named: {message}"
    );
    assert!(!root.path().join("centrifugo").exists());
}

#[test]
fn an_unknown_version_is_a_404_with_a_fix() {
    let root = tempfile::tempdir().unwrap();
    let archive = fake_archive(VERSION);
    let server = ReleaseServer::release(archive.clone(), checksums(&sha256_hex(&archive)));

    let output = installws(root.path(), &server.base_url(), &["--version", "6.0.99"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("HTTP 404"), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("check --version"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn binary_only_leaves_the_settings_alone() {
    let root = tempfile::tempdir().unwrap();
    let archive = fake_archive(VERSION);
    let server = ReleaseServer::release(archive.clone(), checksums(&sha256_hex(&archive)));

    let output = installws(
        root.path(),
        &server.base_url(),
        &["--binary-only", "--quiet"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).is_empty(),
        "--quiet prints nothing: {}",
        stderr(&output)
    );
    assert_eq!(
        entries(&root.path().join("centrifugo")),
        ["centrifugo", "centrifugo.version"]
    );
    assert!(!root.path().join("instant.toml").exists());
}

#[test]
fn an_interrupted_download_leaves_nothing_behind() {
    let root = tempfile::tempdir().unwrap();
    let server = ReleaseServer::release(support::STALL.to_vec(), checksums(&"1".repeat(64)));
    let dir = root.path().join("centrifugo");
    let no_go = root.path().join("empty-path");
    fs::create_dir_all(&no_go).unwrap();
    let child = instant(root.path())
        .args(["installws", "--base-url", &server.base_url(), "--dir"])
        .arg(&dir)
        .env("PATH", &no_go)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();

    // Wait until the download is under way: the staged archive has its first bytes.
    let staged_bytes = || -> u64 {
        let mut total = 0;
        for name in entries(&dir) {
            if name.starts_with(".centrifugo-install-") {
                for file in entries(&dir.join(&name)) {
                    total += fs::metadata(dir.join(&name).join(file)).map_or(0, |m| m.len());
                }
            }
        }
        total
    };
    for _ in 0..400 {
        if staged_bytes() > 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(staged_bytes() > 0, "the download started");

    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("interrupted"),
        "{}",
        stderr(&output)
    );
    assert!(!dir.exists(), "nothing left behind: {:?}", entries(&dir));
}
