//! The demo's own app, without a browser: what each kind of user gets in a page and from the auth
//! routes, and what the superuser frontend publishes, through the assertions of
//! `instant::testing` and a recording backend in place of the real-time server.

use actix_web::cookie::{Cookie, Key};
use actix_web::dev::{Service, ServiceResponse};
use actix_web::test::{self, TestRequest};
use instant::Level;
use instant::config::Config;
use instant::testing::{RecordingBackend, issued_tokens, page_config};
use serde_json::json;

/// The demo's app with a recording backend, and the recorder.
async fn demo_app() -> (
    instant::Realtime,
    impl Service<
        actix_http::Request,
        Response = ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
    >,
    RecordingBackend,
) {
    let recorder = RecordingBackend::new();
    let config = Config::builder().site_slug("mysite").build().unwrap();
    let realtime = demo::builder(config)
        .backend(recorder.clone())
        .build()
        .unwrap();
    let app = test::init_service(demo::app(&realtime, Key::generate())).await;
    (realtime, app, recorder)
}

/// Logs in through the demo's login form and returns its session cookie.
async fn log_in<S, B>(app: &S, user: &str) -> Cookie<'static>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    let request = TestRequest::post()
        .uri("/login")
        .set_form(json!({ "username": user, "password": demo::PASSWORD }))
        .to_request();
    let response = test::call_service(app, request).await;
    assert_eq!(response.status(), 303, "logging in as {user}");
    response
        .response()
        .cookies()
        .next()
        .expect("the login sets the session cookie")
        .into_owned()
}

#[actix_web::test]
async fn an_anonymous_visitor_joins_the_public_channels_without_a_token() {
    let (_realtime, app, recorder) = demo_app().await;

    for path in ["/", "/a/path", "/another/path"] {
        let page = page_config(&app, TestRequest::get().uri(path).to_request()).await;
        assert_eq!(
            page.channel_names(),
            ["mysite_public1", "mysite_public2"],
            "on {path}"
        );
        assert!(page.token.is_empty());
        assert!(page.channels.iter().all(|c| c.token.is_none()));
        assert_eq!(page.site, "mysite");
        assert_eq!(page.publish_url, None);
    }
    recorder.assert_nothing_published();
}

#[actix_web::test]
async fn the_channels_of_a_page_follow_the_level_and_the_path() {
    let (realtime, app, _recorder) = demo_app().await;
    let admin = log_in(&app, "admin").await;
    let staff = log_in(&app, "staff").await;
    let page_as = |cookie: &Cookie<'static>, path: &str| {
        TestRequest::get()
            .uri(path)
            .cookie(cookie.clone())
            .to_request()
    };

    let home = page_config(&app, page_as(&admin, "/")).await;
    assert_eq!(
        home.channel_names(),
        [
            "$mysite_admin2",
            "$mysite_staff2",
            "$mysite_users1",
            "mysite_public1",
            "mysite_public2",
            "personal:#admin"
        ]
    );
    let a_path = page_config(&app, page_as(&admin, "/a/path")).await;
    assert_eq!(a_path.channels.len(), 8, "{a_path:#?}");
    let admin1 = a_path.channel("$mysite_admin1").unwrap();
    assert_eq!(admin1.level, Level::Superuser);
    // The page's own tokens verify with the app's secret.
    let tokens = realtime.config().tokens();
    assert_eq!(
        tokens.verify_connection(&a_path.token).unwrap().sub,
        "admin"
    );
    tokens
        .verify_subscription(admin1.token.as_deref().unwrap(), "$mysite_admin1", "admin")
        .unwrap();

    let staff_page = page_config(&app, page_as(&staff, "/another/path")).await;
    assert_eq!(
        staff_page.channel_names(),
        [
            "$mysite_staff2",
            "$mysite_users1",
            "mysite_public1",
            "mysite_public2",
            "personal:#staff"
        ]
    );
    // The personal channel needs no token: only its own user may subscribe to it.
    assert_eq!(staff_page.channel("personal:#staff").unwrap().token, None);
}

#[actix_web::test]
async fn an_order_page_joins_the_orders_channel_when_the_database_says_so() {
    let (realtime, app, _recorder) = demo_app().await;
    let user = log_in(&app, "user").await;
    let staff = log_in(&app, "staff").await;
    let order_page = |cookie: Option<&Cookie<'static>>, id: u64| {
        let mut request = TestRequest::get().uri(&format!("/orders/{id}"));
        if let Some(cookie) = cookie {
            request = request.cookie(cookie.clone());
        }
        request.to_request()
    };
    // `user` owns order 1 (a row of the demo's SQLite database), not order 2.
    let own = page_config(&app, order_page(Some(&user), 1)).await;
    let order = own.channel("$order_1").expect("user follows order 1");
    realtime
        .config()
        .tokens()
        .verify_subscription(order.token.as_deref().unwrap(), "$order_1", "user")
        .unwrap();
    let other = page_config(&app, order_page(Some(&user), 2)).await;
    assert!(other.channel("$order_2").is_none(), "{other:#?}");
    assert!(other.channel("personal:#user").is_some());
    // The staff follow every order; anonymous visitors none.
    for id in 1..=3 {
        let page = page_config(&app, order_page(Some(&staff), id)).await;
        assert!(page.channel(&format!("$order_{id}")).is_some(), "{page:#?}");
        let page = page_config(&app, order_page(None, id)).await;
        assert_eq!(page.channel_names(), ["mysite_public1", "mysite_public2"]);
    }
    // The auth route asks the same database.
    let as_user = || TestRequest::default().cookie(user.clone());
    let issued = issued_tokens(
        &realtime,
        &app,
        as_user,
        &["$order_1", "$order_2", "$order_3"],
    )
    .await;
    assert_eq!(issued.granted_channels(), ["$order_1"]);
    let missing = test::call_service(&app, TestRequest::get().uri("/orders/4").to_request()).await;
    assert_eq!(missing.status(), 404);
}

#[actix_web::test]
async fn the_auth_routes_issue_tokens_up_to_the_users_level() {
    let (realtime, app, _recorder) = demo_app().await;
    let every_channel: Vec<&str> = demo::CHANNELS.iter().map(|c| c.name()).collect();

    let anonymous = issued_tokens(&realtime, &app, TestRequest::default, &every_channel).await;
    assert_eq!(anonymous.connection, None);
    assert_eq!(
        anonymous.granted_channels(),
        ["mysite_public1", "mysite_public2"]
    );

    let user = log_in(&app, "user").await;
    let as_user = || TestRequest::default().cookie(user.clone());
    let issued = issued_tokens(&realtime, &app, as_user, &every_channel).await;
    assert_eq!(issued.user_id(), "user");
    assert_eq!(
        issued.granted_channels(),
        ["$mysite_users1", "mysite_public1", "mysite_public2"]
    );

    let staff = log_in(&app, "staff").await;
    let as_staff = || TestRequest::default().cookie(staff.clone());
    let issued = issued_tokens(&realtime, &app, as_staff, &every_channel).await;
    assert!(issued.granted("$mysite_staff1") && !issued.granted("$mysite_admin1"));
    assert_eq!(issued.subscriptions["$mysite_staff1"].sub, "staff");

    let admin = log_in(&app, "admin").await;
    let as_admin = || TestRequest::default().cookie(admin.clone());
    let issued = issued_tokens(&realtime, &app, as_admin, &every_channel).await;
    assert_eq!(issued.subscriptions.len(), 7);
}

#[actix_web::test]
async fn the_frontend_publishes_for_superusers_only() {
    let (_realtime, app, recorder) = demo_app().await;
    let publish = |cookie: Cookie<'static>| {
        TestRequest::post()
            .uri(instant::paths::PUBLISH)
            .cookie(cookie)
            .set_json(json!({
                "channel": "$mysite_staff1",
                "message": "Stock is low",
                "event_class": "warning",
                "data": {"item": "tea"},
            }))
            .to_request()
    };

    let staff = log_in(&app, "staff").await;
    let response = test::call_service(&app, publish(staff)).await;
    assert_eq!(response.status(), 403);
    recorder.assert_nothing_published();

    let admin = log_in(&app, "admin").await;
    let response = test::call_service(&app, publish(admin)).await;
    assert_eq!(response.status(), 200);
    let event = recorder.assert_published_with("$mysite_staff1", |e| e.event_class == "warning");
    assert_eq!(
        (event.message.as_str(), event.site.as_str()),
        ("Stock is low", "mysite")
    );
    assert_eq!(event.data, json!({"item": "tea"}));
    recorder.assert_published_times("$mysite_staff1", 1);
    recorder.assert_not_published("$mysite_admin1");

    // The frontend page itself joins every channel the admin may, on any path.
    let admin = log_in(&app, "admin").await;
    let page = page_config(
        &app,
        TestRequest::get()
            .uri(instant::paths::FRONTEND)
            .cookie(admin)
            .to_request(),
    )
    .await;
    assert_eq!(
        page.channels.len(),
        8,
        "the fixed channels and personal:#admin"
    );
    assert_eq!(page.publish_url.as_deref(), Some(instant::paths::PUBLISH));
}
