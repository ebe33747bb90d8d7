//! Tokens forged with any header, signing algorithm and key: what an attacker can send.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::{Sha256, Sha384, Sha512};

/// How the signature part is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signature {
    /// No signature: the part after the last dot is empty.
    Empty,
    /// HMAC-SHA256 of `header.payload`.
    Hs256,
    /// HMAC-SHA384 of `header.payload`.
    Hs384,
    /// HMAC-SHA512 of `header.payload`.
    Hs512,
}

/// `base64url(header).base64url(payload).signature`, the signature made with `key`.
#[must_use]
pub fn forge(header: &Value, payload: &Value, signature: Signature, key: &[u8]) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload.to_string())
    );
    let mac = match signature {
        Signature::Empty => Vec::new(),
        Signature::Hs256 => hmac::<Hmac<Sha256>>(key, &input),
        Signature::Hs384 => hmac::<Hmac<Sha384>>(key, &input),
        Signature::Hs512 => hmac::<Hmac<Sha512>>(key, &input),
    };
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(mac))
}

fn hmac<M: Mac + hmac::digest::KeyInit>(key: &[u8], input: &str) -> Vec<u8> {
    let mut mac = <M as hmac::digest::KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any size"));
    mac.update(input.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// The JWT header for `alg`.
#[must_use]
pub fn header(alg: &str) -> Value {
    serde_json::json!({ "alg": alg, "typ": "JWT" })
}

/// The payload of a JWT-shaped string, when it decodes to JSON.
#[must_use]
pub fn payload(token: &str) -> Option<Value> {
    let part = token.split('.').nth(1)?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).ok()?).ok()
}

/// Every JWT-shaped string in `text`: three base64url runs joined by dots, the first starting
/// with `eyJ` (a JSON object's `{"`).
#[must_use]
pub fn find_tokens(text: &str) -> Vec<String> {
    let is_b64 = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("eyJ") {
        let candidate: String = rest[at..]
            .chars()
            .take_while(|&c| is_b64(c) || c == '.')
            .collect();
        if candidate.matches('.').count() >= 2 {
            found.push(candidate.trim_end_matches('.').to_owned());
        }
        rest = &rest[at + 3..];
    }
    found
}

/// The base64url HS256 signature of `input` with `key`.
#[must_use]
pub fn mac_hs256(key: &[u8], input: &str) -> String {
    URL_SAFE_NO_PAD.encode(hmac::<Hmac<Sha256>>(key, input))
}

/// One base64url part decoded as JSON.
#[must_use]
pub fn decode_part(part: &str) -> Option<Value> {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).ok()?).ok()
}
