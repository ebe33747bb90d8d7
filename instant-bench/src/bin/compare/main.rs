//! The comparison suite: `instant` measured beside what users would pick instead, in one run on
//! one machine, written to `BENCHMARKS.md` with one chart per comparison.
//!
//! ```text
//! compare [--smoke] [--reps N] [--out DIR] [--only publish,servers,middleware,event,tokens,cluster,stream]
//! ```
//!
//! `cargo xtask bench --compare [--smoke]` installs what it needs and runs it. `--smoke` uses tiny
//! sizes and one or two repetitions, so that CI checks the suite still runs; its figures mean
//! nothing. Absolute figures on a shared machine drift, so every comparison is reported as a ratio
//! of two scenarios measured repetition by repetition in the same run.
//!
//! The environment: `INSTANT_CENTRIFUGO_BIN` (Centrifugo v6, found as the tests find it),
//! `INSTANT_PYTHON` (a Python with `cent` 5.x), `INSTANT_BENCH_PYTHON` (a Python with
//! django-instant 4.2.0, `cent` 4.1 and Django 4.2), `INSTANT_WRK` (the `wrk` load generator).
//! A comparison whose tool is missing fails the run: nothing is skipped.

mod cluster;
mod event;
mod findings;
mod middleware;
mod publish;
mod report;
mod serve;
mod servers;
mod stream;
mod tokens;

use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::Instant;

use crate::report::Report;

/// What a run measures and how hard.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// Tiny sizes, few repetitions.
    pub(crate) smoke: bool,
    /// Repetitions of every scenario.
    pub(crate) reps: usize,
    /// Where `BENCHMARKS.md` and `benchmarks/` go.
    pub(crate) out: PathBuf,
    /// The workspace root.
    pub(crate) root: PathBuf,
}

fn main() -> ExitCode {
    let mut smoke = false;
    let mut reps = None;
    let mut out = None;
    let mut only: Option<Vec<String>> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--smoke" => smoke = true,
            // For profiling by hand: serve the middleware comparison's two apps for a while.
            "--serve" => {
                middleware::serve_for_profiling();
                return ExitCode::SUCCESS;
            }
            // For profiling by hand: serve the event comparison's two apps until stdin closes.
            "--serve-event" => {
                event::serve_for_profiling();
                return ExitCode::SUCCESS;
            }
            // The servers that comparisons 2 and 7 run in a process of their own.
            "--serve-embedded" => {
                serve::embedded();
                return ExitCode::SUCCESS;
            }
            "--serve-stream" => {
                serve::stream();
                return ExitCode::SUCCESS;
            }
            "--out" => out = args.next().map(PathBuf::from),
            // Fewer or more repetitions than the default (for profiling runs by hand).
            "--reps" => reps = args.next().and_then(|n| n.parse().ok()),
            "--only" => {
                only = args
                    .next()
                    .map(|list| list.split(',').map(str::to_owned).collect());
            }
            _ => {
                eprintln!(
                    "usage: compare [--smoke] [--reps N] [--out DIR] [--only publish,servers,middleware,event,tokens,cluster,stream]"
                );
                return ExitCode::from(2);
            }
        }
    }
    let root = instant_testkit::workspace_root();
    let out = out.unwrap_or_else(|| {
        if smoke {
            root.join("target/benchmarks-smoke")
        } else {
            root.clone()
        }
    });
    let plan = Plan {
        smoke,
        reps: reps.unwrap_or(if smoke { 2 } else { 5 }),
        out,
        root,
    };
    let wanted = |name: &str| only.as_ref().is_none_or(|o| o.iter().any(|n| n == name));

    let started = Instant::now();
    let load_before = load_average();
    let mut sections = Vec::new();
    if wanted("publish") {
        sections.push(publish::run(&plan));
    }
    if wanted("servers") {
        sections.extend(servers::run(&plan));
    }
    if wanted("middleware") {
        sections.extend(middleware::run(&plan));
    }
    if wanted("event") {
        sections.push(event::run(&plan));
    }
    if wanted("tokens") {
        sections.push(tokens::run(&plan));
    }
    if wanted("cluster") {
        sections.push(cluster::run(&plan));
    }
    if wanted("stream") {
        sections.push(stream::run(&plan));
    }
    let load_after = load_average();

    let report = Report {
        machine: machine(
            &plan,
            &load_before,
            &load_after,
            started.elapsed().as_secs(),
        ),
        preamble: vec![
            "The machine is shared: other builds and tests may run beside the suite, so absolute \
             figures drift from run to run and from repetition to repetition. Each comparison \
             therefore runs its scenarios in turn within every repetition and reports the ratio \
             of two scenarios repetition by repetition; the ratios are the figures to quote. \
             The load averages above tell how busy the machine was."
                .to_owned(),
        ],
        sections,
        epilogue: Vec::new(),
    };
    let chart_dir = "benchmarks";
    match report.write(&plan.out, chart_dir) {
        Ok(()) => {
            println!(
                "compare: wrote {} in {} s",
                plan.out.join("BENCHMARKS.md").display(),
                started.elapsed().as_secs()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("compare: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The first line of `/proc/loadavg` (1, 5 and 15 minutes).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Reads a Centrifugo API answer to its end; panics, naming `what`, unless it is a success
/// without an `"error":` in it.
pub(crate) async fn expect_api_success(
    response: hyper::Response<hyper::body::Incoming>,
    what: &str,
) {
    use http_body_util::BodyExt as _;
    let status = response.status();
    let answer = response
        .into_body()
        .collect()
        .await
        .expect("the answer's body")
        .to_bytes();
    assert!(
        status.is_success() && !answer.windows(8).any(|w| w == b"\"error\":"),
        "{what} refused: {status} {}",
        String::from_utf8_lossy(&answer)
    );
}

/// The version of the crate `name` in the workspace's `Cargo.lock`, or `unknown`.
pub(crate) fn locked_version(root: &std::path::Path, name: &str) -> String {
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).unwrap_or_default();
    let wanted = format!("name = \"{name}\"");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == wanted
            && let Some(version) = lines.next().and_then(|l| l.strip_prefix("version = "))
        {
            return version.trim_matches('"').to_owned();
        }
    }
    "unknown".to_owned()
}

/// The first line `program args` prints, or `unknown`.
pub(crate) fn version_of(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .map(|o| {
            let text = if o.stdout.is_empty() {
                o.stderr
            } else {
                o.stdout
            };
            String::from_utf8_lossy(&text)
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_owned()
        })
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

fn machine(plan: &Plan, load_before: &str, load_after: &str, secs: u64) -> Vec<String> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or_else(|| "unknown".to_owned(), |(_, m)| m.trim().to_owned());
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        })
        .map_or_else(
            || "unknown".to_owned(),
            |kb| format!("{} GiB", kb / 1024 / 1024),
        );
    let profile = if cfg!(debug_assertions) {
        "debug build"
    } else {
        "release build"
    };
    vec![
        format!(
            "Machine: {cores} cores, {model}, {memory} of memory, Linux; everything on loopback"
        ),
        format!(
            "Rust: {}, {profile}; {} repetitions of every scenario{}",
            version_of("rustc", &["--version"]),
            plan.reps,
            if plan.smoke {
                " (**smoke mode**: tiny sizes, the figures mean nothing)"
            } else {
                ""
            }
        ),
        format!(
            "Load average (1, 5, 15 min) before the run: {load_before}; after: {load_after}; the run took {secs} s"
        ),
    ]
}
