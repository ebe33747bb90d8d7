//! The chat in a real browser (headless Chromium driven by playwright-core from `js/node_modules`),
//! on the embedded server: two users see each other in "Here", and a message from one shows once
//! in each tab, the sender's by its local echo, the other's by the event. Screenshots are kept in
//! `test-artifacts/chat/`.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The chat server, killed when dropped.
struct Chat {
    child: Child,
    url: String,
}

impl Chat {
    fn start() -> Self {
        let centrifuge_js = workspace().join("js/node_modules/centrifuge/dist/centrifuge.js");
        assert!(centrifuge_js.is_file(), "run `npm ci` in js/");
        let mut child = Command::new(env!("CARGO_BIN_EXE_chat"))
            .env("INSTANT_ADDR", "127.0.0.1:0")
            .env("INSTANT_CENTRIFUGE_JS", &centrifuge_js)
            .env_remove("INSTANT_CENTRIFUGO_URL")
            .env_remove("INSTANT_CONFIG")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the chat starts");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout
            .read_line(&mut line)
            .expect("the chat prints its address");
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                println!("chat: {line}");
            }
        });
        let url = line
            .split_whitespace()
            .find(|word| word.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in the chat's first line: {line:?}"))
            .to_owned();
        Self { child, url }
    }
}

impl Drop for Chat {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn two_users_see_each_other_and_each_message_once() {
    let chat = Chat::start();
    let artifacts = workspace().join("test-artifacts").join("chat");
    std::fs::create_dir_all(&artifacts).unwrap();
    let output = Command::new("node")
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/browser.mjs"))
        .arg(&chat.url)
        .arg(&artifacts)
        .env("INSTANT_JS_DIR", workspace().join("js"))
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "the browser run failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let steps: Vec<Value> = stdout
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    let step = |name: &str| {
        steps
            .iter()
            .find(|s| s["step"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no step {name}:\n{stdout}"))
    };
    assert!(!steps.iter().any(|s| s["step"] == "pageerror"), "{stdout}");

    let here = step("here");
    assert_eq!(here["alice"], json!(["alice", "bob"]));
    assert_eq!(here["bob"], json!(["alice", "bob"]));
    let messages = step("messages");
    assert_eq!(
        messages["alice"],
        json!(["alice: Hello Bob"]),
        "local echo only"
    );
    assert_eq!(
        messages["bob"],
        json!(["alice: Hello Bob"]),
        "through the event"
    );
    assert_eq!(step("left")["bob"], json!(["bob"]));
}
