// Handlers of every shape: stacked on route macros, registered by hand, returning JSON,
// `Result`, `impl Responder` or a response, with `?`, `return`, patterns and `data = …`.
#![deny(warnings)]

use actix_web::{HttpResponse, Responder, get, post, web};
use serde::{Deserialize, Serialize};

instant::channels! {
    pub static CHANNELS;
    superuser "$mysite_admin1" as ADMIN1,
    public "mysite_public1" as PUBLIC1,
}

#[derive(Deserialize)]
struct NewOrder {
    item: String,
}

#[derive(Serialize)]
struct Order {
    id: u64,
    item: String,
}

#[derive(Debug)]
struct DbError;

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("database error")
    }
}

impl actix_web::ResponseError for DbError {}

fn save(item: String) -> Result<Order, DbError> {
    Ok(Order { id: 1, item })
}

/// Creates an order.
#[instant::event(channel = ADMIN1, class = "object created", message = "New order")]
#[post("/orders")]
async fn create_order(form: web::Json<NewOrder>) -> actix_web::Result<web::Json<Order>> {
    let order = save(form.into_inner().item)?;
    if order.item.is_empty() {
        return Err(actix_web::error::ErrorBadRequest("empty item"));
    }
    Ok(web::Json(order))
}

#[instant::event(channel = PUBLIC1, message = "ping", wait)]
#[get("/ping")]
async fn ping() -> impl Responder {
    "pong"
}

#[instant::event(channel = "mysite_public1", class = "info", data = serde_json::json!({ "id": *id }))]
async fn by_hand(id: web::Path<u64>, _request: actix_web::HttpRequest) -> HttpResponse {
    HttpResponse::NoContent().finish()
}

#[instant::event(channel = String::from("mysite_public1"), data = (a, b),)]
async fn patterns(web::Json((a, b)): web::Json<(u32, u32)>) -> String {
    format!("{a}+{b}")
}

// The failure policies: log and count (the default, written out), or answer 503.
#[instant::event(channel = PUBLIC1, message = "logged", wait, on_error = "log")]
#[get("/logged")]
async fn logged() -> &'static str {
    "logged"
}

#[instant::event(channel = PUBLIC1, message = "checked", on_error = "fail", wait)]
#[post("/checked")]
async fn checked() -> actix_web::Result<web::Json<u32>> {
    Ok(web::Json(2))
}

// Below the route macro works too: actix-web keeps the attribute on the function it wraps.
#[get("/below")]
#[instant::event(channel = PUBLIC1, message = "below")]
async fn below() -> web::Json<u32> {
    web::Json(1)
}

fn main() {
    let _app = actix_web::App::new()
        .service(create_order)
        .service(ping)
        .service(below)
        .service(logged)
        .service(checked)
        .service(web::resource("/by-hand/{id}").route(web::post().to(by_hand)))
        .route("/sum", web::post().to(patterns));
}
