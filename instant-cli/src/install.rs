//! Installing the Centrifugo binary: download, verify, unpack, or build with `go install`.
//!
//! Every install is staged in a temporary directory inside the target directory and moved into
//! place with a rename only once the binary has answered `centrifugo version`, so a failed or
//! corrupt download leaves nothing behind, and the rename is atomic (same file system).

use std::fs::{self, File};
use std::io::{self, BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::error::{CliError, Result};
use crate::interrupt::Cleanup;
use crate::output::Output;

/// The binary's file name.
pub(crate) const BINARY_NAME: &str = if cfg!(windows) {
    "centrifugo.exe"
} else {
    "centrifugo"
};

/// The marker file beside the binary that records the installed version; builds made with a
/// plain `go install` report `v0.0.0` from `centrifugo version`, so this file is what tells them apart.
pub(crate) const VERSION_MARKER: &str = "centrifugo.version";

/// The Go module that `--from-source` builds.
pub(crate) const GO_MODULE: &str = "github.com/centrifugal/centrifugo/v6";

/// Where a Centrifugo install lives.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    /// The directory.
    pub(crate) dir: PathBuf,
}

impl Layout {
    /// The layout of `dir`.
    pub(crate) fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_owned(),
        }
    }

    /// The binary.
    pub(crate) fn binary(&self) -> PathBuf {
        self.dir.join(BINARY_NAME)
    }

    /// The version marker.
    pub(crate) fn marker(&self) -> PathBuf {
        self.dir.join(VERSION_MARKER)
    }

    /// The Centrifugo config `installws` writes and `runws` uses.
    pub(crate) fn config(&self) -> PathBuf {
        self.dir.join("config.json")
    }
}

/// A Centrifugo version without the `v`, e.g. `6.9.1`.
pub(crate) fn normalize_version(version: &str) -> Result<String> {
    let bare = version.trim().trim_start_matches('v');
    let parts: Vec<&str> = bare.split('.').collect();
    let numeric = parts.len() == 3
        && parts
            .iter()
            .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_digit()));
    if !numeric {
        return Err(CliError::Usage {
            message: format!("`{version}` is not a Centrifugo version"),
            fix: "pass --version MAJOR.MINOR.PATCH, e.g. --version 6.9.1".to_owned(),
        });
    }
    if parts[0] != "6" {
        return Err(CliError::Usage {
            message: format!("Centrifugo {bare} is not a v6 release; instant writes v6 configs"),
            fix: "pass a 6.x version, e.g. --version 6.9.1".to_owned(),
        });
    }
    Ok(bare.to_owned())
}

/// The release archive for this OS and CPU, named as Centrifugo's release process names it.
#[derive(Debug, Clone)]
pub(crate) struct Release {
    version: String,
    os: &'static str,
    arch: &'static str,
}

impl Release {
    /// The release of `version` for the running platform.
    pub(crate) fn for_this_platform(version: &str) -> Result<Self> {
        let os = match std::env::consts::OS {
            "linux" => "linux",
            "macos" => "darwin",
            "freebsd" => "freebsd",
            other => return Err(unsupported(other)),
        };
        let arch = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" if os == "linux" => "386",
            "arm" if os == "linux" => "armv6",
            _ => return Err(unsupported(std::env::consts::OS)),
        };
        Ok(Self {
            version: version.to_owned(),
            os,
            arch,
        })
    }

    /// `centrifugo_<version>_<os>_<arch>.tar.gz`.
    pub(crate) fn archive_name(&self) -> String {
        format!(
            "centrifugo_{}_{}_{}.tar.gz",
            self.version, self.os, self.arch
        )
    }

    /// `centrifugo_<version>_checksums.txt`.
    pub(crate) fn checksums_name(&self) -> String {
        format!("centrifugo_{}_checksums.txt", self.version)
    }

    /// `<base>/v<version>/<file>`.
    pub(crate) fn url(&self, base_url: &str, file: &str) -> String {
        format!(
            "{}/v{}/{file}",
            base_url.trim_end_matches('/'),
            self.version
        )
    }
}

fn unsupported(os: &str) -> CliError {
    CliError::UnsupportedPlatform {
        os: os.to_owned(),
        arch: std::env::consts::ARCH.to_owned(),
    }
}

/// The version `binary` is, from `centrifugo version` and the marker beside it; `None` when there
/// is no working binary.
pub(crate) fn installed_version(layout: &Layout) -> Option<String> {
    let reported = reported_version(&layout.binary()).ok()?;
    if reported != "0.0.0" {
        return Some(reported);
    }
    let marker = fs::read_to_string(layout.marker()).ok()?;
    Some(marker.trim().to_owned()).filter(|version| !version.is_empty())
}

/// Runs `<binary> version` and returns the version it prints (`Centrifugo v6.9.1 (Go ...)`).
pub(crate) fn reported_version(binary: &Path) -> std::result::Result<String, String> {
    let output = Command::new(binary)
        .arg("version")
        .stdin(Stdio::null())
        .output()
        .map_err(|err| format!("cannot run it: {err}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!("`version` exited with {}", output.status));
    }
    stdout
        .split_whitespace()
        .skip_while(|word| *word != "Centrifugo")
        .nth(1)
        .and_then(|word| word.strip_prefix('v'))
        .map(str::to_owned)
        .ok_or_else(|| stdout.trim().to_owned())
}

/// Parses a checksums file (`<sha256 hex>  <file name>` per line) and returns the digest of `file`.
pub(crate) fn expected_digest(checksums: &str, file: &str) -> Option<String> {
    checksums.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        let digest = words.next()?;
        let name = words.next()?.trim_start_matches('*');
        (name == file && digest.len() == 64 && digest.chars().all(|c| c.is_ascii_hexdigit()))
            .then(|| digest.to_ascii_lowercase())
    })
}

/// Lower-case hex of a digest.
fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut text, byte| {
        let _ = write!(text, "{byte:02x}");
        text
    })
}

/// A directory where an install is assembled before it is moved into place.
#[derive(Debug)]
struct Staging {
    temp: tempfile::TempDir,
    _cleanup: Cleanup,
}

impl Staging {
    fn new(dir: &Path) -> Result<Self> {
        let temp = tempfile::Builder::new()
            .prefix(".centrifugo-install-")
            .tempdir_in(dir)
            .map_err(CliError::io("create a temporary directory in", dir))?;
        let cleanup = Cleanup::directory(temp.path().to_owned());
        Ok(Self {
            temp,
            _cleanup: cleanup,
        })
    }

    fn path(&self) -> &Path {
        self.temp.path()
    }

    fn binary(&self) -> PathBuf {
        self.path().join(BINARY_NAME)
    }

    /// Checks the staged binary's version, records it and moves binary and marker into `layout`.
    fn commit(self, layout: &Layout, version: &str, accept_unversioned: bool) -> Result<()> {
        let binary = self.binary();
        let reported = reported_version(&binary).map_err(|reported| CliError::WrongVersion {
            binary: binary.clone(),
            reported,
            expected: version.to_owned(),
        })?;
        if reported != version && !(accept_unversioned && reported == "0.0.0") {
            return Err(CliError::WrongVersion {
                binary,
                reported: format!("v{reported}"),
                expected: version.to_owned(),
            });
        }
        let marker = self.path().join(VERSION_MARKER);
        fs::write(&marker, format!("{version}\n")).map_err(CliError::io("write", &marker))?;
        fs::rename(&binary, layout.binary()).map_err(CliError::io("install", layout.binary()))?;
        fs::rename(&marker, layout.marker()).map_err(CliError::io("write", layout.marker()))?;
        Ok(())
    }
}

/// Creates `dir` when missing and removes it again (if still empty) when `work` fails, so a
/// failed install leaves no trace.
fn in_dir<T>(dir: &Path, work: impl FnOnce() -> Result<T>) -> Result<T> {
    let created = !dir.exists();
    fs::create_dir_all(dir).map_err(CliError::io("create", dir))?;
    let cleanup = created.then(|| Cleanup::directory(dir.to_owned()));
    let result = work();
    drop(cleanup);
    if result.is_err() && created {
        let _ = fs::remove_dir(dir);
    }
    result
}

/// Downloads the release archive and checksums, verifies, unpacks and installs the binary.
pub(crate) fn install_release(
    layout: &Layout,
    version: &str,
    base_url: &str,
    out: &Output,
) -> Result<()> {
    let release = Release::for_this_platform(version)?;
    let agent = crate::http::agent(Duration::from_secs(15));
    let archive = release.archive_name();
    let checksums_url = release.url(base_url, &release.checksums_name());
    let archive_url = release.url(base_url, &archive);

    out.detail(format_args!("fetching {checksums_url}"));
    let checksums = crate::http::get_text(&agent, &checksums_url)?;
    let expected =
        expected_digest(&checksums, &archive).ok_or_else(|| CliError::ChecksumMissing {
            archive: archive.clone(),
            checksums: checksums_url.clone(),
        })?;

    in_dir(&layout.dir, || {
        let staging = Staging::new(&layout.dir)?;
        let archive_path = staging.path().join(&archive);
        let mut file = File::options()
            .create_new(true)
            .read(true)
            .write(true)
            .open(&archive_path)
            .map_err(CliError::io("write", &archive_path))?;
        let mut hasher = HashingWriter {
            inner: &mut file,
            hasher: Sha256::new(),
        };
        out.info(format_args!("Downloading {archive_url}"));
        let bar = out.download_bar(None, &archive);
        crate::http::download(&agent, &archive_url, &mut hasher, |total, chunk| {
            if let Some(total) = total
                && bar.length() != Some(total)
            {
                bar.set_length(total);
                bar.set_style(
                    indicatif::ProgressStyle::with_template(
                        "{msg} {bar:30} {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
                    )
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                );
            }
            bar.inc(chunk);
        })
        .inspect_err(|_| bar.abandon())?;
        bar.finish_and_clear();
        let actual = hex(&hasher.hasher.finalize());
        if actual != expected {
            return Err(CliError::ChecksumMismatch {
                archive: archive.clone(),
                expected: expected.clone(),
                actual,
            });
        }
        out.detail(format_args!("SHA-256 {actual} matches {checksums_url}"));

        file.seek(SeekFrom::Start(0))
            .map_err(CliError::io("read", &archive_path))?;
        unpack_binary(&file, &archive, &staging.binary())?;
        staging.commit(layout, version, false)
    })
}

/// A writer that hashes what passes through it.
struct HashingWriter<'a> {
    inner: &'a mut File,
    hasher: Sha256,
}

impl io::Write for HashingWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.hasher.update(&buf[..written]);
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Extracts the `centrifugo` executable, and only it, from a `.tar.gz`: other entries (LICENSE,
/// README) are skipped, and no entry path is ever joined to the file system.
fn unpack_binary(archive_file: &File, archive: &str, destination: &Path) -> Result<()> {
    let corrupt = |err: io::Error| CliError::CorruptArchive {
        archive: archive.to_owned(),
        reason: err.to_string(),
    };
    let decoder = flate2::read::GzDecoder::new(BufReader::new(archive_file));
    let mut tar = tar::Archive::new(decoder);
    for entry in tar.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        let is_binary = entry.header().entry_type().is_file()
            && entry
                .path()
                .map_err(corrupt)?
                .file_name()
                .is_some_and(|name| name == BINARY_NAME);
        if !is_binary {
            continue;
        }
        let mut output = File::create(destination).map_err(CliError::io("write", destination))?;
        io::copy(&mut entry, &mut output).map_err(corrupt)?;
        make_executable(destination)?;
        return Ok(());
    }
    Err(CliError::NoBinaryInArchive {
        archive: archive.to_owned(),
    })
}

#[cfg(unix)]
fn make_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755))
        .map_err(CliError::io("make executable", path))
}

#[cfg(not(unix))]
fn make_executable(_path: &Path) -> Result<()> {
    Ok(())
}

/// Whether a `go` command is on the PATH.
pub(crate) fn go_available() -> bool {
    Command::new("go")
        .arg("version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Builds Centrifugo with `go install <module>@v<version>` into a staging directory (GOBIN),
/// stamping the version into the binary as the official release build does, and installs it.
pub(crate) fn install_from_source(layout: &Layout, version: &str, out: &Output) -> Result<()> {
    if !go_available() {
        return Err(CliError::GoMissing);
    }
    let module = format!("{GO_MODULE}@v{version}");
    in_dir(&layout.dir, || {
        let staging = Staging::new(&layout.dir)?;
        let gobin =
            std::path::absolute(staging.path()).map_err(CliError::io("resolve", staging.path()))?;
        let ldflags = format!("-ldflags=-X {GO_MODULE}/internal/build.Version={version}");
        out.info(format_args!("Building Centrifugo v{version} with `go install {module}` (this takes a few minutes the first time)"));
        out.detail(format_args!(
            "GOBIN={} go install {ldflags} {module}",
            gobin.display()
        ));
        let spinner = out.spinner("go install");
        let child = Command::new("go")
            .args(["install", &ldflags, &module])
            .env("GOBIN", &gobin)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| CliError::Spawn {
                program: PathBuf::from("go"),
                source,
            })?;
        let stop_on_interrupt = Cleanup::child(child.id());
        let output = child
            .wait_with_output()
            .map_err(CliError::io("wait for", "go"))?;
        drop(stop_on_interrupt);
        spinner.finish_and_clear();
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !stderr.trim().is_empty() {
            out.detail(stderr.trim());
        }
        if !output.status.success() {
            let last = stderr
                .lines()
                .rev()
                .find(|line| !line.trim().is_empty())
                .unwrap_or("no output")
                .trim()
                .to_owned();
            return Err(CliError::GoInstall {
                module: module.clone(),
                reason: format!("{}: {last}", output.status),
            });
        }
        staging.commit(layout, version, true)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_v6_triples() {
        assert_eq!(normalize_version("6.9.1").unwrap(), "6.9.1");
        assert_eq!(normalize_version("v6.10.0").unwrap(), "6.10.0");
        assert!(normalize_version("5.4.9").is_err());
        assert!(normalize_version("6.9").is_err());
        assert!(normalize_version("latest").is_err());
    }

    #[test]
    fn release_names_follow_the_release_process() {
        let release = Release {
            version: "6.9.1".to_owned(),
            os: "linux",
            arch: "amd64",
        };
        assert_eq!(
            release.archive_name(),
            "centrifugo_6.9.1_linux_amd64.tar.gz"
        );
        assert_eq!(release.checksums_name(), "centrifugo_6.9.1_checksums.txt");
        assert_eq!(
            release.url("https://example.test/dl/", "x.tar.gz"),
            "https://example.test/dl/v6.9.1/x.tar.gz"
        );
    }

    #[test]
    fn checksum_lines_are_matched_by_exact_file_name() {
        let digest = "a".repeat(64);
        let other = "b".repeat(64);
        let text = format!(
            "{other}  centrifugo_6.9.1_linux_amd64.tar.gz.sig\n{digest}  centrifugo_6.9.1_linux_amd64.tar.gz\n"
        );
        assert_eq!(
            expected_digest(&text, "centrifugo_6.9.1_linux_amd64.tar.gz"),
            Some(digest)
        );
        assert_eq!(
            expected_digest(&text, "centrifugo_6.9.1_linux_arm64.tar.gz"),
            None
        );
        assert_eq!(expected_digest("nonsense  x.tar.gz", "x.tar.gz"), None);
    }
}
