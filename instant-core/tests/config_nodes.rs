//! `centrifugo_urls`: the Centrifugo nodes of a cluster, from every source, beside `centrifugo_url`.

use instant_core::{Config, ConfigError};

const SECRET: &str = "nodes-test-secret-0123456789-abcdefghij";

#[test]
fn the_nodes_come_from_the_file_the_environment_and_the_builder() {
    let from_file = Config::from_toml_str(&format!(
        "secret = \"{SECRET}\"\ncentrifugo_urls = [\"http://a:8000/\", \"http://b:8000\"]\n"
    ))
    .unwrap();
    let from_env = Config::from_env_vars([
        ("INSTANT_SECRET", SECRET),
        ("INSTANT_CENTRIFUGO_URLS", "http://a:8000/, http://b:8000"),
    ])
    .unwrap();
    let from_code = Config::builder()
        .secret(SECRET)
        .centrifugo_urls(["http://a:8000", "http://b:8000", "http://a:8000"])
        .build()
        .unwrap();
    for config in [from_file, from_env, from_code] {
        assert_eq!(config.centrifugo_urls(), ["http://a:8000", "http://b:8000"]);
        // The first node plays centrifugo_url: the browsers' WebSocket URL follows it.
        assert_eq!(config.centrifugo_url(), Some("http://a:8000"));
        assert_eq!(
            config.websocket_url(),
            Some("ws://a:8000/connection/websocket")
        );
        assert!(!config.is_embedded());
    }
}

#[test]
fn a_single_url_keeps_working_and_may_stand_beside_the_list() {
    let single = Config::builder()
        .secret(SECRET)
        .centrifugo_url("http://a:8000")
        .build()
        .unwrap();
    assert_eq!(single.centrifugo_urls(), ["http://a:8000"]);
    let embedded = Config::builder().build().unwrap();
    assert!(embedded.centrifugo_urls().is_empty());

    let both = Config::builder()
        .secret(SECRET)
        .centrifugo_url("http://b:8000")
        .centrifugo_urls(["http://a:8000", "http://b:8000"])
        .build()
        .unwrap();
    assert_eq!(both.centrifugo_url(), Some("http://b:8000"));
    assert_eq!(both.centrifugo_urls(), ["http://a:8000", "http://b:8000"]);
}

#[test]
fn bad_lists_are_errors_naming_the_key() {
    let outside = Config::builder()
        .secret(SECRET)
        .centrifugo_url("http://c:8000")
        .centrifugo_urls(["http://a:8000"])
        .build()
        .unwrap_err();
    assert!(
        matches!(&outside, ConfigError::Invalid { key, reason } if key == "centrifugo_urls" && reason.contains("http://c:8000")),
        "{outside}"
    );
    let bad = Config::from_env_vars([
        ("INSTANT_SECRET", SECRET),
        ("INSTANT_CENTRIFUGO_URLS", "http://a:8000 ws://b:8000"),
    ])
    .unwrap_err();
    assert_eq!(bad.key(), Some("INSTANT_CENTRIFUGO_URLS"), "{bad}");
    let missing_secret = Config::builder()
        .centrifugo_urls(["http://a:8000"])
        .build()
        .unwrap_err();
    assert_eq!(missing_secret.key(), Some("secret"), "{missing_secret}");
}
