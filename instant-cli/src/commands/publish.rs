//! `instant publish`: one event through Centrifugo's HTTP API.

use std::path::PathBuf;
use std::sync::Arc;

use instant_core::paths::API_PATH;
use serde_json::Value;

use super::core_config;
use crate::cli::{Cli, PublishArgs};
use crate::error::{CliError, Result};
use crate::output::Output;

/// `instant publish`.
pub(crate) fn publish(cli: &Cli, args: &PublishArgs, out: &Output) -> Result<()> {
    let data: Option<Value> = match &args.data {
        Some(text) => Some(serde_json::from_str(text).map_err(|err| CliError::Usage {
            message: format!("--data is not JSON: {err}"),
            fix: "quote the value for the shell, e.g. --data '{\"id\": 1}'".to_owned(),
        })?),
        None => None,
    };
    instant_core::validate_name(
        &args.channel,
        if args.channel.starts_with(instant_core::PRIVATE_PREFIX) {
            instant_core::Level::Users
        } else {
            instant_core::Level::Public
        },
    )
    .map_err(|err| CliError::Usage {
        message: err.to_string(),
        fix: "pass a valid channel name to --channel".to_owned(),
    })?;
    let config = core_config(cli)?;
    let Some(url) = config.centrifugo_url().map(str::to_owned) else {
        return Err(CliError::Config(
            "no centrifugo_url is set, so there is no server to publish to".to_owned(),
        ));
    };
    let client = instant_core::CentrifugoClient::new(&config)
        .map_err(|err| CliError::Config(err.to_string()))?;
    let publisher = instant_core::Publisher::new(Arc::new(client), config.site_slug());
    let mut request = publisher.publish(args.channel.clone(), args.message.clone());
    if let Some(class) = &args.event_class {
        request = request.event_class(class.clone());
    }
    if let Some(data) = data {
        request = request.data(data);
    }
    out.detail(format_args!(
        "publishing to {:?} through {url}{API_PATH}",
        args.channel
    ));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| CliError::Spawn {
            program: PathBuf::from("tokio runtime"),
            source,
        })?;
    match runtime.block_on(request.into_future()) {
        Ok(_) => {
            out.success(format_args!(
                "published to {:?} through {url}",
                args.channel
            ));
            Ok(())
        }
        Err(err) => Err(CliError::Publish {
            channel: args.channel.clone(),
            unreachable: matches!(
                err,
                instant_core::PublishError::Unreachable { .. }
                    | instant_core::PublishError::Timeout(_)
            ),
            reason: err.to_string(),
        }),
    }
}
