//! `instant check`: the app's settings, the Centrifugo config, the shared secret and key, and the
//! running server, one line per problem.

use std::time::Duration;

use instant_core::Config;
use instant_core::config::keys;

use super::{checkconfig, read_centrifugo_config};
use crate::centrifugo_config;
use crate::cli::{CheckArgs, Cli};
use crate::error::{CliError, Result};
use crate::http::{self, KeyCheck};
use crate::install::Layout;
use crate::output::Output;
use crate::settings::AppSettings;

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

    // 1. The app's settings, validated by the core as the app will validate them, and every key
    //    with its value and where it came from.
    let settings = match AppSettings::load(&cli.settings) {
        Ok(settings) => Some(settings),
        Err(err) => {
            problems.problem(&err, err.fix().unwrap_or_default());
            None
        }
    };
    let core = settings.as_ref().and_then(|s| match s.config() {
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
    if let (Some(settings), Some(config)) = (&settings, &core) {
        report_settings(settings, config, &mut problems);
        if let Err(reason) = centrifugo_config::validate_channels(config.channels()) {
            problems.problem(
                format_args!(
                    "invalid [[channels]] in {}: {reason}",
                    settings.path.display()
                ),
                "correct the channel declaration",
            );
        }
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

/// Prints every setting of the core's table with its value (secrets redacted) and source, on
/// standard output, and checks that the configured paths exist.
fn report_settings(settings: &AppSettings, config: &Config, problems: &mut Problems<'_>) {
    println!(
        "settings: {} ({}), then INSTANT_* variables",
        settings.path.display(),
        if settings.file_exists {
            "read"
        } else {
            "absent"
        }
    );
    for setting in config.setting_values() {
        println!(
            "  {:<28} {:<20} = {} ({})",
            setting.key.env,
            setting.key.name,
            setting.value.as_deref().unwrap_or("(none)"),
            setting.source
        );
    }
    for channel in config.channels() {
        println!(
            "  [[channels]] {} ({}){}",
            channel.name,
            channel.level,
            if channel.paths.is_empty() {
                String::new()
            } else {
                format!(" at {}", channel.paths.join(", "))
            }
        );
    }
    let paths = [
        (&keys::TEMPLATES_DIR, config.templates_dir(), true),
        (&keys::CENTRIFUGE_JS, config.centrifuge_js(), false),
    ];
    for (key, path, is_dir) in paths {
        let Some(path) = path else { continue };
        let found = if is_dir {
            path.is_dir()
        } else {
            path.is_file()
        };
        if !found {
            problems.problem(
                format_args!(
                    "{} ({}) names {}, which is not {}",
                    key.env,
                    key.name,
                    path.display(),
                    if is_dir { "a directory" } else { "a file" }
                ),
                format_args!("create it, or correct or unset {}", key.env),
            );
        }
    }
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
