//! The server API, `POST /api/{method}`, in Centrifugo's JSON shapes: `publish`, `broadcast`,
//! `batch`, `presence`, `presence_stats`, `history` and `info`.
//!
//! Requests carry the key in `X-API-Key` or `Authorization: apikey <key>`; a wrong or missing key
//! gets 401 with an empty body. Errors come back as HTTP 200 with `{"error":{code,message}}`, or,
//! with the header `X-Centrifugo-Error-Mode: transport`, as an HTTP error status with
//! `{code,message}`, as Centrifugo does.
//!
//! `publish` and `broadcast` honour `idempotency_key` as Centrifugo v6 does: a publish on a channel
//! with a key already used there within [`IDEMPOTENT_RESULT_TTL`] returns the first publish's
//! result and is not delivered again, so a publisher may retry after a lost answer. At most
//! [`MAX_IDEMPOTENT_RESULTS`] keys are remembered, the oldest forgotten first.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use super::Inner;
use super::hub::NewPublication;
use super::protocol::{ErrorReply, SERVER_VERSION, StreamPosition};

/// How long a keyed publish's result is remembered: Centrifugo's default `idempotent_result_ttl`.
pub(crate) const IDEMPOTENT_RESULT_TTL: Duration = Duration::from_secs(5 * 60);
/// How many keyed results are remembered at most, whatever their age.
pub(crate) const MAX_IDEMPOTENT_RESULTS: usize = 16_384;

/// The results of recent keyed publishes, by channel and `idempotency_key`, oldest first.
#[derive(Debug, Default)]
pub(crate) struct IdempotentResults {
    inner: Mutex<Results>,
}

/// A channel and an `idempotency_key` used on it.
type KeyOnChannel = (Box<str>, Box<str>);

#[derive(Debug, Default)]
struct Results {
    by_key: HashMap<KeyOnChannel, Value>,
    order: VecDeque<(Instant, KeyOnChannel)>,
}

impl IdempotentResults {
    /// Runs `publish` unless `key` was used on `channel` within the window, in which case the
    /// first result is returned and nothing is published. Failed publishes are not remembered.
    fn publish_once(
        &self,
        channel: &str,
        key: &str,
        publish: impl FnOnce() -> Result<Value, Failure>,
    ) -> Result<Value, Failure> {
        if key.is_empty() {
            return publish();
        }
        // Held while publishing, so that two requests with the same key cannot both publish.
        let mut results = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        while let Some((at, _)) = results.order.front() {
            if now.duration_since(*at) < IDEMPOTENT_RESULT_TTL {
                break;
            }
            if let Some((_, expired)) = results.order.pop_front() {
                results.by_key.remove(&expired);
            }
        }
        let id: KeyOnChannel = (channel.into(), key.into());
        if let Some(result) = results.by_key.get(&id) {
            return Ok(result.clone());
        }
        let result = publish()?;
        if results.order.len() >= MAX_IDEMPOTENT_RESULTS
            && let Some((_, oldest)) = results.order.pop_front()
        {
            results.by_key.remove(&oldest);
        }
        results.by_key.insert(id.clone(), result.clone());
        results.order.push_back((now, id));
        Ok(result)
    }
}

#[derive(Debug, Deserialize)]
struct PublishRequest {
    #[serde(default)]
    channel: String,
    #[serde(default)]
    idempotency_key: String,
    data: Option<Box<RawValue>>,
    #[serde(default)]
    skip_history: bool,
    #[serde(default)]
    tags: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Deserialize)]
struct BroadcastRequest {
    #[serde(default)]
    channels: Vec<String>,
    #[serde(default)]
    idempotency_key: String,
    data: Option<Box<RawValue>>,
    #[serde(default)]
    skip_history: bool,
    #[serde(default)]
    tags: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Deserialize)]
struct ChannelRequest {
    #[serde(default)]
    channel: String,
}

#[derive(Debug, Deserialize)]
struct HistoryRequest {
    #[serde(default)]
    channel: String,
    #[serde(default)]
    limit: i64,
    since: Option<StreamPosition>,
    #[serde(default)]
    reverse: bool,
}

#[derive(Debug, Deserialize)]
struct BatchRequest {
    /// Each command's parameters stay raw JSON, handed to the method as they came.
    #[serde(default)]
    commands: Vec<BTreeMap<String, Box<RawValue>>>,
}

/// Why a request got no result.
#[derive(Debug)]
enum Failure {
    /// The body is not the JSON the method takes: 400, as Centrifugo answers undecodable bodies.
    BadBody,
    /// A Centrifugo API error.
    Api(ErrorReply),
}

impl From<ErrorReply> for Failure {
    fn from(error: ErrorReply) -> Self {
        Self::Api(error)
    }
}

/// Serves one API request.
pub(super) fn handle(server: &Inner, req: &HttpRequest, method: &str, body: &[u8]) -> HttpResponse {
    if !authorized(server, req) {
        return HttpResponse::Unauthorized().finish();
    }
    let transport_errors = req
        .headers()
        .get("X-Centrifugo-Error-Mode")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"transport"));
    if method == "batch" {
        return match batch(server, body) {
            Ok(replies) => HttpResponse::Ok().json(replies),
            Err(_) => bad_body(),
        };
    }
    let Some(outcome) = call(server, method, body) else {
        return HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("404 page not found\n");
    };
    match outcome {
        Ok(result) => HttpResponse::Ok().json(json!({ "result": result })),
        Err(Failure::BadBody) => bad_body(),
        Err(Failure::Api(error)) if transport_errors => {
            HttpResponse::build(transport_status(error.code)).json(error)
        }
        Err(Failure::Api(error)) => HttpResponse::Ok().json(json!({ "error": error })),
    }
}

/// The methods of Centrifugo's single API endpoint, by the number its legacy format also
/// accepts (`Command.MethodType` of Centrifugo's API); those this server lacks answer error 104.
const SINGLE_METHODS: [&str; 13] = [
    "publish",
    "broadcast",
    "unsubscribe",
    "disconnect",
    "presence",
    "presence_stats",
    "history",
    "history_remove",
    "channels",
    "info",
    "rpc",
    "subscribe",
    "refresh",
];

/// Centrifugo's API error for a method it does not have.
const API_NOT_FOUND: ErrorReply = ErrorReply {
    code: 104,
    message: "not found",
    temporary: false,
};

/// One command of the single endpoint.
#[derive(Debug, Deserialize)]
struct SingleCommand {
    #[serde(default)]
    id: u32,
    /// A name (any case) or its number; missing means `publish` (number 0), as in Centrifugo.
    #[serde(default)]
    method: Option<Value>,
    #[serde(default)]
    params: Option<Box<RawValue>>,
}

impl SingleCommand {
    /// The method's name; `Err` for a method name Centrifugo does not know (a bad request),
    /// `Ok(None)` for a number it does not know (error 104).
    fn method(&self) -> Result<Option<&'static str>, ()> {
        match &self.method {
            None => Ok(Some(SINGLE_METHODS[0])),
            Some(Value::String(name)) => SINGLE_METHODS
                .iter()
                .find(|known| known.eq_ignore_ascii_case(name))
                .map(|known| Some(*known))
                .ok_or(()),
            Some(Value::Number(number)) => Ok(number
                .as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .and_then(|n| SINGLE_METHODS.get(n).copied())),
            Some(_) => Err(()),
        }
    }
}

/// Centrifugo's single API endpoint, `POST /api`: one or more commands
/// `{"id": 1, "method": "publish", "params": {..}}` in one body, answered with one reply per
/// command, newline-separated: `{"id": 1, "result": {..}}` or `{"id": 1, "error": {..}}`. A body
/// that does not decode is answered 400, as Centrifugo does.
pub(super) fn handle_single(server: &Inner, req: &HttpRequest, body: &[u8]) -> HttpResponse {
    if !authorized(server, req) {
        return HttpResponse::Unauthorized().finish();
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return bad_body();
    }
    let mut replies = Vec::new();
    for command in serde_json::Deserializer::from_slice(body).into_iter::<SingleCommand>() {
        let Ok(command) = command else {
            return bad_body();
        };
        let Ok(method) = command.method() else {
            return bad_body();
        };
        let params = command.params.as_deref().map_or("{}", RawValue::get);
        let outcome = match method.and_then(|m| call(server, m, params.as_bytes())) {
            Some(Ok(result)) => Ok(result),
            Some(Err(Failure::Api(error))) => Err(error),
            Some(Err(Failure::BadBody)) => Err(ErrorReply::BAD_REQUEST),
            None => Err(API_NOT_FOUND),
        };
        let mut reply = Map::new();
        if command.id != 0 {
            reply.insert("id".into(), command.id.into());
        }
        match outcome {
            Ok(result) => reply.insert("result".into(), result),
            Err(error) => reply.insert("error".into(), to_value(&error)),
        };
        replies.push(Value::Object(reply).to_string());
    }
    HttpResponse::Ok()
        .content_type("application/json")
        .body(replies.join("\n"))
}

fn bad_body() -> HttpResponse {
    HttpResponse::BadRequest()
        .content_type("text/plain; charset=utf-8")
        .body("Bad Request\n")
}

/// Centrifugo's mapping of API error codes to HTTP statuses in transport error mode.
fn transport_status(code: u32) -> StatusCode {
    match code {
        102 | 104 => StatusCode::NOT_FOUND,
        107 | 108 => StatusCode::BAD_REQUEST,
        112 => StatusCode::RANGE_NOT_SATISFIABLE,
        113 => StatusCode::CONFLICT,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn authorized(server: &Inner, req: &HttpRequest) -> bool {
    let Some(expected) = server.api_key.as_ref().filter(|k| !k.is_empty()) else {
        // No key configured: the API stays closed, as in Centrifugo.
        return false;
    };
    let headers = req.headers();
    let presented = headers
        .get("X-API-Key")
        .and_then(|v| v.to_str().ok())
        .or_else(|| {
            headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| {
                    let (scheme, key) = v.trim().split_once(' ')?;
                    scheme.eq_ignore_ascii_case("apikey").then_some(key.trim())
                })
        });
    presented
        .is_some_and(|key| constant_time_eq(key.as_bytes(), expected.expose_secret().as_bytes()))
}

/// Compares without returning early, so that timing does not tell how much of a key matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Decodes a request body as Centrifugo's HTTP API does (Go's `encoding/json` into the request
/// struct): an object is the request, `null` the empty request, anything else a bad body.
fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, Failure> {
    let raw: &RawValue = serde_json::from_slice(body).map_err(|_| Failure::BadBody)?;
    let json = match raw.get().as_bytes().first() {
        Some(b'{') => raw.get(),
        Some(b'n') => "{}",
        _ => return Err(Failure::BadBody),
    };
    serde_json::from_str(json).map_err(|_| Failure::BadBody)
}

/// Runs one method; `None` for a method the server does not have.
fn call(server: &Inner, method: &str, body: &[u8]) -> Option<Result<Value, Failure>> {
    Some(match method {
        "publish" => parse(body).and_then(|r| publish(server, r)),
        "broadcast" => parse(body).and_then(|r| broadcast(server, r)),
        "presence" => parse::<ChannelRequest>(body).and_then(|r| {
            require_channel(&r.channel)?;
            let presence = server.hub.presence(&r.channel, usize::MAX)?;
            Ok(json!({ "presence": presence }))
        }),
        "presence_stats" => parse::<ChannelRequest>(body).and_then(|r| {
            require_channel(&r.channel)?;
            let stats = server.hub.presence_stats(&r.channel)?;
            Ok(to_value(&stats))
        }),
        "history" => parse::<HistoryRequest>(body).and_then(|r| {
            require_channel(&r.channel)?;
            let history = server
                .hub
                .history(&r.channel, r.limit, r.since.as_ref(), r.reverse)?;
            Ok(to_value(&history))
        }),
        "info" => parse::<Value>(body).map(|_| info(server)),
        _ => return None,
    })
}

fn to_value<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

fn require_channel(channel: &str) -> Result<(), ErrorReply> {
    if channel.is_empty() {
        Err(ErrorReply::BAD_REQUEST)
    } else {
        Ok(())
    }
}

fn publish(server: &Inner, request: PublishRequest) -> Result<Value, Failure> {
    require_channel(&request.channel)?;
    let data = request.data.ok_or(ErrorReply::BAD_REQUEST)?;
    server
        .hub
        .idempotent_results
        .publish_once(&request.channel, &request.idempotency_key, || {
            publish_one(
                server,
                &request.channel,
                data,
                request.skip_history,
                request.tags,
            )
        })
}

fn publish_one(
    server: &Inner,
    channel: &str,
    data: Box<RawValue>,
    skip_history: bool,
    tags: Option<BTreeMap<String, String>>,
) -> Result<Value, Failure> {
    let position = server.hub.publish(
        channel,
        NewPublication {
            data: data.into(),
            info: None,
            tags,
            skip_history,
        },
    )?;
    let mut result = Map::new();
    if position.offset > 0 {
        result.insert("offset".into(), position.offset.into());
        result.insert("epoch".into(), String::from(&*position.epoch).into());
    }
    Ok(Value::Object(result))
}

fn broadcast(server: &Inner, request: BroadcastRequest) -> Result<Value, Failure> {
    let data = request.data.ok_or(ErrorReply::BAD_REQUEST)?;
    if request.channels.is_empty() {
        return Err(ErrorReply::BAD_REQUEST.into());
    }
    let responses: Vec<Value> = request
        .channels
        .iter()
        .map(|channel| {
            let outcome = require_channel(channel)
                .map_err(Failure::Api)
                .and_then(|()| {
                    server.hub.idempotent_results.publish_once(
                        channel,
                        &request.idempotency_key,
                        || {
                            publish_one(
                                server,
                                channel,
                                data.clone(),
                                request.skip_history,
                                request.tags.clone(),
                            )
                        },
                    )
                });
            match outcome {
                Ok(result) => json!({ "result": result }),
                Err(Failure::Api(error)) => json!({ "error": error }),
                Err(Failure::BadBody) => json!({ "error": ErrorReply::BAD_REQUEST }),
            }
        })
        .collect();
    Ok(json!({ "responses": responses }))
}

/// `{"commands":[{"publish":{..}}, ..]}` → `{"replies":[{"publish":{..}}, {"error":{..}}, ..]}`.
fn batch(server: &Inner, body: &[u8]) -> Result<Value, Failure> {
    let request: BatchRequest = parse(body)?;
    let replies: Vec<Value> = request
        .commands
        .iter()
        .map(|command| {
            let Some((method, params)) = command.iter().next() else {
                return json!({ "error": ErrorReply::BAD_REQUEST });
            };
            match call(server, method, params.get().as_bytes()) {
                Some(Ok(result)) => json!({ method: result }),
                Some(Err(Failure::Api(error))) => json!({ "error": error }),
                Some(Err(Failure::BadBody)) => json!({ "error": ErrorReply::BAD_REQUEST }),
                None => json!({ "error": ErrorReply::METHOD_NOT_FOUND }),
            }
        })
        .collect();
    // Centrifugo leaves empty fields out: a batch without commands answers `{}`.
    if replies.is_empty() {
        return Ok(json!({}));
    }
    Ok(json!({ "replies": replies }))
}

fn info(server: &Inner) -> Value {
    let counts = server.hub.counts();
    json!({
        "nodes": [{
            "uid": server.node_id,
            "name": "instant-embedded",
            "version": SERVER_VERSION,
            "num_clients": counts.clients,
            "num_users": counts.users,
            "num_channels": counts.channels,
            "num_subs": counts.subscriptions,
            "uptime": server.started.elapsed().as_secs(),
        }]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_remembered_per_channel_and_the_oldest_forgotten_beyond_the_bound() {
        let results = IdempotentResults::default();
        let mut published = 0u64;
        let mut publish = |channel: &str, key: &str| {
            results
                .publish_once(channel, key, || {
                    published += 1;
                    Ok(json!({ "offset": published }))
                })
                .ok()
        };
        assert_eq!(publish("news", "k"), Some(json!({"offset": 1})));
        assert_eq!(publish("news", "k"), Some(json!({"offset": 1})));
        assert_eq!(publish("chat", "k"), Some(json!({"offset": 2})));
        assert_eq!(publish("news", ""), Some(json!({"offset": 3})));
        assert_eq!(publish("news", ""), Some(json!({"offset": 4})));
        for n in 0..MAX_IDEMPOTENT_RESULTS {
            publish("other", &n.to_string());
        }
        // "news"/"k" was the oldest: it is forgotten and publishes again.
        assert_eq!(
            publish("news", "k"),
            Some(json!({"offset": 5 + MAX_IDEMPOTENT_RESULTS as u64}))
        );
    }

    #[test]
    fn a_failed_publish_is_not_remembered() {
        let results = IdempotentResults::default();
        let failed = results.publish_once("news", "k", || Err(ErrorReply::INTERNAL.into()));
        assert!(failed.is_err());
        let retried = results.publish_once("news", "k", || Ok(json!({"offset": 1})));
        assert_eq!(retried.ok(), Some(json!({"offset": 1})));
    }
}
