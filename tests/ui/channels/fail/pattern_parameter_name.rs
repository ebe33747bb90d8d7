// A parameter must be named by an identifier.
instant::channels! {
    pub static CHANNELS;
    users "$order_{1st}",
}

fn main() {}
