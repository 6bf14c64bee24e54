//! The project's counters (one per action, one per poll choice) and its sequence number, `_seq`,
//! which every increment moves so that a snapshot says which frames it already holds.

use serde_json::{Map, Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use super::{polls, tenant};

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
            if !polls::has_choice(&mut tx, poll, choice).await? {
                return Ok(Counted::UnknownChoice);
            }
            polls::vote_metric(poll, choice)
        }
    };
    let rows = sqlx::query!(
        "INSERT INTO chat_counters (org_id, project_id, metric, value)
         SELECT $1, $2, m, 1 FROM unnest(ARRAY[$3, '_seq']) AS m
         WHERE EXISTS (SELECT 1 FROM project_members WHERE project_id = $2 AND user_id = $4)
         ON CONFLICT (project_id, metric) DO UPDATE SET value = chat_counters.value + 1
         RETURNING metric, value",
        org,
        project,
        &metric,
        user
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    if rows.is_empty() {
        return Ok(Counted::NotMember);
    }
    let value = |name: &str| rows.iter().find(|r| r.metric == name).map_or(0, |r| r.value);
    Ok(Counted::Done {
        value: value(&metric),
        seq: value("_seq"),
    })
}

/// Every counter and the newest polls of the project, and the sequence number they are at.
pub async fn snapshot(
    pool: &PgPool,
    org: Uuid,
    project: Uuid,
) -> Result<(i64, Map<String, Value>, Vec<Value>), sqlx::Error> {
    let mut tx = tenant(pool, org, project).await?;
    let rows = sqlx::query!("SELECT metric, value FROM chat_counters")
        .fetch_all(&mut *tx)
        .await?;
    let polls = polls::newest(&mut tx).await?;
    tx.commit().await?;
    let mut seq = 0;
    let mut counters = Map::new();
    for row in rows {
        if row.metric == "_seq" {
            seq = row.value;
        } else {
            counters.insert(row.metric, json!(row.value));
        }
    }
    Ok((seq, counters, polls))
}
