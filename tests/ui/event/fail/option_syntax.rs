instant::channels! { pub static CHANNELS; public "news" as NEWS }

#[instant::event(channel NEWS)]
#[actix_web::get("/")]
async fn index() -> &'static str {
    "hello"
}

fn main() {
    let _app = actix_web::App::new().service(index);
}
