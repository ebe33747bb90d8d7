//! Shared by the embedded server's tests and the conformance suite: the embedded server on a free
//! loopback port, and a minimal WebSocket client speaking Centrifugo's JSON protocol.

#![allow(dead_code, unreachable_pub)] // each test file uses a part

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::mpsc;
use std::time::Duration;

use actix_web::{App, HttpServer};
use awc::ws;
use futures_util::{SinkExt as _, StreamExt as _};
use instant_actix::{EmbeddedOptions, EmbeddedServer};
use instant_core::{Channel, ChannelSet, Config, Level};
use serde_json::{Value, json};

/// How long a test waits for anything before failing.
pub const WAIT: Duration = Duration::from_secs(10);

/// The channels the tests declare: two public ones and one for each private level.
pub fn channels() -> ChannelSet {
    ChannelSet::new([
        Channel::new("news", Level::Public).unwrap(),
        Channel::new("chat", Level::Public).unwrap(),
        Channel::new("$users", Level::Users).unwrap(),
        Channel::new("$staff", Level::Staff).unwrap(),
    ])
    .unwrap()
}

/// The embedded server, served by actix-web on its own thread at a free `127.0.0.1` port.
pub struct TestServer {
    pub addr: SocketAddr,
    pub server: EmbeddedServer,
    pub config: Config,
    handle: actix_web::dev::ServerHandle,
}

impl TestServer {
    pub fn start(config: Config, options: EmbeddedOptions) -> Self {
        let server = EmbeddedServer::with_options(&config, channels(), options);
        let (tx, rx) = mpsc::channel();
        let shared = server.clone();
        std::thread::spawn(move || {
            actix_rt::System::new().block_on(async move {
                let app_server = shared.clone();
                let http = HttpServer::new(move || {
                    let server = app_server.clone();
                    App::new().configure(move |cfg| server.configure(cfg))
                })
                .workers(2)
                .bind(("127.0.0.1", 0))
                .expect("bind a loopback port");
                let addr = http.addrs()[0];
                let running = http.run();
                tx.send((addr, running.handle())).unwrap();
                running.await.unwrap();
            });
        });
        let (addr, handle) = rx.recv_timeout(WAIT).expect("the server starts");
        Self {
            addr,
            server,
            config,
            handle,
        }
    }

    /// A server with a known secret and API key and default limits.
    pub fn with_defaults() -> Self {
        Self::start(test_config(), EmbeddedOptions::default())
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/connection/websocket", self.addr)
    }

    pub fn http_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

/// A configuration with a fixed secret and API key.
pub fn test_config() -> Config {
    Config::builder()
        .secret(instant_core::Secret::new(
            "test-secret-of-the-embedded-server".into(),
        ))
        .api_key(instant_core::Secret::new("test-api-key".into()))
        .build()
        .unwrap()
}

/// What the server sent: a JSON message or the close frame.
#[derive(Debug, Clone, PartialEq)]
pub enum Received {
    Message(Value),
    Closed(Option<u16>, String),
}

/// A minimal Centrifugo protocol client over awc's WebSocket client.
pub struct RawClient {
    framed: actix_codec::Framed<awc::BoxedSocket, ws::Codec>,
    buffered: VecDeque<Received>,
    next_id: u32,
    /// Answer the server's pings (`{}`) with pongs, as centrifuge-js does.
    pub answer_pings: bool,
    /// Pings seen so far.
    pub pings: usize,
}

impl RawClient {
    pub async fn open(url: &str) -> Self {
        Self::open_with(url, None).await.expect("WebSocket upgrade")
    }

    /// Opens a WebSocket, with an `Origin` header when given; the error is the HTTP status.
    pub async fn open_with(url: &str, origin: Option<&str>) -> Result<Self, u16> {
        let mut request = awc::Client::builder()
            .max_http_version(awc::http::Version::HTTP_11)
            .finish()
            .ws(url)
            .max_frame_size(16 * 1024 * 1024);
        if let Some(origin) = origin {
            request = request.origin(origin);
        }
        match request.connect().await {
            Ok((_, framed)) => Ok(Self {
                framed,
                buffered: VecDeque::new(),
                next_id: 0,
                answer_pings: true,
                pings: 0,
            }),
            Err(awc::error::WsClientError::InvalidResponseStatus(status)) => Err(status.as_u16()),
            Err(e) => panic!("WebSocket connection failed: {e}"),
        }
    }

    pub async fn send_text(&mut self, text: impl Into<String>) {
        let text: String = text.into();
        self.framed
            .send(ws::Message::Text(text.into()))
            .await
            .expect("send a frame");
    }

    /// Sends a command with a fresh id; returns the id.
    pub async fn command(&mut self, method: &str, params: Value) -> u32 {
        self.next_id += 1;
        let id = self.next_id;
        self.send_text(json!({ "id": id, method: params }).to_string())
            .await;
        id
    }

    /// Sends a command and waits for its reply (pushes that arrive meanwhile stay buffered).
    pub async fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.command(method, params).await;
        self.reply(id).await
    }

    /// Connects with a token (`""` = anonymous) and returns the connect result.
    pub async fn connect(&mut self, token: &str) -> Value {
        let reply = self
            .call("connect", json!({ "token": token, "name": "rust" }))
            .await;
        assert!(reply.get("connect").is_some(), "connect failed: {reply}");
        reply["connect"].clone()
    }

    async fn read(&mut self) -> Received {
        if let Some(received) = self.buffered.pop_front() {
            return received;
        }
        loop {
            let frame = tokio::time::timeout(WAIT, self.framed.next())
                .await
                .expect("the server answers in time");
            match frame {
                Some(Ok(ws::Frame::Text(bytes) | ws::Frame::Binary(bytes))) => {
                    let text = std::str::from_utf8(&bytes).expect("UTF-8 frame");
                    for line in text.split('\n').filter(|l| !l.trim().is_empty()) {
                        let value: Value = serde_json::from_str(line).expect("JSON line");
                        if value.as_object().is_some_and(serde_json::Map::is_empty) {
                            self.pings += 1;
                            if self.answer_pings {
                                self.send_text("{}").await;
                            }
                            continue;
                        }
                        self.buffered.push_back(Received::Message(value));
                    }
                }
                Some(Ok(ws::Frame::Close(reason))) => {
                    let code = reason.as_ref().map(|r| u16::from(r.code));
                    let description = reason.and_then(|r| r.description).unwrap_or_default();
                    self.buffered.push_back(Received::Closed(code, description));
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => self
                    .buffered
                    .push_back(Received::Closed(None, String::new())),
            }
            if let Some(received) = self.buffered.pop_front() {
                return received;
            }
        }
    }

    /// A message already received and kept (e.g. a push that came before a reply), if any.
    pub fn buffered_message(&mut self) -> Option<Value> {
        while let Some(received) = self.buffered.pop_front() {
            if let Received::Message(value) = received {
                return Some(value);
            }
        }
        None
    }

    /// The next message, or the close code once the server closes the connection.
    pub async fn next_or_close(&mut self) -> Result<Value, Option<u16>> {
        match self.read().await {
            Received::Message(value) => Ok(value),
            Received::Closed(code, _) => Err(code),
        }
    }

    /// The next message, whatever it is; panics on close.
    pub async fn next_message(&mut self) -> Value {
        match self.read().await {
            Received::Message(value) => value,
            Received::Closed(code, reason) => {
                panic!("closed ({code:?} {reason}) instead of a message")
            }
        }
    }

    /// The reply to command `id`; pushes before it stay buffered for [`RawClient::push`].
    pub async fn reply(&mut self, id: u32) -> Value {
        let mut skipped = Vec::new();
        let reply = loop {
            match self.read().await {
                Received::Message(value) if value["id"] == id => break value,
                Received::Closed(code, reason) => {
                    panic!("closed ({code:?} {reason}) while waiting for reply {id}")
                }
                other => skipped.push(other),
            }
        };
        for other in skipped.into_iter().rev() {
            self.buffered.push_front(other);
        }
        reply
    }

    /// The next push (a message without id).
    pub async fn push(&mut self) -> Value {
        loop {
            let message = self.next_message().await;
            if message.get("push").is_some() {
                return message["push"].clone();
            }
        }
    }

    /// Reads until the server closes the connection; returns the close code.
    pub async fn closed(&mut self) -> Option<u16> {
        loop {
            if let Received::Closed(code, _) = self.read().await {
                return code;
            }
        }
    }

    /// Reads until the close frame, without answering pings, within `limit`.
    pub async fn closed_within(&mut self, limit: Duration) -> Option<u16> {
        tokio::time::timeout(limit, async {
            loop {
                let frame = self.framed.next().await;
                match frame {
                    Some(Ok(ws::Frame::Close(reason))) => {
                        return reason.map(|r| u16::from(r.code));
                    }
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => return None,
                }
            }
        })
        .await
        .expect("the server closes the connection in time")
    }
}
