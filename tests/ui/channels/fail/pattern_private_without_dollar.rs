// The `$` rules of the levels apply to patterns as to fixed names.
instant::channels! {
    pub static CHANNELS;
    users "order_{id}",
    public "$news_{topic}",
}

fn main() {}
