//! Servers in a process of their own, so that their memory can be read from `/proc/<pid>/status`:
//! the comparison suite starts its own executable with `--serve-embedded` or `--serve-stream`.
//!
//! Each prints `listening <address>` on stdout once bound, and exits when its stdin closes (so a
//! child never outlives the suite).

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use bytes::Bytes;
use instant_actix::{EmbeddedOptions, InstantMiddleware, Realtime, User};
use instant_bench::{channels, config};
use instant_core::Level;

/// Exits the process once stdin closes: the parent went away or asked it to stop.
fn exit_with_stdin() {
    std::thread::spawn(|| {
        let mut sink = Vec::new();
        let _ = std::io::stdin().lock().read_to_end(&mut sink);
        std::process::exit(0);
    });
}

/// Writes the address the parent waits for.
fn announce(addr: SocketAddr) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening {addr}")
        .and_then(|()| out.flush())
        .expect("stdout");
}

/// Binds the `HttpServer` that `$server` builds on a free loopback port, announces it, and serves
/// until stdin closes.
macro_rules! serve_until_stdin_closes {
    ($server:expr) => {{
        exit_with_stdin();
        actix_rt::System::new().block_on(async move {
            let server = $server
                .backlog(4096)
                .bind(("127.0.0.1", 0))
                .expect("bind a loopback port");
            announce(server.addrs()[0]);
            server.run().await.expect("the server runs");
        });
    }};
}

/// `--serve-embedded`: an actix-web app built with `instant::Realtime::builder()` in embedded
/// mode (no Centrifugo URL), the benchmark's channels with their default options, actix's default
/// worker count (one per core). The connection caps meant for production (10,000 connections, 100
/// per address, 5,000 anonymous) are lifted: every benchmark client is anonymous and comes from
/// 127.0.0.1.
pub(crate) fn embedded() {
    let mut options = EmbeddedOptions::default();
    options.max_connections = 1_000_000;
    options.max_connections_per_ip = usize::MAX;
    options.max_anonymous_connections = 1_000_000;
    let realtime = Realtime::builder()
        .config(config())
        .channels(channels())
        .embedded_options(options)
        .build()
        .expect("instant set-up");
    serve_until_stdin_closes!(HttpServer::new(move || {
        App::new().configure(realtime.routes())
    }));
}

/// The bytes of HTML rows streamed per chunk by `--serve-stream`.
const CHUNK: usize = 64 * 1024;

/// `--serve-stream`: an app with `InstantMiddleware` whose `/page/{bytes}` streams an HTML page
/// of that many bytes in 64 KiB chunks, each rendered into a fresh buffer as a template engine
/// would; every visitor is a logged-in member, so the page gets the browser config with tokens.
/// One worker.
pub(crate) fn stream() {
    let realtime = Realtime::builder()
        .config(config())
        .channels(channels())
        .users(|_: &HttpRequest| Some(User::new("42", Level::Users)))
        .build()
        .expect("instant set-up");
    serve_until_stdin_closes!(
        HttpServer::new(move || {
            App::new()
                .wrap(InstantMiddleware)
                .configure(realtime.routes())
                .route("/page/{bytes}", web::get().to(page))
        })
        .workers(1)
    );
}

/// Streams `bytes` of HTML: a head, then table rows, then the end of the page.
async fn page(size: web::Path<usize>) -> HttpResponse {
    let size = size.into_inner();
    let head = Bytes::from_static(
        b"<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Orders</title>\
          <link rel=\"stylesheet\" href=\"/static/site.css\"></head>\n<body><main><table>\n",
    );
    let row =
        "<tr class=\"row\"><td><a href=\"/orders/1/\">Order 1</a></td><td>shipped</td></tr>\n";
    let rows: String = row.repeat(CHUNK / row.len());
    let chunks = size.saturating_sub(head.len()).div_ceil(rows.len());
    let body = futures_util::stream::iter(
        std::iter::once(head)
            // A fresh buffer per chunk, as a renderer would produce; dropped once written.
            .chain((0..chunks).map(move |_| Bytes::copy_from_slice(rows.as_bytes())))
            .chain(std::iter::once(Bytes::from_static(
                b"</table></main></body></html>\n",
            )))
            .map(Ok::<_, std::convert::Infallible>),
    );
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .streaming(body)
}

/// A server started by [`ServerProcess::start`]; killed on drop.
#[derive(Debug)]
pub(crate) struct ServerProcess {
    child: Child,
    _stdin: ChildStdin,
    /// Where it listens.
    pub(crate) addr: SocketAddr,
}

impl ServerProcess {
    /// Starts this executable with `flag` (`--serve-embedded`, `--serve-stream`) and waits for its
    /// address.
    pub(crate) fn start(flag: &str) -> Self {
        // `/proc/self/exe` still runs this very executable when a rebuild replaced its file.
        let exe = std::path::Path::new("/proc/self/exe");
        let mut child = Command::new(exe)
            .arg(flag)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the server process");
        let stdin = child.stdin.take().expect("stdin");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the server announces its address");
        let addr = line
            .trim()
            .strip_prefix("listening ")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line from the server: {line:?}"));
        Self {
            child,
            _stdin: stdin,
            addr,
        }
    }

    /// The process id, for `/proc/<pid>/status`.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A field of `/proc/<pid>/status` in bytes (`VmRSS`, `VmHWM`), or 0 when unreadable.
pub(crate) fn status_bytes(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status.lines().find_map(|l| {
                l.strip_prefix(field)?
                    .strip_prefix(':')?
                    .split_whitespace()
                    .next()?
                    .parse::<u64>()
                    .ok()
            })
        })
        .map_or(0, |kb| kb * 1024)
}

/// The process whose command line mentions `needle` (a Centrifugo started by the test kit, found
/// by its unique configuration path), waiting up to a few seconds for it.
pub(crate) fn pid_of_command_with(needle: &str) -> u32 {
    for _ in 0..50 {
        if let Ok(entries) = std::fs::read_dir("/proc") {
            for entry in entries.flatten() {
                let Some(pid) = entry
                    .file_name()
                    .to_str()
                    .and_then(|n| n.parse::<u32>().ok())
                else {
                    continue;
                };
                let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
                if String::from_utf8_lossy(&cmdline).contains(needle) {
                    return pid;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("no process runs with {needle}");
}
