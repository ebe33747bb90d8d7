// `send` takes typed events only; a plain serde type is refused at compile time.
#[derive(serde::Serialize)]
struct OrderShipped {
    id: u64,
}

fn main() {
    let publisher = instant::testing::RecordingBackend::new().publisher("mysite");
    publisher.send(OrderShipped { id: 1 }).detach();
}
