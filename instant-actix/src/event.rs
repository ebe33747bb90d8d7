//! The run-time side of `#[instant::event]`: reaching the app's [`Publisher`] from a request and
//! publishing after a handler succeeded, without changing or delaying its response.
//!
//! Everything here is named only by the code the attribute writes (through
//! `instant::__private`); apps publish with [`Publisher::publish`].

use std::future::Future;

use actix_web::body::{BodySize, BoxBody, MessageBody as _};
use actix_web::web::{Bytes, Data, Json};
use actix_web::{HttpRequest, HttpResponse, Responder};
use instant_core::{Publish, Publisher, TypedEvent};
use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;

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

/// The data of the event a handler publishes.
#[derive(Debug)]
pub enum EventData {
    /// `null`: the handler's output is not JSON.
    Null,
    /// The body of the handler's JSON response: the JSON `Json` wrote for the response is the
    /// event's data, as it is, without serializing the value a second time.
    ResponseBody,
    /// The JSON of `data = …`.
    Json(Box<RawValue>),
    /// The value of a typed event (`send = …`).
    Value(Value),
}

/// Sends an event in the background after a handler succeeded; never blocks and never fails
/// the request, and gives the `response` back as it came. Without a publisher the event is
/// dropped with an error in the log.
pub fn publish_event(
    request: &HttpRequest,
    channel: &str,
    class: &str,
    message: &str,
    data: EventData,
    response: HttpResponse,
) -> HttpResponse {
    let Some(publisher) = request_publisher(request) else {
        not_set_up(request, channel);
        return response;
    };
    let publish = publisher.publish(channel, message).event_class(class);
    match data {
        EventData::Null => publish.detach(),
        EventData::Json(json) => publish.json_data(&json).detach(),
        EventData::Value(value) => publish.data(value).detach(),
        EventData::ResponseBody => {
            let (head, body) = split_body(response);
            with_body_json(publish, &body).detach();
            return rejoin(head, body);
        }
    }
    response
}

/// Publishes an event after a handler succeeded and waits for the server's answer (the `wait`
/// option, with the default `on_error = "log"`). A failure is logged and counted
/// ([`Publisher::failed_publishes`]); the handler's `response` is given back as it is either way.
pub async fn publish_event_and_wait(
    request: &HttpRequest,
    channel: &str,
    class: &str,
    message: &str,
    data: EventData,
    response: HttpResponse,
) -> HttpResponse {
    let (head, body) = split_body(response);
    let published = publish_and_wait(request, channel, class, message, data, &body).await;
    if let Err(reason) = published {
        tracing::error!(
            channel,
            path = request.path(),
            %reason,
            "publishing the event of a successful handler failed; its response is sent anyway"
        );
    }
    rejoin(head, body)
}

/// Publishes an event after a handler succeeded and waits for the server's answer; when it fails
/// (or no publisher is set up), the failure is logged and counted and the handler's `response` is
/// replaced by a `503 Service Unavailable` (the `wait, on_error = "fail"` options).
pub async fn publish_event_or_fail(
    request: &HttpRequest,
    channel: &str,
    class: &str,
    message: &str,
    data: EventData,
    response: HttpResponse,
) -> HttpResponse {
    let (head, body) = split_body(response);
    match publish_and_wait(request, channel, class, message, data, &body).await {
        Ok(()) => rejoin(head, body),
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

/// Publishes and waits; the reason of a failure, the publisher's absence included. `body` is the
/// response's body, for [`EventData::ResponseBody`].
async fn publish_and_wait(
    request: &HttpRequest,
    channel: &str,
    class: &str,
    message: &str,
    data: EventData,
    body: &Result<Bytes, BoxBody>,
) -> Result<(), String> {
    let Some(publisher) = request_publisher(request) else {
        not_set_up(request, channel);
        return Err("instant is not set up for this app".to_owned());
    };
    let publish = publisher.publish(channel, message).event_class(class);
    let published = match data {
        EventData::Null => publish.await,
        EventData::Json(json) => publish.json_data(&json).await,
        EventData::Value(value) => publish.data(value).await,
        EventData::ResponseBody => with_body_json(publish, body).await,
    };
    published.map(drop).map_err(|error| error.to_string())
}

/// A response's head, and its body as bytes when it is bytes in memory (as `Json` makes it),
/// else as it is; [`rejoin`] puts them back together unchanged.
fn split_body(response: HttpResponse) -> (HttpResponse<()>, Result<Bytes, BoxBody>) {
    let (head, body) = response.into_parts();
    // A body-less response stays one: its bytes would be an empty body.
    if matches!(body.size(), BodySize::None) {
        return (head, Err(body));
    }
    (head, body.try_into_bytes())
}

/// The response [`split_body`] took apart.
fn rejoin(head: HttpResponse<()>, body: Result<Bytes, BoxBody>) -> HttpResponse {
    head.set_body(body.map_or_else(|body| body, BoxBody::new))
}

/// `publish` with the response's JSON `body` as its data; a body that is not JSON in memory
/// (never the case for `Json`) gives `null`, with an error in the log.
fn with_body_json<'a>(publish: Publish<'a>, body: &'a Result<Bytes, BoxBody>) -> Publish<'a> {
    let json = body
        .as_ref()
        .ok()
        .and_then(|bytes| std::str::from_utf8(bytes).ok())
        .and_then(|text| serde_json::from_str::<&RawValue>(text).ok());
    match json {
        Some(json) => publish.json_data(json),
        None => {
            tracing::error!(
                channel = %publish.event().channel,
                "the JSON response's body could not be read as the event's data; sending null"
            );
            publish
        }
    }
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
pub fn to_data<T: Serialize + ?Sized>(value: &T) -> EventData {
    match serde_json::value::to_raw_value(value) {
        Ok(json) => EventData::Json(json),
        Err(error) => {
            tracing::error!(%error, "the event's `data` could not be serialized; sending null");
            EventData::Null
        }
    }
}

/// The name of the channel given as `channel = …`: a `Channel` constant from `channels!`, a
/// `&str`, a `String`, anything `AsRef<str>`.
pub fn channel_name<C: AsRef<str> + ?Sized>(channel: &C) -> &str {
    channel.as_ref()
}

/// The channel, class, message and data of a typed event, for `#[instant::event(send = …)]`.
pub fn typed_event<T: TypedEvent>(
    value: &T,
) -> (&'static str, &'static str, &'static str, EventData) {
    (
        T::channel(),
        T::CLASS,
        T::MESSAGE,
        EventData::Value(value.data()),
    )
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

/// Looks at a handler's output to find whether its body is JSON:
/// `(&DataProbe(&output)).__instant_data()` resolves to [`JsonResponseData`] for `Json<T>` and
/// `Result<Json<T>, E>` with `T: Serialize` ([`EventData::ResponseBody`] for a `Json`), and to
/// [`NoResponseData`] (`null`) for any other responder.
#[derive(Debug)]
pub struct DataProbe<'a, T: ?Sized>(pub &'a T);

/// The JSON body of a `Json<T>` output; chosen first by method resolution.
pub trait JsonResponseData {
    /// [`EventData::ResponseBody`] for a `Json`: the response `Json` makes holds the JSON.
    fn __instant_data(&self) -> EventData;
}

impl<T: Serialize> JsonResponseData for DataProbe<'_, Json<T>> {
    fn __instant_data(&self) -> EventData {
        EventData::ResponseBody
    }
}

impl<T: Serialize, E> JsonResponseData for DataProbe<'_, Result<Json<T>, E>> {
    fn __instant_data(&self) -> EventData {
        match self.0 {
            Ok(_) => EventData::ResponseBody,
            Err(_) => EventData::Null,
        }
    }
}

/// `null` for outputs that are not JSON; found one auto-reference later than
/// [`JsonResponseData`], so only when that does not apply.
pub trait NoResponseData {
    /// Always `null`.
    fn __instant_data(&self) -> EventData {
        EventData::Null
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
        let body = |data| matches!(data, EventData::ResponseBody);
        let null = |data| matches!(data, EventData::Null);
        assert!(body((&DataProbe(&json)).__instant_data()));
        let ok: Result<Json<u32>, actix_web::Error> = Ok(Json(3));
        assert!(body((&DataProbe(&ok)).__instant_data()));
        let err: Result<Json<u32>, actix_web::Error> = Err(actix_web::error::ErrorBadRequest("no"));
        assert!(null((&DataProbe(&err)).__instant_data()));
        let text = "plain";
        assert!(null((&DataProbe(&text)).__instant_data()));
        let response = HttpResponse::Ok().finish();
        assert!(null((&DataProbe(&response)).__instant_data()));
    }
}
