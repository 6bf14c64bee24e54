//! The project's polls: opened from a template within the org's quota, paged, deleted with
//! their vote counters, and asked whether a vote names one of their choices.

use serde_json::{Value, json};
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::tenant;
use crate::configs::quotas::Quota;
use crate::error::ApiError;
use crate::state::AppState;

/// Polls a snapshot carries: the project's newest, oldest of them first. Older ones page
/// through `GET .../polls`.
pub const SNAPSHOT_POLLS: i64 = 20;

struct PollRow {
    id: Uuid,
    template: String,
    question: String,
    choices: Value,
}

impl PollRow {
    fn into_json(self) -> Value {
        json!({"id": self.id, "template": self.template, "question": self.question, "choices": self.choices})
    }
}

/// The counter a vote for `choice` of `poll` moves.
pub fn vote_metric(poll: Uuid, choice: &str) -> String {
    format!("poll:{poll}:{choice}")
}

/// Whether the project has `poll` with `choice`. The key-share lock holds the poll until the
/// vote's transaction ends, so a deletion waits for votes in flight.
pub(super) async fn has_choice(conn: &mut PgConnection, poll: Uuid, choice: &str) -> Result<bool, sqlx::Error> {
    let valid = sqlx::query_scalar!(
        "SELECT choices ? $2 FROM chat_polls WHERE id = $1 FOR KEY SHARE",
        poll,
        choice
    )
    .fetch_optional(conn)
    .await?;
    Ok(valid == Some(Some(true)))
}

/// The project's [`SNAPSHOT_POLLS`] newest polls, oldest of them first.
pub(super) async fn newest(conn: &mut PgConnection) -> Result<Vec<Value>, sqlx::Error> {
    let rows = sqlx::query_as!(
        PollRow,
        "SELECT id, template, question, choices FROM
           (SELECT id, template, question, choices, created_at FROM chat_polls
             ORDER BY created_at DESC, id DESC LIMIT $1) AS newest
          ORDER BY created_at, id",
        SNAPSHOT_POLLS
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(PollRow::into_json).collect())
}

/// Up to `limit` of the project's polls, newest first, from just before the poll `before` when
/// given; `None` when the project has no poll `before`.
pub async fn page(
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
            let found = sqlx::query!("SELECT created_at, id FROM chat_polls WHERE id = $1", poll)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(found) = found else {
                return Ok(None);
            };
            Some((found.created_at, found.id))
        }
    };
    let rows = sqlx::query_as!(
        PollRow,
        "SELECT id, template, question, choices FROM chat_polls
          WHERE $2::timestamptz IS NULL OR (created_at, id) < ($2, $3)
          ORDER BY created_at DESC, id DESC LIMIT $1",
        limit,
        cursor.map(|(at, _)| at),
        cursor.map(|(_, id)| id)
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Some(rows.into_iter().map(PollRow::into_json).collect()))
}

/// Deletes a poll and its vote counters; false when the project has no such poll. The row
/// lock waits for votes in flight, which lock the poll too, so no vote outlives its poll.
pub async fn delete(pool: &PgPool, org: Uuid, project: Uuid, poll: Uuid) -> Result<bool, sqlx::Error> {
    let mut tx = tenant(pool, org, project).await?;
    let deleted = sqlx::query!("DELETE FROM chat_polls WHERE id = $1", poll)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    sqlx::query!("DELETE FROM chat_counters WHERE metric LIKE $1", vote_metric(poll, "%"))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(deleted == 1)
}

/// Opens a poll in the project from a template, within the org's `quotas.polls_per_project`.
pub async fn create(
    state: &AppState,
    org: Uuid,
    project: Uuid,
    template: &str,
    question: &str,
    choices: &Value,
) -> Result<Value, ApiError> {
    let mut tx = tenant(&state.db, org, project).await?;
    Quota::PollsPerProject.check(&mut tx, state, org, project).await?;
    let id = sqlx::query_scalar!(
        "INSERT INTO chat_polls (org_id, project_id, template, question, choices) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        org,
        project,
        template,
        question,
        choices
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(PollRow {
        id,
        template: template.to_owned(),
        question: question.to_owned(),
        choices: choices.clone(),
    }
    .into_json())
}
