//! actix-web integration of `instant`.

mod embedded;
pub use embedded::EmbeddedServer;
