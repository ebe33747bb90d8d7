//! The after-commit example: `cargo run -p after-commit`, then
//! `curl -X POST -H 'content-type: application/json' -d '{"item":"tea","quantity":3}' http://127.0.0.1:8080/orders`.
//! An order past the stock (10 teas) is refused with 409 and publishes nothing.

use actix_web::HttpServer;

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().init();
    let realtime = instant::Realtime::builder()
        .channels(after_commit::CHANNELS.clone())
        .build()?;
    let pool = after_commit::database().await?;
    let addr = std::env::var("INSTANT_ADDR").unwrap_or_else(|_| "127.0.0.1:8080".to_owned());
    let server = HttpServer::new(move || after_commit::app(&realtime, pool.clone())).bind(&addr)?;
    for addr in server.addrs() {
        println!("after-commit example listening on http://{addr}");
    }
    server.run().await?;
    Ok(())
}
