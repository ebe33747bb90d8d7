//! Tests of the whole configuration: builder, sources, errors.

use std::path::Path;

use super::*;
use crate::{ChannelOptions, Level};

fn env(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    Config::from_env_vars(pairs.iter().copied())
}

#[test]
fn zero_configuration_is_embedded_mode_with_a_generated_secret() {
    let config = Config::builder().build().unwrap();
    assert!(config.is_embedded());
    assert!(config.secret_is_generated());
    assert!(config.secret().expose_secret().len() >= 40);
    assert_eq!(
        config.secret(),
        Config::builder().build().unwrap().secret(),
        "one generated secret per process"
    );
    assert_ne!(config.secret(), &Secret::generate());
    assert_eq!(config.site_slug(), "site");
    assert_eq!(config.token_ttl(), DEFAULT_TOKEN_TTL);
    assert_eq!(config.publish_timeout(), DEFAULT_PUBLISH_TIMEOUT);
    assert_eq!(config.websocket_url(), None);
    assert!(!config.debug());
}

#[test]
fn the_builder_sets_every_value() {
    let config = Config::builder()
        .secret("s3cret-0123456789abcdef0123456789abcdef")
        .api_key("k3y")
        .centrifugo_url("http://127.0.0.1:8000/")
        .site_slug("shop")
        .site_name("The Shop")
        .debug(true)
        .token_ttl(Duration::from_secs(60))
        .publish_timeout(Duration::from_millis(250))
        .allowed_origin("http://localhost:8080")
        .build()
        .unwrap();
    assert_eq!(
        config.secret().expose_secret(),
        "s3cret-0123456789abcdef0123456789abcdef"
    );
    assert!(!config.secret_is_generated());
    assert_eq!(config.api_key().unwrap().expose_secret(), "k3y");
    assert_eq!(config.centrifugo_url(), Some("http://127.0.0.1:8000"));
    assert_eq!(
        config.websocket_url(),
        Some("ws://127.0.0.1:8000/connection/websocket")
    );
    assert_eq!(config.site_name(), "The Shop");
    assert!(config.debug());
    assert_eq!(config.token_ttl(), Duration::from_secs(60));
    assert_eq!(config.publish_timeout(), Duration::from_millis(250));
    assert_eq!(config.allowed_origins(), ["http://localhost:8080"]);
}

#[test]
fn environment_variables_are_read() {
    let config = env(&[
        ("INSTANT_SECRET", "abc-0123456789abcdef0123456789abcdef"),
        ("INSTANT_CENTRIFUGO_URL", "https://rt.example.com"),
        ("INSTANT_CENTRIFUGO_API_KEY", "key"),
        (
            "INSTANT_WEBSOCKET_URL",
            "wss://ws.example.com/connection/websocket",
        ),
        ("INSTANT_SITE_SLUG", "blog"),
        ("INSTANT_SITE_NAME", "My blog"),
        ("INSTANT_DEBUG", "yes"),
        ("INSTANT_TOKEN_TTL", "2h"),
        ("INSTANT_PUBLISH_TIMEOUT", "1500ms"),
        (
            "INSTANT_ALLOWED_ORIGINS",
            "https://a.example, https://b.example",
        ),
        ("HOME", "/root"),
        ("INSTANT_UNRELATED", "x"),
    ])
    .unwrap();
    assert_eq!(config.centrifugo_url(), Some("https://rt.example.com"));
    assert_eq!(
        config.websocket_url(),
        Some("wss://ws.example.com/connection/websocket")
    );
    assert_eq!(config.site_slug(), "blog");
    assert_eq!(config.site_name(), "My blog");
    assert!(config.debug());
    assert_eq!(config.token_ttl(), Duration::from_secs(7200));
    assert_eq!(config.publish_timeout(), Duration::from_millis(1500));
    assert_eq!(
        config.allowed_origins(),
        ["https://a.example", "https://b.example"]
    );
}

#[test]
fn errors_name_the_environment_variable() {
    let err = env(&[("INSTANT_TOKEN_TTL", "forever")]).unwrap_err();
    assert_eq!(err.key(), Some("INSTANT_TOKEN_TTL"));
    let err = env(&[("INSTANT_DEBUG", "maybe")]).unwrap_err();
    assert_eq!(err.key(), Some("INSTANT_DEBUG"));
    let err = env(&[("INSTANT_CENTRIFUGO_URL", "localhost:8000")]).unwrap_err();
    assert!(matches!(err, ConfigError::Invalid { ref key, .. } if key == "INSTANT_CENTRIFUGO_URL"));
    let err = env(&[("INSTANT_CENTRIFUGO_URL", "http://localhost:8000")]).unwrap_err();
    assert!(matches!(err, ConfigError::Missing { ref key, .. } if key == "INSTANT_SECRET"));
    let err = env(&[("INSTANT_SITE_SLUG", "a b")]).unwrap_err();
    assert_eq!(err.key(), Some("INSTANT_SITE_SLUG"));
    assert!(err.to_string().contains("INSTANT_SITE_SLUG"));
}

#[test]
fn empty_environment_variables_count_as_unset() {
    let config = env(&[("INSTANT_CENTRIFUGO_URL", ""), ("INSTANT_SECRET", "")]).unwrap();
    assert!(config.is_embedded());
    assert!(config.secret_is_generated());
}

#[test]
fn toml_files_are_read_and_errors_name_the_key() {
    let config = Config::from_toml_str(
        r#"
        secret = "abc-0123456789abcdef0123456789abcdef"
        centrifugo_url = "http://127.0.0.1:8000"
        centrifugo_api_key = "key"
        site_slug = "shop"
        debug = true
        token_ttl = 600
        publish_timeout = "2s"
        allowed_origins = ["http://localhost:8080"]
        "#,
    )
    .unwrap();
    assert_eq!(config.token_ttl(), Duration::from_secs(600));
    assert_eq!(config.publish_timeout(), Duration::from_secs(2));
    assert_eq!(config.api_key().unwrap().expose_secret(), "key");
    assert_eq!(config.allowed_origins(), ["http://localhost:8080"]);

    let err = Config::from_toml_str("token_ttl = \"soon\"").unwrap_err();
    assert_eq!(err.key(), Some("token_ttl"));
    let err = Config::from_toml_str("centrifugo_url = \"http://x\"").unwrap_err();
    assert!(matches!(err, ConfigError::Missing { ref key, .. } if key == "secret"));
    let err = Config::from_toml_str("secrte = \"abc\"").unwrap_err();
    assert!(matches!(err, ConfigError::UnknownKey { ref key, .. } if key == "secrte"));
    assert_eq!(
        err.to_string(),
        "unknown key `secrte` in <string>; did you mean `secret`?"
    );
    let err = Config::from_toml_str("colour = 1").unwrap_err();
    assert_eq!(err.to_string(), "unknown key `colour` in <string>");
    let err = Config::from_toml_str("debug = \"yes\"").unwrap_err();
    assert!(matches!(err, ConfigError::Parse { .. }), "{err:?}");
    assert!(err.to_string().contains("debug"), "{err}");
    let err = Config::from_toml_file("/nonexistent/instant.toml").unwrap_err();
    assert!(matches!(err, ConfigError::Io { .. }));

    // The `instant` command's channel options live in the same file.
    let config = Config::from_toml_str(
        "site_slug = \"shop\"\n[[channels]]\nname = \"news\"\nlevel = \"public\"\n",
    )
    .unwrap();
    assert_eq!(config.site_slug(), "shop");
}

#[test]
fn toml_file_on_disk() {
    let dir = std::env::temp_dir().join(format!("instant-config-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("instant.toml");
    std::fs::write(&path, "site_slug = \"disk\"\n").unwrap();
    let config = Config::from_toml_file(&path).unwrap();
    assert_eq!(config.site_slug(), "disk");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn environment_overrides_the_file_and_errors_name_the_overriding_source() {
    let file = |text: &str| {
        let dir = std::env::temp_dir().join(format!("instant-layers-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("instant.toml");
        std::fs::write(&path, text).unwrap();
        path
    };
    let path = file("site_slug = \"file\"\ntoken_ttl = 10");
    let config = ConfigBuilder::from_sources(Some(&path), [("INSTANT_SITE_SLUG", "env")])
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(config.site_slug(), "env");
    assert_eq!(config.token_ttl(), Duration::from_secs(10));
    assert_eq!(config.source("site_slug"), Source::Env);
    assert_eq!(config.source("token_ttl"), Source::File);
    assert_eq!(config.source("debug"), Source::Default);

    let path = file("site_slug = \"fine\"");
    let err = ConfigBuilder::from_sources(Some(&path), [("INSTANT_SITE_SLUG", "not fine")])
        .unwrap()
        .build()
        .unwrap_err();
    assert_eq!(err.key(), Some("INSTANT_SITE_SLUG"));
    // Code overrides both.
    let config = ConfigBuilder::from_sources(Some(&path), [("INSTANT_SITE_SLUG", "not fine")])
        .unwrap()
        .site_slug("code")
        .build()
        .unwrap();
    assert_eq!(config.source("site_slug"), Source::Code);
}

#[test]
fn secrets_never_show_in_debug_or_display() {
    let config = Config::builder()
        .secret("topsecretvalue-0123456789abcdef0123456789")
        .api_key("apikeyvalue")
        .centrifugo_url("http://127.0.0.1:1")
        .build()
        .unwrap();
    let debug = format!("{config:?}");
    assert!(!debug.contains("topsecretvalue"), "{debug}");
    assert!(!debug.contains("apikeyvalue"), "{debug}");
    assert!(debug.contains("redacted"));
    assert_eq!(Secret::from("x").to_string(), "[redacted]");
    let err = env(&[("INSTANT_SECRET", "topsecretvalue"), ("INSTANT_DEBUG", "?")]).unwrap_err();
    assert!(!format!("{err:?} {err}").contains("topsecretvalue"));
}

#[test]
fn short_secrets_huge_lifetimes_and_bad_proxies_are_refused() {
    let err = Config::builder().secret("s3cret").build().unwrap_err();
    assert_eq!(err.key(), Some("secret"));
    let message = err.to_string();
    assert!(message.contains("at least 32"), "{message}");
    assert!(message.contains("openssl rand -base64 32"), "{message}");
    assert!(!message.contains("s3cret"), "{message}");
    let err = env(&[("INSTANT_SECRET", "0123456789abcdef0123456789abcde")]).unwrap_err();
    assert_eq!(err.key(), Some("INSTANT_SECRET"));
    let err = Config::from_toml_str("secret = \"short\"").unwrap_err();
    assert_eq!(err.key(), Some("secret"));
    Config::builder()
        .secret("0123456789abcdef0123456789abcdef")
        .build()
        .unwrap();

    let err = Config::builder()
        .token_ttl(Duration::from_secs(u64::MAX / 4))
        .build()
        .unwrap_err();
    assert_eq!(err.key(), Some("token_ttl"));
    assert!(err.to_string().contains("30 days"), "{err}");
    let err = env(&[("INSTANT_TOKEN_TTL", "31d")]).unwrap_err();
    assert_eq!(err.key(), Some("INSTANT_TOKEN_TTL"));
    let ttl = env(&[("INSTANT_TOKEN_TTL", "30d")]).unwrap().token_ttl();
    assert_eq!(ttl, crate::config::MAX_TOKEN_TTL);

    let config = env(&[("INSTANT_TRUSTED_PROXIES", "10.0.0.1, ::1")]).unwrap();
    assert_eq!(config.trusted_proxies().len(), 2);
    assert_eq!(config.source("trusted_proxies"), Source::Env);
    let config = Config::from_toml_str("trusted_proxies = [\"127.0.0.1\"]").unwrap();
    assert_eq!(config.trusted_proxies()[0].to_string(), "127.0.0.1");
    let err = Config::builder()
        .trusted_proxies(["proxy.example"])
        .build()
        .unwrap_err();
    assert_eq!(err.key(), Some("trusted_proxies"));
    assert!(
        Config::builder()
            .build()
            .unwrap()
            .trusted_proxies()
            .is_empty()
    );
}

#[test]
fn invalid_values_are_typed_errors() {
    assert_eq!(
        Config::builder().secret("").build().unwrap_err().key(),
        Some("secret")
    );
    assert_eq!(
        Config::builder()
            .websocket_url("http://x")
            .build()
            .unwrap_err()
            .key(),
        Some("websocket_url")
    );
    assert_eq!(
        Config::builder()
            .publish_timeout(Duration::ZERO)
            .build()
            .unwrap_err()
            .key(),
        Some("publish_timeout")
    );
    assert_eq!(
        Config::builder()
            .token_ttl(Duration::from_millis(10))
            .build()
            .unwrap_err()
            .key(),
        Some("token_ttl")
    );
    assert_eq!(
        Config::builder()
            .centrifugo_url("http:///nohost")
            .secret("s-0123456789abcdef0123456789abcdef")
            .build()
            .unwrap_err()
            .key(),
        Some("centrifugo_url")
    );
}

#[test]
fn paths_are_read_from_every_source() {
    let config = env(&[
        ("INSTANT_TEMPLATES_DIR", "templates"),
        ("INSTANT_CENTRIFUGE_JS", "/static/centrifuge.js"),
    ])
    .unwrap();
    assert_eq!(config.templates_dir(), Some(Path::new("templates")));
    assert_eq!(
        config.centrifuge_js(),
        Some(Path::new("/static/centrifuge.js"))
    );
    let config = Config::from_toml_str("templates_dir = \"t\"\ncentrifuge_js = \"c.js\"").unwrap();
    assert_eq!(config.templates_dir(), Some(Path::new("t")));
    assert_eq!(config.source("centrifuge_js"), Source::File);
    let config = Config::builder()
        .templates_dir("x")
        .centrifuge_js("y.js")
        .build()
        .unwrap();
    assert_eq!(config.centrifuge_js(), Some(Path::new("y.js")));
    assert_eq!(Config::builder().build().unwrap().templates_dir(), None);
    let err = Config::from_toml_str("templates_dir = 3").unwrap_err();
    assert!(matches!(err, ConfigError::Parse { .. }), "{err:?}");
}

#[test]
fn channels_are_read_from_the_file() {
    let config = Config::from_toml_str(
        r#"
        [[channels]]
        name = "news"
        paths = ["/news"]
        history_size = 20
        history_ttl = "1h"
        presence = true
        presence_for_anonymous = true

        [[channels]]
        name = "$staff"
        level = "staff"
        presence = false
        history_size = 0
        client_publish = true
        "#,
    )
    .unwrap();
    assert_eq!(config.channels().len(), 2);
    let news = config.channel_settings("news").unwrap();
    assert_eq!(news.level, Level::Public);
    assert_eq!(news.paths, ["/news"]);
    assert_eq!(news.options.history_size, 20);
    assert_eq!(news.options.history_ttl, Duration::from_secs(3600));
    assert!(news.options.recover && news.options.presence);
    assert!(news.options.presence_for_anonymous && !news.options.join_leave);
    let staff = config.channel_settings("$staff").unwrap();
    assert_eq!(staff.level, Level::Staff);
    assert!(!staff.options.presence && staff.options.client_publish);
    assert!(!staff.options.presence_for_anonymous);
    assert!(!staff.options.recover, "no history, no recovery by default");
    // Options left out are the embedded server's defaults.
    let config = Config::from_toml_str("[[channels]]\nname = \"a\"\n").unwrap();
    assert_eq!(
        config.channels(),
        [ChannelSettings::new("a", Level::Public)]
    );
    // Code adds channels after the file's.
    let config = Config::builder()
        .channel(ChannelSettings::new("$b", Level::Users).with_options(ChannelOptions::default()))
        .build()
        .unwrap();
    assert_eq!(config.channels()[0].name, "$b");
    assert!(config.channel_settings("$b").is_some());
}

#[test]
fn channel_errors_name_the_entry() {
    let key = |text: &str| {
        let err = Config::from_toml_str(text).unwrap_err();
        (err.key().map(str::to_owned), err.to_string())
    };
    let (k, message) = key("[[channels]]\nname = \"a\"\npresense = true\n");
    assert_eq!(k.as_deref(), Some("channels[0].presense"));
    assert!(message.contains("did you mean `presence`?"), "{message}");
    let (k, _) =
        key("[[channels]]\nname = \"a\"\n[[channels]]\nname = \"staff\"\nlevel = \"staff\"\n");
    assert_eq!(k.as_deref(), Some("channels[1].name"));
    let (k, _) = key("[[channels]]\nname = \"a\"\nlevel = \"admins\"\n");
    assert_eq!(k.as_deref(), Some("channels[0].level"));
    let (k, _) = key("[[channels]]\nname = \"a\"\nhistory_size = 0\nrecover = true\n");
    assert_eq!(k.as_deref(), Some("channels[0].recover"));
    let (k, _) = key("[[channels]]\nname = \"a\"\nhistory_ttl = \"soon\"\n");
    assert_eq!(k.as_deref(), Some("channels[0].history_ttl"));
    let (k, _) = key("[[channels]]\nlevel = \"public\"\n");
    assert_eq!(k.as_deref(), Some("channels[0].name"));
    let (k, message) = key("[[channelz]]\nname = \"a\"\n");
    assert_eq!(k.as_deref(), Some("channelz"));
    assert!(message.contains("did you mean `channels`?"), "{message}");
}

#[test]
fn setting_values_show_every_key_with_its_source_and_no_secret() {
    let config = env(&[
        (
            "INSTANT_SECRET",
            "topsecretvalue-0123456789abcdef0123456789",
        ),
        ("INSTANT_CENTRIFUGO_URL", "http://127.0.0.1:8000"),
        ("INSTANT_TOKEN_TTL", "90s"),
    ])
    .unwrap();
    let values = config.setting_values();
    assert_eq!(values.len(), KEYS.len());
    let value = |name: &str| values.iter().find(|v| v.key.name == name).unwrap();
    assert_eq!(value("secret").value.as_deref(), Some("[redacted]"));
    assert_eq!(value("secret").source, Source::Env);
    assert_eq!(value("token_ttl").value.as_deref(), Some("90s"));
    assert_eq!(value("publish_timeout").value.as_deref(), Some("5s"));
    assert_eq!(value("publish_timeout").source, Source::Default);
    assert_eq!(
        value("websocket_url").value.as_deref(),
        Some("ws://127.0.0.1:8000/connection/websocket")
    );
    assert_eq!(value("templates_dir").value, None);
    assert!(!format!("{values:?}").contains("topsecretvalue"));
}
