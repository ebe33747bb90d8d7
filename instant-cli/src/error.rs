//! The command's errors: one line each, with the fix, and an exit code per kind.

use std::path::PathBuf;
use std::process::ExitCode;

/// Exit code of an operation that failed (a download, a publish, a process that would not start).
pub(crate) const EXIT_FAILURE: u8 = 1;
/// Exit code of a bad argument (clap uses it too).
pub(crate) const EXIT_USAGE: u8 = 2;
/// Exit code of invalid or inconsistent settings or Centrifugo config, including `check` problems.
pub(crate) const EXIT_CONFIG: u8 = 3;
/// Exit code of a host or server that could not be reached.
pub(crate) const EXIT_UNREACHABLE: u8 = 4;
/// Exit code of a download that failed verification (checksum, archive, version).
pub(crate) const EXIT_INTEGRITY: u8 = 5;
/// Exit code after Ctrl-C (128 + SIGINT, as shells report it).
pub(crate) const EXIT_INTERRUPTED: u8 = 130;

/// Everything that can go wrong in the `instant` command.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum CliError {
    /// A command-line value that clap could not check (e.g. `--data` that is not JSON).
    #[error("{message}")]
    Usage {
        /// What is wrong.
        message: String,
        /// How to fix it.
        fix: String,
    },
    /// The host could not be reached at all (DNS, refused connection, timeout).
    #[error("cannot reach {url}: {reason}")]
    Unreachable {
        /// The URL asked for.
        url: String,
        /// The transport error.
        reason: String,
    },
    /// The server answered with an HTTP error status.
    #[error("{url} answered HTTP {status}")]
    HttpStatus {
        /// The URL asked for.
        url: String,
        /// The HTTP status code.
        status: u16,
    },
    /// The download stopped half-way or its body could not be read.
    #[error("download of {url} failed: {reason}")]
    Download {
        /// The URL asked for.
        url: String,
        /// What broke.
        reason: String,
    },
    /// The checksums file has no line for the archive.
    #[error("{archive} is not listed in {checksums}")]
    ChecksumMissing {
        /// The archive's file name.
        archive: String,
        /// The checksums file's URL.
        checksums: String,
    },
    /// The archive's SHA-256 differs from the checksums file.
    #[error("SHA-256 mismatch for {archive}: expected {expected}, got {actual}")]
    ChecksumMismatch {
        /// The archive's file name.
        archive: String,
        /// The digest the checksums file lists.
        expected: String,
        /// The digest of the downloaded bytes.
        actual: String,
    },
    /// The archive is not a readable gzip-compressed tar file.
    #[error("{archive} is not a valid .tar.gz archive: {reason}")]
    CorruptArchive {
        /// The archive's file name.
        archive: String,
        /// The decoder's error.
        reason: String,
    },
    /// The archive has no `centrifugo` executable.
    #[error("{archive} contains no `centrifugo` executable")]
    NoBinaryInArchive {
        /// The archive's file name.
        archive: String,
    },
    /// `centrifugo version` failed or reported another version.
    #[error("{binary} reports {reported:?}, expected Centrifugo v{expected}")]
    WrongVersion {
        /// The binary that was run.
        binary: PathBuf,
        /// What it printed.
        reported: String,
        /// The version asked for.
        expected: String,
    },
    /// No release archive is published for this OS and CPU.
    #[error("no Centrifugo release archive for {os}/{arch}")]
    UnsupportedPlatform {
        /// The operating system.
        os: String,
        /// The CPU architecture.
        arch: String,
    },
    /// `go` is needed but not on the PATH.
    #[error("Go is not installed (needed to build Centrifugo from source)")]
    GoMissing,
    /// `go install` failed.
    #[error("`go install {module}` failed: {reason}")]
    GoInstall {
        /// The module path and version.
        module: String,
        /// Its exit status and last line of output.
        reason: String,
    },
    /// A file or directory operation failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done, e.g. "write".
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The app's settings are invalid.
    #[error("invalid settings in {}: {reason}", path.display())]
    Settings {
        /// The settings file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The core rejected the configuration.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The embedded server cannot run with this Centrifugo config (`runws --embedded`).
    #[error("cannot run the embedded server with {}: {reason}", path.display())]
    StandaloneConfig {
        /// The Centrifugo config file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The embedded server could not listen or stopped with an error.
    #[error("the embedded server failed at {address}: {source}")]
    Serve {
        /// The address it listens on.
        address: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// Centrifugo is not installed where it was looked for.
    #[error("Centrifugo is not installed at {}", binary.display())]
    NotInstalled {
        /// Where the binary was expected.
        binary: PathBuf,
    },
    /// The Centrifugo config file is missing.
    #[error("no Centrifugo config at {}", path.display())]
    NoCentrifugoConfig {
        /// Where the config was expected.
        path: PathBuf,
    },
    /// A file that would be overwritten exists.
    #[error("{} already exists", path.display())]
    WouldOverwrite {
        /// The file.
        path: PathBuf,
    },
    /// Centrifugo exited before `/health` answered, or never answered.
    #[error("Centrifugo did not become healthy: {reason}")]
    NotHealthy {
        /// What happened.
        reason: String,
    },
    /// A child process could not be started.
    #[error("cannot run {}: {source}", program.display())]
    Spawn {
        /// The program.
        program: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// Publishing failed.
    #[error("publish to {channel:?} failed: {reason}")]
    Publish {
        /// The channel.
        channel: String,
        /// The backend's error.
        reason: String,
        /// Whether the server could not be reached at all.
        unreachable: bool,
    },
    /// `instant check` found problems (each already printed).
    #[error("{count} problem(s) found")]
    CheckFailed {
        /// How many.
        count: usize,
    },
}

impl CliError {
    /// Wraps an I/O error with what was being done to which path.
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io {
            action,
            path,
            source,
        }
    }

    /// How to fix the problem, in one sentence.
    pub(crate) fn fix(&self) -> Option<String> {
        Some(match self {
            Self::Usage { fix, .. } => fix.clone(),
            Self::Unreachable { .. } => {
                "check the network (or --base-url); with Go installed, `instant installws --from-source` builds it instead".to_owned()
            }
            Self::HttpStatus { status: 404, .. } => {
                "check --version (a released Centrifugo v6 version such as 6.9.1) and --base-url".to_owned()
            }
            Self::HttpStatus { .. } | Self::Download { .. } => {
                "run the command again; if it keeps failing, use --from-source".to_owned()
            }
            Self::ChecksumMissing { .. } | Self::ChecksumMismatch { .. } | Self::CorruptArchive { .. } | Self::NoBinaryInArchive { .. } => {
                "nothing was installed; the download is damaged or not the official release: run again, check --base-url, or use --from-source".to_owned()
            }
            Self::WrongVersion { .. } => {
                "nothing was installed; check --version and --base-url, or use --from-source".to_owned()
            }
            Self::UnsupportedPlatform { .. } => {
                "install Go 1.26+ and run `instant installws --from-source`".to_owned()
            }
            Self::GoMissing => "install Go 1.26 or newer (https://go.dev/dl/), then run the command again".to_owned(),
            Self::GoInstall { .. } => {
                "Centrifugo v6 needs Go 1.26+ and access to the Go module proxy; run with --verbose to see go's output".to_owned()
            }
            Self::Io { .. } => "check the path and its permissions".to_owned(),
            Self::Settings { .. } | Self::Config(_) => {
                "correct the settings (instant.toml or INSTANT_* environment variables) and run `instant check`".to_owned()
            }
            Self::StandaloneConfig { .. } => {
                "correct the config (Centrifugo v6 key names), or drop --strict to start with the supported keys only".to_owned()
            }
            Self::Serve { .. } => {
                "choose a free port (http_server.port) or an address of this machine (http_server.address)".to_owned()
            }
            Self::NotInstalled { .. } => {
                "run `instant installws` (or pass --dir / set INSTANT_CENTRIFUGO_DIR)".to_owned()
            }
            Self::NoCentrifugoConfig { .. } => {
                "run `instant installws` or `instant genconfig --output <dir>/config.json`".to_owned()
            }
            Self::WouldOverwrite { .. } => "pass --force to overwrite it, or choose another --output".to_owned(),
            Self::NotHealthy { .. } => {
                "run `instant check`, and look at Centrifugo's log above (a port in use is the usual cause)".to_owned()
            }
            Self::Spawn { .. } => "check that the file exists and is executable".to_owned(),
            Self::Publish { unreachable: true, .. } => {
                "start Centrifugo (`instant runws`) or the app, and check INSTANT_CENTRIFUGO_URL".to_owned()
            }
            Self::Publish { .. } => {
                "check the channel name and that INSTANT_CENTRIFUGO_API_KEY matches http_api.key (`instant check`)".to_owned()
            }
            Self::CheckFailed { .. } => return None,
        })
    }

    /// The process exit code for this error.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Self::Usage { .. } => EXIT_USAGE,
            Self::Unreachable { .. } => EXIT_UNREACHABLE,
            Self::Publish {
                unreachable: true, ..
            } => EXIT_UNREACHABLE,
            Self::ChecksumMissing { .. }
            | Self::ChecksumMismatch { .. }
            | Self::CorruptArchive { .. }
            | Self::NoBinaryInArchive { .. }
            | Self::WrongVersion { .. } => EXIT_INTEGRITY,
            Self::Settings { .. }
            | Self::Config(_)
            | Self::NotInstalled { .. }
            | Self::NoCentrifugoConfig { .. }
            | Self::StandaloneConfig { .. }
            | Self::CheckFailed { .. } => EXIT_CONFIG,
            _ => EXIT_FAILURE,
        }
    }

    /// The one line printed after `error:`.
    pub(crate) fn line(&self) -> String {
        match self.fix() {
            Some(fix) => format!("{self}; fix: {fix}"),
            None => self.to_string(),
        }
    }

    /// The process exit code, as [`ExitCode`].
    pub(crate) fn exit(&self) -> ExitCode {
        ExitCode::from(self.exit_code())
    }
}

/// The command's result type.
pub(crate) type Result<T, E = CliError> = std::result::Result<T, E>;
