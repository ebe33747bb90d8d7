//! What a channel keeps and allows, shared by the embedded server and the Centrifugo config that
//! `instant genconfig` writes, so that both backends start from the same defaults.

use std::time::Duration;

/// What a channel keeps and allows on the embedded server, the counterpart of Centrifugo's
/// namespace options.
///
/// [`ChannelOptions::default`] is also what `instant genconfig` and `instant installws` write for
/// Centrifugo where `instant.toml` declares nothing else, so an app keeps its history, recovery
/// and presence when it moves from the embedded server to Centrifugo.
///
/// Presence and join/leave messages are off by default, as in Centrifugo: they show the user id,
/// client id and connection `info` of every subscriber. Where a channel turns them on, anonymous
/// clients still get neither unless [`presence_for_anonymous`](Self::presence_for_anonymous)
/// is on too.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChannelOptions {
    /// How many publications the history keeps (`history_size`); 0 turns history and recovery off.
    pub history_size: usize,
    /// How long a publication stays in the history (`history_ttl`).
    pub history_ttl: Duration,
    /// Whether presence (who is subscribed) is tracked and may be asked for by subscribers that
    /// are logged in; off by default.
    pub presence: bool,
    /// Whether join and leave messages are sent to logged-in subscribers that ask for them
    /// (`join_leave`); off by default.
    pub join_leave: bool,
    /// Whether anonymous subscribers may also ask for presence and receive join and leave
    /// messages (Centrifugo's `allow_presence_for_anonymous`); off by default, so that an
    /// anonymous visitor never learns who else is online.
    pub presence_for_anonymous: bool,
    /// Whether join and leave messages go to every subscriber, asked for or not
    /// (`force_push_join_leave`).
    pub force_push_join_leave: bool,
    /// Whether subscribed clients may publish on the channel themselves; off by default, so that
    /// only the app publishes.
    pub client_publish: bool,
    /// Whether reconnecting clients recover the publications they missed (Centrifugo's
    /// `force_recovery`); on by default, and only effective where the channel keeps a history
    /// (see [`ChannelOptions::recovers`]).
    pub recover: bool,
}

impl Default for ChannelOptions {
    fn default() -> Self {
        Self {
            history_size: 100,
            history_ttl: Duration::from_secs(300),
            presence: false,
            join_leave: false,
            presence_for_anonymous: false,
            force_push_join_leave: false,
            client_publish: false,
            recover: true,
        }
    }
}

impl ChannelOptions {
    /// Whether the channel keeps a history, so that publications get offsets and clients recover.
    #[must_use]
    pub fn has_history(&self) -> bool {
        self.history_size > 0 && !self.history_ttl.is_zero()
    }

    /// Whether reconnecting clients recover what they missed: [`recover`](Self::recover) on a
    /// channel that keeps a history.
    #[must_use]
    pub fn recovers(&self) -> bool {
        self.recover && self.has_history()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_keep_history_and_no_presence() {
        let options = ChannelOptions::default();
        assert!(options.has_history());
        assert!(!options.presence && !options.join_leave && !options.presence_for_anonymous);
        assert!(!options.force_push_join_leave && !options.client_publish);
        let mut off = options.clone();
        off.history_size = 0;
        assert!(!off.has_history());
        assert!(options.recovers() && !off.recovers());
        let mut no_ttl = options;
        no_ttl.history_ttl = Duration::ZERO;
        assert!(!no_ttl.has_history());
    }
}
