//! The `instant` chat example as a library: [`builder`] sets up its [`Realtime`], [`app`] makes its
//! actix-web `App`; the binary serves them and the tests drive them in a browser.
//!
//! One room, `$chat`, for logged-in users (log in with any name, no password: a demo):
//!
//! - **who's here**: the room turns presence on, and the page lists its users with the presence
//!   handlers (`instant/presence/here.js`, `joining.js`, `leaving.js`), one entry per user
//!   however many tabs they have open;
//! - **to others**: the page shows a message as soon as it is sent (a local echo), and the server
//!   publishes it `.to_others(&sender)`, so the sender's tab does not show it a second time;
//! - **typed events**: a message is a [`ChatMessage`] (`#[derive(TypedEvent)]`), published with
//!   `publisher.send(..)`.

use actix_session::config::CookieContentSecurity;
use actix_session::storage::CookieSessionStore;
use actix_session::{Session, SessionMiddleware};
use actix_web::body::MessageBody;
use actix_web::cookie::Key;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::{App, HttpRequest, HttpResponse, web};
use instant::config::Config;
use instant::embedded::{ChannelOptions, EmbeddedOptions};
use instant::middleware::Sender;
use instant::publishing::TypedEvent;
use instant::session::{SessionUsers, login, logout};
use instant::templates::{CentrifugeJs, handler_template_name};
use instant::{InstantMiddleware, Publisher, Realtime, RealtimeBuilder, User, UserResolver};
use serde::{Deserialize, Serialize};

instant::channels! {
    /// The chat's one room.
    pub static CHANNELS;
    users "$chat" as CHAT,
}

/// The longest message accepted, in characters.
pub const MAX_MESSAGE_CHARS: usize = 500;

/// A chat message: published on [`CHAT`] with its JSON as the event's `data`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TypedEvent)]
#[instant(channel = CHAT, class = "info", message = "New message")]
pub struct ChatMessage {
    /// A unique id, so that a page can tell its own messages apart.
    pub id: String,
    /// Who wrote it.
    pub author: String,
    /// What they wrote.
    pub text: String,
}

/// The local copy of `centrifuge.js` installed by `npm ci` in `js/`, for offline use.
const LOCAL_CENTRIFUGE_JS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../js/node_modules/centrifuge/dist/centrifuge.js"
);

/// The chat's set-up on `config`: its room with presence and join/leave messages, its session
/// users, its templates and, when `npm ci` was run in `js/`, the local `centrifuge.js`.
pub fn builder(config: Config) -> RealtimeBuilder {
    let serve_local_client =
        config.centrifuge_js().is_none() && std::path::Path::new(LOCAL_CENTRIFUGE_JS).exists();
    let mut room = ChannelOptions::default();
    room.presence = true;
    room.join_leave = true;
    let mut builder = Realtime::builder()
        .config(config)
        .channels(CHANNELS.clone())
        .users(SessionUsers)
        .embedded_options(EmbeddedOptions::default().channel(CHAT.name(), room))
        .template(
            handler_template_name(CHAT.name()),
            include_str!("../templates/instant/handlers/chat.js"),
        )
        .template(
            "instant/presence/here.js",
            include_str!("../templates/instant/presence/here.js"),
        )
        .template(
            "instant/presence/joining.js",
            include_str!("../templates/instant/presence/joining.js"),
        )
        .template(
            "instant/presence/leaving.js",
            include_str!("../templates/instant/presence/leaving.js"),
        );
    if serve_local_client {
        builder = builder.centrifuge_js(CentrifugeJs::File(LOCAL_CENTRIFUGE_JS.into()));
    }
    builder
}

/// The chat's [`Realtime`] from `instant.toml` and the `INSTANT_*` variables (with neither, the
/// embedded server).
///
/// # Errors
/// A bad setting, template or file.
pub fn set_up() -> Result<Realtime, Box<dyn std::error::Error>> {
    Ok(builder(Config::load()?).build()?)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;max-width:50em;margin:2em auto;padding:0 1em}\
main{display:grid;grid-template-columns:1fr 12em;gap:2em}ul{list-style:none;padding:0}\
#messages li{padding:.2em 0;border-bottom:1px solid #eee}#messages li.mine{color:#245}";

fn chat_page(user: &User) -> HttpResponse {
    let name = escape(&user.id);
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Chat · instant</title>
<style>{STYLE}</style>
</head>
<body>
<p>Logged in as <b id="me">{name}</b> · <a href="/logout">log out</a></p>
<main>
<section>
<h1>Chat</h1>
<ul id="messages"></ul>
<form id="send"><input id="text" name="text" maxlength="{MAX_MESSAGE_CHARS}" autocomplete="off" required autofocus> <button type="submit">Send</button></form>
</section>
<aside><h2>Here</h2><ul id="who"></ul></aside>
</main>
<script>
document.getElementById("send").addEventListener("submit", function (e) {{
  e.preventDefault();
  var input = document.getElementById("text");
  var text = input.value.trim();
  if (!text) {{ return; }}
  input.value = "";
  /* The local echo: this tab shows its message at once; the server sends it to the others. */
  var item = document.createElement("li");
  item.className = "mine";
  var author = document.createElement("b");
  author.textContent = document.getElementById("me").textContent + ": ";
  item.appendChild(author);
  item.appendChild(document.createTextNode(text));
  document.getElementById("messages").appendChild(item);
  fetch("/messages", {{
    method: "POST", headers: {{ "Content-Type": "application/json" }},
    body: JSON.stringify({{ text: text }})
  }}).then(function (response) {{
    if (!response.ok) {{ item.className += " failed"; item.title = "not sent"; }}
    return response.ok ? response.json() : null;
  }}).then(function (message) {{
    if (message) {{ item.setAttribute("data-id", message.id); }}
  }});
}});
</script>
</body>
</html>"#
    ))
}

fn login_page(error: Option<&str>) -> HttpResponse {
    let error = error.map_or(String::new(), |e| {
        format!("<p style=\"color:#c00\">{e}</p>")
    });
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Log in · instant chat</title><style>{STYLE}</style></head>
<body>
<h1>Chat</h1>
{error}
<form method="post" action="/login">
<p><label>Your name <input name="name" autocomplete="username" required maxlength="32"></label>
<button type="submit">Enter</button></p>
</form>
<p>Any name of 1 to 32 letters, digits, <code>-</code> or <code>_</code>; no password (a demo).</p>
</body></html>"#
    ))
}

async fn home(req: HttpRequest) -> HttpResponse {
    match SessionUsers.resolve(&req) {
        Some(user) => chat_page(&user),
        None => login_page(None),
    }
}

#[derive(Deserialize)]
struct LoginForm {
    name: String,
}

fn valid_name(name: &str) -> bool {
    (1..=32).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

async fn login_submit(session: Session, form: web::Form<LoginForm>) -> HttpResponse {
    let name = form.name.trim();
    if !valid_name(name) {
        return login_page(Some("Use 1 to 32 letters, digits, - or _."));
    }
    match login(&session, &User::member(name)) {
        Ok(()) => HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/"))
            .finish(),
        Err(error) => {
            tracing::error!(%error, "cannot store the session");
            HttpResponse::InternalServerError().finish()
        }
    }
}

async fn logout_route(session: Session) -> HttpResponse {
    logout(&session);
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/"))
        .finish()
}

#[derive(Deserialize)]
struct NewMessage {
    text: String,
}

/// `POST /messages {text}`: publishes the message to every tab in the room but the sender's,
/// and answers it as JSON.
async fn post_message(
    req: HttpRequest,
    sender: Sender,
    body: web::Json<NewMessage>,
) -> HttpResponse {
    let Some(user) = SessionUsers.resolve(&req) else {
        return HttpResponse::Unauthorized().finish();
    };
    let text = body.into_inner().text.trim().to_owned();
    if text.is_empty() || text.chars().count() > MAX_MESSAGE_CHARS {
        return HttpResponse::BadRequest().body("a message is 1 to 500 characters");
    }
    let Some(publisher) = req.app_data::<Publisher>() else {
        return HttpResponse::ServiceUnavailable().finish();
    };
    let message = ChatMessage {
        id: uuid_like(),
        author: user.id,
        text,
    };
    match publisher.send(message.clone()).to_others(&sender).await {
        Ok(_) => HttpResponse::Ok().json(message),
        Err(error) => {
            tracing::warn!(%error, "message not published");
            HttpResponse::ServiceUnavailable().body(error.to_string())
        }
    }
}

/// A message id: the time in nanoseconds and a per-process counter.
fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{nanos:x}-{}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// The chat's `App`: the middleware, the session (a private cookie signed with `session_key`),
/// `instant`'s routes and the chat's pages.
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
        .configure(routes)
        .route("/", web::get().to(home))
        .route("/login", web::post().to(login_submit))
        .route("/logout", web::get().to(logout_route))
        .route("/messages", web::post().to(post_message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_short_and_plain() {
        assert!(valid_name("alice") && valid_name("a-b_1"));
        assert!(!valid_name("") && !valid_name("a b") && !valid_name(&"x".repeat(33)));
        assert_eq!(escape("<b>\"&"), "&lt;b&gt;&quot;&amp;");
    }
}
