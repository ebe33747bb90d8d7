// A literal name Centrifugo refuses, and a channel that is neither a constant nor a literal.
#[derive(serde::Serialize, instant::publishing::TypedEvent)]
#[instant(channel = "has space")]
struct Spaced;

#[derive(serde::Serialize, instant::publishing::TypedEvent)]
#[instant(channel = 40 + 2)]
struct Computed;

fn main() {}
