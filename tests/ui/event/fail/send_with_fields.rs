use instant::publishing::TypedEvent;
use serde::Serialize;

instant::channels! { pub static CHANNELS; public "news" as NEWS }

#[derive(Serialize, TypedEvent)]
#[instant(channel = NEWS, class = "info", message = "Posted")]
struct Posted {
    id: u64,
}

#[instant::event(send = Posted { id: 1 }, channel = NEWS, message = "twice")]
#[actix_web::post("/posts")]
async fn post() -> &'static str {
    "posted"
}

fn main() {
    let _app = actix_web::App::new().service(post);
}
