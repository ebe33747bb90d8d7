// Typed events on a constant or a literal channel, with and without class and message, split
// attributes and generics, sent through a publisher and a deferred scope.
#![deny(warnings)]

use instant::publishing::TypedEvent;
use serde::Serialize;

instant::channels! {
    pub static CHANNELS;
    staff "$orders" as ORDERS,
}

#[derive(Serialize, TypedEvent)]
#[instant(channel = ORDERS, class = "object edited", message = "Order shipped")]
struct OrderShipped {
    id: u64,
}

#[derive(Serialize, TypedEvent)]
#[instant(channel = "news")]
#[instant(message = "Tick")]
struct Tick;

#[derive(Serialize, TypedEvent)]
#[instant(channel = crate::ORDERS, class = "info")]
struct Wrapped<T: Serialize> {
    inner: T,
}

async fn send_them(publisher: instant::Publisher) -> Result<(), instant::PublishError> {
    publisher.send(OrderShipped { id: 1 }).await?;
    publisher.send(Tick).detach();
    let mut deferred = publisher.deferred();
    deferred.send(Wrapped { inner: "x" });
    deferred.commit().await?;
    Ok(())
}

fn main() {
    assert_eq!(OrderShipped::channel(), "$orders");
    assert_eq!(<Tick as TypedEvent>::CLASS, "");
    assert_eq!(Wrapped::<u8>::channel(), "$orders");
    let _ = send_them;
}
