//! A real Redis server for tests (Centrifugo's Redis engine).

use std::fmt;
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::paths::{find_on_path, free_port, temp_dir};

/// The environment variable naming the `redis-server` binary to use.
const REDIS_BIN_ENV: &str = "INSTANT_REDIS_BIN";

/// A throw-away `redis-server` on a free `127.0.0.1` port, without persistence; killed on drop.
///
/// Point Centrifugo at it with
/// `CentrifugoOptions::default().extra(json!({"engine": {"type": "redis", "redis": {"address": redis.address()}}}))`.
pub struct Redis {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
}

impl fmt::Debug for Redis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redis")
            .field("address", &self.address())
            .finish_non_exhaustive()
    }
}

impl Redis {
    /// Starts `redis-server` (`$INSTANT_REDIS_BIN`, else on `PATH`) and waits until it answers
    /// `PING`.
    ///
    /// # Panics
    /// When `redis-server` is missing (run `cargo xtask test`, which installs it) or does not start.
    #[must_use]
    pub fn start() -> Self {
        let binary = std::env::var_os(REDIS_BIN_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| find_on_path("redis-server"))
            .unwrap_or_else(|| {
                panic!(
                    "redis-server is not installed: run `cargo xtask test` (it installs Debian's \
                     redis-server) or set {REDIS_BIN_ENV}"
                )
            });
        let dir = temp_dir("instant-redis");
        let port = free_port();
        let log = dir.join("redis.log");
        let child = Command::new(&binary)
            .args(["--bind", "127.0.0.1", "--port"])
            .arg(port.to_string())
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(&dir)
            .arg("--logfile")
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()));
        let mut redis = Self {
            child: Some(child),
            port,
            dir,
        };
        let started = Instant::now();
        while !redis.answers_ping() {
            let exited = redis
                .child
                .as_mut()
                .is_some_and(|c| matches!(c.try_wait(), Ok(Some(_))));
            if exited || started.elapsed() > Duration::from_secs(20) {
                panic!(
                    "redis-server did not start; its log:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        redis
    }

    /// `127.0.0.1:<port>`.
    #[must_use]
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `redis://127.0.0.1:<port>`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("redis://{}", self.address())
    }

    fn answers_ping(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
        let mut answer = [0u8; 7];
        stream.write_all(b"PING\r\n").is_ok()
            && stream.read_exact(&mut answer).is_ok()
            && &answer == b"+PONG\r\n"
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
