//! Presence and "to others" in a real browser (headless Chromium driven by playwright-core from
//! `js/node_modules`), on the embedded server and on a real Centrifugo v6: the `here`, `joining`
//! and `leaving` handlers run once per user, not per tab, and an event published `.to_others(..)`
//! while handling a tab's `fetch` runs the handler of every tab but that one.

use std::path::PathBuf;
use std::process::Command;
use std::sync::mpsc;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use instant_actix::{
    CentrifugeJs, ChannelOptions, EmbeddedOptions, InstantMiddleware, Realtime, Sender, User,
    handler_template_name,
};
use instant_core::{Channel, ChannelSet, Config, Level, Publisher};
use serde_json::{Value, json};

fn js_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../js")
}

/// Publishes on `$room` to every tab but the sender's.
async fn act(req: HttpRequest, sender: Sender) -> HttpResponse {
    let Some(publisher) = req.app_data::<Publisher>() else {
        return HttpResponse::InternalServerError().finish();
    };
    match publisher.publish("$room", "acted").to_others(&sender).await {
        Ok(_) => HttpResponse::Ok()
            .json(json!({ "sender": sender.client_id().map(|id| id.as_str().to_owned()) })),
        Err(error) => HttpResponse::InternalServerError().body(error.to_string()),
    }
}

fn serve(realtime: Realtime) -> String {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        actix_rt::System::new().block_on(async move {
            let server = HttpServer::new(move || {
                App::new()
                    .wrap(InstantMiddleware)
                    .configure(realtime.routes())
                    .route("/act", web::post().to(act))
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
    format!("http://{}", rx.recv().unwrap())
}

fn entries<'a>(log: &'a Value, kind: &str) -> Vec<&'a Value> {
    log.as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry[0] == kind)
        .collect()
}

#[test]
fn presence_handlers_run_once_per_user_and_to_others_skips_the_senders_tab() {
    let config = Config::builder()
        .secret("presence-browser-test-secret-0123456789")
        .build()
        .unwrap();
    run_scenario(config);
}

#[test]
fn the_same_page_works_on_a_real_centrifugo() {
    let centrifugo =
        instant_testkit::Centrifugo::start(instant_testkit::CentrifugoOptions::default());
    run_scenario(centrifugo.config_builder().build().unwrap());
}

fn run_scenario(config: Config) {
    let centrifuge_js = js_dir().join("node_modules/centrifuge/dist/centrifuge.js");
    assert!(centrifuge_js.is_file(), "run `npm ci` in js/");
    let mut room = ChannelOptions::default();
    room.presence = true;
    room.join_leave = true;
    let record = |kind: &str, value: &str| {
        format!("(window.__log = window.__log || []).push([\"{kind}\", channel, {value}]);")
    };
    let realtime = Realtime::builder()
        .config(config)
        .channels(ChannelSet::new([Channel::new("$room", Level::Users).unwrap()]).unwrap())
        .users(|req: &HttpRequest| req.cookie("user").map(|c| User::member(c.value())))
        .embedded_options(EmbeddedOptions::default().channel("$room", room))
        .centrifuge_js(CentrifugeJs::File(centrifuge_js))
        .template(
            "instant/presence/here.js",
            record(
                "here",
                "users.map(function (u) { return u.id + \":\" + u.tabs; })",
            ),
        )
        .template("instant/presence/joining.js", record("joining", "user.id"))
        .template("instant/presence/leaving.js", record("leaving", "user.id"))
        .template(
            handler_template_name("$room"),
            "(window.__log = window.__log || []).push([\"event\", message]);",
        )
        .build()
        .unwrap();
    let base = serve(realtime);

    let output = Command::new("node")
        .arg(js_dir().join("presence_browser.mjs"))
        .arg(&base)
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the browser run failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();

    // Alice's first tab: alone, then Bob joins; her second tab changes nothing for her.
    let a1 = &report["a1"];
    assert_eq!(
        entries(a1, "here")[0],
        &json!(["here", "$room", ["alice:1"]])
    );
    assert_eq!(
        entries(a1, "joining"),
        [&json!(["joining", "$room", "bob"])],
        "{report}"
    );
    assert!(entries(a1, "leaving").is_empty(), "{report}");
    // Bob's tab: both are here; Alice's second tab is neither a join nor, once closed, a leave.
    let b1 = &report["b1"];
    assert_eq!(
        entries(b1, "here")[0],
        &json!(["here", "$room", ["alice:1", "bob:1"]])
    );
    assert!(
        entries(&report["b1BeforeClose"], "joining").is_empty(),
        "{report}"
    );
    assert!(
        entries(&report["b1AfterSecondTabClosed"], "leaving").is_empty(),
        "{report}"
    );
    assert_eq!(
        report["hereInA2"],
        json!([{ "id": "alice", "info": null, "tabs": 2 }, { "id": "bob", "info": null, "tabs": 1 }])
    );
    // Alice's last tab closes: one `leaving`.
    assert_eq!(
        entries(b1, "leaving"),
        [&json!(["leaving", "$room", "alice"])],
        "{report}"
    );

    // To others: the request carried Alice's client id, her tab skipped the event, Bob's and her
    // other tab ran it.
    let reply = &report["reply"];
    assert_eq!(reply["status"], 200);
    assert_eq!(reply["body"]["sender"], reply["clientId"], "{report}");
    assert!(reply["clientId"].is_string());
    let xhr = &report["xhrReply"];
    assert_eq!(xhr["status"], 200);
    assert_eq!(
        xhr["body"]["sender"], reply["clientId"],
        "XMLHttpRequest: {report}"
    );
    let acted = json!(["event", "acted"]);
    assert_eq!(entries(b1, "event"), [&acted, &acted]);
    assert_eq!(entries(&report["a2"], "event"), [&acted, &acted]);
    assert!(entries(a1, "event").is_empty(), "{report}");
}
