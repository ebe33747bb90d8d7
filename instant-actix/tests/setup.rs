//! The set-up: `Realtime::builder()…build()` reports every problem as a `SetupError` without
//! panicking, the settings' `[[channels]]` reach the embedded server, the middleware finds the
//! set-up through the routes, and the global publisher is installed only when asked.

mod common;

use actix_web::{App, HttpResponse, test, web};
use instant_actix::{
    CentrifugeJs, ChannelOptions, EmbeddedOptions, InstantMiddleware, Realtime, SetupError, paths,
};
use instant_core::{Channel, ChannelSet, Config, Level, Publisher};
use serde_json::{Value, json};

const PAGE: &str = "<html><head><title>T</title></head><body>hi</body></html>";

fn news() -> ChannelSet {
    ChannelSet::new([Channel::new("news", Level::Public).unwrap()]).unwrap()
}

fn settings(channels: &str) -> Config {
    Config::from_toml_str(&format!(
        "secret = \"{}\"\ncentrifugo_api_key = \"test-api-key\"\n{channels}",
        common::SECRET
    ))
    .expect("settings")
}

/// Publishes `count` events on `news`, then reads the channel's history through the embedded
/// server's API: the messages, oldest first.
async fn published_then_history(realtime: &Realtime, count: usize) -> Vec<String> {
    for n in 1..=count {
        realtime
            .publisher()
            .publish("news", format!("event {n}"))
            .await
            .expect("published");
    }
    let app = test::init_service(App::new().configure(realtime.routes())).await;
    let req = test::TestRequest::post()
        .uri(&format!("{}/history", paths::EMBEDDED_API_PATH))
        .insert_header(("X-API-Key", "test-api-key"))
        .set_json(json!({"channel": "news", "limit": 100}))
        .to_request();
    let reply: Value = test::call_and_read_body_json(&app, req).await;
    reply["result"]["publications"]
        .as_array()
        .unwrap_or_else(|| panic!("a history reply: {reply}"))
        .iter()
        .map(|p| p["data"]["message"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_rt::test]
async fn the_settings_channel_options_reach_the_embedded_server() {
    let config = settings(
        "[[channels]]\nname = \"news\"\nlevel = \"public\"\nhistory_size = 2\nhistory_ttl = \"300s\"\n",
    );
    let realtime = Realtime::builder()
        .config(config)
        .channels(news())
        .build()
        .unwrap();
    let server = realtime.embedded_server().expect("the embedded server");
    assert_eq!(server.options().channel_options("news").history_size, 2);
    assert_eq!(
        published_then_history(&realtime, 5).await,
        ["event 4", "event 5"]
    );
}

#[actix_rt::test]
async fn options_given_in_code_win_over_the_settings() {
    let config = settings("[[channels]]\nname = \"news\"\nlevel = \"public\"\nhistory_size = 2\n");
    let mut options = ChannelOptions::default();
    options.history_size = 3;
    let realtime = Realtime::builder()
        .config(config)
        .channels(news())
        .embedded_options(EmbeddedOptions::default().channel("news", options))
        .build()
        .unwrap();
    let server = realtime.embedded_server().unwrap();
    assert_eq!(server.options().channel_options("news").history_size, 3);
}

#[actix_rt::test]
async fn a_settings_channel_with_another_level_is_a_setup_error() {
    let config = settings("[[channels]]\nname = \"$news\"\nlevel = \"staff\"\n");
    let channels = ChannelSet::new([Channel::new("$news", Level::Users).unwrap()]).unwrap();
    let error = Realtime::builder()
        .config(config)
        .channels(channels)
        .build()
        .unwrap_err();
    match &error {
        SetupError::ChannelLevel {
            channel,
            declared,
            configured,
        } => {
            assert_eq!(channel, "$news");
            assert_eq!(*declared, Level::Users);
            assert_eq!(*configured, Level::Staff);
        }
        other => panic!("unexpected error {other}"),
    }
    let message = error.to_string();
    assert!(
        message.contains("$news") && message.contains("users") && message.contains("staff"),
        "{message}"
    );
}

#[actix_rt::test]
async fn a_settings_channel_the_app_does_not_declare_is_ignored() {
    let config = settings("[[channels]]\nname = \"elsewhere\"\nhistory_size = 5\n");
    let realtime = Realtime::builder()
        .config(config)
        .channels(news())
        .build()
        .expect("only a warning");
    let server = realtime.embedded_server().unwrap();
    assert!(!server.options().channel_overrides.contains_key("elsewhere"));
}

#[actix_rt::test]
async fn setup_errors_come_back_as_values() {
    let broken = Realtime::builder()
        .config(common::config())
        .template("instant/client.js", "{% for %}")
        .build();
    assert!(
        matches!(broken, Err(SetupError::Template { ref name, .. }) if name == "instant/client.js")
    );

    let missing = Realtime::builder()
        .config(common::config())
        .centrifuge_js(CentrifugeJs::File("/nonexistent/centrifuge.js".into()))
        .build();
    assert!(
        matches!(missing, Err(SetupError::Io { ref path, .. }) if path.contains("nonexistent"))
    );

    // The same from the settings, which the builder reads when the code gives nothing.
    let config = Config::builder()
        .secret(common::SECRET)
        .centrifuge_js("/nonexistent/from-settings.js")
        .build()
        .unwrap();
    let missing = Realtime::builder().config(config).build();
    assert!(
        matches!(missing, Err(SetupError::Io { ref path, .. }) if path.contains("from-settings")),
        "{missing:?}"
    );
}

#[actix_rt::test]
async fn the_settings_template_dir_is_used_and_the_code_wins() {
    let from_settings = tempfile::tempdir().unwrap();
    std::fs::write(from_settings.path().join("instant.css"), ".from-settings{}").unwrap();
    let from_code = tempfile::tempdir().unwrap();
    std::fs::write(from_code.path().join("instant.css"), ".from-code{}").unwrap();
    let config = Config::builder()
        .secret(common::SECRET)
        .templates_dir(from_settings.path())
        .build()
        .unwrap();
    for (builder, expected) in [
        (
            Realtime::builder().config(config.clone()),
            ".from-settings{}",
        ),
        (
            Realtime::builder()
                .config(config.clone())
                .templates_dir(from_code.path()),
            ".from-code{}",
        ),
    ] {
        let realtime = builder.build().unwrap();
        let app = test::init_service(
            App::new()
                .wrap(InstantMiddleware)
                .configure(realtime.routes())
                .route("/", web::get().to(page)),
        )
        .await;
        let body =
            test::call_and_read_body(&app, test::TestRequest::get().uri("/").to_request()).await;
        let body = String::from_utf8(body.to_vec()).unwrap();
        let served = common::with_client_files(&app, &body).await;
        assert!(served.contains(expected), "{served}");
    }
}

async fn page() -> HttpResponse {
    HttpResponse::Ok().content_type("text/html").body(PAGE)
}

#[actix_rt::test]
async fn the_middleware_injects_with_the_routes_and_passes_pages_through_without_them() {
    let realtime = common::realtime();
    let app = test::init_service(
        App::new()
            .wrap(InstantMiddleware)
            .configure(realtime.routes())
            .route("/", web::get().to(page)),
    )
    .await;
    let body = test::call_and_read_body(&app, test::TestRequest::get().uri("/").to_request()).await;
    let body = String::from_utf8(body.to_vec()).unwrap();
    assert_eq!(common::count(&body, "id=\"instant-config\""), 1, "{body}");

    let bare = test::init_service(
        App::new()
            .wrap(InstantMiddleware)
            .route("/", web::get().to(page)),
    )
    .await;
    for _ in 0..2 {
        let res = test::call_service(&bare, test::TestRequest::get().uri("/").to_request()).await;
        assert!(res.status().is_success());
        let body = test::read_body(res).await;
        assert_eq!(body.as_ref(), PAGE.as_bytes());
    }
}

#[actix_rt::test]
async fn the_frontend_page_gets_the_publish_url() {
    let realtime = common::realtime();
    let app = test::init_service(
        App::new()
            .wrap(InstantMiddleware)
            .configure(realtime.routes()),
    )
    .await;
    let req = test::TestRequest::get()
        .uri(paths::FRONTEND)
        .insert_header(("x-test-user", "root:superuser"))
        .to_request();
    let body = test::call_and_read_body(&app, req).await;
    let config = common::injected_config(std::str::from_utf8(&body).unwrap()).unwrap();
    assert_eq!(config["publish_url"], paths::PUBLISH);
    assert_eq!(config["connection_url"], paths::AUTH_CONNECTION);
    assert_eq!(config["subscription_url"], paths::AUTH_SUBSCRIPTION);
}

#[actix_rt::test]
async fn the_global_publisher_is_installed_only_when_asked() {
    let realtime = common::realtime();
    let clone = realtime.clone();
    assert!(Publisher::global().is_none(), "building installs nothing");
    assert!(clone.install_global_publisher());
    assert!(Publisher::global().is_some());
    assert!(!realtime.install_global_publisher(), "the first one wins");
}
