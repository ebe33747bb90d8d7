// A parameter name appears once per pattern.
instant::channels! {
    pub static CHANNELS;
    staff "$pair_{id}_{id}",
}

fn main() {}
