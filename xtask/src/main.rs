//! Project tasks, run as `cargo xtask <task>`:
//!
//! - `test [cargo test args]`: installs what the tests need when it is missing (Centrifugo v6.9.1
//!   built from source by `instant installws --from-source`, the Node test clients with `npm ci`,
//!   the Python test clients (`py/requirements.txt`) in a venv at `.tools/venv`, Debian's
//!   `chromium` and `redis-server`), then runs `cargo test --workspace` with
//!   `INSTANT_CENTRIFUGO_BIN`, `INSTANT_PYTHON` and `CHROMIUM_BIN` set, and exits with its code.
//! - `bench`: the benchmarks of `instant-bench`, then its memory check (`--bin memory`), which
//!   fails when a memory target is missed.
//! - `install`: only the installing part of `test`.
//! - `lint`: `cargo fmt --check`, `cargo clippy --workspace --all-targets --all-features -- -D
//!   warnings`, and `cargo doc --workspace --no-deps --all-features` with warnings denied.
//! - `package`: `cargo package` of every published crate, then a scratch app that depends on the
//!   facade through the README's dependency line (patched to this checkout) and on a renamed
//!   dependency, and builds the macros through both names.
//!
//! Only the standard library is used, so the task itself builds in seconds.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// The Centrifugo release the tests run against.
const CENTRIFUGO_VERSION: &str = "6.9.1";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let task = args.next().unwrap_or_default();
    let rest: Vec<String> = args.collect();
    let outcome = match task.as_str() {
        "test" => install().and_then(|tools| test(&tools, &rest)),
        "install" => install().map(|_| ExitCode::SUCCESS),
        "lint" => lint(),
        "bench" => bench(),
        "package" => package(),
        _ => {
            eprintln!(
                "usage: cargo xtask <task>\n\n\
                 tasks:\n  \
                 test [args]  install what the tests need, then run `cargo test --workspace [args]`\n  \
                 install      only install what the tests need\n  \
                 lint         cargo fmt --check, cargo clippy -D warnings, cargo doc -D warnings\n  \
                 package      cargo package the published crates; build the README's dependency line\n  \
                 bench        run the benchmarks, then check the memory targets"
            );
            Ok(ExitCode::from(2))
        }
    };
    match outcome {
        Ok(code) => code,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// What `install` found or installed.
struct Tools {
    centrifugo: PathBuf,
    chromium: PathBuf,
    /// The venv's Python, with the Python test clients.
    python: PathBuf,
}

fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

fn install() -> Result<Tools, String> {
    let root = workspace_root();
    let centrifugo = install_centrifugo(&root)?;
    install_node_clients(&root)?;
    let python = install_python_clients(&root)?;
    let chromium = install_debian_packages()?;
    Ok(Tools {
        centrifugo,
        chromium,
        python,
    })
}

/// Installs Centrifugo into `<workspace>/.tools/bin` with the project's own `instant installws
/// --from-source` (a `go install` of the pinned version), which keeps an installed right version.
fn install_centrifugo(root: &Path) -> Result<PathBuf, String> {
    let bin_dir = root.join(".tools/bin");
    let binary = bin_dir.join("centrifugo");
    let go = find_program("go", &["/usr/local/go/bin/go", "/usr/lib/go/bin/go"]);
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut install = Command::new(cargo);
    install
        .args([
            "run",
            "--quiet",
            "--package",
            "instant-cli",
            "--",
            "installws",
        ])
        .args([
            "--version",
            CENTRIFUGO_VERSION,
            "--from-source",
            "--binary-only",
            "--dir",
        ])
        .arg(&bin_dir)
        .current_dir(root);
    // The command looks for Go on PATH; Go's usual install folder may be missing from it.
    if let Some(go_dir) = go.as_deref().and_then(Path::parent) {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
        dirs.push(go_dir.to_path_buf());
        install.env(
            "PATH",
            std::env::join_paths(dirs).map_err(|e| format!("cannot extend PATH: {e}"))?,
        );
    }
    println!(
        "xtask: instant installws --from-source (builds Centrifugo {CENTRIFUGO_VERSION} with Go when missing)"
    );
    run(&mut install)?;
    if !binary.is_file() {
        return Err(format!(
            "`instant installws` finished but {} is missing",
            binary.display()
        ));
    }
    Ok(binary)
}

/// `npm ci` in `js/` when `node_modules` is missing or older than the lock file.
fn install_node_clients(root: &Path) -> Result<(), String> {
    let js = root.join("js");
    let lock = js.join("package-lock.json");
    // npm writes its own copy of the lock into node_modules after every install.
    let installed = js.join("node_modules/.package-lock.json");
    let modified = |path: &Path| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    let fresh = match (modified(&lock), modified(&installed)) {
        (Some(lock), Some(installed)) => installed >= lock,
        _ => false,
    };
    if fresh && js.join("node_modules/centrifuge").is_dir() {
        println!("xtask: the Node test clients are installed");
        return Ok(());
    }
    find_program("node", &[]).ok_or("Node.js (20 or newer) is needed for the test clients")?;
    let npm = find_program("npm", &[]).ok_or("npm is needed to install the test clients")?;
    println!("xtask: installing the Node test clients (npm ci in js/)");
    run(Command::new(npm)
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&js))
}

/// Makes the venv `<workspace>/.tools/venv` with `py/requirements.txt` installed, unless its
/// Python already imports the pinned `cent`; returns the venv's Python.
fn install_python_clients(root: &Path) -> Result<PathBuf, String> {
    let requirements = root.join("py/requirements.txt");
    let pinned = std::fs::read_to_string(&requirements)
        .map_err(|e| format!("cannot read {}: {e}", requirements.display()))?
        .lines()
        .find_map(|line| line.trim().strip_prefix("cent==").map(str::to_owned))
        .ok_or_else(|| format!("{} pins no `cent==` version", requirements.display()))?;
    let venv = root.join(".tools/venv");
    let python = venv.join("bin/python");
    let has_cent = || {
        Command::new(&python)
            .args([
                "-c",
                &format!(
                    "import cent, importlib.metadata as m; \
                     assert m.version('cent') == {pinned:?}, m.version('cent')"
                ),
            ])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if has_cent() {
        println!("xtask: the Python test clients (cent {pinned}) are installed");
        return Ok(python);
    }
    if !python.is_file() {
        let system_python = python_with_venv()?;
        println!(
            "xtask: making the Python venv {} with {}",
            venv.display(),
            system_python.display()
        );
        run(Command::new(&system_python)
            .args(["-m", "venv", "--clear"])
            .arg(&venv))?;
    }
    println!("xtask: installing the Python test clients (pip install -r py/requirements.txt)");
    run(Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .arg("-r")
        .arg(&requirements))?;
    if !has_cent() {
        return Err(format!(
            "pip installed {} but {} does not import cent {pinned}",
            requirements.display(),
            python.display()
        ));
    }
    Ok(python)
}

/// A `python3` whose `venv` module works (with `ensurepip`, which Debian ships apart), installing
/// Debian's `python3-venv` when it is missing.
fn python_with_venv() -> Result<PathBuf, String> {
    let works = |python: &Path| {
        Command::new(python)
            .args(["-c", "import venv, ensurepip"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let on_path = find_program("python3", &["/usr/bin/python3"]);
    if let Some(python) = on_path.as_deref().filter(|p| works(p)) {
        return Ok(python.to_path_buf());
    }
    println!("xtask: installing python3-venv with apt-get");
    apt_get_install(&["python3", "python3-venv"])?;
    // Debian's own Python, which the package completes, when the one on PATH is another.
    [on_path, Some(PathBuf::from("/usr/bin/python3"))]
        .into_iter()
        .flatten()
        .find(|p| works(p))
        .ok_or_else(|| "python3-venv was installed but `python3 -m venv` still fails".to_owned())
}

/// `apt-get update` and `apt-get install` of `packages`, through `sudo -n` when not root.
fn apt_get_install(packages: &[&str]) -> Result<(), String> {
    let as_root = |program: &str| {
        if is_root() {
            Command::new(program)
        } else {
            let mut sudo = Command::new("sudo");
            sudo.args(["-n", program]);
            sudo
        }
    };
    run(as_root("apt-get")
        .args(["-q", "update"])
        .env("DEBIAN_FRONTEND", "noninteractive"))?;
    run(as_root("apt-get")
        .args(["-q", "install", "-y", "--no-install-recommends"])
        .args(packages)
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

/// Installs Debian's `chromium` and `redis-server` when missing; returns Chromium's path.
fn install_debian_packages() -> Result<PathBuf, String> {
    let chromium = std::env::var_os("CHROMIUM_BIN")
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    let mut missing = Vec::new();
    if !chromium.is_file() {
        missing.push("chromium");
    }
    if find_program("redis-server", &["/usr/bin/redis-server"]).is_none() {
        missing.push("redis-server");
    }
    if missing.is_empty() {
        println!("xtask: chromium and redis-server are installed");
        return Ok(chromium);
    }
    println!("xtask: installing {} with apt-get", missing.join(" and "));
    apt_get_install(&missing)?;
    let chromium = if chromium.is_file() {
        chromium
    } else {
        PathBuf::from("/usr/bin/chromium")
    };
    if !chromium.is_file() {
        return Err(format!(
            "chromium was installed but {} is missing",
            chromium.display()
        ));
    }
    Ok(chromium)
}

fn test(tools: &Tools, args: &[String]) -> Result<ExitCode, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    // `-p crate` narrows the run; otherwise the whole workspace is tested.
    let narrowed = args
        .iter()
        .any(|a| a == "-p" || a.starts_with("--package") || (a.starts_with("-p") && a.len() > 2));
    let scope: &[&str] = if narrowed { &[] } else { &["--workspace"] };
    println!("xtask: cargo test {} {}", scope.join(" "), args.join(" "));
    let status = Command::new(cargo)
        .arg("test")
        .args(scope)
        .args(args)
        .current_dir(workspace_root())
        .env("INSTANT_CENTRIFUGO_BIN", &tools.centrifugo)
        .env("INSTANT_PYTHON", &tools.python)
        .env("CHROMIUM_BIN", &tools.chromium)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    Ok(exit_code(status.code()))
}

fn lint() -> Result<ExitCode, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let root = workspace_root();
    println!("xtask: cargo fmt --all --check");
    let fmt = Command::new(&cargo)
        .args(["fmt", "--all", "--check"])
        .current_dir(&root)
        .status()
        .map_err(|e| format!("cannot run cargo fmt: {e}"))?;
    println!("xtask: cargo clippy --workspace --all-targets --all-features -- -D warnings");
    let clippy = Command::new(&cargo)
        .args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--",
            "-D",
            "warnings",
        ])
        .current_dir(&root)
        .status()
        .map_err(|e| format!("cannot run cargo clippy: {e}"))?;
    println!("xtask: cargo doc --workspace --no-deps --all-features (warnings denied)");
    let doc = Command::new(&cargo)
        .args(["doc", "--workspace", "--no-deps", "--all-features"])
        .env("RUSTDOCFLAGS", "-D warnings")
        .current_dir(&root)
        .status()
        .map_err(|e| format!("cannot run cargo doc: {e}"))?;
    // All run, so one report shows every problem.
    Ok([fmt, clippy, doc]
        .into_iter()
        .find(|status| !status.success())
        .map_or(ExitCode::SUCCESS, |status| exit_code(status.code())))
}

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
fn package() -> Result<ExitCode, String> {
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
    let patch: String = PUBLISHED
        .iter()
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

fn bench() -> Result<ExitCode, String> {
    let tools = install()?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    for args in [
        &["bench", "--package", "instant-bench"][..],
        &[
            "run",
            "--release",
            "--package",
            "instant-bench",
            "--bin",
            "memory",
        ][..],
    ] {
        println!("xtask: cargo {}", args.join(" "));
        let status = Command::new(&cargo)
            .args(args)
            .current_dir(workspace_root())
            .env("INSTANT_CENTRIFUGO_BIN", &tools.centrifugo)
            .status()
            .map_err(|e| format!("cannot run cargo: {e}"))?;
        if !status.success() {
            return Ok(exit_code(status.code()));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn exit_code(code: Option<i32>) -> ExitCode {
    match code {
        Some(0) => ExitCode::SUCCESS,
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1).max(1)),
        None => ExitCode::FAILURE,
    }
}

fn run(command: &mut Command) -> Result<(), String> {
    let shown = format!("{command:?}");
    let status = command
        .status()
        .map_err(|e| format!("cannot run {shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed with {status}"))
    }
}

/// `program` on PATH, else the first of `fallbacks` that exists.
fn find_program(program: &str, fallbacks: &[&str]) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(program))
                .find(|candidate| candidate.is_file())
        })
        .or_else(|| {
            fallbacks
                .iter()
                .map(PathBuf::from)
                .find(|candidate| candidate.is_file())
        })
}

fn is_root() -> bool {
    // Avoids a libc dependency: `id -u` answers the same question.
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}
