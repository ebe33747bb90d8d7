//! The app's settings as the command sees them: `instant.toml` and `INSTANT_*` variables, read
//! by `instant_core`'s one loader ([`ConfigBuilder::from_sources`]), the way the app reads them
//! with `Config::load` (the file, then the environment over it).
//!
//! The command parses no key itself: the secret, the API key, the allowed origins and the declared
//! channels it copies into Centrifugo's config come from the validated [`Config`]. Only
//! `installws` touches the file's text, to write its values back with comments kept. A `.env` file
//! is not read (the core does not read it either), but `installws` rewrites the `INSTANT_*` lines
//! it finds there so that an app that loads `.env` with dotenv does not keep stale values.

use std::fs;
use std::path::{Path, PathBuf};

use instant_core::config::keys::{self, SettingKey};
use instant_core::{Config, ConfigBuilder, ConfigError};

use crate::error::{CliError, Result};

/// The file of environment variables next to the settings file, loaded by apps that use dotenv.
pub(crate) fn dotenv_path(settings: &Path) -> PathBuf {
    settings
        .parent()
        .map_or_else(|| PathBuf::from(".env"), |dir| dir.join(".env"))
}

/// The app's settings: the file (when it exists) and the environment, read by the core.
#[derive(Debug)]
pub(crate) struct AppSettings {
    /// The settings file, whether or not it exists.
    pub(crate) path: PathBuf,
    /// Whether the file exists.
    pub(crate) file_exists: bool,
    /// The layered, not yet validated settings.
    builder: ConfigBuilder,
}

/// The app's configuration for writing Centrifugo's: the secret and API key only when the
/// settings set them.
#[derive(Debug)]
pub(crate) struct SharedKeys {
    /// The configuration, validated (with a stand-in secret when none is set).
    pub(crate) config: Config,
    /// The HMAC secret, when the settings set one.
    pub(crate) secret: Option<String>,
    /// The API key, when the settings set one.
    pub(crate) api_key: Option<String>,
}

impl AppSettings {
    /// Reads `path` (when it exists) and the process environment.
    pub(crate) fn load(path: &Path) -> Result<Self> {
        Self::load_with_env(path, std::env::vars())
    }

    /// Like [`AppSettings::load`] with an explicit environment, for tests.
    pub(crate) fn load_with_env(
        path: &Path,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self> {
        let file_exists = path.is_file();
        let builder = ConfigBuilder::from_sources(file_exists.then_some(path), env)
            .map_err(|err| settings_error(path, &err))?;
        Ok(Self {
            path: path.to_owned(),
            file_exists,
            builder,
        })
    }

    /// The app's configuration as the app validates it.
    pub(crate) fn config(&self) -> std::result::Result<Config, ConfigError> {
        self.builder.clone().build()
    }

    /// The configuration for writing Centrifugo's config: a missing secret is not an error here
    /// (the command makes one), any other invalid value is.
    pub(crate) fn shared_keys(&self) -> Result<SharedKeys> {
        let (config, secret) = match self.config() {
            Ok(config) => {
                let secret = (!config.secret_is_generated())
                    .then(|| config.secret().expose_secret().to_owned());
                (config, secret)
            }
            Err(ConfigError::Missing { key, .. })
                if key == keys::SECRET.name || key == keys::SECRET.env =>
            {
                let stand_in = crate::centrifugo_config::random_key();
                let config = self
                    .builder
                    .clone()
                    .secret(stand_in)
                    .build()
                    .map_err(|err| settings_error(&self.path, &err))?;
                (config, None)
            }
            Err(err) => return Err(settings_error(&self.path, &err)),
        };
        let api_key = config.api_key().map(|key| key.expose_secret().to_owned());
        Ok(SharedKeys {
            config,
            secret,
            api_key,
        })
    }
}

/// A settings error of the core as the command's.
pub(crate) fn settings_error(path: &Path, err: &ConfigError) -> CliError {
    match err {
        ConfigError::Io { .. } | ConfigError::Parse { .. } | ConfigError::UnknownKey { .. } => {
            CliError::Settings {
                path: path.to_owned(),
                reason: err.to_string(),
            }
        }
        _ => CliError::Config(err.to_string()),
    }
}

/// The values `installws` writes into the app's settings.
#[derive(Debug)]
pub(crate) struct SettingsUpdate<'a> {
    /// The HMAC secret shared with Centrifugo.
    pub(crate) secret: &'a str,
    /// The HTTP API key shared with Centrifugo.
    pub(crate) api_key: &'a str,
    /// Centrifugo's base URL.
    pub(crate) centrifugo_url: &'a str,
    /// The WebSocket URL browsers connect to.
    pub(crate) websocket_url: &'a str,
}

impl SettingsUpdate<'_> {
    fn pairs(&self) -> [(&'static SettingKey, &str); 4] {
        [
            (&keys::SECRET, self.secret),
            (&keys::CENTRIFUGO_API_KEY, self.api_key),
            (&keys::CENTRIFUGO_URL, self.centrifugo_url),
            (&keys::WEBSOCKET_URL, self.websocket_url),
        ]
    }
}

/// Which files an update changed.
#[derive(Debug, Default)]
pub(crate) struct Updated {
    /// The files written.
    pub(crate) files: Vec<PathBuf>,
}

/// Writes the values into `instant.toml` (created when missing, comments and other keys kept) and
/// into `.env` when that file exists and already sets one of them, so an `INSTANT_*` line there
/// does not override the new values.
pub(crate) fn update(settings_path: &Path, update: &SettingsUpdate<'_>) -> Result<Updated> {
    let mut updated = Updated::default();
    let text = if settings_path.exists() {
        fs::read_to_string(settings_path).map_err(CliError::io("read", settings_path))?
    } else {
        String::from("# Settings of the instant real-time events (see `instant --help`).\n")
    };
    let mut document: toml_edit::DocumentMut =
        text.parse()
            .map_err(|err: toml_edit::TomlError| CliError::Settings {
                path: settings_path.to_owned(),
                reason: err.message().to_owned(),
            })?;
    for (key, value) in update.pairs() {
        document[key.name] = toml_edit::value(value);
    }
    write_atomically(settings_path, document.to_string().as_bytes())?;
    updated.files.push(settings_path.to_owned());

    let dotenv = dotenv_path(settings_path);
    if dotenv.exists() {
        let text = fs::read_to_string(&dotenv).map_err(CliError::io("read", &dotenv))?;
        if let Some(new_text) = update_dotenv(&text, &update.pairs()) {
            write_atomically(&dotenv, new_text.as_bytes())?;
            updated.files.push(dotenv);
        }
    }
    Ok(updated)
}

/// Replaces the `INSTANT_*` lines for the given keys; `None` when the file sets none of them.
fn update_dotenv(text: &str, pairs: &[(&'static SettingKey, &str)]) -> Option<String> {
    let mut changed = false;
    let mut lines: Vec<String> = text
        .lines()
        .map(|line| {
            let trimmed = line.trim_start();
            let body = trimmed.strip_prefix("export ").unwrap_or(trimmed);
            for (key, value) in pairs {
                let name = key.env;
                if body
                    .split_once('=')
                    .is_some_and(|(left, _)| left.trim() == name)
                {
                    changed = true;
                    return format!("{name}={value}");
                }
            }
            line.to_owned()
        })
        .collect();
    if !changed {
        return None;
    }
    lines.push(String::new());
    Some(lines.join("\n"))
}

/// Writes a file through a temporary file in the same directory and a rename, so readers never
/// see half a file.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir).map_err(CliError::io("create", &dir))?;
    let mut temp = tempfile::NamedTempFile::new_in(&dir).map_err(CliError::io("write", &dir))?;
    temp.write_all(bytes).map_err(CliError::io("write", path))?;
    temp.persist(path)
        .map_err(|err| CliError::io("write", path)(err.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use instant_core::Level;

    use super::*;

    #[test]
    fn settings_file_then_environment() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("instant.toml");
        fs::write(
            &path,
            r#"
secret = "from-file-0123456789abcdef0123456789abcdef"
centrifugo_api_key = "key-from-file"
site_name = "Demo"
debug = true
allowed_origins = ["http://a.test", "http://b.test"]

[[channels]]
name = "news"
paths = ["/news"]

[[channels]]
name = "$staff"
level = "staff"
presence = true
"#,
        )
        .unwrap();
        let settings = AppSettings::load_with_env(
            &path,
            [
                (
                    "INSTANT_SECRET".to_owned(),
                    "from-env-0123456789abcdef0123456789abcdef".to_owned(),
                ),
                ("INSTANT_SITE_SLUG".to_owned(), String::new()),
            ],
        )
        .unwrap();
        let shared = settings.shared_keys().unwrap();
        assert_eq!(
            shared.secret.as_deref(),
            Some("from-env-0123456789abcdef0123456789abcdef")
        );
        assert_eq!(shared.api_key.as_deref(), Some("key-from-file"));
        let config = shared.config;
        assert_eq!(config.site_name(), "Demo");
        assert_eq!(config.site_slug(), "site");
        assert!(config.debug());
        assert_eq!(config.allowed_origins(), ["http://a.test", "http://b.test"]);
        assert_eq!(config.channels().len(), 2);
        assert_eq!(config.channels()[0].level, Level::Public);
        assert_eq!(config.channels()[0].paths, ["/news"]);
        assert!(config.channels()[0].options.recovers());
        assert!(config.channels()[1].options.presence);
    }

    #[test]
    fn a_missing_secret_is_left_to_the_command() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("instant.toml");
        fs::write(&path, "centrifugo_url = \"http://localhost:8000\"\n").unwrap();
        let settings = AppSettings::load_with_env(&path, []).unwrap();
        assert!(settings.config().is_err());
        let shared = settings.shared_keys().unwrap();
        assert_eq!(shared.secret, None);
        assert_eq!(shared.api_key, None);
        assert!(!shared.config.is_embedded());
    }

    #[test]
    fn an_unknown_key_is_reported_with_a_suggestion() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("instant.toml");
        fs::write(&path, "secrett = \"x\"\n").unwrap();
        let err = AppSettings::load_with_env(&path, []).unwrap_err();
        assert!(err.to_string().contains("secrett"), "{err}");
        assert!(err.to_string().contains("did you mean `secret`?"), "{err}");
    }

    #[test]
    fn a_misspelt_channel_option_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("instant.toml");
        fs::write(&path, "[[channels]]\nname = \"a\"\npresense = true\n").unwrap();
        let err = AppSettings::load_with_env(&path, []).unwrap_err();
        assert!(err.to_string().contains("presense"), "{err}");
    }

    #[test]
    fn update_keeps_comments_and_other_keys_and_fixes_dotenv() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("instant.toml");
        fs::write(&path, "# my app\nsite_name = \"Demo\"\nsecret = \"old\"\n").unwrap();
        fs::write(
            dir.path().join(".env"),
            "DATABASE_URL=x\nINSTANT_SECRET=stale\n",
        )
        .unwrap();
        let values = SettingsUpdate {
            secret: "s3-0123456789abcdef0123456789abcdef",
            api_key: "k3",
            centrifugo_url: "http://localhost:8000",
            websocket_url: "ws://localhost:8000/connection/websocket",
        };
        let updated = update(&path, &values).unwrap();
        assert_eq!(updated.files.len(), 2);
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# my app\n"), "{text}");
        assert!(text.contains("site_name = \"Demo\""), "{text}");
        let shared = AppSettings::load_with_env(&path, [])
            .unwrap()
            .shared_keys()
            .unwrap();
        assert_eq!(
            shared.secret.as_deref(),
            Some("s3-0123456789abcdef0123456789abcdef")
        );
        assert_eq!(shared.api_key.as_deref(), Some("k3"));
        assert_eq!(
            shared.config.centrifugo_url(),
            Some("http://localhost:8000")
        );
        let dotenv = fs::read_to_string(dir.path().join(".env")).unwrap();
        assert_eq!(
            dotenv,
            "DATABASE_URL=x\nINSTANT_SECRET=s3-0123456789abcdef0123456789abcdef\n"
        );
    }
}
