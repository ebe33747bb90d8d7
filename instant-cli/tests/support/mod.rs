//! Helpers for the `instant` command's tests: running the binary, a local release server, archives.

#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::process::{Command, Output};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use sha2::{Digest, Sha256};

/// The version the fake releases claim.
pub const VERSION: &str = "6.9.1";

/// The `instant` binary, with no `INSTANT_*` variable inherited, run in `dir`.
pub fn instant(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_instant"));
    for (name, _) in std::env::vars() {
        if name.starts_with("INSTANT_") {
            command.env_remove(name);
        }
    }
    command.current_dir(dir).env("NO_COLOR", "1");
    command
}

/// Runs a command and returns its output.
pub fn run(command: &mut Command) -> Output {
    command.output().expect("the command runs")
}

/// Standard error as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Standard output as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The real Centrifugo v6 binary: `INSTANT_CENTRIFUGO_BIN`, else `<workspace>/.tools/bin/centrifugo`.
/// Panics when absent: these tests need it.
pub fn centrifugo_bin() -> PathBuf {
    let path = std::env::var_os("INSTANT_CENTRIFUGO_BIN")
        .filter(|value| !value.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join(".tools/bin/centrifugo")
        });
    assert!(
        path.is_file(),
        "Centrifugo is needed at {} (set INSTANT_CENTRIFUGO_BIN or run the xtask that installs it)",
        path.display()
    );
    path
}

/// A free loopback port.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// A file's SHA-256 as lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The release archive name for this machine.
pub fn archive_name() -> String {
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    format!("centrifugo_{VERSION}_{os}_{arch}.tar.gz")
}

/// The checksums file name.
pub fn checksums_name() -> String {
    format!("centrifugo_{VERSION}_checksums.txt")
}

/// A `.tar.gz` like a release archive: LICENSE, README.md and a `centrifugo` shell script that
/// prints `Centrifugo v<reported> (...)` for `version` and exits 0 for anything else.
pub fn fake_archive(reported: &str) -> Vec<u8> {
    let script = format!(
        "#!/bin/sh\nif [ \"$1\" = version ]; then echo \"Centrifugo v{reported} (Go version: go1.26.8)\"; fi\nexit 0\n"
    );
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    for (name, mode, body) in [
        ("LICENSE", 0o644, b"MIT".as_slice()),
        ("README.md", 0o644, b"Centrifugo".as_slice()),
        ("centrifugo", 0o755, script.as_bytes()),
    ] {
        let mut header = tar::Header::new_gnu();
        header.set_size(body.len() as u64);
        header.set_mode(mode);
        header.set_cksum();
        builder
            .append_data(&mut header, name, body)
            .expect("tar entry");
    }
    builder.into_inner().expect("tar").finish().expect("gzip")
}

/// A checksums file listing `archive` with `digest` (and another file, as real ones do).
pub fn checksums(digest: &str) -> Vec<u8> {
    format!(
        "{}  centrifugo_{VERSION}_linux_386.tar.gz\n{digest}  {}\n",
        "0".repeat(64),
        archive_name()
    )
    .into_bytes()
}

/// A tiny HTTP/1.1 server on 127.0.0.1 serving fixed files, recording the paths asked for.
pub struct ReleaseServer {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
}

/// A response body that is announced whole but of which only the start is sent, after which
/// the connection hangs: a download stalled half-way.
pub const STALL: &[u8] = b"STALL";

impl ReleaseServer {
    /// Serves `files` (path → body) until the test process ends.
    pub fn start(files: HashMap<String, Vec<u8>>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("address").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&requests);
        let files = Arc::new(files);
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let files = Arc::clone(&files);
                let seen = Arc::clone(&seen);
                thread::spawn(move || serve(stream, &files, &seen));
            }
        });
        Self { port, requests }
    }

    /// Serves a release: the archive under `/v<VERSION>/` with its checksums file.
    pub fn release(archive: Vec<u8>, checksums: Vec<u8>) -> Self {
        let mut files = HashMap::new();
        files.insert(format!("/v{VERSION}/{}", archive_name()), archive);
        files.insert(format!("/v{VERSION}/{}", checksums_name()), checksums);
        Self::start(files)
    }

    /// The base URL to pass as `--base-url`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The paths asked for so far.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("lock").clone()
    }
}

fn serve(stream: TcpStream, files: &HashMap<String, Vec<u8>>, seen: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    loop {
        let mut header = String::new();
        match reader.read_line(&mut header) {
            Ok(0) | Err(_) => break,
            Ok(_) if header.trim().is_empty() => break,
            Ok(_) => {}
        }
    }
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_owned();
    seen.lock().expect("lock").push(path.clone());
    let mut stream = stream;
    let (status, body) = match files.get(&path) {
        Some(body) if body.as_slice() == STALL => {
            let head = "HTTP/1.1 200 OK\r\nContent-Length: 10000000\r\nConnection: close\r\n\r\n";
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&[0x1f; 100_000]);
            let _ = stream.flush();
            thread::sleep(Duration::from_secs(120));
            return;
        }
        Some(body) => ("200 OK", body.as_slice()),
        None => ("404 Not Found", b"Not Found".as_slice()),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
    let _ = stream.flush();
    // Drain what the client may still send so the close is clean.
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let mut rest = Vec::new();
    let _ = reader.read_to_end(&mut rest);
}

/// The entries of a directory (names), sorted; empty when it does not exist.
pub fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|read| {
            read.flatten()
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// `instant runws` running in the background, its stderr lines sent to a channel.
pub struct RunWs {
    pub child: Child,
    lines: mpsc::Receiver<String>,
    log: Vec<String>,
}

impl RunWs {
    pub fn start(root: &Path) -> Self {
        let mut child = instant(root)
            .args(["runws", "--dir", "cf"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            lines,
            log: Vec::new(),
        }
    }

    /// Reads lines until one contains `needle`; panics with the log if the stream ends first.
    pub fn wait_for(&mut self, needle: &str) {
        loop {
            match self.lines.recv_timeout(Duration::from_secs(60)) {
                Ok(line) => {
                    let found = line.contains(needle);
                    self.log.push(line);
                    if found {
                        return;
                    }
                }
                Err(_) => panic!("no line with {needle:?}; log:\n{}", self.log.join("\n")),
            }
        }
    }

    pub fn rest_of_log(&mut self) -> String {
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(10)) {
            self.log.push(line);
        }
        self.log.join("\n")
    }

    pub fn signal(&self, signal: nix::sys::signal::Signal) {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.child.id()).unwrap());
        nix::sys::signal::kill(pid, signal).unwrap();
    }

    pub fn terminate(&self) {
        self.signal(nix::sys::signal::Signal::SIGTERM);
    }
}

impl Drop for RunWs {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.terminate();
            let _ = self.child.wait();
        }
    }
}
