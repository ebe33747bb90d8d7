//! The app's settings as the command sees them: `instant.toml` and `INSTANT_*` variables.
//!
//! The app loads its settings with `instant_core::Config::load` (the file, then the environment
//! over it); the command reads the same two sources, in the same order, for the raw values it copies
//! into Centrifugo's config (the secret, the API key, the allowed origins, the declared channels),
//! and writes them back after `installws`. A `.env` file is not read (the core does not read it
//! either), but `installws` rewrites the `INSTANT_*` lines it finds there so that an app that loads
//! `.env` with dotenv does not keep stale values.

use std::fs;
use std::path::{Path, PathBuf};

use instant_core::ChannelOptions;
use serde::Deserialize;

use crate::error::{CliError, Result};

/// Settings key (in `instant.toml`) of the HMAC secret that signs tokens.
pub(crate) const KEY_SECRET: &str = "secret";
/// Settings key of Centrifugo's base URL.
pub(crate) const KEY_CENTRIFUGO_URL: &str = "centrifugo_url";
/// Settings key of Centrifugo's HTTP API key.
pub(crate) const KEY_API_KEY: &str = "centrifugo_api_key";
/// Settings key of the WebSocket URL browsers connect to.
pub(crate) const KEY_WEBSOCKET_URL: &str = "websocket_url";
/// Settings key of the allowed browser origins.
pub(crate) const KEY_ALLOWED_ORIGINS: &str = "allowed_origins";

/// The environment variable that overrides a settings key.
pub(crate) fn env_name(key: &str) -> String {
    format!("INSTANT_{}", key.to_ascii_uppercase())
}

/// The file of environment variables next to the settings file, loaded by apps that use dotenv.
pub(crate) fn dotenv_path(settings: &Path) -> PathBuf {
    settings
        .parent()
        .map_or_else(|| PathBuf::from(".env"), |dir| dir.join(".env"))
}

/// One `[[channels]]` entry of `instant.toml`. The options it leaves out are those of
/// [`ChannelOptions::default`], the embedded server's defaults, so that a channel keeps its
/// history, recovery and presence when the app moves from the embedded server to Centrifugo.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChannelEntry {
    /// The channel's name (`$` prefix for private levels).
    pub(crate) name: String,
    /// Who may join: public, users, staff or superuser.
    #[serde(default = "public_level")]
    pub(crate) level: String,
    /// Request paths the channel connects on (none = every path).
    #[serde(default)]
    pub(crate) paths: Vec<String>,
    /// Keep track of who is subscribed (Centrifugo `presence`; on by default).
    #[serde(default = "default_presence")]
    pub(crate) presence: bool,
    /// Send join and leave events to subscribers (Centrifugo `join_leave`; on by default).
    #[serde(default = "default_join_leave")]
    pub(crate) join_leave: bool,
    /// How many publications to keep for late subscribers (default 100; 0 = no history).
    #[serde(default = "default_history_size")]
    pub(crate) history_size: u32,
    /// How long publications are kept, e.g. `300s` (default 300s when there is a history).
    #[serde(default)]
    pub(crate) history_ttl: Option<String>,
    /// Let reconnecting clients recover the publications they missed (needs history); when not
    /// given, on exactly when the channel keeps a history, as on the embedded server.
    #[serde(default)]
    pub(crate) recover: Option<bool>,
}

impl ChannelEntry {
    /// An entry that names only its channel and level, every option at its default.
    #[cfg(test)]
    pub(crate) fn new(name: &str, level: &str) -> Self {
        Self {
            name: name.to_owned(),
            level: level.to_owned(),
            paths: Vec::new(),
            presence: default_presence(),
            join_leave: default_join_leave(),
            history_size: default_history_size(),
            history_ttl: None,
            recover: None,
        }
    }

    /// Whether reconnecting clients recover what they missed: as set, else when there is a history.
    pub(crate) fn recovers(&self) -> bool {
        self.recover.unwrap_or(self.history_size > 0)
    }
}

fn public_level() -> String {
    "public".to_owned()
}

fn default_presence() -> bool {
    ChannelOptions::default().presence
}

fn default_join_leave() -> bool {
    ChannelOptions::default().join_leave
}

fn default_history_size() -> u32 {
    u32::try_from(ChannelOptions::default().history_size).unwrap_or(u32::MAX)
}

/// The keys `instant.toml` may hold besides `[[channels]]` (those of `instant_core::Config`).
pub(crate) const KNOWN_KEYS: [&str; 10] = [
    KEY_SECRET,
    KEY_API_KEY,
    KEY_CENTRIFUGO_URL,
    KEY_WEBSOCKET_URL,
    "site_slug",
    "site_name",
    "debug",
    "token_ttl",
    "publish_timeout",
    KEY_ALLOWED_ORIGINS,
];

/// The raw values read from the settings file and the process environment, layered as
/// `instant_core::Config::load` layers them (environment over file).
#[derive(Debug, Default)]
pub(crate) struct AppSettings {
    /// The settings file, whether or not it exists.
    pub(crate) path: PathBuf,
    /// Whether the file exists.
    pub(crate) file_exists: bool,
    /// The file's settings as `INSTANT_*` pairs, then the environment's.
    layered: Vec<(String, String)>,
    /// The channels declared in `[[channels]]`.
    pub(crate) channels: Vec<ChannelEntry>,
    /// The file's text, when it exists.
    pub(crate) text: Option<String>,
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
        let mut settings = Self {
            path: path.to_owned(),
            file_exists: path.is_file(),
            ..Self::default()
        };
        if settings.file_exists {
            let text = fs::read_to_string(path).map_err(CliError::io("read", path))?;
            let invalid = |reason: String| CliError::Settings {
                path: path.to_owned(),
                reason,
            };
            let mut table: toml::Table =
                toml::from_str(&text).map_err(|err| invalid(err.message().to_owned()))?;
            if let Some(channels) = table.remove("channels") {
                settings.channels = channels.try_into().map_err(|err: toml::de::Error| {
                    invalid(format!("[[channels]]: {}", err.message()))
                })?;
            }
            for (key, value) in table {
                if !KNOWN_KEYS.contains(&key.as_str()) {
                    return Err(invalid(format!(
                        "unknown key `{key}` (known: {}, [[channels]])",
                        KNOWN_KEYS.join(", ")
                    )));
                }
                let text = match value {
                    toml::Value::String(text) => text,
                    toml::Value::Array(items) => items
                        .iter()
                        .map(|item| {
                            item.as_str()
                                .map_or_else(|| item.to_string(), str::to_owned)
                        })
                        .collect::<Vec<_>>()
                        .join(","),
                    other => other.to_string(),
                };
                settings.layered.push((env_name(&key), text));
            }
            settings.text = Some(text);
        }
        settings.layered.extend(
            env.into_iter()
                .filter(|(name, value)| name.starts_with("INSTANT_") && !value.is_empty()),
        );
        Ok(settings)
    }

    /// A setting by key, as the app would see it: the environment's value, else the file's.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        let name = env_name(key);
        self.layered
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, value)| value.as_str())
    }

    /// The allowed browser origins, if set.
    pub(crate) fn allowed_origins(&self) -> Option<Vec<String>> {
        self.get(KEY_ALLOWED_ORIGINS).map(split_list)
    }

    /// The app's configuration as `instant_core` validates it.
    pub(crate) fn core_config(
        &self,
    ) -> std::result::Result<instant_core::Config, instant_core::ConfigError> {
        instant_core::Config::from_env_vars(
            self.layered.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        )
    }
}

/// Splits a comma- or space-separated list.
fn split_list(value: &str) -> Vec<String> {
    value
        .split([',', ' '])
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
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
    fn pairs(&self) -> [(&'static str, &str); 4] {
        [
            (KEY_SECRET, self.secret),
            (KEY_API_KEY, self.api_key),
            (KEY_CENTRIFUGO_URL, self.centrifugo_url),
            (KEY_WEBSOCKET_URL, self.websocket_url),
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
        document[key] = toml_edit::value(value);
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
fn update_dotenv(text: &str, pairs: &[(&'static str, &str)]) -> Option<String> {
    let mut changed = false;
    let mut lines: Vec<String> = text
        .lines()
        .map(|line| {
            let trimmed = line.trim_start();
            let body = trimmed.strip_prefix("export ").unwrap_or(trimmed);
            for (key, value) in pairs {
                let name = env_name(key);
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
    use super::*;

    #[test]
    fn settings_file_then_environment() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("instant.toml");
        fs::write(
            &path,
            r#"
secret = "from-file"
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
                ("INSTANT_SECRET".to_owned(), "from-env".to_owned()),
                ("INSTANT_SITE_SLUG".to_owned(), String::new()),
            ],
        )
        .unwrap();
        assert_eq!(settings.get(KEY_SECRET), Some("from-env"));
        assert_eq!(settings.get(KEY_API_KEY), Some("key-from-file"));
        assert_eq!(settings.get("site_name"), Some("Demo"));
        assert_eq!(settings.get("site_slug"), None);
        assert_eq!(
            settings.allowed_origins(),
            Some(vec!["http://a.test".to_owned(), "http://b.test".to_owned()])
        );
        assert_eq!(settings.channels.len(), 2);
        assert_eq!(settings.channels[0].level, "public");
        assert_eq!(settings.channels[0].paths, ["/news"]);
        // Options left out are the embedded server's defaults.
        assert_eq!(
            settings.channels[0],
            ChannelEntry {
                paths: vec!["/news".to_owned()],
                ..ChannelEntry::new("news", "public")
            }
        );
        assert!(settings.channels[0].recovers());
        assert!(settings.channels[1].presence);
        let config = settings.core_config().unwrap();
        assert_eq!(config.secret().expose_secret(), "from-env");
        assert!(config.debug());
        assert_eq!(config.allowed_origins().len(), 2);
    }

    #[test]
    fn an_unknown_key_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("instant.toml");
        fs::write(&path, "secrett = \"x\"\n").unwrap();
        let err = AppSettings::load_with_env(&path, []).unwrap_err();
        assert!(err.to_string().contains("secrett"), "{err}");
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
            secret: "s3",
            api_key: "k3",
            centrifugo_url: "http://localhost:8000",
            websocket_url: "ws://localhost:8000/connection/websocket",
        };
        let updated = update(&path, &values).unwrap();
        assert_eq!(updated.files.len(), 2);
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# my app\n"), "{text}");
        assert!(text.contains("site_name = \"Demo\""), "{text}");
        let settings = AppSettings::load_with_env(&path, []).unwrap();
        assert_eq!(settings.get(KEY_SECRET), Some("s3"));
        assert_eq!(settings.get(KEY_API_KEY), Some("k3"));
        assert_eq!(
            settings.get(KEY_CENTRIFUGO_URL),
            Some("http://localhost:8000")
        );
        let dotenv = fs::read_to_string(dir.path().join(".env")).unwrap();
        assert_eq!(dotenv, "DATABASE_URL=x\nINSTANT_SECRET=s3\n");
    }
}
