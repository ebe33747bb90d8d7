//! Load: 10,000 WebSocket connections held on the embedded server while it publishes at a steady
//! rate to all of them. Asserted: every connection is still open at the end and received every
//! publication, in order (nothing dropped that should not be), and the server's resident memory
//! after warm-up stays flat (it grows by less than a fifth between the end of the warm-up and the
//! end of the run). Printed: connections held, deliveries, the server's memory over the run.
//!
//! The server runs in a child process (this same test executable, started with
//! `INSTANT_LOAD_SERVER=1`), so that each process holds one side of the 10,000 sockets within the
//! open-file limit, and so that the memory measured is the server's alone. The clients are bare
//! WebSocket clients that answer the server's pings, spread over two threads; the server gives
//! them 20 s to answer a ping instead of 8 (they share the cores with it).
//!
//! The default run lasts 30 s of publishing; the long run sets `INSTANT_LOAD_SECS=300`
//! (`cargo xtask reliability --long` does), and `INSTANT_LOAD_CONNECTIONS` changes the count.

mod raw_ws;

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use raw_ws::{WsConn, number_after};

const API_KEY: &str = "load-test-api-key-0123456789abcdef-0123";
const SECRET: &str = "load-test-secret-0123456789abcdef-01234";
/// One publication to every connection every this long.
const INTERVAL: Duration = Duration::from_secs(3);
/// Connection handshakes in flight at once.
const CONNECTING: usize = 200;
/// Client threads.
const CLIENT_THREADS: usize = 2;
/// How long the connections may take to connect, and a publication to arrive, before failing.
const WAIT: Duration = Duration::from_secs(120);
/// Publishing starts counting memory as warm after this long.
const WARM_UP: Duration = Duration::from_secs(10);

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The name filters select this suite by.
const TEST_NAME: &str = "load_ten_thousand_connections_held_through_a_steady_stream";

fn main() {
    if std::env::var_os("INSTANT_LOAD_SERVER").is_some() {
        serve();
        return;
    }
    // Behave like a libtest harness towards `cargo test [filter]` and `--list`.
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        println!("{TEST_NAME}: test");
        return;
    }
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    if !filters.is_empty() && !filters.iter().any(|f| TEST_NAME.contains(f.as_str())) {
        println!("running 0 tests (filtered out: {TEST_NAME})");
        return;
    }
    println!("running 1 test: {TEST_NAME}");
    load();
    println!("test {TEST_NAME} ... ok");
}

/// The child: the embedded server with the caps lifted for one address, on a free port; prints
/// the address, then serves until killed.
fn serve() {
    use actix_web::{App, HttpServer};
    use instant_actix::{EmbeddedOptions, EmbeddedServer};
    use instant_core::{Channel, ChannelSet, Config, Level};

    let connections = usize::try_from(env_number("INSTANT_LOAD_CONNECTIONS", 10_000)).unwrap_or(0);
    let config = Config::builder()
        .secret(SECRET)
        .api_key(API_KEY)
        .build()
        .expect("config");
    let channels =
        ChannelSet::new([Channel::new("news", Level::Public).expect("channel")]).expect("channels");
    let mut options = EmbeddedOptions::default();
    // Every client comes from 127.0.0.1 without a token: lift the per-address and anonymous caps
    // explicitly, and the server's own cap above the count.
    options.max_connections = connections + 100;
    options.max_connections_per_ip = connections + 100;
    options.max_anonymous_connections = connections + 100;
    options.channel_defaults.history_size = 0;
    // Pings go out every 25 s as by default; the answer may take up to 20 s instead of 8: the
    // test's own 10,000 clients share the machine's cores with the server, and a pong that waits
    // for a client thread to get the CPU is not a dead connection.
    options.pong_timeout = Duration::from_secs(20);
    let server = EmbeddedServer::with_options(&config, channels, options);
    actix_rt::System::new().block_on(async move {
        let http = HttpServer::new(move || {
            let server = server.clone();
            App::new().configure(move |cfg| server.configure(cfg))
        })
        .workers(2)
        .backlog(4096)
        .bind(("127.0.0.1", 0))
        .expect("bind");
        println!("listening {}", http.addrs()[0]);
        std::io::stdout().flush().expect("stdout");
        http.run().await.expect("serve");
    });
}

/// The server process, killed when dropped.
struct ServerProcess {
    child: Child,
    addr: SocketAddr,
}

impl ServerProcess {
    fn start(connections: u64) -> Self {
        let mut child = Command::new(std::env::current_exe().expect("the test executable"))
            .env("INSTANT_LOAD_SERVER", "1")
            .env("INSTANT_LOAD_CONNECTIONS", connections.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the server process starts");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        stdout.read_line(&mut line).expect("the server's address");
        let addr = line
            .trim()
            .strip_prefix("listening ")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        Self { child, addr }
    }

    /// The server's resident memory, in KiB.
    fn rss_kib(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .ok()
            .and_then(|status| {
                status
                    .lines()
                    .find(|l| l.starts_with("VmRSS:"))
                    .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
            })
            .unwrap_or(0)
    }

    /// Calls the server API over a plain HTTP/1.1 connection; returns the answer's body.
    fn api(&self, method: &str, body: &str) -> String {
        let mut stream = std::net::TcpStream::connect(self.addr).expect("API connection");
        write!(
            stream,
            "POST /instant/api/{method} HTTP/1.1\r\nHost: {}\r\nX-API-Key: {API_KEY}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.addr,
            body.len()
        )
        .expect("API request");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("API answer");
        let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        assert!(
            answer.starts_with("HTTP/1.1 200") && !body.contains("\"error\""),
            "{method}: {answer}"
        );
        body.to_owned()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One client: connects, subscribes to `news`, then reads publications `0..total` in order
/// (answering pings); returns what went wrong, if anything.
async fn client(
    addr: SocketAddr,
    total: u64,
    connecting: Arc<tokio::sync::Semaphore>,
    ready: Arc<AtomicUsize>,
    delivered: Arc<AtomicU64>,
) -> Result<(), String> {
    let mut ws = {
        let _slot = connecting.acquire().await.map_err(|e| e.to_string())?;
        let mut ws = WsConn::open(addr, None)
            .await
            .map_err(|e| format!("upgrade: {e}"))?;
        let connected = ws
            .call(1, r#"{"id":1,"connect":{}}"#)
            .await
            .map_err(|code| format!("closed ({code:?}) at connect"))?;
        if connected.get("connect").is_none() {
            return Err(format!("connect refused: {connected}"));
        }
        let subscribed = ws
            .call(2, r#"{"id":2,"subscribe":{"channel":"news"}}"#)
            .await
            .map_err(|code| format!("closed ({code:?}) at subscribe"))?;
        if subscribed.get("subscribe").is_none() {
            return Err(format!("subscribe refused: {subscribed}"));
        }
        ws
    };
    ready.fetch_add(1, Ordering::AcqRel);
    let mut next = 0;
    while next < total {
        let messages = tokio::time::timeout(WAIT, ws.next_messages())
            .await
            .map_err(|_| format!("nothing for {WAIT:?} after {next} publications"))?
            .map_err(|code| format!("closed ({code:?}) after {next} publications"))?;
        for message in messages {
            if number_after(&message, b"\"n\":") != Some(next) {
                return Err(format!(
                    "expected publication {next}, got {}",
                    String::from_utf8_lossy(&message[..message.len().min(200)])
                ));
            }
            next += 1;
            delivered.fetch_add(1, Ordering::Relaxed);
        }
    }
    Ok(())
}

fn load() {
    let connections = env_number("INSTANT_LOAD_CONNECTIONS", 10_000);
    let seconds = env_number("INSTANT_LOAD_SECS", 30);
    let total = seconds * 1000 / u64::try_from(INTERVAL.as_millis()).unwrap_or(1000);
    let server = ServerProcess::start(connections);
    let addr = server.addr;
    let idle_rss = server.rss_kib();
    let ready = Arc::new(AtomicUsize::new(0));
    let delivered = Arc::new(AtomicU64::new(0));
    let connect_started = Instant::now();
    let threads: Vec<_> = (0..CLIENT_THREADS)
        .map(|t| {
            let count = connections / CLIENT_THREADS as u64
                + u64::from((t as u64) < connections % CLIENT_THREADS as u64);
            let ready = Arc::clone(&ready);
            let delivered = Arc::clone(&delivered);
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                let connecting = Arc::new(tokio::sync::Semaphore::new(CONNECTING / CLIENT_THREADS));
                runtime.block_on(futures_util::future::join_all((0..count).map(|_| {
                    client(
                        addr,
                        total,
                        Arc::clone(&connecting),
                        Arc::clone(&ready),
                        Arc::clone(&delivered),
                    )
                })))
            })
        })
        .collect();
    let deadline = Instant::now() + WAIT;
    while ready.load(Ordering::Acquire) < usize::try_from(connections).unwrap_or(usize::MAX) {
        assert!(
            Instant::now() < deadline,
            "only {} of {connections} connected in {WAIT:?}",
            ready.load(Ordering::Acquire)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let connect_time = connect_started.elapsed();
    let connected_rss = server.rss_kib();
    let info = server.api("info", "{}");
    let clients_seen = number_after(info.as_bytes(), b"\"num_clients\":");

    let start = Instant::now();
    let mut warm_rss = None;
    let mut peak_rss = connected_rss;
    for n in 0..total {
        let at = start + INTERVAL * u32::try_from(n).unwrap_or(u32::MAX);
        std::thread::sleep(at.saturating_duration_since(Instant::now()));
        server.api(
            "publish",
            &format!(r#"{{"channel":"news","data":{{"n":{n},"text":"tick"}}}}"#),
        );
        let rss = server.rss_kib();
        peak_rss = peak_rss.max(rss);
        if warm_rss.is_none() && start.elapsed() >= WARM_UP {
            warm_rss = Some(rss);
        }
    }
    let mut failures = Vec::new();
    for thread in threads {
        failures.extend(
            thread
                .join()
                .expect("client thread")
                .into_iter()
                .filter_map(Result::err),
        );
    }
    let elapsed = start.elapsed();
    let end_rss = server.rss_kib();
    let warm_rss = warm_rss.unwrap_or(connected_rss);
    let delivered = delivered.load(Ordering::Acquire);
    eprintln!(
        "{connections} connections held (connected in {:.1} s; info num_clients {clients_seen:?}), \
         {total} publications over {:.1} s (one every {INTERVAL:?}), {delivered} of {} deliveries, {} \
         connections failed",
        connect_time.as_secs_f64(),
        elapsed.as_secs_f64(),
        connections * total,
        failures.len()
    );
    eprintln!(
        "server RSS: idle {} MiB, all connected {} MiB, warm ({WARM_UP:?} in) {} MiB, end {} \
         MiB, peak {} MiB",
        idle_rss / 1024,
        connected_rss / 1024,
        warm_rss / 1024,
        end_rss / 1024,
        peak_rss / 1024
    );
    assert!(
        failures.is_empty(),
        "{} connections lost publications or were dropped, e.g. {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    assert_eq!(delivered, connections * total, "deliveries");
    assert_eq!(clients_seen, Some(connections), "the server's client count");
    assert!(
        end_rss <= warm_rss + warm_rss / 5,
        "the server's memory grew after warm-up: {warm_rss} KiB → {end_rss} KiB"
    );
}
