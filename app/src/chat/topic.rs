//! The Redis channels chat speaks on, named and read back in one place: what one replica
//! publishes is what every replica's subscriber parses.

use uuid::Uuid;

/// A channel, and what its messages are about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    /// Frames for everyone on a project.
    Project(Uuid),
    /// Frames for the sockets of one chat session (its user's, on that chat only).
    Session { project: Uuid, session: Uuid },
    /// A chat session closed: the message is its id.
    Closed,
    /// A token revoked: the message is its id (`jti`).
    Revoked,
    /// Every token of a user revoked: the message is the user's id.
    RevokedUser,
    /// A member removed from a project: the message is [`removal`].
    Removed,
}

const PROJECT: &str = "chat:p:";
const SESSION: &str = "chat:s:";
const CLOSED: &str = "chat:closed";
const REVOKED: &str = "chat:revoked";
const REVOKED_USER: &str = "chat:revoked-user";
const REMOVED: &str = "chat:removed";
/// The pattern every replica subscribes to: every topic.
pub const EVERY_TOPIC: &str = "chat:*";

impl Topic {
    pub fn channel(self) -> String {
        match self {
            Topic::Project(project) => format!("{PROJECT}{project}"),
            Topic::Session { project, session } => format!("{SESSION}{project}:{session}"),
            Topic::Closed => CLOSED.to_owned(),
            Topic::Revoked => REVOKED.to_owned(),
            Topic::RevokedUser => REVOKED_USER.to_owned(),
            Topic::Removed => REMOVED.to_owned(),
        }
    }

    /// The topic of `channel`; None for a channel no replica publishes on.
    pub fn parse(channel: &str) -> Option<Self> {
        if let Some(project) = channel.strip_prefix(PROJECT) {
            return project.parse().ok().map(Topic::Project);
        }
        if let Some(rest) = channel.strip_prefix(SESSION) {
            let (project, session) = rest.split_once(':')?;
            return Some(Topic::Session {
                project: project.parse().ok()?,
                session: session.parse().ok()?,
            });
        }
        match channel {
            CLOSED => Some(Topic::Closed),
            REVOKED => Some(Topic::Revoked),
            REVOKED_USER => Some(Topic::RevokedUser),
            REMOVED => Some(Topic::Removed),
            _ => None,
        }
    }
}

/// The [`Topic::Removed`] message for `user` leaving `project`.
pub fn removal(project: Uuid, user: Uuid) -> String {
    format!("{project}:{user}")
}

/// The project and user of a [`removal`] message.
pub fn parse_removal(message: &str) -> Option<(Uuid, Uuid)> {
    let (project, user) = message.split_once(':')?;
    Some((project.parse().ok()?, user.parse().ok()?))
}

/// Why the server closes a chat socket: the close frame's code, which the client acts on, and
/// its reason, which it shows (docs/chat-protocol.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    SessionClosed,
    Revoked,
    Expired,
    Slow,
    Removed,
    ShuttingDown,
    Refused,
}

impl CloseReason {
    pub const fn code(self) -> u16 {
        match self {
            CloseReason::SessionClosed => 4000,
            CloseReason::Revoked | CloseReason::Expired => 4001,
            CloseReason::Slow => 4002,
            CloseReason::Removed => 4003,
            CloseReason::Refused => 4004,
            // "Going away": the client reconnects, and lands on another replica.
            CloseReason::ShuttingDown => 1001,
        }
    }

    pub const fn text(self) -> &'static str {
        match self {
            CloseReason::SessionClosed => "session closed: a newer chat replaced it, or it was closed",
            CloseReason::Revoked => "token revoked: sign in again",
            CloseReason::Expired => "token expired: sign in again",
            CloseReason::Slow => "too far behind: reconnect to resync",
            CloseReason::Removed => "removed from the project: ask its owner to add you again",
            CloseReason::ShuttingDown => "server shutting down: reconnect",
            CloseReason::Refused => "too many refused frames: follow the protocol and its rate limit, then reconnect",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_topic_reads_back_as_itself() {
        let (project, session) = (Uuid::new_v4(), Uuid::new_v4());
        for topic in [
            Topic::Project(project),
            Topic::Session { project, session },
            Topic::Closed,
            Topic::Revoked,
            Topic::RevokedUser,
            Topic::Removed,
        ] {
            assert_eq!(Topic::parse(&topic.channel()), Some(topic), "{}", topic.channel());
            assert!(topic.channel().starts_with(EVERY_TOPIC.trim_end_matches('*')));
        }
        assert_eq!(Topic::parse("chat:p:not-a-uuid"), None);
        assert_eq!(Topic::parse(&format!("chat:s:{project}")), None);
        assert_eq!(Topic::parse("chat:other"), None);
        let user = Uuid::new_v4();
        assert_eq!(parse_removal(&removal(project, user)), Some((project, user)));
    }
}
