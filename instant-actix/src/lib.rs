//! actix-web integration of `instant`.
