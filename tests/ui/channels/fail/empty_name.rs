static CHANNELS: instant::ChannelSet = instant::channels! {
    public "",
};

fn main() {}
