//! HS256 JSON Web Tokens as Centrifugo v6 reads them: connection tokens `{sub, exp, iat, info?}`
//! and subscription tokens `{sub, channel, exp, iat}`, minted with the secret Centrifugo knows as
//! `client.token.hmac_secret_key` (its raw bytes are the key), and verified the same way
//! Centrifugo verifies them, for the embedded server.
//!
//! Only HS256 is minted and accepted. The JWT format is small enough that `hmac` + `sha2` +
//! `base64` cover it; a general JWT crate would bring algorithm negotiation this code must refuse.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::Sha256;

use crate::config::{Config, Secret};

type HmacSha256 = Hmac<Sha256>;

/// The only algorithm minted and accepted.
pub(crate) const ALGORITHM: &str = "HS256";

/// The claims of a connection token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ConnectionClaims {
    /// The user id; `""` for an anonymous visitor.
    pub sub: String,
    /// Expiry, in seconds since the Unix epoch; `None` = never expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<u64>,
    /// Issue time, in seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    /// Not valid before this time, in seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    /// Connection info shown to other clients in presence and join/leave messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info: Option<Value>,
}

impl ConnectionClaims {
    /// Claims for `user_id` issued at `iat` and expiring at `exp` (seconds since the Unix epoch).
    #[must_use]
    pub fn new(user_id: impl Into<String>, iat: u64, exp: u64) -> Self {
        Self {
            sub: user_id.into(),
            exp: Some(exp),
            iat: Some(iat),
            nbf: None,
            info: None,
        }
    }
}

/// The claims of a subscription token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SubscriptionClaims {
    /// The user id, which must be the connection's; `""` for an anonymous visitor.
    pub sub: String,
    /// The channel the token opens, exactly as subscribed (with its `$` prefix).
    pub channel: String,
    /// Expiry, in seconds since the Unix epoch; `None` = never expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<u64>,
    /// Issue time, in seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    /// Not valid before this time, in seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
}

impl SubscriptionClaims {
    /// Claims for `user_id` on `channel` issued at `iat` and expiring at `exp` (seconds since the
    /// Unix epoch).
    #[must_use]
    pub fn new(user_id: impl Into<String>, channel: impl Into<String>, iat: u64, exp: u64) -> Self {
        Self {
            sub: user_id.into(),
            channel: channel.into(),
            exp: Some(exp),
            iat: Some(iat),
            nbf: None,
        }
    }
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Not three base64url parts of JSON objects, or a claim of the wrong type.
    #[error("malformed token: {0}")]
    Malformed(String),
    /// Signed with another algorithm than HS256, including `none`.
    #[error("unsupported token algorithm {0:?}: only HS256 is accepted")]
    UnsupportedAlgorithm(String),
    /// The signature does not match: another key signed it, or it was altered.
    #[error("bad token signature")]
    BadSignature,
    /// The `exp` time has passed.
    #[error("token expired")]
    Expired,
    /// The `nbf` time has not come yet.
    #[error("token not valid yet")]
    NotYetValid,
    /// A subscription token for another channel.
    #[error("token is for channel {found:?}, not {expected:?}")]
    WrongChannel {
        /// The channel subscribed to.
        expected: String,
        /// The channel in the token.
        found: String,
    },
    /// A subscription token for another user.
    #[error("token is for another user")]
    WrongUser,
    /// A connection token carrying a `channel` claim, which only subscription tokens may have.
    #[error("a connection token can not contain a channel claim, only a subscription token can")]
    ChannelClaimInConnectionToken,
    /// A required claim is absent.
    #[error("token has no {0} claim")]
    MissingClaim(&'static str),
}

impl TokenError {
    /// Whether the token was refused only for its time window: it expired, or its `nbf` has not
    /// come yet. A client should fetch a new one; Centrifugo answers both with error 109 (token
    /// expired), and so does the embedded server.
    #[must_use]
    pub fn is_expired(&self) -> bool {
        matches!(self, Self::Expired | Self::NotYetValid)
    }
}

/// `{"alg":"HS256","typ":"JWT"}` in base64url, the first part of every minted token.
const HEADER: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

/// Mints and verifies tokens with one secret.
#[derive(Clone)]
pub struct Tokens {
    /// HMAC-SHA256 keyed with the secret once; each token clones it, which saves hashing the
    /// key's two padded blocks again per token.
    key: HmacSha256,
    ttl: Duration,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("key", &"[redacted]")
            .field("ttl", &self.ttl)
            .finish()
    }
}

impl Config {
    /// A token minter with this configuration's secret and token lifetime.
    #[must_use]
    pub fn tokens(&self) -> Tokens {
        Tokens::new(self.secret().clone(), self.token_ttl())
    }
}

impl Tokens {
    /// Tokens signed with `secret` that live for `ttl`.
    #[must_use]
    #[allow(
        clippy::needless_pass_by_value,
        reason = "the signature takes the secret as `Tokens` always did; only its HMAC state is kept"
    )]
    pub fn new(secret: Secret, ttl: Duration) -> Self {
        // HMAC accepts keys of any length.
        let key = HmacSha256::new_from_slice(secret.expose_secret().as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any size"));
        Self { key, ttl }
    }

    /// The lifetime of minted tokens.
    #[must_use]
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// A connection token for `user_id` (`""` = anonymous), with optional connection `info`.
    #[must_use]
    pub fn connection(&self, user_id: &str, info: Option<&Value>) -> String {
        let now = now_secs();
        let mut claims =
            ConnectionClaims::new(user_id, now, now.saturating_add(self.ttl.as_secs()));
        claims.info = info.cloned();
        self.sign_connection(&claims)
    }

    /// A subscription token for `user_id` (`""` = anonymous) on `channel`.
    #[must_use]
    pub fn subscription(&self, user_id: &str, channel: &str) -> String {
        let now = now_secs();
        self.sign_subscription(&SubscriptionClaims::new(
            user_id,
            channel,
            now,
            now.saturating_add(self.ttl.as_secs()),
        ))
    }

    /// Signs arbitrary connection claims (for custom expiry times).
    #[must_use]
    pub fn sign_connection(&self, claims: &ConnectionClaims) -> String {
        self.sign(claims)
    }

    /// Signs arbitrary subscription claims (for custom expiry times).
    #[must_use]
    pub fn sign_subscription(&self, claims: &SubscriptionClaims) -> String {
        self.sign(claims)
    }

    fn sign<T: Serialize>(&self, claims: &T) -> String {
        // Serializing these plain structs cannot fail.
        let payload = serde_json::to_vec(claims).unwrap_or_default();
        // One buffer for the whole token: header, payload and the 43 characters of signature.
        let mut token = String::with_capacity(HEADER.len() + payload.len().div_ceil(3) * 4 + 46);
        token.push_str(HEADER);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&payload, &mut token);
        let signature = self.mac(token.as_bytes()).finalize().into_bytes();
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(signature, &mut token);
        token
    }

    fn mac(&self, input: &[u8]) -> HmacSha256 {
        let mut mac = self.key.clone();
        mac.update(input);
        mac
    }

    /// Verifies a connection token and returns its claims.
    ///
    /// # Errors
    /// [`TokenError`] saying why the token is refused.
    pub fn verify_connection(&self, token: &str) -> Result<ConnectionClaims, TokenError> {
        self.verify_connection_at(token, now_secs())
    }

    fn verify_connection_at(&self, token: &str, now: u64) -> Result<ConnectionClaims, TokenError> {
        let payload = self.verified_payload(token)?;
        if payload.contains_key("channel") {
            return Err(TokenError::ChannelClaimInConnectionToken);
        }
        require_string(&payload, "sub")?;
        let claims: ConnectionClaims = serde_json::from_value(Value::Object(payload))
            .map_err(|e| TokenError::Malformed(e.to_string()))?;
        check_times(claims.exp, claims.nbf, now)?;
        Ok(claims)
    }

    /// Verifies a subscription token presented by `user_id` (`""` = anonymous) for `channel`.
    ///
    /// # Errors
    /// [`TokenError`] saying why the token is refused.
    pub fn verify_subscription(
        &self,
        token: &str,
        channel: &str,
        user_id: &str,
    ) -> Result<SubscriptionClaims, TokenError> {
        self.verify_subscription_at(token, channel, user_id, now_secs())
    }

    fn verify_subscription_at(
        &self,
        token: &str,
        channel: &str,
        user_id: &str,
        now: u64,
    ) -> Result<SubscriptionClaims, TokenError> {
        let payload = self.verified_payload(token)?;
        require_string(&payload, "sub")?;
        require_string(&payload, "channel")?;
        let claims: SubscriptionClaims = serde_json::from_value(Value::Object(payload))
            .map_err(|e| TokenError::Malformed(e.to_string()))?;
        check_times(claims.exp, claims.nbf, now)?;
        if claims.channel != channel {
            return Err(TokenError::WrongChannel {
                expected: channel.to_owned(),
                found: claims.channel,
            });
        }
        if claims.sub != user_id {
            return Err(TokenError::WrongUser);
        }
        Ok(claims)
    }

    /// Checks the header and the signature; returns the payload object.
    fn verified_payload(&self, token: &str) -> Result<Map<String, Value>, TokenError> {
        let token = token.trim();
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed(
                "expected three dot-separated parts".into(),
            ));
        };
        // The signed input is `header.payload`: the token without its `.signature`.
        let signing_input = &token.as_bytes()[..header.len() + 1 + payload.len()];
        let header = decode_object(header, "header")?;
        match header.get("alg") {
            Some(Value::String(alg)) if alg == ALGORITHM => {}
            Some(Value::String(alg)) => return Err(TokenError::UnsupportedAlgorithm(alg.clone())),
            _ => return Err(TokenError::Malformed("the header has no alg".into())),
        }
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| TokenError::Malformed("the signature is not base64url".into()))?;
        // `verify_slice` compares in constant time.
        self.mac(signing_input)
            .verify_slice(&signature)
            .map_err(|_| TokenError::BadSignature)?;
        decode_object(payload, "payload")
    }
}

fn decode_object(part: &str, what: &str) -> Result<Map<String, Value>, TokenError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| TokenError::Malformed(format!("the {what} is not base64url")))?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(TokenError::Malformed(format!(
            "the {what} is not a JSON object"
        ))),
    }
}

/// Centrifugo decodes `sub` into a Go string: a number there makes the token invalid.
fn require_string(payload: &Map<String, Value>, claim: &'static str) -> Result<(), TokenError> {
    match payload.get(claim) {
        Some(Value::String(_)) => Ok(()),
        Some(_) => Err(TokenError::Malformed(format!(
            "the {claim} claim is not a string"
        ))),
        None => Err(TokenError::MissingClaim(claim)),
    }
}

fn check_times(exp: Option<u64>, nbf: Option<u64>, now: u64) -> Result<(), TokenError> {
    if exp.is_some_and(|exp| now >= exp) {
        return Err(TokenError::Expired);
    }
    if nbf.is_some_and(|nbf| now < nbf) {
        return Err(TokenError::NotYetValid);
    }
    Ok(())
}

/// Seconds since the Unix epoch.
#[must_use]
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn tokens() -> Tokens {
        Tokens::new(Secret::from("test-secret"), Duration::from_secs(3600))
    }

    fn forge(header: &Value, payload: &Value, key: &str) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(payload.to_string())
        );
        let mut mac = HmacSha256::new_from_slice(key.as_bytes()).unwrap();
        mac.update(input.as_bytes());
        format!(
            "{input}.{}",
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        )
    }

    fn parts(token: &str) -> (Value, Value) {
        let mut it = token.split('.');
        let header = URL_SAFE_NO_PAD.decode(it.next().unwrap()).unwrap();
        let payload = URL_SAFE_NO_PAD.decode(it.next().unwrap()).unwrap();
        (
            serde_json::from_slice(&header).unwrap(),
            serde_json::from_slice(&payload).unwrap(),
        )
    }

    #[test]
    fn connection_tokens_carry_what_centrifugo_reads() {
        let token = tokens().connection("42", Some(&json!({"name": "Ann"})));
        let (header, payload) = parts(&token);
        assert_eq!(header, json!({"alg": "HS256", "typ": "JWT"}));
        assert_eq!(payload["sub"], "42");
        assert_eq!(payload["info"], json!({"name": "Ann"}));
        let (iat, exp) = (
            payload["iat"].as_u64().unwrap(),
            payload["exp"].as_u64().unwrap(),
        );
        assert_eq!(exp - iat, 3600);
        assert!(payload.get("channel").is_none());
        let claims = tokens().verify_connection(&token).unwrap();
        assert_eq!(claims.sub, "42");

        let anonymous = tokens().connection("", None);
        let (_, payload) = parts(&anonymous);
        assert_eq!(payload["sub"], "");
        assert!(payload.get("info").is_none());
    }

    #[test]
    fn the_header_constant_is_the_encoded_header() {
        assert_eq!(
            HEADER,
            URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#)
        );
    }

    #[test]
    fn known_signature() {
        // Computed independently with Python's hmac + hashlib for the same header and payload.
        let claims = SubscriptionClaims::new("1", "$chat", 1_700_000_000, 1_700_003_600);
        assert_eq!(
            tokens().sign_subscription(&claims),
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.\
             eyJzdWIiOiIxIiwiY2hhbm5lbCI6IiRjaGF0IiwiZXhwIjoxNzAwMDAzNjAwLCJpYXQiOjE3MDAwMDAwMDB9.\
             EM0l9dKgSa3DqUO9t0ueMFfRe6ORGSSGRqSvPCe6lcw"
        );
    }

    #[test]
    fn subscription_tokens_verify_for_their_channel_and_user_only() {
        let t = tokens();
        let token = t.subscription("7", "$orders");
        let (_, payload) = parts(&token);
        assert_eq!(payload["channel"], "$orders");
        assert_eq!(payload["sub"], "7");
        assert!(payload["iat"].is_u64());
        assert_eq!(
            t.verify_subscription(&token, "$orders", "7").unwrap().sub,
            "7"
        );
        assert!(matches!(
            t.verify_subscription(&token, "$other", "7"),
            Err(TokenError::WrongChannel { .. })
        ));
        assert_eq!(
            t.verify_subscription(&token, "$orders", "8"),
            Err(TokenError::WrongUser)
        );
        assert_eq!(
            t.verify_subscription(&token, "$orders", ""),
            Err(TokenError::WrongUser)
        );
    }

    #[test]
    fn other_algorithms_are_refused() {
        let payload = json!({"sub": "1", "exp": now_secs() + 60});
        for alg in ["none", "HS512", "RS256", "hs256"] {
            let token = forge(&json!({"alg": alg}), &payload, "test-secret");
            assert_eq!(
                tokens().verify_connection(&token),
                Err(TokenError::UnsupportedAlgorithm(alg.into()))
            );
        }
        // The classic `alg: none` token has an empty signature.
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(payload.to_string())
        );
        assert_eq!(
            tokens().verify_connection(&none),
            Err(TokenError::UnsupportedAlgorithm("none".into()))
        );
    }

    #[test]
    fn a_wrong_key_or_an_altered_token_is_a_bad_signature() {
        let other = Tokens::new(Secret::from("other-secret"), Duration::from_secs(60));
        let token = other.connection("1", None);
        assert_eq!(
            tokens().verify_connection(&token),
            Err(TokenError::BadSignature)
        );

        let token = tokens().connection("1", None);
        let mut pieces: Vec<&str> = token.split('.').collect();
        let forged_payload = URL_SAFE_NO_PAD.encode(json!({"sub": "admin"}).to_string());
        pieces[1] = &forged_payload;
        assert_eq!(
            tokens().verify_connection(&pieces.join(".")),
            Err(TokenError::BadSignature)
        );
    }

    #[test]
    fn expired_and_not_yet_valid_tokens_are_refused() {
        let t = tokens();
        let now = now_secs();
        let expired = t.sign_connection(&ConnectionClaims::new("1", now - 120, now - 60));
        let err = t.verify_connection(&expired).unwrap_err();
        assert!(err.is_expired());

        let expired = t.sign_subscription(&SubscriptionClaims::new("1", "$c", now - 120, now - 60));
        assert_eq!(
            t.verify_subscription(&expired, "$c", "1"),
            Err(TokenError::Expired)
        );

        let mut early = ConnectionClaims::new("1", now, now + 600);
        early.nbf = Some(now + 300);
        assert_eq!(
            t.verify_connection(&t.sign_connection(&early)),
            Err(TokenError::NotYetValid)
        );
        // Answered like an expired token (109: fetch a new one), as Centrifugo does.
        assert!(TokenError::NotYetValid.is_expired());
        assert_eq!(
            t.verify_connection_at(&t.sign_connection(&early), now + 301)
                .map(|c| c.sub),
            Ok("1".to_owned())
        );
        let boundary = t.sign_connection(&ConnectionClaims::new("1", now, now + 10));
        assert_eq!(
            t.verify_connection_at(&boundary, now + 10),
            Err(TokenError::Expired)
        );
        assert!(
            t.verify_subscription_at(&t.subscription("", "c"), "c", "", now)
                .is_ok()
        );
    }

    #[test]
    fn a_channel_claim_in_a_connection_token_is_refused() {
        let token = tokens().subscription("1", "$c");
        assert_eq!(
            tokens().verify_connection(&token),
            Err(TokenError::ChannelClaimInConnectionToken)
        );
    }

    #[test]
    fn malformed_tokens_are_refused() {
        let t = tokens();
        for bad in [
            "",
            "abc",
            "a.b",
            "a.b.c.d",
            "!!!.e30.abc",
            "e30.e30.e30",
            "bnVsbA.e30.",
        ] {
            assert!(
                matches!(t.verify_connection(bad), Err(TokenError::Malformed(_))),
                "{bad:?} -> {:?}",
                t.verify_connection(bad)
            );
        }
        let header = json!({"alg": "HS256"});
        let numeric_sub = forge(&header, &json!({"sub": 42}), "test-secret");
        assert!(matches!(
            t.verify_connection(&numeric_sub),
            Err(TokenError::Malformed(_))
        ));
        let no_sub = forge(&header, &json!({"exp": now_secs() + 9}), "test-secret");
        assert_eq!(
            t.verify_connection(&no_sub),
            Err(TokenError::MissingClaim("sub"))
        );
        let no_channel = forge(&header, &json!({"sub": "1"}), "test-secret");
        assert_eq!(
            t.verify_subscription(&no_channel, "c", "1"),
            Err(TokenError::MissingClaim("channel"))
        );
        let not_object = forge(&header, &json!([1, 2]), "test-secret");
        assert!(matches!(
            t.verify_connection(&not_object),
            Err(TokenError::Malformed(_))
        ));
        let bad_exp = forge(&header, &json!({"sub": "1", "exp": "soon"}), "test-secret");
        assert!(matches!(
            t.verify_connection(&bad_exp),
            Err(TokenError::Malformed(_))
        ));
    }

    #[test]
    fn config_tokens_use_its_secret_and_ttl() {
        let config = Config::builder()
            .secret("test-secret-0123456789abcdef0123456789")
            .token_ttl(Duration::from_secs(3600))
            .build()
            .unwrap();
        let token = config.tokens().connection("5", None);
        let same_secret = Tokens::new(
            Secret::from("test-secret-0123456789abcdef0123456789"),
            Duration::from_secs(60),
        );
        assert!(same_secret.verify_connection(&token).is_ok());
        assert!(tokens().verify_connection(&token).is_err());
        assert!(!format!("{:?}", config.tokens()).contains("test-secret"));
    }
}
