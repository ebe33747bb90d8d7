//! The `instant` demo app as a library: [`set_up`] makes its [`Realtime`] and [`app`] its actix-web
//! `App`, which the binary serves and the tests call.
//!
//! It serves the pages `/`, `/a/path` and `/another/path` (the channels a page joins depend on the
//! user and on the path), a login form with three demo accounts, and the superuser frontend at
//! `/instant/`.

use actix_session::config::CookieContentSecurity;
use actix_session::storage::CookieSessionStore;
use actix_session::{Session, SessionMiddleware};
use actix_web::body::MessageBody;
use actix_web::cookie::Key;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Compress;
use actix_web::{App, HttpRequest, HttpResponse, web};
use instant::config::Config;
use instant::session::{SessionUsers, login, logout};
use instant::templates::{CentrifugeJs, handler_template_name};
use instant::{InstantMiddleware, Level, Realtime, RealtimeBuilder, User, UserResolver};
use serde::Deserialize;

/// The demo accounts: user name, level. Every password is [`PASSWORD`].
pub const ACCOUNTS: [(&str, Level); 3] = [
    ("admin", Level::Superuser),
    ("staff", Level::Staff),
    ("user", Level::Users),
];
/// The password of every demo account.
pub const PASSWORD: &str = "demo";

instant::channels! {
    /// The seed's seven channels.
    pub static CHANNELS;
    superuser "$mysite_admin1" at ["/a/path", "/another/path"],
    superuser "$mysite_admin2",
    staff     "$mysite_staff1" at ["/a/path"],
    staff     "$mysite_staff2",
    users     "$mysite_users1",
    public    "mysite_public1",
    public    "mysite_public2",
}

/// The local copy of `centrifuge.js` installed by `npm ci` in `js/`, for offline use.
const LOCAL_CENTRIFUGE_JS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../js/node_modules/centrifuge/dist/centrifuge.js"
);

fn page(title: &str, user: Option<&User>, path: &str) -> HttpResponse {
    let who = match user {
        Some(user) => format!(
            "Logged in as <b>{}</b> ({}) · <a href=\"/logout\">log out</a>{}",
            user.id,
            user.level,
            if user.level == Level::Superuser {
                " · <a href=\"/instant/\">frontend</a>"
            } else {
                ""
            }
        ),
        None => "Anonymous · <a href=\"/login\">log in</a>".to_owned(),
    };
    let nav = ["/", "/a/path", "/another/path"]
        .iter()
        .map(|p| {
            if *p == path {
                format!("<b>{p}</b>")
            } else {
                format!("<a href=\"{p}\">{p}</a>")
            }
        })
        .collect::<Vec<_>>()
        .join(" · ");
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title} · instant demo</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:50em;margin:2em auto;padding:0 1em}}
#events{{list-style:none;padding:0}}#events li{{padding:.3em 0;border-bottom:1px solid #eee}}</style>
</head>
<body>
<p>{who}</p>
<nav>{nav}</nav>
<h1>{title}</h1>
<p>Events published on the channels this page joins appear below (the joined channels depend on
who you are and on this path).</p>
<ul id="events"><li id="no-events"><i>No event yet.</i></li></ul>
</body>
</html>"#
    ))
}

async fn home(req: HttpRequest) -> HttpResponse {
    page("Home", SessionUsers.resolve(&req).as_ref(), "/")
}

async fn a_path(req: HttpRequest) -> HttpResponse {
    page("A path", SessionUsers.resolve(&req).as_ref(), "/a/path")
}

async fn another_path(req: HttpRequest) -> HttpResponse {
    page(
        "Another path",
        SessionUsers.resolve(&req).as_ref(),
        "/another/path",
    )
}

fn login_page(error: Option<&str>) -> String {
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Log in · instant demo</title></head>
<body style="font:16px/1.5 system-ui,sans-serif;max-width:30em;margin:2em auto">
<h1>Log in</h1>
{}
<form method="post" action="/login">
<p><label>User name <input name="username" autocomplete="username"></label></p>
<p><label>Password <input name="password" type="password" autocomplete="current-password"></label></p>
<p><button type="submit">Log in</button></p>
</form>
<p>Accounts: <code>admin</code> (superuser), <code>staff</code>, <code>user</code>; password <code>{PASSWORD}</code>.</p>
</body></html>"#,
        error.map_or(String::new(), |e| format!(
            "<p style=\"color:#c00\">{e}</p>"
        ))
    )
}

async fn login_form() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(login_page(None))
}

#[derive(Deserialize)]
struct Credentials {
    username: String,
    password: String,
}

async fn login_submit(session: Session, form: web::Form<Credentials>) -> HttpResponse {
    let account = ACCOUNTS
        .iter()
        .find(|(name, _)| *name == form.username)
        .filter(|_| form.password == PASSWORD);
    match account {
        Some((name, level)) => match login(&session, &User::new(*name, *level)) {
            Ok(()) => HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/"))
                .finish(),
            Err(error) => {
                tracing::error!(%error, "cannot store the session");
                HttpResponse::InternalServerError().finish()
            }
        },
        None => HttpResponse::Unauthorized()
            .content_type("text/html; charset=utf-8")
            .body(login_page(Some("Unknown user name or wrong password."))),
    }
}

async fn logout_route(session: Session) -> HttpResponse {
    logout(&session);
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/"))
        .finish()
}

/// The demo's set-up on `config`: its channels, its session users, its channel handler and, when
/// `npm ci` was run in `js/`, the local `centrifuge.js`. Tests add a recording backend to it.
pub fn builder(config: Config) -> RealtimeBuilder {
    let serve_local_client =
        config.centrifuge_js().is_none() && std::path::Path::new(LOCAL_CENTRIFUGE_JS).exists();
    let mut builder = Realtime::builder()
        .config(config)
        .channels(CHANNELS.clone())
        .users(SessionUsers)
        .template(
            "demo/channel_handler.js",
            include_str!("../templates/demo/channel_handler.js"),
        );
    if serve_local_client {
        builder = builder.centrifuge_js(CentrifugeJs::File(LOCAL_CENTRIFUGE_JS.into()));
    }
    for channel in CHANNELS.iter() {
        builder = builder.template(
            handler_template_name(channel.name()),
            "{% include \"demo/channel_handler.js\" %}",
        );
    }
    builder
}

/// The demo's [`Realtime`] from `instant.toml` and the `INSTANT_*` variables (with neither, the
/// embedded server), installed as the global publisher.
///
/// # Errors
/// A bad setting, template or file.
pub fn set_up() -> Result<Realtime, Box<dyn std::error::Error>> {
    let realtime = builder(Config::load()?).build()?;
    // The seed's `instant::publish(channel, message)` goes through this app.
    realtime.install_global_publisher();
    Ok(realtime)
}

/// The demo's `App`: the middleware, the session (a private cookie signed with `session_key`),
/// compression, `instant`'s routes and the demo's pages.
pub fn app(
    realtime: &Realtime,
    session_key: Key,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody + use<>>,
        Error = actix_web::Error,
        InitError = (),
    > + use<>,
> {
    // Boxed, so that the returned type does not borrow `realtime`.
    let routes: Box<dyn FnOnce(&mut web::ServiceConfig)> = Box::new(realtime.routes());
    App::new()
        .wrap(InstantMiddleware)
        .wrap(
            SessionMiddleware::builder(CookieSessionStore::default(), session_key)
                .cookie_secure(false)
                .cookie_content_security(CookieContentSecurity::Private)
                .build(),
        )
        .wrap(Compress::default())
        .configure(routes)
        .route("/", web::get().to(home))
        .route("/a/path", web::get().to(a_path))
        .route("/another/path", web::get().to(another_path))
        .route("/login", web::get().to(login_form))
        .route("/login", web::post().to(login_submit))
        .route("/logout", web::get().to(logout_route))
        .route("/logout", web::post().to(logout_route))
}
