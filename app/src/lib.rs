//! The workload the platform deploys: a multi-tenant service on PostgreSQL row-level security.
//!
//! - [`db`]: connections as the unprivileged `app_runtime` role, and the tenant set per
//!   transaction (never per connection), so a pooled connection cannot carry one tenant's
//!   context into another's work.

pub mod db;
