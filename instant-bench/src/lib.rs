//! Benchmarks and memory checks of the `instant` workspace.
//!
//! The benchmarks live in `benches/` (run them with `cargo bench -p instant-bench`), the memory
//! check in `src/bin/memory.rs` (`cargo run -p instant-bench --release --bin memory`). This library
//! holds what they share: the embedded server served on a loopback port, and a crowd of WebSocket
//! subscribers that speak Centrifugo's JSON protocol and count the publications they receive.
//! Speed and memory targets are checked here, never in timed tests.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use actix_web::{App, HttpServer};
use awc::ws;
use futures_util::{SinkExt as _, StreamExt as _};
use instant_actix::{EmbeddedOptions, EmbeddedServer};
use instant_core::{Channel, ChannelSet, Config, Event, Level};
use serde_json::json;

/// The public channel every benchmark publishes on.
pub const CHANNEL: &str = "news";

/// The secret of the benchmarks' configuration.
pub const SECRET: &str = "benchmark-secret-0123456789abcdef0123456789";

/// The API key of the benchmarks' configuration.
pub const API_KEY: &str = "benchmark-api-key";

/// How long anything may take before a benchmark gives up.
pub const WAIT: Duration = Duration::from_secs(60);

/// An embedded-mode configuration with a fixed secret and API key.
///
/// # Panics
/// Never: the values are valid.
#[must_use]
pub fn config() -> Config {
    Config::builder()
        .secret(SECRET)
        .api_key(API_KEY)
        .site_slug("bench")
        .build()
        .expect("a valid benchmark configuration")
}

/// The declared channels: [`CHANNEL`] (public) and `$users` (logged-in users).
///
/// # Panics
/// Never: the names are valid.
#[must_use]
pub fn channels() -> ChannelSet {
    ChannelSet::new([
        Channel::new(CHANNEL, Level::Public).expect("a valid channel"),
        Channel::new("$users", Level::Users).expect("a valid channel"),
    ])
    .expect("distinct channels")
}

/// An event like an app sends: a class, a message and a small JSON object, about 300 bytes of JSON.
#[must_use]
pub fn sample_event(n: u64) -> Event {
    event_of(sample_parts(n))
}

/// The app's part of [`sample_event`]`(n)`: its message and its data. A comparison makes these
/// before its clock starts, as the app would have them at hand, so that what it times is
/// instant's own work on them ([`event_of`]: the event's id and time, then its encoding).
#[must_use]
pub fn sample_parts(n: u64) -> (String, serde_json::Value) {
    (
        format!("Order {n} was shipped"),
        json!({
            "id": n,
            "model": "shop.Order",
            "status": "shipped",
            "url": format!("/orders/{n}/"),
            "total": "149.90",
        }),
    )
}

/// The event made of an app's `(message, data)`, as `Publisher::publish` makes it: a fresh id
/// and the current time.
#[must_use]
pub fn event_of((message, data): (String, serde_json::Value)) -> Event {
    Event::new("bench", CHANNEL, message)
        .with_event_class("object edited")
        .with_data(data)
}

/// The embedded server served by actix-web on a thread of its own, at a free `127.0.0.1` port.
/// Stopped on drop.
#[derive(Debug)]
pub struct ServedEmbedded {
    /// The server, for in-process publishing.
    pub server: EmbeddedServer,
    addr: SocketAddr,
    handle: actix_web::dev::ServerHandle,
}

impl ServedEmbedded {
    /// Serves a server for [`channels`] with `options`, on `workers` actix worker threads.
    ///
    /// # Panics
    /// When no loopback port can be bound or the server does not start in time.
    #[must_use]
    pub fn start(mut options: EmbeddedOptions, workers: usize) -> Self {
        // Every benchmark client connects from 127.0.0.1: the per-address cap would refuse the crowd.
        options.max_connections_per_ip = usize::MAX;
        let server = EmbeddedServer::with_options(&config(), channels(), options);
        let (tx, rx) = mpsc::channel();
        let shared = server.clone();
        std::thread::spawn(move || {
            actix_rt::System::new().block_on(async move {
                let http = HttpServer::new(move || {
                    let server = shared.clone();
                    App::new().configure(move |cfg| server.configure(cfg))
                })
                .workers(workers)
                .backlog(4096)
                .bind(("127.0.0.1", 0))
                .expect("bind a loopback port");
                let addr = http.addrs()[0];
                let running = http.run();
                tx.send((addr, running.handle())).expect("the caller waits");
                running.await.expect("the server runs");
            });
        });
        let (addr, handle) = rx.recv_timeout(WAIT).expect("the server starts");
        Self {
            server,
            addr,
            handle,
        }
    }

    /// `ws://127.0.0.1:<port>/connection/websocket`.
    #[must_use]
    pub fn ws_url(&self) -> String {
        format!("ws://{}{}", self.addr, instant_actix::paths::WEBSOCKET_PATH)
    }

    /// `http://127.0.0.1:<port>/instant`, the base URL a Centrifugo client takes for the server API.
    #[must_use]
    pub fn http_url(&self) -> String {
        format!("http://{}{}", self.addr, instant_actix::paths::PREFIX)
    }
}

impl Drop for ServedEmbedded {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

/// Counts the publications the subscribers received, and wakes the waiter at its target.
#[derive(Debug)]
struct Delivery {
    received: AtomicU64,
    target: AtomicU64,
    done: mpsc::Sender<()>,
}

impl Delivery {
    fn received_one(&self) {
        let now = self.received.fetch_add(1, Ordering::AcqRel) + 1;
        if now == self.target.load(Ordering::Acquire) {
            // The waiter may have given up; nothing to do then.
            let _ = self.done.send(());
        }
    }
}

/// `n` WebSocket clients on a thread of their own, each connected anonymously and subscribed to
/// [`CHANNEL`]; they answer pings and count every publication they receive. The thread's runtime
/// stops on drop, closing the connections.
#[derive(Debug)]
pub struct Subscribers {
    count: u64,
    delivery: Arc<Delivery>,
    done: mpsc::Receiver<()>,
    expected: u64,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Subscribers {
    /// Opens `n` subscriptions to the server at `ws_url` and returns once all are subscribed.
    ///
    /// # Panics
    /// When a connection or subscription fails or takes longer than [`WAIT`].
    #[must_use]
    pub fn connect(ws_url: &str, n: usize) -> Self {
        let (done_tx, done) = mpsc::channel();
        let delivery = Arc::new(Delivery {
            received: AtomicU64::new(0),
            target: AtomicU64::new(u64::MAX),
            done: done_tx,
        });
        let (ready_tx, ready) = mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let url = ws_url.to_owned();
        let shared = Arc::clone(&delivery);
        std::thread::spawn(move || {
            actix_rt::System::new().block_on(async move {
                // Connect in waves so that the server's accept queue never overflows.
                let mut open = 0;
                while open < n {
                    let wave = (n - open).min(50);
                    let clients: Vec<_> = (0..wave).map(|_| subscribe(&url)).collect();
                    for framed in futures_util::future::join_all(clients).await {
                        actix_rt::spawn(read_publications(framed, Arc::clone(&shared)));
                    }
                    open += wave;
                }
                ready_tx.send(()).expect("the caller waits");
                // Keep the runtime (and the connections) alive until dropped.
                let _ = stopped.await;
            });
        });
        ready
            .recv_timeout(WAIT)
            .expect("every subscriber connects and subscribes in time");
        Self {
            count: n as u64,
            delivery,
            done,
            expected: 0,
            stop: Some(stop),
        }
    }

    /// How many subscribers there are.
    #[must_use]
    pub fn len(&self) -> u64 {
        self.count
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Announces `publications` more publications; call it *before* publishing them, then
    /// [`Subscribers::wait`].
    pub fn expect(&mut self, publications: u64) {
        self.expected += publications * self.count;
        self.delivery.target.store(self.expected, Ordering::Release);
    }

    /// Waits until every subscriber received every announced publication.
    ///
    /// # Panics
    /// When that takes longer than [`WAIT`] (a subscriber was disconnected, say).
    pub fn wait(&self) {
        let deadline = std::time::Instant::now() + WAIT;
        // A wake-up may be left over from an earlier round: check the count after each one.
        while self.delivery.received.load(Ordering::Acquire) < self.expected {
            let now = std::time::Instant::now();
            if now >= deadline {
                panic!(
                    "only {} of {} publications were delivered",
                    self.delivery.received.load(Ordering::Acquire),
                    self.expected
                );
            }
            // The target may have been set after the last delivery: wake up now and then.
            let _ = self.done.recv_timeout(Duration::from_millis(5));
        }
    }
}

impl Drop for Subscribers {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

type Framed = actix_codec::Framed<awc::BoxedSocket, ws::Codec>;

/// Opens one WebSocket, connects anonymously and subscribes to [`CHANNEL`].
async fn subscribe(url: &str) -> Framed {
    let (_, mut framed) = awc::Client::builder()
        .max_http_version(awc::http::Version::HTTP_11)
        .timeout(WAIT)
        .finish()
        .ws(url)
        .connect()
        .await
        .expect("the WebSocket upgrade succeeds");
    let commands = [
        json!({"id": 1, "connect": {"token": "", "name": "bench"}}),
        json!({"id": 2, "subscribe": {"channel": CHANNEL}}),
    ];
    for (command, id) in commands.iter().zip([1, 2]) {
        framed
            .send(ws::Message::Text(command.to_string().into()))
            .await
            .expect("send a command");
        let wanted = format!("\"id\":{id},");
        loop {
            let frame = tokio::time::timeout(WAIT, framed.next())
                .await
                .expect("the server answers in time");
            match frame {
                Some(Ok(ws::Frame::Text(bytes))) => {
                    let text = std::str::from_utf8(&bytes).expect("UTF-8");
                    assert!(!text.contains("\"error\""), "command refused: {text}");
                    if text.contains(&wanted) {
                        break;
                    }
                }
                Some(Ok(_)) => {}
                other => panic!("the connection closed during set-up: {other:?}"),
            }
        }
    }
    framed
}

/// Reads frames until the connection closes: answers pings, counts publications.
async fn read_publications(mut framed: Framed, delivery: Arc<Delivery>) {
    while let Some(Ok(frame)) = framed.next().await {
        match frame {
            ws::Frame::Text(bytes) => {
                for message in bytes.split(|b| *b == b'\n') {
                    if message == b"{}" {
                        // The server's ping: answer with a pong as centrifuge-js does.
                        if framed.send(ws::Message::Text("{}".into())).await.is_err() {
                            return;
                        }
                    } else if message.starts_with(b"{\"push\"") && contains(message, b"\"pub\":{") {
                        delivery.received_one();
                    }
                }
            }
            ws::Frame::Ping(payload)
                if framed
                    .send(ws::Message::Pong(payload.clone()))
                    .await
                    .is_err() =>
            {
                return;
            }
            ws::Frame::Close(_) => return,
            _ => {}
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// An HTML page of about `size` bytes, like a server-rendered list page: a `<head>` with styles,
/// then a long `<body>` of table rows.
#[must_use]
pub fn html_page(size: usize) -> String {
    let mut page = String::with_capacity(size + 512);
    page.push_str(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Orders</title>\
         <link rel=\"stylesheet\" href=\"/static/site.css\"><style>td{padding:2px}</style>\
         </head>\n<body><main><h1>Orders</h1><table>\n",
    );
    let mut n = 0;
    while page.len() < size {
        n += 1;
        page.push_str(&format!(
            "<tr class=\"row\"><td><a href=\"/orders/{n}/\">Order {n}</a></td>\
             <td>shipped</td><td data-total=\"149.90\">149.90 &euro;</td></tr>\n"
        ));
    }
    page.push_str("</table></main><script src=\"/static/app.js\"></script></body></html>\n");
    page
}
