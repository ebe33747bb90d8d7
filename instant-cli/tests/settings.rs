//! The command reads the app's settings through `instant_core`'s loader: `[[channels]]` options
//! reach the generated Centrifugo config, and `instant check` reports every setting. No
//! Centrifugo binary is needed.

mod support;

use std::fs;

use support::{instant, run, stderr, stdout};

#[test]
fn genconfig_writes_the_channel_options_of_instant_toml() {
    let root = tempfile::tempdir().unwrap();
    fs::write(
        root.path().join("instant.toml"),
        r#"
secret = "test-secret-0123456789abcdef0123456789"
centrifugo_api_key = "test-key"
allowed_origins = ["http://localhost:3000"]

[[channels]]
name = "news"
history_size = 20
history_ttl = "10m"

[[channels]]
name = "$chat:staff"
level = "staff"
presence = false
history_size = 0
"#,
    )
    .unwrap();
    let output = run(instant(root.path()).arg("genconfig"));
    assert!(output.status.success(), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(
        json["client"]["token"]["hmac_secret_key"],
        "test-secret-0123456789abcdef0123456789"
    );
    assert_eq!(json["http_api"]["key"], "test-key");
    assert_eq!(
        json["client"]["allowed_origins"][0],
        "http://localhost:3000"
    );
    let plain = &json["channel"]["without_namespace"];
    assert_eq!(plain["history_size"], 20, "{plain}");
    assert_eq!(plain["history_ttl"], "600s");
    assert_eq!(plain["force_recovery"], true);
    let chat = &json["channel"]["namespaces"][0];
    assert_eq!(chat["name"], "chat");
    assert_eq!(chat["history_size"], 0);
    assert_eq!(chat["presence"], false);
    assert_eq!(chat["force_recovery"], false);
}

#[test]
fn genconfig_refuses_a_misspelt_key_and_names_the_nearest() {
    let root = tempfile::tempdir().unwrap();
    fs::write(
        root.path().join("instant.toml"),
        "[[channels]]\nname = \"news\"\nhistroy_size = 20\n",
    )
    .unwrap();
    let output = run(instant(root.path()).arg("genconfig"));
    assert!(!output.status.success());
    let text = stderr(&output);
    assert!(text.contains("histroy_size"), "{text}");
    assert!(text.contains("did you mean `history_size`?"), "{text}");
}

#[test]
fn check_reports_every_setting_with_its_source() {
    let root = tempfile::tempdir().unwrap();
    let templates = root.path().join("templates");
    fs::create_dir_all(&templates).unwrap();
    let js = root.path().join("centrifuge.js");
    fs::write(&js, "// centrifuge").unwrap();
    fs::write(
        root.path().join("instant.toml"),
        "site_name = \"Demo\"\nsecret = \"file-secret-value-0123456789abcdef0123456789\"\n",
    )
    .unwrap();
    let output = run(instant(root.path())
        .args(["check", "--dir", "no-centrifugo-here"])
        .env("INSTANT_TEMPLATES_DIR", &templates)
        .env("INSTANT_CENTRIFUGE_JS", &js));
    let (out, err) = (stdout(&output), stderr(&output));
    assert!(output.status.success(), "{out}\n{err}");
    let line = |name: &str| {
        out.lines()
            .find(|line| line.trim_start().starts_with(name))
            .unwrap_or_else(|| panic!("no line for {name} in:\n{out}"))
            .to_owned()
    };
    let templates_line = line("INSTANT_TEMPLATES_DIR");
    assert!(
        templates_line.contains(templates.to_str().unwrap()),
        "{templates_line}"
    );
    assert!(
        templates_line.ends_with("(environment)"),
        "{templates_line}"
    );
    let js_line = line("INSTANT_CENTRIFUGE_JS");
    assert!(js_line.contains(js.to_str().unwrap()), "{js_line}");
    assert!(
        line("INSTANT_SITE_NAME").ends_with("= Demo (file)"),
        "{out}"
    );
    assert!(
        line("INSTANT_TOKEN_TTL").ends_with("= 1h (default)"),
        "{out}"
    );
    assert!(
        line("INSTANT_SECRET").contains("[redacted] (file)"),
        "{out}"
    );
    assert!(
        !out.contains("file-secret-value-0123456789abcdef0123456789")
            && !err.contains("file-secret-value-0123456789abcdef0123456789")
    );

    // A path that does not exist is a problem.
    let output = run(instant(root.path())
        .args(["check", "--dir", "no-centrifugo-here"])
        .env("INSTANT_TEMPLATES_DIR", root.path().join("missing"))
        .env("INSTANT_CENTRIFUGE_JS", &js));
    assert!(!output.status.success());
    let err = stderr(&output);
    assert!(err.contains("INSTANT_TEMPLATES_DIR"), "{err}");
    assert!(err.contains("not a directory"), "{err}");
}
