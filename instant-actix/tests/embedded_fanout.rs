//! Fan-out under concurrency: many subscribers, several threads publishing at once through the
//! in-process backend; every subscriber gets every publication exactly once, in offset order.

mod embedded_support;

use std::sync::Arc;

use embedded_support::{RawClient, TestServer};
use instant_core::{Backend, Event};
use serde_json::json;

const SUBSCRIBERS: usize = 60;
const PUBLISHERS: usize = 3;
const PER_PUBLISHER: usize = 40;

#[actix_rt::test]
async fn every_subscriber_gets_every_publication_once_and_in_offset_order() {
    let server = TestServer::with_defaults();
    let mut clients = Vec::with_capacity(SUBSCRIBERS);
    for _ in 0..SUBSCRIBERS {
        let mut client = RawClient::open(&server.ws_url()).await;
        client.connect("").await;
        client.call("subscribe", json!({"channel": "news"})).await;
        clients.push(client);
    }

    let backend: Arc<dyn Backend> = Arc::new(server.server.clone());
    let publishers: Vec<_> = (0..PUBLISHERS)
        .map(|p| {
            let backend = Arc::clone(&backend);
            std::thread::spawn(move || {
                for n in 0..PER_PUBLISHER {
                    let event = Event::new("site", "news", format!("{p}-{n}"));
                    backend.publish_detached(event);
                }
            })
        })
        .collect();
    for publisher in publishers {
        publisher.join().unwrap();
    }

    let total = PUBLISHERS * PER_PUBLISHER;
    for client in &mut clients {
        let mut offsets = Vec::with_capacity(total);
        let mut messages = Vec::with_capacity(total);
        while offsets.len() < total {
            let push = client.push().await;
            if let Some(publication) = push.get("pub") {
                offsets.push(publication["offset"].as_u64().unwrap());
                messages.push(publication["data"]["message"].as_str().unwrap().to_owned());
            }
        }
        let expected: Vec<u64> = (1..=total as u64).collect();
        assert_eq!(offsets, expected, "publications out of order or missing");
        // Each publisher's own events keep their order too.
        for p in 0..PUBLISHERS {
            let mine: Vec<_> = messages
                .iter()
                .filter(|m| m.starts_with(&format!("{p}-")))
                .cloned()
                .collect();
            let in_order: Vec<_> = (0..PER_PUBLISHER).map(|n| format!("{p}-{n}")).collect();
            assert_eq!(mine, in_order);
        }
    }
    let stats = server.server.stats();
    assert_eq!(stats.delivered, total as u64);
}
