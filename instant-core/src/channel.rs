//! Channels, the access levels that guard them, and the set of channels an app declares.
//!
//! A declared name may be a pattern with named parameters (`$order_{id}`): see
//! [`crate::pattern`] for its rules, [`Channel::with`] for the names it makes and
//! [`ChannelSet::resolve`] for reading them back.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::pattern::{self, ChannelName, ParamValue, Params, PatternArgs, PatternError};

/// The longest channel name Centrifugo accepts, in bytes (`channel.max_length`).
pub const MAX_CHANNEL_NAME_LEN: usize = 255;

/// The prefix that marks a private channel, as Centrifugo's `channel.private_prefix` does by default.
pub const PRIVATE_PREFIX: char = '$';

/// The mark before the user part of a user-limited channel, Centrifugo's `channel.user_boundary`:
/// only the user named after it may subscribe (`personal:#42` is user 42's).
pub const USER_BOUNDARY: char = '#';

/// The namespace of the personal channels ([`Channel::personal`]).
pub const PERSONAL_NAMESPACE: &str = "personal";

/// The pattern of the personal channels: one per user, `personal:#<user id>`.
pub const PERSONAL_CHANNEL: &str = "personal:#{user}";

/// Who may join a channel. Levels are ordered: a higher level may join every channel of a lower one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Everyone, including anonymous visitors.
    Public,
    /// Logged-in users.
    Users,
    /// Staff members.
    Staff,
    /// Superusers.
    Superuser,
}

impl Level {
    /// Every level, lowest first.
    pub const ALL: [Self; 4] = [Self::Public, Self::Users, Self::Staff, Self::Superuser];

    /// The keyword that names this level in `channels!` and in configuration files.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Users => "users",
            Self::Staff => "staff",
            Self::Superuser => "superuser",
        }
    }

    /// Whether channels of this level are private (their names start with `$`).
    #[must_use]
    pub const fn is_private(self) -> bool {
        !matches!(self, Self::Public)
    }

    /// Whether someone of level `self` may join a channel of level `channel`.
    #[must_use]
    pub fn may_join(self, channel: Self) -> bool {
        self >= channel
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Level {
    type Err = ChannelError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|level| level.as_str() == s)
            .ok_or_else(|| ChannelError::UnknownLevel(s.to_owned()))
    }
}

/// Why a channel declaration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChannelError {
    /// The name is empty.
    #[error("a channel name must not be empty")]
    EmptyName,
    /// The name is longer than Centrifugo accepts.
    #[error("channel name `{0}` is longer than {MAX_CHANNEL_NAME_LEN} bytes")]
    NameTooLong(String),
    /// The name holds whitespace or a control character.
    #[error("channel name `{0}` must not contain whitespace or control characters")]
    InvalidCharacter(String),
    /// A private channel whose name lacks the `$` prefix.
    #[error(
        "every private channel name must start with a dollar sign: write `${name}` for this {level} channel"
    )]
    MissingPrivatePrefix {
        /// The name as declared.
        name: String,
        /// Its level.
        level: Level,
    },
    /// A public channel whose name starts with `$`.
    #[error("public channel `{0}` must not start with `$`: that prefix marks private channels")]
    PublicWithPrivatePrefix(String),
    /// A path that does not start with `/`.
    #[error("path `{path}` of channel `{channel}` must start with `/`")]
    RelativePath {
        /// The channel.
        channel: String,
        /// The path as declared.
        path: String,
    },
    /// The same path listed twice for one channel.
    #[error("path `{path}` is listed twice for channel `{channel}`")]
    DuplicatePath {
        /// The channel.
        channel: String,
        /// The repeated path.
        path: String,
    },
    /// The same channel declared twice.
    #[error("channel `{0}` is declared twice")]
    DuplicateChannel(String),
    /// A level keyword that does not exist.
    #[error("unknown level `{0}`: expected one of public, users, staff, superuser")]
    UnknownLevel(String),
    /// A pattern (a name with `{parameters}`) that breaks a pattern rule.
    #[error("channel pattern `{name}`: {reason}")]
    Pattern {
        /// The name as declared.
        name: String,
        /// The rule it breaks.
        reason: String,
    },
    /// Request paths on a pattern: a page joins a pattern's channels only when its handler
    /// names them (`instant::middleware::join`).
    #[error(
        "channel pattern `{0}` cannot take `at [...]` paths: a page joins its channels only when the handler names them with `join`"
    )]
    PatternWithPaths(String),
    /// Two declarations that can produce the same concrete name.
    #[error(
        "channels `{first}` and `{second}` can both be `{example}`: declare names that cannot meet"
    )]
    Overlapping {
        /// The earlier declaration.
        first: String,
        /// The later one.
        second: String,
        /// A name both accept.
        example: String,
    },
}

/// Checks a channel name the way Centrifugo would, plus the `$` rule for private levels.
///
/// # Errors
/// The first rule the name breaks.
pub fn validate_name(name: &str, level: Level) -> Result<(), ChannelError> {
    if name.is_empty() {
        return Err(ChannelError::EmptyName);
    }
    if name.len() > MAX_CHANNEL_NAME_LEN {
        return Err(ChannelError::NameTooLong(name.to_owned()));
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ChannelError::InvalidCharacter(name.to_owned()));
    }
    let private = name.starts_with(PRIVATE_PREFIX);
    // A user-limited pattern (`personal:#{user}`) is guarded by the user part instead of a token:
    // it is for logged-in users, and a `$` would make Centrifugo ask for a token.
    if level.is_private() && !private && !(level == Level::Users && is_user_limited(name)) {
        return Err(ChannelError::MissingPrivatePrefix {
            name: name.to_owned(),
            level,
        });
    }
    if !level.is_private() && private {
        return Err(ChannelError::PublicWithPrivatePrefix(name.to_owned()));
    }
    if name.contains(['{', '}']) {
        pattern::segments(name).map_err(|reason| ChannelError::Pattern {
            name: name.to_owned(),
            reason,
        })?;
    }
    Ok(())
}

/// Whether `name` is a user-limited pattern: no `$`, and its last part a parameter right after
/// the [`USER_BOUNDARY`] (`personal:#{user}`), so that the value is the only user who may subscribe.
fn is_user_limited(name: &str) -> bool {
    if name.starts_with(PRIVATE_PREFIX) {
        return false;
    }
    let Ok(segments) = pattern::segments(name) else {
        return false;
    };
    matches!(
        segments.as_slice(),
        [.., pattern::Segment::Literal(text), pattern::Segment::Param(_)]
            if text.ends_with(USER_BOUNDARY) && text.matches(USER_BOUNDARY).count() == 1
    ) && segments
        .iter()
        .filter(|s| matches!(s, pattern::Segment::Param(_)))
        .count()
        == 1
}

/// The personal channel of the user `user_id`: `personal:#<user id>` ([`Channel::personal`]).
///
/// # Errors
/// [`PatternError::InvalidValue`] when the id is not 1 to 64 ASCII letters, digits or `-` (integer
/// ids and UUIDs always are).
pub fn personal_channel(user_id: &str) -> Result<ChannelName, PatternError> {
    let value = ParamValue::new(user_id)?;
    pattern::fill(PERSONAL_CHANNEL, &[value]).map(ChannelName::new_unchecked)
}

/// One declared channel: its name, the level needed to join it, and the request paths it connects on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    name: Cow<'static, str>,
    level: Level,
    paths: Cow<'static, [Cow<'static, str>]>,
}

impl Channel {
    /// Declares a channel at run time, checking its name.
    ///
    /// # Errors
    /// [`ChannelError`] when the name breaks a rule of [`validate_name`].
    pub fn new(name: impl Into<String>, level: Level) -> Result<Self, ChannelError> {
        let name = name.into();
        validate_name(&name, level)?;
        Ok(Self {
            name: Cow::Owned(name),
            level,
            paths: Cow::Borrowed(&[]),
        })
    }

    /// Limits the channel to one more request path (no paths means every path).
    ///
    /// # Errors
    /// [`ChannelError`] when the path is relative or already listed.
    pub fn at(mut self, path: impl Into<String>) -> Result<Self, ChannelError> {
        let path = path.into();
        if self.is_pattern() {
            return Err(ChannelError::PatternWithPaths(self.name.into_owned()));
        }
        if !path.starts_with('/') {
            return Err(ChannelError::RelativePath {
                channel: self.name.into_owned(),
                path,
            });
        }
        if self.paths.iter().any(|p| *p == path) {
            return Err(ChannelError::DuplicatePath {
                channel: self.name.into_owned(),
                path,
            });
        }
        self.paths.to_mut().push(Cow::Owned(path));
        Ok(self)
    }

    /// A channel checked at compile time by `channels!`; the macro has already validated every part.
    #[doc(hidden)]
    #[must_use]
    pub const fn from_static_unchecked(
        name: &'static str,
        level: Level,
        paths: &'static [Cow<'static, str>],
    ) -> Self {
        Self {
            name: Cow::Borrowed(name),
            level,
            paths: Cow::Borrowed(paths),
        }
    }

    /// The channel name, as Centrifugo knows it.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The level needed to join it.
    #[must_use]
    pub const fn level(&self) -> Level {
        self.level
    }

    /// The request paths it connects on; empty means every path.
    pub fn paths(&self) -> impl ExactSizeIterator<Item = &str> {
        self.paths.iter().map(|p| &**p)
    }

    /// Whether its name marks it private (`$`), so that subscribing needs a subscription token.
    #[must_use]
    pub fn is_private(&self) -> bool {
        self.name.starts_with(PRIVATE_PREFIX)
    }

    /// The personal channel pattern, `personal:#{user}` ([`PERSONAL_CHANNEL`]), for logged-in
    /// users: every page of a logged-in user joins its own channel (`personal:#42` for user 42),
    /// which only that user may subscribe to. `RealtimeBuilder::personal_channel(true)` declares it.
    #[must_use]
    pub const fn personal() -> Self {
        Self::from_static_unchecked(PERSONAL_CHANNEL, Level::Users, &[])
    }

    /// Whether the channel is user-limited: a pattern ending with `#{param}` and no `$`
    /// (`personal:#{user}`), whose channels only the user named by the value may subscribe to,
    /// without a subscription token (Centrifugo's `allow_user_limited_channels`).
    #[must_use]
    pub fn is_user_limited(&self) -> bool {
        is_user_limited(&self.name)
    }

    /// For a user-limited channel (`personal:#{user}`), the user a concrete name belongs to
    /// (`Some("42")` for `personal:#42`); `None` for other channels or names it does not make.
    #[must_use]
    pub fn limited_to<'a>(&self, name: &'a str) -> Option<&'a str> {
        if !self.is_user_limited() || self.matches(name).is_none() {
            return None;
        }
        name.rsplit_once(USER_BOUNDARY).map(|(_, user)| user)
    }

    /// Whether a page at `path` connects to this channel. A pattern connects on no path by
    /// itself: a page joins its concrete channels when the handler names them.
    #[must_use]
    pub fn connects_on(&self, path: &str) -> bool {
        !self.is_pattern() && (self.paths.is_empty() || self.paths.iter().any(|p| p == path))
    }

    /// Whether the name is a pattern with `{parameters}` (`$order_{id}`) rather than one channel.
    #[must_use]
    pub fn is_pattern(&self) -> bool {
        pattern::is_pattern(&self.name)
    }

    /// The names of the pattern's parameters, in order (none for a fixed channel).
    pub fn params(&self) -> impl Iterator<Item = &str> {
        pattern::segments(&self.name)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|segment| match segment {
                pattern::Segment::Param(name) => Some(name),
                pattern::Segment::Literal(_) => None,
            })
    }

    /// The concrete channel this pattern makes with these values: `ORDER.with(42)` for
    /// `$order_{id}` is `$order_42`; `BOARD.with(("design", 7))` for `$board_{team}_{board}` is
    /// `$board_design_7`. Values are integers, UUIDs or checked [`ParamValue`]s, always valid;
    /// strings go through [`Channel::try_with`].
    ///
    /// # Panics
    /// When the number of values differs from the number of parameters, a mistake in the code
    /// (as an index out of bounds is); [`Channel::try_with`] returns it as an error instead.
    #[must_use]
    pub fn with(&self, values: impl PatternArgs) -> ChannelName {
        match pattern::fill(&self.name, &values.into_params()) {
            Ok(name) => ChannelName::new_unchecked(name),
            Err(error) => panic!("{error}"),
        }
    }

    /// The concrete channel made from string values, each checked (1 to 64 ASCII letters,
    /// digits or `-`): `ORDER.try_with(["a1"])`.
    ///
    /// # Errors
    /// [`PatternError::InvalidValue`] for a value with another character, empty or too long;
    /// [`PatternError::WrongArity`] when the number of values differs from the parameters'.
    pub fn try_with<I, S>(&self, values: I) -> Result<ChannelName, PatternError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let values = values
            .into_iter()
            .map(ParamValue::new)
            .collect::<Result<Vec<_>, _>>()?;
        pattern::fill(&self.name, &values).map(ChannelName::new_unchecked)
    }

    /// The parameters of `name` when this channel makes it: a pattern's concrete name, or a
    /// fixed channel's own name (with no parameters).
    #[must_use]
    pub fn matches(&self, name: &str) -> Option<Params> {
        if self.is_pattern() {
            pattern::read(&self.name, name)
        } else {
            (*self.name == *name).then(|| Params::fixed(name))
        }
    }
}

impl AsRef<str> for Channel {
    fn as_ref(&self) -> &str {
        self.name()
    }
}

/// Lets a channel named by `channels!` (`as ADMIN1`) stand wherever a channel name is taken, as in
/// `publisher.publish(ADMIN1, "…")`.
impl From<&Channel> for String {
    fn from(channel: &Channel) -> Self {
        channel.name().to_owned()
    }
}

/// The channels an app declares, built by `channels!` at compile time or by hand.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChannelSet {
    channels: Cow<'static, [Channel]>,
}

impl ChannelSet {
    /// An empty set.
    #[must_use]
    pub const fn empty() -> Self {
        Self {
            channels: Cow::Borrowed(&[]),
        }
    }

    /// A set from channels checked at compile time by `channels!`.
    #[doc(hidden)]
    #[must_use]
    pub const fn from_static_unchecked(channels: &'static [Channel]) -> Self {
        Self {
            channels: Cow::Borrowed(channels),
        }
    }

    /// Builds a set, refusing a name declared twice.
    ///
    /// # Errors
    /// [`ChannelError::DuplicateChannel`] for the second declaration of a name.
    pub fn new(channels: impl IntoIterator<Item = Channel>) -> Result<Self, ChannelError> {
        let mut set = Vec::new();
        for channel in channels {
            if set.iter().any(|c: &Channel| c.name == channel.name) {
                return Err(ChannelError::DuplicateChannel(channel.name.into_owned()));
            }
            if let Some((first, example)) = set
                .iter()
                .find_map(|c: &Channel| Some((c, pattern::overlap(c.name(), channel.name())?)))
            {
                return Err(ChannelError::Overlapping {
                    first: first.name().to_owned(),
                    second: channel.name.into_owned(),
                    example,
                });
            }
            set.push(channel);
        }
        Ok(Self {
            channels: Cow::Owned(set),
        })
    }

    /// Every declared channel, in declaration order.
    pub fn iter(&self) -> std::slice::Iter<'_, Channel> {
        self.channels.iter()
    }

    /// The number of declared channels.
    #[must_use]
    pub fn len(&self) -> usize {
        self.channels.len()
    }

    /// Whether no channel is declared.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.channels.is_empty()
    }

    /// The declared channel with this name, as declared (a pattern by its template,
    /// `$order_{id}`); [`ChannelSet::resolve`] finds the declaration of a concrete name.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&Channel> {
        self.channels.iter().find(|c| c.name() == name)
    }

    /// The declaration that makes the concrete channel `name`, with the parameters read from it:
    /// a fixed channel by its name (no parameters), else the pattern it matches (`$order_42` →
    /// `$order_{id}` with `id = "42"`). Declarations cannot overlap, so there is at most one.
    #[must_use]
    pub fn resolve(&self, name: &str) -> Option<(&Channel, Params)> {
        if let Some(fixed) = self.get(name).filter(|c| !c.is_pattern()) {
            return Some((fixed, Params::fixed(name)));
        }
        self.channels
            .iter()
            .filter(|c| c.is_pattern())
            .find_map(|c| Some((c, c.matches(name)?)))
    }

    /// The fixed channels someone of `level` may join, on any path (patterns are joined only by
    /// name, see [`ChannelSet::resolve`]).
    pub fn joinable(&self, level: Level) -> impl Iterator<Item = &Channel> {
        self.channels
            .iter()
            .filter(move |c| level.may_join(c.level) && !c.is_pattern())
    }

    /// The channels someone of `level` may join that connect on the page at `path`.
    pub fn joinable_on(&self, level: Level, path: &str) -> impl Iterator<Item = &Channel> {
        self.joinable(level).filter(move |c| c.connects_on(path))
    }

    /// Whether someone of `level` may join the concrete channel called `name` (a fixed channel or
    /// a name a pattern makes); undeclared channels are refused.
    #[must_use]
    pub fn may_join(&self, level: Level, name: &str) -> bool {
        self.resolve(name)
            .is_some_and(|(c, _)| level.may_join(c.level))
    }
}

impl<'a> IntoIterator for &'a ChannelSet {
    type Item = &'a Channel;
    type IntoIter = std::slice::Iter<'a, Channel>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Temporaries passed to a const fn are not promoted when they have a destructor, so the
    // slices are named consts, exactly as `channels!` expands.
    const ADMIN_PATHS: &[Cow<'static, str>] =
        &[Cow::Borrowed("/a/path"), Cow::Borrowed("/another/path")];
    const SEED_CHANNELS: &[Channel] = &[
        Channel::from_static_unchecked("$mysite_admin1", Level::Superuser, ADMIN_PATHS),
        Channel::from_static_unchecked("$mysite_staff2", Level::Staff, &[]),
        Channel::from_static_unchecked("$mysite_users1", Level::Users, &[]),
        Channel::from_static_unchecked("mysite_public1", Level::Public, &[]),
    ];
    static SEED: ChannelSet = ChannelSet::from_static_unchecked(SEED_CHANNELS);

    #[test]
    fn levels_are_hierarchical() {
        for user in Level::ALL {
            for channel in Level::ALL {
                assert_eq!(user.may_join(channel), user as u8 >= channel as u8);
            }
        }
    }

    #[test]
    fn joinable_channels_follow_level_and_path() {
        let names = |level, path| -> Vec<&str> {
            SEED.joinable_on(level, path).map(Channel::name).collect()
        };
        assert_eq!(names(Level::Public, "/"), ["mysite_public1"]);
        assert_eq!(
            names(Level::Staff, "/a/path"),
            ["$mysite_staff2", "$mysite_users1", "mysite_public1"]
        );
        assert_eq!(names(Level::Superuser, "/"), names(Level::Staff, "/"));
        assert_eq!(names(Level::Superuser, "/a/path")[0], "$mysite_admin1");
        assert!(!SEED.may_join(Level::Superuser, "$undeclared"));
        assert!(!SEED.may_join(Level::Users, "$mysite_staff2"));
    }

    #[test]
    fn names_are_checked() {
        assert!(matches!(
            Channel::new("admin", Level::Staff),
            Err(ChannelError::MissingPrivatePrefix { .. })
        ));
        assert!(matches!(
            Channel::new("$pub", Level::Public),
            Err(ChannelError::PublicWithPrivatePrefix(_))
        ));
        assert_eq!(
            Channel::new("", Level::Public),
            Err(ChannelError::EmptyName)
        );
        assert!(Channel::new("a b", Level::Public).is_err());
        assert!(Channel::new("x".repeat(256), Level::Public).is_err());
        let channel = Channel::new("news", Level::Public)
            .unwrap()
            .at("/a")
            .unwrap();
        assert!(channel.clone().at("/a").is_err());
        assert!(channel.clone().at("b").is_err());
        assert!(channel.connects_on("/a") && !channel.connects_on("/b"));
        assert_eq!(String::from(&channel), "news");
        let dup = ChannelSet::new([channel.clone(), channel]);
        assert_eq!(dup, Err(ChannelError::DuplicateChannel("news".into())));
    }

    #[test]
    fn patterns_make_and_resolve_concrete_names() {
        let order = Channel::new("$order_{id}", Level::Users).unwrap();
        let board = Channel::new("$board_{team}_{board}", Level::Staff).unwrap();
        let set = ChannelSet::new([
            order.clone(),
            board.clone(),
            Channel::new("news", Level::Public).unwrap(),
        ])
        .unwrap();
        assert!(order.is_pattern() && !order.connects_on("/"));
        assert_eq!(order.params().collect::<Vec<_>>(), ["id"]);
        assert_eq!(order.with(42_u64).as_str(), "$order_42");
        let design = ParamValue::new("design").unwrap();
        assert_eq!(board.with((&design, 7)).to_string(), "$board_design_7");
        assert_eq!(
            board.try_with(["a", "b_c"]),
            Err(PatternError::InvalidValue("b_c".into()))
        );
        let (found, params) = set.resolve("$board_x-1_7").unwrap();
        assert_eq!(found.name(), "$board_{team}_{board}");
        assert_eq!(
            (params.get("team"), params.parse::<u8>("board")),
            (Some("x-1"), Some(7))
        );
        let (found, params) = set.resolve("news").unwrap();
        assert!(found.name() == "news" && params.is_empty());
        assert!(set.resolve("$board_{team}_{board}").is_none());
        assert!(set.resolve("$order_1").is_some());
        assert!(set.may_join(Level::Users, "$order_1"));
        assert!(!set.may_join(Level::Users, "$board_a_1"));
        assert_eq!(
            set.joinable(Level::Superuser)
                .map(Channel::name)
                .collect::<Vec<_>>(),
            ["news"]
        );
        assert!(matches!(
            ChannelSet::new([order.clone(), Channel::new("$order_new", Level::Users).unwrap()]),
            Err(ChannelError::Overlapping { example, .. }) if example == "$order_new"
        ));
        assert!(matches!(
            order.at("/x"),
            Err(ChannelError::PatternWithPaths(_))
        ));
        assert!(matches!(
            Channel::new("$order_{id}x", Level::Users),
            Err(ChannelError::Pattern { .. })
        ));
    }

    #[test]
    fn user_limited_patterns_belong_to_the_user_after_the_boundary() {
        let personal = Channel::personal();
        assert_eq!(personal.name(), PERSONAL_CHANNEL);
        assert!(personal.is_user_limited() && !personal.is_private());
        assert_eq!(personal.level(), Level::Users);
        assert_eq!(personal.limited_to("personal:#42"), Some("42"));
        assert_eq!(personal.limited_to("personal:#a_b"), None);
        assert_eq!(personal.limited_to("other:#42"), None);
        assert_eq!(personal_channel("42").unwrap().as_str(), "personal:#42");
        assert!(personal_channel("a,b").is_err() && personal_channel("").is_err());
        // A `users` pattern may go without `$` only when it is user-limited.
        assert!(Channel::new("inbox:#{user}", Level::Users).is_ok_and(|c| c.is_user_limited()));
        for refused in [
            "inbox:{user}",
            "inbox:#{user}_x",
            "in#box:#{user}",
            "a:#{x}:#{y}",
        ] {
            assert!(
                Channel::new(refused, Level::Users).is_err(),
                "{refused} is not user-limited"
            );
        }
        assert!(
            !Channel::new("$inbox:#{user}", Level::Users)
                .unwrap()
                .is_user_limited()
        );
        assert!(matches!(
            Channel::new("inbox:#{user}", Level::Staff),
            Err(ChannelError::MissingPrivatePrefix { .. })
        ));
        let orders = Channel::new("$order_{id}", Level::Users).unwrap();
        assert!(!orders.is_user_limited() && orders.limited_to("$order_1").is_none());
    }
}
