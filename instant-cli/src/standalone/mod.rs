//! `instant runws --embedded`: instant's embedded server as its own process, with a Centrifugo v6
//! JSON config.
//!
//! The config is read by [`instant_actix::StandaloneConfig`]; each key the embedded server does
//! not support is reported once, with its JSON path, and `--strict` refuses to start on any of
//! them. The server listens on `http_server.address`:`http_server.port` and serves Centrifugo's
//! paths (`/connection/websocket`, `/api`, `/api/{method}`, `/health`). SIGINT and SIGTERM close
//! every connection with 3001 (clients reconnect later) and stop it gracefully.

use std::process::ExitCode;

use actix_web::{App, HttpServer};
use instant_actix::{EmbeddedServer, StandaloneConfig};

use crate::cli::RunArgs;
use crate::error::{CliError, Result};
use crate::install::Layout;
use crate::output::Output;

/// How long open requests may take to finish once the server stops.
const SHUTDOWN_TIMEOUT_SECS: u64 = 5;

/// `instant runws --embedded`.
pub(crate) fn run(args: &RunArgs, out: &Output) -> Result<ExitCode> {
    let path = args
        .config
        .clone()
        .unwrap_or_else(|| Layout::new(&args.dir.dir).config());
    if !path.is_file() {
        return Err(CliError::NoCentrifugoConfig { path });
    }
    let text = std::fs::read_to_string(&path).map_err(CliError::io("read", &path))?;
    let config = StandaloneConfig::from_json(&text).map_err(|err| CliError::StandaloneConfig {
        path: path.clone(),
        reason: err.to_string(),
    })?;
    let unsupported = config.unsupported();
    for key in unsupported {
        out.warn(format_args!(
            "{}: {} (in {})",
            key.path,
            key.reason,
            path.display()
        ));
    }
    // Centrifugo reads its settings from CENTRIFUGO_* variables too; the embedded server does not.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("CENTRIFUGO_") {
            out.warn(format_args!(
                "{name} is set but not read: the embedded server takes its settings from the config file only"
            ));
        }
    }
    if args.strict && !unsupported.is_empty() {
        let paths: Vec<&str> = unsupported.iter().map(|k| k.path.as_str()).collect();
        return Err(CliError::StandaloneConfig {
            path,
            reason: format!(
                "{} key(s) the embedded server does not support (--strict): {}",
                paths.len(),
                paths.join(", ")
            ),
        });
    }
    if config.insecure {
        // Printed even with --quiet: this must not go unnoticed.
        eprintln!(
            "warning: INSECURE: client.insecure is on: every connection is accepted without a token and may subscribe to, publish into and read every channel its namespaces define; for development only, never in production"
        );
    }
    if config.secret.is_none() {
        out.warn(
            "client.token.hmac_secret_key is not set: no connection or subscription token will be accepted",
        );
    }
    if config.api_key.is_none() {
        out.warn("http_api.key is not set: the server API answers 401 to every request");
    }
    let host = match config.address.as_str() {
        "" => "0.0.0.0".to_owned(),
        address => address.to_owned(),
    };
    let port = config.port;
    tracing_setup(out);
    let server = EmbeddedServer::standalone(config);
    actix_web::rt::System::new().block_on(serve(server, host, port, out))
}

/// Logs the server's own messages (refused connections, limits) to stderr, as Centrifugo logs.
fn tracing_setup(out: &Output) {
    let level = if out.is_quiet() {
        "error"
    } else if out.is_verbose() {
        "debug"
    } else {
        "info"
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

async fn serve(server: EmbeddedServer, host: String, port: u16, out: &Output) -> Result<ExitCode> {
    let address = format!("{host}:{port}");
    let for_app = server.clone();
    let http = HttpServer::new(move || {
        let server = for_app.clone();
        App::new().configure(move |cfg| server.configure(cfg))
    })
    .disable_signals()
    .shutdown_timeout(SHUTDOWN_TIMEOUT_SECS)
    .bind((host.as_str(), port))
    .map_err(|source| CliError::Serve {
        address: address.clone(),
        source,
    })?;
    let bound = http
        .addrs()
        .first()
        .map_or_else(|| address.clone(), ToString::to_string);
    let running = http.run();
    let handle = running.handle();
    // Listening before the ready line, so that a signal right after it is not missed.
    let stopped = stop_signal().map_err(|source| CliError::Serve {
        address: address.clone(),
        source,
    })?;
    out.success(format_args!(
        "the embedded server is ready at http://{bound} (WebSocket /connection/websocket, API /api; Ctrl-C to stop)"
    ));
    actix_web::rt::spawn(async move {
        stopped.await;
        server.shutdown();
        handle.stop(true).await;
    });
    running
        .await
        .map_err(|source| CliError::Serve { address, source })?;
    out.info("the embedded server stopped");
    Ok(ExitCode::SUCCESS)
}

/// A future resolving on SIGINT or SIGTERM, listening from the moment it is made. SIGHUP, which
/// makes Centrifugo reload its config, is answered with a warning: the embedded server reads its
/// config once.
#[cfg(unix)]
fn stop_signal() -> std::io::Result<impl Future<Output = ()>> {
    use actix_web::rt::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let mut hangup = signal(SignalKind::hangup())?;
    Ok(async move {
        loop {
            tokio::select! {
                _ = interrupt.recv() => return,
                _ = terminate.recv() => return,
                _ = hangup.recv() => eprintln!(
                    "warning: SIGHUP received: the embedded server does not reload its config; restart it to apply changes"
                ),
            }
        }
    })
}

/// A future resolving on Ctrl-C.
#[cfg(not(unix))]
fn stop_signal() -> std::io::Result<impl Future<Output = ()>> {
    Ok(async {
        let _ = actix_web::rt::signal::ctrl_c().await;
    })
}
