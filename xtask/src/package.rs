//! `cargo xtask package`: the published crates package, and the README's dependency line builds.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use crate::{exit_code, workspace_root};

/// The crates published to crates.io, in dependency order.
const PUBLISHED: [&str; 5] = [
    "instant-core",
    "instant-macros",
    "instant-actix",
    "instant-events",
    "instant-cli",
];

/// `cargo package` of every published crate (each verified by building it from its packaged
/// files alone), then [`check_dependency_line`].
pub(crate) fn package() -> Result<ExitCode, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let root = workspace_root();
    let mut command = Command::new(&cargo);
    command.arg("package").arg("--allow-dirty");
    for name in PUBLISHED {
        command.args(["--package", name]);
    }
    println!("xtask: cargo package {}", PUBLISHED.join(" "));
    let status = command
        .current_dir(&root)
        .status()
        .map_err(|e| format!("cannot run cargo package: {e}"))?;
    if !status.success() {
        return Ok(exit_code(status.code()));
    }
    check_dependency_line(&root)
}

/// The facade's dependency line in the README's first `toml` block: the line an app copies.
fn readme_dependency_line(root: &Path) -> Result<String, String> {
    let readme = std::fs::read_to_string(root.join("README.md"))
        .map_err(|e| format!("cannot read README.md: {e}"))?;
    let block = readme
        .split("```toml")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .ok_or("README.md has no ```toml block")?;
    block
        .lines()
        .find(|line| line.contains("instant-events"))
        .map(|line| line.trim().to_owned())
        .ok_or_else(|| "the README's first toml block does not name instant-events".to_owned())
}

/// Builds a scratch app of two crates outside the workspace: one with the README's dependency
/// line, one with the facade renamed to `live`, both using `channels!` and `#[event]` through
/// their name. The published crates are patched in from this checkout, so this checks the line and
/// the macros' path resolution as an app sees them.
fn check_dependency_line(root: &Path) -> Result<ExitCode, String> {
    let line = readme_dependency_line(root)?;
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let scratch = target.join("readme-app");
    let _ = std::fs::remove_dir_all(&scratch);
    // The command is not a library dependency of an app.
    let patch: String = PUBLISHED
        .iter()
        .filter(|name| **name != "instant-cli")
        .map(|name| {
            let dir = if *name == "instant-events" {
                String::new()
            } else {
                format!("/{name}")
            };
            format!(
                "{name} = {{ path = {:?} }}\n",
                format!("{}{dir}", root.display())
            )
        })
        .collect();
    let app = |name: &str, dependency: &str, facade: &str| -> Result<(), String> {
        let dir = scratch.join(name);
        std::fs::create_dir_all(dir.join("src"))
            .map_err(|e| format!("cannot write {name}: {e}"))?;
        let manifest = format!(
            "[package]\nname = {name:?}\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
             [dependencies]\n{dependency}\nactix-web = \"4\"\n"
        );
        let main = format!(
            "{facade}::channels! {{\n    pub static CHANNELS;\n    public \"news\" as NEWS,\n}}\n\n\
             #[{facade}::event(channel = NEWS, class = \"ok\", message = \"published\")]\n\
             async fn handler() -> actix_web::HttpResponse {{\n    actix_web::HttpResponse::Ok().finish()\n}}\n\n\
             fn main() {{\n    let _ = {facade}::Realtime::builder().channels(CHANNELS.clone());\n    \
             let _ = actix_web::web::get().to(handler);\n}}\n"
        );
        std::fs::write(dir.join("Cargo.toml"), manifest)
            .and_then(|()| std::fs::write(dir.join("src/main.rs"), main))
            .map_err(|e| format!("cannot write {name}: {e}"))
    };
    app("readme-line", &line, "instant")?;
    app(
        "renamed",
        "live = { package = \"instant-events\", version = \"0.1\" }",
        "live",
    )?;
    let workspace = format!(
        "[workspace]\nmembers = [\"readme-line\", \"renamed\"]\nresolver = \"3\"\n\n[patch.crates-io]\n{patch}"
    );
    std::fs::write(scratch.join("Cargo.toml"), workspace)
        .map_err(|e| format!("cannot write the scratch workspace: {e}"))?;
    // The checkout's lock file, so the scratch app builds with the versions the tests used.
    std::fs::copy(root.join("Cargo.lock"), scratch.join("Cargo.lock"))
        .map_err(|e| format!("cannot copy Cargo.lock: {e}"))?;
    println!("xtask: building an app with the README's line `{line}`, and one renaming it");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--workspace"])
        .env("CARGO_TARGET_DIR", &target)
        .current_dir(&scratch)
        .status()
        .map_err(|e| format!("cannot run cargo build: {e}"))?;
    Ok(exit_code(status.code()))
}
