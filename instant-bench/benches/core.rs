//! The core's hot paths, run for every page view and every publish.
//!
//! Targets (2-core machine): minting a connection token, minting a subscription token and
//! verifying either takes **< 10 µs** each; building an `Event` and serializing it to the JSON
//! publication body takes **< 5 µs**.

// criterion_group! generates a public function without docs.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use instant_bench::{SECRET, sample_event};
use instant_core::{Secret, Tokens};
use serde_json::json;

fn tokens(c: &mut Criterion) {
    let tokens = Tokens::new(Secret::new(SECRET.to_owned()), Duration::from_secs(3600));
    let info = json!({"name": "Ada", "level": "staff"});
    let connection = tokens.connection("42", Some(&info));
    let subscription = tokens.subscription("42", "$users");

    let mut group = c.benchmark_group("tokens");
    group.bench_function("mint connection token", |b| {
        b.iter(|| tokens.connection(black_box("42"), None));
    });
    group.bench_function("mint connection token with info", |b| {
        b.iter(|| tokens.connection(black_box("42"), Some(black_box(&info))));
    });
    group.bench_function("mint subscription token", |b| {
        b.iter(|| tokens.subscription(black_box("42"), black_box("$users")));
    });
    group.bench_function("verify connection token", |b| {
        b.iter(|| {
            tokens
                .verify_connection(black_box(&connection))
                .expect("valid")
        });
    });
    group.bench_function("verify subscription token", |b| {
        b.iter(|| {
            tokens
                .verify_subscription(black_box(&subscription), "$users", "42")
                .expect("valid")
        });
    });
    group.finish();
}

fn events(c: &mut Criterion) {
    let mut group = c.benchmark_group("events");
    group.bench_function("build event", |b| {
        b.iter(|| sample_event(black_box(7)));
    });
    group.bench_function("build and serialize to publication data", |b| {
        b.iter(|| serde_json::to_vec(&sample_event(black_box(7))).expect("serializable"));
    });
    let event = sample_event(7);
    group.bench_function("serialize to raw publication data", |b| {
        b.iter(|| serde_json::value::to_raw_value(black_box(&event)).expect("serializable"));
    });
    group.bench_function("serialize to a Centrifugo publish command", |b| {
        b.iter(|| {
            serde_json::to_vec(&json!({"channel": &event.channel, "data": black_box(&event)}))
                .expect("serializable")
        });
    });
    group.finish();
}

fn quick() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = quick();
    targets = tokens, events
}
criterion_main!(benches);
