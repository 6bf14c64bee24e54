//! Versioned configs: PostgreSQL is the source of truth, Redis carries only
//! `version=n`, and every replica serves reads from memory.
//!
//! - [`key`]: what a key is (name, rule, default, typed reader); [`catalog`]: every key.
//! - [`catalog`]: the keys an org may set, their defaults and what values they accept.
//! - [`quotas`]: per-org limits on what a tenant may hold, checked where rows are added.
//! - [`store`]: the in-memory copy, swapped per key and never moved backwards.
//! - [`sync`]: publishing changes, the subscriber, and reconciliation.
//! - [`rows`]: the rows in PostgreSQL: every statement that writes or reads them.
//! - [`routes`]: `GET/PUT /api/v1/orgs/{org}/configs/{key}` and history.

pub mod catalog;
pub mod key;
pub mod quotas;
pub mod routes;
pub mod rows;
pub mod store;
pub mod sync;
