static CHANNELS: instant::ChannelSet = instant::channels! {
    "$mysite_admin1",
};

fn main() {}
