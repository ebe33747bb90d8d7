//! Comparison 2: the embedded server (inside an actix-web app, in a process of its own) beside a
//! real Centrifugo v6, loaded by the same Rust WebSocket client speaking Centrifugo's JSON
//! protocol: burst fan-out, publish-to-receive latency, and memory per idle subscribed connection.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::{SinkExt as _, StreamExt as _};
use http_body_util::Full;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use instant_bench::{API_KEY, CHANNEL, WAIT};
use instant_testkit::{Centrifugo, CentrifugoOptions};
use serde_json::json;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

use crate::Plan;
use crate::report::{Measure, Ratio, Section, Unit};
use crate::serve::{ServerProcess, pid_of_command_with, status_bytes};

/// The two servers, in the order they run within each repetition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Embedded,
    Centrifugo,
}

impl Target {
    const ALL: [Self; 2] = [Self::Embedded, Self::Centrifugo];

    fn label(self) -> &'static str {
        match self {
            Self::Embedded => "embedded server (instant)",
            Self::Centrifugo => "Centrifugo v6",
        }
    }
}

/// One running server of either kind, with what a client needs to reach it.
enum Running {
    Embedded(ServerProcess),
    Centrifugo(Box<Centrifugo>, u32),
}

impl Running {
    /// Starts `target` with the same channel options on both: history of 100 for five minutes,
    /// recovery on, presence and join/leave off, anonymous connections and subscriptions allowed.
    fn start(target: Target) -> Self {
        match target {
            Target::Embedded => Self::Embedded(ServerProcess::start("--serve-embedded")),
            Target::Centrifugo => {
                let server = Centrifugo::start(
                    CentrifugoOptions::default()
                        .presence(false)
                        .join_leave(false)
                        .history(100, Duration::from_secs(300))
                        .force_recovery(true)
                        .allow_anonymous_connect_without_token(true)
                        .extra(json!({"log": {"level": "error"}})),
                );
                let pid = pid_of_command_with(&server.config_path().to_string_lossy());
                Self::Centrifugo(Box::new(server), pid)
            }
        }
    }

    fn pid(&self) -> u32 {
        match self {
            Self::Embedded(p) => p.pid(),
            Self::Centrifugo(_, pid) => *pid,
        }
    }

    fn ws_url(&self) -> String {
        match self {
            Self::Embedded(p) => format!("ws://{}{}", p.addr, instant_actix::paths::WEBSOCKET_PATH),
            Self::Centrifugo(c, _) => c.ws_url(),
        }
    }

    /// The server API's base: `POST {base}/{method}`.
    fn api(&self) -> String {
        match self {
            Self::Embedded(p) => format!(
                "http://{}{}",
                p.addr,
                instant_actix::paths::EMBEDDED_API_PATH
            ),
            Self::Centrifugo(c, _) => format!("{}/api", c.url()),
        }
    }

    fn api_key(&self) -> String {
        match self {
            Self::Embedded(_) => API_KEY.to_owned(),
            Self::Centrifugo(c, _) => c.api_key().expose_secret().to_owned(),
        }
    }

    fn rss(&self) -> u64 {
        status_bytes(self.pid(), "VmRSS")
    }
}

/// What the clients of one crowd share: the publications counted, the latencies recorded.
struct Shared {
    received: AtomicU64,
    /// Text frames that carried at least one publication.
    frames: AtomicU64,
    target: AtomicU64,
    reached: tokio::sync::Notify,
    recording: AtomicBool,
    /// Publish-to-receive latencies in microseconds, while `recording`.
    latencies: Mutex<Vec<u32>>,
    /// The clock of the timestamps carried in the publications' `t`.
    epoch: Instant,
}

impl Shared {
    fn received_one(&self) {
        let now = self.received.fetch_add(1, Ordering::AcqRel) + 1;
        if now == self.target.load(Ordering::Acquire) {
            self.reached.notify_one();
        }
    }
}

/// `n` WebSocket clients, connected anonymously and subscribed to [`CHANNEL`]; aborted on drop.
struct Crowd {
    tasks: Vec<JoinHandle<()>>,
    shared: Arc<Shared>,
    expected: u64,
}

impl Crowd {
    /// Connects `n` clients to `url`, 500 at a time (within the listen backlogs), and returns
    /// once every one is subscribed.
    async fn connect(url: &str, n: usize, epoch: Instant) -> Self {
        let shared = Arc::new(Shared {
            received: AtomicU64::new(0),
            frames: AtomicU64::new(0),
            target: AtomicU64::new(u64::MAX),
            reached: tokio::sync::Notify::new(),
            recording: AtomicBool::new(false),
            latencies: Mutex::new(Vec::new()),
            epoch,
        });
        let mut tasks = Vec::with_capacity(n);
        let mut open = 0;
        while open < n {
            let wave = (n - open).min(500);
            let (ready_tx, mut ready) = tokio::sync::mpsc::channel(wave);
            for _ in 0..wave {
                let url = url.to_owned();
                let shared = Arc::clone(&shared);
                let ready = ready_tx.clone();
                tasks.push(tokio::spawn(client(url, shared, ready)));
            }
            drop(ready_tx);
            for _ in 0..wave {
                tokio::time::timeout(WAIT, ready.recv())
                    .await
                    .expect("the clients subscribe in time")
                    .expect("a client subscribed");
            }
            open += wave;
        }
        Self {
            tasks,
            shared,
            expected: 0,
        }
    }

    /// Announces `publications` more publications to every client; call it before publishing
    /// them, then [`Crowd::wait`] with the target it returns.
    fn expect(&mut self, publications: u64) -> u64 {
        self.expected += publications * self.tasks.len() as u64;
        self.shared.target.store(self.expected, Ordering::Release);
        self.expected
    }

    /// Waits until the clients received `target` publications in all; panics after [`WAIT`].
    async fn wait(&self, target: u64) {
        let deadline = Instant::now() + WAIT;
        while self.shared.received.load(Ordering::Acquire) < target {
            assert!(
                Instant::now() < deadline,
                "only {} of {target} publications were delivered",
                self.shared.received.load(Ordering::Acquire)
            );
            let _ = tokio::time::timeout(Duration::from_millis(5), self.shared.reached.notified())
                .await;
        }
    }
}

impl Drop for Crowd {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// One client: connects, subscribes, says so on `ready`, then reads until the connection closes,
/// answering the server's pings and counting (and timing) publications.
async fn client(url: String, shared: Arc<Shared>, ready: tokio::sync::mpsc::Sender<()>) {
    let (mut ws, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .expect("the WebSocket upgrade succeeds");
    for (id, command) in [
        (
            1,
            json!({"id": 1, "connect": {"token": "", "name": "bench"}}),
        ),
        (2, json!({"id": 2, "subscribe": {"channel": CHANNEL}})),
    ] {
        ws.send(Message::text(command.to_string()))
            .await
            .expect("send a command");
        let wanted = format!("\"id\":{id},");
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(text))) => {
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
    let _ = ready.send(()).await;
    drop(ready);
    let mut local: Vec<u32> = Vec::new();
    while let Some(Ok(message)) = ws.next().await {
        let Message::Text(text) = message else {
            continue;
        };
        if text.as_str().contains("\"pub\":{") {
            shared.frames.fetch_add(1, Ordering::Relaxed);
        }
        for line in text.as_str().split('\n') {
            if line == "{}" {
                // The server's ping: answer with a pong, as centrifuge-js does.
                if ws.send(Message::text("{}")).await.is_err() {
                    return;
                }
            } else if line.starts_with("{\"push\"") && line.contains("\"pub\":{") {
                if shared.recording.load(Ordering::Relaxed)
                    && let Some(sent) = timestamp(line)
                {
                    let now = shared.epoch.elapsed().as_micros() as u64;
                    local.push(u32::try_from(now.saturating_sub(sent)).unwrap_or(u32::MAX));
                    if local.len() >= 64 {
                        shared
                            .latencies
                            .lock()
                            .expect("not poisoned")
                            .append(&mut local);
                    }
                }
                shared.received_one();
            }
        }
        if !local.is_empty() {
            shared
                .latencies
                .lock()
                .expect("not poisoned")
                .append(&mut local);
        }
    }
}

/// The `"t":<micros>` a publication carries.
fn timestamp(line: &str) -> Option<u64> {
    let at = line.find("\"t\":")? + 4;
    let digits: &str = &line[at..];
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end].parse().ok()
}

/// The data of one publication: about 300 bytes of JSON, like an instant event, with the time it
/// was sent in `t` (microseconds on the load generator's clock).
fn data(n: u64, t: u64) -> serde_json::Value {
    json!({
        "t": t,
        "channel": CHANNEL,
        "site": "bench",
        "message": format!("Order {n} was shipped"),
        "event_class": "object edited",
        "data": {"id": n, "model": "shop.Order", "status": "shipped",
                 "url": format!("/orders/{n}/"), "total": "149.90"},
    })
}

/// A call of the server API `method` with `body`.
fn api_request(server: &Running, method: &str, body: Bytes) -> hyper::Request<Full<Bytes>> {
    hyper::Request::post(format!("{}/{method}", server.api()))
        .header("content-type", "application/json")
        .header("x-api-key", server.api_key())
        .body(Full::new(body))
        .expect("a request")
}

/// Waits until the server's API answers an `info` call.
async fn api_ready(http: &HyperClient<HttpConnector, Full<Bytes>>, server: &Running) {
    for _ in 0..50 {
        let request = api_request(server, "info", Bytes::from_static(b"{}"));
        if let Ok(response) = http.request(request).await
            && response.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{} does not answer `info`", server.api());
}

/// Posts one server API call; panics on anything but a clean answer.
///
/// Centrifugo answers a `publish` or `batch` call only once it has queued the publications to
/// every subscriber, and its HTTP server (v6.9.1, not configurable) gives a call 10 s to write its
/// answer: a call that takes longer loses its answer and its connection, which hyper reports as
/// an incomplete message.
///
/// The call is built at once and the returned future owns what it needs, so it can be spawned.
fn post(
    http: &HyperClient<HttpConnector, Full<Bytes>>,
    server: &Running,
    method: &'static str,
    body: Bytes,
) -> impl Future<Output = ()> + Send + 'static {
    let response = http.request(api_request(server, method, body));
    let (api, pid) = (server.api(), server.pid());
    async move {
        let response = response.await.unwrap_or_else(|e| {
            panic!(
                "{api} does not answer {method} (process alive: {}): {e:?}",
                std::path::Path::new(&format!("/proc/{pid}")).exists()
            )
        });
        crate::expect_api_success(response, method).await;
    }
}

/// One crowd of subscribers: how many, how its burst is sent, and how many publications per
/// second its latency phase sends.
#[derive(Clone, Copy)]
struct Crowdsize {
    subscribers: usize,
    /// Publications in the burst.
    burst: u64,
    /// Publications per `batch` call of the burst; the calls go one after another.
    per_call: u64,
    /// Publications per second in the latency phase.
    rate: u64,
}

impl Crowdsize {
    /// The size column of the burst tables.
    fn burst_label(self) -> String {
        format!(
            "{} publications × {} subscribers",
            self.burst, self.subscribers
        )
    }

    /// How the burst is sent, in words.
    fn burst_calls(self) -> String {
        if self.per_call >= self.burst {
            format!(
                "{} publications in one `batch` call to {} subscribers",
                self.burst, self.subscribers
            )
        } else {
            format!(
                "{} publications in `batch` calls of {}, one after another, to {} subscribers",
                self.burst, self.per_call, self.subscribers
            )
        }
    }

    /// The size column of the latency tables.
    fn latency_label(self, secs: u64) -> String {
        format!(
            "{}/s for {secs} s to {} subscribers",
            self.rate, self.subscribers
        )
    }
}

/// The sizes of one run.
struct Sizes {
    crowds: Vec<Crowdsize>,
    latency_secs: u64,
}

/// Publications sent to warm a fresh server up before the burst, unmeasured.
const WARM_UP: u64 = 2;

/// One repetition's figures for one server and one crowd.
struct CrowdFigures {
    /// Resident memory per idle subscribed connection, in bytes.
    per_connection: f64,
    burst_secs: f64,
    /// Publications per WebSocket frame during the burst.
    per_frame: f64,
    p50: f64,
    p99: f64,
}

/// One repetition's figures for one server.
struct Figures {
    /// In the order of [`Sizes::crowds`].
    crowds: Vec<CrowdFigures>,
}

/// Memory per idle subscribed connection, burst fan-out and latency: a fresh server,
/// `size.subscribers` clients. The memory is read while the crowd is idle and before any
/// publication, so one crowd serves all three measures.
async fn measure_crowd(
    target: Target,
    sizes: &Sizes,
    size: Crowdsize,
    epoch: Instant,
) -> CrowdFigures {
    let server = Running::start(target);
    // A client of its own per server: no kept-alive connection outlives the server it went to.
    let http = &HyperClient::builder(TokioExecutor::new()).build_http();
    api_ready(http, &server).await;
    // One client first, so that the channel and the lazily built state exist at baseline.
    let first = Crowd::connect(&server.ws_url(), 1, epoch).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let baseline = server.rss();
    let mut crowd = Crowd::connect(&server.ws_url(), size.subscribers, epoch).await;
    // Let the server finish each session's set-up, and a garbage collector run.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let per_connection = server.rss().saturating_sub(baseline) as f64 / size.subscribers as f64;
    drop(first);

    let batch = |k: u64| {
        Bytes::from(
            json!({
                "commands": (0..k)
                    .map(|n| json!({"publish": {"channel": CHANNEL, "data": data(n, 0)}}))
                    .collect::<Vec<_>>(),
                "parallel": false,
            })
            .to_string(),
        )
    };
    // Warm-up: a small batch, unmeasured.
    let goal = crowd.expect(WARM_UP);
    post(http, &server, "batch", batch(WARM_UP)).await;
    crowd.wait(goal).await;
    let bodies = (0..size.burst.div_ceil(size.per_call.max(1)))
        .map(|call| batch(size.per_call.min(size.burst - call * size.per_call)))
        .collect::<Vec<_>>();
    let goal = crowd.expect(size.burst);
    let frames_before = crowd.shared.frames.load(Ordering::Acquire);
    let start = Instant::now();
    for body in bodies {
        post(http, &server, "batch", body).await;
    }
    crowd.wait(goal).await;
    let burst_secs = start.elapsed().as_secs_f64();
    let burst_frames = crowd.shared.frames.load(Ordering::Acquire) - frames_before;
    let per_frame = (size.burst * size.subscribers as u64) as f64 / burst_frames.max(1) as f64;

    // Latency: `size.rate` publications per second, one API call each. Each call goes out on its
    // tick without waiting for the previous answer (a server answers once it has queued the
    // publication to every subscriber, which with 10,000 of them takes longer than a tick), so
    // the rate holds and a server that falls behind shows it in the latencies.
    crowd.shared.recording.store(true, Ordering::Release);
    let count = sizes.latency_secs * size.rate;
    let goal = crowd.expect(count);
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / size.rate.max(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut calls = Vec::new();
    for n in 0..count {
        tick.tick().await;
        let t = epoch.elapsed().as_micros() as u64;
        let body = Bytes::from(json!({"channel": CHANNEL, "data": data(n, t)}).to_string());
        calls.push(tokio::spawn(post(http, &server, "publish", body)));
    }
    for call in calls {
        if let Err(e) = call.await {
            std::panic::resume_unwind(e.into_panic());
        }
    }
    crowd.wait(goal).await;
    crowd.shared.recording.store(false, Ordering::Release);
    let mut latencies = std::mem::take(&mut *crowd.shared.latencies.lock().expect("not poisoned"));
    latencies.sort_unstable();
    let quantile = |q: f64| {
        let i = ((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1));
        f64::from(latencies.get(i).copied().unwrap_or(0)) / 1e6
    };
    let (p50, p99) = (quantile(0.50), quantile(0.99));
    drop(crowd);
    drop(server);
    CrowdFigures {
        per_connection,
        burst_secs,
        per_frame,
        p50,
        p99,
    }
}

/// The three sections of comparison 2: burst fan-out, latency, memory.
pub(crate) fn run(plan: &Plan) -> Vec<Section> {
    let sizes = if plan.smoke {
        Sizes {
            crowds: vec![Crowdsize {
                subscribers: 50,
                burst: 10,
                per_call: 10,
                rate: 100,
            }],
            latency_secs: 1,
        }
    } else {
        Sizes {
            // Both crowds get the same 100,000 deliveries in the burst. With 10,000 subscribers
            // the burst goes in calls of 5 publications, so that Centrifugo answers each call
            // within its HTTP server's 10 s, and the latency phase sends 2 publications per
            // second (20,000 deliveries per second), which Centrifugo keeps up with on 2 shared
            // cores; at 10 per second it fell behind (see `findings::SERVERS_BURST`).
            crowds: vec![
                Crowdsize {
                    subscribers: 1_000,
                    burst: 100,
                    per_call: 100,
                    rate: 100,
                },
                Crowdsize {
                    subscribers: 10_000,
                    burst: 10,
                    per_call: 5,
                    rate: 2,
                },
            ],
            latency_secs: 4,
        }
    };
    let crowd_list = sizes
        .crowds
        .iter()
        .map(|c| c.subscribers.to_string())
        .collect::<Vec<_>>()
        .join(" and ");
    println!(
        "compare: embedded server vs Centrifugo, {crowd_list} subscribers, bursts of {}, {} s of \
         latency, {} repetitions",
        sizes
            .crowds
            .iter()
            .map(|c| c.burst.to_string())
            .collect::<Vec<_>>()
            .join(" and "),
        sizes.latency_secs,
        plan.reps
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let epoch = Instant::now();
    let mut figures: Vec<Vec<Figures>> = vec![Vec::new(), Vec::new()];
    for rep in 0..plan.reps {
        // Each crowd on both servers in turn.
        let mut crowds: [Vec<CrowdFigures>; 2] = [Vec::new(), Vec::new()];
        for &size in &sizes.crowds {
            for (i, target) in Target::ALL.into_iter().enumerate() {
                let started = Instant::now();
                let c = runtime.block_on(measure_crowd(target, &sizes, size, epoch));
                println!(
                    "compare: servers rep={} {}, {} subscribers: {} per connection, burst {} \
                     ({:.1} publications per frame), p50 {}, p99 {} ({} s in all)",
                    rep + 1,
                    target.label(),
                    size.subscribers,
                    crate::report::bytes(c.per_connection),
                    crate::report::seconds(c.burst_secs),
                    c.per_frame,
                    crate::report::seconds(c.p50),
                    crate::report::seconds(c.p99),
                    started.elapsed().as_secs(),
                );
                crowds[i].push(c);
            }
        }
        for (i, crowds) in crowds.into_iter().enumerate() {
            figures[i].push(Figures { crowds });
        }
    }
    drop(runtime);

    let series = |t: Target, size: String, work: f64, get: &dyn Fn(&Figures) -> f64| Measure {
        label: t.label().to_owned(),
        size,
        samples: figures[t as usize].iter().map(get).collect(),
        work,
    };
    use Target::{Centrifugo as C, Embedded as E};
    let mut burst = Vec::new();
    let mut burst_ratios = Vec::new();
    let mut latency_measures: Vec<Measure> = Vec::new();
    let mut latency_ratios = Vec::new();
    for (i, size) in sizes.crowds.iter().enumerate() {
        let deliveries = (size.burst * size.subscribers as u64) as f64;
        let burst_size = size.burst_label();
        let [e, c] = [E, C].map(|t| {
            series(t, burst_size.clone(), deliveries, &|f| {
                f.crowds[i].burst_secs
            })
        });
        burst_ratios.push(Ratio::of(
            "embedded / Centrifugo (deliveries per second)",
            &c,
            &e,
            Some(("≥ 1.0×", |r| r >= 1.0)),
        ));
        burst_ratios.push(Ratio::of(
            "embedded / Centrifugo (deliveries per second), stretch",
            &c,
            &e,
            Some(("≥ 1.2×", |r| r >= 1.2)),
        ));
        burst.extend([e, c]);

        let latency_size = size.latency_label(sizes.latency_secs);
        let quantile = |t: Target, q: &str, get: fn(&CrowdFigures) -> f64| {
            let mut m = series(t, latency_size.clone(), 0.0, &|f| get(&f.crowds[i]));
            m.label = format!("{}, {q}", m.label);
            m
        };
        let p50 = [E, C].map(|t| quantile(t, "p50", |c| c.p50));
        let p99 = [E, C].map(|t| quantile(t, "p99", |c| c.p99));
        latency_ratios.push(Ratio::of(
            "embedded / Centrifugo, p50 (time)",
            &p50[0],
            &p50[1],
            None,
        ));
        latency_ratios.push(Ratio::of(
            "embedded / Centrifugo, p99 (time)",
            &p99[0],
            &p99[1],
            Some(("≤ 1.0×", |r| r <= 1.0)),
        ));
        latency_measures.extend(p50);
        latency_measures.extend(p99);
    }
    let mut memory_measures = Vec::new();
    let mut memory_ratios = Vec::new();
    for (i, crowd) in sizes.crowds.iter().enumerate() {
        let size = format!("{} connections", crowd.subscribers);
        let [e, c] = [E, C].map(|t| series(t, size.clone(), 0.0, &|f| f.crowds[i].per_connection));
        memory_ratios.push(Ratio::of(
            "embedded / Centrifugo (bytes per connection)",
            &e,
            &c,
            Some(("≤ 1.0×", |r| r <= 1.0)),
        ));
        memory_measures.extend([e, c]);
    }

    let centrifugo_version = crate::version_of(
        &instant_testkit::centrifugo_binary().to_string_lossy(),
        &["version"],
    );
    let setup = vec![
        format!(
            "Servers: instant's embedded server in an actix-web app (`instant::Realtime::builder()`, \
             embedded mode, actix's default of one worker per core), in a process of its own; \
             {centrifugo_version} (memory engine, `GOMAXPROCS` left to Go: one per core)"
        ),
        "Both: the channel `news` with history of 100 for five minutes, recovery on, presence and \
         join/leave off; anonymous clients connect without a token and subscribe (the embedded \
         server's caps meant for production, 100 connections per address and 5,000 anonymous \
         ones, are lifted: every client here is anonymous and comes from 127.0.0.1)"
            .to_owned(),
        format!(
            "Load generator: this suite's Rust client (tokio-tungstenite {}, 2 runtime threads), \
             JSON protocol (`connect`, `subscribe`, pongs to the server's pings); publications go \
             through each server's HTTP API (hyper, keep-alive)",
            crate::locked_version(&plan.root, "tokio-tungstenite")
        ),
    ];
    let per_frame = |t: Target, i: usize| {
        crate::report::median(
            &figures[t as usize]
                .iter()
                .map(|f| f.crowds[i].per_frame)
                .collect::<Vec<_>>(),
        )
    };
    let mut burst_setup = setup;
    for (i, size) in sizes.crowds.iter().enumerate() {
        burst_setup.push(format!(
            "Publications per WebSocket frame during the burst to {} subscribers (median over \
             the runs): embedded server {:.1}, Centrifugo {:.1} (both may put several \
             newline-separated replies in one frame; fewer frames cost the clients, and the \
             server, less)",
            size.subscribers,
            per_frame(E, i),
            per_frame(C, i)
        ));
    }
    let intro = "The same load against both servers, each in a process of its own on loopback, \
                 the two in turn within every repetition (each repetition starts fresh servers). \
                 The load generator shares the machine's 2 cores with the server under test.";
    vec![
        Section {
            title: "2a. Embedded server and Centrifugo v6: burst fan-out".to_owned(),
            chart: "servers-burst.svg".to_owned(),
            intro: vec![
                intro.to_owned(),
                format!(
                    "Publications of about 300 bytes of JSON through the `batch` API call to a \
                     channel with {crowd_list} subscribers (a fresh server for each crowd): {}. \
                     The figure is the time from sending the first call until every subscriber \
                     has received every publication, and the rate is deliveries (publications × \
                     subscribers) per second.",
                    sizes
                        .crowds
                        .iter()
                        .map(|c| c.burst_calls())
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
            ],
            setup: burst_setup,
            unit: Unit::Seconds,
            measures: burst,
            ratios: burst_ratios,
            notes: crate::findings::SERVERS_BURST
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
        },
        Section {
            title: "2b. Embedded server and Centrifugo v6: publish-to-receive latency".to_owned(),
            chart: "servers-latency.svg".to_owned(),
            intro: vec![format!(
                "Publications at a fixed rate, one `publish` API call each, sent on time \
                 whether or not the previous call has been answered, for {} s: {}. Each \
                 publication carries the time it was sent, and every delivery's latency (receipt minus send, on the load generator's \
                 clock) is recorded. The figures are the median (p50) and 99th percentile (p99) \
                 of all deliveries of one run; the table gives the median and spread of those \
                 over the runs.",
                sizes.latency_secs,
                sizes
                    .crowds
                    .iter()
                    .map(|c| format!("{} per second to {} subscribers", c.rate, c.subscribers))
                    .collect::<Vec<_>>()
                    .join(", then ")
            )],
            setup: Vec::new(),
            unit: Unit::Seconds,
            measures: latency_measures,
            ratios: latency_ratios,
            notes: crate::findings::SERVERS_LATENCY
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
        },
        Section {
            title: "2c. Embedded server and Centrifugo v6: memory per idle connection".to_owned(),
            chart: "servers-memory.svg".to_owned(),
            intro: vec![
                "Read on the fresh server of each crowd of 2a and 2b, before any publication: one \
                 client connects and subscribes, then the baseline is the server process's \
                 resident memory (`VmRSS` in `/proc/<pid>/status`); N more clients connect and \
                 subscribe to the same channel and stay idle; two seconds later the resident \
                 memory is read again. The figure is the growth divided by N: what one idle \
                 subscribed connection costs the server process, kernel socket buffers excluded \
                 (they are not part of a process's RSS)."
                    .to_owned(),
            ],
            setup: Vec::new(),
            unit: Unit::Bytes,
            measures: memory_measures,
            ratios: memory_ratios,
            notes: crate::findings::SERVERS_MEMORY
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
        },
    ]
}
