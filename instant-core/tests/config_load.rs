//! `Config::load` reads the process environment and working directory, so each case runs in a
//! child process of this test binary with its own environment and directory.

use std::path::{Path, PathBuf};
use std::process::Command;

use instant_core::{Config, ConfigError};

/// Set in the child process: which case to check.
const CASE: &str = "INSTANT_TEST_LOAD_CASE";

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("instant-load-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `test` of this binary in `dir` with `vars` (and no other `INSTANT_*` variable).
fn run_child(test: &str, case: &str, dir: &Path, vars: &[(&str, &str)]) {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .current_dir(dir)
        .env(CASE, case);
    for (name, _) in std::env::vars() {
        if name.starts_with("INSTANT_") && name != CASE {
            command.env_remove(name);
        }
    }
    command.envs(vars.iter().copied());
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "case {case} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn load_reads_instant_toml_then_lets_the_environment_override_it() {
    match std::env::var(CASE).as_deref() {
        Ok("file-and-env") => {
            let config = Config::load().unwrap();
            assert_eq!(config.site_slug(), "from-env");
            assert_eq!(config.site_name(), "From the file");
            assert!(config.debug());
        }
        Ok("named-file") => {
            let config = Config::load().unwrap();
            assert_eq!(config.site_slug(), "named");
        }
        Ok("nothing") => {
            let config = Config::load().unwrap();
            assert!(config.is_embedded());
            assert_eq!(config.site_slug(), "site");
        }
        Ok("bad-env") => {
            let err = Config::load().unwrap_err();
            assert_eq!(err.key(), Some("INSTANT_DEBUG"), "{err}");
        }
        Ok("bad-file") => {
            let err = Config::load().unwrap_err();
            assert!(
                matches!(err, ConfigError::UnknownKey { ref key, .. } if key == "site_slugg"),
                "{err}"
            );
        }
        Ok(other) => panic!("unknown case {other}"),
        Err(_) => {
            let test = "load_reads_instant_toml_then_lets_the_environment_override_it";
            let dir = temp_dir("cwd");
            std::fs::write(
                dir.join("instant.toml"),
                "site_slug = \"from-file\"\nsite_name = \"From the file\"\ndebug = true\n",
            )
            .unwrap();
            run_child(
                test,
                "file-and-env",
                &dir,
                &[("INSTANT_SITE_SLUG", "from-env")],
            );
            run_child(test, "bad-env", &dir, &[("INSTANT_DEBUG", "perhaps")]);

            let elsewhere = temp_dir("named");
            let named = elsewhere.join("production.toml");
            std::fs::write(&named, "site_slug = \"named\"\n").unwrap();
            run_child(
                test,
                "named-file",
                &dir,
                &[("INSTANT_CONFIG", named.to_str().unwrap())],
            );

            let empty = temp_dir("empty");
            run_child(test, "nothing", &empty, &[]);
            std::fs::write(empty.join("instant.toml"), "site_slugg = \"typo\"\n").unwrap();
            run_child(test, "bad-file", &empty, &[]);

            for d in [dir, elsewhere, empty] {
                let _ = std::fs::remove_dir_all(d);
            }
        }
    }
}
