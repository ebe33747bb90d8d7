//! The order handler the `#[instant::event]` test binaries share: it publishes a new order on
//! `$mysite_admin1`, and refuses an order without an item with a 400.

// Each test binary uses part of this module.
#![allow(dead_code)]

use actix_web::{post, web};
use serde::{Deserialize, Serialize};

instant::channels! {
    pub(crate) static CHANNELS;
    superuser "$mysite_admin1" as ADMIN1,
    public "mysite_public1" as PUBLIC1,
}

#[derive(Deserialize)]
pub(crate) struct NewOrder {
    pub(crate) item: String,
}

#[derive(Serialize)]
pub(crate) struct Order {
    pub(crate) id: u64,
    pub(crate) item: String,
}

#[instant::event(channel = ADMIN1, class = "object created", message = "New order")]
#[post("/orders")]
pub(crate) async fn create_order(form: web::Json<NewOrder>) -> actix_web::Result<web::Json<Order>> {
    let item = form.into_inner().item;
    if item.is_empty() {
        return Err(actix_web::error::ErrorBadRequest("an order needs an item"));
    }
    Ok(web::Json(Order { id: 7, item }))
}
