//! The `instant` demo app on Centrifugo: `cargo run -p cluster` in a directory whose
//! `instant.toml` (written by `instant installws`) names one Centrifugo node, or several nodes
//! sharing one Redis (`centrifugo_urls`). See `examples/cluster/README.md` for the commands.
//!
//! It is the demo of `examples/demo` (its pages, accounts and channels, through `demo::builder`
//! and `demo::app`) and refuses to start without Centrifugo, where the demo falls back on the
//! embedded server. The settings come from `instant.toml` and the `INSTANT_*` variables, as in any
//! app; `INSTANT_ADDR` changes the address (default `127.0.0.1:8080`).

use std::net::SocketAddr;

use actix_web::HttpServer;
use actix_web::cookie::Key;
use instant::config::Config;

/// What to do when no Centrifugo is configured.
const NO_CENTRIFUGO: &str = "no Centrifugo is configured: run `instant installws` in this \
    directory (it writes instant.toml), or set INSTANT_CENTRIFUGO_URL (or INSTANT_CENTRIFUGO_URLS \
    for several nodes), INSTANT_SECRET and INSTANT_CENTRIFUGO_API_KEY; see examples/cluster/README.md";

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,actix_server=warn".into()),
        )
        .init();
    let addr: SocketAddr = std::env::var("INSTANT_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:8080".to_owned())
        .parse()
        .map_err(|e| format!("INSTANT_ADDR: {e}"))?;

    let config = Config::load()?;
    if config.is_embedded() {
        return Err(NO_CENTRIFUGO.into());
    }
    let realtime = demo::builder(config).build()?;
    realtime.install_global_publisher();
    let nodes = realtime.config().centrifugo_urls().join(", ");
    let websocket = realtime
        .config()
        .websocket_url()
        .unwrap_or("the first node's /connection/websocket")
        .to_owned();
    let session_key = Key::generate();

    let server = HttpServer::new(move || demo::app(&realtime, session_key.clone())).bind(addr)?;
    // The first line names the address (the tests read it).
    for addr in server.addrs() {
        println!("instant cluster example listening on http://{addr}");
    }
    println!("publishing through Centrifugo at {nodes}; browsers connect to {websocket}");
    println!(
        "demo accounts (password `{}`): admin (superuser), staff (staff), user (logged-in user)",
        demo::PASSWORD
    );
    println!("superuser frontend: /instant/ · pages: /, /a/path, /another/path");
    server.run().await?;
    Ok(())
}
