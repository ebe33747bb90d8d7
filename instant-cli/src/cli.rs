//! The command line, declared with clap's derive API.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The Centrifugo release installed when `--version` is not given.
pub(crate) const DEFAULT_CENTRIFUGO_VERSION: &str = "6.9.1";

/// Where official Centrifugo releases are downloaded from; `<base>/v<version>/<archive>`.
pub(crate) const DEFAULT_RELEASE_BASE_URL: &str =
    "https://github.com/centrifugal/centrifugo/releases/download";

/// Install, configure and run Centrifugo for an `instant` app; publish events and mint tokens.
#[derive(Debug, Parser)]
#[command(name = "instant", version, about, long_about = None)]
pub(crate) struct Cli {
    /// Print only errors.
    #[arg(long, short, global = true, conflicts_with = "verbose")]
    pub(crate) quiet: bool,

    /// Print each step and the commands that are run.
    #[arg(long, short, global = true)]
    pub(crate) verbose: bool,

    /// The app's settings file (read for the secret, API key, URLs and declared channels).
    #[arg(
        long,
        global = true,
        env = "INSTANT_CONFIG",
        default_value = "instant.toml",
        value_name = "FILE"
    )]
    pub(crate) settings: PathBuf,

    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Download (or build) Centrifugo v6, write its config and update the app's settings.
    Installws(InstallArgs),
    /// Run the installed Centrifugo with its config until it exits or is interrupted.
    Runws(RunArgs),
    /// Write a Centrifugo v6 config for the app (to stdout unless --output is given).
    Genconfig(GenconfigArgs),
    /// Check the app's settings, the Centrifugo config and that Centrifugo answers.
    Check(CheckArgs),
    /// Publish an event to a channel through Centrifugo's (or an embedded server's) HTTP API.
    Publish(PublishArgs),
    /// Mint a connection token, or a subscription token with --channel, for debugging.
    Token(TokenArgs),
}

/// Where Centrifugo is installed: the directory that holds the binary and its config.
#[derive(Debug, Clone, Args)]
pub(crate) struct InstallDir {
    /// Directory holding the `centrifugo` binary, its version marker and `config.json`.
    #[arg(
        long,
        env = "INSTANT_CENTRIFUGO_DIR",
        default_value = "centrifugo",
        value_name = "PATH"
    )]
    pub(crate) dir: PathBuf,
}

/// Options shared by the commands that write a Centrifugo config.
#[derive(Debug, Clone, Args)]
pub(crate) struct ConfigOptions {
    /// The port Centrifugo listens on (`http_server.port`).
    #[arg(long, default_value_t = 8000)]
    pub(crate) port: u16,

    /// The address Centrifugo binds (`http_server.address`; default: every interface).
    #[arg(long, value_name = "IP")]
    pub(crate) address: Option<String>,

    /// A browser origin allowed to connect (repeatable; default: the settings' allowed
    /// origins, else http://localhost:8080 and http://127.0.0.1:8080).
    #[arg(long = "origin", value_name = "ORIGIN")]
    pub(crate) origins: Vec<String>,

    /// The engine: `memory` for one node, `redis` for several nodes sharing a Redis.
    #[arg(long, value_enum, default_value_t = Engine::Memory)]
    pub(crate) engine: Engine,

    /// The Redis address for `--engine redis`, e.g. redis://127.0.0.1:6379.
    #[arg(long, value_name = "URL", required_if_eq("engine", "redis"))]
    pub(crate) redis_url: Option<String>,
}

/// Centrifugo's engine (`engine.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Engine {
    /// In memory: one node, history lost on restart.
    Memory,
    /// Redis: several nodes, history kept in Redis.
    Redis,
}

/// `instant installws`.
#[derive(Debug, Args)]
pub(crate) struct InstallArgs {
    /// The Centrifugo version to install (v6 only).
    #[arg(long = "version", default_value = DEFAULT_CENTRIFUGO_VERSION, value_name = "VERSION")]
    pub(crate) centrifugo_version: String,

    #[command(flatten)]
    pub(crate) dir: InstallDir,

    /// Build with `go install` instead of downloading a release archive.
    #[arg(long)]
    pub(crate) from_source: bool,

    /// Where release archives are downloaded from (`<URL>/v<VERSION>/<archive>`).
    #[arg(
        long,
        env = "INSTANT_RELEASE_BASE_URL",
        default_value = DEFAULT_RELEASE_BASE_URL,
        value_name = "URL"
    )]
    pub(crate) base_url: String,

    /// Install the binary only: do not write the config nor touch the app's settings.
    #[arg(long)]
    pub(crate) binary_only: bool,

    /// Reinstall even when the right version is already installed.
    #[arg(long)]
    pub(crate) force: bool,

    #[command(flatten)]
    pub(crate) config: ConfigOptions,
}

/// `instant runws`.
#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    pub(crate) dir: InstallDir,

    /// The config to run with (default: `<dir>/config.json`).
    #[arg(long, short, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,

    /// How long to wait for `/health` to answer before giving up.
    #[arg(long, default_value = "30s", value_parser = parse_duration, value_name = "DURATION")]
    pub(crate) health_timeout: Duration,

    /// Run instant's embedded server as its own process instead of Centrifugo, with the same
    /// Centrifugo v6 config (one node, state in memory; no Centrifugo binary needed).
    #[arg(long)]
    pub(crate) embedded: bool,

    /// With --embedded: refuse to start when the config has keys the embedded server does not
    /// support, as `centrifugo checkconfig --strict` refuses unknown keys.
    #[arg(long, requires = "embedded")]
    pub(crate) strict: bool,
}

/// `instant genconfig`.
#[derive(Debug, Args)]
pub(crate) struct GenconfigArgs {
    #[command(flatten)]
    pub(crate) config: ConfigOptions,

    /// Write the config to this file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,

    /// Overwrite --output when it exists.
    #[arg(long)]
    pub(crate) force: bool,
}

/// `instant check`.
#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    #[command(flatten)]
    pub(crate) dir: InstallDir,

    /// The Centrifugo config to check (default: `<dir>/config.json`).
    #[arg(long, short, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
}

/// `instant publish`.
#[derive(Debug, Args)]
pub(crate) struct PublishArgs {
    /// The channel to publish to.
    #[arg(long, short)]
    pub(crate) channel: String,

    /// The event's message.
    #[arg(long, short)]
    pub(crate) message: String,

    /// The event's class, e.g. `created`.
    #[arg(long, short, value_name = "CLASS")]
    pub(crate) event_class: Option<String>,

    /// The event's data, a JSON value.
    #[arg(long, short, value_name = "JSON")]
    pub(crate) data: Option<String>,
}

/// `instant token`.
#[derive(Debug, Args)]
pub(crate) struct TokenArgs {
    /// The user id (`sub` claim); empty for an anonymous visitor.
    #[arg(long, short, default_value = "", value_name = "ID")]
    pub(crate) user: String,

    /// Mint a subscription token for this channel instead of a connection token.
    #[arg(long, short)]
    pub(crate) channel: Option<String>,

    /// How long the token is valid, e.g. `90s`, `15m`, `1h`, `7d`.
    #[arg(long, default_value = "1h", value_parser = parse_duration, value_name = "DURATION")]
    pub(crate) ttl: Duration,
}

/// Parses a duration with the core's one syntax (`90s`, `15m`, `1h`, `7d`, `500ms`, or seconds).
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    instant_core::config::parse_duration(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(604_800)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("42"), Ok(Duration::from_secs(42)));
        assert!(parse_duration("1y").is_err());
        assert!(parse_duration("h").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn redis_engine_requires_an_address() {
        let parsed = Cli::try_parse_from(["instant", "genconfig", "--engine", "redis"]);
        assert!(parsed.is_err());
        let parsed = Cli::try_parse_from([
            "instant",
            "genconfig",
            "--engine",
            "redis",
            "--redis-url",
            "redis://127.0.0.1:6379",
        ]);
        assert!(parsed.is_ok());
    }
}
