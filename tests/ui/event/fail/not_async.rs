instant::channels! { pub static CHANNELS; public "news" as NEWS }

#[instant::event(channel = NEWS, message = "hello")]
#[actix_web::get("/")]
fn index() -> &'static str {
    "hello"
}

fn main() {
    let _app = actix_web::App::new().service(index);
}
