//! The run-time side of `#[instant::event]`: reaching the app's [`Publisher`] from a request and
//! publishing after a handler succeeded, without changing or delaying its response.
//!
//! Everything here is named only by the code the attribute writes (through
//! `instant::__private`); apps publish with [`Publisher::publish`].

use std::future::Future;

use actix_web::web::{Data, Json};
use actix_web::{HttpRequest, HttpResponse, Responder};
use instant_core::{Publisher, TypedEvent};
use serde::Serialize;
use serde_json::Value;

/// The publisher registered for the app that serves `request`: the `Publisher` app data that
/// [`Realtime::routes`](crate::Realtime::routes) registers, a `web::Data<Publisher>`, or else the
/// global publisher ([`Realtime::install_global_publisher`](crate::Realtime::install_global_publisher)).
#[must_use]
pub fn request_publisher(request: &HttpRequest) -> Option<&Publisher> {
    let registered = request
        .app_data::<Publisher>()
        .or_else(|| request.app_data::<Data<Publisher>>().map(|data| &***data));
    registered.or(Publisher::global())
}

/// Sends an event in the background after a handler succeeded; never blocks and never fails
/// the request. Without a publisher the event is dropped with an error in the log.
pub fn publish_event(
    request: &HttpRequest,
    channel: &str,
    class: &str,
    message: &str,
    data: Value,
) {
    match request_publisher(request) {
        Some(publisher) => publisher
            .publish(channel, message)
            .event_class(class)
            .data(data)
            .detach(),
        None => not_set_up(request, channel),
    }
}

/// Publishes an event after a handler succeeded and waits for the server's answer (the `wait`
/// option, with the default `on_error = "log"`). A failure is logged and counted
/// ([`Publisher::failed_publishes`]); the handler's response is sent as it is either way.
pub async fn publish_event_and_wait(
    request: &HttpRequest,
    channel: &str,
    class: &str,
    message: &str,
    data: Value,
) {
    if let Err(reason) = publish_and_wait(request, channel, class, message, data).await {
        tracing::error!(
            channel,
            path = request.path(),
            %reason,
            "publishing the event of a successful handler failed; its response is sent anyway"
        );
    }
}

/// Publishes an event after a handler succeeded and waits for the server's answer; when it fails
/// (or no publisher is set up), the failure is logged and counted and the handler's `response` is
/// replaced by a `503 Service Unavailable` (the `wait, on_error = "fail"` options).
pub async fn publish_event_or_fail(
    request: &HttpRequest,
    channel: &str,
    class: &str,
    message: &str,
    data: Value,
    response: HttpResponse,
) -> HttpResponse {
    match publish_and_wait(request, channel, class, message, data).await {
        Ok(()) => response,
        Err(reason) => {
            tracing::error!(
                channel,
                path = request.path(),
                %reason,
                "publishing the event of a successful handler failed; answering 503 (on_error = \"fail\")"
            );
            HttpResponse::ServiceUnavailable()
                .content_type("text/plain; charset=utf-8")
                .body(PUBLISH_FAILED_BODY)
        }
    }
}

/// The body of the `503` answer of a handler whose event could not be published.
pub const PUBLISH_FAILED_BODY: &str =
    "the request was handled but its real-time event could not be published";

/// Publishes and waits; the reason of a failure, the publisher's absence included.
async fn publish_and_wait(
    request: &HttpRequest,
    channel: &str,
    class: &str,
    message: &str,
    data: Value,
) -> Result<(), String> {
    let Some(publisher) = request_publisher(request) else {
        not_set_up(request, channel);
        return Err("instant is not set up for this app".to_owned());
    };
    publisher
        .publish(channel, message)
        .event_class(class)
        .data(data)
        .await
        .map(drop)
        .map_err(|error| error.to_string())
}

fn not_set_up(request: &HttpRequest, channel: &str) {
    tracing::error!(
        channel,
        path = request.path(),
        "instant is not set up for this app: call .configure(realtime.routes()) on the App \
         (or register a Publisher as app data, or call realtime.install_global_publisher()); \
         the event is dropped"
    );
}

/// The `data = …` value as JSON; a value that does not serialize is logged and sent as `null`.
pub fn to_data<T: Serialize + ?Sized>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or_else(|error| {
        tracing::error!(%error, "the event's `data` could not be serialized; sending null");
        Value::Null
    })
}

/// The name of the channel given as `channel = …`: a `Channel` constant from `channels!`, a
/// `&str`, a `String`, anything `AsRef<str>`.
pub fn channel_name<C: AsRef<str> + ?Sized>(channel: &C) -> &str {
    channel.as_ref()
}

/// The channel, class, message and data of a typed event, for `#[instant::event(send = …)]`.
pub fn typed_event<T: TypedEvent>(value: &T) -> (&'static str, &'static str, &'static str, Value) {
    (T::channel(), T::CLASS, T::MESSAGE, value.data())
}

/// Gives the async block holding a handler's body its declared output type, so that `?` in the
/// body converts errors as it did in the handler itself.
pub fn handler_output<R, F: Future<Output = R>>(body: F) -> F {
    body
}

/// The response actix-web itself makes of a handler's output.
pub fn into_response<R: Responder>(output: R, request: &HttpRequest) -> HttpResponse {
    output.respond_to(request).map_into_boxed_body()
}

/// Looks at a handler's output to find its JSON body: `(&DataProbe(&output)).__instant_data()`
/// resolves to [`JsonResponseData`] for `Json<T>` and `Result<Json<T>, E>` with
/// `T: Serialize`, and to [`NoResponseData`] (`null`) for any other responder.
#[derive(Debug)]
pub struct DataProbe<'a, T: ?Sized>(pub &'a T);

/// The JSON body of a `Json<T>` output; chosen first by method resolution.
pub trait JsonResponseData {
    /// The body as JSON.
    fn __instant_data(&self) -> Value;
}

impl<T: Serialize> JsonResponseData for DataProbe<'_, Json<T>> {
    fn __instant_data(&self) -> Value {
        to_data(&self.0.0)
    }
}

impl<T: Serialize, E> JsonResponseData for DataProbe<'_, Result<Json<T>, E>> {
    fn __instant_data(&self) -> Value {
        match self.0 {
            Ok(json) => to_data(&json.0),
            Err(_) => Value::Null,
        }
    }
}

/// `null` for outputs that are not JSON; found one auto-reference later than
/// [`JsonResponseData`], so only when that does not apply.
pub trait NoResponseData {
    /// Always `null`.
    fn __instant_data(&self) -> Value {
        Value::Null
    }
}

impl<T: ?Sized> NoResponseData for &DataProbe<'_, T> {}

#[cfg(test)]
mod tests {
    use super::*;

    // Written exactly as the expansion writes it, where the borrow selects the fallback.
    #[allow(clippy::needless_borrow)]
    #[test]
    fn json_outputs_give_their_body_and_others_null() {
        let json = Json(serde_json::json!({"id": 7}));
        assert_eq!((&DataProbe(&json)).__instant_data()["id"], 7);
        let ok: Result<Json<u32>, actix_web::Error> = Ok(Json(3));
        assert_eq!((&DataProbe(&ok)).__instant_data(), 3);
        let err: Result<Json<u32>, actix_web::Error> = Err(actix_web::error::ErrorBadRequest("no"));
        assert_eq!((&DataProbe(&err)).__instant_data(), Value::Null);
        let text = "plain";
        assert_eq!((&DataProbe(&text)).__instant_data(), Value::Null);
        let response = HttpResponse::Ok().finish();
        assert_eq!((&DataProbe(&response)).__instant_data(), Value::Null);
    }
}
