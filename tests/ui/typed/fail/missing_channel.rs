#[derive(serde::Serialize, instant::publishing::TypedEvent)]
#[instant(class = "ok", message = "Shipped")]
struct OrderShipped {
    id: u64,
}

fn main() {}
