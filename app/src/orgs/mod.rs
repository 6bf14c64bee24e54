//! Organizations and their creation saga (seed 5.1).
//!
//! - [`saga`]: `PENDING` → defaults applied → isolation gate → `COMMITTED`, or `FAILED` with
//!   compensation; and the recovery of sagas a crash left behind.
//! - [`gate`]: the pluggable isolation gate; [`kubernetes`]: the gate for a real cluster.
//! - [`idempotency`]: `Idempotency-Key` records, so a retried POST never creates twice.
//! - [`routes`]: `POST /api/v1/orgs`, `GET /api/v1/orgs/{org}`.

pub mod gate;
pub mod idempotency;
pub mod kubernetes;
pub mod routes;
pub mod saga;
