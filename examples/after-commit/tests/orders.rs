//! Events go out only for orders whose transaction committed, with a real SQLite database and a
//! recording backend in place of the real-time server.

use actix_web::test::{self, TestRequest};
use after_commit::{NewOrder, ORDERS, Order, OrderError, database, orders, place_order};
use instant::config::Config;
use instant::testing::RecordingBackend;
use serde_json::json;

fn tea(quantity: i64) -> NewOrder {
    NewOrder {
        item: "tea".to_owned(),
        quantity,
    }
}

#[actix_web::test]
async fn a_committed_order_is_published_and_a_rolled_back_one_is_not() {
    let pool = database().await.unwrap();
    let recorder = RecordingBackend::new();
    let publisher = recorder.publisher("shop");

    let placed = place_order(&pool, &publisher, tea(4)).await.unwrap();
    let event = recorder.assert_published_with(ORDERS, |e| e.event_class == "object created");
    assert_eq!(
        event.data,
        json!({"id": placed.id, "item": "tea", "quantity": 4})
    );

    // 7 more would take the stock below zero: the transaction rolls back.
    let refused = place_order(&pool, &publisher, tea(7)).await;
    assert!(
        matches!(refused, Err(OrderError::OutOfStock)),
        "{refused:?}"
    );
    recorder.assert_published_times(ORDERS, 1);
    assert_eq!(
        orders(&pool).await.unwrap(),
        [placed],
        "the refused order was rolled back"
    );
}

#[actix_web::test]
async fn an_order_saved_while_the_server_is_down_stays_saved() {
    let pool = database().await.unwrap();
    let down = RecordingBackend::failing(instant::PublishError::NotRunning("down".into()));
    let placed = place_order(&pool, &down.publisher("shop"), tea(1)).await;
    assert!(placed.is_ok());
    down.assert_nothing_published();
    assert_eq!(orders(&pool).await.unwrap().len(), 1);
}

#[actix_web::test]
async fn the_http_route_publishes_only_what_committed() {
    let recorder = RecordingBackend::new();
    let realtime = instant::Realtime::builder()
        .config(Config::builder().build().unwrap())
        .channels(after_commit::CHANNELS.clone())
        .backend(recorder.clone())
        .build()
        .unwrap();
    let app = test::init_service(after_commit::app(&realtime, database().await.unwrap())).await;
    let post = |quantity: i64| {
        TestRequest::post()
            .uri("/orders")
            .set_json(json!({"item": "tea", "quantity": quantity}))
            .to_request()
    };

    let response = test::call_service(&app, post(11)).await;
    assert_eq!(response.status(), 409);
    recorder.assert_nothing_published();

    let response = test::call_service(&app, post(10)).await;
    assert_eq!(response.status(), 201);
    let order: Order = test::read_body_json(response).await;
    let published: Order = recorder.assert_published_data(ORDERS, |o: &Order| o.quantity == 10);
    assert_eq!(published, order);

    let listed: Vec<Order> =
        test::call_and_read_body_json(&app, TestRequest::get().uri("/orders").to_request()).await;
    assert_eq!(listed, [order]);
}
