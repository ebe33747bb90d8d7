//! The fuzz targets' committed corpus (`fuzz/corpus/<target>/`), replayed through the same checks
//! on stable Rust: what the fuzzer found interesting stays tested in every run.

use std::path::PathBuf;

fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("a corpus entry").path())
        .collect();
    files.sort();
    let inputs: Vec<_> = files
        .into_iter()
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).expect("a corpus file"))
        })
        .collect();
    assert!(!inputs.is_empty(), "{} is empty", dir.display());
    inputs
}

#[test]
fn token_verifier_corpus() {
    for (name, data) in corpus("tokens") {
        eprintln!("tokens/{name}");
        instant_fuzz_checks::tokens::check(&data);
    }
}

#[test]
fn html_injector_corpus() {
    for (name, data) in corpus("inject") {
        eprintln!("inject/{name}");
        instant_fuzz_checks::inject::check(&data);
    }
}

#[test]
fn embedded_server_frames_corpus() {
    let mut closed = 0;
    for (name, data) in corpus("frames") {
        eprintln!("frames/{name}");
        if instant_fuzz_checks::frames::check(&data) != instant_fuzz_checks::frames::Outcome::Served
        {
            closed += 1;
        }
    }
    // The seeds hold both kinds: frames the server serves and frames it closes the connection on.
    assert!(closed > 0);
}

#[test]
fn the_injection_check_finds_an_altered_page() {
    let snippet = b"<script></script>";
    let page = b"<head></head>";
    assert!(instant_fuzz_checks::inject::inserted_once(
        page,
        b"<head><script></script></head>",
        snippet
    ));
    assert!(!instant_fuzz_checks::inject::inserted_once(
        page,
        b"<head><script></script></head",
        snippet
    ));
    assert!(!instant_fuzz_checks::inject::inserted_once(
        page,
        b"<head><script></script><script></script></head>",
        snippet
    ));
    assert!(!instant_fuzz_checks::inject::inserted_once(
        page,
        b"<heaX><script></script></head>",
        snippet
    ));
}
