//! Tests of the client's wire format and worker, against fake servers.

use super::wire::*;
use super::*;
use std::time::Duration;

#[test]
fn answers_are_interpreted() {
    assert_eq!(
        interpret(401, b"", "u", read_value),
        Err(PublishError::Unauthorized)
    );
    assert_eq!(
        interpret(
            200,
            br#"{"result":{"offset":3,"epoch":"x"}}"#,
            "u",
            read_value
        )
        .map(|v| receipt(&v)),
        Ok(PublishReceipt {
            offset: Some(3),
            epoch: Some("x".to_owned())
        })
    );
    assert_eq!(
        interpret(
            200,
            br#"{"error":{"code":102,"message":"unknown channel"}}"#,
            "u",
            read_value
        ),
        Err(PublishError::Server {
            code: 102,
            message: "unknown channel".to_owned()
        })
    );
    assert_eq!(
        interpret(
            404,
            br#"{"code":102,"message":"unknown channel"}"#,
            "u",
            read_value
        ),
        Err(PublishError::Server {
            code: 102,
            message: "unknown channel".to_owned()
        })
    );
    assert!(matches!(
        interpret(503, b"<html>down</html>", "u", read_value),
        Err(PublishError::Unreachable { .. })
    ));
    assert!(matches!(
        interpret(500, b"oops", "u", read_value),
        Err(PublishError::UnexpectedResponse(m)) if m.contains("500")
    ));
    assert!(matches!(
        interpret(200, b"not json", "u", read_value),
        Err(PublishError::UnexpectedResponse(_))
    ));
    assert_eq!(
        interpret(200, br#"{"result":{}}"#, "u", read_value),
        Ok(json!({}))
    );
}

#[test]
fn batch_replies_are_matched_to_events() {
    let answer = br#"{"replies":[{"publish":{}},{"error":{"code":102,"message":"unknown channel"}},{"publish":{"offset":5,"epoch":"e"}},{"publish":{"offset":6,"epoch":""}}]}"#;
    let typed = read_batch(answer).unwrap();
    let generic = parse_batch_replies(&read_value(answer).unwrap()).unwrap();
    assert_eq!(typed, generic, "both readings agree");
    assert_eq!(typed[0], Ok(PublishReceipt::default()));
    assert_eq!(
        typed[1],
        Err(PublishError::Server {
            code: 102,
            message: "unknown channel".to_owned()
        })
    );
    assert_eq!(
        typed[2],
        Ok(PublishReceipt {
            offset: Some(5),
            epoch: Some("e".to_owned())
        })
    );
    assert_eq!(
        typed[3].as_ref().unwrap().epoch,
        None,
        "an empty epoch is none"
    );
    assert_eq!(check_replies(typed.clone(), 4), Ok(typed.clone()));
    assert!(check_replies(typed, 3).is_err());
}

#[test]
fn batch_answers_of_other_shapes_are_read_too() {
    // Wrapped in `result`, as other API answers are.
    let wrapped = read_batch(br#"{"result":{"replies":[{"publish":{"offset":1,"epoch":"x"}}]}}"#);
    assert_eq!(wrapped.unwrap()[0].as_ref().unwrap().offset, Some(1));
    // A top-level error in a `200` answer (Centrifugo's default error mode).
    assert_eq!(
        read_batch(br#"{"error":{"code":100,"message":"internal server error"}}"#),
        Err(PublishError::Server {
            code: 100,
            message: "internal server error".to_owned()
        })
    );
    // An error without a code is no error; the reply's own fields are its receipt.
    let odd = read_batch(br#"{"replies":[{"error":{"message":"?"},"offset":2}]}"#).unwrap();
    assert_eq!(odd[0].as_ref().unwrap().offset, Some(2));
    assert!(matches!(
        read_batch(br#"{"answers":[]}"#),
        Err(PublishError::UnexpectedResponse(_))
    ));
    assert!(matches!(
        read_batch(b"not json"),
        Err(PublishError::UnexpectedResponse(_))
    ));
}

#[test]
fn data_is_the_event_object_not_a_string() {
    let event = Event::new("site", "news", "hi").with_data(json!({"n": 1}));
    let body = publish_body(&event).unwrap();
    assert!(body.retry, "a keyed publish may be tried again");
    let params: Value = serde_json::from_slice(&body.bytes).unwrap();
    assert_eq!(params["channel"], "news");
    assert!(params["data"].is_object());
    assert_eq!(params["data"]["data"]["n"], 1);
    assert_eq!(params["data"]["uid"], event.uid);
    assert_eq!(params["idempotency_key"], event.uid);
    assert_eq!(
        params,
        json!({"channel": "news", "data": serde_json::to_value(&event).unwrap(), "idempotency_key": event.uid})
    );
    let batch = batch_body([event].iter()).unwrap();
    assert!(batch.retry);
    let body: Value = serde_json::from_slice(&batch.bytes).unwrap();
    assert_eq!(body["parallel"], false);
    assert!(body["commands"][0]["publish"]["data"].is_object());
}

#[test]
fn new_needs_url_and_key() {
    let embedded = Config::builder().build().unwrap();
    assert_eq!(
        CentrifugoClient::new(&embedded).unwrap_err().key(),
        Some("INSTANT_CENTRIFUGO_URL")
    );
    let no_key = Config::builder()
        .secret("centrifugo-client-test-secret-0123456789")
        .centrifugo_url("http://127.0.0.1:9")
        .build()
        .unwrap();
    assert_eq!(
        CentrifugoClient::new(&no_key).unwrap_err().key(),
        Some("INSTANT_CENTRIFUGO_API_KEY")
    );
}

#[test]
fn awaited_calls_run_on_the_callers_thread_only_inside_a_live_actix_rt_system() {
    assert!(!worker::on_actix_thread(), "outside any runtime");
    let tokio_current = || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    };
    assert!(!tokio_current().block_on(async { worker::on_actix_thread() }));
    assert!(actix_rt::System::new().block_on(async { worker::on_actix_thread() }));
    // actix-rt leaves its thread-local arbiter handle behind when the system is dropped: a plain
    // runtime on the same thread afterwards must still take the worker thread's path.
    assert!(!tokio_current().block_on(async { worker::on_actix_thread() }));
    assert!(!worker::on_actix_thread());
}

fn unreachable_config() -> Config {
    // A port that was free a moment ago: nothing listens there, connecting is refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    Config::builder()
        .secret("centrifugo-client-test-secret-0123456789")
        .api_key("k")
        .centrifugo_url(format!("http://127.0.0.1:{port}"))
        .publish_timeout(Duration::from_secs(3))
        .build()
        .unwrap()
}

#[test]
fn an_unreachable_server_is_a_typed_error_from_a_tokio_runtime() {
    let client = CentrifugoClient::new(&unreachable_config()).unwrap();
    let outcome = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(client.publish_event(&Event::new("s", "c", "m")));
    assert!(
        matches!(outcome, Err(PublishError::Unreachable { .. })),
        "{outcome:?}"
    );
    assert!(outcome.unwrap_err().is_transient());
}

#[test]
fn detached_events_are_dropped_and_counted_when_the_queue_is_full() {
    let client = CentrifugoClient::with_options(
        &unreachable_config(),
        ClientOptions::default()
            .queue_capacity(4)
            .max_batch(1)
            .max_retries(1)
            .retry_delay(Duration::from_millis(10)),
    )
    .unwrap();
    for i in 0..100 {
        client.publish_detached(Event::new("s", "c", format!("{i}")));
    }
    client.publish_detached(Event::new("s", "", "no channel"));
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(client.flush());
    let stats = client.stats();
    assert_eq!(stats.queued, 101);
    assert_eq!(stats.delivered, 0);
    assert_eq!(stats.dropped, 101, "{stats:?}");
    assert!(stats.retried >= 1, "{stats:?}");
}

#[test]
fn bad_input_is_refused_before_sending() {
    let client = CentrifugoClient::new(&unreachable_config()).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    assert!(matches!(
        rt.block_on(client.publish_event(&Event::new("s", "", "m"))),
        Err(PublishError::BadInput(_))
    ));
    assert!(matches!(
        rt.block_on(client.call("publish", json!([]))),
        Err(PublishError::BadInput(_))
    ));
}

/// A loopback HTTP/1.1 server answering every request with `answer`, keeping connections
/// open; reports each connection accepted and each request's head.
fn fake_server(answer: &'static str) -> (String, mpsc::UnboundedReceiver<String>) {
    use std::io::{BufRead as _, BufReader, Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (seen, heads) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let seen = seen.clone();
            let _ = seen.send("connection".to_owned());
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut writer = stream;
                loop {
                    let mut head = String::new();
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        if line == "\r\n" {
                            break;
                        }
                        head.push_str(&line);
                    }
                    let length = head
                        .lines()
                        .find_map(|l| {
                            let (name, value) = l.split_once(':')?;
                            name.eq_ignore_ascii_case("content-length")
                                .then(|| value.trim().parse::<usize>().ok())?
                        })
                        .unwrap_or(0);
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).unwrap();
                    let _ = seen.send(head);
                    if answer.is_empty() {
                        continue; // never answer
                    }
                    let response = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{answer}",
                        answer.len()
                    );
                    writer.write_all(response.as_bytes()).unwrap();
                }
            });
        }
    });
    (url, heads)
}

fn config_for(url: &str, timeout: Duration) -> Config {
    Config::builder()
        .secret("centrifugo-client-test-secret-0123456789")
        .api_key("the-api-key")
        .centrifugo_url(url)
        .publish_timeout(timeout)
        .build()
        .unwrap()
}

#[test]
fn requests_carry_the_key_and_reuse_one_kept_alive_connection() {
    let (url, mut seen) = fake_server(r#"{"result":{}}"#);
    let client = CentrifugoClient::new(&config_for(&url, Duration::from_secs(10))).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for i in 0..20 {
        let receipt = rt
            .block_on(client.publish_event(&Event::new("s", "c", format!("{i}"))))
            .unwrap();
        assert_eq!(receipt, PublishReceipt::default());
    }
    let mut connections = 0;
    let mut heads = Vec::new();
    while let Ok(item) = seen.try_recv() {
        if item == "connection" {
            connections += 1;
        } else {
            heads.push(item.to_ascii_lowercase());
        }
    }
    assert_eq!(heads.len(), 20);
    assert_eq!(connections, 1, "one connection, kept alive and reused");
    assert!(
        heads[0].starts_with("post /api/publish http/1.1"),
        "{}",
        heads[0]
    );
    assert!(heads[0].contains("x-api-key: the-api-key"), "{}", heads[0]);
    assert!(
        heads[0].contains("x-centrifugo-error-mode: transport"),
        "{}",
        heads[0]
    );
}

#[test]
fn a_server_that_does_not_answer_is_a_timeout() {
    let (url, _seen) = fake_server("");
    let client = CentrifugoClient::new(&config_for(&url, Duration::from_millis(300))).unwrap();
    let outcome =
        actix_rt::System::new().block_on(client.publish_event(&Event::new("s", "c", "m")));
    assert_eq!(
        outcome,
        Err(PublishError::Timeout(Duration::from_millis(300)))
    );
}
