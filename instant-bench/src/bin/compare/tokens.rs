//! Comparison 5: connection and subscription tokens minted and verified by instant, beside
//! `jsonwebtoken` doing the same HS256 work with the same claims.

use std::hint::black_box;
use std::time::{Duration, Instant};

use instant_core::{Secret, Tokens};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::Plan;
use crate::report::{Measure, Ratio, Section, Unit};

const SECRET: &str = "benchmark-secret-0123456789abcdef0123456789";

/// The claims of a Centrifugo connection token, as an app would declare them for jsonwebtoken.
#[derive(Debug, Serialize, Deserialize)]
struct Connection {
    sub: String,
    exp: u64,
    iat: u64,
}

/// The claims of a Centrifugo subscription token.
#[derive(Debug, Serialize, Deserialize)]
struct Subscription {
    sub: String,
    channel: String,
    exp: u64,
    iat: u64,
}

/// The scenarios: what is done `k` times, by whom.
#[derive(Debug, Clone, Copy)]
enum Scenario {
    MintConnection,
    MintSubscription,
    VerifyConnection,
    VerifySubscription,
}

impl Scenario {
    const ALL: [Self; 4] = [
        Self::MintConnection,
        Self::MintSubscription,
        Self::VerifyConnection,
        Self::VerifySubscription,
    ];

    fn label(self) -> &'static str {
        match self {
            Self::MintConnection => "mint a connection token",
            Self::MintSubscription => "mint a subscription token",
            Self::VerifyConnection => "verify a connection token",
            Self::VerifySubscription => "verify a subscription token",
        }
    }
}

/// Seconds `work` takes `k` times.
fn time(k: usize, mut work: impl FnMut(usize)) -> f64 {
    let start = Instant::now();
    for i in 0..k {
        work(i);
    }
    start.elapsed().as_secs_f64()
}

pub(crate) fn run(plan: &Plan) -> Section {
    let k = if plan.smoke { 200 } else { 50_000 };
    println!("compare: tokens, {k} per run, {} repetitions", plan.reps);
    let tokens = Tokens::new(Secret::new(SECRET.to_owned()), Duration::from_secs(3600));
    let encoding = EncodingKey::from_secret(SECRET.as_bytes());
    let decoding = DecodingKey::from_secret(SECRET.as_bytes());
    let header = Header::new(Algorithm::HS256);
    let mut validation = Validation::new(Algorithm::HS256);
    validation.required_spec_claims = ["exp", "sub"].into_iter().map(str::to_owned).collect();
    let now = instant_core::now_secs();

    let ours_connection = tokens.connection("42", None);
    let ours_subscription = tokens.subscription("42", "$users");
    let theirs_connection = jsonwebtoken::encode(
        &header,
        &Connection {
            sub: "42".to_owned(),
            exp: now + 3600,
            iat: now,
        },
        &encoding,
    )
    .expect("jsonwebtoken encodes");
    let theirs_subscription = jsonwebtoken::encode(
        &header,
        &Subscription {
            sub: "42".to_owned(),
            channel: "$users".to_owned(),
            exp: now + 3600,
            iat: now,
        },
        &encoding,
    )
    .expect("jsonwebtoken encodes");
    // Each side verifies the other's tokens: the same HS256 tokens, read by both.
    tokens
        .verify_connection(&theirs_connection)
        .expect("instant reads jsonwebtoken's token");
    jsonwebtoken::decode::<Connection>(&ours_connection, &decoding, &validation)
        .expect("jsonwebtoken reads instant's token");

    let mut ours = vec![Vec::new(); Scenario::ALL.len()];
    let mut theirs = vec![Vec::new(); Scenario::ALL.len()];
    for _ in 0..plan.reps {
        for (i, scenario) in Scenario::ALL.into_iter().enumerate() {
            let (a, b) = match scenario {
                Scenario::MintConnection => (
                    time(k, |_| {
                        black_box(tokens.connection(black_box("42"), None));
                    }),
                    time(k, |_| {
                        let now = instant_core::now_secs();
                        let claims = Connection {
                            sub: black_box("42").to_owned(),
                            exp: now + 3600,
                            iat: now,
                        };
                        black_box(jsonwebtoken::encode(&header, &claims, &encoding).ok());
                    }),
                ),
                Scenario::MintSubscription => (
                    time(k, |_| {
                        black_box(tokens.subscription(black_box("42"), "$users"));
                    }),
                    time(k, |_| {
                        let now = instant_core::now_secs();
                        let claims = Subscription {
                            sub: black_box("42").to_owned(),
                            channel: "$users".to_owned(),
                            exp: now + 3600,
                            iat: now,
                        };
                        black_box(jsonwebtoken::encode(&header, &claims, &encoding).ok());
                    }),
                ),
                Scenario::VerifyConnection => (
                    time(k, |_| {
                        black_box(tokens.verify_connection(black_box(&ours_connection)).ok());
                    }),
                    time(k, |_| {
                        black_box(
                            jsonwebtoken::decode::<Connection>(
                                black_box(&theirs_connection),
                                &decoding,
                                &validation,
                            )
                            .ok(),
                        );
                    }),
                ),
                Scenario::VerifySubscription => (
                    time(k, |_| {
                        black_box(
                            tokens
                                .verify_subscription(black_box(&ours_subscription), "$users", "42")
                                .ok(),
                        );
                    }),
                    time(k, |_| {
                        let claims = jsonwebtoken::decode::<Subscription>(
                            black_box(&theirs_subscription),
                            &decoding,
                            &validation,
                        )
                        .ok();
                        // The same checks instant makes: the channel and the user.
                        black_box(
                            claims.filter(|c| c.claims.channel == "$users" && c.claims.sub == "42"),
                        );
                    }),
                ),
            };
            ours[i].push(a);
            theirs[i].push(b);
        }
    }

    let size = format!("{k} tokens");
    let mut measures = Vec::new();
    let mut ratios = Vec::new();
    for ((scenario, a), b) in Scenario::ALL.into_iter().zip(ours).zip(theirs) {
        let a = Measure {
            label: format!("instant: {}", scenario.label()),
            size: size.clone(),
            samples: a,
            work: k as f64,
        };
        let b = Measure {
            label: format!("jsonwebtoken: {}", scenario.label()),
            size: size.clone(),
            samples: b,
            work: k as f64,
        };
        ratios.push(Ratio::of(
            format!("instant / jsonwebtoken (time): {}", scenario.label()),
            &a,
            &b,
            Some(("≤ 1.0×", |r| r <= 1.0)),
        ));
        measures.extend([a, b]);
    }
    Section {
        title: "5. Tokens: instant beside jsonwebtoken (HS256)".to_owned(),
        chart: "tokens.svg".to_owned(),
        intro: vec![
            "Connection tokens (`sub`, `exp`, `iat`) and subscription tokens (plus `channel`) \
             minted and verified on one thread, K times per run, by instant's `Tokens` and by \
             `jsonwebtoken` with the same claims as a serde struct and keys made once. \
             Verification checks the signature and `exp` on both sides; for subscription \
             tokens, also the channel and the user. Each side reads the other's tokens (checked \
             before timing)."
                .to_owned(),
        ],
        setup: vec![format!(
            "jsonwebtoken {} (pure-Rust HMAC); instant-core's `Tokens` (hmac, sha2, base64)",
            crate::locked_version(&plan.root, "jsonwebtoken")
        )],
        unit: Unit::Seconds,
        measures,
        ratios,
        notes: crate::findings::TOKENS
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
    }
}
