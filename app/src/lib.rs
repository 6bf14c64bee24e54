//! The workload the platform deploys: a multi-tenant service on PostgreSQL row-level security.
//!
//! Where things are:
//! - [`settings`]: twelve-factor settings. [`server`]: start-up, background loops, shutdown.
//! - [`routes`]: the route table; each resource's handlers and SQL live in its own module:
//!   [`auth`] (sign-in, tokens, invites), [`orgs`] (the creation saga), [`projects`],
//!   [`configs`] (versioned configs with hot reload), [`chat`] (canned actions over WebSockets).
//! - [`ratelimit`]: token buckets in Redis, shared by every replica.
//! - [`db`]: connections as the unprivileged `app_runtime` role, and the tenant set per
//!   transaction (never per connection).
//! - [`ui`]: the browser UI, embedded. [`ops`]: health, metrics, OpenAPI, telemetry. [`error`]: the API's one error type.

pub mod auth;
pub mod chat;
pub mod configs;
pub mod db;
pub mod domain;
pub mod error;
pub mod limits;
pub mod ops;
pub mod orgs;
pub mod projects;
pub mod ratelimit;
pub mod routes;
pub mod server;
pub mod settings;
pub mod state;
pub mod ui;
