//! Centrifugo's HTTP API on the wire: request bodies and the reading of answers.

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::backend::{PublishError, PublishReceipt, StreamPosition};
use crate::event::Event;

pub(super) fn not_running() -> PublishError {
    PublishError::NotRunning("the Centrifugo publishing thread has stopped".to_owned())
}

pub(super) fn check_channel(channel: &str) -> Result<(), PublishError> {
    if channel.is_empty() {
        return Err(PublishError::BadInput(
            "the channel name is empty".to_owned(),
        ));
    }
    Ok(())
}

/// The body of one API request, encoded once: a retry on another node sends the same bytes.
#[derive(Debug, Clone)]
pub(super) struct Body {
    pub(super) bytes: Bytes,
    /// Whether a transient failure may be tried again on another node ([`can_retry`]).
    pub(super) retry: bool,
}

impl Body {
    /// A body built from `params` ([`CentrifugoClient::call`](super::CentrifugoClient::call)).
    pub(super) fn from_params(method: &str, params: &Value) -> Result<Self, PublishError> {
        Ok(Self {
            bytes: encode(params)?,
            retry: can_retry(method, params),
        })
    }
}

/// JSON bytes straight from a typed value: no `Value` tree is built on the way.
fn encode(value: &impl Serialize) -> Result<Bytes, PublishError> {
    serde_json::to_vec(value)
        .map(Bytes::from)
        .map_err(|e| PublishError::BadInput(e.to_string()))
}

/// A `publish` request. The event's `uid` is its `idempotency_key`: Centrifugo answers a second
/// publish with the same key on the same channel (within its `idempotent_result_ttl`, five
/// minutes by default) with the first one's result and does not deliver it again, so a publish
/// may safely be tried again on another node. The publication's data is the event itself: a JSON
/// object, never a string holding JSON.
#[derive(Serialize)]
struct PublishParams<'a> {
    channel: &'a str,
    data: &'a Event,
    #[serde(skip_serializing_if = "str::is_empty")]
    idempotency_key: &'a str,
}

impl<'a> PublishParams<'a> {
    fn of(event: &'a Event) -> Self {
        Self {
            channel: &event.channel,
            data: event,
            idempotency_key: &event.uid,
        }
    }
}

/// A `broadcast` request, keyed by the event's `uid` as a publish is.
#[derive(Serialize)]
struct BroadcastParams<'a> {
    channels: &'a [String],
    data: &'a Event,
    #[serde(skip_serializing_if = "str::is_empty")]
    idempotency_key: &'a str,
}

/// One command of a batch.
#[derive(Serialize)]
struct BatchCommand<'a> {
    publish: PublishParams<'a>,
}

/// A batch, applied in order.
#[derive(Serialize)]
struct BatchParams<'a> {
    commands: Vec<BatchCommand<'a>>,
    parallel: bool,
}

/// The body of a `publish` of `event`.
pub(super) fn publish_body(event: &Event) -> Result<Body, PublishError> {
    Ok(Body {
        bytes: encode(&PublishParams::of(event))?,
        retry: !event.uid.is_empty(),
    })
}

/// The body of a `broadcast` of `event` to `channels`.
pub(super) fn broadcast_body(channels: &[String], event: &Event) -> Result<Body, PublishError> {
    Ok(Body {
        bytes: encode(&BroadcastParams {
            channels,
            data: event,
            idempotency_key: &event.uid,
        })?,
        retry: !event.uid.is_empty(),
    })
}

/// Whether a request may be sent again after a transient failure without being applied twice:
/// the methods that only read, and publishes that carry an `idempotency_key`.
pub(super) fn can_retry(method: &str, params: &Value) -> bool {
    let keyed = |params: &Value| {
        params
            .get("idempotency_key")
            .and_then(Value::as_str)
            .is_some_and(|key| !key.is_empty())
    };
    match method {
        "presence" | "presence_stats" | "history" | "info" | "channels" => true,
        "publish" | "broadcast" => keyed(params),
        "batch" => params
            .get("commands")
            .and_then(Value::as_array)
            .is_some_and(|commands| {
                commands.iter().all(|command| {
                    command.as_object().is_some_and(|command| {
                        command
                            .iter()
                            .all(|(method, params)| can_retry(method, params))
                    })
                })
            }),
        _ => false,
    }
}

/// The body of an ordered batch publishing `events`.
pub(super) fn batch_body<'a>(
    events: impl Iterator<Item = &'a Event>,
) -> Result<Body, PublishError> {
    let mut retry = true;
    let commands = events
        .map(|event| {
            check_channel(&event.channel)?;
            retry &= !event.uid.is_empty();
            Ok(BatchCommand {
                publish: PublishParams::of(event),
            })
        })
        .collect::<Result<Vec<_>, PublishError>>()?;
    Ok(Body {
        bytes: encode(&BatchParams {
            commands,
            parallel: false,
        })?,
        retry,
    })
}

/// What each command of a batch of publishes came to, in order.
pub(super) type Replies = Vec<Result<PublishReceipt, PublishError>>;

/// Matches a batch's replies to its `expected` commands.
pub(super) fn check_replies(replies: Replies, expected: usize) -> Result<Replies, PublishError> {
    if replies.len() == expected {
        Ok(replies)
    } else {
        Err(PublishError::UnexpectedResponse(format!(
            "{} replies to a batch of {expected}",
            replies.len()
        )))
    }
}

/// The replies in a batch answer already read into a `Value` (any shape [`read_value`] takes).
pub(super) fn parse_batch_replies(result: &Value) -> Result<Replies, PublishError> {
    let replies = result
        .get("replies")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            PublishError::UnexpectedResponse("a batch answer without replies".to_owned())
        })?;
    Ok(replies
        .iter()
        .map(|reply| match server_error(reply) {
            Some(error) => Err(error),
            None => Ok(receipt(reply.get("publish").unwrap_or(reply))),
        })
        .collect())
}

/// The answer to a batch of publishes as Centrifugo writes it, read without building a `Value`
/// per reply: `{"replies":[{"publish":{…}} or {"error":{"code","message"}}, …]}`.
#[derive(Deserialize)]
struct BatchAnswer {
    replies: Vec<BatchReply>,
}

#[derive(Deserialize)]
struct BatchReply {
    error: Option<ErrorReply>,
    publish: Option<PublishReply>,
}

#[derive(Deserialize)]
struct ErrorReply {
    code: u64,
    #[serde(default)]
    message: String,
}

#[derive(Deserialize)]
struct PublishReply {
    offset: Option<u64>,
    epoch: Option<String>,
}

/// Reads a `200` answer to a batch of publishes. The usual shape is read straight into
/// receipts; anything else (a top-level error, a `result` wrapper, a reply of another shape)
/// goes through [`read_value`] and [`parse_batch_replies`], which take every shape.
pub(super) fn read_batch(body: &[u8]) -> Result<Replies, PublishError> {
    let usual = serde_json::from_slice::<BatchAnswer>(body)
        .ok()
        .filter(|answer| {
            answer
                .replies
                .iter()
                .all(|reply| reply.error.is_some() || reply.publish.is_some())
        });
    let Some(answer) = usual else {
        return parse_batch_replies(&read_value(body)?);
    };
    Ok(answer
        .replies
        .into_iter()
        .map(|reply| match (reply.error, reply.publish) {
            (Some(error), _) => Err(server_error_of(error.code, error.message)),
            (None, publish) => {
                Ok(
                    publish.map_or_else(PublishReceipt::default, |publish| PublishReceipt {
                        offset: publish.offset,
                        epoch: publish.epoch.filter(|epoch| !epoch.is_empty()),
                    }),
                )
            }
        })
        .collect())
}

/// The stream positions in the replies of a batch of `history` calls; `None` for a channel
/// whose reply is an error (no history, unknown namespace) or has no epoch.
pub(super) fn stream_positions_of(result: &Value, expected: usize) -> Vec<Option<StreamPosition>> {
    let replies = result
        .get("replies")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    (0..expected)
        .map(|index| {
            let history = replies.get(index)?.get("history")?;
            let epoch = history.get("epoch").and_then(Value::as_str)?;
            (!epoch.is_empty()).then(|| {
                StreamPosition::new(
                    history.get("offset").and_then(Value::as_u64).unwrap_or(0),
                    epoch,
                )
            })
        })
        .collect()
}

pub(super) fn receipt(result: &Value) -> PublishReceipt {
    let result = result.get("result").unwrap_or(result);
    PublishReceipt {
        offset: result.get("offset").and_then(Value::as_u64),
        epoch: result
            .get("epoch")
            .and_then(Value::as_str)
            .filter(|e| !e.is_empty())
            .map(str::to_owned),
    }
}

/// `{"error":{"code","message"}}` (default error mode, batch replies) or `{"code","message"}`
/// (transport error mode bodies).
pub(super) fn server_error(body: &Value) -> Option<PublishError> {
    let error = body.get("error").unwrap_or(body);
    let code = error.get("code")?.as_u64()?;
    let message = error
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    Some(server_error_of(code, message))
}

/// The error for Centrifugo's error `code` and `message`, however the answer was read.
fn server_error_of(code: u64, message: String) -> PublishError {
    PublishError::Server {
        code: u32::try_from(code).unwrap_or(u32::MAX),
        message,
    }
}

pub(super) fn decode<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, PublishError> {
    serde_json::from_value(value).map_err(|e| PublishError::UnexpectedResponse(e.to_string()))
}

/// Interprets an HTTP answer of the API: a `200` answer is read by `read`, anything else is
/// turned into the error it says.
pub(super) fn interpret<T>(
    status: u16,
    body: &[u8],
    url: &str,
    read: Read<T>,
) -> Result<T, PublishError> {
    match status {
        401 => Err(PublishError::Unauthorized),
        200 => read(body),
        status => {
            let parsed: Option<Value> = serde_json::from_slice(body).ok();
            if let Some(error) = parsed.as_ref().and_then(server_error) {
                return Err(error);
            }
            Err(match status {
                // A proxy in front of Centrifugo saying it cannot reach it: worth retrying.
                502..=504 => PublishError::Unreachable {
                    url: url.to_owned(),
                    reason: format!("HTTP {status} from a proxy in front of Centrifugo"),
                },
                status => PublishError::UnexpectedResponse(format!(
                    "HTTP {status}: {}",
                    String::from_utf8_lossy(&body[..body.len().min(200)]).trim()
                )),
            })
        }
    }
}

/// How the body of a `200` answer is read into what its call returns.
pub(super) type Read<T> = fn(&[u8]) -> Result<T, PublishError>;

/// Reads a `200` answer as JSON: its `result`, or the object itself when it has none (a batch's
/// `{"replies":…}`); an `error` in it (Centrifugo's default error mode) is returned as one.
pub(super) fn read_value(body: &[u8]) -> Result<Value, PublishError> {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    if let Some(error) = parsed.as_ref().and_then(server_error) {
        return Err(error);
    }
    match parsed {
        Some(Value::Object(mut object)) => {
            Ok(object.remove("result").unwrap_or(Value::Object(object)))
        }
        _ => Err(PublishError::UnexpectedResponse(
            "the answer is not a JSON object".to_owned(),
        )),
    }
}
