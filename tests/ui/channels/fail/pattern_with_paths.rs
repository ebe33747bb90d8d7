// A page joins a pattern's channels only when its handler names them, so `at [...]` is refused.
instant::channels! {
    pub static CHANNELS;
    users "$order_{id}" at ["/orders"] as ORDER,
}

fn main() {}
