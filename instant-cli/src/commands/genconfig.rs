//! `instant genconfig`: Centrifugo's config from the app's settings and declared channels.

use super::config_text;
use crate::centrifugo_config;
use crate::cli::{Cli, GenconfigArgs};
use crate::error::{CliError, Result};
use crate::output::Output;
use crate::settings::{self, AppSettings, SharedKeys};

/// `instant genconfig`.
pub(crate) fn genconfig(cli: &Cli, args: &GenconfigArgs, out: &Output) -> Result<()> {
    let settings = AppSettings::load(&cli.settings)?;
    let shared = settings.shared_keys()?;
    if let Some(output) = &args.output
        && output.exists()
        && !args.force
    {
        return Err(CliError::WouldOverwrite {
            path: output.clone(),
        });
    }
    let SharedKeys {
        config,
        secret,
        api_key,
    } = shared;
    let missing: Vec<&str> = [
        (
            secret.is_none(),
            "`secret` (from client.token.hmac_secret_key)",
        ),
        (
            api_key.is_none(),
            "`centrifugo_api_key` (from http_api.key)",
        ),
    ]
    .into_iter()
    .filter_map(|(missing, what)| missing.then_some(what))
    .collect();
    if !missing.is_empty() {
        out.warn(format_args!(
            "the settings lack {}, so the config holds new random values: copy them into {} (or run `instant installws`, which does it)",
            missing.join(" and "),
            settings.path.display()
        ));
    }
    let secret = secret.unwrap_or_else(centrifugo_config::random_key);
    let api_key = api_key.unwrap_or_else(centrifugo_config::random_key);
    let text = config_text(&args.config, &settings, &config, &secret, &api_key)?;
    match &args.output {
        Some(path) => {
            settings::write_atomically(path, text.as_bytes())?;
            out.success(format_args!("wrote {}", path.display()));
        }
        None => print!("{text}"),
    }
    Ok(())
}
