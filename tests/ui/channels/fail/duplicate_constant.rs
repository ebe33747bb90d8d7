instant::channels! {
    pub static CHANNELS;
    superuser "$mysite_admin1" as ADMIN,
    staff "$mysite_staff1" as ADMIN,
}

fn main() {}
