#[derive(serde::Serialize, instant::publishing::TypedEvent)]
struct OrderShipped {
    id: u64,
}

fn main() {}
