//! The app's token-signing key ring as the Secret `app-jwt` holds it, and the lifetimes that
//! bound how long a retired key must still verify. `platform secrets rotate` writes the ring in
//! two phases (a `next` key that only verifies, then that key signing with the old one kept as
//! `previous` until `previous-until`); the app reads each key from its own variable.

/// The key that signs and verifies access tokens and invite codes (`APP_JWT_SECRET`).
pub const CURRENT_KEY: &str = "secret";
/// A key that verifies and does not sign yet (`APP_JWT_NEXT_SECRET`): every replica learns it
/// before any replica signs with it.
pub const NEXT_KEY: &str = "next";
/// The key that signed before the last rotation (`APP_JWT_PREVIOUS_SECRET`): it verifies the
/// tokens it signed until they have expired, and nothing after.
pub const PREVIOUS_KEY: &str = "previous";
/// RFC 3339 time after which `previous` verifies no access token (`APP_JWT_PREVIOUS_UNTIL`).
pub const PREVIOUS_UNTIL_KEY: &str = "previous-until";

/// The longest an access token may live: revocation is the exception, expiry the rule.
pub const MAX_TOKEN_TTL_SECS: u64 = 15 * 60;
/// Clock skew tolerated on a token's `exp` and `nbf`.
pub const LEEWAY_SECS: u64 = 30;
/// The longest an invite code may live; a code's MAC key is the signing key's, so a retired
/// key keeps verifying invite codes this much longer than access tokens.
pub const MAX_INVITE_TTL_HOURS: u64 = 7 * 24;
