//! The token verifier on arbitrary input.

use std::time::Duration;

use instant_core::{Secret, Tokens};

use crate::jwt::{self, Signature};

/// The secret the checks verify with (32 bytes or more, as the settings require).
pub const SECRET: &str = "fuzz-secret-0123456789abcdef-0123456789";

fn tokens() -> Tokens {
    Tokens::new(Secret::from(SECRET), Duration::from_secs(3600))
}

/// Feeds `data` to the verifier three ways: as a token string, as the payload of a token signed
/// with the right key, and as the payload of a token signed with another key.
///
/// # Panics
/// When the verifier panics, or accepts a token that its secret did not sign with HS256, or
/// accepts claims whose `sub` (and `channel`) are not strings.
pub fn check(data: &[u8]) {
    let tokens = tokens();
    let text = String::from_utf8_lossy(data);
    // Raw text: only a token the secret signed with HS256 can pass.
    if let Ok(claims) = tokens.verify_connection(&text) {
        assert!(
            signed_hs256(&text),
            "accepted as a connection token: {claims:?}"
        );
    }
    if let Ok(claims) = tokens.verify_subscription(&text, "$c", "u") {
        assert!(
            signed_hs256(&text),
            "accepted as a subscription token: {claims:?}"
        );
    }
    // As claims: signed properly, whatever they hold; the verifier may accept them only when
    // they have the shape Centrifugo reads.
    let Ok(payload) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let good = jwt::forge(
        &jwt::header("HS256"),
        &payload,
        Signature::Hs256,
        SECRET.as_bytes(),
    );
    if let Ok(claims) = tokens.verify_connection(&good) {
        assert!(payload["sub"].is_string(), "sub not a string: {payload}");
        assert!(payload.get("channel").is_none(), "channel claim: {payload}");
        assert_eq!(payload["sub"].as_str(), Some(claims.sub.as_str()));
    }
    if let Ok(claims) = tokens.verify_subscription(&good, "$c", "u") {
        assert_eq!(payload["sub"], "u", "{payload}");
        assert_eq!(payload["channel"], "$c", "{payload}");
        assert_eq!(claims.channel, "$c");
    }
    for (alg, signature, key) in [
        (
            "HS256",
            Signature::Hs256,
            b"another-key-0123456789abcdef-01234".as_slice(),
        ),
        ("HS512", Signature::Hs512, SECRET.as_bytes()),
        ("none", Signature::Empty, b"".as_slice()),
        ("RS256", Signature::Hs256, SECRET.as_bytes()),
    ] {
        let forged = jwt::forge(&jwt::header(alg), &payload, signature, key);
        assert!(
            tokens.verify_connection(&forged).is_err(),
            "{alg}: {payload}"
        );
        assert!(
            tokens.verify_subscription(&forged, "$c", "u").is_err(),
            "{alg}: {payload}"
        );
    }
}

/// Whether `text` (trimmed) is `header.payload.signature` with a JSON header saying HS256, a JSON
/// object payload and the HS256 signature of the secret.
fn signed_hs256(text: &str) -> bool {
    let token = text.trim();
    let Some((input, signature)) = token.rsplit_once('.') else {
        return false;
    };
    let Some((header, payload)) = input.split_once('.') else {
        return false;
    };
    let header = jwt::decode_part(header);
    header.as_ref().and_then(|h| h["alg"].as_str()) == Some("HS256")
        && jwt::decode_part(payload).is_some_and(|p| p.is_object())
        && jwt::mac_hs256(SECRET.as_bytes(), input) == signature
}
