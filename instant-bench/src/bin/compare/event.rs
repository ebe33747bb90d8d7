//! Comparison 4: the same handler with and without `#[instant::event]`, requests per second under
//! `wrk`, one server worker. The event goes to the embedded server, in the background (the
//! attribute's default), as an app would use it.

use std::sync::mpsc;

use actix_web::{App, HttpServer, web};
use instant_bench::{WAIT, config};
use serde::Serialize;

use crate::Plan;
use crate::middleware::{load, wrk};
use crate::report::{Measure, Ratio, Section, Unit};

instant::channels! {
    static CHANNELS;
    public "news" as NEWS,
    users "$users",
}

/// What the handler answers.
#[derive(Debug, Serialize)]
struct Order {
    id: u64,
    status: &'static str,
}

/// The handler without the attribute.
async fn plain() -> web::Json<Order> {
    web::Json(Order {
        id: 1,
        status: "created",
    })
}

/// The same handler, publishing an event after each successful response.
#[instant::event(channel = NEWS, class = "object created", message = "New order")]
async fn with_event() -> web::Json<Order> {
    web::Json(Order {
        id: 1,
        status: "created",
    })
}

/// Serves one app with the handler at `/orders`, on one worker; returns its address and handle.
fn serve(with: bool) -> (std::net::SocketAddr, actix_web::dev::ServerHandle) {
    let realtime = instant::Realtime::builder()
        .config(config())
        .channels(CHANNELS.clone())
        .build()
        .expect("instant set-up");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        actix_rt::System::new().block_on(async move {
            let http = HttpServer::new(move || {
                let app = App::new().configure(realtime.routes());
                if with {
                    app.route("/orders", web::get().to(with_event))
                } else {
                    app.route("/orders", web::get().to(plain))
                }
            })
            .workers(1)
            .bind(("127.0.0.1", 0))
            .expect("bind a loopback port");
            let addr = http.addrs()[0];
            let running = http.run();
            tx.send((addr, running.handle())).expect("the caller waits");
            running.await.expect("the server runs");
        });
    });
    rx.recv_timeout(WAIT).expect("the server starts")
}

/// `--serve-event`: serves both apps (with and without the attribute) and prints their addresses,
/// until stdin closes, for a profiler run by hand (`valgrind --tool=callgrind`, then `wrk`).
pub(crate) fn serve_for_profiling() {
    let (with_addr, _with_handle) = serve(true);
    let (plain_addr, _plain_handle) = serve(false);
    println!("with #[instant::event]: http://{with_addr}/orders");
    println!("without: http://{plain_addr}/orders");
    let mut sink = Vec::new();
    let _ = std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut sink);
}

pub(crate) fn run(plan: &Plan) -> Section {
    let secs = if plan.smoke { 1 } else { 3 };
    println!(
        "compare: #[instant::event], wrk {secs} s per run, {} repetitions",
        plan.reps
    );
    let (with_addr, with_handle) = serve(true);
    let (plain_addr, plain_handle) = serve(false);
    let mut plain_rps = Vec::new();
    let mut event_rps = Vec::new();
    for rep in 0..plan.reps {
        plain_rps.push(load(&format!("http://{plain_addr}/orders"), secs));
        event_rps.push(load(&format!("http://{with_addr}/orders"), secs));
        println!(
            "compare: event rep={}: without {:.0} req/s, with {:.0} req/s",
            rep + 1,
            plain_rps[rep],
            event_rps[rep]
        );
    }
    drop(with_handle.stop(false));
    drop(plain_handle.stop(false));
    let size = "JSON handler".to_owned();
    let a = Measure {
        label: "without #[instant::event]".to_owned(),
        size: size.clone(),
        samples: plain_rps,
        work: 0.0,
    };
    let b = Measure {
        label: "with #[instant::event]".to_owned(),
        size,
        samples: event_rps,
        work: 0.0,
    };
    let ratio = Ratio::of(
        "with / without (throughput kept)",
        &b,
        &a,
        Some(("≥ 0.97× (≤ 3% loss)", |r| r >= 0.97)),
    );
    Section {
        title: "4. #[instant::event]: the same handler with and without the attribute".to_owned(),
        chart: "event.svg".to_owned(),
        intro: vec![
            "A handler answering a small JSON body, registered by hand at `/orders`, in two apps \
             with the same routes (`realtime.routes()`, the embedded server, no middleware), one \
             server worker each; `wrk` (one thread, 32 connections) loads them in turn. With the \
             attribute, every successful response publishes an event (class, message, the \
             handler's JSON as data) through the app's publisher, in the background (the \
             default, no `wait`)."
                .to_owned(),
        ],
        setup: vec![format!(
            "Load generator: {}, {secs} s per run",
            crate::version_of(&wrk(), &["-v"])
        )],
        unit: Unit::PerSecond,
        measures: vec![a, b],
        ratios: vec![ratio],
        notes: crate::findings::EVENT
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
    }
}
