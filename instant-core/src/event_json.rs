//! An event written as JSON around data that is JSON text already (the body of a JSON response),
//! for backends that send events as JSON: the data is written once, never read into a `Value` and
//! written again.

use std::fmt;

use serde_json::Value;
use serde_json::value::RawValue;

use crate::event::Event;

/// An event as JSON text, written by [`Event::to_json_with_data`]: valid JSON by construction.
#[derive(Clone, PartialEq, Eq)]
pub struct EventJson(String);

impl EventJson {
    /// The JSON text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The JSON text, owned.
    #[must_use]
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Debug for EventJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for EventJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Event {
    /// The event as JSON with `data` written in as it is, in place of [`Event::data`]: for data
    /// as `serde_json` writes it (compact), the very bytes `serde_json::to_vec` gives for the
    /// event holding that data. It is written straight into one buffer of the right size, the
    /// keys as constants, so that publishing JSON that is ready (a JSON response's body) costs
    /// little more than copying it.
    ///
    /// ```
    /// use instant_core::Event;
    /// use serde_json::value::RawValue;
    ///
    /// let event = Event::new("mysite", "news", "New order");
    /// let data: &RawValue = serde_json::from_str(r#"{"id":7}"#).unwrap();
    /// let json = event.to_json_with_data(data);
    /// let with_value = event.with_data(serde_json::json!({"id": 7}));
    /// assert_eq!(json.as_str().as_bytes(), serde_json::to_vec(&with_value).unwrap());
    /// ```
    #[must_use]
    pub fn to_json_with_data(&self, data: &RawValue) -> EventJson {
        // Each string's quotes are in the text around it.
        const OPEN: &str = r#"{"channel":""#;
        const AFTER_CHANNEL: &str = r#"","site":""#;
        const AFTER_SITE: &str = r#"","message":""#;
        const AFTER_MESSAGE: &str = r#"","event_class":""#;
        const AFTER_CLASS: &str = r#"","data":"#;
        const AFTER_DATA: &str = r#","uid":""#;
        const AFTER_UID: &str = r#"","timestamp":"#;
        const SENDER: &str = r#","sender":""#;
        let data = data.get();
        // Exact unless a string needs escaping, so that the text is never copied to grow or
        // shrink.
        let len = OPEN.len()
            + AFTER_CHANNEL.len()
            + AFTER_SITE.len()
            + AFTER_MESSAGE.len()
            + AFTER_CLASS.len()
            + AFTER_DATA.len()
            + AFTER_UID.len()
            + self.channel.len()
            + self.site.len()
            + self.message.len()
            + self.event_class.len()
            + data.len()
            + self.uid.len()
            + self
                .timestamp
                .checked_ilog10()
                .map_or(1, |d| d as usize + 1)
            + self
                .sender
                .as_ref()
                .map_or(0, |s| SENDER.len() + s.len() + 1)
            + 1;
        let mut json = String::with_capacity(len);
        json.push_str(OPEN);
        push_escaped(&mut json, &self.channel);
        json.push_str(AFTER_CHANNEL);
        push_escaped(&mut json, &self.site);
        json.push_str(AFTER_SITE);
        push_escaped(&mut json, &self.message);
        json.push_str(AFTER_MESSAGE);
        push_escaped(&mut json, &self.event_class);
        json.push_str(AFTER_CLASS);
        json.push_str(data);
        json.push_str(AFTER_DATA);
        push_escaped(&mut json, &self.uid);
        json.push_str(AFTER_UID);
        push_u64(&mut json, self.timestamp);
        if let Some(sender) = &self.sender {
            json.push_str(SENDER);
            push_escaped(&mut json, sender);
            json.push('"');
        }
        json.push('}');
        debug_assert!(
            json.len() >= len,
            "the length is computed for unescaped strings"
        );
        EventJson(json)
    }
}

/// Appends the inside of `value` as a JSON string (without its quotes), escaped exactly as
/// `serde_json` escapes it.
fn push_escaped(json: &mut String, value: &str) {
    if needs_escape(value.as_bytes()) {
        // Rare in events: `serde_json` itself writes the escapes (between quotes).
        let quoted = Value::from(value).to_string();
        json.push_str(&quoted[1..quoted.len() - 1]);
    } else {
        json.push_str(value);
    }
}

/// Whether a JSON string of `bytes` needs escapes: a quote, a backslash or a control character.
/// Eight bytes at a time, as the check runs on every string of every event.
fn needs_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // The high bit of a byte of `below(word, n)` is set where a byte of `word` is below `n` (exact
    // as a whole for `n` up to 128: a borrow only reaches bytes above a byte that is below).
    let below = |word: u64, n: u8| word.wrapping_sub(ONES * u64::from(n)) & !word;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().expect("chunks of eight bytes"));
        let found = below(word, 0x20)
            | below(word ^ (ONES * u64::from(b'"')), 1)
            | below(word ^ (ONES * u64::from(b'\\')), 1);
        if found & HIGHS != 0 {
            return true;
        }
    }
    chunks
        .remainder()
        .iter()
        .any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

/// Appends `n` in decimal, two digits at a time.
fn push_u64(json: &mut String, mut n: u64) {
    const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
        2021222324252627282930313233343536373839\
        4041424344454647484950515253545556575859\
        6061626364656667686970717273747576777879\
        8081828384858687888990919293949596979899";
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    while n >= 100 {
        // Below 100, so a valid index of a pair.
        let pair = (n % 100) as usize * 2;
        n /= 100;
        start -= 2;
        digits[start..start + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    }
    if n >= 10 {
        let pair = n as usize * 2;
        start -= 2;
        digits[start..start + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    } else {
        start -= 1;
        digits[start] = b'0' + n as u8;
    }
    // Always ASCII digits.
    if let Ok(digits) = std::str::from_utf8(&digits[start..]) {
        json.push_str(digits);
    }
}

/// `event` with `data` read into [`Event::data`], for backends that take events as values; JSON
/// nested too deeply to read is logged and sent as `null`.
pub(crate) fn with_json_data(mut event: Event, data: &RawValue) -> Event {
    event.data = serde_json::from_str(data.get()).unwrap_or_else(|error| {
        tracing::error!(
            %error,
            channel = %event.channel,
            "the event's JSON data could not be read; sending null"
        );
        Value::Null
    });
    event
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::sender::ClientId;

    fn raw(value: &impl serde::Serialize) -> Box<RawValue> {
        serde_json::value::to_raw_value(value).unwrap()
    }

    fn event() -> Event {
        Event::new("my \"site\"", "news", "New order: «tea» \\ \n\t\u{1}")
            .with_event_class("object created")
    }

    #[test]
    fn the_json_is_the_bytes_of_the_event_holding_the_data() {
        let shapes = [
            Value::Null,
            json!(true),
            json!(42),
            json!(-1.5),
            json!("quote \" backslash \\ newline \n control \u{7} emoji 🦀 </script>"),
            json!([]),
            json!({}),
            json!([1, "two", null, {"three": [3.25]}]),
            json!({"id": 1, "status": "created", "nested": {"list": [1, 2, {"deep": null}], "b": false}}),
            json!({"z": 1, "a": 2, "key \"escaped\"\n": "v"}),
        ];
        let senders = [
            None,
            ClientId::parse("6f1c3e52-8d0a-4c7e-9a55-0e4b1f7d2c11")
                .map(|id| id.as_str().to_owned()),
            Some("a \"quoted\" sender".to_owned()),
        ];
        for data in shapes {
            for sender in senders.clone() {
                for timestamp in [0, 7, 10, 99, 100, 101, 1_764_000_000_123, u64::MAX] {
                    let event = Event {
                        sender: sender.clone(),
                        timestamp,
                        ..event()
                    };
                    let json = event.to_json_with_data(&raw(&data));
                    let expected =
                        serde_json::to_vec(&event.clone().with_data(data.clone())).unwrap();
                    assert_eq!(json.as_str().as_bytes(), expected, "data {data}");
                    // And it reads back as the same event.
                    let back: Event = serde_json::from_str(json.as_str()).unwrap();
                    assert_eq!(back, event.with_data(data.clone()));
                }
            }
        }
    }

    #[test]
    fn the_escape_check_finds_every_byte_that_needs_one_wherever_it_is() {
        let naive = |bytes: &[u8]| bytes.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\');
        for len in 0..20 {
            for at in 0..len {
                for byte in 0..=u8::MAX {
                    let mut bytes = vec![b'a'; len];
                    bytes[at] = byte;
                    assert_eq!(needs_escape(&bytes), naive(&bytes), "{bytes:?}");
                    // Beside bytes above 0x7f, as in non-ASCII text.
                    let mut high = vec![0xc3; len];
                    high[at] = byte;
                    assert_eq!(needs_escape(&high), naive(&high), "{high:?}");
                }
            }
        }
        for text in [
            "",
            "news",
            "object created",
            "café «thé»",
            "6f1c3e52-8d0a-4c7e-9a55",
        ] {
            assert!(!needs_escape(text.as_bytes()), "{text}");
        }
    }

    #[test]
    fn plain_events_fill_their_buffer_exactly() {
        let event = Event::new("mysite", "news", "New order").with_event_class("object created");
        let json = event.to_json_with_data(&raw(&json!({"id": 1})));
        let text = json.into_string();
        assert_eq!(text.len(), text.capacity());
    }

    #[test]
    fn data_written_by_a_struct_reads_back_as_its_value() {
        // A struct writes its fields in their order, where a `Value` sorts them: the same JSON
        // object, with the keys in the order the handler's own response has them.
        #[derive(serde::Serialize)]
        struct Order {
            status: &'static str,
            id: u64,
            note: Option<String>,
        }
        let order = Order {
            status: "created \"now\"",
            id: 1,
            note: None,
        };
        let event = event();
        let json = event.to_json_with_data(&raw(&order));
        assert!(
            json.as_str()
                .contains(r#""data":{"status":"created \"now\"","id":1,"note":null}"#),
            "{json}"
        );
        let back: Event = serde_json::from_str(json.as_str()).unwrap();
        assert_eq!(back, event.with_data(serde_json::to_value(&order).unwrap()));
    }

    #[test]
    fn reading_the_data_back_gives_the_event_with_its_value() {
        let data = json!({"id": 7, "tags": ["a", "b"]});
        let event = with_json_data(event(), &raw(&data));
        assert_eq!(event.data, data);
    }
}
