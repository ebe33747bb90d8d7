//! The subcommands other than `runws`, one module each, and what they share.

mod check;
mod genconfig;
mod installws;
mod publish;
mod token;

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

use instant_core::Config;
use serde_json::Value;

pub(crate) use self::check::check;
pub(crate) use self::genconfig::genconfig;
pub(crate) use self::installws::installws;
pub(crate) use self::publish::publish;
pub(crate) use self::token::token;
use crate::centrifugo_config::{self, ConfigInputs, DEFAULT_ORIGINS};
use crate::cli::{Cli, ConfigOptions};
use crate::error::{CliError, Result};
use crate::settings::{AppSettings, settings_error};

/// The allowed origins: `--origin` flags, else the settings', else the local defaults.
fn origins(options: &ConfigOptions, config: &Config) -> Vec<String> {
    if !options.origins.is_empty() {
        return options.origins.clone();
    }
    if !config.allowed_origins().is_empty() {
        return config.allowed_origins().to_vec();
    }
    DEFAULT_ORIGINS.map(str::to_owned).to_vec()
}

/// Builds the config text from the command's options, the app's configuration (its origins and
/// declared channels) and the two keys, attributing channel errors to the settings file.
fn config_text(
    options: &ConfigOptions,
    settings: &AppSettings,
    config: &Config,
    secret: &str,
    api_key: &str,
) -> Result<String> {
    let origins = origins(options, config);
    let inputs = ConfigInputs {
        secret,
        api_key,
        port: options.port,
        address: options.address.as_deref(),
        allowed_origins: &origins,
        engine: options.engine,
        redis_url: options.redis_url.as_deref(),
        channels: config.channels(),
    };
    let json = centrifugo_config::build(&inputs)
        .map_err(|reason| centrifugo_config::channel_error(&settings.path, reason))?;
    Ok(centrifugo_config::render(&json))
}

/// Reads a Centrifugo JSON config.
fn read_centrifugo_config(path: &Path) -> Result<Value> {
    if !path.is_file() {
        return Err(CliError::NoCentrifugoConfig {
            path: path.to_owned(),
        });
    }
    let text = fs::read_to_string(path).map_err(CliError::io("read", path))?;
    serde_json::from_str(&text).map_err(|err| CliError::Settings {
        path: path.to_owned(),
        reason: format!("not valid JSON: {err}"),
    })
}

/// Runs `centrifugo checkconfig --config FILE --strict`; its error line on failure.
fn checkconfig(binary: &Path, config: &Path) -> std::result::Result<(), String> {
    let output = Command::new(binary)
        .args(["checkconfig", "--strict", "--config"])
        .arg(config)
        .stdin(Stdio::null())
        .output()
        .map_err(|err| format!("cannot run {}: {err}", binary.display()))?;
    if output.status.success() {
        return Ok(());
    }
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Err(text
        .lines()
        .map(str::trim)
        .rfind(|line| !line.is_empty())
        .unwrap_or("no output")
        .to_owned())
}

/// The app's configuration, validated by the core.
fn core_config(cli: &Cli) -> Result<Config> {
    let settings = AppSettings::load(&cli.settings)?;
    settings
        .config()
        .map_err(|err| settings_error(&settings.path, &err))
}
