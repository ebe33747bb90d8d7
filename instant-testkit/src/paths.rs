//! Where the workspace and the external programs are.

use std::path::{Path, PathBuf};

/// The environment variable naming the Centrifugo binary to use.
pub(crate) const CENTRIFUGO_BIN_ENV: &str = "INSTANT_CENTRIFUGO_BIN";

/// The root of the `instant` workspace (the parent of this crate).
#[must_use]
pub fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

/// The Centrifugo binary: `$INSTANT_CENTRIFUGO_BIN`, else `<workspace>/.tools/bin/centrifugo`,
/// else `centrifugo` on `PATH`.
///
/// # Panics
/// When none exists, with the command that installs it: tests that need Centrifugo fail loudly.
#[must_use]
pub fn centrifugo_binary() -> PathBuf {
    if let Some(path) = std::env::var_os(CENTRIFUGO_BIN_ENV).filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "{CENTRIFUGO_BIN_ENV} is set to {}, which is not a file",
            path.display()
        );
        return path;
    }
    let local = workspace_root().join(".tools/bin/centrifugo");
    if local.is_file() {
        return local;
    }
    if let Some(found) = find_on_path("centrifugo") {
        return found;
    }
    panic!(
        "Centrifugo v6 is not installed: it was looked for in ${CENTRIFUGO_BIN_ENV}, {} and PATH. \
         Run `cargo xtask test` (it installs it with `go install github.com/centrifugal/centrifugo/v6@v6.9.1`) \
         or set {CENTRIFUGO_BIN_ENV}.",
        local.display()
    );
}

pub(crate) fn find_on_path(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|candidate| candidate.is_file())
    })
}

/// A port free on 127.0.0.1 right now.
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .unwrap_or_else(|e| panic!("cannot find a free port on 127.0.0.1: {e}"))
}

/// A fresh private directory under the system's temporary directory.
pub(crate) fn temp_dir(prefix: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let dir = std::env::temp_dir().join(format!(
        "{prefix}-{}-{}-{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir
}
