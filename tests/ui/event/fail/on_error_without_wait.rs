instant::channels! {
    static CHANNELS;
    public "news" as NEWS,
}

// Failing the request needs waiting for the publish.
#[instant::event(channel = NEWS, message = "hello", on_error = "fail")]
#[actix_web::get("/")]
async fn index() -> &'static str {
    "hello"
}

fn main() {
    let _app = actix_web::App::new().service(index);
}
