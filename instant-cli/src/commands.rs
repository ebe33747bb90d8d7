//! The subcommands other than `runws`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::centrifugo_config::{self, ConfigInputs, DEFAULT_ORIGINS};
use crate::cli::{
    CheckArgs, Cli, ConfigOptions, GenconfigArgs, InstallArgs, PublishArgs, TokenArgs,
};
use crate::error::{CliError, Result};
use crate::http::{self, KeyCheck};
use crate::install::{self, Layout};
use crate::output::Output;
use crate::settings::{self, AppSettings, KEY_API_KEY, KEY_CENTRIFUGO_URL, KEY_SECRET};

/// The allowed origins: `--origin` flags, else the settings', else the local defaults.
fn origins(options: &ConfigOptions, settings: &AppSettings) -> Vec<String> {
    if !options.origins.is_empty() {
        return options.origins.clone();
    }
    settings
        .allowed_origins()
        .filter(|origins| !origins.is_empty())
        .unwrap_or_else(|| DEFAULT_ORIGINS.map(str::to_owned).to_vec())
}

/// Builds the config text from the command's options, the settings and the two keys,
/// attributing channel errors to the settings file.
fn config_text(
    options: &ConfigOptions,
    settings: &AppSettings,
    secret: &str,
    api_key: &str,
) -> Result<String> {
    let origins = origins(options, settings);
    let inputs = ConfigInputs {
        secret,
        api_key,
        port: options.port,
        address: options.address.as_deref(),
        allowed_origins: &origins,
        engine: options.engine,
        redis_url: options.redis_url.as_deref(),
        channels: &settings.channels,
    };
    let config = centrifugo_config::build(&inputs)
        .map_err(|reason| centrifugo_config::channel_error(&settings.path, reason))?;
    Ok(centrifugo_config::render(&config))
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

/// `instant installws`.
pub(crate) fn installws(cli: &Cli, args: &InstallArgs, out: &Output) -> Result<()> {
    let version = install::normalize_version(&args.centrifugo_version)?;
    let layout = Layout::new(&args.dir.dir);
    // Read the settings first: a broken settings file should stop the command before it downloads.
    let settings = if args.binary_only {
        None
    } else {
        let settings = AppSettings::load(&cli.settings)?;
        centrifugo_config::validate_channels(&settings.channels)
            .map_err(|reason| centrifugo_config::channel_error(&settings.path, reason))?;
        Some(settings)
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

    let Some(settings) = settings else {
        return Ok(());
    };
    write_config_and_settings(args, &settings, &layout, out)
}

/// Writes `<dir>/config.json` and puts the same secret, API key and URLs into the app's settings.
/// Values already in the settings (or, failing that, in an existing config) are kept, so running
/// `installws` again changes nothing.
fn write_config_and_settings(
    args: &InstallArgs,
    settings: &AppSettings,
    layout: &Layout,
    out: &Output,
) -> Result<()> {
    let existing = read_centrifugo_config(&layout.config())
        .ok()
        .map(|config| centrifugo_config::shared_values(&config));
    let pick = |key: &str, from_config: Option<&String>| {
        settings
            .get(key)
            .map(str::to_owned)
            .or_else(|| from_config.cloned())
            .unwrap_or_else(centrifugo_config::random_key)
    };
    let secret = pick(
        KEY_SECRET,
        existing.as_ref().and_then(|e| e.secret.as_ref()),
    );
    let api_key = pick(
        KEY_API_KEY,
        existing.as_ref().and_then(|e| e.api_key.as_ref()),
    );
    let text = config_text(&args.config, settings, &secret, &api_key)?;
    write_checked_config(&layout.binary(), &layout.config(), &text)?;
    out.success(format_args!("wrote {}", layout.config().display()));

    let centrifugo_url = format!("http://localhost:{}", args.config.port);
    let websocket_url = format!("ws://localhost:{}/connection/websocket", args.config.port);
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
    let url_variable = settings::env_name(KEY_CENTRIFUGO_URL);
    if let Ok(value) = std::env::var(&url_variable)
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

/// `instant genconfig`.
pub(crate) fn genconfig(cli: &Cli, args: &GenconfigArgs, out: &Output) -> Result<()> {
    let settings = AppSettings::load(&cli.settings)?;
    if let Some(output) = &args.output
        && output.exists()
        && !args.force
    {
        return Err(CliError::WouldOverwrite {
            path: output.clone(),
        });
    }
    let secret = settings.get(KEY_SECRET).map(str::to_owned);
    let api_key = settings.get(KEY_API_KEY).map(str::to_owned);
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
    let text = config_text(&args.config, &settings, &secret, &api_key)?;
    match &args.output {
        Some(path) => {
            settings::write_atomically(path, text.as_bytes())?;
            out.success(format_args!("wrote {}", path.display()));
        }
        None => print!("{text}"),
    }
    Ok(())
}

/// The problems `check` found, printed as they are found.
struct Problems<'a> {
    out: &'a Output,
    count: usize,
}

impl Problems<'_> {
    fn problem(&mut self, what: impl std::fmt::Display, fix: impl std::fmt::Display) {
        self.count += 1;
        self.out.error(format_args!("{what}; fix: {fix}"));
    }
}

/// `instant check`.
pub(crate) fn check(cli: &Cli, args: &CheckArgs, out: &Output) -> Result<()> {
    let mut problems = Problems { out, count: 0 };
    let layout = Layout::new(&args.dir.dir);
    let config_path = args.config.clone().unwrap_or_else(|| layout.config());

    // 1. The app's settings, validated by the core as the app will validate them.
    let settings = match AppSettings::load(&cli.settings) {
        Ok(settings) => Some(settings),
        Err(err) => {
            problems.problem(&err, err.fix().unwrap_or_default());
            None
        }
    };
    let core = settings.as_ref().and_then(|s| match s.core_config() {
        Ok(config) => Some(config),
        Err(err) => {
            problems.problem(
                format_args!("invalid settings: {err}"),
                format_args!(
                    "correct it in {} or the INSTANT_* environment variable",
                    cli.settings.display()
                ),
            );
            None
        }
    });
    if let Some(settings) = &settings
        && let Err(reason) = centrifugo_config::validate_channels(&settings.channels)
    {
        problems.problem(
            format_args!(
                "invalid [[channels]] in {}: {reason}",
                settings.path.display()
            ),
            "correct the channel declaration",
        );
    }
    if let Some(config) = &core {
        out.success(format_args!(
            "settings are valid ({})",
            if config.is_embedded() {
                "embedded server".to_owned()
            } else {
                format!(
                    "Centrifugo at {}",
                    config.centrifugo_url().unwrap_or_default()
                )
            }
        ));
    }
    let embedded = core.as_ref().is_some_and(instant_core::Config::is_embedded);
    if embedded && !config_path.exists() {
        out.info("No Centrifugo config and no centrifugo_url: the app uses its embedded server; nothing more to check.");
        return finish(&problems);
    }

    // 2. The Centrifugo config: present, v6 key names, accepted by `centrifugo checkconfig --strict`.
    let centrifugo = match read_centrifugo_config(&config_path) {
        Ok(config) => Some(config),
        Err(err) => {
            problems.problem(&err, err.fix().unwrap_or_default());
            None
        }
    };
    let shared = centrifugo.as_ref().map(centrifugo_config::shared_values);
    if let Some(shared) = &shared {
        for v5 in &shared.v5_keys {
            let v6 = centrifugo_config::V5_KEYS
                .iter()
                .find(|(old, _)| old == v5)
                .map_or("", |(_, new)| *new);
            problems.problem(
                format_args!(
                    "{} uses the v5 key `{v5}`, which Centrifugo v6 ignores",
                    config_path.display()
                ),
                format_args!("rename it to `{v6}` (or run `instant genconfig`)"),
            );
        }
        if shared.allowed_origins.is_empty() {
            problems.problem(
                format_args!(
                    "{} has an empty client.allowed_origins, so every browser connection is refused",
                    config_path.display()
                ),
                "add your site's origin, e.g. \"http://localhost:8080\" (or `instant genconfig --origin ...`)",
            );
        }
    }
    let binary = layout.binary();
    if centrifugo.is_some() {
        if binary.is_file() {
            match checkconfig(&binary, &config_path) {
                Ok(()) => out.success(format_args!(
                    "`centrifugo checkconfig --strict` accepts {}",
                    config_path.display()
                )),
                Err(message) => problems.problem(
                    format_args!(
                        "`centrifugo checkconfig --strict` rejects {}: {message}",
                        config_path.display()
                    ),
                    "correct the config, or regenerate it with `instant genconfig`",
                ),
            }
        } else {
            out.warn(format_args!(
                "Centrifugo is not installed at {}; skipping `checkconfig` (run `instant installws`)",
                binary.display()
            ));
        }
    }

    // 3. The secret and API key must be the same on both sides.
    if let (Some(config), Some(shared)) = (&core, &shared) {
        if config.secret_is_generated()
            || shared.secret.as_deref() != Some(config.secret().expose_secret())
        {
            problems.problem(
                format_args!(
                    "the settings' secret differs from client.token.hmac_secret_key in {}",
                    config_path.display()
                ),
                "set `secret` (INSTANT_SECRET) to the config's client.token.hmac_secret_key, or run `instant installws`",
            );
        } else {
            out.success("the secret matches client.token.hmac_secret_key");
        }
        match config.api_key() {
            Some(key) if shared.api_key.as_deref() == Some(key.expose_secret()) => {
                out.success("the API key matches http_api.key");
            }
            Some(_) => problems.problem(
                format_args!("the settings' centrifugo_api_key differs from http_api.key in {}", config_path.display()),
                "set `centrifugo_api_key` (INSTANT_CENTRIFUGO_API_KEY) to the config's http_api.key, or run `instant installws`",
            ),
            None => problems.problem(
                "the settings set no centrifugo_api_key, so publishing to Centrifugo is refused",
                "set `centrifugo_api_key` (INSTANT_CENTRIFUGO_API_KEY) to the config's http_api.key, or run `instant installws`",
            ),
        }
        if config.is_embedded() {
            problems.problem(
                "the settings set no centrifugo_url, so the app ignores Centrifugo and uses its embedded server",
                format_args!(
                    "set `centrifugo_url` (INSTANT_CENTRIFUGO_URL) to http://localhost:{}",
                    shared.port
                ),
            );
        }
        if let Some(url) = config.centrifugo_url()
            && let Some(port) = local_port(url)
            && port != shared.port
        {
            problems.problem(
                format_args!(
                    "centrifugo_url {url} names port {port}, but {} makes Centrifugo listen on {}",
                    config_path.display(),
                    shared.port
                ),
                "make the two ports equal (`instant genconfig --port` or centrifugo_url)",
            );
        }
    }

    // 4. Centrifugo answers, and accepts the API key.
    if let Some(config) = &core
        && let Some(url) = config.centrifugo_url()
    {
        let agent = http::probe_agent(Duration::from_secs(5));
        match http::healthy(&agent, url) {
            Ok(()) => {
                out.success(format_args!("Centrifugo answers at {url}/health"));
                if let Some(key) = config.api_key() {
                    match http::check_api_key(&agent, url, key.expose_secret()) {
                        KeyCheck::Accepted => out.success("Centrifugo accepts the API key"),
                        KeyCheck::Rejected => problems.problem(
                            format_args!("Centrifugo at {url} refuses the API key (HTTP 401)"),
                            "make centrifugo_api_key equal to the running server's http_api.key, and restart it after changing its config",
                        ),
                        KeyCheck::Failed(reason) => problems.problem(
                            format_args!("the API call to Centrifugo failed: {reason}"),
                            "check that centrifugo_url points at Centrifugo itself",
                        ),
                    }
                }
            }
            Err(reason) => problems.problem(
                format_args!("Centrifugo does not answer: {reason}"),
                "start it with `instant runws` (health.enabled must be true), or correct centrifugo_url",
            ),
        }
    }
    finish(&problems)
}

/// The port of a URL on this machine (`localhost`, `127.0.0.1`, `[::1]`), default 80/443;
/// `None` for other hosts, whose port may be a proxy's.
fn local_port(url: &str) -> Option<u16> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') => (host, Some(port.parse().ok()?)),
        _ => (authority, None),
    };
    if !matches!(host, "localhost" | "127.0.0.1" | "[::1]") {
        return None;
    }
    Some(port.unwrap_or(if scheme == "https" { 443 } else { 80 }))
}

fn finish(problems: &Problems<'_>) -> Result<()> {
    if problems.count == 0 {
        problems.out.success("no problems found");
        Ok(())
    } else {
        Err(CliError::CheckFailed {
            count: problems.count,
        })
    }
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
fn core_config(cli: &Cli) -> Result<instant_core::Config> {
    AppSettings::load(&cli.settings)?
        .core_config()
        .map_err(|err| CliError::Config(err.to_string()))
}

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
        "publishing to {:?} through {url}/api",
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

#[cfg(test)]
mod tests {
    use super::local_port;

    #[test]
    fn local_ports_are_read_from_urls() {
        assert_eq!(local_port("http://localhost:8000"), Some(8000));
        assert_eq!(local_port("http://127.0.0.1:9/api"), Some(9));
        assert_eq!(local_port("https://localhost"), Some(443));
        assert_eq!(local_port("http://[::1]:8001"), Some(8001));
        assert_eq!(local_port("http://[::1]"), Some(80));
        assert_eq!(local_port("https://rt.example.com:8443"), None);
    }
}
