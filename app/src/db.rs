//! Database access. Migrations run as the table owner; the app runs as `app_runtime`, for which
//! row-level security applies to every tenant table (see migrations/0001_tenancy.sql).

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

/// The role the app's queries run as: not superuser, not BYPASSRLS, owns no table.
pub const RUNTIME_ROLE: &str = "app_runtime";

/// Embedded migrations (`app migrate`).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Whose data a transaction may touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tenant {
    pub org: Uuid,
    /// Set for project-scoped work (chat); chat tables match nothing without it.
    pub project: Option<Uuid>,
}

impl Tenant {
    /// Org-wide work (everything but chat).
    pub fn org(org: Uuid) -> Self {
        Self { org, project: None }
    }
}

/// A pool whose connections run as [`RUNTIME_ROLE`]. The login role must be a member of it
/// (`GRANT app_runtime TO <login>`); `SET ROLE` makes RLS apply even to a privileged login.
pub async fn runtime_pool(options: PgConnectOptions, max_connections: u32) -> Result<PgPool, sqlx::Error> {
    PgPoolOptions::new()
        .max_connections(max_connections)
        // No ping before every checkout: it costs a round trip per request, and a dead
        // connection fails its first query and leaves the pool anyway.
        .test_before_acquire(false)
        .after_connect(|conn, _| {
            Box::pin(async move {
                sqlx::query(&format!("SET ROLE {RUNTIME_ROLE}")).execute(conn).await?;
                Ok(())
            })
        })
        .connect_with(options)
        .await
}

/// Begins a transaction scoped to `tenant`: `set_config(..., true)` lasts until the transaction
/// ends, commit or rollback, so the next user of the connection starts with no tenant.
pub async fn begin(pool: &PgPool, tenant: Tenant) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT set_config('app.org_id', $1, true), set_config('app.project_id', $2, true)")
        .bind(tenant.org.to_string())
        .bind(tenant.project.map(|p| p.to_string()).unwrap_or_default())
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}
