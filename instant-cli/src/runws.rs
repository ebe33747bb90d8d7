//! `instant runws`: runs the installed Centrifugo in the foreground.
//!
//! Centrifugo's output goes straight to the terminal. The command waits for `/health` to answer
//! (the config written by `installws` enables it), forwards SIGINT and SIGTERM to Centrifugo so it
//! shuts down gracefully (a second one kills it), forwards SIGHUP so it reloads its config, and
//! exits with Centrifugo's exit code (128 + the signal number when Centrifugo was killed by a
//! signal, as shells report it).
//!
//! With `--embedded` it runs instant's embedded server instead, as its own process, with the same
//! config ([`crate::standalone`]).

use std::process::{Child, Command, ExitCode, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::centrifugo_config;
use crate::cli::RunArgs;
use crate::error::{CliError, Result};
use crate::install::Layout;
use crate::output::Output;

/// How often the child and `/health` are looked at.
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// `instant runws`.
pub(crate) fn runws(args: &RunArgs, out: &Output) -> Result<ExitCode> {
    if args.embedded {
        return crate::standalone::run(args, out);
    }
    let layout = Layout::new(&args.dir.dir);
    let binary = layout.binary();
    if !binary.is_file() {
        return Err(CliError::NotInstalled { binary });
    }
    let config_path = args.config.clone().unwrap_or_else(|| layout.config());
    if !config_path.is_file() {
        return Err(CliError::NoCentrifugoConfig { path: config_path });
    }
    let text = std::fs::read_to_string(&config_path).map_err(CliError::io("read", &config_path))?;
    let config: serde_json::Value =
        serde_json::from_str(&text).map_err(|err| CliError::Settings {
            path: config_path.clone(),
            reason: format!("not valid JSON: {err}"),
        })?;
    // Internal endpoints such as /health move to `http_server.internal_port` when it is set.
    let port = config
        .pointer("/http_server/internal_port")
        .and_then(serde_json::Value::as_u64)
        .and_then(|port| u16::try_from(port).ok())
        .filter(|port| *port != 0)
        .unwrap_or_else(|| centrifugo_config::shared_values(&config).port);
    let health_enabled = config
        .pointer("/health/enabled")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false);

    let signal = Arc::new(AtomicUsize::new(0));
    register_signals(&signal)?;

    out.info(format_args!(
        "Starting {} --config {}",
        binary.display(),
        config_path.display()
    ));
    let mut child = Command::new(&binary)
        .arg("--config")
        .arg(&config_path)
        .stdin(Stdio::null())
        .spawn()
        .map_err(|source| CliError::Spawn {
            program: binary.clone(),
            source,
        })?;

    let host = match config
        .pointer("/http_server/address")
        .and_then(serde_json::Value::as_str)
    {
        None | Some("" | "0.0.0.0" | "::") => "127.0.0.1".to_owned(),
        Some(address) if address.contains(':') => format!("[{address}]"),
        Some(address) => address.to_owned(),
    };
    let base_url = format!("http://{host}:{port}");
    let agent = crate::http::probe_agent(Duration::from_secs(1));
    let started = Instant::now();
    let mut healthy = !health_enabled;
    if !health_enabled {
        out.warn(format_args!(
            "health.enabled is not set in {}, so readiness cannot be checked",
            config_path.display()
        ));
    }
    let mut forwarded = false;
    loop {
        if let Some(status) = child
            .try_wait()
            .map_err(CliError::io("wait for", &binary))?
        {
            if !healthy && !forwarded {
                out.error(format_args!(
                    "Centrifugo exited ({status}) before {base_url}/health answered; fix: read its log above (a port in use or a config error are the usual causes) and run `instant check`"
                ));
            } else {
                out.info(format_args!("Centrifugo exited ({status})"));
            }
            return Ok(exit_code(status));
        }
        match signal.swap(0, Ordering::SeqCst) {
            0 => {}
            RELOAD => {
                out.info("Reloading Centrifugo's config");
                forward(&child, RELOAD);
            }
            received if !forwarded => {
                forwarded = true;
                out.info("Stopping Centrifugo (interrupt again to kill it)");
                forward(&child, received);
            }
            _ => {
                out.warn("Killing Centrifugo");
                let _ = child.kill();
            }
        }
        if !healthy && !forwarded {
            if crate::http::healthy(&agent, &base_url).is_ok() {
                healthy = true;
                out.success(format_args!(
                    "Centrifugo is ready at {base_url} (Ctrl-C to stop)"
                ));
            } else if started.elapsed() > args.health_timeout {
                forward(&child, TERMINATE);
                let _ = child.wait();
                return Err(CliError::NotHealthy {
                    reason: format!(
                        "{base_url}/health did not answer within {}s",
                        args.health_timeout.as_secs()
                    ),
                });
            }
        }
        thread::sleep(POLL_INTERVAL);
    }
}

#[cfg(unix)]
const TERMINATE: usize = signal_hook::consts::SIGTERM as usize;
#[cfg(not(unix))]
const TERMINATE: usize = 15;

/// SIGHUP: Centrifugo reloads its config (channel options, token keys) without restarting.
#[cfg(unix)]
const RELOAD: usize = signal_hook::consts::SIGHUP as usize;
#[cfg(not(unix))]
const RELOAD: usize = 1;

/// Records SIGINT, SIGTERM and SIGHUP in `signal` instead of dying, so they can be forwarded.
#[cfg(unix)]
fn register_signals(signal: &Arc<AtomicUsize>) -> Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    for number in [SIGINT, SIGTERM, SIGHUP] {
        signal_hook::flag::register_usize(number, Arc::clone(signal), number as usize).map_err(
            |source| CliError::Spawn {
                program: "signal handler".into(),
                source,
            },
        )?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn register_signals(_signal: &Arc<AtomicUsize>) -> Result<()> {
    Ok(())
}

/// Sends the signal to Centrifugo, which then shuts down gracefully.
#[cfg(unix)]
fn forward(child: &Child, number: usize) {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    let signal = i32::try_from(number)
        .ok()
        .and_then(|n| Signal::try_from(n).ok())
        .unwrap_or(Signal::SIGTERM);
    if let Ok(pid) = i32::try_from(child.id()) {
        let _ = kill(Pid::from_raw(pid), signal);
    }
}

#[cfg(not(unix))]
fn forward(child: &Child, _number: usize) {
    // Without signals the only way to stop the child is to end it.
    let _ = child;
}

/// Centrifugo's exit code, or 128 + the signal that ended it.
fn exit_code(status: ExitStatus) -> ExitCode {
    if let Some(code) = status.code() {
        return ExitCode::from(u8::try_from(code).unwrap_or(1));
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return ExitCode::from(u8::try_from(128 + signal).unwrap_or(1));
        }
    }
    ExitCode::FAILURE
}
