//! The embedded server's fan-out: one event published in-process (`Backend::publish`) to a channel
//! with N = 1, 100 and 1,000 WebSocket subscribers, real connections on `127.0.0.1` speaking
//! Centrifugo's JSON protocol (the server on 2 actix workers, the clients on a thread of their own,
//! all on this machine's 2 cores).
//!
//! Two measures per N:
//! - **publish call**: the time the publishing code spends in `publish` (serialize once, store in
//!   history, queue the shared frame for every subscriber). Each publication is delivered before the
//!   next starts, outside the measured time. Target: **< 1 µs per subscriber plus < 20 µs**, i.e.
//!   under 1 ms for 1,000 subscribers; the payload is serialized once per publish, not per
//!   subscriber (the memory check asserts it through allocations).
//! - **until delivered**: from the call until every subscriber has read the publication from its
//!   socket. Target: **< 20 ms for 1,000 subscribers** (≥ 50,000 deliveries/s).

// criterion_group! generates a public function without docs.
#![allow(missing_docs)]

use std::time::{Duration, Instant as Clock};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use futures_util::FutureExt as _;
use instant_actix::{EmbeddedOptions, EmbeddedServer};
use instant_bench::{ServedEmbedded, Subscribers, sample_event};
use instant_core::Backend as _;

const SUBSCRIBERS: [usize; 3] = [1, 100, 1_000];

fn publish(server: &EmbeddedServer, n: u64) {
    server
        .publish(sample_event(n))
        .now_or_never()
        .expect("the embedded server publishes synchronously")
        .expect("published");
}

/// Waits until the server has let go of every closed connection.
fn wait_until_closed(served: &ServedEmbedded) {
    let deadline = Clock::now() + Duration::from_secs(30);
    while served.server.open_connections() > 0 && Clock::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn fan_out(c: &mut Criterion) {
    let served = ServedEmbedded::start(EmbeddedOptions::default(), 2);
    let server = served.server.clone();
    let mut published = 0_u64;
    for n in SUBSCRIBERS {
        let mut subscribers = Subscribers::connect(&served.ws_url(), n);

        let mut group = c.benchmark_group("fan-out publish call");
        group
            .sample_size(10)
            .warm_up_time(Duration::from_millis(50))
            .measurement_time(Duration::from_millis(250));
        group.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter_custom(|iters| {
                let mut spent = Duration::ZERO;
                for _ in 0..iters {
                    published += 1;
                    subscribers.expect(1);
                    let start = Clock::now();
                    publish(&server, published);
                    spent += start.elapsed();
                    subscribers.wait();
                }
                spent
            });
        });
        group.finish();

        let mut group = c.benchmark_group("fan-out until delivered");
        group
            .sample_size(20)
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_secs(2))
            .throughput(Throughput::Elements(n as u64));
        group.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter_custom(|iters| {
                let start = Clock::now();
                for _ in 0..iters {
                    published += 1;
                    subscribers.expect(1);
                    publish(&server, published);
                    subscribers.wait();
                }
                start.elapsed()
            });
        });
        group.finish();

        drop(subscribers);
        wait_until_closed(&served);
    }
}

criterion_group!(benches, fan_out);
criterion_main!(benches);
