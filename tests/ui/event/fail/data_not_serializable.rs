instant::channels! { pub static CHANNELS; public "news" as NEWS }

struct Secret;

#[instant::event(channel = NEWS, data = Secret)]
#[actix_web::get("/")]
async fn index() -> &'static str {
    "hello"
}

fn main() {
    let _app = actix_web::App::new().service(index);
}
