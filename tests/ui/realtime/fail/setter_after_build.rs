// A built `Realtime` has no setters: changing the set-up after `build()` does not compile, so an
// app can never fork a second set-up (and a second embedded server) by accident.
instant::channels! {
    static CHANNELS;
    public "news",
}

fn main() -> Result<(), instant::SetupError> {
    let realtime = instant::Realtime::builder().build()?;
    let _forked = realtime.channels(CHANNELS.clone());
    Ok(())
}
