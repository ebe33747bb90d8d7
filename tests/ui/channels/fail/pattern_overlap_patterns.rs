// Two patterns that make the same names, whatever their parameters are called.
instant::channels! {
    pub static CHANNELS;
    users "$order_{id}",
    staff "$order_{number}",
}

fn main() {}
