//! The Centrifugo client's fire-and-forget queue: what `publish_detached` costs the caller, which
//! must never wait for the network.
//!
//! Target (2-core machine): **< 5 µs per call** in every state of the server:
//! - up: the embedded server's HTTP API on `127.0.0.1`, delivering while the caller publishes (the
//!   queue is flushed between samples, outside the measured time);
//! - down: nothing listens on the port; the worker's sends fail and it drops the batches (no retry);
//! - down with the queue full: the call only counts the dropped event.

// criterion_group! generates a public function without docs.
#![allow(missing_docs)]

use std::time::{Duration, Instant as Clock};

use criterion::{Criterion, criterion_group, criterion_main};
use instant_actix::EmbeddedOptions;
use instant_bench::{API_KEY, SECRET, ServedEmbedded, sample_event};
use instant_core::{Backend as _, CentrifugoClient, ClientOptions, Config};

fn client(url: &str, options: ClientOptions) -> CentrifugoClient {
    let config = Config::builder()
        .secret(SECRET)
        .api_key(API_KEY)
        .centrifugo_url(url)
        .publish_timeout(Duration::from_secs(2))
        .build()
        .expect("a valid configuration");
    CentrifugoClient::with_options(&config, options).expect("a client")
}

/// A loopback URL where nothing listens.
fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    drop(listener);
    format!("http://{addr}")
}

fn detached(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut group = c.benchmark_group("publish_detached");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));

    let served = ServedEmbedded::start(EmbeddedOptions::default(), 1);
    let up = client(
        &served.http_url(),
        ClientOptions::default().queue_capacity(1 << 21),
    );
    let mut n = 0_u64;
    group.bench_function("server up", |b| {
        b.iter_custom(|iters| {
            let events: Vec<_> = (0..iters).map(|i| sample_event(n + i)).collect();
            n += iters;
            let start = Clock::now();
            for event in events {
                up.publish_detached(event);
            }
            let spent = start.elapsed();
            runtime.block_on(up.flush());
            spent
        });
    });
    let stats = up.stats();
    assert_eq!(stats.dropped, 0, "{stats:?}");
    assert_eq!(stats.delivered, stats.queued, "{stats:?}");

    let down = client(
        &closed_port_url(),
        ClientOptions::default()
            .queue_capacity(1 << 21)
            .max_retries(0),
    );
    group.bench_function("server down", |b| {
        b.iter_custom(|iters| {
            let events: Vec<_> = (0..iters).map(sample_event).collect();
            let start = Clock::now();
            for event in events {
                down.publish_detached(event);
            }
            let spent = start.elapsed();
            runtime.block_on(down.flush());
            spent
        });
    });
    assert_eq!(down.stats().delivered, 0);

    let full = client(
        &closed_port_url(),
        ClientOptions::default()
            .queue_capacity(16)
            .max_retries(1_000)
            .retry_delay(Duration::from_secs(60)),
    );
    for i in 0..1_000 {
        full.publish_detached(sample_event(i));
    }
    group.bench_function("server down, queue full", |b| {
        b.iter_batched(
            || sample_event(1),
            |event| full.publish_detached(event),
            criterion::BatchSize::SmallInput,
        );
    });
    assert!(full.stats().dropped > 0);
    group.finish();
}

criterion_group!(benches, detached);
criterion_main!(benches);
