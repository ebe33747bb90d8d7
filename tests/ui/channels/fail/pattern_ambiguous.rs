// A parameter followed by another, or by text a value may hold, could be read in several ways.
instant::channels! {
    pub static CHANNELS;
    staff "$board_{team}{board}",
    staff "$team_{team}-{board}",
    staff "$item_{id}x",
}

fn main() {}
