//! Every request and response marker `instant` reads: what an app puts in extensions or headers
//! to change what the middleware does to a page.

use actix_web::http::header::HeaderName;

/// The response header that opts a page out of injection (any value); the middleware removes it.
pub const SKIP_HEADER: HeaderName = HeaderName::from_static("x-instant-skip");

/// Put in a response's extensions (`HttpResponse::extensions_mut().insert(SkipInjection)`) or in
/// the request's extensions to leave that page untouched.
#[derive(Debug, Clone, Copy, Default)]
pub struct SkipInjection;

/// The CSP nonce of a request. Put it in the request's extensions (for instance in the middleware
/// that writes the `Content-Security-Policy` header, or in the handler) and every script and
/// style-sheet element `instant` inserts carries `nonce="…"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CspNonce(pub String);

/// Put in a response's extensions to subscribe the page to every channel the user may join,
/// ignoring the channels' paths, and to hand it the publish URL (the frontend page).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct JoinAllChannels;
