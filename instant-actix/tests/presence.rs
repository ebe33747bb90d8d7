//! `Publisher::presence` on both servers: real centrifuge-js clients (under Node) subscribe, two
//! of them with the same user's token (two tabs), and the publisher lists each user once. The
//! embedded server's counters follow its connections, subscriptions and deliveries.

mod embedded_support;

use std::sync::Arc;
use std::time::Duration;

use embedded_support::{TestServer, WAIT, test_config};
use instant_actix::{ChannelOptions, EmbeddedOptions};
use instant_core::presence::Presence;
use instant_core::{CentrifugoClient, PublishError, Publisher, Tokens};
use instant_testkit::{Centrifugo, CentrifugoOptions, NodeClient, NodeSpec};

const CHANNEL: &str = "$users";

/// Alice in two tabs and Bob in one, each subscribed to [`CHANNEL`] on the server at `ws_url`.
fn three_tabs(ws_url: &str, tokens: &Tokens) -> Vec<NodeClient> {
    ["alice", "alice", "bob"]
        .into_iter()
        .map(|user| {
            let mut client = NodeClient::spawn(
                NodeSpec::new(ws_url)
                    .token(tokens.connection(user, Some(&serde_json::json!({ "name": user }))))
                    .subscribe_with_token(CHANNEL, tokens.subscription(user, CHANNEL)),
            );
            client.wait_for(|e| e.is_on("subscribed", CHANNEL), WAIT);
            client
        })
        .collect()
}

fn assert_two_users(presence: &Presence) {
    assert_eq!(presence.user_ids(), ["alice", "bob"], "{presence:?}");
    let alice = presence.user("alice").unwrap();
    assert_eq!(
        alice.tabs(),
        2,
        "two tabs of one user are one entry: {presence:?}"
    );
    assert_eq!(alice.info, Some(serde_json::json!({ "name": "alice" })));
    assert_eq!(presence.user("bob").unwrap().tabs(), 1);
    assert_eq!(presence.anonymous, 0);
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    actix_rt::System::new().block_on(future)
}

#[test]
fn the_embedded_server_lists_each_user_once_and_counts_its_traffic() {
    let mut presence_on = ChannelOptions::default();
    presence_on.presence = true;
    presence_on.join_leave = true;
    let server = TestServer::start(
        test_config(),
        EmbeddedOptions::default().channel(CHANNEL, presence_on),
    );
    let publisher = Publisher::new(Arc::new(server.server.clone()), "site");
    let mut tabs = three_tabs(&server.ws_url(), &server.config.tokens());

    let presence = block_on(publisher.presence(CHANNEL)).unwrap();
    assert_two_users(&presence);
    // A channel without presence: error 108, as Centrifugo answers.
    let off = block_on(publisher.presence("news")).unwrap_err();
    assert!(
        matches!(off, PublishError::Server { code: 108, .. }),
        "{off:?}"
    );

    block_on(std::future::IntoFuture::into_future(
        publisher.publish(CHANNEL, "to three tabs"),
    ))
    .unwrap();
    let metrics = publisher.metrics();
    assert_eq!(metrics.connections, 3, "{metrics:?}");
    assert_eq!(metrics.open_connections, 3, "{metrics:?}");
    assert_eq!(metrics.subscriptions, 3, "{metrics:?}");
    assert_eq!(metrics.deliveries, 3, "{metrics:?}");
    assert_eq!(metrics.published, 1, "{metrics:?}");

    // Alice closes one tab: still one entry, with one tab.
    drop(tabs.remove(0));
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let presence = block_on(publisher.presence(CHANNEL)).unwrap();
        if presence.user("alice").is_some_and(|a| a.tabs() == 1) {
            assert_eq!(presence.user_ids(), ["alice", "bob"]);
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{presence:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn centrifugo_lists_each_user_once() {
    let centrifugo = Centrifugo::start(CentrifugoOptions::default());
    let client = CentrifugoClient::new(&centrifugo.config()).unwrap();
    let publisher = Publisher::new(Arc::new(client), "site");
    let _tabs = three_tabs(&centrifugo.ws_url(), &centrifugo.tokens());

    let presence = block_on(publisher.presence(CHANNEL)).unwrap();
    assert_two_users(&presence);
}
