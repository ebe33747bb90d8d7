//! What a request says about where it came from: its host, scheme and client address. Forwarded
//! headers (`Forwarded`, `X-Forwarded-Host`, `X-Forwarded-Proto`, `X-Forwarded-For`) are written
//! by whoever sends the request, so they are believed only from the reverse proxies named in the
//! `trusted_proxies` setting; from anyone else the request's own `Host` and peer address count.

use std::borrow::Cow;
use std::net::IpAddr;

use actix_web::HttpRequest;
use actix_web::http::header;

/// Whether the direct peer of `req` is one of the `trusted` proxies.
fn from_trusted_proxy(req: &HttpRequest, trusted: &[IpAddr]) -> bool {
    !trusted.is_empty()
        && req
            .peer_addr()
            .is_some_and(|peer| trusted.contains(&canonical(peer.ip())))
}

/// An IPv4-mapped IPv6 address as IPv4, so that `127.0.0.1` matches `::ffff:127.0.0.1`.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// The host (with port) the request was sent to: from a trusted proxy, what actix-web's
/// `connection_info` reads (forwarded headers first); from anyone else, the `Host` header (or the
/// request URI's authority, for HTTP/2), else the server's configured host.
pub(crate) fn host<'a>(req: &'a HttpRequest, trusted: &[IpAddr]) -> Cow<'a, str> {
    if from_trusted_proxy(req, trusted) {
        return Cow::Owned(req.connection_info().host().to_owned());
    }
    req.headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()))
        .map_or_else(
            || Cow::Owned(req.app_config().host().to_owned()),
            Cow::Borrowed,
        )
}

/// `https` or `http`: from a trusted proxy, what it forwards; else whether this server's
/// connection is secure.
pub(crate) fn scheme<'a>(req: &'a HttpRequest, trusted: &[IpAddr]) -> Cow<'a, str> {
    if from_trusted_proxy(req, trusted) {
        return Cow::Owned(req.connection_info().scheme().to_owned());
    }
    match req.uri().scheme_str() {
        Some(scheme) => Cow::Borrowed(scheme),
        None if req.app_config().secure() => Cow::Borrowed("https"),
        None => Cow::Borrowed("http"),
    }
}

/// The client's IP address: from a trusted proxy, the address it forwards
/// (`Forwarded: for=` or the first `X-Forwarded-For` entry); else the peer's own address.
pub(crate) fn client_ip(req: &HttpRequest, trusted: &[IpAddr]) -> Option<IpAddr> {
    let peer = req.peer_addr().map(|addr| canonical(addr.ip()));
    if from_trusted_proxy(req, trusted)
        && let Some(forwarded) = req.connection_info().realip_remote_addr()
        && let Some(ip) = parse_ip(forwarded)
    {
        return Some(canonical(ip));
    }
    peer
}

/// An address as `Forwarded`/`X-Forwarded-For` write it: `1.2.3.4`, `1.2.3.4:80`, `[::1]:80`,
/// `::1`.
fn parse_ip(text: &str) -> Option<IpAddr> {
    let text = text.trim().trim_matches('"');
    if let Ok(ip) = text.parse() {
        return Some(ip);
    }
    if let Some(rest) = text.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    text.rsplit_once(':')?.0.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn request(peer: &str) -> TestRequest {
        TestRequest::default()
            .peer_addr(peer.parse().unwrap())
            .insert_header((header::HOST, "app.example:8080"))
            .insert_header(("x-forwarded-host", "evil.example"))
            .insert_header(("x-forwarded-proto", "https"))
            .insert_header(("x-forwarded-for", "203.0.113.9"))
    }

    #[test]
    fn forwarded_headers_count_only_from_trusted_proxies() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let untrusted = request("192.0.2.7:5000").to_http_request();
        assert_eq!(host(&untrusted, &[proxy]), "app.example:8080");
        assert_eq!(scheme(&untrusted, &[proxy]), "http");
        assert_eq!(client_ip(&untrusted, &[proxy]), "192.0.2.7".parse().ok());
        assert_eq!(host(&untrusted, &[]), "app.example:8080");

        let trusted = request("10.0.0.1:5000").to_http_request();
        assert_eq!(host(&trusted, &[proxy]), "evil.example");
        assert_eq!(scheme(&trusted, &[proxy]), "https");
        assert_eq!(client_ip(&trusted, &[proxy]), "203.0.113.9".parse().ok());
    }

    #[test]
    fn addresses_parse_with_and_without_ports() {
        assert_eq!(parse_ip("1.2.3.4:80"), "1.2.3.4".parse().ok());
        assert_eq!(parse_ip("[::1]:80"), "::1".parse().ok());
        assert_eq!(parse_ip("::1"), "::1".parse().ok());
        assert_eq!(parse_ip("unknown"), None);
    }
}
