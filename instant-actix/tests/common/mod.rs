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
