#[instant::event(send = 42u32)]
#[actix_web::post("/posts")]
async fn post() -> &'static str {
    "posted"
}

fn main() {
    let _app = actix_web::App::new().service(post);
}
