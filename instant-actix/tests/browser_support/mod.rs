//! A page open in headless Chromium (driven by `js/browser_session.mjs` with playwright-core from
//! `js/node_modules`) that a test sends commands to while it cuts the network or restarts the app,
//! and the app itself on a real HTTP server at a port the test chooses.

#![allow(dead_code, unreachable_pub)] // each test file uses a part

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, web};
use instant_actix::{CentrifugeJs, InstantMiddleware, Realtime};
use serde_json::Value;

fn js_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../js")
}

/// The local centrifuge.js, so that the page needs no network.
pub fn centrifuge_js() -> CentrifugeJs {
    let file = js_dir().join("node_modules/centrifuge/dist/centrifuge.js");
    assert!(
        file.is_file(),
        "{} is missing: run `npm ci` in js/",
        file.display()
    );
    CentrifugeJs::File(file)
}

/// The page, open in Chromium until dropped.
pub struct Browser {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<String>,
}

impl Browser {
    pub fn open(url: &str) -> Self {
        let mut child = Command::new("node")
            .arg(js_dir().join("browser_session.mjs"))
            .arg(url)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node runs");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            stdin,
            lines,
        }
    }

    /// Sends a command; returns its answer (the page's events, resyncs and drops so far).
    pub fn command(&mut self, command: &str) -> Value {
        writeln!(self.stdin, "{command}").expect("the browser session listens");
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|_| panic!("no answer to {command:?} from the browser session"));
            let Ok(value) = serde_json::from_str::<Value>(&line) else {
                println!("browser: {line}");
                continue;
            };
            match value["step"].as_str() {
                Some("pageerror") => println!("browser: {value}"),
                Some("error") => panic!("the browser session failed on {command:?}: {value}"),
                _ => return value,
            }
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "quit");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The numbers (`data.n`) of the events of `channel` in a browser session's answer.
pub fn numbers(answer: &Value, channel: &str) -> Vec<u64> {
    answer["events"][channel]
        .as_array()
        .map(|events| events.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default()
}

/// The app serving `realtime` and one page at `/`, on `listener`, on its own thread; stopped when
/// dropped.
pub struct RunningApp {
    handle: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RunningApp {
    pub fn start(listener: TcpListener, realtime: Realtime) -> Self {
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_rt::System::new().block_on(async move {
                let http = HttpServer::new(move || {
                    App::new()
                        .wrap(InstantMiddleware)
                        .configure(realtime.routes())
                        .route(
                            "/",
                            web::get().to(|| async {
                                HttpResponse::Ok()
                                    .content_type("text/html")
                                    .body("<!doctype html><html><head></head><body></body></html>")
                            }),
                        )
                })
                .workers(1)
                .shutdown_timeout(1)
                .listen(listener)
                .expect("listen");
                let running = http.run();
                tx.send(running.handle()).expect("report the handle");
                running.await.expect("serve");
            });
        });
        let handle = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the app starts");
        Self {
            handle,
            thread: Some(thread),
        }
    }

    /// Stops the HTTP server and waits until its port is free.
    pub fn stop(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        let handle = self.handle.clone();
        let stopped = std::thread::spawn(move || {
            actix_rt::System::new().block_on(handle.stop(true));
        });
        let _ = stopped.join();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for RunningApp {
    fn drop(&mut self) {
        if self.thread.is_some() {
            self.stop_now();
        }
    }
}

/// Publishes `{"n": n}` as the data of an instant event on `channel` through a server API
/// (`{api}/publish`, Centrifugo's shape on both servers).
pub async fn publish(api: &str, key: &str, channel: &str, n: u64) {
    let event = serde_json::json!({
        "channel": channel, "site": "test", "message": format!("event {n}"),
        "event_class": "", "data": {"n": n}, "uid": format!("{channel}-{n}"), "timestamp": 0,
    });
    let mut response = awc::Client::default()
        .post(format!("{api}/publish"))
        .insert_header(("X-API-Key", key))
        .send_json(&serde_json::json!({"channel": channel, "data": event}))
        .await
        .expect("API request");
    let answer: Value = response.json().await.expect("JSON answer");
    assert!(
        answer.get("error").is_none(),
        "publish on {channel}: {answer}"
    );
}
