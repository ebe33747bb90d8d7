//! Channels by namespace rules, as Centrifugo decides them: the channel policy of the standalone
//! server, which serves no declared channels but every channel its namespaces allow.
//!
//! A channel `ns:rest` (or `$ns:rest`) takes the options of namespace `ns`; a channel without `:`
//! those of [`Namespaces::without_namespace`]. A namespace not configured answers error 102
//! (unknown channel); a name its `channel_regex` refuses (or, without one, a name with non-ASCII
//! characters) answers 107. Who may subscribe, publish, ask presence or history follows
//! Centrifugo v6's order: a `$` channel needs a subscription token; a token decides alone; then a
//! user-limited channel (`rest#alice,bob`, with `allow_user_limited_channels`); then the
//! `allow_*_for_client` / `_for_subscriber` / `_for_anonymous` options; then `client.insecure`;
//! else error 103. The hub makes each channel on first use and removes it once idle, within
//! [`EmbeddedOptions::max_pattern_channels`](super::EmbeddedOptions::max_pattern_channels).

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use super::hub::Stream;
use super::options::ChannelOptions;
use super::protocol::ErrorReply;

/// The options of one namespace, or of the channels without one, with Centrifugo v6's names and
/// defaults (everything off, no history).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct NamespaceOptions {
    /// Who is subscribed can be asked (`presence`).
    pub presence: bool,
    /// Join and leave messages are sent to subscribers that ask for them (`join_leave`).
    pub join_leave: bool,
    /// Join and leave messages are sent to every subscriber (`force_push_join_leave`).
    pub force_push_join_leave: bool,
    /// How many publications the history keeps (`history_size`; 0 = no history).
    pub history_size: usize,
    /// How long the history keeps them (`history_ttl`; zero = no history).
    pub history_ttl: Duration,
    /// Subscribers recover what they missed without asking (`force_recovery`).
    pub force_recovery: bool,
    /// Any connected client may subscribe without a token (`allow_subscribe_for_client`).
    pub allow_subscribe_for_client: bool,
    /// ...anonymous ones too (`allow_subscribe_for_anonymous`).
    pub allow_subscribe_for_anonymous: bool,
    /// Any connected client may publish (`allow_publish_for_client`).
    pub allow_publish_for_client: bool,
    /// Subscribers may publish (`allow_publish_for_subscriber`).
    pub allow_publish_for_subscriber: bool,
    /// ...anonymous ones too (`allow_publish_for_anonymous`).
    pub allow_publish_for_anonymous: bool,
    /// Any connected client may ask presence (`allow_presence_for_client`).
    pub allow_presence_for_client: bool,
    /// Subscribers may ask presence (`allow_presence_for_subscriber`).
    pub allow_presence_for_subscriber: bool,
    /// ...anonymous ones too, who then also receive join and leave messages
    /// (`allow_presence_for_anonymous`).
    pub allow_presence_for_anonymous: bool,
    /// Any connected client may ask the history (`allow_history_for_client`).
    pub allow_history_for_client: bool,
    /// Subscribers may ask the history (`allow_history_for_subscriber`).
    pub allow_history_for_subscriber: bool,
    /// ...anonymous ones too (`allow_history_for_anonymous`).
    pub allow_history_for_anonymous: bool,
    /// A channel ending in `#alice,bob` may be subscribed by those users without a token
    /// (`allow_user_limited_channels`).
    pub allow_user_limited_channels: bool,
    /// A regular expression the channel name (without `$` and namespace) must match
    /// (`channel_regex`); RE2 syntax, as Rust's `regex` crate reads it.
    pub channel_regex: Option<String>,
}

impl NamespaceOptions {
    /// Whether the channels keep a history: both a size and a lifetime.
    #[must_use]
    pub fn has_history(&self) -> bool {
        self.history_size > 0 && !self.history_ttl.is_zero()
    }

    /// The hub's options for a channel of this namespace.
    fn channel_options(&self) -> ChannelOptions {
        let mut options = ChannelOptions::default();
        options.history_size = if self.has_history() {
            self.history_size
        } else {
            0
        };
        options.history_ttl = self.history_ttl;
        options.presence = self.presence;
        options.join_leave = self.join_leave;
        options.force_push_join_leave = self.force_push_join_leave;
        options.presence_for_anonymous = self.allow_presence_for_anonymous;
        options.client_publish = self.allow_publish_for_client || self.allow_publish_for_subscriber;
        options.recover = self.force_recovery;
        options
    }
}

/// Why a set of namespaces is refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NamespaceError {
    /// A namespace name Centrifugo refuses: at least two of `-a-zA-Z0-9_.`.
    #[error(
        "namespace name {0:?} is invalid: it must be at least 2 characters of a-z, A-Z, 0-9, '-', '_' and '.'"
    )]
    InvalidName(String),
    /// Two namespaces with one name.
    #[error("namespace {0:?} is configured twice")]
    Duplicate(String),
    /// A `channel_regex` that does not compile.
    #[error("channel_regex of {namespace} does not compile: {reason}")]
    Regex {
        /// The namespace (`without_namespace` for the channels without one).
        namespace: String,
        /// The regex engine's message.
        reason: String,
    },
}

/// One namespace ready for use: its options, its compiled regex and the hub's channel options.
#[derive(Debug)]
struct Compiled {
    options: NamespaceOptions,
    regex: Option<regex::Regex>,
    channel: ChannelOptions,
}

impl Compiled {
    fn new(name: &str, options: NamespaceOptions) -> Result<Self, NamespaceError> {
        let regex = options
            .channel_regex
            .as_deref()
            .filter(|r| !r.is_empty())
            .map(regex::Regex::new)
            .transpose()
            .map_err(|e| NamespaceError::Regex {
                namespace: name.to_owned(),
                reason: e.to_string(),
            })?;
        Ok(Self {
            channel: options.channel_options(),
            options,
            regex,
        })
    }
}

/// The namespaces of a Centrifugo config: the channel policy of the standalone server.
pub struct Namespaces {
    without_namespace: Compiled,
    namespaces: HashMap<String, Compiled>,
}

impl fmt::Debug for Namespaces {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&String> = self.namespaces.keys().collect();
        names.sort_unstable();
        f.debug_struct("Namespaces")
            .field("without_namespace", &self.without_namespace.options)
            .field("namespaces", &names)
            .finish()
    }
}

/// Who asks, for the permission checks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Asker<'a> {
    pub(crate) user: &'a str,
    pub(crate) subscribed: bool,
    pub(crate) insecure: bool,
}

impl Asker<'_> {
    fn anonymous(&self) -> bool {
        self.user.is_empty()
    }
}

/// What a subscribe without a valid token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SubscribeGate {
    /// The channel starts with `$`: a subscription token is required.
    pub(crate) private: bool,
    /// Without a token, the subscription is allowed.
    pub(crate) open: bool,
}

impl Namespaces {
    /// The options of the channels without a namespace and of each named namespace.
    ///
    /// # Errors
    ///
    /// A namespace name Centrifugo refuses, a name given twice, or a `channel_regex` that does
    /// not compile.
    pub fn new(
        without_namespace: NamespaceOptions,
        namespaces: impl IntoIterator<Item = (String, NamespaceOptions)>,
    ) -> Result<Self, NamespaceError> {
        let mut compiled = HashMap::new();
        for (name, options) in namespaces {
            let valid = name.len() >= 2
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
            if !valid {
                return Err(NamespaceError::InvalidName(name));
            }
            if compiled.contains_key(&name) {
                return Err(NamespaceError::Duplicate(name));
            }
            let namespace = Compiled::new(&name, options)?;
            compiled.insert(name, namespace);
        }
        Ok(Self {
            without_namespace: Compiled::new("without_namespace", without_namespace)?,
            namespaces: compiled,
        })
    }

    /// The options of the channels without a namespace.
    #[must_use]
    pub fn without_namespace(&self) -> &NamespaceOptions {
        &self.without_namespace.options
    }

    /// The options of namespace `name`, if configured.
    #[must_use]
    pub fn namespace(&self, name: &str) -> Option<&NamespaceOptions> {
        self.namespaces.get(name).map(|n| &n.options)
    }

    /// The namespace of `channel` and the rest of its name, or 102 (unknown channel).
    fn resolve<'c>(&self, channel: &'c str) -> Result<(&Compiled, &'c str), ErrorReply> {
        if channel.is_empty() {
            return Err(ErrorReply::UNKNOWN_CHANNEL);
        }
        let trimmed = channel.strip_prefix('$').unwrap_or(channel);
        match trimmed.split_once(':') {
            Some((namespace, rest)) => self
                .namespaces
                .get(namespace)
                .map(|n| (n, rest))
                .ok_or(ErrorReply::UNKNOWN_CHANNEL),
            None => Ok((&self.without_namespace, channel)),
        }
    }

    /// The namespace of a channel whose name is valid: 102 for an unknown namespace, 107 for a
    /// name its `channel_regex` refuses (without one: a name with non-ASCII characters).
    fn checked<'n>(&'n self, channel: &str) -> Result<&'n Compiled, ErrorReply> {
        let (namespace, rest) = self.resolve(channel)?;
        let valid = match &namespace.regex {
            Some(regex) => regex.is_match(rest),
            None => channel.is_ascii(),
        };
        if valid {
            Ok(namespace)
        } else {
            Err(ErrorReply::BAD_REQUEST)
        }
    }

    /// The hub's options for `channel`, when its namespace exists.
    pub(crate) fn channel_options(&self, channel: &str) -> Option<&ChannelOptions> {
        self.resolve(channel).ok().map(|(n, _)| &n.channel)
    }

    /// Whether a subscription needs a token and whether it is open without one.
    pub(crate) fn subscribe_gate(
        &self,
        channel: &str,
        asker: Asker<'_>,
    ) -> Result<SubscribeGate, ErrorReply> {
        let namespace = self.checked(channel)?;
        let options = &namespace.options;
        let user_limited = options.allow_user_limited_channels && channel.contains('#');
        let open = if user_limited {
            user_allowed(channel, asker.user)
        } else {
            options.allow_subscribe_for_client
                && (!asker.anonymous() || options.allow_subscribe_for_anonymous)
        };
        Ok(SubscribeGate {
            private: channel.starts_with('$'),
            open: open || asker.insecure,
        })
    }

    /// Whether `asker` may publish into `channel` from a client connection.
    pub(crate) fn may_publish(&self, channel: &str, asker: Asker<'_>) -> Result<(), ErrorReply> {
        let options = &self.checked(channel)?.options;
        let identified = !asker.anonymous() || options.allow_publish_for_anonymous;
        let allowed = (options.allow_publish_for_client && identified)
            || (options.allow_publish_for_subscriber && asker.subscribed && identified)
            || asker.insecure;
        allowed.then_some(()).ok_or(ErrorReply::PERMISSION_DENIED)
    }

    /// Whether `asker` may ask the presence of `channel`: 108 when it has none.
    pub(crate) fn may_ask_presence(
        &self,
        channel: &str,
        asker: Asker<'_>,
    ) -> Result<(), ErrorReply> {
        let options = &self.checked(channel)?.options;
        if !options.presence {
            return Err(ErrorReply::NOT_AVAILABLE);
        }
        let identified = !asker.anonymous() || options.allow_presence_for_anonymous;
        let allowed = (options.allow_presence_for_client && identified)
            || (options.allow_presence_for_subscriber && asker.subscribed && identified)
            || asker.insecure;
        allowed.then_some(()).ok_or(ErrorReply::PERMISSION_DENIED)
    }

    /// The stream a subscription gets, as Centrifugo decides: recovery with `force_recovery`, or
    /// when the client asks for it (`recoverable`) and may read the history; its position also
    /// when it asks for that (`positioned`).
    pub(crate) fn stream(
        &self,
        channel: &str,
        asker: Asker<'_>,
        recoverable: bool,
        positioned: bool,
    ) -> Stream {
        let Ok((namespace, _)) = self.resolve(channel) else {
            return Stream::FULL;
        };
        let options = &namespace.options;
        let identified = !asker.anonymous() || options.allow_history_for_anonymous;
        // The subscriber-to-be counts as subscribed, as in Centrifugo.
        let history_access = ((options.allow_history_for_client
            || options.allow_history_for_subscriber)
            && identified)
            || asker.insecure;
        let recovery = options.force_recovery || (recoverable && history_access);
        Stream {
            recovery,
            positioning: recovery || (positioned && history_access),
        }
    }

    /// Whether `asker` may ask the history of `channel`: 108 when it has none.
    pub(crate) fn may_ask_history(
        &self,
        channel: &str,
        asker: Asker<'_>,
    ) -> Result<(), ErrorReply> {
        let options = &self.checked(channel)?.options;
        if !options.has_history() {
            return Err(ErrorReply::NOT_AVAILABLE);
        }
        let identified = !asker.anonymous() || options.allow_history_for_anonymous;
        let allowed = (options.allow_history_for_client && identified)
            || (options.allow_history_for_subscriber && asker.subscribed && identified)
            || asker.insecure;
        allowed.then_some(()).ok_or(ErrorReply::PERMISSION_DENIED)
    }
}

/// Whether `user` is one of the users after the last `#` of a user-limited channel, as
/// Centrifugo's `channel.user_boundary` (`#`) and `channel.user_separator` (`,`) read it.
fn user_allowed(channel: &str, user: &str) -> bool {
    channel
        .rsplit_once('#')
        .is_none_or(|(_, users)| users.split(',').any(|allowed| allowed == user))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asker(user: &str, subscribed: bool) -> Asker<'_> {
        Asker {
            user,
            subscribed,
            insecure: false,
        }
    }

    fn namespaces() -> Namespaces {
        let public = NamespaceOptions {
            allow_subscribe_for_client: true,
            allow_subscribe_for_anonymous: true,
            presence: true,
            allow_presence_for_subscriber: true,
            history_size: 10,
            history_ttl: Duration::from_secs(60),
            allow_history_for_subscriber: true,
            channel_regex: Some("^[a-z]+$".into()),
            ..NamespaceOptions::default()
        };
        let chat = NamespaceOptions {
            allow_subscribe_for_client: true,
            allow_publish_for_subscriber: true,
            allow_user_limited_channels: true,
            ..NamespaceOptions::default()
        };
        let closed = NamespaceOptions::default();
        Namespaces::new(
            public,
            [("chat".to_owned(), chat), ("closed".to_owned(), closed)],
        )
        .unwrap()
    }

    #[test]
    fn channels_resolve_to_their_namespace_or_answer_102_and_107() {
        let ns = namespaces();
        let gate = ns.subscribe_gate("news", asker("", false)).unwrap();
        assert_eq!(
            gate,
            SubscribeGate {
                private: false,
                open: true
            }
        );
        assert_eq!(
            ns.subscribe_gate("nope:x", asker("a", false)),
            Err(ErrorReply::UNKNOWN_CHANNEL)
        );
        assert_eq!(
            ns.subscribe_gate("", asker("a", false)),
            Err(ErrorReply::UNKNOWN_CHANNEL)
        );
        assert_eq!(
            ns.subscribe_gate("News1", asker("a", false)),
            Err(ErrorReply::BAD_REQUEST)
        );
        assert!(ns.channel_options("$chat:room").is_some());
        assert!(ns.channel_options("other:room").is_none());
        assert_eq!(ns.channel_options("news").unwrap().history_size, 10);
    }

    #[test]
    fn subscribing_follows_centrifugos_order() {
        let ns = namespaces();
        // chat: logged-in users only; `$` needs a token whatever the options.
        assert!(!ns.subscribe_gate("chat:a", asker("", false)).unwrap().open);
        assert!(ns.subscribe_gate("chat:a", asker("u", false)).unwrap().open);
        assert!(
            ns.subscribe_gate("$chat:a", asker("u", false))
                .unwrap()
                .private
        );
        // User-limited channels open only to the users they name.
        assert!(
            ns.subscribe_gate("chat:a#u,v", asker("v", false))
                .unwrap()
                .open
        );
        assert!(
            !ns.subscribe_gate("chat:a#u,v", asker("w", false))
                .unwrap()
                .open
        );
        // Nothing open in `closed` except in insecure mode.
        assert!(
            !ns.subscribe_gate("closed:a", asker("u", false))
                .unwrap()
                .open
        );
        let insecure = Asker {
            insecure: true,
            ..asker("", false)
        };
        assert!(ns.subscribe_gate("closed:a", insecure).unwrap().open);
    }

    #[test]
    fn publish_presence_and_history_permissions() {
        let ns = namespaces();
        assert_eq!(ns.may_publish("chat:a", asker("u", true)), Ok(()));
        assert_eq!(
            ns.may_publish("chat:a", asker("u", false)),
            Err(ErrorReply::PERMISSION_DENIED)
        );
        assert_eq!(
            ns.may_publish("chat:a", asker("", true)),
            Err(ErrorReply::PERMISSION_DENIED)
        );
        assert_eq!(ns.may_ask_presence("news", asker("u", true)), Ok(()));
        assert_eq!(
            ns.may_ask_presence("news", asker("", true)),
            Err(ErrorReply::PERMISSION_DENIED)
        );
        assert_eq!(
            ns.may_ask_presence("chat:a", asker("u", true)),
            Err(ErrorReply::NOT_AVAILABLE)
        );
        assert_eq!(ns.may_ask_history("news", asker("u", true)), Ok(()));
        assert_eq!(
            ns.may_ask_history("news", asker("u", false)),
            Err(ErrorReply::PERMISSION_DENIED)
        );
        assert_eq!(
            ns.may_ask_history("chat:a", asker("u", true)),
            Err(ErrorReply::NOT_AVAILABLE)
        );
    }

    #[test]
    fn invalid_namespaces_are_refused() {
        let bad = |name: &str| {
            Namespaces::new(
                NamespaceOptions::default(),
                [(name.to_owned(), NamespaceOptions::default())],
            )
        };
        assert!(matches!(bad("a"), Err(NamespaceError::InvalidName(_))));
        assert!(matches!(bad("a b"), Err(NamespaceError::InvalidName(_))));
        let twice = Namespaces::new(
            NamespaceOptions::default(),
            [
                ("ab".to_owned(), NamespaceOptions::default()),
                ("ab".to_owned(), NamespaceOptions::default()),
            ],
        );
        assert!(matches!(twice, Err(NamespaceError::Duplicate(_))));
        let regex = NamespaceOptions {
            channel_regex: Some("(".into()),
            ..NamespaceOptions::default()
        };
        assert!(matches!(
            Namespaces::new(regex, []),
            Err(NamespaceError::Regex { .. })
        ));
    }
}
