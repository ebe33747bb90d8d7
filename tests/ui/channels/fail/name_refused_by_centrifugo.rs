static CHANNELS: instant::ChannelSet = instant::channels! {
    public "my channel",
    public "tab\there",
    users "$bell\u{7}",
};

fn main() {}
