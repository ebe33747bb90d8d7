// The seed's declarations as an expression, in a `static`, a `const` and a `let`.
#![deny(warnings)]

use instant::{ChannelSet, Level};

static CHANNELS: ChannelSet = instant::channels! {
    superuser "$mysite_admin1" at ["/a/path", "/another/path"],
    superuser "$mysite_admin2",
    staff     "$mysite_staff1" at ["/a/path"],
    staff     "$mysite_staff2",
    users     "$mysite_users1",
    public    "mysite_public1",
    public    "mysite_public2",
};

const PUBLIC_ONLY: ChannelSet = instant::channels! { public "news" };

fn main() {
    assert_eq!(CHANNELS.len(), 7);
    let admin = CHANNELS.get("$mysite_admin1").unwrap();
    assert_eq!(admin.level(), Level::Superuser);
    assert_eq!(admin.paths().collect::<Vec<_>>(), ["/a/path", "/another/path"]);
    assert!(CHANNELS.may_join(Level::Staff, "$mysite_users1"));
    assert!(!CHANNELS.may_join(Level::Users, "$mysite_staff2"));
    assert_eq!(PUBLIC_ONLY.len(), 1);

    let empty: ChannelSet = instant::channels! {};
    assert!(empty.is_empty());
    let local = instant::channels! { users "$u", };
    assert_eq!(local.iter().next().unwrap().name(), "$u");
}
