static CHANNELS: instant::ChannelSet = instant::channels! {
    staff "$mysite_staff1" at ["/a/path", "another/path"],
};

fn main() {}
