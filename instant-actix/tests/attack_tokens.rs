//! The token attack matrix: forged, stale, borrowed and broken tokens at `connect` and at
//! `subscribe`, against the embedded server and a real Centrifugo v6 with the same channels and
//! the same assertions. Every case is refused on both, with the same code, except the differences
//! listed in [`KNOWN_DIFFERENCES`], asserted as they are so that a change on either side shows.
//!
//! Needs the Centrifugo binary (see `instant_testkit::centrifugo_binary`); fails, never skips,
//! without it.

mod embedded_support;

use std::fmt;

use embedded_support::{RawClient, TestServer};
use instant_actix::EmbeddedOptions;
use instant_core::{Config, ConnectionClaims, Secret, SubscriptionClaims, Tokens, now_secs};
use instant_fuzz_checks::jwt::{self, Signature};
use instant_testkit::{Centrifugo, CentrifugoOptions};
use serde_json::{Value, json};

/// What a server did with a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Connected or subscribed.
    Accepted,
    /// Answered with this error code; the connection stays open.
    Error(u64),
    /// Closed the connection with this code.
    Closed(Option<u16>),
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Accepted => f.write_str("accepted"),
            Self::Error(code) => write!(f, "error {code}"),
            Self::Closed(Some(code)) => write!(f, "close {code}"),
            Self::Closed(None) => f.write_str("dropped"),
        }
    }
}

struct Target {
    name: &'static str,
    ws_url: String,
    secret: Secret,
    _embedded: Option<TestServer>,
    _centrifugo: Option<Centrifugo>,
}

impl Target {
    fn embedded() -> Self {
        let secret = Secret::generate();
        let config = Config::builder()
            .secret(secret.clone())
            .api_key(Secret::generate())
            .build()
            .unwrap();
        let server = TestServer::start(config, EmbeddedOptions::default());
        Self {
            name: "embedded",
            ws_url: server.ws_url(),
            secret,
            _embedded: Some(server),
            _centrifugo: None,
        }
    }

    fn centrifugo() -> Self {
        let options = CentrifugoOptions::default()
            .presence(false)
            .join_leave(false)
            .allow_anonymous_connect_without_token(true)
            .extra(json!({"channel": {"without_namespace": {
                // Only the declared channels, as the embedded server has them.
                "channel_regex": r"^\$?(news|chat|users|staff)$",
            }}}));
        let server = Centrifugo::start(options);
        Self {
            name: "Centrifugo",
            ws_url: server.ws_url(),
            secret: server.secret().clone(),
            _embedded: None,
            _centrifugo: Some(server),
        }
    }

    fn key(&self) -> &[u8] {
        self.secret.expose_secret().as_bytes()
    }
}

/// A token made for a target (its secret is only known once it runs).
type Forge = fn(&Target) -> String;

const OTHER_KEY: &[u8] = b"another-secret-of-32-bytes-or-more-0123";

fn hour() -> (u64, u64) {
    let now = now_secs();
    (now, now + 3600)
}

fn connection_claims(sub: &Value) -> Value {
    let (iat, exp) = hour();
    json!({"sub": sub, "iat": iat, "exp": exp})
}

fn subscription_claims(sub: &Value, channel: &str) -> Value {
    let (iat, exp) = hour();
    json!({"sub": sub, "channel": channel, "iat": iat, "exp": exp})
}

fn tokens(target: &Target) -> Tokens {
    Tokens::new(target.secret.clone(), std::time::Duration::from_secs(3600))
}

fn truncated(token: &str) -> String {
    token[..token.len() - 8].to_owned()
}

/// Connection tokens for user `alice`, each with one thing wrong.
const CONNECT_CASES: &[(&str, Forge)] = &[
    ("alg none, no signature", |t| {
        jwt::forge(
            &jwt::header("none"),
            &connection_claims(&json!("alice")),
            Signature::Empty,
            t.key(),
        )
    }),
    ("alg none, HS256 signature", |t| {
        jwt::forge(
            &jwt::header("none"),
            &connection_claims(&json!("alice")),
            Signature::Hs256,
            t.key(),
        )
    }),
    ("HS512 header, HS256 signature", |t| {
        jwt::forge(
            &jwt::header("HS512"),
            &connection_claims(&json!("alice")),
            Signature::Hs256,
            t.key(),
        )
    }),
    ("RS256 header, HMAC with the secret", |t| {
        jwt::forge(
            &jwt::header("RS256"),
            &connection_claims(&json!("alice")),
            Signature::Hs256,
            t.key(),
        )
    }),
    ("HS512 signed with the secret", |t| {
        jwt::forge(
            &jwt::header("HS512"),
            &connection_claims(&json!("alice")),
            Signature::Hs512,
            t.key(),
        )
    }),
    ("HS256, wrong key", |_| {
        jwt::forge(
            &jwt::header("HS256"),
            &connection_claims(&json!("alice")),
            Signature::Hs256,
            OTHER_KEY,
        )
    }),
    ("HS256, empty signature", |t| {
        jwt::forge(
            &jwt::header("HS256"),
            &connection_claims(&json!("alice")),
            Signature::Empty,
            t.key(),
        )
    }),
    ("payload altered after signing", |t| {
        let good = tokens(t).connection("alice", None);
        let forged = tokens(t).connection("admin", None);
        let mut parts: Vec<&str> = good.split('.').collect();
        parts[1] = forged.split('.').nth(1).unwrap();
        parts.join(".")
    }),
    ("expired", |t| {
        let now = now_secs();
        tokens(t).sign_connection(&ConnectionClaims::new("alice", now - 120, now - 60))
    }),
    ("nbf in the future", |t| {
        let (iat, exp) = hour();
        let mut claims = ConnectionClaims::new("alice", iat, exp);
        claims.nbf = Some(iat + 600);
        tokens(t).sign_connection(&claims)
    }),
    ("subscription token as connection token", |t| {
        tokens(t).subscription("alice", "$users")
    }),
    ("truncated", |t| {
        truncated(&tokens(t).connection("alice", None))
    }),
    ("garbage", |_| "not-a-token".to_owned()),
    ("garbage with two dots", |_| "e30.e30.AAAA".to_owned()),
    ("numeric sub", |t| {
        jwt::forge(
            &jwt::header("HS256"),
            &connection_claims(&json!(42)),
            Signature::Hs256,
            t.key(),
        )
    }),
];

/// Subscription tokens presented by `alice` (connected with a good token) for `$users`.
const SUBSCRIBE_CASES: &[(&str, Forge)] = &[
    ("alg none, no signature", |t| {
        jwt::forge(
            &jwt::header("none"),
            &subscription_claims(&json!("alice"), "$users"),
            Signature::Empty,
            t.key(),
        )
    }),
    ("HS512 header, HS256 signature", |t| {
        jwt::forge(
            &jwt::header("HS512"),
            &subscription_claims(&json!("alice"), "$users"),
            Signature::Hs256,
            t.key(),
        )
    }),
    ("RS256 header, HMAC with the secret", |t| {
        jwt::forge(
            &jwt::header("RS256"),
            &subscription_claims(&json!("alice"), "$users"),
            Signature::Hs256,
            t.key(),
        )
    }),
    ("HS256, wrong key", |_| {
        jwt::forge(
            &jwt::header("HS256"),
            &subscription_claims(&json!("alice"), "$users"),
            Signature::Hs256,
            OTHER_KEY,
        )
    }),
    ("expired", |t| {
        let now = now_secs();
        tokens(t).sign_subscription(&SubscriptionClaims::new(
            "alice",
            "$users",
            now - 120,
            now - 60,
        ))
    }),
    ("nbf in the future", |t| {
        let (iat, exp) = hour();
        let mut claims = SubscriptionClaims::new("alice", "$users", iat, exp);
        claims.nbf = Some(iat + 600);
        tokens(t).sign_subscription(&claims)
    }),
    ("another user's sub", |t| {
        tokens(t).subscription("bob", "$users")
    }),
    ("anonymous sub", |t| tokens(t).subscription("", "$users")),
    ("another channel", |t| {
        tokens(t).subscription("alice", "$staff")
    }),
    ("connection token as subscription token", |t| {
        tokens(t).connection("alice", None)
    }),
    ("truncated", |t| {
        truncated(&tokens(t).subscription("alice", "$users"))
    }),
    ("garbage", |_| "not-a-token".to_owned()),
    ("numeric sub", |t| {
        jwt::forge(
            &jwt::header("HS256"),
            &subscription_claims(&json!(42), "$users"),
            Signature::Hs256,
            t.key(),
        )
    }),
];

/// Where the two servers answer differently: `(door, case, embedded, Centrifugo)`.
///
/// - A token signed with HS512 and the secret is valid for Centrifugo, which accepts HS256, HS384
///   and HS512 with its HMAC key; the embedded server accepts HS256 only, by design: instant mints
///   HS256 only, and a verifier that accepts one algorithm has no algorithm to be confused about.
///   Only a holder of the secret can make such a token: a compatibility difference (a backend
///   signing HS512 works with Centrifugo only), not an opening.
const KNOWN_DIFFERENCES: &[(&str, &str, Outcome, Outcome)] = &[(
    "connect",
    "HS512 signed with the secret",
    Outcome::Closed(Some(3500)),
    Outcome::Accepted,
)];

async fn try_connect(target: &Target, token: &str) -> Outcome {
    let mut client = RawClient::open(&target.ws_url).await;
    let id = client.command("connect", json!({"token": token})).await;
    outcome(&mut client, id, "connect").await
}

async fn try_subscribe(target: &Target, token: &str) -> Outcome {
    let mut client = RawClient::open(&target.ws_url).await;
    client
        .connect(&tokens(target).connection("alice", None))
        .await;
    let id = client
        .command("subscribe", json!({"channel": "$users", "token": token}))
        .await;
    outcome(&mut client, id, "subscribe").await
}

async fn outcome(client: &mut RawClient, id: u32, method: &str) -> Outcome {
    match client.next_or_close().await {
        Ok(reply) if reply["id"] == id && reply.get(method).is_some() => Outcome::Accepted,
        Ok(reply) if reply["id"] == id => Outcome::Error(
            reply["error"]["code"]
                .as_u64()
                .unwrap_or_else(|| panic!("neither result nor error: {reply}")),
        ),
        Ok(other) => panic!("unexpected message: {other}"),
        Err(code) => Outcome::Closed(code),
    }
}

/// Runs every case on one target; returns `(door, case, outcome)` rows.
async fn matrix(target: &Target) -> Vec<(&'static str, &'static str, Outcome)> {
    let mut rows = Vec::new();
    for (case, forge) in CONNECT_CASES {
        rows.push(("connect", *case, try_connect(target, &forge(target)).await));
    }
    for (case, forge) in SUBSCRIBE_CASES {
        rows.push((
            "subscribe",
            *case,
            try_subscribe(target, &forge(target)).await,
        ));
    }
    rows
}

#[actix_rt::test]
async fn forged_stale_borrowed_and_broken_tokens_are_refused_alike_by_both_servers() {
    let embedded = Target::embedded();
    let centrifugo = Target::centrifugo();
    // The harness itself: a good token gets in on both.
    for target in [&embedded, &centrifugo] {
        let good = tokens(target).connection("alice", None);
        assert_eq!(
            try_connect(target, &good).await,
            Outcome::Accepted,
            "{}",
            target.name
        );
        let good = tokens(target).subscription("alice", "$users");
        assert_eq!(
            try_subscribe(target, &good).await,
            Outcome::Accepted,
            "{}",
            target.name
        );
    }
    let ours = matrix(&embedded).await;
    let theirs = matrix(&centrifugo).await;
    let mut report = String::new();
    let mut failures = Vec::new();
    for ((door, case, embedded), (_, _, centrifugo)) in ours.iter().zip(&theirs) {
        report.push_str(&format!(
            "| {door} | {case} | {embedded} | {centrifugo} |\n"
        ));
        if let Some((.., expected_embedded, expected_centrifugo)) = KNOWN_DIFFERENCES
            .iter()
            .find(|(d, c, ..)| d == door && c == case)
        {
            if (embedded, centrifugo) != (expected_embedded, expected_centrifugo) {
                failures.push(format!(
                    "{door} / {case}: embedded {embedded}, Centrifugo {centrifugo}; \
                     expected the known difference {expected_embedded} / {expected_centrifugo}"
                ));
            }
        } else if *embedded == Outcome::Accepted || *centrifugo == Outcome::Accepted {
            failures.push(format!(
                "{door} / {case}: accepted (embedded {embedded}, Centrifugo {centrifugo})"
            ));
        } else if embedded != centrifugo {
            failures.push(format!(
                "{door} / {case}: embedded {embedded}, Centrifugo {centrifugo}"
            ));
        }
    }
    let refused = ours
        .iter()
        .zip(&theirs)
        .filter(|((.., a), (.., b))| *a != Outcome::Accepted && *b != Outcome::Accepted)
        .count();
    eprintln!("{refused} of {} cases refused by both servers", ours.len());
    eprintln!("| door | token | embedded server | Centrifugo v6 |\n|---|---|---|---|\n{report}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
