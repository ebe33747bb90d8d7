//! The tokens written into pages, reused for a short while per user and channel.
//!
//! A logged-in user who opens page after page would otherwise get two freshly signed tokens on
//! every one of them; the HMAC and the JSON of the claims are the largest share of what the
//! middleware adds to a page. A token minted less than [`PageTokens::reuse_for`] ago is handed
//! out again: it is the token the user would have got then, with at least nine tenths of its
//! lifetime left (the client renews it through the auth routes before it expires, and those
//! always mint a new one).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use instant_core::{ConnectionClaims, SubscriptionClaims, Tokens, now_secs};
use serde_json::Value;

/// The tokens kept at most; past that, those too old to reuse go, and if none is, all of them.
const CAPACITY: usize = 10_000;

/// The longest a page token is reused.
const MAX_REUSE: Duration = Duration::from_secs(60);

/// One kept token and when it was issued (its `iat`).
struct Minted {
    token: String,
    issued: u64,
}

/// Page tokens, reused per user (and per channel) for a tenth of their lifetime, at most a minute.
pub(crate) struct PageTokens {
    tokens: Tokens,
    /// In seconds; 0 turns reuse off (tokens living less than 10 s).
    reuse_for: u64,
    kept: Mutex<HashMap<Vec<u8>, Minted>>,
}

/// The key of a kept token: its kind (`b'c'` or `b's'`), the user id's length, the user id, then
/// the channel or the connection info; the length keeps any two user ids and suffixes apart.
fn key(kind: u8, user_id: &str, rest: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + 8 + user_id.len() + rest.len());
    key.push(kind);
    key.extend_from_slice(&(user_id.len() as u64).to_le_bytes());
    key.extend_from_slice(user_id.as_bytes());
    key.extend_from_slice(rest.as_bytes());
    key
}

impl PageTokens {
    pub(crate) fn new(tokens: Tokens) -> Self {
        let reuse_for = (tokens.ttl() / 10).min(MAX_REUSE).as_secs();
        Self {
            tokens,
            reuse_for,
            kept: Mutex::new(HashMap::new()),
        }
    }

    /// The connection token of `user_id` with `info`.
    pub(crate) fn connection(&self, user_id: &str, info: Option<&Value>) -> String {
        let info_text = info.map(Value::to_string);
        let key = key(b'c', user_id, info_text.as_deref().unwrap_or(""));
        self.reuse_or_mint(key, |iat, exp| {
            let mut claims = ConnectionClaims::new(user_id, iat, exp);
            claims.info = info.cloned();
            self.tokens.sign_connection(&claims)
        })
    }

    /// The subscription token of `user_id` on `channel`.
    pub(crate) fn subscription(&self, user_id: &str, channel: &str) -> String {
        self.reuse_or_mint(key(b's', user_id, channel), |iat, exp| {
            self.tokens
                .sign_subscription(&SubscriptionClaims::new(user_id, channel, iat, exp))
        })
    }

    fn reuse_or_mint(&self, key: Vec<u8>, mint: impl FnOnce(u64, u64) -> String) -> String {
        let now = now_secs();
        let fresh = |minted: &Minted| now.saturating_sub(minted.issued) < self.reuse_for;
        if self.reuse_for > 0 {
            // A poisoned lock only means another thread panicked mid-insert: the map is sound.
            let kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(minted) = kept.get(&key).filter(|m| fresh(m)) {
                return minted.token.clone();
            }
        }
        let token = mint(now, now.saturating_add(self.tokens.ttl().as_secs()));
        if self.reuse_for > 0 {
            let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
            if kept.len() >= CAPACITY && !kept.contains_key(&key) {
                kept.retain(|_, minted| fresh(minted));
                if kept.len() >= CAPACITY {
                    kept.clear();
                }
            }
            kept.insert(
                key,
                Minted {
                    token: token.clone(),
                    issued: now,
                },
            );
        }
        token
    }
}

#[cfg(test)]
mod tests {
    use instant_core::Secret;
    use serde_json::json;

    use super::*;

    fn page_tokens(ttl_secs: u64) -> (PageTokens, Tokens) {
        let tokens = Tokens::new(
            Secret::new("page-tokens-test-secret".to_owned()),
            Duration::from_secs(ttl_secs),
        );
        (PageTokens::new(tokens.clone()), tokens)
    }

    #[test]
    fn a_token_is_reused_for_the_same_user_and_channel_only() {
        let (page, tokens) = page_tokens(3600);
        assert_eq!(page.reuse_for, 60);
        let first = page.subscription("u1", "$orders");
        assert_eq!(page.subscription("u1", "$orders"), first);
        let claims = tokens.verify_subscription(&first, "$orders", "u1").unwrap();
        assert_eq!(claims.exp.unwrap() - claims.iat.unwrap(), 3600);
        // Another user, another channel, another kind: tokens of their own.
        let other_user = page.subscription("u2", "$orders");
        tokens
            .verify_subscription(&other_user, "$orders", "u2")
            .unwrap();
        let other_channel = page.subscription("u1", "$orders2");
        tokens
            .verify_subscription(&other_channel, "$orders2", "u1")
            .unwrap();
        let connection = page.connection("u1", None);
        assert_eq!(tokens.verify_connection(&connection).unwrap().sub, "u1");
        assert_eq!(page.connection("u1", None), connection);
    }

    #[test]
    fn a_user_id_and_channel_cannot_run_into_each_other() {
        let (page, tokens) = page_tokens(3600);
        let a = page.subscription("u", "1x");
        let b = page.subscription("u1", "x");
        tokens.verify_subscription(&a, "1x", "u").unwrap();
        tokens.verify_subscription(&b, "x", "u1").unwrap();
        let c = page.subscription("1:u", "x");
        let d = page.subscription("1", "1:ux");
        tokens.verify_subscription(&c, "x", "1:u").unwrap();
        tokens.verify_subscription(&d, "1:ux", "1").unwrap();
    }

    #[test]
    fn connection_info_is_part_of_the_key() {
        let (page, tokens) = page_tokens(3600);
        let plain = page.connection("u1", None);
        let with_info = page.connection("u1", Some(&json!({"name": "Ann"})));
        assert_eq!(tokens.verify_connection(&plain).unwrap().info, None);
        assert_eq!(
            tokens.verify_connection(&with_info).unwrap().info,
            Some(json!({"name": "Ann"}))
        );
        let renamed = page.connection("u1", Some(&json!({"name": "Bea"})));
        assert_eq!(
            tokens.verify_connection(&renamed).unwrap().info,
            Some(json!({"name": "Bea"}))
        );
    }

    #[test]
    fn short_lived_tokens_are_never_reused() {
        let (page, _) = page_tokens(9);
        assert_eq!(page.reuse_for, 0);
        page.subscription("u1", "$orders");
        assert!(page.kept.lock().unwrap().is_empty());
    }

    #[test]
    fn a_token_too_old_to_reuse_is_replaced() {
        let (page, tokens) = page_tokens(3600);
        let stale = tokens.sign_subscription(&SubscriptionClaims::new("u1", "$c", 0, 3600));
        page.kept.lock().unwrap().insert(
            key(b's', "u1", "$c"),
            Minted {
                token: stale.clone(),
                issued: 0,
            },
        );
        let token = page.subscription("u1", "$c");
        assert_ne!(token, stale);
        tokens.verify_subscription(&token, "$c", "u1").unwrap();
    }

    #[test]
    fn the_kept_tokens_stay_within_capacity() {
        let (page, _) = page_tokens(3600);
        for n in 0..CAPACITY {
            page.subscription(&n.to_string(), "$c");
        }
        assert_eq!(page.kept.lock().unwrap().len(), CAPACITY);
        // Full of tokens still fresh: they all go, and the new one is kept.
        page.subscription("one more", "$c");
        assert_eq!(page.kept.lock().unwrap().len(), 1);
    }
}
