//! Bad bodies on the server API, answered by the app's embedded server (`/instant/api/{method}`)
//! as Centrifugo v6 answers them (`/api/{method}`): the same status, and the same kind of body (a
//! plain-text `Bad Request`, a JSON error with the same code, or a JSON result), for every body on
//! every method. The differences are listed in [`KNOWN_DIFFERENCES`] and asserted as they are.
//! Needs the Centrifugo binary; fails, never skips, without it.

mod embedded_support;

use std::time::Duration;

use embedded_support::TestServer;
use instant_actix::EmbeddedOptions;
use instant_core::{Config, Secret};
use instant_testkit::{Centrifugo, CentrifugoOptions};
use serde_json::Value;

const METHODS: [&str; 8] = [
    "publish",
    "broadcast",
    "batch",
    "history",
    "presence",
    "presence_stats",
    "info",
    "no_such_method",
];

fn bodies() -> Vec<(&'static str, String)> {
    vec![
        ("empty", String::new()),
        ("not JSON", "{not json".into()),
        ("a JSON array", "[]".into()),
        ("a JSON string", r#""news""#.into()),
        ("null", "null".into()),
        (
            "channel of the wrong type",
            r#"{"channel":5,"data":{}}"#.into(),
        ),
        (
            "channels of the wrong type",
            r#"{"channels":"news","data":{}}"#.into(),
        ),
        (
            "commands of the wrong type",
            r#"{"commands":{"publish":{}}}"#.into(),
        ),
        ("no data", r#"{"channel":"news"}"#.into()),
        (
            "an unknown field",
            r#"{"channel":"news","data":{},"x":1}"#.into(),
        ),
        (
            "deeply nested",
            format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)),
        ),
        (
            "a 4 MiB body",
            format!(r#"{{"channel":"news","data":"{}"}}"#, "a".repeat(4 << 20)),
        ),
    ]
}

/// What a server answered, reduced to what must match.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Answer {
    /// A JSON result.
    Result(u16),
    /// An empty JSON object (`{}`: a batch without commands).
    Empty(u16),
    /// A JSON error with this code.
    Error(u16, u64),
    /// Anything else: the status and whether a body came.
    Text(u16, bool),
}

/// `(method, body, embedded, Centrifugo)`: where the answers differ, on purpose. Centrifugo has no
/// body size limit on its HTTP API; the embedded server has one (413, `payload reached size
/// limit`, as Centrifugo answers past a configured limit), checked before the method.
const KNOWN_DIFFERENCES: &[(&str, &str, Answer, Answer)] = &[
    (
        "publish",
        "a 4 MiB body",
        Answer::Text(413, true),
        Answer::Result(200),
    ),
    (
        "broadcast",
        "a 4 MiB body",
        Answer::Text(413, true),
        Answer::Error(200, 107),
    ),
    (
        "batch",
        "a 4 MiB body",
        Answer::Text(413, true),
        Answer::Empty(200),
    ),
    (
        "history",
        "a 4 MiB body",
        Answer::Text(413, true),
        Answer::Result(200),
    ),
    (
        "presence",
        "a 4 MiB body",
        Answer::Text(413, true),
        Answer::Result(200),
    ),
    (
        "presence_stats",
        "a 4 MiB body",
        Answer::Text(413, true),
        Answer::Result(200),
    ),
    (
        "info",
        "a 4 MiB body",
        Answer::Text(413, true),
        Answer::Result(200),
    ),
    // Centrifugo routes first (404); the embedded server's body limit comes before its methods.
    (
        "no_such_method",
        "a 4 MiB body",
        Answer::Text(413, true),
        Answer::Text(404, true),
    ),
];

/// The body of a chunked HTTP/1.1 answer.
fn dechunk(mut chunked: &str) -> String {
    let mut body = String::new();
    while let Some((size, rest)) = chunked.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || rest.len() < size {
            break;
        }
        body.push_str(&rest[..size]);
        chunked = rest[size..].trim_start_matches("\r\n");
    }
    body
}

/// Posts `body` over a plain HTTP/1.1 connection (a server may answer and close before reading a
/// large body; the answer is read all the same).
fn answer(addr: &str, path: &str, key: &str, body: &str) -> Answer {
    use std::io::{Read as _, Write as _};
    let mut stream = std::net::TcpStream::connect(addr).expect("API connection");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nX-API-Key: {key}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(body.as_bytes()));
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    let status = text
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status in {text:?}"));
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_owned()
    };
    let body = body.as_str();
    match serde_json::from_str::<Value>(body) {
        Ok(value) if value.get("error").is_some() => {
            Answer::Error(status, value["error"]["code"].as_u64().unwrap_or(0))
        }
        Ok(value) if value.get("result").is_some() || value.get("replies").is_some() => {
            Answer::Result(status)
        }
        Ok(Value::Object(map)) if map.is_empty() => Answer::Empty(status),
        _ => Answer::Text(status, !body.is_empty()),
    }
}

#[actix_rt::test]
async fn bad_api_bodies_are_answered_as_centrifugo_answers_them() {
    let key = Secret::generate();
    let config = Config::builder()
        .secret(Secret::generate())
        .api_key(key.clone())
        .build()
        .expect("config");
    let mut options = EmbeddedOptions::default();
    options.channel_defaults.presence = true;
    let embedded = TestServer::start(config, options);
    let centrifugo = Centrifugo::start(
        CentrifugoOptions::default()
            .presence(true)
            .history(100, Duration::from_secs(300)),
    );
    let ours_addr = embedded.addr.to_string();
    let theirs_addr = format!("127.0.0.1:{}", centrifugo.port());
    let mut failures = Vec::new();
    let mut same = 0;
    let mut tried = 0;
    for method in METHODS {
        for (case, body) in bodies() {
            let ours = answer(
                &ours_addr,
                &format!("/instant/api/{method}"),
                key.expose_secret(),
                &body,
            );
            let theirs = answer(
                &theirs_addr,
                &format!("/api/{method}"),
                centrifugo.api_key().expose_secret(),
                &body,
            );
            tried += 1;
            let known = KNOWN_DIFFERENCES
                .iter()
                .find(|(m, c, ..)| *m == method && *c == case);
            match known {
                Some((.., expected_ours, expected_theirs)) => {
                    if (&ours, &theirs) != (expected_ours, expected_theirs) {
                        failures.push(format!(
                            "{method} / {case}: embedded {ours:?}, Centrifugo {theirs:?} \
                             (listed as {expected_ours:?} / {expected_theirs:?})"
                        ));
                    }
                }
                None if ours == theirs => same += 1,
                None => failures.push(format!(
                    "{method} / {case}: embedded {ours:?}, Centrifugo {theirs:?}"
                )),
            }
        }
    }
    eprintln!(
        "{tried} bad bodies: {same} answered alike, {} known differences",
        KNOWN_DIFFERENCES.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
