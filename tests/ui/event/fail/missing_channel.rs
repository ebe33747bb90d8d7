#[instant::event(class = "info", message = "hello")]
#[actix_web::get("/")]
async fn index() -> &'static str {
    "hello"
}

fn main() {
    let _app = actix_web::App::new().service(index);
}
