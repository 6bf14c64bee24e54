//! Chat sessions: opened under the per-user cap (oldest closed first), listed, closed, and
//! rechecked for sockets whose user may have lost the project.

use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use super::tenant;
use crate::domain::ProjectRole;

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Session {
    pub id: Uuid,
    pub project_id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub opened_at: OffsetDateTime,
}

/// The user's role in the project, if they are a member (only members chat).
pub async fn membership(
    pool: &PgPool,
    org: Uuid,
    project: Uuid,
    user: Uuid,
) -> Result<Option<ProjectRole>, sqlx::Error> {
    let mut tx = tenant(pool, org, project).await?;
    let role = crate::projects::role_of(&mut tx, project, user).await?;
    tx.commit().await?;
    Ok(role)
}

/// Closed sessions kept per user and project (the newest): enough for a late socket to learn
/// its chat was closed, and a bound on rows however often a user opens chats.
pub const CLOSED_SESSIONS_KEPT: i64 = 10;

/// Opens a session and closes the oldest beyond `cap` (FIFO), dropping closed sessions beyond
/// [`CLOSED_SESSIONS_KEPT`]. A transaction-scoped advisory
/// lock on (project, user) serializes concurrent opens from any replica, so the cap holds.
/// Returns the new session and the ids it closed.
pub async fn open(
    pool: &PgPool,
    org: Uuid,
    project: Uuid,
    user: Uuid,
    cap: i64,
) -> Result<(Session, Vec<Uuid>), sqlx::Error> {
    let mut tx = tenant(pool, org, project).await?;
    sqlx::query!(
        "SELECT pg_advisory_xact_lock(hashtextextended($1::uuid::text || '/' || $2::uuid::text, 0))",
        project,
        user
    )
    .execute(&mut *tx)
    .await?;
    let session = sqlx::query_as!(
        Session,
        "INSERT INTO chat_sessions (org_id, project_id, user_id) VALUES ($1, $2, $3) RETURNING id, project_id, opened_at",
        org,
        project,
        user
    )
    .fetch_one(&mut *tx)
    .await?;
    let closed = sqlx::query_scalar!(
        "UPDATE chat_sessions SET closed_at = clock_timestamp()
          WHERE id IN (SELECT id FROM chat_sessions WHERE project_id = $1 AND user_id = $2 AND closed_at IS NULL
                        ORDER BY opened_at DESC, id DESC OFFSET $3)
          RETURNING id",
        project,
        user,
        cap
    )
    .fetch_all(&mut *tx)
    .await?;
    sqlx::query!(
        "DELETE FROM chat_sessions
          WHERE id IN (SELECT id FROM chat_sessions WHERE project_id = $1 AND user_id = $2 AND closed_at IS NOT NULL
                        ORDER BY closed_at DESC, id DESC OFFSET $3)",
        project,
        user,
        CLOSED_SESSIONS_KEPT
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok((session, closed))
}

/// The user's open sessions in the project, oldest first.
pub async fn active(pool: &PgPool, org: Uuid, project: Uuid, user: Uuid) -> Result<Vec<Session>, sqlx::Error> {
    let mut tx = tenant(pool, org, project).await?;
    let sessions = sqlx::query_as!(
        Session,
        "SELECT id, project_id, opened_at FROM chat_sessions
          WHERE project_id = $1 AND user_id = $2 AND closed_at IS NULL ORDER BY opened_at, id",
        project,
        user
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(sessions)
}

/// Closes the user's session; false when it was not theirs or not open.
pub async fn close(pool: &PgPool, org: Uuid, project: Uuid, user: Uuid, session: Uuid) -> Result<bool, sqlx::Error> {
    let mut tx = tenant(pool, org, project).await?;
    let closed = sqlx::query!(
        "UPDATE chat_sessions SET closed_at = clock_timestamp() WHERE id = $1 AND user_id = $2 AND closed_at IS NULL",
        session,
        user
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(closed == 1)
}

/// Of `sessions` (open sockets' sessions in the project): the ones still open whose user is
/// still a member, and the ones whose user is no longer a member (a removal closes them too).
pub async fn live(pool: &PgPool, org: Uuid, project: Uuid, sessions: &[Uuid]) -> Result<LiveSessions, sqlx::Error> {
    let mut tx = tenant(pool, org, project).await?;
    let rows = sqlx::query!(
        r#"SELECT s.id, s.closed_at IS NULL AS "open!",
                  EXISTS (SELECT 1 FROM project_members m WHERE m.project_id = s.project_id AND m.user_id = s.user_id) AS "member!"
             FROM chat_sessions s WHERE s.id = ANY($1)"#,
        sessions
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(LiveSessions {
        open: rows.iter().filter(|r| r.open && r.member).map(|r| r.id).collect(),
        removed: rows.iter().filter(|r| !r.member).map(|r| r.id).collect(),
    })
}

/// What [`live`] found.
#[derive(Debug, Default)]
pub struct LiveSessions {
    pub open: Vec<Uuid>,
    pub removed: Vec<Uuid>,
}

/// Whether the user's session is still open.
pub async fn is_open(pool: &PgPool, org: Uuid, project: Uuid, user: Uuid, session: Uuid) -> Result<bool, sqlx::Error> {
    let mut tx = tenant(pool, org, project).await?;
    let open = sqlx::query_scalar!(
        r#"SELECT 1 AS "open!" FROM chat_sessions WHERE id = $1 AND user_id = $2 AND closed_at IS NULL"#,
        session,
        user
    )
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(open.is_some())
}
