//! The templates: built in, overridden from the app's directory or as text, and reported when
//! broken.

mod common;

use actix_web::{App, HttpResponse, test, web};
use instant_actix::{InstantMiddleware, Realtime, SetupError, handler_template_name};

/// The page `/` as user `u:users` sees it, then the client script and style sheet it loads.
async fn page_with(realtime: Realtime) -> String {
    let app = app_with(realtime).await;
    let html = page_of(&app).await;
    common::with_client_files(&app, &html).await
}

async fn app_with(
    realtime: Realtime,
) -> impl actix_web::dev::Service<
    actix_http::Request,
    Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
    Error = actix_web::Error,
> {
    test::init_service(
        App::new()
            .wrap(InstantMiddleware)
            .configure(realtime.routes())
            .route(
                "/",
                web::get().to(|| async {
                    HttpResponse::Ok()
                        .content_type("text/html")
                        .body("<html><head></head><body></body></html>")
                }),
            ),
    )
    .await
}

async fn page_of<S, B>(app: &S) -> String
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let res = test::call_service(
        app,
        test::TestRequest::get()
            .uri("/")
            .insert_header(("x-test-user", "u:users"))
            .to_request(),
    )
    .await;
    String::from_utf8(test::read_body(res).await.to_vec()).unwrap()
}

#[actix_rt::test]
async fn app_templates_replace_the_built_in_ones_by_path() {
    let dir = tempfile::tempdir().unwrap();
    let handlers = dir.path().join("instant/handlers");
    std::fs::create_dir_all(&handlers).unwrap();
    std::fs::write(
        dir.path().join(handler_template_name("$users_all")),
        "/* users handler of {{ channel }} on {{ site }} */ document.title = message;",
    )
    .unwrap();
    std::fs::write(dir.path().join("instant.css"), ".from-the-app-dir{}").unwrap();
    let realtime = common::builder()
        .templates_dir(dir.path())
        .template("instant/extra_clients.js", "/* extra client from text */")
        .build()
        .unwrap();
    let body = page_with(realtime).await;
    assert!(body.contains(
        "\"$users_all\": function (event_class, channel, message, data, site, uid, timestamp, params) {\n/* users handler of $users_all on testsite */"
    ));
    assert!(body.contains(".from-the-app-dir{}"));
    assert!(!body.contains("#instant-notifications{position"));
    assert!(body.contains("/* extra client from text */"));
    // Channels without their own handler keep the default one.
    assert!(!body.contains("\"$users_a\": function"));
    assert!(body.contains("function defaultHandler("));
}

#[actix_rt::test]
async fn a_broken_template_is_a_typed_error() {
    let error = common::builder()
        .template("instant/handlers/default.js", "{% if %}")
        .build()
        .unwrap_err();
    match error {
        SetupError::Template { name, reason } => {
            assert_eq!(name, "instant/handlers/default.js");
            assert!(!reason.is_empty());
        }
        other => panic!("unexpected error {other}"),
    }
    let missing = common::builder()
        .templates_dir("/nonexistent/templates")
        .build()
        .unwrap_err();
    assert!(matches!(missing, SetupError::Io { .. }), "{missing}");
    let missing = common::builder()
        .centrifuge_js(instant_actix::CentrifugeJs::File(
            "/nonexistent/centrifuge.js".into(),
        ))
        .build()
        .unwrap_err();
    assert!(missing.to_string().contains("/nonexistent/centrifuge.js"));
}

#[actix_rt::test]
async fn the_local_client_file_is_served_and_the_default_is_the_pinned_cdn() {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), "globalThis.Centrifuge = function () {};").unwrap();
    let realtime = common::builder()
        .centrifuge_js(instant_actix::CentrifugeJs::File(file.path().into()))
        .build()
        .unwrap();
    let app = test::init_service(App::new().configure(realtime.routes())).await;
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri(instant_actix::CentrifugeJs::LOCAL_PATH)
            .to_request(),
    )
    .await;
    assert!(res.status().is_success());
    assert_eq!(
        test::read_body(res).await.as_ref(),
        b"globalThis.Centrifuge = function () {};"
    );
    let body = page_with(realtime).await;
    assert!(body.contains("<script src=\"/instant/static/centrifuge.js\"></script>"));

    let cdn = Realtime::builder()
        .config(common::config())
        .build()
        .unwrap();
    let body = page_with(cdn).await;
    assert!(body.contains(
        "<script src=\"https://cdn.jsdelivr.net/npm/centrifuge@5.7.4/dist/centrifuge.js\" integrity=\"sha384-Iz2tPn0Bdkrz7y4HN3TY1XBlxpW+TjRqSbTJc2ENckVFOGn9tDUNezcC3CF5pO+h\" crossorigin=\"anonymous\"></script>"
    ), "{body}");
}

#[actix_rt::test]
async fn the_pinned_hash_is_the_hash_of_the_installed_client() {
    // The same file that the npm lock pins (js/node_modules/centrifuge 5.7.4).
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../js/node_modules/centrifuge/dist/centrifuge.js"
    );
    let output = std::process::Command::new("openssl")
        .args(["dgst", "-sha384", "-binary", path])
        .output()
        .expect("openssl runs");
    assert!(
        output.status.success(),
        "{path} must exist: run npm ci in js/"
    );
    let encoded = std::process::Command::new("openssl")
        .args(["base64", "-A"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write as _;
            child.stdin.take().unwrap().write_all(&output.stdout)?;
            child.wait_with_output()
        })
        .unwrap();
    let hash = format!(
        "sha384-{}",
        String::from_utf8(encoded.stdout).unwrap().trim()
    );
    assert_eq!(hash, instant_actix::CentrifugeJs::CDN_INTEGRITY);
}

#[actix_rt::test]
async fn a_channel_name_cannot_close_the_client_script() {
    let name = "x</script><script>alert(1)//";
    let channels = instant_core::ChannelSet::new([instant_core::Channel::new(
        name,
        instant_core::Level::Public,
    )
    .unwrap()])
    .unwrap();
    let realtime = common::builder()
        .channels(channels)
        .template(handler_template_name(name), "console.log(channel);")
        .build()
        .unwrap();
    let body = page_with(realtime).await;
    assert!(!body.contains("<script>alert(1)"), "{body}");
    let config = common::injected_config(&body).unwrap();
    assert_eq!(config["channels"][0]["name"], name);
}

#[actix_rt::test]
async fn the_client_files_are_served_cached_for_good_at_hashed_urls() {
    let app = app_with(common::realtime()).await;
    let html = page_of(&app).await;
    // The page loads the client instead of inlining it.
    assert!(!html.contains("new Centrifuge("), "{html}");
    assert!(!html.contains("<style"), "{html}");
    let script = common::client_script_url(&html).unwrap();
    let style = common::client_style_url(&html).unwrap();
    assert!(script.starts_with("/instant/static/client.") && script.ends_with(".js"));
    assert!(style.starts_with("/instant/static/client.") && style.ends_with(".css"));
    // After centrifuge.js, which the client uses.
    assert!(html.find("centrifuge.js").unwrap() < html.find(&script).unwrap());
    for (url, content_type, content) in [
        (&script, "text/javascript; charset=utf-8", "new Centrifuge("),
        (&style, "text/css; charset=utf-8", "#instant-notifications"),
    ] {
        let res = test::call_service(&app, test::TestRequest::get().uri(url).to_request()).await;
        assert_eq!(res.status(), actix_web::http::StatusCode::OK, "{url}");
        let headers = res.headers();
        assert_eq!(
            headers.get("cache-control").unwrap(),
            "public, max-age=31536000, immutable"
        );
        assert_eq!(headers.get("content-type").unwrap(), content_type);
        let etag = headers.get("etag").unwrap().to_str().unwrap().to_owned();
        assert!(url.contains(etag.trim_matches('"')), "{etag} names {url}");
        let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
        assert!(body.contains(content), "{url}: {body}");
        // Nothing of the user's goes into the shared file.
        assert!(!body.contains("\"token\""), "{url}");
        // A browser that holds it is told so.
        let res = test::call_service(
            &app,
            test::TestRequest::get()
                .uri(url)
                .insert_header(("if-none-match", etag.as_str()))
                .to_request(),
        )
        .await;
        assert_eq!(res.status(), actix_web::http::StatusCode::NOT_MODIFIED);
        let res = test::call_service(
            &app,
            test::TestRequest::default()
                .method(actix_web::http::Method::HEAD)
                .uri(url)
                .to_request(),
        )
        .await;
        assert_eq!(res.status(), actix_web::http::StatusCode::OK, "HEAD {url}");
        assert_eq!(res.headers().get("content-type").unwrap(), content_type);
    }

    // An override of the client script (here, a handler) gives a new file at a new URL.
    let app = app_with(
        common::builder()
            .template(handler_template_name("$users_all"), "/* changed */")
            .build()
            .unwrap(),
    )
    .await;
    let changed = page_of(&app).await;
    let changed_script = common::client_script_url(&changed).unwrap();
    assert_ne!(changed_script, script);
    assert_eq!(common::client_style_url(&changed).unwrap(), style);
    assert!(
        common::get_text(&app, &changed_script)
            .await
            .contains("/* changed */")
    );
    // The old URL is not served by this app.
    let res = test::call_service(&app, test::TestRequest::get().uri(&script).to_request()).await;
    assert_eq!(res.status(), actix_web::http::StatusCode::NOT_FOUND);

    // So does an override of instant/client.js itself, and of the style sheet.
    let app = app_with(
        common::builder()
            .template("instant/client.js", "/* my client */")
            .template("instant.css", "/* my style */")
            .build()
            .unwrap(),
    )
    .await;
    let mine = page_of(&app).await;
    let mine_script = common::client_script_url(&mine).unwrap();
    let mine_style = common::client_style_url(&mine).unwrap();
    assert_ne!(mine_script, script);
    assert_ne!(mine_style, style);
    assert_eq!(
        common::get_text(&app, &mine_script).await,
        "/* my client */"
    );
    assert_eq!(common::get_text(&app, &mine_style).await, "/* my style */");
}
