//! Guest sign-in and access tokens. Roles and what each may do: `docs/auth.md`.
//!
//! - [`token`]: signing and checking JWTs.
//! - [`denylist`]: revoked token ids in Redis, checked on every request, failing closed.
//! - [`principal`]: the request extractor that does both, and the role checks.
//! - [`invites`]: invite codes, which carry their org so redeeming one stays inside it.
//! - [`routes`]: the sign-in, sign-out, revoke and invite endpoints.

pub mod denylist;
pub mod invites;
pub mod principal;
pub mod routes;
pub mod token;

pub use principal::{Member, Principal};
