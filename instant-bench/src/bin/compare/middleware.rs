//! Comparison 3: requests per second through an actix-web app with and without
//! `InstantMiddleware`, one server worker, loaded by `wrk` on loopback.

use std::process::Command;
use std::sync::mpsc;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use bytes::Bytes;
use instant_actix::{InstantMiddleware, Realtime, User};
use instant_bench::{WAIT, channels, config, html_page};
use instant_core::Level;
use serde_json::json;

use crate::Plan;
use crate::report::{Measure, Ratio, Section, Unit};

/// The pages: path, label, body, content type.
fn pages() -> Vec<(&'static str, &'static str, Bytes, &'static str)> {
    let items: Vec<_> = (0..20)
        .map(|n| json!({"id": n, "model": "shop.Order", "status": "shipped", "total": "149.90"}))
        .collect();
    vec![
        (
            "/page-10k",
            "10 KB HTML page",
            Bytes::from(html_page(10 * 1024)),
            "text/html; charset=utf-8",
        ),
        (
            "/page-1m",
            "1 MB HTML page",
            Bytes::from(html_page(1024 * 1024)),
            "text/html; charset=utf-8",
        ),
        (
            "/data",
            "JSON response (1.4 KB)",
            Bytes::from(json!({ "orders": items }).to_string()),
            "application/json",
        ),
    ]
}

/// An app serving [`pages`] on one worker, with or without the middleware; stopped on drop.
struct Served {
    addr: std::net::SocketAddr,
    handle: actix_web::dev::ServerHandle,
}

impl Served {
    fn start(with_middleware: bool) -> Self {
        let realtime = Realtime::builder()
            .config(config())
            .channels(channels())
            // Every visitor is a logged-in member: the page gets a connection token and a
            // subscription token for the private channel `$users`.
            .users(|_: &HttpRequest| Some(User::new("42", Level::Users)))
            .build()
            .expect("instant set-up");
        let (tx, rx) = mpsc::channel();
        let pages = pages();
        std::thread::spawn(move || {
            actix_rt::System::new().block_on(async move {
                let serve = move |cfg: &mut web::ServiceConfig| {
                    for (path, _, body, content_type) in pages.clone() {
                        cfg.route(
                            path,
                            web::get().to(move || {
                                let body = body.clone();
                                async move { HttpResponse::Ok().content_type(content_type).body(body) }
                            }),
                        );
                    }
                };
                // Two server types: the app without the middleware has no wrapper at all.
                macro_rules! serve {
                    ($app:expr) => {{
                        let http = HttpServer::new($app)
                            .workers(1)
                            .bind(("127.0.0.1", 0))
                            .expect("bind a loopback port");
                        let addr = http.addrs()[0];
                        let running = http.run();
                        tx.send((addr, running.handle())).expect("the caller waits");
                        running.await.expect("the server runs");
                    }};
                }
                if with_middleware {
                    serve!(move || App::new()
                        .wrap(InstantMiddleware)
                        .configure(realtime.routes())
                        .configure(serve.clone()));
                } else {
                    serve!(move || App::new()
                        .configure(realtime.routes())
                        .configure(serve.clone()));
                }
            });
        });
        let (addr, handle) = rx.recv_timeout(WAIT).expect("the server starts");
        Self { addr, handle }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

/// `wrk` from `INSTANT_WRK`, else `wrk` on `PATH`.
pub(crate) fn wrk() -> String {
    std::env::var("INSTANT_WRK")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "wrk".to_owned())
}

/// Requests per second `wrk` reaches on `url` in `secs` seconds, one thread, 32 connections.
pub(crate) fn load(url: &str, secs: u32) -> f64 {
    let output = Command::new(wrk())
        .args(["-t1", "-c32", &format!("-d{secs}s"), url])
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run wrk ({e}); `cargo xtask bench --compare` installs it")
        });
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        !text.contains("Non-2xx"),
        "wrk saw failed responses on {url}: {text}"
    );
    text.lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no Requests/sec in wrk's output: {text}"))
}

/// Serves both apps for two minutes and prints their addresses, for a profiler run by hand.
pub(crate) fn serve_for_profiling() {
    let with = Served::start(true);
    let without = Served::start(false);
    println!("with the middleware: http://{}", with.addr);
    println!("without: http://{}", without.addr);
    std::thread::sleep(std::time::Duration::from_secs(120));
}

pub(crate) fn run(plan: &Plan) -> Vec<Section> {
    let secs = if plan.smoke { 1 } else { 3 };
    println!(
        "compare: middleware, wrk {secs} s per run, {} repetitions",
        plan.reps
    );
    let with = Served::start(true);
    let without = Served::start(false);
    // The middleware really rewrites the pages of the app that has it, and only those.
    check_injection(&with, &without);

    let mut measures = Vec::new();
    let mut ratios = Vec::new();
    for (path, label, _, content_type) in pages() {
        let mut plain = Vec::new();
        let mut wrapped = Vec::new();
        for rep in 0..plan.reps {
            plain.push(load(&format!("http://{}{path}", without.addr), secs));
            wrapped.push(load(&format!("http://{}{path}", with.addr), secs));
            println!(
                "compare: middleware {label} rep={}: without {:.0} req/s, with {:.0} req/s",
                rep + 1,
                plain[rep],
                wrapped[rep]
            );
        }
        let a = Measure {
            label: "without InstantMiddleware".to_owned(),
            size: label.to_owned(),
            samples: plain,
            work: 0.0,
        };
        let b = Measure {
            label: "with InstantMiddleware".to_owned(),
            size: label.to_owned(),
            samples: wrapped,
            work: 0.0,
        };
        let html = content_type.starts_with("text/html");
        ratios.push(Ratio::of(
            "with / without (throughput kept)",
            &b,
            &a,
            Some(if html {
                ("≥ 0.95× (≤ 5% loss)", |r: f64| r >= 0.95)
            } else {
                ("≥ 0.99× (≤ 1% loss)", |r: f64| r >= 0.99)
            }),
        ));
        measures.extend([a, b]);
    }

    vec![Section {
        title: "3. InstantMiddleware: requests per second with and without it".to_owned(),
        chart: "middleware.svg".to_owned(),
        intro: vec![
            "One actix-web app per variant, one server worker each, on loopback; `wrk` with one \
             thread and 32 keep-alive connections loads one of them at a time, the two variants \
             in turn within every repetition. Every request comes from a logged-in member, so an \
             HTML page gets the browser config with a connection token and a subscription token \
             for the private channel `$users`. The handlers answer with a prepared body (no \
             template rendering), which makes the middleware's share as large as it can be."
                .to_owned(),
        ],
        setup: vec![
            format!(
                "Load generator: {}, {secs} s per run",
                crate::version_of(&wrk(), &["-v"])
            ),
            "Pages: a server-rendered list page (`<head>` with styles, then table rows), sent \
             as one body; JSON: an object of 20 orders"
                .to_owned(),
        ],
        unit: Unit::PerSecond,
        measures,
        ratios,
        notes: crate::findings::MIDDLEWARE
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
    }]
}

/// One request to each app: the pages with the middleware carry the config once, the others not.
fn check_injection(with: &Served, without: &Served) {
    let get = |addr: std::net::SocketAddr, path: &str| -> String {
        use std::io::{Read as _, Write as _};
        let mut stream = std::net::TcpStream::connect(addr).expect("connect");
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .expect("send a request");
        let mut text = String::new();
        stream.read_to_string(&mut text).expect("read the answer");
        text
    };
    for (path, _, _, content_type) in pages() {
        let injected = get(with.addr, path)
            .matches("id=\"instant-config\"")
            .count();
        let expected = usize::from(content_type.starts_with("text/html"));
        assert_eq!(injected, expected, "{path} with the middleware");
        assert_eq!(
            get(without.addr, path)
                .matches("id=\"instant-config\"")
                .count(),
            0,
            "{path} without the middleware"
        );
    }
}
