//! The memory check: bytes the embedded server allocates per connected subscriber and per
//! publication fanned out to 1,000 subscribers, counted by a global allocator wrapper.
//!
//! The subscribers run in a child process (this binary, `memory subscribers <url> <n>`) so that
//! only the server's allocations are counted. Targets, asserted (exit code 1 when one is missed):
//! - one publish to 1,000 subscribers makes **fewer than 1.5 allocations and fewer than 2 × the
//!   payload's bytes per subscriber**: the hub serializes the publication once and queues the same
//!   bytes for every subscriber; a second serialization per subscriber would at least double both.
//!   The one allocation per subscriber that remains is the WebSocket layer's: actix-ws encodes each
//!   outgoing message into a fresh buffer (frame header + payload) before the socket write;
//! - a connected, subscribed client keeps **< 64 KiB** allocated on the server;
//! - closed connections leave nothing behind: a second crowd of 1,000 clients that connects and
//!   leaves grows the server's allocations by **< 32 bytes per client** (the first crowd may leave
//!   the capacity of hash tables and slabs, which later clients reuse).
//!
//! Run with `cargo run -p instant-bench --release --bin memory`.

use std::alloc::System;
use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitCode, Stdio};
use std::time::Duration;

use futures_util::FutureExt as _;
use instant_actix::{EmbeddedOptions, EmbeddedServer};
use instant_bench::{ServedEmbedded, Subscribers, sample_event};
use instant_core::Backend as _;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const SUBSCRIBERS: usize = 1_000;
const PUBLICATIONS: u64 = 50;
const MAX_BYTES_PER_CONNECTION: i64 = 64 * 1024;
/// What a connection may leave allocated after it closed, once the server's tables have grown.
const MAX_BYTES_LEAKED_PER_CONNECTION: i64 = 32;
/// Allocations per subscriber and per publish, at most (one is the WebSocket frame's buffer).
const MAX_ALLOCATIONS_PER_SUBSCRIBER: f64 = 1.5;
/// Bytes allocated per subscriber and per publish, at most, in payloads.
const MAX_PAYLOADS_PER_SUBSCRIBER: f64 = 2.0;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("subscribers") {
        let url = args
            .get(2)
            .expect("usage: memory subscribers <ws url> <count>");
        let count = args
            .get(3)
            .and_then(|n| n.parse().ok())
            .expect("usage: memory subscribers <ws url> <count>");
        run_subscribers(url, count);
        return ExitCode::SUCCESS;
    }
    check()
}

/// The child: connects the subscribers, says `ready`, then for each number `k` read from stdin
/// waits until every subscriber received `k` more publications and says `ok`.
fn run_subscribers(url: &str, count: usize) {
    let mut subscribers = Subscribers::connect(url, count);
    let mut out = std::io::stdout().lock();
    writeln!(out, "ready")
        .and_then(|()| out.flush())
        .expect("stdout");
    for line in std::io::stdin().lock().lines() {
        let Ok(k) = line.expect("stdin").trim().parse::<u64>() else {
            break;
        };
        subscribers.expect(k);
        subscribers.wait();
        writeln!(out, "ok")
            .and_then(|()| out.flush())
            .expect("stdout");
    }
}

/// Net bytes still allocated since `region` started.
fn retained(region: &Region<'_, System>) -> i64 {
    let change = region.change();
    i64::try_from(change.bytes_allocated).unwrap_or(i64::MAX)
        - i64::try_from(change.bytes_deallocated).unwrap_or(i64::MAX)
}

/// The subscribers' process, connected and subscribed: its stdin and its stdout.
struct SubscriberProcess {
    child: Child,
    commands: ChildStdin,
    answers: BufReader<ChildStdout>,
}

impl SubscriberProcess {
    fn start(url: &str, line: &mut String) -> Self {
        let exe = std::env::current_exe().expect("this binary's path");
        let mut child = Command::new(exe)
            .args(["subscribers", url, &SUBSCRIBERS.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the subscribers' process");
        let commands = child.stdin.take().expect("stdin");
        let mut answers = BufReader::with_capacity(256, child.stdout.take().expect("stdout"));
        line.clear();
        answers.read_line(line).expect("the subscribers start");
        assert_eq!(line.trim(), "ready", "the subscribers start");
        Self {
            child,
            commands,
            answers,
        }
    }

    /// Ends the process, and waits until the server has closed every session.
    fn stop(self, server: &EmbeddedServer) {
        let Self {
            mut child,
            commands,
            answers,
        } = self;
        drop(commands);
        drop(answers);
        let _ = child.wait();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while server.open_connections() > 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn check() -> ExitCode {
    let served = ServedEmbedded::start(EmbeddedOptions::default(), 2);
    let server = served.server.clone();
    // Warm the server's lazily built state with one connection of its own first.
    drop(Subscribers::connect(&served.ws_url(), 1));
    std::thread::sleep(Duration::from_millis(300));

    let mut line = String::with_capacity(64);
    let region = Region::new(GLOBAL);
    let mut process = SubscriberProcess::start(&served.ws_url(), &mut line);
    // Let the server finish each session's set-up.
    std::thread::sleep(Duration::from_millis(500));
    let per_connection = retained(&region) / SUBSCRIBERS as i64;

    // The first publications fill the channel's history and the connections' write buffers.
    let mut sample_payload = 0;
    let mut fan_out_bytes = Vec::new();
    let mut fan_out_allocations = Vec::new();
    for n in 0..PUBLICATIONS + 10 {
        let event = sample_event(n);
        sample_payload = serde_json::to_vec(&event).expect("serializable").len();
        line.clear();
        let region = Region::new(GLOBAL);
        server
            .publish(event)
            .now_or_never()
            .expect("the embedded server publishes synchronously")
            .expect("published");
        writeln!(process.commands, "1")
            .and_then(|()| process.commands.flush())
            .expect("write to the subscribers");
        process
            .answers
            .read_line(&mut line)
            .expect("the subscribers answer");
        assert_eq!(line.trim(), "ok");
        let change = region.change();
        if n >= 10 {
            fan_out_bytes.push(change.bytes_allocated);
            fan_out_allocations.push(change.allocations);
        }
    }
    // Once the sessions are closed, what stays is the channel's history and the capacity that
    // hash tables and slabs keep for the next clients.
    process.stop(&server);
    let left_per_connection = retained(&region) / SUBSCRIBERS as i64;
    // A second crowd reuses that capacity: what it leaves behind would be a leak.
    let region = Region::new(GLOBAL);
    SubscriberProcess::start(&served.ws_url(), &mut line).stop(&server);
    let leaked_per_connection = retained(&region) / SUBSCRIBERS as i64;

    fan_out_bytes.sort_unstable();
    fan_out_allocations.sort_unstable();
    let median_bytes = fan_out_bytes[fan_out_bytes.len() / 2];
    let median_allocations = fan_out_allocations[fan_out_allocations.len() / 2];
    let subscribers = SUBSCRIBERS as f64;
    let bytes_each = median_bytes as f64 / subscribers;
    let allocations_each = median_allocations as f64 / subscribers;
    let payloads_each = bytes_each / sample_payload as f64;

    println!("embedded server, {SUBSCRIBERS} subscribers on 127.0.0.1");
    println!(
        "  per connected, subscribed client: {per_connection} bytes retained (target < {MAX_BYTES_PER_CONNECTION})"
    );
    println!(
        "  left allocated per client after all {SUBSCRIBERS} disconnected: {left_per_connection} bytes"
    );
    println!(
        "  left per client by a second crowd of {SUBSCRIBERS} that connected and left: \
         {leaked_per_connection} bytes (target < {MAX_BYTES_LEAKED_PER_CONNECTION})"
    );
    println!(
        "  per publish to {SUBSCRIBERS} subscribers (median of {PUBLICATIONS}): {median_bytes} bytes in \
         {median_allocations} allocations; payload {sample_payload} bytes"
    );
    println!(
        "  per subscriber and publish: {bytes_each:.1} bytes ({payloads_each:.2} payloads, target < \
         {MAX_PAYLOADS_PER_SUBSCRIBER}) in {allocations_each:.3} allocations (target < \
         {MAX_ALLOCATIONS_PER_SUBSCRIBER})"
    );

    let mut ok = true;
    if per_connection >= MAX_BYTES_PER_CONNECTION {
        eprintln!("FAILED: a subscriber keeps {per_connection} bytes allocated");
        ok = false;
    }
    if leaked_per_connection >= MAX_BYTES_LEAKED_PER_CONNECTION {
        eprintln!("FAILED: closed connections leave {leaked_per_connection} bytes each allocated");
        ok = false;
    }
    if payloads_each >= MAX_PAYLOADS_PER_SUBSCRIBER
        || allocations_each >= MAX_ALLOCATIONS_PER_SUBSCRIBER
    {
        eprintln!(
            "FAILED: one fan-out allocates {median_bytes} bytes in {median_allocations} allocations"
        );
        ok = false;
    }
    if ok {
        println!("memory targets met");
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
