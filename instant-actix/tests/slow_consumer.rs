//! Slow consumers at scale: 1,000 subscribers of `news` receive a steady stream of publications
//! from the embedded server while one more subscriber of `news`, with a 4 KiB receive buffer,
//! stops reading its socket. That one is also the only subscriber of `chat`, a bulk channel of
//! 128 KiB publications, so that its connection fills the kernel's socket buffers (which grow to
//! megabytes on loopback) and its send queue within seconds, without pushing gigabytes to the
//! 1,000 others.
//!
//! Asserted: the slow subscriber is cut off with 3008 (Centrifugo's "slow") before the stream
//! ends, so the server never holds more than the queue bound for it; every other subscriber gets
//! every publication of `news`, in order. The same run without the slow subscriber gives the
//! baseline; both print their delivery latencies and the process's memory (figures for
//! RELIABILITY.md; nothing here asserts a duration).
//!
//! The publisher paces itself on the readers (publication n waits until each of them has n - 8):
//! on a machine busy with other work the stream slows down instead of a reader falling a whole
//! queue behind and being cut off itself. The slow subscriber is never waited for.

mod embedded_support;
mod raw_ws;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use embedded_support::{TestServer, test_config};
use instant_actix::EmbeddedOptions;
use instant_core::{Backend as _, Event};
use raw_ws::{Frame, WsConn, number_after};
use serde_json::json;

/// Subscribers that read everything.
const SUBSCRIBERS: usize = 1_000;
/// Threads their connections are spread over (each with its own runtime).
const CLIENT_THREADS: usize = 2;
/// Publications on `news` per run, one every [`INTERVAL`] at most.
const PUBLICATIONS: u64 = 100;
const INTERVAL: Duration = Duration::from_millis(50);
/// How many publications a reader may be behind before the next one waits.
const WINDOW: u64 = 8;
/// The filler of each `news` publication.
const FILLER: usize = 256;
/// The size of each `chat` publication, the slow subscriber's bulk channel.
const BULK: usize = 128 * 1024;
/// The bound of each connection's send queue in these runs.
const QUEUE_BOUND: usize = 256 * 1024;
/// How long anything may take before the test fails.
const WAIT: Duration = Duration::from_secs(60);

fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// What one run measured.
struct Run {
    /// Delivery latency of every publication to every reader, in microseconds, sorted.
    latencies: Vec<u64>,
    /// How the slow subscriber ended: `news` publications it read, the close code, and when it
    /// was cut off (how many `news` publications had been made by then).
    slow: Option<SlowEnd>,
    /// How long the `news` stream took.
    elapsed: Duration,
    /// Resident memory of the whole test process (server and clients) after the run, in KiB.
    rss_kib: u64,
}

struct SlowEnd {
    read: u64,
    close: Option<u16>,
    cut_after: Option<u64>,
}

impl Run {
    /// The latency at percentile `p` (0 to 1), in milliseconds.
    fn percentile(&self, p: f64) -> f64 {
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let at = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        #[allow(clippy::cast_precision_loss)]
        let micros = self.latencies[at] as f64;
        micros / 1000.0
    }
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

async fn connect_and_subscribe(
    addr: SocketAddr,
    recv_buffer: Option<u32>,
    channels: &[&str],
) -> WsConn {
    let mut ws = WsConn::open(addr, recv_buffer).await.expect("upgrade");
    let connected = ws
        .call(1, r#"{"id":1,"connect":{}}"#)
        .await
        .expect("connect");
    assert!(connected.get("connect").is_some(), "{connected}");
    for (id, channel) in (2..).zip(channels) {
        let command = json!({"id": id, "subscribe": {"channel": channel}}).to_string();
        let subscribed = ws.call(id, &command).await.expect("subscribe");
        assert!(subscribed.get("subscribe").is_some(), "{subscribed}");
    }
    ws
}

/// A subscriber that reads every publication; returns their latencies, or what went wrong.
async fn reader(
    addr: SocketAddr,
    ready: Arc<AtomicUsize>,
    progress: Arc<AtomicU64>,
) -> Result<Vec<u64>, String> {
    let mut ws = connect_and_subscribe(addr, None, &["news"]).await;
    ready.fetch_add(1, Ordering::AcqRel);
    let mut latencies = Vec::with_capacity(usize::try_from(PUBLICATIONS).unwrap_or(0));
    let mut next = 0;
    while next < PUBLICATIONS {
        let messages = tokio::time::timeout(WAIT, ws.next_messages())
            .await
            .map_err(|_| format!("timed out after {next} publications"))?
            .map_err(|code| format!("closed ({code:?}) after {next} publications"))?;
        for message in messages {
            let received = now_micros();
            // Read without a JSON parser (`n` and `t` come first in the data): the readers must
            // not be the bottleneck.
            let n = number_after(&message, b"\"n\":");
            let sent = number_after(&message, b"\"t\":");
            if !message.starts_with(br#"{"push":{"channel":"news","pub""#) || n != Some(next) {
                return Err(format!(
                    "expected publication {next}, got {}",
                    String::from_utf8_lossy(&message[..message.len().min(200)])
                ));
            }
            latencies.push(received.saturating_sub(sent.unwrap_or(u64::MAX)));
            next += 1;
            progress.store(next, Ordering::Release);
        }
    }
    Ok(latencies)
}

/// The slow subscriber: subscribes to `news` and `chat`, then its thread stops polling the socket
/// until `resume`; then it reads what is left up to the close frame.
fn slow_subscriber(
    addr: SocketAddr,
    ready: Arc<AtomicUsize>,
    resume: std::sync::mpsc::Receiver<()>,
) -> std::thread::JoinHandle<(u64, Option<u16>)> {
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let mut ws = runtime.block_on(connect_and_subscribe(addr, Some(4096), &["news", "chat"]));
        ready.fetch_add(1, Ordering::AcqRel);
        resume.recv().expect("resume");
        runtime.block_on(async move {
            let mut read = 0;
            loop {
                match tokio::time::timeout(WAIT, ws.next_frame()).await {
                    Ok(Frame::Text(text)) => {
                        let news = text
                            .split(|b| *b == b'\n')
                            .filter(|l| l.starts_with(br#"{"push":{"channel":"news""#))
                            .count();
                        read += u64::try_from(news).unwrap_or(0);
                    }
                    Ok(Frame::Close(code)) => return (read, code),
                    Ok(Frame::Other) => {}
                    Err(_) => panic!("the slow subscriber was never closed ({read} read)"),
                }
            }
        })
    })
}

/// How many clients `chat` has, by the server API's `presence_stats` (a plain HTTP/1.1 request).
fn chat_subscribers(addr: SocketAddr) -> u64 {
    use std::io::{Read as _, Write as _};
    let body = r#"{"channel":"chat"}"#;
    let mut stream = std::net::TcpStream::connect(addr).expect("API connection");
    write!(
        stream,
        "POST /instant/api/presence_stats HTTP/1.1\r\nHost: {addr}\r\nX-API-Key: test-api-key\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("API request");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("API answer");
    number_after(answer.as_bytes(), b"\"num_clients\":")
        .unwrap_or_else(|| panic!("no num_clients in {answer:?}"))
}

fn run(with_slow: bool) -> Run {
    let mut options = EmbeddedOptions::default();
    // One address opens every connection here: lift the per-address and anonymous caps.
    options.max_connections = SUBSCRIBERS + 10;
    options.max_connections_per_ip = SUBSCRIBERS + 10;
    options.max_anonymous_connections = SUBSCRIBERS + 10;
    options.client_queue_max_bytes = QUEUE_BOUND;
    // The close frame waits for the slow subscriber to read again.
    options.close_timeout = WAIT;
    options.channel_defaults.history_size = 0;
    // presence_stats tells when the slow subscriber is gone from `chat`.
    options.channel_defaults.presence = true;
    let server = TestServer::start(test_config(), options);
    let addr = server.addr;
    let ready = Arc::new(AtomicUsize::new(0));

    let (resume, resumed) = std::sync::mpsc::channel::<()>();
    let slow = with_slow.then(|| slow_subscriber(addr, Arc::clone(&ready), resumed));
    let progress: Vec<Arc<AtomicU64>> = (0..SUBSCRIBERS)
        .map(|_| Arc::new(AtomicU64::new(0)))
        .collect();
    let readers: Vec<_> = (0..CLIENT_THREADS)
        .map(|t| {
            let ready = Arc::clone(&ready);
            let mine: Vec<_> = progress
                .iter()
                .skip(t)
                .step_by(CLIENT_THREADS)
                .map(Arc::clone)
                .collect();
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                runtime.block_on(futures_util::future::join_all(
                    mine.into_iter()
                        .map(|progress| reader(addr, Arc::clone(&ready), progress)),
                ))
            })
        })
        .collect();

    let expected = SUBSCRIBERS + usize::from(with_slow);
    let deadline = Instant::now() + WAIT;
    while ready.load(Ordering::Acquire) < expected {
        assert!(Instant::now() < deadline, "subscribers did not connect");
        std::thread::sleep(Duration::from_millis(20));
    }

    let filler = "x".repeat(FILLER);
    let bulk = "y".repeat(BULK);
    let mut cut_after = None;
    let start = Instant::now();
    for n in 0..PUBLICATIONS {
        let at = start + INTERVAL * u32::try_from(n).unwrap_or(u32::MAX);
        std::thread::sleep(at.saturating_duration_since(Instant::now()));
        let deadline = Instant::now() + WAIT;
        while progress
            .iter()
            .any(|p| p.load(Ordering::Acquire) + WINDOW < n)
        {
            assert!(
                Instant::now() < deadline,
                "readers stalled before publication {n}"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        // `n` and `t` sort before `z`: the readers find them at the start of the data.
        let event = Event::new("site", "news", "tick")
            .with_data(json!({"n": n, "t": now_micros(), "z": filler}));
        server.server.publish_detached(event);
        if with_slow {
            server
                .server
                .publish_detached(Event::new("site", "chat", "bulk").with_data(json!(bulk)));
            if cut_after.is_none() && chat_subscribers(addr) == 0 {
                cut_after = Some(n);
            }
        }
    }
    let elapsed = start.elapsed();

    let mut latencies = Vec::new();
    let mut failures = Vec::new();
    for thread in readers {
        for outcome in thread.join().expect("reader thread") {
            match outcome {
                Ok(mine) => latencies.extend(mine),
                Err(error) => failures.push(error),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {SUBSCRIBERS} readers missed publications, e.g. {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    assert_eq!(
        latencies.len(),
        SUBSCRIBERS * usize::try_from(PUBLICATIONS).unwrap_or(0)
    );
    let rss_kib = rss_kib();
    let slow = slow.map(|thread| {
        resume.send(()).expect("resume the slow subscriber");
        let (read, close) = thread.join().expect("slow subscriber thread");
        SlowEnd {
            read,
            close,
            cut_after,
        }
    });
    latencies.sort_unstable();
    Run {
        latencies,
        slow,
        elapsed,
        rss_kib,
    }
}

#[test]
fn a_subscriber_that_stops_reading_is_cut_off_with_3008_and_1000_others_get_everything() {
    let baseline = run(false);
    let with_slow = run(true);
    let slow = with_slow
        .slow
        .as_ref()
        .expect("the second run has a slow subscriber");
    eprintln!(
        "{SUBSCRIBERS} readers, {PUBLICATIONS} publications of ~{FILLER} B every {INTERVAL:?} \
         at most, queue bound {QUEUE_BOUND} B"
    );
    for (name, run) in [("without", &baseline), ("with", &with_slow)] {
        eprintln!(
            "| {name} a slow subscriber | {:.1} s | p50 {:.1} ms | p99 {:.1} ms | max {:.1} ms | \
             RSS {} MiB |",
            run.elapsed.as_secs_f64(),
            run.percentile(0.5),
            run.percentile(0.99),
            run.percentile(1.0),
            run.rss_kib / 1024
        );
    }
    eprintln!(
        "latency ratio (with / without): p50 {:.2}, p99 {:.2}; the slow subscriber was cut off \
         after publication {:?}, had read {} of {PUBLICATIONS}, close {:?}",
        with_slow.percentile(0.5) / baseline.percentile(0.5),
        with_slow.percentile(0.99) / baseline.percentile(0.99),
        slow.cut_after,
        slow.read,
        slow.close,
    );
    assert_eq!(slow.close, Some(3008), "the slow subscriber's close code");
    assert!(
        slow.cut_after.is_some(),
        "the slow subscriber was still connected when the stream ended"
    );
    assert!(
        slow.read < PUBLICATIONS,
        "the slow subscriber was cut off only after everything reached it"
    );
}
