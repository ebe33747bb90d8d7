// The longest name a pattern makes (its text plus 64 bytes per parameter) must fit in 255 bytes.
instant::channels! {
    pub static CHANNELS;
    users "$a_{a}_{b}_{c}_{d}",
}

fn main() {}
