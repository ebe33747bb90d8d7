// A syntax error is reported once; the static and the named constants are still declared.
instant::channels! {
    pub static CHANNELS;
    superuser "$mysite_admin1" as ADMIN1,
    staff "$mysite_staff1" at "/a/path" as STAFF1,
}

fn main() {
    let _ = (CHANNELS.len(), ADMIN1.name(), STAFF1.name());
}
