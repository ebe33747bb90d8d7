//! The official JavaScript client, centrifuge-js 5, run under Node by `js/client.mjs`.

use std::fmt;
use std::io::{BufRead as _, BufReader, Write as _};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::paths::workspace_root;

/// The environment variable naming the Node binary (default: `node` on `PATH`).
const NODE_BIN_ENV: &str = "INSTANT_NODE_BIN";

/// What a [`NodeClient`] does on start: where it connects, with which token, what it subscribes.
#[derive(Debug, Clone)]
pub struct NodeSpec {
    spec: Value,
}

impl NodeSpec {
    /// Connects to the WebSocket endpoint `url` (e.g. `ws://127.0.0.1:8000/connection/websocket`)
    /// without a token until [`NodeSpec::token`] is called.
    #[must_use]
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            spec: json!({ "url": url.into(), "subscriptions": [] }),
        }
    }

    /// The connection token.
    #[must_use]
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.spec["token"] = json!(token.into());
        self
    }

    /// The `Origin` header of the WebSocket handshake.
    #[must_use]
    pub fn origin(mut self, origin: impl Into<String>) -> Self {
        self.spec["origin"] = json!(origin.into());
        self
    }

    /// Subscribes to `channel` without a subscription token.
    #[must_use]
    pub fn subscribe(self, channel: impl Into<String>) -> Self {
        self.push_subscription(json!({ "channel": channel.into() }))
    }

    /// Subscribes to `channel` with a subscription token.
    #[must_use]
    pub fn subscribe_with_token(
        self,
        channel: impl Into<String>,
        token: impl Into<String>,
    ) -> Self {
        self.push_subscription(json!({ "channel": channel.into(), "token": token.into() }))
    }

    fn push_subscription(mut self, subscription: Value) -> Self {
        if let Some(list) = self.spec["subscriptions"].as_array_mut() {
            list.push(subscription);
        }
        self
    }

    /// Reports publications only as running counts (`publication_count` events), for tests that
    /// receive thousands.
    #[must_use]
    pub fn quiet_publications(mut self) -> Self {
        self.spec["quiet_publications"] = json!(true);
        self
    }

    /// The spec as the JSON `js/client.mjs` reads.
    #[must_use]
    pub fn to_json(&self) -> &Value {
        &self.spec
    }
}

/// One line `js/client.mjs` printed: a JSON object whose `event` field names what happened.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeEvent(pub Value);

impl NodeEvent {
    /// The kind: `ready`, `connecting`, `connected`, `disconnected`, `error`, `subscribing`,
    /// `subscribed`, `subscribe_error`, `unsubscribed`, `publication`, `publication_count`,
    /// `join`, `leave` or `reply`.
    #[must_use]
    pub fn kind(&self) -> &str {
        self.0.get("event").and_then(Value::as_str).unwrap_or("")
    }

    /// Whether the event is of `kind`.
    #[must_use]
    pub fn is(&self, kind: &str) -> bool {
        self.kind() == kind
    }

    /// Whether the event is of `kind` on `channel`.
    #[must_use]
    pub fn is_on(&self, kind: &str, channel: &str) -> bool {
        self.is(kind) && self.channel() == Some(channel)
    }

    /// The channel, for subscription events.
    #[must_use]
    pub fn channel(&self) -> Option<&str> {
        self.0.get("channel").and_then(Value::as_str)
    }

    /// The error, disconnect or unsubscribe code, when there is one.
    #[must_use]
    pub fn code(&self) -> Option<u64> {
        self.0.get("code").and_then(Value::as_u64)
    }

    /// The publication data, for `publication` events.
    #[must_use]
    pub fn data(&self) -> Option<&Value> {
        self.0.get("data")
    }

    /// Any field.
    #[must_use]
    pub fn get(&self, field: &str) -> Option<&Value> {
        self.0.get(field)
    }
}

impl fmt::Display for NodeEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A centrifuge-js client running under Node, for tests against Centrifugo or any server speaking
/// its client protocol (the embedded server).
///
/// Events arrive in order through [`NodeClient::next_event`] and [`NodeClient::wait_for`]; every
/// event received is also kept, and shown when a wait fails. The process is killed on drop.
///
/// # Panics
/// [`NodeClient::spawn`] panics when Node or the npm packages in `js/` are missing (run
/// `cargo xtask test`, or `npm ci` in `js/`): tests that need it fail, they do not skip.
pub struct NodeClient {
    child: Child,
    stdin: Option<ChildStdin>,
    events: Receiver<NodeEvent>,
    seen: Vec<NodeEvent>,
    stderr: Arc<Mutex<String>>,
    next_id: u64,
}

impl fmt::Debug for NodeClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NodeClient")
            .field("pid", &self.child.id())
            .field("events_seen", &self.seen.len())
            .finish_non_exhaustive()
    }
}

impl NodeClient {
    /// Starts `node js/client.mjs <spec>`.
    #[must_use]
    pub fn spawn(spec: NodeSpec) -> Self {
        let NodeSpec { spec } = spec;
        let js = workspace_root().join("js");
        let script = js.join("client.mjs");
        assert!(
            js.join("node_modules/centrifuge").is_dir() && js.join("node_modules/ws").is_dir(),
            "the Node test clients are not installed in {}: run `cargo xtask test` or `npm ci` there",
            js.display()
        );
        let node = std::env::var_os(NODE_BIN_ENV)
            .filter(|v| !v.is_empty())
            .map_or_else(|| PathBuf::from("node"), PathBuf::from);
        let mut child = Command::new(&node)
            .arg(&script)
            .arg(spec.to_string())
            .current_dir(&js)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run {} (Node.js 20 or newer is needed; set {NODE_BIN_ENV} to choose one): {e}",
                    node.display()
                )
            });

        let (sender, events) = mpsc::channel();
        let stdout = child.stdout.take().expect("stdout is piped");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let value = serde_json::from_str(&line)
                    .unwrap_or_else(|_| json!({ "event": "stdout", "line": line }));
                if sender.send(NodeEvent(value)).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let stderr_sink = Arc::clone(&stderr);
        let child_stderr = child.stderr.take().expect("stderr is piped");
        std::thread::spawn(move || {
            for line in BufReader::new(child_stderr).lines() {
                let Ok(line) = line else { break };
                if let Ok(mut sink) = stderr_sink.lock() {
                    sink.push_str(&line);
                    sink.push('\n');
                }
            }
        });
        let stdin = child.stdin.take();
        let mut client = Self {
            child,
            stdin,
            events,
            seen: Vec::new(),
            stderr,
            next_id: 0,
        };
        client.wait_for(|e| e.is("ready"), Duration::from_secs(30));
        client
    }

    /// The next event, or `None` when none comes within `timeout` or the process ended.
    pub fn next_event(&mut self, timeout: Duration) -> Option<NodeEvent> {
        match self.events.recv_timeout(timeout) {
            Ok(event) => {
                self.seen.push(event.clone());
                Some(event)
            }
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => None,
        }
    }

    /// Waits for the first event matching `predicate`, skipping others; `None` after `timeout`.
    pub fn try_wait_for(
        &mut self,
        mut predicate: impl FnMut(&NodeEvent) -> bool,
        timeout: Duration,
    ) -> Option<NodeEvent> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            match self.events.recv_timeout(left) {
                Ok(event) => {
                    self.seen.push(event.clone());
                    if predicate(&event) {
                        return Some(event);
                    }
                }
                Err(RecvTimeoutError::Timeout) => return None,
                Err(RecvTimeoutError::Disconnected) => {
                    // The process ended; give the stderr reader a moment to collect its last words.
                    std::thread::sleep(Duration::from_millis(100));
                    return None;
                }
            }
        }
    }

    /// Waits for the first event matching `predicate`, skipping others.
    ///
    /// # Panics
    /// When none comes within `timeout`, with every event seen and Node's stderr.
    pub fn wait_for(
        &mut self,
        predicate: impl FnMut(&NodeEvent) -> bool,
        timeout: Duration,
    ) -> NodeEvent {
        match self.try_wait_for(predicate, timeout) {
            Some(event) => event,
            None => panic!(
                "the Node client did not report the awaited event within {timeout:?}.\n{}",
                self.report()
            ),
        }
    }

    /// Waits for one `kind` event on each of `channels`, in whatever order they come (separate
    /// channels are separate streams), skipping others; returns them in the order of `channels`.
    ///
    /// # Panics
    /// When one is missing after `timeout`, with every event seen and Node's stderr.
    pub fn wait_for_each(
        &mut self,
        kind: &str,
        channels: &[&str],
        timeout: Duration,
    ) -> Vec<NodeEvent> {
        let deadline = Instant::now() + timeout;
        let mut found: Vec<Option<NodeEvent>> = vec![None; channels.len()];
        while found.iter().any(Option::is_none) {
            let left = deadline.saturating_duration_since(Instant::now());
            let awaited = |e: &NodeEvent| {
                e.is(kind)
                    && channels
                        .iter()
                        .zip(&found)
                        .any(|(channel, slot)| slot.is_none() && e.channel() == Some(channel))
            };
            let Some(event) = self.try_wait_for(awaited, left) else {
                panic!(
                    "the Node client did not report `{kind}` on each of {channels:?} within \
                     {timeout:?}.\n{}",
                    self.report()
                );
            };
            let index = channels
                .iter()
                .zip(&found)
                .position(|(channel, slot)| slot.is_none() && event.channel() == Some(channel));
            if let Some(index) = index {
                found[index] = Some(event);
            }
        }
        found.into_iter().flatten().collect()
    }

    /// Sends a command (see `js/client.mjs`: subscribe, unsubscribe, publish, presence,
    /// presence_stats, history, disconnect, connect, exit) and returns its id; the answer comes as
    /// a `reply` event with that id.
    ///
    /// # Panics
    /// When the process no longer reads commands.
    pub fn send(&mut self, mut command: Value) -> u64 {
        self.next_id += 1;
        command["id"] = json!(self.next_id);
        let line = format!("{command}\n");
        let written = self.stdin.as_mut().is_some_and(|stdin| {
            stdin
                .write_all(line.as_bytes())
                .and_then(|()| stdin.flush())
                .is_ok()
        });
        assert!(written, "the Node client is gone.\n{}", self.report());
        self.next_id
    }

    /// Sends a command and waits for its reply (`{"ok": bool, "result" | "error"}`).
    ///
    /// # Panics
    /// As [`NodeClient::send`] and [`NodeClient::wait_for`].
    pub fn request(&mut self, command: Value, timeout: Duration) -> NodeEvent {
        let id = self.send(command);
        self.wait_for(
            |e| e.is("reply") && e.get("id").and_then(Value::as_u64) == Some(id),
            timeout,
        )
    }

    /// Every event received so far.
    #[must_use]
    pub fn events_seen(&self) -> &[NodeEvent] {
        &self.seen
    }

    /// What Node wrote on stderr so far.
    #[must_use]
    pub fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// The events seen and stderr, for failure messages.
    #[must_use]
    pub fn report(&self) -> String {
        let last: Vec<String> = self
            .seen
            .iter()
            .rev()
            .take(50)
            .rev()
            .map(ToString::to_string)
            .collect();
        format!(
            "events seen ({} in all, the last 50):\n{}\nstderr:\n{}",
            self.seen.len(),
            last.join("\n"),
            self.stderr()
        )
    }
}

impl Drop for NodeClient {
    fn drop(&mut self) {
        // Closing stdin lets the script exit by itself; kill in case it does not.
        self.stdin.take();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
