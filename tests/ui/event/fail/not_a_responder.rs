instant::channels! { pub static CHANNELS; public "news" as NEWS }

#[instant::event(channel = NEWS)]
async fn index() -> u32 {
    42
}

fn main() {
    let _app = actix_web::App::new().route("/", actix_web::web::get().to(index));
}
