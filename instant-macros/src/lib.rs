//! Implementation detail of the `instant` crate; use the macros through `instant`.
