//! The `instant` demo app: `cargo run -p demo`, then open <http://127.0.0.1:8080>.
//!
//! It serves the pages `/`, `/a/path` and `/another/path` (the channels a page joins depend on the
//! user and on the path), the order pages `/orders/1` to `/orders/3` (each joins its order's
//! channel when the demo's database says the user may follow it), a login form with three demo
//! accounts, and the superuser frontend at `/instant/`. With no configuration it runs the embedded real-time server, so nothing else needs
//! to be started; with `INSTANT_CENTRIFUGO_URL` (and its key and secret) it uses that Centrifugo.
//! `INSTANT_ADDR` changes the address (default `127.0.0.1:8080`).

use std::net::SocketAddr;

use actix_web::HttpServer;
use actix_web::cookie::Key;
use demo::PASSWORD;

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
    let realtime = demo::set_up()?;
    let backend = match realtime.config().centrifugo_url() {
        Some(url) => format!("Centrifugo at {url}"),
        None => "the embedded real-time server".to_owned(),
    };
    let session_key = Key::generate();

    let server = HttpServer::new(move || demo::app(&realtime, session_key.clone())).bind(addr)?;
    let bound = server.addrs();
    for addr in &bound {
        println!("instant demo listening on http://{addr} (events through {backend})");
    }
    println!(
        "demo accounts (password `{PASSWORD}`): admin (superuser), staff (staff), user (logged-in user)"
    );
    println!(
        "superuser frontend: /instant/ · pages: /, /a/path, /another/path, /orders/1 to /orders/3"
    );
    server.run().await?;
    Ok(())
}
