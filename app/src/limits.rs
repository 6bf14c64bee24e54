//! The fixed bounds the app holds to, at the bottom of the module graph: the error type, the
//! settings and the services each read them here instead of from one another.

use std::time::Duration;

/// Largest request body accepted (configs are small JSON documents); the router applies it and
/// the error type names it.
pub const BODY_LIMIT: usize = 64 * 1024;

use platform_contracts::signing_keys;

/// The longest an access token may live: revocation is the exception, expiry the rule.
pub const MAX_TOKEN_TTL: Duration = Duration::from_secs(signing_keys::MAX_TOKEN_TTL_SECS);

/// The longest an invite code may live (`ttl_hours` of a mint).
pub const MAX_INVITE_TTL_HOURS: i64 = signing_keys::MAX_INVITE_TTL_HOURS as i64;

/// Guest sign-in transactions one replica runs at once, whatever orgs the codes name: codes
/// for made-up orgs each get a fresh per-org bucket, so this bounds what they cost.
pub const GUEST_SIGN_INS_AT_ONCE: usize = 4;

/// Most active chat sessions a user may hold per project; an org's `chat.max_sessions` may
/// lower it, never raise it.
pub const SESSION_CAP: i64 = 3;

/// Sockets one user may hold on one replica by default (three chats per project, in a few tabs;
/// `APP_CHAT_MAX_SOCKETS_PER_USER`), and all the sockets one replica takes: each pins kernel
/// buffers, so no one user, nor all of them, may open them without bound.
pub const MAX_SOCKETS_PER_USER: usize = 16;
pub const MAX_SOCKETS: usize = 20_000;
