//! The `instant` demo app as a library: [`set_up`] makes its [`Realtime`] and [`app`] its actix-web
//! `App`, which the binary serves and the tests call.
//!
//! It serves the pages `/`, `/a/path` and `/another/path` (the channels a page joins depend on the
//! user and on the path), the order pages `/orders/1` to `/orders/3` (each joins its order's
//! channel `$order_{id}` when an asynchronous check, a query of the demo's SQLite database, allows
//! the user), a login form with three demo accounts, and the superuser frontend at `/instant/`.
//! Every page of a logged-in user also joins the user's personal channel (`personal:#user`), and
//! shows its connection status and the channels it joined.

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
use sqlx::SqlitePool;
use sqlx::sqlite::SqlitePoolOptions;

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
    /// One channel per order, for its owner and the staff.
    users     "$order_{id}" as ORDER,
}

/// The demo's orders: id and owner. `user` owns order 1; the staff and superusers see all.
pub const ORDERS: [(u64, &str); 3] = [(1, "user"), (2, "alice"), (3, "bob")];

/// The local copy of `centrifuge.js` installed by `npm ci` in `js/`, for offline use.
const LOCAL_CENTRIFUGE_JS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../js/node_modules/centrifuge/dist/centrifuge.js"
);

/// The demo's database: one in-memory SQLite connection holding the `orders` table.
fn database() -> SqlitePool {
    SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(0)
        // The database lives as long as its only connection.
        .idle_timeout(None)
        .max_lifetime(None)
        .after_connect(|connection, _| {
            Box::pin(async move {
                sqlx::query("CREATE TABLE orders (id INTEGER PRIMARY KEY, owner TEXT NOT NULL)")
                    .execute(&mut *connection)
                    .await?;
                for (id, owner) in ORDERS {
                    sqlx::query("INSERT INTO orders (id, owner) VALUES (?, ?)")
                        .bind(i64::try_from(id).unwrap_or(i64::MAX))
                        .bind(owner)
                        .execute(&mut *connection)
                        .await?;
                }
                Ok(())
            })
        })
        .connect_lazy("sqlite::memory:")
        .expect("an in-memory SQLite URL is valid")
}

/// Whether `user` may follow order `id`: the staff and superusers always, others when the
/// database says they own it.
async fn may_follow(pool: &SqlitePool, user: &User, id: u64) -> bool {
    if user.level >= Level::Staff {
        return true;
    }
    let Ok(id) = i64::try_from(id) else {
        return false;
    };
    let owned =
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM orders WHERE id = ? AND owner = ?")
            .bind(id)
            .bind(&user.id)
            .fetch_one(pool)
            .await;
    match owned {
        Ok(count) => count > 0,
        Err(error) => {
            tracing::error!(%error, "the orders query failed");
            false
        }
    }
}

/// The pages of the navigation bar.
const PAGES: [&str; 6] = [
    "/",
    "/a/path",
    "/another/path",
    "/orders/1",
    "/orders/2",
    "/orders/3",
];

fn page(title: &str, user: Option<&User>, path: &str) -> HttpResponse {
    page_with(title, user, path, "")
}

fn page_with(title: &str, user: Option<&User>, path: &str, content: &str) -> HttpResponse {
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
    let nav = PAGES
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
<p>Connection: <b id="instant-status">connecting</b></p>
<p>This page joined:</p>
<ul id="instant-joined"></ul>
{content}
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

async fn order_page(req: HttpRequest, id: web::Path<u64>) -> HttpResponse {
    let id = id.into_inner();
    if !ORDERS.iter().any(|(order, _)| *order == id) {
        return HttpResponse::NotFound()
            .content_type("text/html; charset=utf-8")
            .body("<!doctype html><p>No such order.</p>");
    }
    // The middleware checks the user against the order (the asynchronous check below) and
    // leaves the channel out of the page when it refuses.
    let channel = ORDER.with(id);
    instant::middleware::join(&req, &channel);
    let content = format!(
        r#"<p id="order-access" data-channel="{channel}"></p>
<h2>Updates of order {id}</h2>
<ul id="order-events"></ul>
<script>
(function () {{
  var config = window.instant && window.instant.config;
  var access = document.getElementById("order-access");
  var joined = !!config && config.channels.some(function (c) {{ return c.name === access.getAttribute("data-channel"); }});
  access.setAttribute("data-joined", String(joined));
  access.textContent = joined ? "You follow this order live." : "You may not follow this order: its channel was refused.";
}})();
</script>"#
    );
    page_with(
        &format!("Order {id}"),
        SessionUsers.resolve(&req).as_ref(),
        &format!("/orders/{id}"),
        &content,
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

/// The demo's set-up on `config`: its channels and personal channels, its session users, the
/// order check (a query of its SQLite database), its handlers (one per channel, one for all the
/// order channels) and page script, and, when `npm ci` was run in `js/`, the local
/// `centrifuge.js`. Tests add a recording backend to it.
pub fn builder(config: Config) -> RealtimeBuilder {
    let pool = database();
    let serve_local_client =
        config.centrifuge_js().is_none() && std::path::Path::new(LOCAL_CENTRIFUGE_JS).exists();
    let mut builder = Realtime::builder()
        .config(config)
        .channels(CHANNELS.clone())
        .users(SessionUsers)
        .personal_channel(true)
        .authorize_async(move |user, channel, params| {
            let pool = pool.clone();
            async move {
                match (channel.name(), user, params.parse::<u64>("id")) {
                    ("$order_{id}", Some(user), Some(id)) => may_follow(&pool, &user, id).await,
                    ("$order_{id}", ..) => false,
                    _ => true,
                }
            }
        })
        .template(
            "demo/channel_handler.js",
            include_str!("../templates/demo/channel_handler.js"),
        )
        // Every order's channel, with the order's id from the channel's parameters.
        .template(
            handler_template_name(ORDER.name()),
            include_str!("../templates/demo/order_handler.js"),
        )
        // The connection status and the joined channels on every page.
        .template(
            "instant/extra_clients.js",
            include_str!("../templates/demo/page_status.js"),
        );
    if serve_local_client {
        builder = builder.centrifuge_js(CentrifugeJs::File(LOCAL_CENTRIFUGE_JS.into()));
    }
    for channel in CHANNELS.iter().filter(|c| !c.is_pattern()) {
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
        .route("/orders/{id}", web::get().to(order_page))
        .route("/login", web::get().to(login_form))
        .route("/login", web::post().to(login_submit))
        .route("/logout", web::get().to(logout_route))
        .route("/logout", web::post().to(logout_route))
}
