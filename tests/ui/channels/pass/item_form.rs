// The item form: a named static and a constant per `as NAME`, with docs and visibility.
#![deny(missing_docs)]
//! A crate that documents everything.

mod channels {
    instant::channels! {
        /// Every channel of the app.
        pub(crate) static CHANNELS;
        /// New orders.
        superuser "$mysite_admin1" at ["/a/path"] as ADMIN1,
        staff "$mysite_staff1" as STAFF1,
        public "mysite_public1",
    }
}

/// The seed's channels as a `const` item.
pub mod seed {
    instant::channels! {
        /// Users and visitors.
        pub const SEED;
        users "$mysite_users1" as USERS1,
        public "mysite_public1" as PUBLIC1,
    }
}

use channels::{ADMIN1, CHANNELS, STAFF1};
use instant::{Channel, Level};

const ADMIN_COPY: &Channel = ADMIN1;

fn main() {
    assert_eq!(CHANNELS.len(), 3);
    assert_eq!(ADMIN1.name(), "$mysite_admin1");
    assert_eq!(ADMIN1.level(), Level::Superuser);
    assert_eq!(ADMIN_COPY.paths().collect::<Vec<_>>(), ["/a/path"]);
    assert_eq!(CHANNELS.get(STAFF1.name()), Some(STAFF1));
    let name: &'static str = ADMIN1.name();
    assert_eq!(name, "$mysite_admin1");
    let as_str: &str = seed::PUBLIC1.as_ref();
    assert_eq!(as_str, "mysite_public1");
    assert_eq!(seed::SEED.get("$mysite_users1"), Some(seed::USERS1));
}
