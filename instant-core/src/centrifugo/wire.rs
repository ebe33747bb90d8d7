//! Centrifugo's HTTP API on the wire: request bodies and the reading of answers.

use serde_json::{Value, json};

use crate::backend::{PublishError, PublishReceipt};
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

/// The event as the publication's data: a JSON object, never a string holding JSON.
pub(super) fn event_data(event: &Event) -> Result<Value, PublishError> {
    serde_json::to_value(event).map_err(|e| PublishError::BadInput(e.to_string()))
}

/// A `publish` request. The event's `uid` is its `idempotency_key`: Centrifugo answers a second
/// publish with the same key on the same channel (within its `idempotent_result_ttl`, five
/// minutes by default) with the first one's result and does not deliver it again, so a publish
/// may safely be tried again on another node.
pub(super) fn publish_params(event: &Event) -> Result<Value, PublishError> {
    let mut params = json!({ "channel": event.channel, "data": event_data(event)? });
    if !event.uid.is_empty() {
        params["idempotency_key"] = json!(event.uid);
    }
    Ok(params)
}

/// A `broadcast` request, keyed by the event's `uid` as [`publish_params`] is.
pub(super) fn broadcast_params(channels: &[String], event: &Event) -> Result<Value, PublishError> {
    let mut params = json!({ "channels": channels, "data": event_data(event)? });
    if !event.uid.is_empty() {
        params["idempotency_key"] = json!(event.uid);
    }
    Ok(params)
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

pub(super) fn batch_body<'a>(
    events: impl Iterator<Item = &'a Event>,
) -> Result<Value, PublishError> {
    let commands = events
        .map(|event| {
            check_channel(&event.channel)?;
            Ok(json!({ "publish": publish_params(event)? }))
        })
        .collect::<Result<Vec<_>, PublishError>>()?;
    Ok(json!({ "commands": commands, "parallel": false }))
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
