// A syntax error in the attribute is reported once; the type still implements `TypedEvent`.
#[derive(serde::Serialize, instant::publishing::TypedEvent)]
#[instant(channel "news")]
struct OrderShipped;

fn main() {
    let publisher = instant::testing::RecordingBackend::new().publisher("mysite");
    publisher.send(OrderShipped).detach();
}
