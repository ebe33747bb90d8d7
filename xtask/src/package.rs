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

/// `cargo package` of every published crate, then [`check_dependency_line`], which builds them
/// from their packaged files alone.
///
/// Cargo's own verification is left out: it unpacks into a registry cache keyed by name and
/// version only, so on a machine that packaged before it would build yesterday's sources.
pub(crate) fn package() -> Result<ExitCode, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let root = workspace_root();
    let mut command = Command::new(&cargo);
    command.args(["package", "--allow-dirty", "--no-verify"]);
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

/// Builds a scratch workspace outside the checkout: the published crates unpacked from their
/// `.crate` files, an app with the README's dependency line, and one with the facade renamed to
/// `live`, both using `channels!` and `#[event]` through their name. The app's dependencies are
/// patched to the unpacked packages, so this checks what crates.io would get (the command's
/// binary included), the README's line and the macros' path resolution as an app sees them.
fn check_dependency_line(root: &Path) -> Result<ExitCode, String> {
    let line = readme_dependency_line(root)?;
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let scratch = target.join("readme-app");
    let _ = std::fs::remove_dir_all(&scratch);
    let packages = scratch.join("packages");
    std::fs::create_dir_all(&packages)
        .map_err(|e| format!("cannot make {}: {e}", packages.display()))?;
    let mut patch = String::new();
    for name in PUBLISHED {
        let unpacked = unpack(&target.join("package"), name, &packages)?;
        // The command is not a library dependency of an app; it builds as a member.
        if name != "instant-cli" {
            patch.push_str(&format!(
                "{name} = {{ path = {:?} }}\n",
                unpacked.display().to_string()
            ));
        }
    }
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
        "[workspace]\nmembers = [\"readme-line\", \"renamed\", \"packages/*\"]\nresolver = \"3\"\n\n\
         {PROFILES}\n[patch.crates-io]\n{patch}"
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

/// The workspace's debug profile, so that the scratch build reuses the dependencies the tests
/// compiled instead of building them again with full debug information.
const PROFILES: &str =
    "[profile.dev]\ndebug = \"line-tables-only\"\n\n[profile.dev.package.\"*\"]\ndebug = false\n";

/// Unpacks the newest `<name>-<version>.crate` of `package_dir` into `into`; returns its folder.
fn unpack(package_dir: &Path, name: &str, into: &Path) -> Result<PathBuf, String> {
    let archive = std::fs::read_dir(package_dir)
        .map_err(|e| format!("cannot read {}: {e}", package_dir.display()))?
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| {
            path.file_name()
                .and_then(|file| file.to_str())
                .and_then(|file| {
                    file.strip_prefix(name)?
                        .strip_prefix('-')?
                        .strip_suffix(".crate")
                })
                .is_some_and(|version| version.starts_with(|c: char| c.is_ascii_digit()))
        })
        .max_by_key(|path| std::fs::metadata(path).and_then(|m| m.modified()).ok())
        .ok_or_else(|| format!("cargo package wrote no {name} archive"))?;
    crate::run(
        Command::new("tar")
            .arg("-xzf")
            .arg(&archive)
            .arg("-C")
            .arg(into),
    )?;
    let folder = archive
        .file_stem()
        .map(|stem| into.join(stem))
        .ok_or_else(|| format!("{} has no name", archive.display()))?;
    Ok(folder)
}
