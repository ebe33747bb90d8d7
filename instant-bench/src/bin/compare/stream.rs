//! Comparison 7: the server's peak memory while `InstantMiddleware` streams a 50 MB HTML page to
//! a logged-in user, measured on a server in a process of its own (`--serve-stream`).

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};

use crate::Plan;
use crate::report::{Measure, Ratio, Section, Unit};
use crate::serve::{ServerProcess, status_bytes};

/// The most the peak resident memory may grow while the page streams.
const TARGET: u64 = 4 * 1024 * 1024;

/// Fetches `/page/{size}` and reads it to the end; returns the bytes read and whether the page
/// carries the browser config (the middleware injected it).
fn fetch(addr: SocketAddr, size: usize) -> (usize, bool) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    write!(
        stream,
        "GET /page/{size} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/html\r\nConnection: close\r\n\r\n"
    )
    .expect("send the request");
    let mut buffer = vec![0u8; 64 * 1024];
    let mut head = Vec::with_capacity(256 * 1024);
    let mut total = 0;
    loop {
        let n = stream.read(&mut buffer).expect("read the page");
        if n == 0 {
            break;
        }
        if head.len() < 256 * 1024 {
            head.extend_from_slice(&buffer[..n]);
        }
        total += n;
    }
    let text = String::from_utf8_lossy(&head);
    assert!(
        text.starts_with("HTTP/1.1 200"),
        "the page: {}",
        &text[..text.len().min(200)]
    );
    (total, text.contains("id=\"instant-config\""))
}

pub(crate) fn run(plan: &Plan) -> Section {
    let size: usize = if plan.smoke { 5 << 20 } else { 50 << 20 };
    println!(
        "compare: streamed page of {} MiB, {} repetitions",
        size >> 20,
        plan.reps
    );
    let mut growth = Vec::new();
    let mut baselines = Vec::new();
    for rep in 0..plan.reps {
        let server = ServerProcess::start("--serve-stream");
        // Warm-up: a 1 MiB page through the same path, so that buffers and allocator arenas
        // exist before the baseline.
        let (_, injected) = fetch(server.addr, 1 << 20);
        assert!(injected, "the middleware injects the browser config");
        let before = status_bytes(server.pid(), "VmHWM");
        let (read, injected) = fetch(server.addr, size);
        assert!(injected, "the middleware injects the browser config");
        assert!(read >= size, "only {read} of {size} bytes arrived");
        let after = status_bytes(server.pid(), "VmHWM");
        println!(
            "compare: stream rep={}: peak RSS {} before, {} after ({} bytes read)",
            rep + 1,
            crate::report::bytes(before as f64),
            crate::report::bytes(after as f64),
            read
        );
        baselines.push(before as f64);
        growth.push(after.saturating_sub(before) as f64);
    }
    let page = format!("{} MiB page", size >> 20);
    let peak = Measure {
        label: "peak RSS before the page (after a 1 MiB warm-up page)".to_owned(),
        size: page.clone(),
        samples: baselines,
        work: 0.0,
    };
    let grown = Measure {
        label: "peak RSS growth while the page streamed".to_owned(),
        size: page.clone(),
        samples: growth.clone(),
        work: 0.0,
    };
    let median = crate::report::median(&growth);
    let ratio = Ratio {
        label: "peak RSS growth / 4 MiB".to_owned(),
        size: page,
        samples: growth.iter().map(|g| g / TARGET as f64).collect(),
        target: Some(("< 1.0× (growth < 4 MiB)".to_owned(), median < TARGET as f64)),
    };
    Section {
        title: "7. InstantMiddleware: peak memory while streaming a 50 MB page".to_owned(),
        chart: "stream-memory.svg".to_owned(),
        intro: vec![format!(
            "An actix-web app with `InstantMiddleware` (one worker, in a process of its own) \
             answers `/page/{{bytes}}` with a streaming body: an HTML head, then 64 KiB chunks of \
             table rows, each rendered into a fresh buffer as a template engine would. Every \
             visitor is a logged-in member, so the middleware injects the browser config with a \
             connection token and a subscription token before `</head>`, then passes the rest \
             through. One client fetches a 1 MiB page (warm-up), then a {} MiB page, reading as \
             fast as it can; the figure is the growth of the server process's peak resident \
             memory (`VmHWM` in `/proc/<pid>/status`) over the page. A fresh server per \
             repetition, since the peak never goes down.",
            size >> 20
        )],
        setup: Vec::new(),
        unit: Unit::Bytes,
        measures: vec![peak, grown],
        ratios: vec![ratio],
        notes: crate::findings::STREAM
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
    }
}
