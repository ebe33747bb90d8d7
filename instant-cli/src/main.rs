//! The `instant` command.

fn main() {}
