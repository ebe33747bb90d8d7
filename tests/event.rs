//! `#[instant::event]` handlers publish exactly when they succeed, through the publisher the app
//! registers, without changing their response; recorded by a `RecordingBackend`.

use std::cell::RefCell;
use std::io::Write;
use std::sync::{Arc, Mutex, Once};

use actix_web::{App, HttpResponse, Responder, get, test, web};
use instant::publishing::{Backend, BoxFuture, DeliveryStats, PublishReceipt};
use instant::testing::RecordingBackend;
use instant::{Event, PublishError, Publisher};
use serde_json::json;
use tracing_subscriber::util::SubscriberInitExt as _;

mod support;

use support::{ADMIN1, CHANNELS, PUBLIC1, create_order};

#[instant::event(channel = PUBLIC1, class = "info", message = "Looked up")]
#[get("/orders/{id}")]
async fn find_order(id: web::Path<u64>) -> HttpResponse {
    if *id == 7 {
        HttpResponse::Ok().body("order 7")
    } else {
        HttpResponse::NotFound().body("no such order")
    }
}

#[instant::event(channel = PUBLIC1, class = "object deleted", message = "Order deleted",
                 data = json!({ "id": *id }), wait)]
async fn delete_order(id: web::Path<u64>) -> impl Responder {
    HttpResponse::NoContent().finish()
}

#[instant::event(channel = "mysite_public1", message = "Hello")]
async fn hello() -> &'static str {
    "hello"
}

#[get("/below")]
#[instant::event(channel = PUBLIC1, class = "ok", message = "Below the route macro")]
async fn below_the_route_macro() -> web::Json<u32> {
    web::Json(42)
}

fn recording_app_data() -> (RecordingBackend, Publisher) {
    let backend = RecordingBackend::new();
    let publisher = Publisher::new(Arc::new(backend.clone()), "mysite");
    (backend, publisher)
}

fn only_event(backend: &RecordingBackend) -> Event {
    let events = backend.events();
    assert_eq!(
        events.len(),
        1,
        "expected exactly one event, got {events:#?}"
    );
    events.into_iter().next().unwrap()
}

#[actix_web::test]
async fn a_successful_handler_publishes_its_json_body() {
    let (backend, publisher) = recording_app_data();
    let app = test::init_service(App::new().app_data(publisher).service(create_order)).await;

    let request = test::TestRequest::post()
        .uri("/orders")
        .set_json(json!({ "item": "tea" }))
        .to_request();
    let response = test::call_service(&app, request).await;

    assert_eq!(response.status(), 200);
    let body: serde_json::Value = test::read_body_json(response).await;
    assert_eq!(body, json!({ "id": 7, "item": "tea" }));
    let event = only_event(&backend);
    assert_eq!(event.channel, "$mysite_admin1");
    assert_eq!(event.site, "mysite");
    assert_eq!(event.event_class, "object created");
    assert_eq!(event.message, "New order");
    assert_eq!(event.data, json!({ "id": 7, "item": "tea" }));
}

#[actix_web::test]
async fn an_error_publishes_nothing_and_keeps_the_error_response() {
    let (backend, publisher) = recording_app_data();
    let app = test::init_service(App::new().app_data(publisher).service(create_order)).await;

    let request = test::TestRequest::post()
        .uri("/orders")
        .set_json(json!({ "item": "" }))
        .to_request();
    let response = test::call_service(&app, request).await;

    assert_eq!(response.status(), 400);
    assert_eq!(test::read_body(response).await, "an order needs an item");
    assert!(backend.events().is_empty());
}

#[actix_web::test]
async fn a_non_2xx_response_publishes_nothing() {
    let (backend, publisher) = recording_app_data();
    let app = test::init_service(App::new().app_data(publisher).service(find_order)).await;

    let missing = test::TestRequest::get().uri("/orders/8").to_request();
    let response = test::call_service(&app, missing).await;
    assert_eq!(response.status(), 404);
    assert_eq!(test::read_body(response).await, "no such order");
    assert!(backend.events().is_empty());

    let found = test::TestRequest::get().uri("/orders/7").to_request();
    let response = test::call_service(&app, found).await;
    assert_eq!(test::read_body(response).await, "order 7");
    let event = only_event(&backend);
    assert_eq!(event.channel, "mysite_public1");
    assert_eq!(event.event_class, "info");
    assert_eq!(
        event.data,
        serde_json::Value::Null,
        "a non-JSON body gives null data"
    );
}

#[actix_web::test]
async fn handlers_registered_with_web_resource_publish_their_data_expression() {
    let (backend, publisher) = recording_app_data();
    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(publisher))
            .service(web::resource("/orders/{id}").route(web::delete().to(delete_order)))
            .route("/hello", web::get().to(hello)),
    )
    .await;

    let request = test::TestRequest::delete().uri("/orders/5").to_request();
    let response = test::call_service(&app, request).await;
    assert_eq!(response.status(), 204);
    let event = only_event(&backend);
    assert_eq!(event.event_class, "object deleted");
    assert_eq!(event.message, "Order deleted");
    assert_eq!(event.data, json!({ "id": 5 }));

    let request = test::TestRequest::get().uri("/hello").to_request();
    assert_eq!(test::call_and_read_body(&app, request).await, "hello");
    assert_eq!(backend.events().len(), 2);
    assert_eq!(backend.events()[1].message, "Hello");
}

#[actix_web::test]
async fn the_attribute_also_works_below_the_route_macro() {
    let (backend, publisher) = recording_app_data();
    let app = test::init_service(
        App::new()
            .app_data(publisher)
            .service(below_the_route_macro),
    )
    .await;
    let request = test::TestRequest::get().uri("/below").to_request();
    assert_eq!(test::call_and_read_body(&app, request).await, "42");
    let event = only_event(&backend);
    assert_eq!(event.message, "Below the route macro");
    assert_eq!(event.data, json!(42));
}

/// Captures what `tracing` writes during the test.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

thread_local! {
    /// Where [`ThreadLog`] writes on this thread: the capture of the test running here, if any.
    static CAPTURE: RefCell<Option<Log>> = const { RefCell::new(None) };
}

/// Captures what `tracing` writes on the calling thread (an actix test runs its app on its own
/// thread) from now on. One process-wide subscriber writes every thread's lines to that thread's
/// capture: a subscriber set per test thread would race with the other tests' threads over the
/// callsites' cached interest, and a line could be lost.
fn capture_logs() -> Log {
    static GLOBAL: Once = Once::new();
    GLOBAL.call_once(|| {
        tracing_subscriber::fmt()
            .with_writer(|| ThreadLog)
            .with_ansi(false)
            .finish()
            .init();
    });
    let log = Log::default();
    CAPTURE.with(|capture| *capture.borrow_mut() = Some(log.clone()));
    log
}

/// Writes to the calling thread's capture; drops the line on a thread without one.
struct ThreadLog;

impl Write for ThreadLog {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        CAPTURE.with(|capture| match &mut *capture.borrow_mut() {
            Some(log) => log.write(bytes),
            None => Ok(bytes.len()),
        })
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Write for Log {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[actix_web::test]
async fn an_app_without_instant_answers_normally_and_logs_why_nothing_was_published() {
    let log = capture_logs();

    let app = test::init_service(App::new().service(create_order)).await;
    let request = test::TestRequest::post()
        .uri("/orders")
        .set_json(json!({ "item": "tea" }))
        .to_request();
    let response = test::call_service(&app, request).await;

    assert_eq!(response.status(), 200);
    let log = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("ERROR"), "{log}");
    assert!(
        log.contains("instant is not set up for this app: call .configure(realtime.routes())"),
        "{log}"
    );
    assert!(log.contains("$mysite_admin1"), "{log}");
}

#[actix_web::test]
async fn the_declared_set_holds_the_named_channels() {
    assert_eq!(CHANNELS.get(ADMIN1.name()), Some(ADMIN1));
    assert_eq!(CHANNELS.len(), 2);
}

/// A backend whose server never answers.
struct UnreachableBackend;

impl Backend for UnreachableBackend {
    fn publish(&self, _event: Event) -> BoxFuture<'_, Result<PublishReceipt, PublishError>> {
        Box::pin(std::future::ready(Err(PublishError::Timeout(
            std::time::Duration::from_secs(5),
        ))))
    }

    fn publish_detached(&self, _event: Event) {}

    fn stats(&self) -> DeliveryStats {
        DeliveryStats::default()
    }
}

#[actix_web::test]
async fn a_failed_awaited_publish_is_logged_and_the_success_response_is_kept() {
    let log = capture_logs();

    let publisher = Publisher::new(Arc::new(UnreachableBackend), "mysite");
    let app = test::init_service(
        App::new()
            .app_data(publisher)
            .route("/orders/{id}", web::delete().to(delete_order)),
    )
    .await;
    let request = test::TestRequest::delete().uri("/orders/5").to_request();
    let response = test::call_service(&app, request).await;

    assert_eq!(response.status(), 204);
    let log = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("ERROR"), "{log}");
    assert!(
        log.contains("publishing the event of a successful handler failed"),
        "{log}"
    );
    assert!(log.contains("did not answer within 5s"), "{log}");
}

#[instant::event(channel = PUBLIC1, class = "ok", message = "Checked", wait, on_error = "fail")]
async fn checked_order() -> web::Json<u32> {
    web::Json(9)
}

#[actix_web::test]
async fn on_error_fail_answers_503_when_the_publish_fails_and_counts_it() {
    let down = RecordingBackend::failing(PublishError::NotRunning("down".into()));
    let publisher = down.publisher("mysite");
    let app = test::init_service(
        App::new()
            .app_data(publisher.clone())
            .route("/checked", web::post().to(checked_order)),
    )
    .await;
    let request = test::TestRequest::post().uri("/checked").to_request();
    let response = test::call_service(&app, request).await;
    assert_eq!(response.status(), 503);
    assert_eq!(
        test::read_body(response).await,
        "the request was handled but its real-time event could not be published"
    );
    assert_eq!(publisher.failed_publishes(), 1);
    down.assert_nothing_published();
}

#[actix_web::test]
async fn on_error_fail_keeps_the_response_when_the_publish_succeeds() {
    let recorder = RecordingBackend::new();
    let app = test::init_service(
        App::new()
            .app_data(recorder.publisher("mysite"))
            .route("/checked", web::post().to(checked_order)),
    )
    .await;
    let request = test::TestRequest::post().uri("/checked").to_request();
    let response = test::call_service(&app, request).await;
    assert_eq!(response.status(), 200);
    assert_eq!(test::read_body(response).await, "9");
    recorder.assert_published_with(PUBLIC1, |e| e.message == "Checked" && e.data == json!(9));
}

#[actix_web::test]
async fn on_error_fail_answers_503_when_no_publisher_is_set_up() {
    let app = test::init_service(App::new().route("/checked", web::post().to(checked_order))).await;
    let request = test::TestRequest::post().uri("/checked").to_request();
    assert_eq!(test::call_service(&app, request).await.status(), 503);
}

#[actix_web::test]
async fn a_failed_wait_publish_is_counted_by_default_and_the_response_kept() {
    let down = RecordingBackend::failing(PublishError::NotRunning("down".into()));
    let publisher = down.publisher("mysite");
    let app = test::init_service(
        App::new()
            .app_data(publisher.clone())
            .route("/orders/{id}", web::delete().to(delete_order)),
    )
    .await;
    let request = test::TestRequest::delete().uri("/orders/5").to_request();
    assert_eq!(test::call_service(&app, request).await.status(), 204);
    assert_eq!(publisher.failed_publishes(), 1);
}

/// A typed event: its channel, class and message come from its type.
#[derive(serde::Serialize, instant::publishing::TypedEvent)]
#[instant(channel = ADMIN1, class = "object edited", message = "Order shipped")]
struct OrderShipped {
    id: u64,
}

#[instant::event(send = OrderShipped { id: *id }, wait)]
#[actix_web::post("/orders/{id}/ship")]
async fn ship_order(id: web::Path<u64>) -> HttpResponse {
    if *id == 0 {
        return HttpResponse::NotFound().finish();
    }
    HttpResponse::NoContent().finish()
}

#[actix_web::test]
async fn a_typed_event_given_in_send_is_published_with_its_channel_class_and_message() {
    let (backend, publisher) = recording_app_data();
    let app = test::init_service(App::new().app_data(publisher).service(ship_order)).await;

    let request = test::TestRequest::post().uri("/orders/0/ship").to_request();
    assert_eq!(test::call_service(&app, request).await.status(), 404);
    assert!(
        backend.events().is_empty(),
        "a failed handler publishes nothing"
    );

    let request = test::TestRequest::post().uri("/orders/9/ship").to_request();
    assert_eq!(test::call_service(&app, request).await.status(), 204);
    let event = only_event(&backend);
    assert_eq!(event.channel, "$mysite_admin1");
    assert_eq!(event.event_class, "object edited");
    assert_eq!(event.message, "Order shipped");
    assert_eq!(event.data, json!({ "id": 9 }));
}

/// A JSON body whose keys are not in alphabetical order and whose strings need escapes.
#[derive(serde::Serialize)]
struct Shipment {
    status: &'static str,
    id: u64,
    note: &'static str,
    tags: Vec<&'static str>,
    missing: Option<u8>,
}

fn shipment() -> web::Json<Shipment> {
    web::Json(Shipment {
        status: "shipped",
        id: 12,
        note: "a \"quoted\" line\nand «more» \\ </script>",
        tags: vec!["fast", ""],
        missing: None,
    })
}

#[instant::event(channel = PUBLIC1, class = "object edited", message = "Shipped")]
async fn ship() -> web::Json<Shipment> {
    shipment()
}

#[instant::event(channel = PUBLIC1, class = "object edited", message = "Shipped", wait)]
async fn ship_and_wait() -> web::Json<Shipment> {
    shipment()
}

#[instant::event(channel = PUBLIC1, class = "object edited", message = "Shipped", wait, on_error = "fail")]
async fn ship_or_fail() -> actix_web::Result<web::Json<Shipment>> {
    Ok(shipment())
}

#[actix_web::test]
async fn the_embedded_server_keeps_a_json_handlers_body_as_the_events_data() {
    let config = instant::config::Config::builder()
        .secret(instant::config::Secret::new(
            "a secret of the event tests, long enough".into(),
        ))
        .api_key(instant::config::Secret::new("event-tests-api-key".into()))
        .site_slug("mysite")
        .build()
        .unwrap();
    let realtime = instant::Realtime::builder()
        .config(config)
        .channels(CHANNELS.clone())
        .build()
        .expect("instant set up with the embedded server");
    let app = test::init_service(
        App::new()
            .configure(realtime.routes())
            .route("/ship", web::post().to(ship))
            .route("/ship-and-wait", web::post().to(ship_and_wait))
            .route("/ship-or-fail", web::post().to(ship_or_fail)),
    )
    .await;
    let expected_body = serde_json::to_string(&shipment().0).unwrap();
    for path in ["/ship", "/ship-and-wait", "/ship-or-fail"] {
        let request = test::TestRequest::post().uri(path).to_request();
        let response = test::call_service(&app, request).await;
        assert_eq!(response.status(), 200, "{path}");
        // The response is untouched by the event that took its body as data.
        assert_eq!(
            response.headers().get("content-type").unwrap(),
            "application/json",
            "{path}"
        );
        assert_eq!(test::read_body(response).await, expected_body, "{path}");
    }

    // What a browser recovering the channel gets: the stored publications.
    let request = test::TestRequest::post()
        .uri("/instant/api/history")
        .insert_header(("X-API-Key", "event-tests-api-key"))
        .set_json(json!({"channel": PUBLIC1.name(), "limit": -1}))
        .to_request();
    let history: serde_json::Value = test::call_and_read_body_json(&app, request).await;
    let publications = history["result"]["publications"].as_array().unwrap();
    assert_eq!(publications.len(), 3, "{history}");
    let data = serde_json::to_value(&shipment().0).unwrap();
    let mut uids = Vec::new();
    for (n, publication) in publications.iter().enumerate() {
        assert_eq!(publication["offset"], n + 1);
        let event: Event = serde_json::from_value(publication["data"].clone()).unwrap();
        assert_eq!(event.channel, PUBLIC1.name());
        assert_eq!(event.site, "mysite");
        assert_eq!(event.message, "Shipped");
        assert_eq!(event.event_class, "object edited");
        assert_eq!(event.data, data);
        assert_eq!(event.sender, None);
        assert!(event.timestamp > 1_700_000_000_000);
        // Exactly the fields an event with this data has, no more.
        assert_eq!(publication["data"], serde_json::to_value(&event).unwrap());
        uids.push(event.uid);
    }
    uids.sort();
    uids.dedup();
    assert_eq!(uids.len(), 3, "each event has its own id");
}
