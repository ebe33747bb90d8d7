static CHANNELS: instant::ChannelSet = instant::channels! {
    staff "$mysite_staff1",
    public "mysite_public1",
    superuser "$mysite_staff1",
};

fn main() {}
