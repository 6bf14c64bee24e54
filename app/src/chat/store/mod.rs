//! The chat's rows, one store per resource. Every statement runs in the tenant (org and
//! project) of the caller, so row-level security scopes it whatever its WHERE clause says.
//!
//! - [`sessions`]: chat sessions under the cap, and who may still chat.
//! - [`counters`]: the project's counters and its sequence number.
//! - [`polls`]: the project's polls.

pub mod counters;
pub mod polls;
pub mod sessions;

use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use crate::db::{self, Tenant};

/// A transaction in the project's tenant: chat tables match nothing without the project.
async fn tenant(pool: &PgPool, org: Uuid, project: Uuid) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    db::begin(
        pool,
        Tenant {
            org,
            project: Some(project),
        },
    )
    .await
}
