instant::channels! {
    static CHANNELS;
    public "news" as NEWS,
}

// A misspelt policy, an unknown one, one that is not a literal, and one given twice.
#[instant::event(channel = NEWS, wait, on_error = "fial")]
#[actix_web::get("/a")]
async fn a() -> &'static str {
    "a"
}

#[instant::event(channel = NEWS, wait, on_error = "retry")]
#[actix_web::get("/b")]
async fn b() -> &'static str {
    "b"
}

const FAIL: &str = "fail";

#[instant::event(channel = NEWS, wait, on_error = FAIL)]
#[actix_web::get("/c")]
async fn c() -> &'static str {
    "c"
}

#[instant::event(channel = NEWS, wait, on_error = "log", on_error = "fail")]
#[actix_web::get("/d")]
async fn d() -> &'static str {
    "d"
}

fn main() {
    let _app = actix_web::App::new().service(a).service(b).service(c).service(d);
}
