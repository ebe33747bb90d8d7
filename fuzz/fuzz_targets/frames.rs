//! See `instant_fuzz_checks::frames::check` for the property checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = instant_fuzz_checks::frames::check(data);
});
