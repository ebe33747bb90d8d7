//! Publishing after the database commit: an order is saved in SQLite (through sqlx) and announced
//! on `$orders`, but only once its transaction committed. When the transaction rolls back (here,
//! when the stock would go negative), the scope holding the event is dropped and nothing is
//! published.
//!
//! ```text
//! let mut tx = pool.begin().await?;
//! let mut deferred = publisher.deferred();      // events kept until commit
//! … INSERT …; deferred.publish(ORDERS, "New order").data(…);
//! … UPDATE stock …?                              // an error returns early: both are dropped
//! tx.commit().await?;
//! deferred.commit().await                        // now the events go out
//! ```

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{App, HttpResponse, web};
use instant::{InstantMiddleware, Publisher, Realtime};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::SqlitePool;
use sqlx::sqlite::SqlitePoolOptions;

instant::channels! {
    /// The example's channels.
    pub static CHANNELS;
    /// New orders, for the staff.
    staff "$orders" as ORDERS,
}

/// An order to place.
#[derive(Debug, Clone, Deserialize)]
pub struct NewOrder {
    /// What is ordered.
    pub item: String,
    /// How many.
    pub quantity: i64,
}

/// A placed order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// Its id in the database.
    pub id: i64,
    /// What is ordered.
    pub item: String,
    /// How many.
    pub quantity: i64,
}

/// Why an order was not placed.
#[derive(Debug)]
pub enum OrderError {
    /// Not enough stock: the transaction rolled back.
    OutOfStock,
    /// The database failed.
    Database(sqlx::Error),
}

impl From<sqlx::Error> for OrderError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            // The `CHECK (count >= 0)` of the stock table.
            sqlx::Error::Database(db) if db.message().contains("CHECK constraint failed") => {
                Self::OutOfStock
            }
            _ => Self::Database(error),
        }
    }
}

/// An in-memory database with the example's tables, and 10 of `tea` in stock.
///
/// # Errors
/// The database's.
pub async fn database() -> Result<SqlitePool, sqlx::Error> {
    // One connection: each connection to `sqlite::memory:` is a database of its own.
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await?;
    sqlx::query(
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT NOT NULL, quantity INTEGER NOT NULL);
         CREATE TABLE stock (item TEXT PRIMARY KEY, count INTEGER NOT NULL CHECK (count >= 0));
         INSERT INTO stock (item, count) VALUES ('tea', 10);",
    )
    .execute(&pool)
    .await?;
    Ok(pool)
}

/// Saves an order and takes it from the stock in one transaction, and announces it on
/// [`ORDERS`] once the transaction committed. On any error the transaction rolls back and
/// nothing is published.
///
/// # Errors
/// [`OrderError::OutOfStock`] when the stock is short, [`OrderError::Database`] otherwise.
pub async fn place_order(
    pool: &SqlitePool,
    publisher: &Publisher,
    order: NewOrder,
) -> Result<Order, OrderError> {
    let mut tx = pool.begin().await?;
    let mut deferred = publisher.deferred();

    let id = sqlx::query("INSERT INTO orders (item, quantity) VALUES (?, ?)")
        .bind(&order.item)
        .bind(order.quantity)
        .execute(&mut *tx)
        .await?
        .last_insert_rowid();
    let placed = Order {
        id,
        item: order.item,
        quantity: order.quantity,
    };
    deferred
        .publish(ORDERS, "New order")
        .event_class("object created")
        .data(json!(placed));

    // Fails on the stock's CHECK when there is not enough: `?` returns, `tx` and `deferred` are
    // dropped, the INSERT is rolled back and the event discarded.
    sqlx::query("UPDATE stock SET count = count - ? WHERE item = ?")
        .bind(placed.quantity)
        .bind(&placed.item)
        .execute(&mut *tx)
        .await?;

    tx.commit().await?;
    // The order is saved: a failed publish is logged (and counted), not an error of the order.
    if let Err(error) = deferred.commit().await {
        tracing::warn!(%error, order = placed.id, "the order is saved but its event was not published");
    }
    Ok(placed)
}

/// The orders saved, by id.
///
/// # Errors
/// The database's.
pub async fn orders(pool: &SqlitePool) -> Result<Vec<Order>, sqlx::Error> {
    let rows: Vec<(i64, String, i64)> =
        sqlx::query_as("SELECT id, item, quantity FROM orders ORDER BY id")
            .fetch_all(pool)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(id, item, quantity)| Order { id, item, quantity })
        .collect())
}

async fn create_order(
    pool: web::Data<SqlitePool>,
    publisher: web::Data<Publisher>,
    order: web::Json<NewOrder>,
) -> HttpResponse {
    match place_order(&pool, &publisher, order.into_inner()).await {
        Ok(order) => HttpResponse::Created().json(order),
        Err(OrderError::OutOfStock) => HttpResponse::Conflict().body("not enough in stock"),
        Err(OrderError::Database(error)) => {
            tracing::error!(%error, "placing an order failed");
            HttpResponse::InternalServerError().finish()
        }
    }
}

async fn list_orders(pool: web::Data<SqlitePool>) -> actix_web::Result<HttpResponse> {
    let orders = orders(&pool)
        .await
        .map_err(actix_web::error::ErrorInternalServerError)?;
    Ok(HttpResponse::Ok().json(orders))
}

/// The example's `App`: `POST /orders` places an order, `GET /orders` lists them.
pub fn app(
    realtime: &Realtime,
    pool: SqlitePool,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody + use<>>,
        Error = actix_web::Error,
        InitError = (),
    > + use<>,
> {
    // Boxed, so that the returned type does not borrow `realtime`.
    let routes: Box<dyn FnOnce(&mut web::ServiceConfig)> = Box::new(realtime.routes());
    App::new()
        .wrap(InstantMiddleware)
        .configure(routes)
        .app_data(web::Data::new(pool))
        .app_data(web::Data::new(realtime.publisher()))
        .route("/orders", web::post().to(create_order))
        .route("/orders", web::get().to(list_orders))
}
