static CHANNELS: instant::ChannelSet = instant::channels! {
    superuser "$mysite_admin1" as ADMIN1,
};

fn main() {}
