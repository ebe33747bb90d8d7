// `{` and `}` appear only around parameters.
instant::channels! {
    pub static CHANNELS;
    users "$order_{id",
}

fn main() {}
