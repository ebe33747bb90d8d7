//! Compile-time behaviour of `channels!`, `#[instant::event]`, `#[derive(TypedEvent)]` and the set-up's builder, through the facade as users
//! see it. Every diagnostic has a case in `ui/*/fail` with its expected `.stderr`; regenerate
//! them with `TRYBUILD=overwrite cargo test -p instant-events --test ui` and read every change.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/channels/pass/*.rs");
    cases.compile_fail("tests/ui/channels/fail/*.rs");
    cases.pass("tests/ui/event/pass/*.rs");
    cases.compile_fail("tests/ui/event/fail/*.rs");
    cases.compile_fail("tests/ui/realtime/fail/*.rs");
    cases.pass("tests/ui/typed/pass/*.rs");
    cases.compile_fail("tests/ui/typed/fail/*.rs");
}
