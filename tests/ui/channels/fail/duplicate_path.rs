static CHANNELS: instant::ChannelSet = instant::channels! {
    staff "$mysite_staff1" at ["/a/path", "/b", "/a/path"],
};

fn main() {}
