static CHANNELS: instant::ChannelSet = instant::channels! {
    supreuser "$mysite_admin1",
    user "$mysite_users1",
    admin "$mysite_admin2",
};

fn main() {}
