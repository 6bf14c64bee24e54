//! Organizations and their creation saga: an org is committed only once its defaults and its
//! isolation are in place, and compensated otherwise.
//!
//! - [`org`]: the org as stored and shown, its status and saga step.
//! - [`saga`]: `PENDING` → defaults applied → isolation gate → `COMMITTED`, or `FAILED` with
//!   compensation; and the recovery of sagas a crash left behind.
//! - [`gate`]: the pluggable isolation gate; [`kubernetes`]: the gate for a real cluster.
//! - [`idempotency`]: `Idempotency-Key` records, so a retried POST never creates twice.
//! - [`routes`]: `POST /api/v1/orgs`, `GET /api/v1/orgs/{org}`.

pub mod gate;
pub mod idempotency;
pub mod kubernetes;
pub mod org;
pub mod routes;
pub mod saga;
