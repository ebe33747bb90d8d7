//! [`ChannelSettings`]: a channel declared in settings (`[[channels]]` in `instant.toml`, or
//! [`ConfigBuilder::channel`](super::ConfigBuilder::channel)), with its level, paths and options.

use crate::channel::{Channel, Level};
use crate::channel_options::ChannelOptions;

use super::ConfigError;

/// One declared channel: `[[channels]]` in `instant.toml`, read by the `instant` command for
/// Centrifugo's channel options, or [`ConfigBuilder::channel`](super::ConfigBuilder::channel).
///
/// ```toml
/// [[channels]]
/// name = "news"            # `$` prefix for the private levels
/// level = "public"         # public (default), users, staff or superuser
/// paths = ["/news"]        # request paths it connects on (none: every path)
/// presence = true          # the options left out are those of `ChannelOptions::default()`
/// join_leave = true         # (presence and join_leave off)
/// presence_for_anonymous = false  # anonymous subscribers get neither unless this is on
/// history_size = 100       # 0: no history, hence no recovery
/// history_ttl = "300s"
/// recover = true           # default: on when there is a history
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChannelSettings {
    /// The channel's name, with the `$` prefix on private levels.
    pub name: String,
    /// Who may join.
    pub level: Level,
    /// Request paths the channel connects on; empty means every path.
    pub paths: Vec<String>,
    /// What the channel keeps and allows.
    pub options: ChannelOptions,
}

impl ChannelSettings {
    /// A channel on every path with the default options ([`ChannelOptions::default`]).
    #[must_use]
    pub fn new(name: impl Into<String>, level: Level) -> Self {
        Self {
            name: name.into(),
            level,
            paths: Vec::new(),
            options: ChannelOptions::default(),
        }
    }

    /// Replaces the options.
    #[must_use]
    pub fn with_options(mut self, options: ChannelOptions) -> Self {
        self.options = options;
        self
    }

    /// Adds a request path the channel connects on.
    #[must_use]
    pub fn at(mut self, path: impl Into<String>) -> Self {
        self.paths.push(path.into());
        self
    }

    /// The channel as the app declares it in code (name, level, paths), validated.
    ///
    /// # Errors
    /// [`ChannelError`](crate::ChannelError) when the name or a path breaks the naming rules.
    pub fn channel(&self) -> Result<Channel, crate::ChannelError> {
        self.paths.iter().try_fold(
            Channel::new(self.name.clone(), self.level)?,
            |channel, path| channel.at(path.clone()),
        )
    }
}

/// Checks the declared channels: the naming rules of their levels, their paths, one declaration
/// per name. Errors name the entry as `channels[i].name` (or `.paths`).
pub(crate) fn validate(channels: &[ChannelSettings]) -> Result<(), ConfigError> {
    let invalid = |i: usize, field: &str, reason: String| ConfigError::Invalid {
        key: format!("channels[{i}].{field}"),
        reason,
    };
    for (i, settings) in channels.iter().enumerate() {
        let channel = Channel::new(settings.name.clone(), settings.level)
            .map_err(|err| invalid(i, "name", err.to_string()))?;
        settings
            .paths
            .iter()
            .try_fold(channel, |channel, path| channel.at(path.clone()))
            .map_err(|err| invalid(i, "paths", err.to_string()))?;
        if channels[..i]
            .iter()
            .any(|other| other.name == settings.name)
        {
            return Err(invalid(
                i,
                "name",
                format!("channel `{}` is declared twice", settings.name),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_rules_of_their_level() {
        let ok = [
            ChannelSettings::new("news", Level::Public).at("/news"),
            ChannelSettings::new("$staff", Level::Staff),
        ];
        validate(&ok).unwrap();
        assert_eq!(ok[0].channel().unwrap().name(), "news");

        let err = validate(&[ChannelSettings::new("staff", Level::Staff)]).unwrap_err();
        assert_eq!(err.key(), Some("channels[0].name"), "{err}");
        let err = validate(&[
            ChannelSettings::new("a", Level::Public),
            ChannelSettings::new("a", Level::Public),
        ])
        .unwrap_err();
        assert_eq!(err.key(), Some("channels[1].name"));
        assert!(err.to_string().contains("twice"), "{err}");
        let err = validate(&[ChannelSettings::new("a", Level::Public).at("no-slash")]).unwrap_err();
        assert_eq!(err.key(), Some("channels[0].paths"), "{err}");
    }
}
