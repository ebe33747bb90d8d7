//! The file and environment sources, layered: `instant.toml` (or the file `INSTANT_CONFIG` names),
//! then `INSTANT_*` variables over it. Both read the keys of [`KEYS`](super::KEYS) and nothing
//! else; the file may also declare `[[channels]]`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Value;

use super::builder::{Raw, RawValue};
use super::keys::{self, CHANNEL_KEYS, KEYS, SettingKey, ValueKind};
use super::parse::{nearest, parse_bool, parse_duration, split_list};
use super::{
    CONFIG_FILE_ENV, CONFIG_FILE_NAME, ChannelSettings, Config, ConfigBuilder, ConfigError, Secret,
    Source,
};
use crate::channel::Level;

impl Config {
    /// The settings from the process environment (`INSTANT_*` variables).
    ///
    /// # Errors
    /// [`ConfigError`] naming the variable that is missing or invalid.
    #[cfg_attr(docsrs, doc(cfg(feature = "settings")))]
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_env_vars(std::env::vars())
    }

    /// The settings from the given `(name, value)` pairs, read as environment variables; variables
    /// not starting with `INSTANT_` are ignored, and empty values count as unset.
    ///
    /// # Errors
    /// [`ConfigError`] naming the variable that is missing or invalid.
    #[cfg_attr(docsrs, doc(cfg(feature = "settings")))]
    pub fn from_env_vars<I, K, V>(vars: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut raw = Raw::default();
        apply_env(&mut raw, vars)?;
        raw.build()
    }

    /// The settings from the text of an `instant.toml` file.
    ///
    /// # Errors
    /// [`ConfigError::Parse`], [`ConfigError::UnknownKey`], or a missing or invalid value.
    #[cfg_attr(docsrs, doc(cfg(feature = "settings")))]
    pub fn from_toml_str(text: &str) -> Result<Self, ConfigError> {
        let mut raw = Raw::default();
        apply_toml(&mut raw, text, "<string>")?;
        raw.build()
    }

    /// The settings from an `instant.toml` file.
    ///
    /// # Errors
    /// [`ConfigError::Io`] when the file cannot be read, else as [`Config::from_toml_str`].
    #[cfg_attr(docsrs, doc(cfg(feature = "settings")))]
    pub fn from_toml_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        ConfigBuilder::from_sources(Some(path.as_ref()), std::iter::empty::<(&str, &str)>())?
            .build()
    }

    /// The usual way to configure an app: the file named by `INSTANT_CONFIG`, else `instant.toml` in
    /// the working directory when it exists, with `INSTANT_*` environment variables overriding it.
    ///
    /// # Errors
    /// [`ConfigError`] from the file or the environment.
    #[cfg_attr(docsrs, doc(cfg(feature = "settings")))]
    pub fn load() -> Result<Self, ConfigError> {
        ConfigBuilder::load()?.build()
    }
}

impl ConfigBuilder {
    /// A builder holding the settings of `file` (when given), with the `INSTANT_*` variables of
    /// `vars` over them; setters called afterwards override both.
    ///
    /// # Errors
    /// [`ConfigError`] from the file (unreadable, not TOML, unknown key, wrong type) or from a
    /// variable that cannot be read as its kind of value.
    #[cfg_attr(docsrs, doc(cfg(feature = "settings")))]
    pub fn from_sources<I, K, V>(file: Option<&Path>, vars: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut raw = Raw::default();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Io {
                path: path.display().to_string(),
                message: e.to_string(),
            })?;
            apply_toml(&mut raw, &text, &path.display().to_string())?;
        }
        apply_env(&mut raw, vars)?;
        Ok(Self { raw })
    }

    /// [`ConfigBuilder::from_sources`] with the sources of [`Config::load`]: the file named by
    /// `INSTANT_CONFIG`, else `instant.toml` when it exists, and the process environment.
    ///
    /// # Errors
    /// As [`ConfigBuilder::from_sources`].
    #[cfg_attr(docsrs, doc(cfg(feature = "settings")))]
    pub fn load() -> Result<Self, ConfigError> {
        let file = match std::env::var_os(CONFIG_FILE_ENV).filter(|v| !v.is_empty()) {
            Some(path) => Some(PathBuf::from(path)),
            None => Some(PathBuf::from(CONFIG_FILE_NAME)).filter(|p| p.is_file()),
        };
        Self::from_sources(file.as_deref(), std::env::vars())
    }
}

/// Reads the `INSTANT_*` variables of [`KEYS`]; others are ignored, empty ones count as unset.
pub(crate) fn apply_env<I, K, V>(raw: &mut Raw, vars: I) -> Result<(), ConfigError>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    for (name, value) in vars {
        let (name, value) = (name.as_ref(), value.as_ref());
        // Empty variables count as unset, as in Centrifugo, so `INSTANT_X=` clears nothing by accident.
        if value.is_empty() {
            continue;
        }
        let Some(key) = keys::find_env(name) else {
            continue;
        };
        let invalid = |reason: String| ConfigError::Invalid {
            key: name.to_owned(),
            reason,
        };
        let value = match key.kind {
            ValueKind::Secret => RawValue::Secret(Secret::new(value.to_owned())),
            ValueKind::Bool => RawValue::Bool(parse_bool(value).map_err(invalid)?),
            ValueKind::Duration => RawValue::Duration(parse_duration(value).map_err(invalid)?),
            ValueKind::List => RawValue::List(split_list(value)),
            ValueKind::Path => RawValue::Path(PathBuf::from(value)),
            ValueKind::Text => RawValue::Text(value.to_owned()),
        };
        raw.set(key, value, Source::Env);
    }
    Ok(())
}

/// Reads the text of a settings file; `path` names it in errors.
pub(crate) fn apply_toml(raw: &mut Raw, text: &str, path: &str) -> Result<(), ConfigError> {
    let table: toml::Table = toml::from_str(text).map_err(|e| ConfigError::Parse {
        path: path.to_owned(),
        message: e.to_string().trim().to_owned(),
    })?;
    let file = File { path };
    for (name, value) in table {
        if name == keys::CHANNELS {
            raw.channels = file.channels(value)?;
            continue;
        }
        let Some(key) = keys::find(&name) else {
            return Err(file.unknown(
                name.clone(),
                &name,
                KEYS.iter().map(|k| k.name).chain([keys::CHANNELS]),
            ));
        };
        let value = file.value(key, value)?;
        raw.set(key, value, Source::File);
    }
    Ok(())
}

/// The file being read, for errors.
struct File<'a> {
    path: &'a str,
}

impl File<'_> {
    fn unknown<'k>(
        &self,
        key: String,
        bare: &str,
        known: impl IntoIterator<Item = &'k str>,
    ) -> ConfigError {
        ConfigError::UnknownKey {
            suggestion: nearest(bare, known).map(str::to_owned),
            key,
            path: self.path.to_owned(),
        }
    }

    fn wrong_type(&self, key: &str, expected: &str, value: &Value) -> ConfigError {
        ConfigError::Parse {
            path: self.path.to_owned(),
            message: format!("`{key}` must be {expected}, not a {}", value.type_str()),
        }
    }

    fn string(&self, key: &str, value: Value) -> Result<String, ConfigError> {
        match value {
            Value::String(text) => Ok(text),
            other => Err(self.wrong_type(key, "a string", &other)),
        }
    }

    fn bool(&self, key: &str, value: Value) -> Result<bool, ConfigError> {
        match value {
            Value::Boolean(flag) => Ok(flag),
            other => Err(self.wrong_type(key, "true or false", &other)),
        }
    }

    fn list(&self, key: &str, value: Value) -> Result<Vec<String>, ConfigError> {
        match value {
            Value::Array(items) => items
                .into_iter()
                .map(|item| self.string(key, item))
                .collect(),
            other => Err(self.wrong_type(key, "an array of strings", &other)),
        }
    }

    /// Whole seconds, or a duration as text.
    fn duration(&self, key: &str, value: Value) -> Result<Duration, ConfigError> {
        match value {
            Value::Integer(secs) => {
                u64::try_from(secs)
                    .map(Duration::from_secs)
                    .map_err(|_| ConfigError::Invalid {
                        key: key.to_owned(),
                        reason: "must not be negative".to_owned(),
                    })
            }
            Value::String(text) => parse_duration(&text).map_err(|reason| ConfigError::Invalid {
                key: key.to_owned(),
                reason,
            }),
            other => Err(self.wrong_type(key, "a duration such as \"30s\"", &other)),
        }
    }

    fn value(&self, key: &SettingKey, value: Value) -> Result<RawValue, ConfigError> {
        let name = key.name;
        Ok(match key.kind {
            ValueKind::Secret => RawValue::Secret(Secret::new(self.string(name, value)?)),
            ValueKind::Bool => RawValue::Bool(self.bool(name, value)?),
            ValueKind::Duration => RawValue::Duration(self.duration(name, value)?),
            ValueKind::List => RawValue::List(self.list(name, value)?),
            ValueKind::Path => RawValue::Path(PathBuf::from(self.string(name, value)?)),
            ValueKind::Text => RawValue::Text(self.string(name, value)?),
        })
    }

    /// `[[channels]]`: an array of tables, each read into [`ChannelSettings`].
    fn channels(&self, value: Value) -> Result<Vec<ChannelSettings>, ConfigError> {
        let Value::Array(entries) = value else {
            return Err(self.wrong_type(
                keys::CHANNELS,
                "an array of tables ([[channels]])",
                &value,
            ));
        };
        entries
            .into_iter()
            .enumerate()
            .map(|(i, entry)| self.channel(i, entry))
            .collect()
    }

    fn channel(&self, i: usize, entry: Value) -> Result<ChannelSettings, ConfigError> {
        let Value::Table(table) = entry else {
            return Err(self.wrong_type(&format!("channels[{i}]"), "a table", &entry));
        };
        let mut name = None;
        let mut level = Level::Public;
        let mut paths = Vec::new();
        let mut options = crate::ChannelOptions::default();
        let mut recover = None;
        for (field, value) in table {
            let key = format!("channels[{i}].{field}");
            match field.as_str() {
                "name" => name = Some(self.string(&key, value)?),
                "level" => {
                    let text = self.string(&key, value)?;
                    level = text.parse().map_err(|_| ConfigError::Invalid {
                        key: key.clone(),
                        reason: format!(
                            "unknown level `{text}` (expected public, users, staff or superuser)"
                        ),
                    })?;
                }
                "paths" => paths = self.list(&key, value)?,
                "presence" => options.presence = self.bool(&key, value)?,
                "join_leave" => options.join_leave = self.bool(&key, value)?,
                "presence_for_anonymous" => {
                    options.presence_for_anonymous = self.bool(&key, value)?;
                }
                "force_push_join_leave" => {
                    options.force_push_join_leave = self.bool(&key, value)?
                }
                "client_publish" => options.client_publish = self.bool(&key, value)?,
                "recover" => recover = Some(self.bool(&key, value)?),
                "history_size" => {
                    options.history_size = match value {
                        Value::Integer(size) => {
                            usize::try_from(size).map_err(|_| ConfigError::Invalid {
                                key: key.clone(),
                                reason: "must not be negative".to_owned(),
                            })?
                        }
                        other => return Err(self.wrong_type(&key, "a number", &other)),
                    };
                }
                "history_ttl" => options.history_ttl = self.duration(&key, value)?,
                _ => return Err(self.unknown(key, &field, CHANNEL_KEYS.iter().copied())),
            }
        }
        let Some(name) = name else {
            return Err(ConfigError::Missing {
                key: format!("channels[{i}].name"),
                reason: "every [[channels]] entry names its channel".to_owned(),
            });
        };
        options.recover = match recover {
            Some(true) if !options.has_history() => {
                return Err(ConfigError::Invalid {
                    key: format!("channels[{i}].recover"),
                    reason: "recovery needs a history; set history_size (e.g. 100)".to_owned(),
                });
            }
            Some(recover) => recover,
            None => options.has_history(),
        };
        let mut settings = ChannelSettings::new(name, level).with_options(options);
        settings.paths = paths;
        Ok(settings)
    }
}
