//! The JSON shapes of Centrifugo's client protocol (`client.proto` of centrifugal/protocol
//! v0.19.2): commands from clients, replies and pushes to them, and the error and close codes.
//!
//! `bytes` fields of the protocol (`data`, `conn_info`, `chan_info`) travel as embedded raw JSON,
//! and zero values are left out, as Centrifugo's encoder does.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytestring::ByteString;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// An error carried in a reply: the request failed, the connection stays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) struct ErrorReply {
    pub(crate) code: u32,
    pub(crate) message: &'static str,
    /// Whether the client may retry the same request later.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(crate) temporary: bool,
}

impl ErrorReply {
    pub(crate) const INTERNAL: Self = Self::new(100, "internal server error");
    pub(crate) const UNKNOWN_CHANNEL: Self = Self::new(102, "unknown channel");
    pub(crate) const PERMISSION_DENIED: Self = Self::new(103, "permission denied");
    pub(crate) const METHOD_NOT_FOUND: Self = Self::new(104, "method not found");
    pub(crate) const ALREADY_SUBSCRIBED: Self = Self::new(105, "already subscribed");
    pub(crate) const LIMIT_EXCEEDED: Self = Self::new(106, "limit exceeded");
    pub(crate) const BAD_REQUEST: Self = Self::new(107, "bad request");
    pub(crate) const NOT_AVAILABLE: Self = Self::new(108, "not available");
    pub(crate) const TOKEN_EXPIRED: Self = Self::new(109, "token expired");
    pub(crate) const UNRECOVERABLE_POSITION: Self = Self::new(112, "unrecoverable position");
    pub(crate) const TOO_MANY_REQUESTS: Self = Self {
        temporary: true,
        ..Self::new(111, "too many requests")
    };

    const fn new(code: u32, message: &'static str) -> Self {
        Self {
            code,
            message,
            temporary: false,
        }
    }
}

/// Why the server closes a connection: the WebSocket close code and reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Disconnect {
    pub(crate) code: u16,
    pub(crate) reason: &'static str,
}

impl Disconnect {
    /// The client closed the connection, or the server shuts down.
    pub(crate) const NORMAL: Self = Self::new(1000, "");
    /// A frame over the size limit (the WebSocket code; Centrifugo sends no reason).
    pub(crate) const MESSAGE_TOO_BIG: Self = Self::new(1009, "");
    /// The server shuts down; clients reconnect later.
    pub(crate) const SHUTDOWN: Self = Self::new(3001, "shutdown");
    pub(crate) const CONNECTION_EXPIRED: Self = Self::new(3005, "connection expired");
    pub(crate) const SLOW: Self = Self::new(3008, "slow");
    pub(crate) const WRITE_ERROR: Self = Self::new(3009, "write error");
    pub(crate) const NO_PONG: Self = Self::new(3012, "no pong");
    pub(crate) const TOO_MANY_REQUESTS: Self = Self::new(3013, "too many requests");
    pub(crate) const INVALID_TOKEN: Self = Self::new(3500, "invalid token");
    pub(crate) const BAD_REQUEST: Self = Self::new(3501, "bad request");
    pub(crate) const STALE: Self = Self::new(3502, "stale");
    pub(crate) const CONNECTION_LIMIT: Self = Self::new(3504, "connection limit");
    pub(crate) const NOT_AVAILABLE: Self = Self::new(3508, "not available");

    const fn new(code: u16, reason: &'static str) -> Self {
        Self { code, reason }
    }
}

/// The server version announced in connect replies and in the server API's `info`.
pub(crate) const SERVER_VERSION: &str = concat!("instant ", env!("CARGO_PKG_VERSION"));

/// The unsubscribe push code telling a client its subscription expired (it resubscribes).
pub(crate) const UNSUBSCRIBE_EXPIRED: u32 = 2501;

/// One command from a client. Only the first request present is served.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Command {
    #[serde(default)]
    pub(crate) id: u32,
    pub(crate) connect: Option<ConnectRequest>,
    pub(crate) subscribe: Option<SubscribeRequest>,
    pub(crate) unsubscribe: Option<ChannelRequest>,
    pub(crate) publish: Option<PublishRequest>,
    pub(crate) presence: Option<ChannelRequest>,
    pub(crate) presence_stats: Option<ChannelRequest>,
    pub(crate) history: Option<HistoryRequest>,
    pub(crate) ping: Option<serde::de::IgnoredAny>,
    pub(crate) send: Option<serde::de::IgnoredAny>,
    pub(crate) rpc: Option<serde::de::IgnoredAny>,
    pub(crate) refresh: Option<RefreshRequest>,
    pub(crate) sub_refresh: Option<SubRefreshRequest>,
}

impl Command {
    /// Whether the command carries no request at all: a pong, when its id is 0.
    pub(crate) fn is_empty(&self) -> bool {
        self.connect.is_none()
            && self.subscribe.is_none()
            && self.unsubscribe.is_none()
            && self.publish.is_none()
            && self.presence.is_none()
            && self.presence_stats.is_none()
            && self.history.is_none()
            && self.ping.is_none()
            && self.send.is_none()
            && self.rpc.is_none()
            && self.refresh.is_none()
            && self.sub_refresh.is_none()
    }
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ConnectRequest {
    #[serde(default)]
    pub(crate) token: String,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct SubscribeRequest {
    #[serde(default)]
    pub(crate) channel: String,
    #[serde(default)]
    pub(crate) token: String,
    #[serde(default)]
    pub(crate) recover: bool,
    #[serde(default)]
    pub(crate) epoch: String,
    #[serde(default)]
    pub(crate) offset: u64,
    #[serde(default)]
    pub(crate) join_leave: bool,
    /// The client asks for recovery (centrifuge-js's `recoverable` option).
    #[serde(default)]
    pub(crate) recoverable: bool,
    /// The client asks for its stream position (centrifuge-js's `positioned` option).
    #[serde(default)]
    pub(crate) positioned: bool,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ChannelRequest {
    #[serde(default)]
    pub(crate) channel: String,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct PublishRequest {
    #[serde(default)]
    pub(crate) channel: String,
    pub(crate) data: Option<Box<RawValue>>,
}

#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub(crate) struct StreamPosition {
    #[serde(default, skip_serializing_if = "is_zero")]
    pub(crate) offset: u64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub(crate) epoch: String,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct HistoryRequest {
    #[serde(default)]
    pub(crate) channel: String,
    #[serde(default)]
    pub(crate) limit: i32,
    pub(crate) since: Option<StreamPosition>,
    #[serde(default)]
    pub(crate) reverse: bool,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct RefreshRequest {
    #[serde(default)]
    pub(crate) token: String,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct SubRefreshRequest {
    #[serde(default)]
    pub(crate) channel: String,
    #[serde(default)]
    pub(crate) token: String,
}

/// Who a connection is, as others see it in presence, join/leave and client publications.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ClientInfo {
    pub(crate) user: Arc<str>,
    pub(crate) client: Arc<str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) conn_info: Option<Arc<RawValue>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) chan_info: Option<Arc<RawValue>>,
}

/// JSON text that is valid by construction: an event the server wrote
/// ([`instant_core::Event::to_json_with_data`]), or data a client or the API sent, checked when it
/// was read. Pushes copy it as it is; the rarer replies that embed it through `serde` (recovery,
/// history) read it as a [`RawValue`] then.
#[derive(Debug)]
pub(crate) struct JsonText(Box<str>);

impl JsonText {
    pub(crate) fn get(&self) -> &str {
        &self.0
    }
}

impl From<Box<RawValue>> for JsonText {
    fn from(raw: Box<RawValue>) -> Self {
        Self(raw.into())
    }
}

impl From<instant_core::EventJson> for JsonText {
    fn from(json: instant_core::EventJson) -> Self {
        Self(json.into_string().into_boxed_str())
    }
}

impl Serialize for JsonText {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let raw: &RawValue = serde_json::from_str(&self.0).map_err(serde::ser::Error::custom)?;
        raw.serialize(serializer)
    }
}

/// A publication, stored once in the history and shared by every push and reply carrying it.
#[derive(Debug, Serialize)]
pub(crate) struct Publication {
    pub(crate) data: JsonText,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) info: Option<Arc<ClientInfo>>,
    #[serde(skip_serializing_if = "is_zero")]
    pub(crate) offset: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tags: Option<BTreeMap<String, String>>,
}

/// A reply to a command (`id` > 0) or a push (no `id`).
#[derive(Debug, Serialize)]
pub(crate) struct Reply<'a> {
    #[serde(skip_serializing_if = "is_zero_u32")]
    pub(crate) id: u32,
    #[serde(flatten)]
    pub(crate) body: ReplyBody<'a>,
}

/// The one field a reply carries.
#[derive(Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ReplyBody<'a> {
    Push(Push<'a>),
    Connect(ConnectResult),
    Subscribe(SubscribeResult),
    Unsubscribe(Empty),
    Publish(Empty),
    Presence(PresenceResult),
    PresenceStats(PresenceStatsResult),
    History(HistoryResult),
    Ping(Empty),
    Refresh(ExpiryResult),
    SubRefresh(ExpiryResult),
}

#[derive(Debug, Default, Serialize)]
pub(crate) struct Empty {}

#[derive(Debug, Serialize)]
pub(crate) struct Push<'a> {
    pub(crate) channel: &'a str,
    #[serde(flatten)]
    pub(crate) body: PushBody<'a>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum PushBody<'a> {
    Pub(&'a Publication),
    Join(InfoBody<'a>),
    Leave(InfoBody<'a>),
    Unsubscribe(UnsubscribeBody),
}

#[derive(Debug, Serialize)]
pub(crate) struct InfoBody<'a> {
    pub(crate) info: &'a ClientInfo,
}

#[derive(Debug, Serialize)]
pub(crate) struct UnsubscribeBody {
    pub(crate) code: u32,
    pub(crate) reason: &'static str,
}

#[derive(Debug, Serialize)]
pub(crate) struct ConnectResult {
    pub(crate) client: Arc<str>,
    pub(crate) version: &'static str,
    #[serde(skip_serializing_if = "is_false")]
    pub(crate) expires: bool,
    #[serde(skip_serializing_if = "is_zero_u32")]
    pub(crate) ttl: u32,
    pub(crate) ping: u32,
    pub(crate) pong: bool,
}

#[derive(Debug, Default, Serialize)]
pub(crate) struct SubscribeResult {
    #[serde(skip_serializing_if = "is_false")]
    pub(crate) expires: bool,
    #[serde(skip_serializing_if = "is_zero_u32")]
    pub(crate) ttl: u32,
    #[serde(skip_serializing_if = "is_false")]
    pub(crate) recoverable: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub(crate) epoch: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) publications: Vec<Arc<Publication>>,
    #[serde(skip_serializing_if = "is_false")]
    pub(crate) recovered: bool,
    #[serde(skip_serializing_if = "is_zero")]
    pub(crate) offset: u64,
    #[serde(skip_serializing_if = "is_false")]
    pub(crate) positioned: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub(crate) was_recovering: bool,
}

#[derive(Debug, Serialize)]
pub(crate) struct PresenceResult {
    pub(crate) presence: BTreeMap<Arc<str>, Arc<ClientInfo>>,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub(crate) struct PresenceStatsResult {
    pub(crate) num_clients: u32,
    pub(crate) num_users: u32,
}

#[derive(Debug, Serialize)]
pub(crate) struct HistoryResult {
    /// Always present, even empty, as Centrifugo answers.
    pub(crate) publications: Vec<Arc<Publication>>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub(crate) epoch: String,
    #[serde(skip_serializing_if = "is_zero")]
    pub(crate) offset: u64,
}

/// Whether a token expires and in how many seconds: the reply to a refresh, and the part of a
/// connect or subscribe result that the token decides.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub(crate) struct ExpiryResult {
    #[serde(skip_serializing_if = "is_false")]
    pub(crate) expires: bool,
    #[serde(skip_serializing_if = "is_zero_u32")]
    pub(crate) ttl: u32,
}

/// The frame a server ping is: an empty reply, answered by an empty command.
pub(crate) const PING_FRAME: &str = "{}";

/// Serializes a reply into a frame. The shapes above are plain data, so this cannot fail; an
/// internal error reply stands in should it ever.
pub(crate) fn encode(reply: &Reply<'_>) -> bytestring::ByteString {
    match serde_json::to_string(reply) {
        Ok(text) => text.into(),
        Err(_) => encode_error(reply.id, ErrorReply::INTERNAL),
    }
}

/// The frame of a publication's push: [`encode`] of that push, byte for byte, written straight
/// into a buffer of the right size (the publication's data is most of it).
pub(crate) fn encode_publication(channel: &str, publication: &Publication) -> ByteString {
    if publication.info.is_some() || publication.tags.is_some() {
        return encode(&Reply {
            id: 0,
            body: ReplyBody::Push(Push {
                channel,
                body: PushBody::Pub(publication),
            }),
        });
    }
    let data = publication.data.get();
    let mut frame = Vec::with_capacity(data.len() + channel.len() + 64);
    frame.extend_from_slice(br#"{"push":{"channel":"#);
    if serde_json::to_writer(&mut frame, channel).is_err() {
        return encode_error(0, ErrorReply::INTERNAL);
    }
    frame.extend_from_slice(br#","pub":{"data":"#);
    frame.extend_from_slice(data.as_bytes());
    if publication.offset > 0 {
        frame.extend_from_slice(br#","offset":"#);
        if serde_json::to_writer(&mut frame, &publication.offset).is_err() {
            return encode_error(0, ErrorReply::INTERNAL);
        }
    }
    frame.extend_from_slice(b"}}}");
    match String::from_utf8(frame) {
        Ok(text) => text.into(),
        Err(_) => encode_error(0, ErrorReply::INTERNAL),
    }
}

/// The frame of an error reply.
pub(crate) fn encode_error(id: u32, error: ErrorReply) -> bytestring::ByteString {
    let temporary = if error.temporary {
        r#","temporary":true"#
    } else {
        ""
    };
    format!(
        r#"{{"id":{id},"error":{{"code":{},"message":"{}"{temporary}}}}}"#,
        error.code, error.message
    )
    .into()
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_zero_u32(n: &u32) -> bool {
    *n == 0
}

#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_false(b: &bool) -> bool {
    !*b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_leave_out_zero_values_and_embed_raw_json() {
        let publication = Publication {
            data: RawValue::from_string(r#"{"a":1}"#.into()).unwrap().into(),
            info: None,
            offset: 3,
            tags: None,
        };
        let push = Reply {
            id: 0,
            body: ReplyBody::Push(Push {
                channel: "news",
                body: PushBody::Pub(&publication),
            }),
        };
        assert_eq!(
            &*encode(&push),
            r#"{"push":{"channel":"news","pub":{"data":{"a":1},"offset":3}}}"#
        );
        let reply = Reply {
            id: 2,
            body: ReplyBody::Subscribe(SubscribeResult {
                recoverable: true,
                epoch: "e".into(),
                positioned: true,
                ..SubscribeResult::default()
            }),
        };
        assert_eq!(
            &*encode(&reply),
            r#"{"id":2,"subscribe":{"recoverable":true,"epoch":"e","positioned":true}}"#
        );
        assert_eq!(
            &*encode_error(5, ErrorReply::PERMISSION_DENIED),
            r#"{"id":5,"error":{"code":103,"message":"permission denied"}}"#
        );
    }

    #[test]
    fn a_publication_frame_written_by_hand_is_the_encoded_push() {
        let info = Arc::new(ClientInfo {
            user: Arc::from("42"),
            client: Arc::from("c1"),
            conn_info: None,
            chan_info: None,
        });
        let tags = BTreeMap::from([("k".to_owned(), "v".to_owned())]);
        for channel in ["news", "$order_42", "personal:#7", "odd \"name\"\n"] {
            for data in [r#"{"a":1,"s":"x \" y"}"#, "null", r#"[1,{"b":[]}]"#] {
                for offset in [0, 1, u64::MAX] {
                    for (info, tags) in [
                        (None, None),
                        (Some(Arc::clone(&info)), None),
                        (None, Some(tags.clone())),
                    ] {
                        let publication = Publication {
                            data: RawValue::from_string(data.to_owned()).unwrap().into(),
                            info,
                            offset,
                            tags,
                        };
                        let push = Reply {
                            id: 0,
                            body: ReplyBody::Push(Push {
                                channel,
                                body: PushBody::Pub(&publication),
                            }),
                        };
                        assert_eq!(encode_publication(channel, &publication), encode(&push));
                    }
                }
            }
        }
    }

    #[test]
    fn commands_parse_with_missing_fields() {
        let cmd: Command = serde_json::from_str(r#"{"id":1,"connect":{}}"#).unwrap();
        assert_eq!(cmd.id, 1);
        assert!(cmd.connect.is_some());
        let pong: Command = serde_json::from_str("{}").unwrap();
        assert!(pong.is_empty() && pong.id == 0);
        let sub: Command = serde_json::from_str(
            r#"{"id":2,"subscribe":{"channel":"c","recover":true,"offset":4,"epoch":"x","flag":1}}"#,
        )
        .unwrap();
        let sub = sub.subscribe.unwrap();
        assert!(sub.recover && sub.offset == 4 && sub.epoch == "x");
    }
}
