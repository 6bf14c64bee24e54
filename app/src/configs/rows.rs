//! The configs' rows in PostgreSQL, the source of truth: every statement that writes
//! `service_configs` and `config_history`, shared by the API's change and the org saga's
//! defaults, so the two cannot write a config differently.

use serde::Serialize;
use serde_json::Value;
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use super::store::ConfigEntry;
use crate::db::{self, Tenant};

/// Changes of one key the history keeps: the newest, so an org writing in a loop cannot grow
/// the table without bound.
pub const HISTORY_KEPT: i32 = 100;

/// One change of a config, as `GET …/history` lists it.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryEntry {
    pub version: i64,
    pub old_value: Option<Value>,
    pub new_value: Value,
    pub actor: String,
    pub reason: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// The newest `limit` changes of `key`, newest first.
pub async fn history(pool: &PgPool, org: Uuid, key: &str, limit: i64) -> Result<Vec<HistoryEntry>, sqlx::Error> {
    let mut tx = db::begin(pool, Tenant::org(org)).await?;
    let rows = sqlx::query_as!(
        HistoryEntry,
        "SELECT version, old_json AS old_value, new_json AS new_value, actor, reason, ts AS at
           FROM config_history WHERE org_id = $1 AND key = $2 ORDER BY version DESC, id DESC LIMIT $3",
        org,
        key,
        limit
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows)
}

/// One change to a config, as a person asked for it.
#[derive(Debug, Clone, Copy)]
pub struct Change<'a> {
    pub org: Uuid,
    pub key: &'a str,
    pub value: &'a Value,
    /// The version the change is based on (`If-Match`); `None` creates the key.
    pub expected: Option<i64>,
    pub actor: &'a str,
    pub reason: &'a str,
    /// Check that the org exists first: a guest's token names its own org, the platform admin
    /// may name any id.
    pub check_org: bool,
}

/// Why a change was not written.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("org {0} not found")]
    NoOrg(Uuid),
    #[error("config {0} does not exist yet; send the PUT without If-Match to create it")]
    NotYet(String),
    #[error("send If-Match: \"{current}\" (the version your change is based on) to change {key}")]
    VersionRequired { key: String, current: i64 },
    #[error("config {key} is at version {current}, not {expected}; read it again, reapply your change and retry")]
    Stale { key: String, current: i64, expected: i64 },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Writes `change` at the next version if it is based on the current one, with its history
/// row, in one transaction under the org's row-level security; the entry now stored.
pub async fn put(pool: &PgPool, change: Change<'_>) -> Result<ConfigEntry, Refused> {
    let mut tx = db::begin(pool, Tenant::org(change.org)).await?;
    if change.check_org {
        let exists = sqlx::query_scalar!(r#"SELECT 1 AS "exists!" FROM organizations WHERE id = $1"#, change.org)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(Refused::NoOrg(change.org));
        }
    }
    let current = sqlx::query!(
        "SELECT value_json, version FROM service_configs WHERE org_id = $1 AND key = $2 FOR UPDATE",
        change.org,
        change.key
    )
    .fetch_optional(&mut *tx)
    .await?
    .map(|row| (row.value_json, row.version));
    let key = change.key.to_owned();
    let (old, version) = match (current, change.expected) {
        (None, None) => (None, 1),
        (None, Some(_)) => return Err(Refused::NotYet(key)),
        (Some((_, current)), None) => return Err(Refused::VersionRequired { key, current }),
        (Some((_, current)), Some(expected)) if current != expected => {
            return Err(Refused::Stale { key, current, expected });
        }
        (Some((old, current)), Some(_)) => (Some(old), current + 1),
    };
    let updated_at = sqlx::query_scalar!(
        "INSERT INTO service_configs (org_id, key, value_json, version, updated_by) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (org_id, key) DO UPDATE SET value_json = EXCLUDED.value_json, version = EXCLUDED.version,
             updated_by = EXCLUDED.updated_by, updated_at = now()
         RETURNING updated_at",
        change.org,
        change.key,
        change.value,
        version,
        change.actor
    )
    .fetch_one(&mut *tx)
    .await?;
    let history = History {
        org: change.org,
        key: change.key,
        old: old.as_ref(),
        new: change.value,
        version,
        actor: change.actor,
        reason: change.reason,
    };
    history.write(&mut tx).await?;
    sqlx::query!("SELECT app_trim_config_history($1, $2)", change.key, HISTORY_KEPT)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(ConfigEntry {
        value: change.value.clone(),
        version,
        updated_by: change.actor.to_owned(),
        updated_at,
    })
}

/// Writes `key`'s default `value` as version 1 unless the org has the key already, with its
/// history row, in the caller's transaction; the version written, if any.
pub async fn insert_default(
    tx: &mut PgConnection,
    org: Uuid,
    key: &str,
    value: &Value,
) -> Result<Option<i64>, sqlx::Error> {
    const SYSTEM: &str = "system";
    let inserted = sqlx::query_scalar!(
        "INSERT INTO service_configs (org_id, key, value_json, version, updated_by) VALUES ($1, $2, $3, 1, $4)
         ON CONFLICT (org_id, key) DO NOTHING RETURNING version",
        org,
        key,
        value,
        SYSTEM
    )
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(version) = inserted {
        let history = History {
            org,
            key,
            old: None,
            new: value,
            version,
            actor: SYSTEM,
            reason: "org defaults",
        };
        history.write(tx).await?;
    }
    Ok(inserted)
}

/// Deletes every config of the org (a failed org's compensation); the keys it deleted.
pub async fn delete_all(tx: &mut PgConnection, org: Uuid) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar!("DELETE FROM service_configs WHERE org_id = $1 RETURNING key", org)
        .fetch_all(tx)
        .await
}

/// One row of `config_history`.
struct History<'a> {
    org: Uuid,
    key: &'a str,
    old: Option<&'a Value>,
    new: &'a Value,
    version: i64,
    actor: &'a str,
    reason: &'a str,
}

impl History<'_> {
    async fn write(&self, tx: &mut PgConnection) -> Result<(), sqlx::Error> {
        sqlx::query!(
            "INSERT INTO config_history (org_id, key, old_json, new_json, version, actor, reason)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            self.org,
            self.key,
            self.old,
            self.new,
            self.version,
            self.actor,
            self.reason
        )
        .execute(tx)
        .await?;
        Ok(())
    }
}
