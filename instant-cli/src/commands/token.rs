//! `instant token`: a connection or subscription token signed with the app's secret.

use std::time::Duration;

use super::core_config;
use crate::cli::{Cli, TokenArgs};
use crate::error::{CliError, Result};

/// `instant token`.
pub(crate) fn token(cli: &Cli, args: &TokenArgs) -> Result<()> {
    let config = core_config(cli)?;
    if config.secret_is_generated() {
        return Err(CliError::Config(
            "no secret is set, so a token would be signed with a random key nobody checks"
                .to_owned(),
        ));
    }
    if args.ttl < Duration::from_secs(1) {
        return Err(CliError::Usage {
            message: "--ttl must be at least one second".to_owned(),
            fix: "pass e.g. --ttl 1h".to_owned(),
        });
    }
    let tokens = instant_core::Tokens::new(config.secret().clone(), args.ttl);
    let token = match &args.channel {
        Some(channel) => tokens.subscription(&args.user, channel),
        None => tokens.connection(&args.user, None),
    };
    println!("{token}");
    Ok(())
}
