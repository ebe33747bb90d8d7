//! The embedded server's frame decoding and command dispatch on arbitrary frames, through a real
//! server in this process (its protocol module is private to `instant-actix`).

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use actix_web::{App, HttpServer};
use awc::ws;
use futures_util::{SinkExt as _, StreamExt as _};
use instant_actix::{EmbeddedOptions, EmbeddedServer};
use instant_core::{Channel, ChannelSet, Config, Level, Secret};
use serde_json::Value;

/// The id of the command sent after the fuzzed frame: its answer (or a close) ends a check.
const SENTINEL: u64 = 4_000_000_000;

/// How long the server may take to answer; far more than it needs.
const WAIT: Duration = Duration::from_secs(10);

/// The error codes a reply may carry (Centrifugo's client protocol).
const REPLY_CODES: [u64; 14] = [
    100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113,
];

/// The embedded server on a free loopback port, on a thread of its own, once per process.
fn server() -> SocketAddr {
    static ADDR: OnceLock<SocketAddr> = OnceLock::new();
    *ADDR.get_or_init(|| {
        let config = Config::builder()
            .secret(Secret::from(crate::tokens::SECRET))
            .api_key(Secret::from("fuzz-api-key-0123456789abcdef-0123"))
            .build()
            .expect("the fuzz configuration");
        let channels = ChannelSet::new([
            Channel::new("news", Level::Public).expect("a channel"),
            Channel::new("chat", Level::Public).expect("a channel"),
            Channel::new("$users", Level::Users).expect("a channel"),
        ])
        .expect("channels");
        let mut options = EmbeddedOptions::default();
        // Every check opens a connection from the same address.
        options.max_connections_per_ip = 100_000;
        options.max_anonymous_connections = 100_000;
        options.max_connections = 100_000;
        options.channel_defaults.history_size = 10;
        options.channel_defaults.history_ttl = Duration::from_secs(60);
        options.channel_defaults.presence = true;
        options.channel_defaults.join_leave = true;
        options.channel_defaults.presence_for_anonymous = true;
        let server = EmbeddedServer::with_options(&config, channels, options);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            actix_rt::System::new().block_on(async move {
                let http = HttpServer::new(move || {
                    let server = server.clone();
                    App::new().configure(move |cfg| server.configure(cfg))
                })
                .workers(1)
                .bind(("127.0.0.1", 0))
                .expect("bind a loopback port");
                let addr = http.addrs()[0];
                let running = http.run();
                tx.send(addr).expect("report the address");
                running.await.expect("the server runs");
            });
        });
        rx.recv_timeout(WAIT).expect("the server starts")
    })
}

/// What one check saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The connection is still open: the sentinel command was answered.
    Served,
    /// The server closed the connection with this code.
    Closed(u16),
}

/// Sends the fuzz input as text frames (split at `0xFF` bytes; the first byte's low bit set sends
/// them before `connect`, else after an anonymous `connect`), then a sentinel command.
///
/// # Panics
/// When the server drops the connection without a close code, closes it with a code outside
/// Centrifugo's disconnect codes (or 1009, message too big), answers with an unknown error code,
/// sends something that is not JSON, or stops answering.
pub fn check(data: &[u8]) -> Outcome {
    let addr = server();
    let before_connect = data.first().is_some_and(|b| b & 1 == 1);
    let frames: Vec<String> = crate::split_chunks(data.get(1..).unwrap_or_default())
        .into_iter()
        .map(|f| String::from_utf8_lossy(&f).into_owned())
        .collect();
    crate::block_on(async move {
        let (_, mut framed) = awc::Client::builder()
            .max_http_version(awc::http::Version::HTTP_11)
            .finish()
            .ws(format!("ws://{addr}/connection/websocket"))
            .max_frame_size(16 * 1024 * 1024)
            .connect()
            .await
            .expect("the server accepts a WebSocket");
        let mut outgoing = Vec::new();
        if !before_connect {
            outgoing.push(r#"{"id":1,"connect":{"name":"fuzz"}}"#.to_owned());
        }
        outgoing.extend(frames);
        outgoing.push(format!(
            r#"{{"id":{SENTINEL},"rpc":{{"method":"sentinel"}}}}"#
        ));
        for frame in outgoing {
            if framed.send(ws::Message::Text(frame.into())).await.is_err() {
                break; // closed meanwhile: the close frame tells why
            }
        }
        loop {
            let frame = tokio::time::timeout(WAIT, framed.next())
                .await
                .expect("the server answers in time");
            match frame {
                Some(Ok(ws::Frame::Text(bytes))) => {
                    let text = std::str::from_utf8(&bytes).expect("the server sends UTF-8");
                    for line in text.split('\n').filter(|l| !l.is_empty()) {
                        let reply: Value = serde_json::from_str(line)
                            .unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
                        if let Some(code) = reply.pointer("/error/code") {
                            let code = code.as_u64().unwrap_or_default();
                            assert!(REPLY_CODES.contains(&code), "error code {code}: {line}");
                        }
                        if reply["id"] == SENTINEL {
                            let _ = framed.close().await;
                            return Outcome::Served;
                        }
                    }
                }
                Some(Ok(ws::Frame::Close(reason))) => {
                    let code = reason
                        .map(|r| u16::from(r.code))
                        .expect("the server closes with a code");
                    assert!(
                        (3000..4000).contains(&code) || code == 1009,
                        "closed with {code}"
                    );
                    return Outcome::Closed(code);
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => panic!("the connection failed: {e}"),
                None => panic!("the server dropped the connection without a close frame"),
            }
        }
    })
}
