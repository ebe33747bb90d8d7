instant::channels! {
    pub static CHANNELS;
    superuser "mysite_admin1",
    staff "$mysite_staff1",
    users "mysite_users1",
}

fn main() {}
