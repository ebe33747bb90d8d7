//! Shared set-up of the actix-engineer test suites: a config, a channel set, a header-based user
//! resolver and helpers to read the injected browser config.
#![allow(dead_code, unreachable_pub)]

use actix_web::HttpRequest;
use instant_actix::{CentrifugeJs, Realtime, RealtimeBuilder, User};
use instant_core::{Channel, ChannelSet, Config, Level};
use serde_json::Value;

pub const SECRET: &str = "test-secret-0123456789abcdef0123456789";

pub fn config() -> Config {
    Config::builder()
        .secret(SECRET)
        .site_slug("testsite")
        .site_name("Test site")
        .allowed_origin("http://allowed.example")
        .build()
        .expect("test config")
}

/// For each level, a channel on every path and one limited to `/a`.
pub fn matrix_channels() -> ChannelSet {
    let mut channels = Vec::new();
    for level in Level::ALL {
        let prefix = if level.is_private() { "$" } else { "" };
        channels.push(Channel::new(format!("{prefix}{level}_all"), level).unwrap());
        channels.push(
            Channel::new(format!("{prefix}{level}_a"), level)
                .unwrap()
                .at("/a")
                .unwrap(),
        );
    }
    ChannelSet::new(channels).unwrap()
}

/// `x-test-user: <id>:<level>` names the user; no header = anonymous.
pub fn header_user(req: &HttpRequest) -> Option<User> {
    let value = req.headers().get("x-test-user")?.to_str().ok()?;
    let (id, level) = value.split_once(':')?;
    Some(User::new(id, level.parse().ok()?))
}

/// The test set-up, before `build()`.
pub fn builder() -> RealtimeBuilder {
    Realtime::builder()
        .config(config())
        .channels(matrix_channels())
        .users(header_user)
        .centrifuge_js(CentrifugeJs::Url {
            src: "/static/centrifuge.js".into(),
            integrity: None,
        })
}

/// The test set-up, built.
pub fn realtime() -> Realtime {
    builder().build().expect("instant set-up")
}

/// The JSON inside `<script type="application/json" id="instant-config" …>`.
pub fn injected_config(html: &str) -> Option<Value> {
    let at = html.find("id=\"instant-config\"")?;
    let start = at + html[at..].find('>')? + 1;
    let end = start + html[start..].find("</script>")?;
    Some(serde_json::from_str(&html[start..end]).expect("the injected config is JSON"))
}

pub fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

/// The value of the first `attr="…"` after `marker` in `html`.
fn attribute_after(html: &str, marker: &str, attr: &str) -> Option<String> {
    let at = html.find(marker)?;
    let start = at + html[at..].find(&format!("{attr}=\""))? + attr.len() + 2;
    let end = start + html[start..].find('"')?;
    Some(html[start..end].to_owned())
}

/// The URL of the client script the page loads (`<script src="/instant/static/client.<hash>.js">`).
pub fn client_script_url(html: &str) -> Option<String> {
    attribute_after(html, "<script src=\"/instant/static/client.", "src")
}

/// The URL of the client style sheet the page loads (`<link rel="stylesheet" href="…">`).
pub fn client_style_url(html: &str) -> Option<String> {
    attribute_after(
        html,
        "<link rel=\"stylesheet\" href=\"/instant/static/client.",
        "href",
    )
}

/// The body of `GET uri` on `app`, as text.
pub async fn get_text<S, B>(app: &S, uri: &str) -> String
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let req = actix_web::test::TestRequest::get().uri(uri).to_request();
    String::from_utf8(actix_web::test::call_and_read_body(app, req).await.to_vec())
        .expect("a UTF-8 body")
}

/// `html`, then the client script and the style sheet it loads, fetched from `app`: the text a
/// browser gets for the page.
pub async fn with_client_files<S, B>(app: &S, html: &str) -> String
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let script = client_script_url(html).expect("the page loads the client script");
    let style = client_style_url(html).expect("the page loads the client style sheet");
    let script = get_text(app, &script).await;
    let style = get_text(app, &style).await;
    format!("{html}\n{script}\n{style}")
}
