//! What the command prints: levels (`--quiet`, `--verbose`), colours only on a terminal, progress bars.

use std::fmt::Display;
use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How much to print, and whether standard error is a colour terminal.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Output {
    quiet: bool,
    verbose: bool,
    colour: bool,
    terminal: bool,
}

/// An ANSI colour for one word at the start of a line.
#[derive(Debug, Clone, Copy)]
enum Paint {
    Red,
    Green,
    Yellow,
    Dim,
}

impl Paint {
    const fn code(self) -> &'static str {
        match self {
            Self::Red => "31;1",
            Self::Green => "32;1",
            Self::Yellow => "33;1",
            Self::Dim => "2",
        }
    }
}

impl Output {
    /// Reads the levels from the flags and detects the terminal; `NO_COLOR` turns colours off.
    pub(crate) fn new(quiet: bool, verbose: bool) -> Self {
        let terminal = std::io::stderr().is_terminal();
        let colour = terminal && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty());
        Self {
            quiet,
            verbose,
            colour,
            terminal,
        }
    }

    fn paint(&self, paint: Paint, word: &str) -> String {
        if self.colour {
            format!("\x1b[{}m{word}\x1b[0m", paint.code())
        } else {
            word.to_owned()
        }
    }

    /// Whether `--quiet` was given.
    pub(crate) fn is_quiet(&self) -> bool {
        self.quiet
    }

    /// Whether `--verbose` was given.
    pub(crate) fn is_verbose(&self) -> bool {
        self.verbose
    }

    /// A step of normal progress, hidden by `--quiet`.
    pub(crate) fn info(&self, message: impl Display) {
        if !self.quiet {
            eprintln!("{message}");
        }
    }

    /// A detail shown only with `--verbose`.
    pub(crate) fn detail(&self, message: impl Display) {
        if self.verbose {
            eprintln!("{} {message}", self.paint(Paint::Dim, "·"));
        }
    }

    /// A finished step, hidden by `--quiet`.
    pub(crate) fn success(&self, message: impl Display) {
        if !self.quiet {
            eprintln!("{} {message}", self.paint(Paint::Green, "ok:"));
        }
    }

    /// Something the user should know about, hidden by `--quiet`.
    pub(crate) fn warn(&self, message: impl Display) {
        if !self.quiet {
            eprintln!("{} {message}", self.paint(Paint::Yellow, "warning:"));
        }
    }

    /// A problem, always printed, on one line.
    pub(crate) fn error(&self, message: impl Display) {
        eprintln!("{} {message}", self.paint(Paint::Red, "error:"));
    }

    /// A byte-counting progress bar, drawn only on a terminal and without `--quiet`.
    pub(crate) fn download_bar(&self, total: Option<u64>, label: &str) -> ProgressBar {
        if self.quiet || !self.terminal {
            return ProgressBar::hidden();
        }
        let bar = match total {
            Some(total) => ProgressBar::new(total).with_style(
                ProgressStyle::with_template(
                    "{msg} {bar:30} {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            ),
            None => ProgressBar::new_spinner().with_style(
                ProgressStyle::with_template("{spinner} {msg} {bytes} ({bytes_per_sec})")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            ),
        };
        bar.set_draw_target(ProgressDrawTarget::stderr());
        bar.set_message(label.to_owned());
        bar
    }

    /// A spinner for a step of unknown length, drawn only on a terminal and without `--quiet`.
    pub(crate) fn spinner(&self, label: &str) -> ProgressBar {
        if self.quiet || !self.terminal {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::new_spinner().with_message(label.to_owned());
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    }
}
