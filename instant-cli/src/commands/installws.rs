//! `instant installws`: install Centrifugo, write its config, and put the shared values into the
//! app's settings.

use std::path::Path;

use instant_core::config::keys;
use instant_core::paths::WEBSOCKET_PATH;

use super::{checkconfig, config_text, read_centrifugo_config};
use crate::centrifugo_config;
use crate::cli::{Cli, InstallArgs};
use crate::error::{CliError, Result};
use crate::install::{self, Layout};
use crate::output::Output;
use crate::settings::{self, AppSettings, SharedKeys};

/// `instant installws`.
pub(crate) fn installws(cli: &Cli, args: &InstallArgs, out: &Output) -> Result<()> {
    let version = install::normalize_version(&args.centrifugo_version)?;
    let layout = Layout::new(&args.dir.dir);
    // Read the settings first: a broken settings file should stop the command before it downloads.
    let settings = if args.binary_only {
        None
    } else {
        let settings = AppSettings::load(&cli.settings)?;
        let shared = settings.shared_keys()?;
        centrifugo_config::validate_channels(shared.config.channels())
            .map_err(|reason| centrifugo_config::channel_error(&settings.path, reason))?;
        Some((settings, shared))
    };

    let current = install::installed_version(&layout);
    if !args.force && current.as_deref() == Some(version.as_str()) {
        out.success(format_args!(
            "Centrifugo v{version} is already installed at {}",
            layout.binary().display()
        ));
    } else {
        if let Some(current) = &current {
            out.info(format_args!(
                "Replacing Centrifugo v{current} with v{version}"
            ));
        }
        if args.from_source {
            install::install_from_source(&layout, &version, out)?;
        } else {
            match install::install_release(&layout, &version, &args.base_url, out) {
                Err(CliError::Unreachable { url, reason }) if install::go_available() => {
                    out.warn(format_args!(
                        "cannot reach {url} ({reason}); building from source with Go instead"
                    ));
                    install::install_from_source(&layout, &version, out)?;
                }
                other => other?,
            }
        }
        out.success(format_args!(
            "installed Centrifugo v{version} at {}",
            layout.binary().display()
        ));
    }

    let Some((settings, shared)) = settings else {
        return Ok(());
    };
    write_config_and_settings(args, &settings, &shared, &layout, out)
}

/// Writes `<dir>/config.json` and puts the same secret, API key and URLs into the app's settings.
/// Values already in the settings (or, failing that, in an existing config) are kept, so running
/// `installws` again changes nothing.
fn write_config_and_settings(
    args: &InstallArgs,
    settings: &AppSettings,
    shared: &SharedKeys,
    layout: &Layout,
    out: &Output,
) -> Result<()> {
    let existing = read_centrifugo_config(&layout.config())
        .ok()
        .map(|config| centrifugo_config::shared_values(&config));
    let pick = |from_settings: Option<&String>, from_config: Option<&String>| {
        from_settings
            .or(from_config)
            .cloned()
            .unwrap_or_else(centrifugo_config::random_key)
    };
    let secret = pick(
        shared.secret.as_ref(),
        existing.as_ref().and_then(|e| e.secret.as_ref()),
    );
    let api_key = pick(
        shared.api_key.as_ref(),
        existing.as_ref().and_then(|e| e.api_key.as_ref()),
    );
    let text = config_text(&args.config, settings, &shared.config, &secret, &api_key)?;
    write_checked_config(&layout.binary(), &layout.config(), &text)?;
    out.success(format_args!("wrote {}", layout.config().display()));

    let centrifugo_url = format!("http://localhost:{}", args.config.port);
    let websocket_url = format!("ws://localhost:{}{WEBSOCKET_PATH}", args.config.port);
    let updated = settings::update(
        &settings.path,
        &settings::SettingsUpdate {
            secret: &secret,
            api_key: &api_key,
            centrifugo_url: &centrifugo_url,
            websocket_url: &websocket_url,
        },
    )?;
    for file in &updated.files {
        out.success(format_args!(
            "updated {} (secret, centrifugo_api_key, centrifugo_url, websocket_url)",
            file.display()
        ));
    }
    // The secret and API key came from the environment when it set them, so only the URL can
    // disagree with what was written.
    let url_variable = keys::CENTRIFUGO_URL.env;
    if let Ok(value) = std::env::var(url_variable)
        && !value.is_empty()
        && value.trim_end_matches('/') != centrifugo_url
    {
        out.warn(format_args!(
            "{url_variable}={value} in the environment overrides centrifugo_url = \"{centrifugo_url}\" in {}; unset it or change it",
            settings.path.display()
        ));
    }
    out.info(format_args!(
        "Start it with `instant runws{}`, then check everything with `instant check`.",
        if layout.dir == Path::new("centrifugo") {
            String::new()
        } else {
            format!(" --dir {}", layout.dir.display())
        }
    ));
    Ok(())
}

/// Writes the config through a temporary `.json` file that the installed Centrifugo must accept
/// (`checkconfig --strict`) before it replaces `path`.
fn write_checked_config(binary: &Path, path: &Path, text: &str) -> Result<()> {
    use std::io::Write as _;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut temp = tempfile::Builder::new()
        .prefix(".config-")
        .suffix(".json")
        .tempfile_in(dir)
        .map_err(CliError::io("write", dir))?;
    temp.write_all(text.as_bytes())
        .map_err(CliError::io("write", temp.path()))?;
    checkconfig(binary, temp.path()).map_err(|reason| CliError::Settings {
        path: path.to_owned(),
        reason: format!(
            "the generated config is refused by `centrifugo checkconfig --strict`: {reason}"
        ),
    })?;
    temp.persist(path)
        .map_err(|err| CliError::io("write", path)(err.error))?;
    Ok(())
}
