//! The default handler in a real browser (headless Chromium driven by playwright-core from
//! `js/node_modules`): only `http:`/`https:` and relative `data.admin_url` values become links.

use std::path::PathBuf;
use std::process::Command;
use std::sync::mpsc;

use actix_web::{App, HttpResponse, HttpServer, web};
use instant_actix::{CentrifugeJs, InstantMiddleware, Realtime, paths};
use instant_core::{Channel, ChannelSet, Config, Level};
use serde_json::Value;

fn js_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../js")
}

#[test]
fn only_http_and_relative_admin_urls_become_links() {
    let centrifuge_js = js_dir().join("node_modules/centrifuge/dist/centrifuge.js");
    assert!(centrifuge_js.is_file(), "run `npm ci` in js/");
    let config = Config::builder()
        .secret("default-handler-test-secret-0123456789")
        .api_key("test-api-key")
        .build()
        .unwrap();
    let realtime = Realtime::builder()
        .config(config)
        .channels(ChannelSet::new([Channel::new("news", Level::Public).unwrap()]).unwrap())
        .centrifuge_js(CentrifugeJs::File(centrifuge_js))
        .build()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        actix_rt::System::new().block_on(async move {
            let server = HttpServer::new(move || {
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
            .bind(("127.0.0.1", 0))
            .unwrap();
            tx.send(server.addrs()[0]).unwrap();
            server.run().await.unwrap();
        });
    });
    let addr = rx.recv().unwrap();
    let base = format!("http://{addr}");
    let output = Command::new("node")
        .arg(js_dir().join("default_handler.mjs"))
        .args([
            base.as_str(),
            &format!("{base}{}", paths::EMBEDDED_API_PATH),
            "test-api-key",
            "news",
        ])
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the browser run failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    let hrefs: Vec<Value> = report["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|note| note["href"].clone())
        .collect();
    assert_eq!(
        hrefs,
        [
            Value::Null,
            Value::Null,
            Value::Null,
            Value::String(format!("{base}/orders/7")),
            Value::String("https://shop.example/orders/8".into()),
        ],
        "{report}"
    );
}
