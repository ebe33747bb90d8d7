// The builder is not the app: routes, the publisher and the middleware's set-up only exist once
// `build()` has checked everything and returned `Ok`.
fn main() {
    let builder = instant::Realtime::builder();
    let _routes = builder.routes();
}
