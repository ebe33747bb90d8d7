//! `cargo xtask bench --compare [--smoke]`: the comparison suite of `instant-bench`.
//!
//! Installs what the suite needs when it is missing (what the tests need, then a venv at
//! `.tools/bench-venv` with django-instant 4.2.0, `cent` 4.1 and Django 4.2, and Debian's `wrk`),
//! then runs `instant-bench`'s `compare` binary: a release build writing `BENCHMARKS.md` and
//! `benchmarks/` at the workspace root, or with `--smoke` a debug build with tiny sizes writing to
//! `target/benchmarks-smoke/` (for CI: it checks that the suite runs, its figures mean nothing).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use crate::install::install;
use crate::{exit_code, find_program, run, workspace_root};

/// What django-instant's comparison installs into `.tools/bench-venv`.
const BENCH_VENV_PACKAGES: [&str; 3] = ["django-instant==4.2.0", "cent==4.1.0", "Django>=4.2,<4.3"];

/// Runs the comparison suite; `smoke` for the quick CI variant.
pub(crate) fn compare(smoke: bool) -> Result<ExitCode, String> {
    let tools = install()?;
    let root = workspace_root();
    let bench_python = install_bench_venv(&root, &tools.python)?;
    let wrk = install_wrk()?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut args = vec!["run", "--quiet"];
    if !smoke {
        args.push("--release");
    }
    args.extend(["--package", "instant-bench", "--bin", "compare", "--"]);
    if smoke {
        args.push("--smoke");
    }
    println!("xtask: cargo {}", args.join(" "));
    let status = Command::new(cargo)
        .args(&args)
        .current_dir(&root)
        .env("INSTANT_CENTRIFUGO_BIN", &tools.centrifugo)
        .env("INSTANT_PYTHON", &tools.python)
        .env("INSTANT_BENCH_PYTHON", &bench_python)
        .env("INSTANT_WRK", &wrk)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    Ok(exit_code(status.code()))
}

/// Makes `.tools/bench-venv` with [`BENCH_VENV_PACKAGES`] unless its Python already imports
/// django-instant 4.2.0; returns that Python. `base` (the test venv's Python) makes the venv.
fn install_bench_venv(root: &Path, base: &Path) -> Result<PathBuf, String> {
    let venv = root.join(".tools/bench-venv");
    let python = venv.join("bin/python");
    let ready = || {
        Command::new(&python)
            .args([
                "-c",
                "import importlib.metadata as m; \
                 assert m.version('django-instant') == '4.2.0'; \
                 assert m.version('cent').startswith('4.1.'); \
                 assert m.version('Django').startswith('4.2.')",
            ])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if python.is_file() && ready() {
        println!("xtask: the benchmark venv (django-instant 4.2.0) is installed");
        return Ok(python);
    }
    println!("xtask: making the benchmark venv {}", venv.display());
    run(Command::new(base)
        .args(["-m", "venv", "--clear"])
        .arg(&venv))?;
    run(Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(BENCH_VENV_PACKAGES))?;
    if !ready() {
        return Err(format!(
            "pip installed {} but {} does not import them",
            BENCH_VENV_PACKAGES.join(" "),
            python.display()
        ));
    }
    Ok(python)
}

/// Debian's `wrk`, installed with `apt-get` when missing; returns its path.
fn install_wrk() -> Result<PathBuf, String> {
    if let Some(wrk) = find_program("wrk", &["/usr/bin/wrk"]) {
        return Ok(wrk);
    }
    println!("xtask: installing wrk with apt-get");
    crate::install::apt_get_install(&["wrk"])?;
    find_program("wrk", &["/usr/bin/wrk"])
        .ok_or_else(|| "wrk was installed but is not on PATH".to_owned())
}
