//! `cargo xtask install`: what the tests need, installed when missing.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{CENTRIFUGO_VERSION, find_program, is_root, run, workspace_root};

/// What `install` found or installed.
pub(crate) struct Tools {
    pub(crate) centrifugo: PathBuf,
    pub(crate) chromium: PathBuf,
    /// The venv's Python, with the Python test clients.
    pub(crate) python: PathBuf,
}

pub(crate) fn install() -> Result<Tools, String> {
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
pub(crate) fn apt_get_install(packages: &[&str]) -> Result<(), String> {
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
