//! Publishing throughput against a real Centrifugo v6: awaited publishes one after another,
//! one ordered batch, and fire-and-forget events until delivered.
//!
//! django-instant took 2.96 s for 1,000 messages (1.41 s with its Go helper) because it opened a
//! connection per message; this client keeps one alive. Run with `cargo bench -p instant-bench`
//! (Centrifugo found as the tests find it: `INSTANT_CENTRIFUGO_BIN`, `.tools/bin`, `PATH`).
//!
//! Targets (2-core machine, Centrifugo on the same machine): awaited publishes **≥ 2,000 events/s**
//! (django-instant: 338/s), one batch and fire-and-forget **≥ 20,000 events/s**.

// criterion_group! generates a public function without docs.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use instant_core::{Backend, CentrifugoClient, Event};
use instant_testkit::{Centrifugo, CentrifugoOptions};
use serde_json::json;

const MESSAGES: u64 = 1_000;

fn event(i: u64) -> Event {
    Event::new("bench", "bench", format!("message {i}"))
        .with_event_class("info")
        .with_data(json!({"i": i, "text": "a short payload like an app would send"}))
}

fn publishing(c: &mut Criterion) {
    let server = Centrifugo::start(CentrifugoOptions::default().history(0, Duration::ZERO));
    let client = CentrifugoClient::new(&server.config()).expect("client");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");

    let mut group = c.benchmark_group("publish 1,000 events");
    group.sample_size(10);
    group.throughput(Throughput::Elements(MESSAGES));
    group.bench_function("awaited, one after another", |b| {
        b.iter(|| {
            runtime.block_on(async {
                for i in 0..MESSAGES {
                    black_box(client.publish(event(i)).await.expect("publish"));
                }
            });
        });
    });
    group.bench_function("one ordered batch", |b| {
        let events: Vec<Event> = (0..MESSAGES).map(event).collect();
        b.iter(|| black_box(runtime.block_on(client.batch(&events)).expect("batch")));
    });
    group.bench_function("fire-and-forget until delivered", |b| {
        b.iter(|| {
            for i in 0..MESSAGES {
                client.publish_detached(event(i));
            }
            runtime.block_on(client.flush());
        });
    });
    group.finish();
    assert_eq!(client.stats().dropped, 0, "{:?}", client.stats());
}

criterion_group!(benches, publishing);
criterion_main!(benches);
