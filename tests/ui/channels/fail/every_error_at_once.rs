// One invocation reports all its mistakes, each at its token.
instant::channels! {
    pub static CHANNELS;
    staff "mysite_staff1" as STAFF1,
    public "$mysite_public1",
    stafff "$mysite_staff2" at ["relative"],
    users "$mysite_users1" at [],
    users "$mysite_users1",
}

fn main() {
    // The static and the constants still exist: no secondary errors here.
    let _ = (&CHANNELS, STAFF1.name());
}
