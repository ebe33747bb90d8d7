//! The embedded server's client protocol beyond what Centrifugo's default configuration shows:
//! token expiry and refresh, client publishing where a channel allows it, forced join/leave,
//! permissions of presence and history, and the per-connection channel limit.

mod embedded_support;

use embedded_support::{RawClient, TestServer, test_config};
use instant_actix::{ChannelOptions, EmbeddedOptions};
use instant_core::{ConnectionClaims, Event, Publisher, SubscriptionClaims, now_secs};
use serde_json::value::RawValue;
use serde_json::{Value, json};

#[actix_rt::test]
async fn an_expiring_connection_closes_with_3005_unless_refreshed() {
    let mut options = EmbeddedOptions::default();
    options.expired_close_delay = std::time::Duration::from_secs(1);
    let server = TestServer::start(test_config(), options);
    let tokens = server.config.tokens();
    let now = now_secs();
    let short = tokens.sign_connection(&ConnectionClaims::new("alice", now, now + 2));

    let mut lapsing = RawClient::open(&server.ws_url()).await;
    let connected = lapsing.connect(&short).await;
    assert_eq!(connected["expires"], true);
    assert!(connected["ttl"].as_u64().unwrap() <= 2);

    let mut refreshed = RawClient::open(&server.ws_url()).await;
    refreshed.connect(&short).await;
    let reply = refreshed
        .call(
            "refresh",
            json!({"token": tokens.connection("alice", None)}),
        )
        .await;
    assert_eq!(reply["refresh"]["expires"], true, "{reply}");
    assert!(reply["refresh"]["ttl"].as_u64().unwrap() > 3000);

    assert_eq!(lapsing.closed().await, Some(3005));
    // Past the first token's expiry, the refreshed connection still answers.
    let answer = refreshed
        .call("subscribe", json!({"channel": "news"}))
        .await;
    assert!(answer.get("subscribe").is_some(), "{answer}");

    // Refreshing with another user's token is an invalid token.
    refreshed
        .command(
            "refresh",
            json!({"token": tokens.connection("mallory", None)}),
        )
        .await;
    assert_eq!(refreshed.closed().await, Some(3500));
}

#[actix_rt::test]
async fn an_expiring_subscription_ends_with_unsubscribe_2501_unless_refreshed() {
    let mut options = EmbeddedOptions::default();
    options.expired_close_delay = std::time::Duration::from_secs(1);
    // presence_stats tells which subscriptions are still there.
    options.channel_defaults.presence = true;
    let server = TestServer::start(test_config(), options);
    let tokens = server.config.tokens();
    let now = now_secs();
    let short = |channel: &str| {
        tokens.sign_subscription(&SubscriptionClaims::new("alice", channel, now, now + 2))
    };
    let mut client = RawClient::open(&server.ws_url()).await;
    client.connect(&tokens.connection("alice", None)).await;
    let reply = client
        .call(
            "subscribe",
            json!({"channel": "$users", "token": short("$users")}),
        )
        .await;
    assert_eq!(reply["subscribe"]["expires"], true, "{reply}");
    let reply = client
        .call(
            "subscribe",
            json!({"channel": "$staff", "token": short("$staff")}),
        )
        .await;
    assert!(reply.get("subscribe").is_some(), "{reply}");
    let refreshed = client
        .call(
            "sub_refresh",
            json!({"channel": "$staff", "token": tokens.subscription("alice", "$staff")}),
        )
        .await;
    assert_eq!(refreshed["sub_refresh"]["expires"], true, "{refreshed}");

    let push = client.push().await;
    assert_eq!(push["channel"], "$users");
    assert_eq!(push["unsubscribe"]["code"], 2501);

    // `$staff` was refreshed: still subscribed, so presence is allowed there but not on `$users`.
    let staff = client
        .call("presence_stats", json!({"channel": "$staff"}))
        .await;
    assert_eq!(staff["presence_stats"]["num_clients"], 1, "{staff}");
    let users = client
        .call("presence_stats", json!({"channel": "$users"}))
        .await;
    assert_eq!(users["error"]["code"], 103, "{users}");
}

#[actix_rt::test]
async fn clients_publish_only_where_the_channel_allows_it_and_carry_their_info() {
    let mut chat = ChannelOptions::default();
    chat.client_publish = true;
    let options = EmbeddedOptions::default().channel("chat", chat);
    let server = TestServer::start(test_config(), options);
    let tokens = server.config.tokens();

    let mut alice = RawClient::open(&server.ws_url()).await;
    alice
        .connect(&tokens.connection("alice", Some(&json!({"name": "Alice"}))))
        .await;
    let mut reader = RawClient::open(&server.ws_url()).await;
    reader.connect("").await;
    for client in [&mut alice, &mut reader] {
        client.call("subscribe", json!({"channel": "chat"})).await;
        client.call("subscribe", json!({"channel": "news"})).await;
    }
    let refused = alice
        .call("publish", json!({"channel": "news", "data": {"t": "no"}}))
        .await;
    assert_eq!(refused["error"]["code"], 103);
    let accepted = alice
        .call("publish", json!({"channel": "chat", "data": {"t": "hi"}}))
        .await;
    assert!(accepted.get("publish").is_some(), "{accepted}");

    let push = reader.push().await;
    assert_eq!(push["channel"], "chat");
    assert_eq!(push["pub"]["data"], json!({"t": "hi"}));
    assert_eq!(push["pub"]["info"]["user"], "alice");
    assert_eq!(push["pub"]["info"]["conn_info"], json!({"name": "Alice"}));
}

#[actix_rt::test]
async fn join_and_leave_go_to_those_who_ask_or_to_everyone_when_forced() {
    // The watcher is anonymous: both channels open join/leave to anonymous clients.
    let mut asked = ChannelOptions::default();
    asked.join_leave = true;
    asked.presence_for_anonymous = true;
    let mut forced = asked.clone();
    forced.force_push_join_leave = true;
    let server = TestServer::start(
        test_config(),
        EmbeddedOptions::default()
            .channel("news", asked)
            .channel("chat", forced),
    );
    let tokens = server.config.tokens();

    let mut watcher = RawClient::open(&server.ws_url()).await;
    watcher.connect("").await;
    // Asks for join/leave on `news`; gets them on `chat` regardless.
    watcher
        .call("subscribe", json!({"channel": "news", "join_leave": true}))
        .await;
    watcher.call("subscribe", json!({"channel": "chat"})).await;
    // Its own joins come first.
    assert_eq!(watcher.push().await["channel"], "news");
    assert_eq!(watcher.push().await["channel"], "chat");

    let mut bob = RawClient::open(&server.ws_url()).await;
    let bob_client = bob.connect(&tokens.connection("bob", None)).await["client"].clone();
    for channel in ["news", "chat"] {
        bob.call("subscribe", json!({"channel": channel})).await;
        let join = watcher.push().await;
        assert_eq!(join["channel"], channel);
        assert_eq!(join["join"]["info"]["user"], "bob");
        assert_eq!(join["join"]["info"]["client"], bob_client);
    }
    drop(bob);
    let mut left = vec![];
    for _ in 0..2 {
        let leave = watcher.push().await;
        assert_eq!(leave["leave"]["info"]["user"], "bob");
        left.push(leave["channel"].as_str().unwrap().to_owned());
    }
    left.sort();
    assert_eq!(left, ["chat", "news"]);
}

#[actix_rt::test]
async fn presence_and_history_need_a_subscription_and_the_feature_on() {
    let mut bare = ChannelOptions::default();
    bare.presence = false;
    bare.history_size = 0;
    let server = TestServer::start(
        test_config(),
        EmbeddedOptions::default().channel("chat", bare),
    );
    let mut client = RawClient::open(&server.ws_url()).await;
    client.connect("").await;
    for method in ["presence", "presence_stats", "history"] {
        let reply = client.call(method, json!({"channel": "news"})).await;
        assert_eq!(reply["error"]["code"], 103, "{method}: {reply}");
    }
    client.call("subscribe", json!({"channel": "chat"})).await;
    for method in ["presence", "presence_stats", "history"] {
        let reply = client.call(method, json!({"channel": "chat"})).await;
        assert_eq!(reply["error"]["code"], 108, "{method}: {reply}");
    }
    let subscribe = client.call("subscribe", json!({"channel": "chat"})).await;
    assert_eq!(subscribe["error"]["code"], 105);
    // Without history a channel is not recoverable.
    let mut other = RawClient::open(&server.ws_url()).await;
    other.connect("").await;
    let reply = other.call("subscribe", json!({"channel": "chat"})).await;
    assert_eq!(reply["subscribe"], json!({}));
}

#[actix_rt::test]
async fn a_connection_may_not_exceed_its_channel_limit() {
    let mut options = EmbeddedOptions::default();
    options.max_channels_per_client = 2;
    options.channel_defaults.presence = true;
    options.channel_defaults.presence_for_anonymous = true;
    let server = TestServer::start(test_config(), options);
    let mut client = RawClient::open(&server.ws_url()).await;
    client.connect("").await;
    client.call("subscribe", json!({"channel": "news"})).await;
    client.call("subscribe", json!({"channel": "chat"})).await;
    let third = client
        .call(
            "subscribe",
            json!({"channel": "$users", "token": server.config.tokens().subscription("", "$users")}),
        )
        .await;
    assert_eq!(third["error"]["code"], 106, "{third}");
    // Several commands in one frame are served in order.
    client
        .send_text("{\"id\":50,\"unsubscribe\":{\"channel\":\"news\"}}\n{\"id\":51,\"presence_stats\":{\"channel\":\"chat\"}}")
        .await;
    assert_eq!(client.reply(50).await["unsubscribe"], json!({}));
    assert_eq!(client.reply(51).await["presence_stats"]["num_clients"], 1);
}

#[actix_rt::test]
async fn events_with_json_text_data_reach_subscribers_and_recovery_as_events_with_a_value() {
    let server = TestServer::with_defaults();
    let publisher = Publisher::new(std::sync::Arc::new(server.server.clone()), "mysite");
    let mut client = RawClient::open(&server.ws_url()).await;
    client.connect("").await;
    let subscribed = client.call("subscribe", json!({"channel": "news"})).await;
    let epoch = subscribed["subscribe"]["epoch"].clone();

    let data = json!({"id": 7, "note": "a \"quoted\" line\nand «more»", "items": [1, null, {"deep": true}]});
    let text = serde_json::to_string(&data).unwrap();
    let raw: &RawValue = serde_json::from_str(&text).unwrap();
    let start = || {
        publisher
            .publish("news", "New order")
            .event_class("object created")
    };
    // Detached and awaited with JSON text, then detached with a `Value`.
    start().json_data(raw).detach();
    let receipt = start().json_data(raw).await.unwrap();
    assert_eq!(receipt.offset, Some(2));
    start().data(data.clone()).detach();

    let mut pushed = Vec::new();
    for _ in 0..3 {
        let push = client.push().await;
        assert_eq!(push["channel"], "news");
        pushed.push(push["pub"].clone());
    }
    // A client that comes back from before the first publication recovers the same three.
    let mut late = RawClient::open(&server.ws_url()).await;
    late.connect("").await;
    let recovered = late
        .call(
            "subscribe",
            json!({"channel": "news", "recover": true, "offset": 0, "epoch": epoch}),
        )
        .await;
    assert_eq!(recovered["subscribe"]["recovered"], true, "{recovered}");
    assert_eq!(
        recovered["subscribe"]["publications"],
        Value::Array(pushed.clone())
    );
    for (n, publication) in pushed.iter().enumerate() {
        assert_eq!(publication["offset"], n + 1);
        let event: Event = serde_json::from_value(publication["data"].clone()).unwrap();
        assert_eq!(
            (&*event.channel, &*event.site, &*event.message),
            ("news", "mysite", "New order")
        );
        assert_eq!(event.event_class, "object created");
        assert_eq!(event.data, data);
        // Exactly the fields of the event, as the `Value` path writes them.
        assert_eq!(publication["data"], serde_json::to_value(&event).unwrap());
    }
}
