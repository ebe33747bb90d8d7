//! Ctrl-C and SIGTERM during `installws`: the half-done work is removed before the command exits.
//!
//! The signals only set a flag (signal handlers can do little safely). A watcher thread sees it,
//! stops the `go install` child if one runs, deletes the staging directories registered with
//! [`Cleanup`], and exits with 130. This works even while a download is stalled in a blocking read.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

/// What to undo when interrupted.
#[derive(Debug, Default)]
struct Pending {
    /// Directories to delete (staging directories, then directories the command created).
    directories: Vec<PathBuf>,
    /// Child processes to stop.
    children: Vec<u32>,
}

static PENDING: OnceLock<Mutex<Pending>> = OnceLock::new();

fn pending() -> std::sync::MutexGuard<'static, Pending> {
    PENDING
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
}

/// Catches SIGINT and SIGTERM from now on and starts the watcher; a second signal still ends the
/// process at once.
pub(crate) fn catch() {
    let flag = Arc::new(AtomicBool::new(false));
    #[cfg(unix)]
    {
        use signal_hook::consts::{SIGINT, SIGTERM};
        for signal in [SIGINT, SIGTERM] {
            // Registered first, so it sees the flag as the previous signal left it.
            let _ = signal_hook::flag::register_conditional_shutdown(
                signal,
                i32::from(crate::error::EXIT_INTERRUPTED),
                Arc::clone(&flag),
            );
            let _ = signal_hook::flag::register(signal, Arc::clone(&flag));
        }
    }
    std::thread::spawn(move || {
        while !flag.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(50));
        }
        undo_and_exit();
    });
}

fn undo_and_exit() -> ! {
    let pending = std::mem::take(&mut *pending());
    for child in pending.children {
        stop(child);
    }
    for directory in pending.directories {
        if directory.exists() {
            let _ = std::fs::remove_dir_all(&directory);
        }
    }
    eprintln!("error: interrupted; fix: nothing was installed, run the command again");
    std::process::exit(i32::from(crate::error::EXIT_INTERRUPTED));
}

#[cfg(unix)]
fn stop(child: u32) {
    if let Ok(pid) = i32::try_from(child) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}

#[cfg(not(unix))]
fn stop(_child: u32) {}

/// A directory or child process to undo on interrupt, for as long as this guard lives.
#[derive(Debug)]
pub(crate) struct Cleanup {
    directory: Option<PathBuf>,
    child: Option<u32>,
}

impl Cleanup {
    /// Deletes `directory` (recursively) if interrupted while the guard lives.
    pub(crate) fn directory(directory: PathBuf) -> Self {
        pending().directories.push(directory.clone());
        Self {
            directory: Some(directory),
            child: None,
        }
    }

    /// Stops the process `child` if interrupted while the guard lives.
    pub(crate) fn child(child: u32) -> Self {
        pending().children.push(child);
        Self {
            directory: None,
            child: Some(child),
        }
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let mut pending = pending();
        if let Some(directory) = &self.directory {
            pending.directories.retain(|d| d != directory);
        }
        if let Some(child) = self.child {
            pending.children.retain(|c| *c != child);
        }
    }
}
