//! See `instant_fuzz_checks::tokens::check` for the property checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    instant_fuzz_checks::tokens::check(data);
});
