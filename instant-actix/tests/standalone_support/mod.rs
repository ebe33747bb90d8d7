//! The standalone embedded server (`instant runws --embedded`) for the conformance suites: built
//! from a Centrifugo v6 JSON config by the same library function the command uses
//! (`EmbeddedServer::standalone`), served by actix-web on its own thread at a free loopback port.

#![allow(dead_code, unreachable_pub)] // each test file uses a part

use std::net::SocketAddr;
use std::sync::mpsc;
use std::time::Duration;

use actix_web::{App, HttpServer};
use instant_actix::{EmbeddedServer, StandaloneConfig};
use serde_json::Value;

/// A standalone server; stopped on drop.
pub struct StandaloneServer {
    pub addr: SocketAddr,
    pub server: EmbeddedServer,
    /// The JSON paths of the config's keys it reported as unsupported.
    pub unsupported: Vec<String>,
    handle: actix_web::dev::ServerHandle,
}

impl StandaloneServer {
    /// Reads `config` as `instant runws --embedded` does and serves it on `127.0.0.1` at a free
    /// port (`http_server` is not used).
    pub fn start(config: &Value) -> Self {
        let config = StandaloneConfig::from_json(&config.to_string())
            .unwrap_or_else(|e| panic!("the standalone server refuses the config: {e}"));
        let unsupported = config
            .unsupported()
            .iter()
            .map(|k| k.path.clone())
            .collect();
        let mut this = Self::serve(EmbeddedServer::standalone(config));
        this.unsupported = unsupported;
        this
    }

    /// Serves a standalone server already built.
    pub fn serve(server: EmbeddedServer) -> Self {
        let (tx, rx) = mpsc::channel();
        let shared = server.clone();
        std::thread::spawn(move || {
            actix_rt::System::new().block_on(async move {
                let http = HttpServer::new(move || {
                    let server = shared.clone();
                    App::new().configure(move |cfg| server.configure(cfg))
                })
                .workers(2)
                .disable_signals()
                .bind(("127.0.0.1", 0))
                .expect("bind a loopback port");
                let addr = http.addrs()[0];
                let running = http.run();
                tx.send((addr, running.handle())).unwrap();
                running.await.unwrap();
            });
        });
        let (addr, handle) = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the standalone server starts");
        Self {
            addr,
            server,
            unsupported: Vec::new(),
            handle,
        }
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/connection/websocket", self.addr)
    }

    /// The base URL, as Centrifugo's: the API is at `{http_url}/api`.
    pub fn http_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for StandaloneServer {
    fn drop(&mut self) {
        self.server.shutdown();
        drop(self.handle.stop(false));
    }
}
