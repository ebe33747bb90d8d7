instant::channels! {
    static CHANNELS;
    staff "$orders" as ORDERS,
}

const CLASS: &str = "ok";

#[derive(serde::Serialize, instant::publishing::TypedEvent)]
#[instant(channel = ORDERS, class = CLASS, message = "a")]
#[instant(message = "b", channel = ORDERS)]
struct OrderShipped {
    id: u64,
}

fn main() {}
