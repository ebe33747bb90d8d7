//! The [`Sender`] extractor: the browser tab behind a request, for events sent
//! [to others](instant_core::Publish::to_others).

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use instant_core::sender::{CLIENT_HEADER, ClientId};

/// The Centrifugo client id of the tab that sent the request, read from the
/// [`CLIENT_HEADER`] header that the injected client adds to the page's same-origin `fetch` and
/// `XMLHttpRequest` requests; empty when the request carries none (or an invalid one). Never fails.
///
/// Give it to [`Publish::to_others`](instant_core::Publish::to_others): the event reaches every
/// tab but that one.
///
/// ```
/// use actix_web::{HttpResponse, post};
/// use instant_actix::Sender;
/// use instant_core::Publisher;
///
/// #[post("/messages")]
/// async fn send_message(publisher: actix_web::web::Data<Publisher>, sender: Sender) -> HttpResponse {
///     publisher.publish("chat", "Hello").to_others(&sender).detach();
///     HttpResponse::NoContent().finish()
/// }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sender(Option<ClientId>);

impl Sender {
    /// The sender of `req`; [`Sender::client_id`] is the id it carried.
    ///
    /// ```
    /// use instant_actix::Sender;
    ///
    /// let req = actix_web::test::TestRequest::default()
    ///     .insert_header(("x-instant-client", "6f1c3e52-8d0a-4c7e-9a55-0e4b1f7d2c11"))
    ///     .to_http_request();
    /// let sender = Sender::of(&req);
    /// assert_eq!(sender.client_id().unwrap().as_str(), "6f1c3e52-8d0a-4c7e-9a55-0e4b1f7d2c11");
    /// assert!(Sender::of(&actix_web::test::TestRequest::default().to_http_request()).client_id().is_none());
    /// ```
    #[must_use]
    pub fn of(req: &HttpRequest) -> Self {
        Self(
            req.headers()
                .get(CLIENT_HEADER)
                .and_then(|value| value.to_str().ok())
                .and_then(ClientId::parse),
        )
    }

    /// The client id, when the request carried a valid one.
    #[must_use]
    pub fn client_id(&self) -> Option<&ClientId> {
        self.0.as_ref()
    }
}

impl FromRequest for Sender {
    type Error = std::convert::Infallible;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Self::of(req)))
    }
}

impl From<Sender> for Option<ClientId> {
    fn from(sender: Sender) -> Self {
        sender.0
    }
}

impl From<&Sender> for Option<ClientId> {
    fn from(sender: &Sender) -> Self {
        sender.0.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_valid_header_and_ignores_others() {
        let req = actix_web::test::TestRequest::default()
            .insert_header((CLIENT_HEADER, "abc-123"))
            .to_http_request();
        assert_eq!(Sender::of(&req).client_id().unwrap().as_str(), "abc-123");
        let req = actix_web::test::TestRequest::default()
            .insert_header((CLIENT_HEADER, "a b"))
            .to_http_request();
        assert_eq!(Sender::of(&req), Sender::default());
    }
}
