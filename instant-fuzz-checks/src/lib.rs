//! The properties the fuzz targets in `fuzz/` check, in one place so that the test suite replays
//! the committed corpus through the same code on stable Rust:
//!
//! - [`tokens::check`]: the token verifier never panics and accepts only what its own secret
//!   signed with HS256;
//! - [`inject::check`]: the HTML injector, given any page split into any chunks, answers the page
//!   plus exactly one snippet, or the page unchanged, and the same page served whole exactly as
//!   streamed;
//! - [`frames::check`]: the embedded server answers any frame with a reply or a close code of
//!   Centrifugo's, and keeps serving other clients.
//!
//! [`jwt`] forges tokens with any header, algorithm and key, for the attack tests.

pub mod frames;
pub mod inject;
pub mod jwt;
pub mod tokens;

/// Splits fuzz input into chunks: each `0xFF` byte ends a chunk (and is dropped), so the fuzzer
/// chooses the boundaries.
#[must_use]
pub fn split_chunks(data: &[u8]) -> Vec<Vec<u8>> {
    data.split(|b| *b == 0xFF).map(<[u8]>::to_vec).collect()
}

thread_local! {
    static RUNTIME: actix_rt::SystemRunner = actix_rt::System::new();
}

/// Runs `future` on this thread's actix system (one per thread, reused by every check).
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    RUNTIME.with(|runtime| runtime.block_on(future))
}
