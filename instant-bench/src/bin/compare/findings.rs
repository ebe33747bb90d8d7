//! What the profiles showed, written into `BENCHMARKS.md` beside the figures.

/// The middleware's profile and what was changed.
pub(crate) const MIDDLEWARE: &[&str] = &[];
