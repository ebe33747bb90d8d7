// A constant that is not a channel.
const NOT_A_CHANNEL: u32 = 7;

#[derive(serde::Serialize, instant::publishing::TypedEvent)]
#[instant(channel = NOT_A_CHANNEL)]
struct OrderShipped;

fn main() {}
