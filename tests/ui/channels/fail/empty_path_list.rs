static CHANNELS: instant::ChannelSet = instant::channels! {
    staff "$mysite_staff1" at [],
};

fn main() {}
