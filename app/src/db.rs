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

    /// The tenant settings and `BEGIN`, as one simple query (one round trip). PostgreSQL runs
    /// the statements before a `BEGIN` in the same query as part of the transaction it opens,
    /// so the settings last exactly as long as the transaction; and if setting them fails, the
    /// whole query is rolled back and the connection is left idle, never inside a transaction.
    /// The values are UUIDs, whose text is hex digits and hyphens only: safe to write inline.
    pub fn begin_statement(&self) -> String {
        let project = self.project.map(|p| p.to_string()).unwrap_or_default();
        format!(
            "SELECT set_config('app.org_id', '{}', true), set_config('app.project_id', '{project}', true); BEGIN",
            self.org
        )
    }
}

/// A pool whose connections run as [`RUNTIME_ROLE`]. The login role must be a member of it
/// (`GRANT app_runtime TO <login>`); `SET ROLE` makes RLS apply even to a privileged login.
pub async fn runtime_pool(options: PgConnectOptions, max_connections: u32) -> Result<PgPool, sqlx::Error> {
    PgPoolOptions::new()
        .max_connections(max_connections)
        // A request waits this long for a connection, then gets 503 (not sqlx's 30 s default:
        // a client would rather retry than hang while the database restarts).
        .acquire_timeout(std::time::Duration::from_secs(5))
        // No ping before every checkout: it costs a round trip per request, and a dead
        // connection fails its first query and leaves the pool anyway.
        .test_before_acquire(false)
        .after_connect(|conn, _| {
            Box::pin(async move {
                // Not compile-checked: a role name cannot be a bind parameter.
                sqlx::query(&format!("SET ROLE {RUNTIME_ROLE}")).execute(conn).await?;
                Ok(())
            })
        })
        .connect_with(options)
        .await
}

/// Begins a transaction scoped to `tenant`: `set_config(..., true)` lasts until the transaction
/// ends, commit or rollback, so the next user of the connection starts with no tenant.
///
/// The begin runs in a task of its own so that it always finishes. sqlx's begin cannot be
/// cancelled safely (sqlx issue #4393, in 0.8.6 and 0.9.0): dropped while its statement is in
/// flight (a client gone, the request timeout), it returns the connection to the pool inside
/// the transaction the server still opened, tenant set. Run to the end instead, a transaction
/// nobody took is dropped in the task, which rolls it back before the connection is reused.
///
/// A begin that fails on a broken connection is retried on another: nothing has run yet, so it
/// is always safe. After a PostgreSQL restart every idle connection in the pool is dead, and
/// each would otherwise fail the request it was handed to; the pool drops a broken connection
/// when it comes back, so after at most one try per connection the pool can hold, a new one
/// is opened.
pub async fn begin(pool: &PgPool, tenant: Tenant) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    let pool = pool.clone();
    let statement = tenant.begin_statement();
    tokio::spawn(async move {
        let mut tries_left = pool.options().get_max_connections();
        loop {
            // The one place a transaction is begun (clippy.toml refuses it anywhere else).
            #[allow(clippy::disallowed_methods)]
            let begun = pool.begin_with(statement.clone()).await;
            match begun {
                Err(e) if is_connection_lost(&e) && tries_left > 0 => {
                    tries_left -= 1;
                    tracing::info!(error = %e, "a pooled connection was broken; beginning on another");
                }
                other => return other,
            }
        }
    })
    .await
    .map_err(|_| sqlx::Error::WorkerCrashed)?
}

/// The connection broke or the server is going away (SQLSTATE class 08, 57P01-57P03): the
/// server did not run the statement, or lost what it ran with the transaction.
fn is_connection_lost(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) => true,
        sqlx::Error::Database(d) => d
            .code()
            .is_some_and(|c| c.starts_with("08") || matches!(c.as_ref(), "57P01" | "57P02" | "57P03")),
        _ => false,
    }
}

/// A failure the client may simply retry: the database was unreachable, restarting or busy
/// (a lost connection, no free connection in time, the pool closing at shutdown, a
/// serialization failure or deadlock, too many connections). The API answers 503 with `Retry-After`, never 500.
pub fn is_transient(e: &sqlx::Error) -> bool {
    is_connection_lost(e)
        || matches!(
            e,
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed
        )
        || matches!(e, sqlx::Error::Database(d) if d.code().is_some_and(|c| matches!(c.as_ref(), "40001" | "40P01" | "53300")))
}
