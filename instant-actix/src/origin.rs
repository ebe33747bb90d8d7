//! The origin policy shared by every browser-facing endpoint: the token routes, the frontend's
//! publish route and the embedded server's WebSocket upgrade.

/// Whether a browser request from `origin` may reach an app served at `host`: the same origin,
/// or one matching an allowed pattern, where `*` matches any run of characters, as in
/// Centrifugo's `client.allowed_origins`. Comparisons ignore ASCII case.
pub(crate) fn is_allowed(origin: &str, host: Option<&str>, allowed: &[String]) -> bool {
    let origin = origin.trim();
    let same_host = origin
        .split_once("://")
        .zip(host)
        .is_some_and(|((_, origin_host), host)| origin_host.eq_ignore_ascii_case(host));
    same_host
        || allowed
            .iter()
            .any(|pattern| glob_match(pattern.trim().as_bytes(), origin.as_bytes()))
}

/// Matches `text` against `pattern`, ignoring ASCII case, where `*` stands for any run of
/// characters. It compares in place: a request allocates nothing to check its origin.
fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            backtrack = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p].eq_ignore_ascii_case(&text[t]) {
            p += 1;
            t += 1;
        } else if let Some((star, matched)) = backtrack {
            p = star + 1;
            t = matched + 1;
            backtrack = Some((star, matched + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == b'*')
}

#[cfg(test)]
mod tests {
    use super::{glob_match, is_allowed};

    #[test]
    fn origin_patterns_match_like_centrifugo() {
        assert!(glob_match(b"*", b"http://a.example"));
        assert!(glob_match(
            b"https://*.example.com",
            b"https://app.example.com"
        ));
        assert!(!glob_match(
            b"https://*.example.com",
            b"https://example.org"
        ));
        assert!(glob_match(
            b"http://localhost:8080",
            b"http://localhost:8080"
        ));
        assert!(!glob_match(
            b"http://localhost:8080",
            b"http://localhost:8081"
        ));
    }

    #[test]
    fn same_host_or_an_allowed_pattern() {
        let allowed = ["https://*.shop.test".to_owned()];
        assert!(is_allowed(
            "http://app.test:8080",
            Some("APP.test:8080"),
            &[]
        ));
        assert!(!is_allowed("http://evil.test", Some("app.test"), &[]));
        assert!(is_allowed(
            "https://eu.shop.test",
            Some("app.test"),
            &allowed
        ));
        assert!(!is_allowed("https://shop.test.evil", None, &allowed));
    }
}
