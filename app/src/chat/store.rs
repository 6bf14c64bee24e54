//! The chat's SQL: sessions under the cap, counters and polls. Every query runs in the tenant
//! (org and project) of the caller, so RLS scopes it whatever its WHERE clause says.

use serde_json::{Map, Value, json};
use sqlx::{PgPool, Postgres, Transaction};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::configs::quotas::Quota;
use crate::db::{self, Tenant};
use crate::domain::ProjectRole;
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Session {
    pub id: Uuid,
    pub project_id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub opened_at: OffsetDateTime,
}

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
pub async fn open_session(
    pool: &PgPool,
    org: Uuid,
    project: Uuid,
    user: Uuid,
    cap: i64,
) -> Result<(Session, Vec<Uuid>), sqlx::Error> {
    let mut tx = tenant(pool, org, project).await?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1::text || '/' || $2::text, 0))")
        .bind(project)
        .bind(user)
        .execute(&mut *tx)
        .await?;
    let session = sqlx::query_as::<_, Session>(
        "INSERT INTO chat_sessions (org_id, project_id, user_id) VALUES ($1, $2, $3) RETURNING id, project_id, opened_at",
    )
    .bind(org)
    .bind(project)
    .bind(user)
    .fetch_one(&mut *tx)
    .await?;
    let closed: Vec<Uuid> = sqlx::query_scalar(
        "UPDATE chat_sessions SET closed_at = clock_timestamp()
          WHERE id IN (SELECT id FROM chat_sessions WHERE project_id = $1 AND user_id = $2 AND closed_at IS NULL
                        ORDER BY opened_at DESC, id DESC OFFSET $3)
          RETURNING id",
    )
    .bind(project)
    .bind(user)
    .bind(cap)
    .fetch_all(&mut *tx)
    .await?;
    sqlx::query(
        "DELETE FROM chat_sessions
          WHERE id IN (SELECT id FROM chat_sessions WHERE project_id = $1 AND user_id = $2 AND closed_at IS NOT NULL
                        ORDER BY closed_at DESC, id DESC OFFSET $3)",
    )
    .bind(project)
    .bind(user)
    .bind(CLOSED_SESSIONS_KEPT)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok((session, closed))
}

pub async fn active_sessions(pool: &PgPool, org: Uuid, project: Uuid, user: Uuid) -> Result<Vec<Session>, sqlx::Error> {
    let mut tx = tenant(pool, org, project).await?;
    let sessions = sqlx::query_as::<_, Session>(
        "SELECT id, project_id, opened_at FROM chat_sessions
          WHERE project_id = $1 AND user_id = $2 AND closed_at IS NULL ORDER BY opened_at, id",
    )
    .bind(project)
    .bind(user)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(sessions)
}

/// Closes the user's session; false when it was not theirs or not open.
pub async fn close_session(
    pool: &PgPool,
    org: Uuid,
    project: Uuid,
    user: Uuid,
    session: Uuid,
) -> Result<bool, sqlx::Error> {
    let mut tx = tenant(pool, org, project).await?;
    let closed = sqlx::query(
        "UPDATE chat_sessions SET closed_at = clock_timestamp() WHERE id = $1 AND user_id = $2 AND closed_at IS NULL",
    )
    .bind(session)
    .bind(user)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(closed == 1)
}

/// Of `sessions` (open sockets' sessions in the project): the ones still open whose user is
/// still a member, and the ones whose user is no longer a member (a removal closes them too).
pub async fn live_sessions(
    pool: &PgPool,
    org: Uuid,
    project: Uuid,
    sessions: &[Uuid],
) -> Result<LiveSessions, sqlx::Error> {
    let mut tx = tenant(pool, org, project).await?;
    let rows: Vec<(Uuid, bool, bool)> = sqlx::query_as(
        "SELECT s.id, s.closed_at IS NULL,
                EXISTS (SELECT 1 FROM project_members m WHERE m.project_id = s.project_id AND m.user_id = s.user_id)
         FROM chat_sessions s WHERE s.id = ANY($1)",
    )
    .bind(sessions)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(LiveSessions {
        open: rows
            .iter()
            .filter(|(_, open, member)| *open && *member)
            .map(|r| r.0)
            .collect(),
        removed: rows.iter().filter(|(_, _, member)| !*member).map(|r| r.0).collect(),
    })
}

/// What [`live_sessions`] found.
#[derive(Debug, Default)]
pub struct LiveSessions {
    pub open: Vec<Uuid>,
    pub removed: Vec<Uuid>,
}

pub async fn session_is_open(
    pool: &PgPool,
    org: Uuid,
    project: Uuid,
    user: Uuid,
    session: Uuid,
) -> Result<bool, sqlx::Error> {
    let mut tx = tenant(pool, org, project).await?;
    let open: Option<i32> =
        sqlx::query_scalar("SELECT 1 FROM chat_sessions WHERE id = $1 AND user_id = $2 AND closed_at IS NULL")
            .bind(session)
            .bind(user)
            .fetch_optional(&mut *tx)
            .await?;
    tx.commit().await?;
    Ok(open.is_some())
}

/// What a counter increment needs to know about a vote first.
#[derive(Debug, PartialEq, Eq)]
pub enum Counted {
    /// The counter's new value and the project's new sequence number.
    Done { value: i64, seq: i64 },
    /// The poll does not exist in this project, or has no such choice.
    UnknownChoice,
    /// The user is no longer a member of the project (the socket predates the removal).
    NotMember,
}

/// Increments `metric` (an action, or a vote when `vote` names a poll and choice) and the
/// project's sequence, in one transaction, if `user` is still one of the project's members: a
/// socket opened before a removal counts nothing, even when the close never reached it.
pub async fn count(
    pool: &PgPool,
    org: Uuid,
    project: Uuid,
    user: Uuid,
    metric: &str,
    vote: Option<(Uuid, &str)>,
) -> Result<Counted, sqlx::Error> {
    // PostgreSQL's text holds no U+0000, so no choice has one; asking would only fail.
    if vote.is_some_and(|(_, choice)| choice.contains('\0')) {
        return Ok(Counted::UnknownChoice);
    }
    let mut tx = tenant(pool, org, project).await?;
    let metric = match vote {
        None => metric.to_owned(),
        Some((poll, choice)) => {
            let valid: Option<bool> =
                sqlx::query_scalar("SELECT choices ? $2 FROM chat_polls WHERE id = $1 FOR KEY SHARE")
                    .bind(poll)
                    .bind(choice)
                    .fetch_optional(&mut *tx)
                    .await?;
            if valid != Some(true) {
                return Ok(Counted::UnknownChoice);
            }
            format!("poll:{poll}:{choice}")
        }
    };
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "INSERT INTO chat_counters (org_id, project_id, metric, value)
         SELECT $1, $2, m, 1 FROM unnest(ARRAY[$3, '_seq']) AS m
         WHERE EXISTS (SELECT 1 FROM project_members WHERE project_id = $2 AND user_id = $4)
         ON CONFLICT (project_id, metric) DO UPDATE SET value = chat_counters.value + 1
         RETURNING metric, value",
    )
    .bind(org)
    .bind(project)
    .bind(&metric)
    .bind(user)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    if rows.is_empty() {
        return Ok(Counted::NotMember);
    }
    let value = |name: &str| rows.iter().find(|(m, _)| m == name).map_or(0, |(_, v)| *v);
    Ok(Counted::Done {
        value: value(&metric),
        seq: value("_seq"),
    })
}

/// Every counter and poll of the project, and the sequence number they are at.
pub async fn snapshot(
    pool: &PgPool,
    org: Uuid,
    project: Uuid,
) -> Result<(i64, Map<String, Value>, Vec<Value>), sqlx::Error> {
    let mut tx = tenant(pool, org, project).await?;
    let rows: Vec<(String, i64)> = sqlx::query_as("SELECT metric, value FROM chat_counters")
        .fetch_all(&mut *tx)
        .await?;
    let polls: Vec<PollRow> = sqlx::query_as(
        "SELECT id, template, question, choices FROM
           (SELECT id, template, question, choices, created_at FROM chat_polls
             ORDER BY created_at DESC, id DESC LIMIT $1) AS newest
          ORDER BY created_at, id",
    )
    .bind(SNAPSHOT_POLLS)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let mut seq = 0;
    let mut counters = Map::new();
    for (metric, value) in rows {
        if metric == "_seq" {
            seq = value;
        } else {
            counters.insert(metric, json!(value));
        }
    }
    Ok((seq, counters, polls.into_iter().map(poll_json).collect()))
}

/// Polls a snapshot carries: the project's newest, oldest of them first. Older ones page
/// through `GET .../polls`.
pub const SNAPSHOT_POLLS: i64 = 20;

type PollRow = (Uuid, String, String, Value);

fn poll_json((id, template, question, choices): PollRow) -> Value {
    json!({"id": id, "template": template, "question": question, "choices": choices})
}

/// Up to `limit` of the project's polls, newest first, from just before the poll `before` when
/// given; `None` when the project has no poll `before`.
pub async fn polls_page(
    pool: &PgPool,
    org: Uuid,
    project: Uuid,
    limit: i64,
    before: Option<Uuid>,
) -> Result<Option<Vec<Value>>, sqlx::Error> {
    let mut tx = tenant(pool, org, project).await?;
    let cursor: Option<(OffsetDateTime, Uuid)> = match before {
        None => None,
        Some(poll) => {
            let found = sqlx::query_as("SELECT created_at, id FROM chat_polls WHERE id = $1")
                .bind(poll)
                .fetch_optional(&mut *tx)
                .await?;
            if found.is_none() {
                return Ok(None);
            }
            found
        }
    };
    let rows: Vec<PollRow> = sqlx::query_as(
        "SELECT id, template, question, choices FROM chat_polls
          WHERE $2::timestamptz IS NULL OR (created_at, id) < ($2, $3)
          ORDER BY created_at DESC, id DESC LIMIT $1",
    )
    .bind(limit)
    .bind(cursor.map(|(at, _)| at))
    .bind(cursor.map(|(_, id)| id))
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Some(rows.into_iter().map(poll_json).collect()))
}

/// Deletes a poll and its vote counters; false when the project has no such poll. The row
/// lock waits for votes in flight, which lock the poll too, so no vote outlives its poll.
pub async fn delete_poll(pool: &PgPool, org: Uuid, project: Uuid, poll: Uuid) -> Result<bool, sqlx::Error> {
    let mut tx = tenant(pool, org, project).await?;
    let deleted = sqlx::query("DELETE FROM chat_polls WHERE id = $1")
        .bind(poll)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    sqlx::query("DELETE FROM chat_counters WHERE metric LIKE $1")
        .bind(format!("poll:{poll}:%"))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(deleted == 1)
}

/// Opens a poll in the project from a template, within the org's `quotas.polls_per_project`.
pub async fn create_poll(
    state: &AppState,
    org: Uuid,
    project: Uuid,
    template: &str,
    question: &str,
    choices: &Value,
) -> Result<Value, ApiError> {
    let mut tx = tenant(&state.db, org, project).await?;
    Quota::PollsPerProject.check(&mut tx, state, org, project).await?;
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO chat_polls (org_id, project_id, template, question, choices) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(org)
    .bind(project)
    .bind(template)
    .bind(question)
    .bind(choices)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(json!({"id": id, "template": template, "question": question, "choices": choices}))
}
