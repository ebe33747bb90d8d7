instant::channels! { pub static CHANNELS; public "news" as NEWS }

const CLASS: &str = "info";

#[instant::event(channel = NEWS, class = CLASS, message = format!("hello"))]
#[actix_web::get("/")]
async fn index() -> &'static str {
    "hello"
}

fn main() {
    let _app = actix_web::App::new().service(index);
}
