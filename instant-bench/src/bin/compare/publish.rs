//! Comparison 1: publishing N events to one real Centrifugo v6, with instant's client, a plain
//! keep-alive HTTP client (the floor), Centrifugo's Python SDK and django-instant.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt as _;
use http_body_util::Full;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use instant_bench::{CHANNEL, Subscribers, event_of, sample_event, sample_parts};
use instant_core::{Backend as _, CentrifugoClient, Event};
use instant_testkit::{Centrifugo, CentrifugoOptions};
use serde_json::{Value, json};

use crate::Plan;
use crate::report::{Measure, Ratio, Section, Unit};

/// Centrifugo's queue for the subscriber's connection (`client.queue_max_size`): 64 MiB.
const SUBSCRIBER_QUEUE_BYTES: u64 = 64 << 20;

/// The scenarios; [`Scenario::run_order`] gives the order they run in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scenario {
    Awaited,
    InFlight64,
    AllInFlight,
    Batch,
    Detached,
    FloorOneByOne,
    FloorInFlight64,
    FloorBatch,
    FloorBatchUnkeyed,
    FloorBatchDelivered,
    Cent5,
    DjangoInstant,
}

impl Scenario {
    const ALL: [Self; 12] = [
        Self::Awaited,
        Self::InFlight64,
        Self::AllInFlight,
        Self::Batch,
        Self::Detached,
        Self::FloorOneByOne,
        Self::FloorInFlight64,
        Self::FloorBatch,
        Self::FloorBatchUnkeyed,
        Self::FloorBatchDelivered,
        Self::Cent5,
        Self::DjangoInstant,
    ];

    /// The scenarios whose times a target compares run next to each other, in turns: each
    /// group's order is reversed every other repetition, so that neither side of a ratio always
    /// runs first (after the previous group's load) and the pair shares the machine's state.
    fn run_order(rep: usize) -> Vec<Self> {
        const GROUPS: [&[Scenario]; 5] = [
            &[Scenario::Awaited, Scenario::FloorOneByOne],
            &[
                Scenario::InFlight64,
                Scenario::FloorInFlight64,
                Scenario::AllInFlight,
            ],
            &[
                Scenario::Batch,
                Scenario::FloorBatch,
                Scenario::FloorBatchUnkeyed,
                Scenario::FloorBatchDelivered,
                Scenario::Detached,
            ],
            &[Scenario::Cent5],
            &[Scenario::DjangoInstant],
        ];
        GROUPS
            .iter()
            .flat_map(|group| {
                let mut group = group.to_vec();
                if rep % 2 == 1 {
                    group.reverse();
                }
                group
            })
            .collect()
    }

    fn label(self) -> &'static str {
        match self {
            Self::Awaited => "instant, awaited one by one",
            Self::InFlight64 => "instant, 64 in flight",
            Self::AllInFlight => "instant, all in flight at once",
            Self::Batch => "instant, one batch",
            Self::Detached => "instant, fire-and-forget until delivered",
            Self::FloorOneByOne => "floor: keep-alive hyper loop, one by one",
            Self::FloorInFlight64 => "floor: keep-alive hyper, 64 in flight",
            Self::FloorBatch => "floor: prepared body to /api/batch",
            Self::FloorBatchUnkeyed => "floor: the same batch without idempotency keys",
            Self::FloorBatchDelivered => "floor: the same batch, until delivered",
            Self::Cent5 => "Python cent 5.2, one reused client",
            Self::DjangoInstant => "Python django-instant 4.2.0 publish()",
        }
    }
}

/// What the scenarios share.
struct Bench {
    client: CentrifugoClient,
    floor: HyperClient<HttpConnector, Full<Bytes>>,
    api: String,
    api_key: String,
    /// The scenarios run on an actix-rt system, as a publish from an actix-web handler does.
    runtime: actix_rt::SystemRunner,
    subscribers: Subscribers,
    cent5_python: PathBuf,
    django_python: PathBuf,
    script: PathBuf,
    settings_dir: PathBuf,
}

pub(crate) fn run(plan: &Plan) -> Section {
    let sizes: &[usize] = if plan.smoke { &[50] } else { &[1_000, 10_000] };
    println!(
        "compare: publishing, sizes {sizes:?}, {} repetitions",
        plan.reps
    );
    let server = Centrifugo::start(
        CentrifugoOptions::default()
            .history(0, Duration::ZERO)
            .allow_anonymous_connect_without_token(true)
            // 10,000 events in one batch are about 3.5 MB for the subscriber; with the default
            // 1 MB queue a moment without a core on this shared machine gets it disconnected.
            .extra(json!({"client": {"queue_max_size": SUBSCRIBER_QUEUE_BYTES}})),
    );
    let config = server.config();
    let api_key = server.api_key().expose_secret().to_owned();
    let settings_dir = plan.root.join("target/bench-python");
    write_django_settings(&settings_dir, server.port(), &api_key);
    let mut bench = Bench {
        client: CentrifugoClient::new(&config).expect("a Centrifugo client"),
        // An idle connection is dropped after 15 s, as instant's client does, so that none is
        // reused just as Centrifugo closes it after the Python runs' idle time.
        floor: HyperClient::builder(TokioExecutor::new())
            .pool_timer(hyper_util::rt::TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(15))
            .build_http(),
        api: format!("{}/api", server.url()),
        api_key,
        runtime: actix_rt::System::new(),
        subscribers: Subscribers::connect(&server.ws_url(), 1),
        cent5_python: python("INSTANT_PYTHON", &plan.root.join(".tools/venv/bin/python")),
        django_python: python(
            "INSTANT_BENCH_PYTHON",
            &plan.root.join(".tools/bench-venv/bin/python"),
        ),
        script: plan.root.join("instant-bench/py/publish.py"),
        settings_dir,
    };

    let mut measures = Vec::new();
    let mut ratios = Vec::new();
    for &n in sizes {
        let mut samples = vec![Vec::new(); Scenario::ALL.len()];
        for rep in 0..plan.reps {
            for scenario in Scenario::run_order(rep) {
                let i = Scenario::ALL
                    .iter()
                    .position(|s| *s == scenario)
                    .unwrap_or(0);
                let secs = bench.measure(scenario, Inputs::new(scenario, n));
                println!(
                    "compare: publish n={n} rep={} {}: {}",
                    rep + 1,
                    scenario.label(),
                    crate::report::seconds(secs)
                );
                samples[i].push(secs);
            }
        }
        let size = format!("{n} events");
        let m: Vec<Measure> = Scenario::ALL
            .iter()
            .zip(samples)
            .map(|(s, samples)| Measure {
                label: s.label().to_owned(),
                size: size.clone(),
                samples,
                work: n as f64,
            })
            .collect();
        let get = |s: Scenario| &m[Scenario::ALL.iter().position(|x| *x == s).unwrap_or(0)];
        use Scenario::*;
        ratios.extend([
            Ratio::of(
                "instant awaited / floor one by one (time)",
                get(Awaited),
                get(FloorOneByOne),
                Some(("≤ 1.2×", |r| r <= 1.2)),
            ),
            Ratio::of(
                "instant 64 in flight / floor 64 in flight (time)",
                get(InFlight64),
                get(FloorInFlight64),
                Some(("≤ 1.2×", |r| r <= 1.2)),
            ),
            Ratio::of(
                "instant all in flight / floor 64 in flight (time)",
                get(AllInFlight),
                get(FloorInFlight64),
                None,
            ),
            Ratio::of(
                "floor batch / instant batch (share of Centrifugo's ceiling)",
                get(FloorBatch),
                get(Batch),
                Some(("≥ 0.8×", |r| r >= 0.8)),
            ),
            Ratio::of(
                "floor batch / instant fire-and-forget (share of the ceiling)",
                get(FloorBatch),
                get(Detached),
                Some(("≥ 0.8×", |r| r >= 0.8)),
            ),
            Ratio::of(
                "floor batch until delivered / instant fire-and-forget (share, both until delivered)",
                get(FloorBatchDelivered),
                get(Detached),
                None,
            ),
            Ratio::of(
                "floor batch without keys / instant batch (share of the keyless ceiling)",
                get(FloorBatchUnkeyed),
                get(Batch),
                None,
            ),
            Ratio::of(
                "floor batch without keys / with keys (time)",
                get(FloorBatchUnkeyed),
                get(FloorBatch),
                None,
            ),
            Ratio::of(
                "django-instant / instant awaited (speed-up)",
                get(DjangoInstant),
                get(Awaited),
                None,
            ),
            Ratio::of(
                "django-instant / instant 64 in flight (speed-up)",
                get(DjangoInstant),
                get(InFlight64),
                None,
            ),
            Ratio::of(
                "django-instant / instant batch (speed-up)",
                get(DjangoInstant),
                get(Batch),
                Some(("≥ 150×", |r| r >= 150.0)),
            ),
            Ratio::of(
                "django-instant / floor batch (what Centrifugo allows)",
                get(DjangoInstant),
                get(FloorBatch),
                None,
            ),
            Ratio::of(
                "django-instant / instant fire-and-forget (speed-up)",
                get(DjangoInstant),
                get(Detached),
                None,
            ),
            Ratio::of(
                "cent 5.2 / instant awaited (speed-up)",
                get(Cent5),
                get(Awaited),
                None,
            ),
        ]);
        measures.extend(m);
    }
    let stats = bench.client.stats();
    assert_eq!(
        stats.dropped, 0,
        "fire-and-forget dropped events: {stats:?}"
    );

    Section {
        title: "1. Publishing to Centrifugo v6".to_owned(),
        chart: "publish.svg".to_owned(),
        intro: vec![
            "N events of the shape instant publishes (channel, site, message, event class, a \
             small data object; about 300 bytes of JSON each) to one real Centrifugo v6 on \
             loopback, with one anonymous WebSocket subscriber on the channel. Each figure is the \
             time from the first publish to the last answer; for fire-and-forget, until the \
             subscriber has received all N. The floor is a plain keep-alive HTTP client (hyper) \
             posting the bodies instant sends for the same events (each with its \
             `idempotency_key`), serialized before the clock starts: what Centrifugo allows a \
             client on this machine. Centrifugo's queue for the subscriber's connection is 64 MiB \
             (`client.queue_max_size`; 1 MB by default), so that a subscriber that misses a \
             core for a moment during a burst of 10,000 is not disconnected as a slow client. instant is given each event's message and data before the \
             clock starts, as an app has them at hand; making the event (its id and time), \
             encoding it, sending it and reading the answer are timed. The Python figures are timed inside the Python process (start-up \
             and imports excluded). Every Rust scenario, the floor included, runs on an actix-rt \
             system, as a publish from an actix-web handler does. Within a repetition, the \
             scenarios a target compares run one after the other, and which of them goes first \
             alternates from one repetition to the next."
                .to_owned(),
            "django-instant 4.2.0's `publish()` runs unchanged against Centrifugo v6: v6 still \
             accepts the `{\"method\", \"params\"}` body on `/api` and the `apikey` \
             authorization that `cent` 4.1 sends. It makes a new `cent` client, hence a new \
             HTTP connection, per event, and publishes the payload JSON-encoded as a string."
                .to_owned(),
        ],
        setup: vec![
            format!(
                "Centrifugo: {} (history off, presence on, memory engine)",
                crate::version_of(
                    &instant_testkit::centrifugo_binary().to_string_lossy(),
                    &["version"]
                )
            ),
            format!(
                "Python: {}; cent {} (SDK); django-instant {} with cent {} and Django {}",
                crate::version_of(&bench.cent5_python.to_string_lossy(), &["--version"]),
                python_package(&bench.cent5_python, "cent"),
                python_package(&bench.django_python, "django-instant"),
                python_package(&bench.django_python, "cent"),
                python_package(&bench.django_python, "Django"),
            ),
            format!(
                "instant: `CentrifugoClient` (awaited calls on the caller's actix-rt thread, \
                 fire-and-forget on the client's own thread; awc), default `ClientOptions`; \
                 sizes: {}",
                sizes
                    .iter()
                    .map(usize::to_string)
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
        ],
        unit: Unit::Seconds,
        measures,
        ratios,
        notes: crate::findings::PUBLISH
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
    }
}

/// What one run of a scenario is given, made before its clock starts: the app's part of each
/// event for instant (each event's id, time and encoding are instant's work, timed), or, for the
/// floor, the very bodies instant sends for those events (`idempotency_key` included), made
/// anew for each run: Centrifugo answers a key it has seen in the last five minutes from its
/// cache without delivering again.
struct Inputs {
    n: usize,
    parts: Vec<(String, Value)>,
    bodies: Vec<Bytes>,
    batch: Bytes,
}

impl Inputs {
    fn new(scenario: Scenario, n: usize) -> Self {
        let mut inputs = Self {
            n,
            parts: Vec::new(),
            bodies: Vec::new(),
            batch: Bytes::new(),
        };
        let keyed = |e: &Event| json!({"channel": e.channel, "data": e, "idempotency_key": e.uid});
        let keyless = |e: &Event| json!({"channel": e.channel, "data": e});
        let events = || (0..n as u64).map(sample_event);
        let batch = |params: &dyn Fn(&Event) -> Value| {
            let commands: Vec<Value> = events().map(|e| json!({"publish": params(&e)})).collect();
            Bytes::from(json!({"commands": commands, "parallel": false}).to_string())
        };
        match scenario {
            Scenario::Awaited
            | Scenario::InFlight64
            | Scenario::AllInFlight
            | Scenario::Batch
            | Scenario::Detached => inputs.parts = (0..n as u64).map(sample_parts).collect(),
            Scenario::FloorOneByOne | Scenario::FloorInFlight64 => {
                inputs.bodies = events()
                    .map(|e| Bytes::from(keyed(&e).to_string()))
                    .collect();
            }
            Scenario::FloorBatch | Scenario::FloorBatchDelivered => {
                inputs.batch = batch(&keyed);
            }
            Scenario::FloorBatchUnkeyed => inputs.batch = batch(&keyless),
            Scenario::Cent5 | Scenario::DjangoInstant => {}
        }
        inputs
    }
}

impl Bench {
    /// Runs one scenario once on its `inputs`; returns the seconds it took.
    fn measure(&mut self, scenario: Scenario, inputs: Inputs) -> f64 {
        let n = inputs.n;
        self.subscribers.expect(n as u64);
        let Inputs {
            mut parts,
            bodies,
            batch,
            ..
        } = inputs;
        let start = Instant::now();
        let secs = match scenario {
            Scenario::Awaited => self.runtime.block_on(async {
                for part in parts {
                    self.client.publish(event_of(part)).await.expect("publish");
                }
                start.elapsed().as_secs_f64()
            }),
            Scenario::InFlight64 | Scenario::AllInFlight => {
                let width = if scenario == Scenario::InFlight64 {
                    64
                } else {
                    n
                };
                self.runtime.block_on(async {
                    let client = &self.client;
                    let mut answers = futures_util::stream::iter(parts)
                        .map(|part| client.publish(event_of(part)))
                        .buffer_unordered(width);
                    while let Some(answer) = answers.next().await {
                        answer.expect("publish");
                    }
                    start.elapsed().as_secs_f64()
                })
            }
            Scenario::Batch => self.runtime.block_on(async {
                let events: Vec<Event> = parts.drain(..).map(event_of).collect();
                let replies = self.client.batch(&events).await.expect("batch");
                assert!(
                    replies.iter().all(Result::is_ok),
                    "a batched publish failed"
                );
                start.elapsed().as_secs_f64()
            }),
            Scenario::Detached => {
                for part in parts {
                    self.client.publish_detached(event_of(part));
                }
                self.subscribers.wait();
                start.elapsed().as_secs_f64()
            }
            Scenario::FloorOneByOne => self.runtime.block_on(async {
                for body in bodies {
                    self.post("publish", body).await;
                }
                start.elapsed().as_secs_f64()
            }),
            Scenario::FloorInFlight64 => self.runtime.block_on(async {
                let mut answers = futures_util::stream::iter(bodies)
                    .map(|body| self.post("publish", body))
                    .buffer_unordered(64);
                while answers.next().await.is_some() {}
                start.elapsed().as_secs_f64()
            }),
            Scenario::FloorBatch | Scenario::FloorBatchUnkeyed => self.runtime.block_on(async {
                self.post("batch", batch).await;
                start.elapsed().as_secs_f64()
            }),
            Scenario::FloorBatchDelivered => {
                self.runtime.block_on(self.post("batch", batch));
                self.subscribers.wait();
                start.elapsed().as_secs_f64()
            }
            Scenario::Cent5 => self.python(&self.cent5_python, "cent5", n),
            Scenario::DjangoInstant => self.python(&self.django_python, "django-instant", n),
        };
        // Every scenario's publications reach the subscriber before the next one starts.
        self.subscribers.wait();
        secs
    }

    /// One POST to Centrifugo's API; panics on anything but a clean answer.
    async fn post(&self, method: &str, body: Bytes) {
        let request = hyper::Request::post(format!("{}/{method}", self.api))
            .header("content-type", "application/json")
            .header("x-api-key", &self.api_key)
            .body(Full::new(body))
            .expect("a request");
        let response = self
            .floor
            .request(request)
            .await
            .expect("Centrifugo answers");
        crate::expect_api_success(response, "Centrifugo").await;
    }

    /// Runs `publish.py mode` and returns the seconds it reports.
    fn python(&self, python: &Path, mode: &str, n: usize) -> f64 {
        let output = Command::new(python)
            .arg(&self.script)
            .args([mode, &self.api, &self.api_key, CHANNEL, &n.to_string()])
            .env("DJANGO_SETTINGS_MODULE", "instant_bench_settings")
            .env("PYTHONPATH", &self.settings_dir)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
        let stdout = String::from_utf8_lossy(&output.stdout);
        let answer: Value = stdout
            .lines()
            .last()
            .and_then(|l| serde_json::from_str(l).ok())
            .unwrap_or(Value::Null);
        answer["seconds"].as_f64().unwrap_or_else(|| {
            panic!(
                "publish.py {mode} failed: {stdout}{}",
                String::from_utf8_lossy(&output.stderr)
            )
        })
    }
}

/// The Python named by `var`, else `fallback`.
fn python(var: &str, fallback: &Path) -> PathBuf {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map_or_else(|| fallback.to_path_buf(), PathBuf::from)
}

/// The installed version of a Python distribution, or `unknown`.
fn python_package(python: &Path, name: &str) -> String {
    crate::version_of(
        &python.to_string_lossy(),
        &[
            "-c",
            &format!("import importlib.metadata as m; print(m.version({name:?}))"),
        ],
    )
}

/// The minimal Django settings module django-instant's `publish()` reads.
fn write_django_settings(dir: &Path, port: u16, api_key: &str) {
    std::fs::create_dir_all(dir).expect("create the Python settings directory");
    let settings = format!(
        "# Written by instant-bench's comparison suite: the least django-instant needs.\n\
         SECRET_KEY = \"instant-bench\"\n\
         INSTALLED_APPS = [\"django.contrib.contenttypes\", \"django.contrib.auth\", \"instant\"]\n\
         DATABASES = {{\"default\": {{\"ENGINE\": \"django.db.backends.sqlite3\", \"NAME\": \":memory:\"}}}}\n\
         CENTRIFUGO_HOST = \"http://127.0.0.1\"\n\
         CENTRIFUGO_PORT = {port}\n\
         CENTRIFUGO_API_KEY = {api_key:?}\n\
         SITE_NAME = \"bench\"\n"
    );
    std::fs::write(dir.join("instant_bench_settings.py"), settings)
        .expect("write the Django settings");
}

#[cfg(test)]
mod tests {
    use super::Scenario;

    #[test]
    fn every_scenario_runs_once_in_every_repetition_and_pairs_alternate() {
        for rep in 0..4 {
            let mut order = Scenario::run_order(rep);
            let first_pair = (order[0], order[1]);
            assert_eq!(
                first_pair,
                if rep % 2 == 0 {
                    (Scenario::Awaited, Scenario::FloorOneByOne)
                } else {
                    (Scenario::FloorOneByOne, Scenario::Awaited)
                }
            );
            order.sort_by_key(|s| Scenario::ALL.iter().position(|x| x == s));
            assert_eq!(order, Scenario::ALL, "repetition {rep}");
        }
    }
}
