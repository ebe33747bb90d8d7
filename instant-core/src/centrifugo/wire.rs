//! Centrifugo's HTTP API on the wire: request bodies and the reading of answers.

use bytes::Bytes;
use serde::Serialize;
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

pub(super) fn parse_batch_replies(
    result: &Value,
    expected: usize,
) -> Result<Vec<Result<PublishReceipt, PublishError>>, PublishError> {
    let replies = result
        .get("replies")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            PublishError::UnexpectedResponse("a batch answer without replies".to_owned())
        })?;
    if replies.len() != expected {
        return Err(PublishError::UnexpectedResponse(format!(
            "{} replies to a batch of {expected}",
            replies.len()
        )));
    }
    Ok(replies
        .iter()
        .map(|reply| match server_error(reply) {
            Some(error) => Err(error),
            None => Ok(receipt(reply.get("publish").unwrap_or(reply))),
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
    Some(PublishError::Server {
        code: u32::try_from(code).unwrap_or(u32::MAX),
        message,
    })
}

pub(super) fn decode<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, PublishError> {
    serde_json::from_value(value).map_err(|e| PublishError::UnexpectedResponse(e.to_string()))
}

/// Interprets an HTTP answer of the API.
pub(super) fn interpret(status: u16, body: &[u8], url: &str) -> Result<Value, PublishError> {
    if status == 401 {
        return Err(PublishError::Unauthorized);
    }
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    if let Some(error) = parsed.as_ref().and_then(server_error) {
        return Err(error);
    }
    match (status, parsed) {
        (200, Some(Value::Object(mut object))) => {
            Ok(object.remove("result").unwrap_or(Value::Object(object)))
        }
        (200, _) => Err(PublishError::UnexpectedResponse(
            "the answer is not a JSON object".to_owned(),
        )),
        // A proxy in front of Centrifugo saying it cannot reach it: worth retrying.
        (502..=504, _) => Err(PublishError::Unreachable {
            url: url.to_owned(),
            reason: format!("HTTP {status} from a proxy in front of Centrifugo"),
        }),
        (status, _) => Err(PublishError::UnexpectedResponse(format!(
            "HTTP {status}: {}",
            String::from_utf8_lossy(&body[..body.len().min(200)]).trim()
        ))),
    }
}
