//! Project tasks, run as `cargo xtask <task>`:
//!
//! - `test [cargo test args]`: installs what the tests need when it is missing (Centrifugo v6.9.1
//!   built from source by `instant installws --from-source`, the Node test clients with `npm ci`,
//!   the Python test clients (`py/requirements.txt`) in a venv at `.tools/venv`, Debian's
//!   `chromium` and `redis-server`), then runs `cargo test --workspace` with
//!   `INSTANT_CENTRIFUGO_BIN`, `INSTANT_PYTHON` and `CHROMIUM_BIN` set, and exits with its code.
//! - `bench`: the benchmarks of `instant-bench`, then its memory check (`--bin memory`), which
//!   fails when a memory target is missed.
//! - `bench --compare [--smoke]`: the comparison suite (`instant-bench`'s `compare` binary), after
//!   installing what it needs; writes `BENCHMARKS.md` and `benchmarks/`, or with `--smoke` tiny
//!   runs into `target/benchmarks-smoke/` (see `bench.rs`).
//! - `install`: only the installing part of `test`.
//! - `lint`: `cargo fmt --check`, `cargo clippy --workspace --all-targets --all-features -- -D
//!   warnings`, and `cargo doc --workspace --no-deps --all-features` with warnings denied.
//! - `package`: `cargo package` of every published crate, then a scratch app that depends on the
//!   facade through the README's dependency line (patched to this checkout) and on a renamed
//!   dependency, and builds the macros through both names.
//!
//! Only the standard library is used, so the task itself builds in seconds.

mod bench;
mod install;
mod package;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use crate::install::{Tools, install};
use crate::package::package;

/// The Centrifugo release the tests run against.
pub(crate) const CENTRIFUGO_VERSION: &str = "6.9.1";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let task = args.next().unwrap_or_default();
    let rest: Vec<String> = args.collect();
    let outcome = match task.as_str() {
        "test" => install().and_then(|tools| test(&tools, &rest)),
        "install" => install().map(|_| ExitCode::SUCCESS),
        "reliability" => {
            install().and_then(|tools| reliability(&tools, rest.iter().any(|a| a == "--long")))
        }
        "lint" => lint(),
        "bench" if rest.iter().any(|a| a == "--compare") => {
            bench::compare(rest.iter().any(|a| a == "--smoke"))
        }
        "bench" => bench(),
        "package" => package(),
        _ => {
            eprintln!(
                "usage: cargo xtask <task>\n\n\
                 tasks:\n  \
                 test [args]  install what the tests need, then run `cargo test --workspace [args]`\n  \
                 install      only install what the tests need\n  \
                 reliability [--long]\n               \
                 the reliability and security suites with their figures (RELIABILITY.md);\n               \
                 --long holds the load test's 10,000 connections for 5 minutes\n  \
                 lint         cargo fmt --check, cargo clippy -D warnings, cargo doc -D warnings\n  \
                 package      cargo package the published crates; build the README's dependency line\n  \
                 bench        run the benchmarks, then check the memory targets\n  \
                 bench --compare [--smoke]\n               \
                 compare instant with the alternatives; write BENCHMARKS.md"
            );
            Ok(ExitCode::from(2))
        }
    };
    match outcome {
        Ok(code) => code,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

pub(crate) fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

fn test(tools: &Tools, args: &[String]) -> Result<ExitCode, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    // `-p crate` narrows the run; otherwise the whole workspace is tested.
    let narrowed = args
        .iter()
        .any(|a| a == "-p" || a.starts_with("--package") || (a.starts_with("-p") && a.len() > 2));
    let scope: &[&str] = if narrowed { &[] } else { &["--workspace"] };
    println!("xtask: cargo test {} {}", scope.join(" "), args.join(" "));
    let status = Command::new(cargo)
        .arg("test")
        .args(scope)
        .args(args)
        .current_dir(workspace_root())
        .env("INSTANT_CENTRIFUGO_BIN", &tools.centrifugo)
        .env("INSTANT_PYTHON", &tools.python)
        .env("CHROMIUM_BIN", &tools.chromium)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    Ok(exit_code(status.code()))
}

/// The suites of RELIABILITY.md, printing their figures; `long` runs the load test for 5 minutes.
fn reliability(tools: &Tools, long: bool) -> Result<ExitCode, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let suites: [(&str, &[&str]); 2] = [
        (
            "instant-actix",
            &[
                "attack_tokens",
                "secret_scan",
                "bad_input",
                "api_bodies",
                "client_drop",
                "slow_consumer",
                "authorization_doors",
                "browser_drop",
                "app_restart",
                "load",
            ],
        ),
        ("instant-core", &["faults"]),
    ];
    for (package, tests) in suites {
        let mut command = Command::new(&cargo);
        command.args(["test", "-p", package]);
        for test in tests {
            command.args(["--test", test]);
        }
        command
            .args(["--", "--nocapture", "--test-threads=1"])
            .current_dir(workspace_root())
            .env("INSTANT_CENTRIFUGO_BIN", &tools.centrifugo)
            .env("INSTANT_PYTHON", &tools.python)
            .env("CHROMIUM_BIN", &tools.chromium);
        if long {
            command.env("INSTANT_LOAD_SECS", "300");
        }
        println!(
            "xtask: cargo test -p {package} --test {}",
            tests.join(" --test ")
        );
        let status = command
            .status()
            .map_err(|e| format!("cannot run cargo: {e}"))?;
        if !status.success() {
            return Ok(exit_code(status.code()));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn lint() -> Result<ExitCode, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let root = workspace_root();
    println!("xtask: cargo fmt --all --check");
    let fmt = Command::new(&cargo)
        .args(["fmt", "--all", "--check"])
        .current_dir(&root)
        .status()
        .map_err(|e| format!("cannot run cargo fmt: {e}"))?;
    println!("xtask: cargo clippy --workspace --all-targets --all-features -- -D warnings");
    let clippy = Command::new(&cargo)
        .args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--",
            "-D",
            "warnings",
        ])
        .current_dir(&root)
        .status()
        .map_err(|e| format!("cannot run cargo clippy: {e}"))?;
    println!("xtask: cargo doc --workspace --no-deps --all-features (warnings denied)");
    let doc = Command::new(&cargo)
        .args(["doc", "--workspace", "--no-deps", "--all-features"])
        .env("RUSTDOCFLAGS", "-D warnings")
        .current_dir(&root)
        .status()
        .map_err(|e| format!("cannot run cargo doc: {e}"))?;
    // All run, so one report shows every problem.
    Ok([fmt, clippy, doc]
        .into_iter()
        .find(|status| !status.success())
        .map_or(ExitCode::SUCCESS, |status| exit_code(status.code())))
}

fn bench() -> Result<ExitCode, String> {
    let tools = install()?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    for args in [
        &["bench", "--package", "instant-bench"][..],
        &[
            "run",
            "--release",
            "--package",
            "instant-bench",
            "--bin",
            "memory",
        ][..],
    ] {
        println!("xtask: cargo {}", args.join(" "));
        let status = Command::new(&cargo)
            .args(args)
            .current_dir(workspace_root())
            .env("INSTANT_CENTRIFUGO_BIN", &tools.centrifugo)
            .status()
            .map_err(|e| format!("cannot run cargo: {e}"))?;
        if !status.success() {
            return Ok(exit_code(status.code()));
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn exit_code(code: Option<i32>) -> ExitCode {
    match code {
        Some(0) => ExitCode::SUCCESS,
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1).max(1)),
        None => ExitCode::FAILURE,
    }
}

pub(crate) fn run(command: &mut Command) -> Result<(), String> {
    let shown = format!("{command:?}");
    let status = command
        .status()
        .map_err(|e| format!("cannot run {shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed with {status}"))
    }
}

/// `program` on PATH, else the first of `fallbacks` that exists.
pub(crate) fn find_program(program: &str, fallbacks: &[&str]) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(program))
                .find(|candidate| candidate.is_file())
        })
        .or_else(|| {
            fallbacks
                .iter()
                .map(PathBuf::from)
                .find(|candidate| candidate.is_file())
        })
}

pub(crate) fn is_root() -> bool {
    // Avoids a libc dependency: `id -u` answers the same question.
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}
