static CHANNELS: instant::ChannelSet = instant::channels! {
    superuser "$mysite_admin1" at ["/a/path"]
    staff "$mysite_staff1"
    public "mysite_public1",
};

fn main() {}
