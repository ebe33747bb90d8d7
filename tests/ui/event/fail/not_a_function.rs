instant::channels! { pub static CHANNELS; public "news" as NEWS }

#[instant::event(channel = NEWS)]
struct Index;

fn main() {}
