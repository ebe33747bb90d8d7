// Two declarations that can make the same concrete name: `$order_new` is also `$order_{id}`.
instant::channels! {
    pub static CHANNELS;
    users "$order_{id}" as ORDER,
    staff "$order_new",
}

fn main() {}
