//! The `instant` demo app.

fn main() {}
