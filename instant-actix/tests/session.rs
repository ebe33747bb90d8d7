//! The ready `actix-session` resolver: a login stores the user in the cookie session, the next
//! page gets that user's tokens and channels, a logout returns to anonymous.
#![cfg(feature = "session")]

mod common;

use actix_session::storage::CookieSessionStore;
use actix_session::{Session, SessionMiddleware};
use actix_web::cookie::Key;
use actix_web::{App, HttpResponse, test, web};
use instant_actix::session::{SessionUsers, login, logout};
use instant_actix::{InstantMiddleware, User};
use instant_core::Level;

use common::{config, injected_config};

#[actix_rt::test]
async fn the_session_names_the_user() {
    let realtime = common::builder().users(SessionUsers).build().unwrap();
    let key = Key::generate();
    let app = test::init_service(
        App::new()
            .wrap(InstantMiddleware)
            .wrap(SessionMiddleware::new(CookieSessionStore::default(), key))
            .configure(realtime.routes())
            .route(
                "/login",
                web::post().to(|session: Session| async move {
                    login(&session, &User::new("alice", Level::Staff)).unwrap();
                    HttpResponse::NoContent().finish()
                }),
            )
            .route(
                "/logout",
                web::post().to(|session: Session| async move {
                    logout(&session);
                    HttpResponse::NoContent().finish()
                }),
            )
            .route(
                "/",
                web::get().to(|| async {
                    HttpResponse::Ok()
                        .content_type("text/html")
                        .body("<html><head></head><body></body></html>")
                }),
            ),
    )
    .await;
    let res = test::call_service(&app, test::TestRequest::post().uri("/login").to_request()).await;
    let cookie = res
        .response()
        .cookies()
        .next()
        .expect("a session cookie")
        .into_owned();
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/")
            .cookie(cookie.clone())
            .to_request(),
    )
    .await;
    let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    let page = injected_config(&body).unwrap();
    let claims = config()
        .tokens()
        .verify_connection(page["token"].as_str().unwrap())
        .unwrap();
    assert_eq!(claims.sub, "alice");
    let names: Vec<&str> = page["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"$staff_all") && !names.contains(&"$superuser_all"));

    let res = test::call_service(
        &app,
        test::TestRequest::post()
            .uri("/logout")
            .cookie(cookie)
            .to_request(),
    )
    .await;
    let cleared = res
        .response()
        .cookies()
        .next()
        .expect("the session cookie is removed")
        .into_owned();
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/")
            .cookie(cleared)
            .to_request(),
    )
    .await;
    let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert_eq!(injected_config(&body).unwrap()["token"], "");
}
