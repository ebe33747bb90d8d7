instant::channels! {
    static CHANNELS;
    staff "$orders" as ORDERS,
}

#[derive(serde::Serialize, instant::publishing::TypedEvent)]
#[instant(channel = ORDERS, mesage = "Shipped", colour = "red")]
struct OrderShipped {
    id: u64,
}

fn main() {}
