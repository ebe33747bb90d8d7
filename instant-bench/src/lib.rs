//! Benchmarks of the `instant` workspace live in `benches/`.
