//! The `instant` chat example: `cargo run -p chat`, then open <http://127.0.0.1:8080> in two
//! browsers (or a private window) and log in with two names.
//!
//! With no configuration it runs the embedded real-time server, so nothing else needs to be
//! started. `INSTANT_ADDR` changes the address (default `127.0.0.1:8080`).

use std::net::SocketAddr;

use actix_web::HttpServer;
use actix_web::cookie::Key;

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
    let realtime = chat::set_up()?;
    let session_key = Key::generate();
    let server = HttpServer::new(move || chat::app(&realtime, session_key.clone())).bind(addr)?;
    for addr in server.addrs() {
        println!("instant chat listening on http://{addr}");
    }
    server.run().await?;
    Ok(())
}
