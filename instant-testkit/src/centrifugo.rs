//! A real Centrifugo v6 server for tests.

use std::fmt;
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use instant_core::{Config, Secret, Tokens};
use serde_json::{Value, json};

use crate::paths::{centrifugo_binary, free_port, temp_dir};

/// How long Centrifugo may take to answer `/health` after it starts.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// What the test server allows; the defaults suit most tests. Every field maps to a Centrifugo v6
/// key, named in its doc.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CentrifugoOptions {
    /// `client.allowed_origins`; `["*"]` by default so browsers on any test port may connect.
    pub allowed_origins: Vec<String>,
    /// `channel.without_namespace.allow_subscribe_for_client`: connected clients may subscribe
    /// to channels without a token (except `$` channels, which always need one). `true` by default.
    pub allow_subscribe_for_client: bool,
    /// `channel.without_namespace.allow_subscribe_for_anonymous`: anonymous connections (token with
    /// an empty `sub`) may subscribe too. `true` by default.
    pub allow_subscribe_for_anonymous: bool,
    /// `channel.without_namespace.presence`. `true` by default.
    pub presence: bool,
    /// `channel.without_namespace.join_leave`. `true` by default.
    pub join_leave: bool,
    /// `channel.without_namespace.history_size`; 0 turns history off. 100 by default.
    pub history_size: u32,
    /// `channel.without_namespace.history_ttl`. Five minutes by default.
    pub history_ttl: Duration,
    /// `channel.without_namespace.force_recovery`. `false` by default.
    pub force_recovery: bool,
    /// `client.allow_anonymous_connect_without_token`. `false` by default.
    pub allow_anonymous_connect_without_token: bool,
    /// `channel.namespaces`: each a JSON object with a `name` and channel options.
    pub namespaces: Vec<Value>,
    /// Merged last into the generated configuration, for any other v6 key
    /// (e.g. `{"engine": {"type": "redis", "redis": {"address": "127.0.0.1:6379"}}}`).
    pub extra: Value,
}

impl Default for CentrifugoOptions {
    fn default() -> Self {
        Self {
            allowed_origins: vec!["*".to_owned()],
            allow_subscribe_for_client: true,
            allow_subscribe_for_anonymous: true,
            presence: true,
            join_leave: true,
            history_size: 100,
            history_ttl: Duration::from_secs(300),
            force_recovery: false,
            allow_anonymous_connect_without_token: false,
            namespaces: Vec::new(),
            extra: Value::Null,
        }
    }
}

impl CentrifugoOptions {
    /// Sets [`CentrifugoOptions::allowed_origins`].
    #[must_use]
    pub fn allowed_origins<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        origins: I,
    ) -> Self {
        self.allowed_origins = origins.into_iter().map(Into::into).collect();
        self
    }

    /// Sets [`CentrifugoOptions::allow_subscribe_for_client`].
    #[must_use]
    pub fn allow_subscribe_for_client(mut self, allow: bool) -> Self {
        self.allow_subscribe_for_client = allow;
        self
    }

    /// Sets [`CentrifugoOptions::allow_subscribe_for_anonymous`].
    #[must_use]
    pub fn allow_subscribe_for_anonymous(mut self, allow: bool) -> Self {
        self.allow_subscribe_for_anonymous = allow;
        self
    }

    /// Sets [`CentrifugoOptions::presence`].
    #[must_use]
    pub fn presence(mut self, on: bool) -> Self {
        self.presence = on;
        self
    }

    /// Sets [`CentrifugoOptions::join_leave`].
    #[must_use]
    pub fn join_leave(mut self, on: bool) -> Self {
        self.join_leave = on;
        self
    }

    /// Sets the history size and time to live (size 0 turns history off).
    #[must_use]
    pub fn history(mut self, size: u32, ttl: Duration) -> Self {
        self.history_size = size;
        self.history_ttl = ttl;
        self
    }

    /// Sets [`CentrifugoOptions::force_recovery`].
    #[must_use]
    pub fn force_recovery(mut self, on: bool) -> Self {
        self.force_recovery = on;
        self
    }

    /// Sets [`CentrifugoOptions::allow_anonymous_connect_without_token`].
    #[must_use]
    pub fn allow_anonymous_connect_without_token(mut self, allow: bool) -> Self {
        self.allow_anonymous_connect_without_token = allow;
        self
    }

    /// Adds a namespace (`{"name": "chat", "presence": true, ...}`).
    #[must_use]
    pub fn namespace(mut self, namespace: Value) -> Self {
        self.namespaces.push(namespace);
        self
    }

    /// Sets [`CentrifugoOptions::extra`].
    #[must_use]
    pub fn extra(mut self, extra: Value) -> Self {
        self.extra = extra;
        self
    }

    /// The v6 configuration file for these options.
    fn to_json(&self, port: u16, secret: &Secret, api_key: &Secret) -> Value {
        let mut without_namespace = json!({
            "allow_subscribe_for_client": self.allow_subscribe_for_client,
            "allow_subscribe_for_anonymous": self.allow_subscribe_for_anonymous,
            "presence": self.presence,
            "join_leave": self.join_leave,
            // Lets test clients ask presence and history of channels they are subscribed to.
            "allow_presence_for_subscriber": self.presence,
            "allow_history_for_subscriber": self.history_size > 0,
        });
        if self.history_size > 0 {
            without_namespace["history_size"] = json!(self.history_size);
            without_namespace["history_ttl"] =
                json!(format!("{}s", self.history_ttl.as_secs().max(1)));
            without_namespace["force_recovery"] = json!(self.force_recovery);
        }
        let mut config = json!({
            "http_server": { "address": "127.0.0.1", "port": port },
            "client": {
                "token": { "hmac_secret_key": secret.expose_secret() },
                "allowed_origins": self.allowed_origins,
                "allow_anonymous_connect_without_token": self.allow_anonymous_connect_without_token,
            },
            "http_api": { "key": api_key.expose_secret() },
            "channel": {
                "without_namespace": without_namespace,
                "namespaces": self.namespaces,
            },
            "health": { "enabled": true },
            "usage_stats": { "disabled": true },
            "log": { "level": "info" },
        });
        merge(&mut config, &self.extra);
        config
    }
}

/// Deep-merges `extra` into `base`: objects key by key, anything else replaced.
fn merge(base: &mut Value, extra: &Value) {
    match (base, extra) {
        (Value::Object(base), Value::Object(extra)) => {
            for (key, value) in extra {
                merge(base.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
        (_, Value::Null) => {}
        (base, extra) => *base = extra.clone(),
    }
}

/// A running Centrifugo v6 on `127.0.0.1` with a random secret and API key; killed on drop.
///
/// # Panics
/// [`Centrifugo::start`] panics, with Centrifugo's log, when the binary is missing or the server
/// does not come up: tests that need it fail, they do not skip.
pub struct Centrifugo {
    child: Option<Child>,
    binary: PathBuf,
    dir: PathBuf,
    port: u16,
    secret: Secret,
    api_key: Secret,
    options: CentrifugoOptions,
}

impl fmt::Debug for Centrifugo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Centrifugo")
            .field("url", &self.url())
            .field("running", &self.child.is_some())
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl Centrifugo {
    /// Writes a v6 configuration for `options` on a free port and starts Centrifugo with it;
    /// returns once `/health` answers.
    #[must_use]
    pub fn start(options: CentrifugoOptions) -> Self {
        let binary = centrifugo_binary();
        let mut server = Self {
            child: None,
            binary,
            dir: temp_dir("instant-centrifugo"),
            port: 0,
            secret: Secret::generate(),
            api_key: Secret::generate(),
            options,
        };
        // Another process may take the free port between our probe and Centrifugo's bind: retry.
        let mut last_log = String::new();
        for _ in 0..5 {
            server.port = free_port();
            let config = server
                .options
                .to_json(server.port, &server.secret, &server.api_key);
            let config_text = serde_json::to_string_pretty(&config).unwrap_or_default();
            std::fs::write(server.config_path(), config_text).unwrap_or_else(|e| {
                panic!(
                    "cannot write the Centrifugo config in {}: {e}",
                    server.dir.display()
                )
            });
            match server.spawn_and_wait() {
                Ok(()) => return server,
                Err(log) if log.contains("address already in use") => last_log = log,
                Err(log) => panic!(
                    "Centrifugo ({}) did not start; its log:\n{log}",
                    server.binary.display()
                ),
            }
        }
        panic!("Centrifugo found no free port; its last log:\n{last_log}");
    }

    /// Starts Centrifugo with an existing v6 configuration file (e.g. one written by
    /// `instant genconfig`), copied into the server's own directory; returns once `/health`
    /// answers. The port, secret and API key are read from the file (`http_server.port`,
    /// `client.token.hmac_secret_key`, `http_api.key`); [`Centrifugo::options`] are the defaults
    /// and describe nothing.
    ///
    /// # Panics
    /// When the file cannot be read, lacks those keys (or `health.enabled`), or Centrifugo does
    /// not come up.
    #[must_use]
    pub fn start_from_file(config_file: &std::path::Path) -> Self {
        let text = std::fs::read_to_string(config_file)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", config_file.display()));
        let config: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not JSON: {e}", config_file.display()));
        let text_at = |pointer: &str| {
            config
                .pointer(pointer)
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("{} has no {pointer}", config_file.display()))
                .to_owned()
        };
        let port = config
            .pointer("/http_server/port")
            .and_then(Value::as_u64)
            .and_then(|port| u16::try_from(port).ok())
            .unwrap_or_else(|| panic!("{} has no http_server.port", config_file.display()));
        assert_eq!(
            config.pointer("/health/enabled"),
            Some(&json!(true)),
            "{} must set health.enabled: the harness waits for /health",
            config_file.display()
        );
        let mut server = Self {
            child: None,
            binary: centrifugo_binary(),
            dir: temp_dir("instant-centrifugo"),
            port,
            secret: Secret::new(text_at("/client/token/hmac_secret_key")),
            api_key: Secret::new(text_at("/http_api/key")),
            options: CentrifugoOptions::default(),
        };
        std::fs::write(server.config_path(), text).unwrap_or_else(|e| {
            panic!(
                "cannot write the Centrifugo config in {}: {e}",
                server.dir.display()
            )
        });
        if let Err(log) = server.spawn_and_wait() {
            panic!(
                "Centrifugo ({}) did not start with {}; its log:\n{log}",
                server.binary.display(),
                config_file.display()
            );
        }
        server
    }

    fn spawn_and_wait(&mut self) -> Result<(), String> {
        let log = std::fs::File::create(self.log_path())
            .map_err(|e| format!("cannot create the log file: {e}"))?;
        let log_err = log.try_clone().map_err(|e| e.to_string())?;
        let child = Command::new(&self.binary)
            .arg("-c")
            .arg(self.dir.join("config.json"))
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", self.binary.display()))?;
        self.child = Some(child);
        let started = Instant::now();
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                self.child = None;
                return Err(format!("exited with {status}\n{}", self.log()));
            }
            if health_ok(self.port) {
                return Ok(());
            }
            if started.elapsed() > START_TIMEOUT {
                self.kill();
                return Err(format!(
                    "no answer on /health within {START_TIMEOUT:?}\n{}",
                    self.log()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The HTTP base URL, e.g. `http://127.0.0.1:41234`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The WebSocket endpoint clients connect to.
    #[must_use]
    pub fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}/connection/websocket", self.port)
    }

    /// The port it listens on.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The HMAC secret (`client.token.hmac_secret_key`).
    #[must_use]
    pub fn secret(&self) -> &Secret {
        &self.secret
    }

    /// The HTTP API key (`http_api.key`).
    #[must_use]
    pub fn api_key(&self) -> &Secret {
        &self.api_key
    }

    /// An `instant` configuration pointing at this server (secret, API key, URL).
    #[must_use]
    pub fn config(&self) -> Config {
        self.config_builder()
            .build()
            .unwrap_or_else(|e| panic!("the test configuration is invalid: {e}"))
    }

    /// A configuration builder pointing at this server, to adjust before building.
    #[must_use]
    pub fn config_builder(&self) -> instant_core::ConfigBuilder {
        Config::builder()
            .secret(self.secret.clone())
            .api_key(self.api_key.clone())
            .centrifugo_url(self.url())
    }

    /// Tokens signed with this server's secret.
    #[must_use]
    pub fn tokens(&self) -> Tokens {
        self.config().tokens()
    }

    /// The options it was started with.
    #[must_use]
    pub fn options(&self) -> &CentrifugoOptions {
        &self.options
    }

    /// The configuration file it runs with.
    #[must_use]
    pub fn config_path(&self) -> PathBuf {
        self.dir.join("config.json")
    }

    fn log_path(&self) -> PathBuf {
        self.dir.join("centrifugo.log")
    }

    /// What Centrifugo has logged so far.
    #[must_use]
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// Whether the server process is running.
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Stops the server (for tests of what happens when it is down). The port stays reserved for
    /// [`Centrifugo::restart`] only as long as nobody else takes it.
    pub fn stop(&mut self) {
        self.kill();
    }

    /// Starts the stopped server again, on the same port with the same configuration.
    ///
    /// # Panics
    /// When it does not come up.
    pub fn restart(&mut self) {
        self.kill();
        if let Err(log) = self.spawn_and_wait() {
            panic!("Centrifugo did not restart; its log:\n{log}");
        }
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Centrifugo {
    fn drop(&mut self) {
        self.kill();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Whether `GET /health` answers 200.
fn health_ok(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream
        .write_all(b"GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
        .lines()
        .next()
        .is_some_and(|status| status.split_whitespace().nth(1) == Some("200"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_uses_v6_keys() {
        let options = CentrifugoOptions::default()
            .force_recovery(true)
            .extra(json!({"engine": {"type": "memory"}, "client": {"ping_interval": "5s"}}));
        let config = options.to_json(1234, &Secret::from("s"), &Secret::from("k"));
        assert_eq!(config["client"]["token"]["hmac_secret_key"], "s");
        assert_eq!(config["client"]["ping_interval"], "5s");
        assert_eq!(config["client"]["allowed_origins"], json!(["*"]));
        assert_eq!(config["http_api"]["key"], "k");
        assert_eq!(config["http_server"]["port"], 1234);
        assert_eq!(
            config["channel"]["without_namespace"]["history_ttl"],
            "300s"
        );
        assert_eq!(
            config["channel"]["without_namespace"]["force_recovery"],
            true
        );
        assert_eq!(config["engine"]["type"], "memory");
        assert_eq!(config["health"]["enabled"], true);
    }
}
