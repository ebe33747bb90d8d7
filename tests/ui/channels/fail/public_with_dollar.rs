static CHANNELS: instant::ChannelSet = instant::channels! {
    public "$mysite_public1",
};

fn main() {}
