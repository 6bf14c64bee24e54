//! Keeping every replica's configs current. A change publishes `version=n` on
//! `config:<org>:<key>` (no value, no secret); each replica then reads the row from PostgreSQL
//! and applies it if newer. A fetch that fails (the database restarting) is retried with
//! backoff (0.1 s doubling to 2 s) until it succeeds. Missed events are healed by
//! reconciliation: at start (warm load, before the replica reports ready), right after every
//! (re)subscription, and on a timer.

use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::StreamExt;
use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use sqlx::PgPool;
use tokio::sync::watch;
use uuid::Uuid;

use super::store::{Applied, ConfigEntry};
use crate::db::{self, Tenant};
use crate::state::AppState;

const CHANNEL_PATTERN: &str = "config:*";

pub fn channel(org: Uuid, key: &str) -> String {
    format!("config:{org}:{key}")
}

/// Announces a new version. Best effort: a lost event is healed by reconciliation.
pub async fn publish(redis: &ConnectionManager, org: Uuid, key: &str, version: i64) {
    let mut conn = redis.clone();
    let sent: redis::RedisResult<i64> = conn.publish(channel(org, key), format!("version={version}")).await;
    if let Err(e) = sent {
        tracing::warn!(%org, key, version, error = %e, "config event not published; replicas reconcile later");
    }
}

fn parse_event(channel: &str, payload: &str) -> Option<(Uuid, String, i64)> {
    let rest = channel.strip_prefix("config:")?;
    let (org, key) = rest.split_once(':')?;
    let version = payload.strip_prefix("version=")?.parse().ok()?;
    Some((org.parse().ok()?, key.to_owned(), version))
}

struct Row {
    key: String,
    value_json: serde_json::Value,
    version: i64,
    updated_by: String,
    updated_at: time::OffsetDateTime,
}

impl From<Row> for (String, ConfigEntry) {
    fn from(row: Row) -> Self {
        (
            row.key,
            ConfigEntry {
                value: row.value_json,
                version: row.version,
                updated_by: row.updated_by,
                updated_at: row.updated_at,
            },
        )
    }
}

/// The org's configs (all of them, or one key) as the database has them now.
pub async fn fetch(pool: &PgPool, org: Uuid, key: Option<&str>) -> Result<Vec<(String, ConfigEntry)>, sqlx::Error> {
    let mut tx = db::begin(pool, Tenant::org(org)).await?;
    let rows = sqlx::query_as!(
        Row,
        "SELECT key, value_json, version, updated_by, updated_at FROM service_configs
          WHERE org_id = $1 AND ($2::text IS NULL OR key = $2)",
        org,
        key
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// Applies one event: fetch the key and swap it in if newer than what is served. `false` when
/// the fetch failed: the key is then stale here until a retry succeeds.
async fn on_event(state: &AppState, org: Uuid, key: &str, version: i64) -> bool {
    if version > 0 && state.configs.version(org, key) >= version {
        state.metrics.config_reload("stale");
        return true;
    }
    match fetch(&state.db, org, Some(key)).await {
        Ok(rows) if rows.is_empty() => {
            state.configs.remove(org, key);
            state.metrics.config_reload("applied");
            // A removal can lower a key's highest version; removals are rare.
            state.metrics.set_config_versions(&state.configs);
        }
        Ok(rows) => {
            for (key, entry) in rows {
                let version = entry.version;
                let result = state.configs.apply(org, &key, entry);
                if result == Applied::Swapped {
                    state.metrics.config_version_served(&key, version);
                }
                state
                    .metrics
                    .config_reload(if result == Applied::Swapped { "applied" } else { "stale" });
            }
        }
        Err(e) => {
            tracing::warn!(%org, key, error = %e, "config fetch failed; retrying with backoff");
            state.metrics.config_reload("error");
            return false;
        }
    }
    true
}

/// What a failed fetch left stale on this replica, retried with backoff until it succeeds:
/// configs heal in seconds once the database is back, not at the next reconciliation.
#[derive(Debug, Default)]
struct Dirty {
    /// Keys whose event could not be applied, with the version it announced.
    keys: std::collections::HashMap<(Uuid, String), i64>,
    /// A whole reconciliation failed.
    everything: bool,
    backoff: Option<Duration>,
}

impl Dirty {
    const FIRST: Duration = Duration::from_millis(100);
    const MOST: Duration = Duration::from_secs(2);

    fn is_empty(&self) -> bool {
        self.keys.is_empty() && !self.everything
    }

    /// How long to wait before the next retry (after a failure, twice as long as before).
    fn wait(&mut self, failed_again: bool) -> Duration {
        let next = match self.backoff {
            Some(previous) if failed_again => (previous * 2).min(Self::MOST),
            Some(previous) => previous,
            None => Self::FIRST,
        };
        self.backoff = Some(next);
        next
    }

    /// Retries everything stale; returns whether anything is still stale.
    async fn retry(&mut self, state: &AppState) -> bool {
        if self.everything {
            match reconcile(state).await {
                Ok(()) => {
                    self.everything = false;
                    // A full reconciliation fetched every key that was behind.
                    self.keys.clear();
                }
                Err(e) => {
                    tracing::warn!(error = %e, "reconciliation failed again; retrying with backoff");
                    state.metrics.config_reload("error");
                }
            }
        }
        let keys: Vec<((Uuid, String), i64)> = self.keys.drain().collect();
        for ((org, key), version) in keys {
            if !on_event(state, org, &key, version).await {
                self.keys.insert((org, key), version);
            }
        }
        if self.is_empty() {
            self.backoff = None;
        }
        !self.is_empty()
    }
}

/// Brings the whole copy up to the database: reads the (org, key, version) index, fetches
/// the orgs with anything newer, and drops keys that no longer exist.
pub async fn reconcile(state: &AppState) -> Result<(), sqlx::Error> {
    let index: Vec<(Uuid, String, i64)> =
        sqlx::query!(r#"SELECT org_id AS "org_id!", key AS "key!", version AS "version!" FROM app_config_index()"#)
            .fetch_all(&state.db)
            .await?
            .into_iter()
            .map(|row| (row.org_id, row.key, row.version))
            .collect();
    let mut behind: Vec<Uuid> = index
        .iter()
        .filter(|(org, key, version)| state.configs.version(*org, key) < *version)
        .map(|(org, _, _)| *org)
        .collect();
    behind.sort_unstable();
    behind.dedup();
    for org in behind {
        for (key, entry) in fetch(&state.db, org, None).await? {
            let result = state.configs.apply(org, &key, entry);
            if result == Applied::Swapped {
                state.metrics.config_reload("applied");
            }
        }
    }
    let known: std::collections::HashSet<(Uuid, &str)> = index.iter().map(|(o, k, _)| (*o, k.as_str())).collect();
    for (org, key) in state.configs.keys() {
        if !known.contains(&(org, key.as_str())) {
            state.configs.remove(org, &key);
        }
    }
    state.configs.mark_loaded();
    state.metrics.set_config_versions(&state.configs);
    Ok(())
}

/// The subscriber: (re)subscribes with backoff, reconciles after each subscription and every
/// `every`, and applies events in between, until `shutdown` says stop.
pub async fn run(state: AppState, client: redis::Client, every: Duration, mut shutdown: watch::Receiver<bool>) {
    let mut backoff = Duration::from_millis(50);
    loop {
        let subscribed = async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.psubscribe(CHANNEL_PATTERN).await?;
            redis::RedisResult::Ok(pubsub)
        };
        let pubsub = tokio::select! {
            result = tokio::time::timeout(Duration::from_secs(5), subscribed) => result,
            _ = shutdown.changed() => return,
        };
        let mut stream = match pubsub {
            Ok(Ok(pubsub)) => pubsub.into_on_message(),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, ?backoff, "config subscriber cannot subscribe; retrying");
                if sleep_or_stop(backoff, &mut shutdown).await {
                    return;
                }
                backoff = (backoff * 2).min(Duration::from_secs(5));
                continue;
            }
            Err(_) => {
                tracing::warn!(?backoff, "config subscriber timed out subscribing; retrying");
                continue;
            }
        };
        backoff = Duration::from_millis(50);
        tracing::info!("config subscriber subscribed; reconciling");
        let mut dirty = Dirty::default();
        if let Err(e) = reconcile(&state).await {
            tracing::warn!(error = %e, "reconciliation failed; retrying with backoff");
            state.metrics.config_reload("error");
            dirty.everything = true;
        }
        state.config_events.store(true, Ordering::Release);
        let mut timer = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        let retry = tokio::time::sleep(dirty.wait(false));
        tokio::pin!(retry);
        loop {
            tokio::select! {
                message = stream.next() => match message {
                    Some(message) => on_message(&state, &mut dirty, retry.as_mut(), &message).await,
                    None => {
                        state.config_events.store(false, Ordering::Release);
                        tracing::warn!("config subscription lost; resubscribing");
                        break;
                    }
                },
                () = &mut retry, if !dirty.is_empty() => {
                    if dirty.retry(&state).await {
                        retry.as_mut().reset(tokio::time::Instant::now() + dirty.wait(true));
                    }
                }
                _ = timer.tick() => {
                    if let Err(e) = reconcile(&state).await {
                        tracing::warn!(error = %e, "reconciliation failed; retrying with backoff");
                        state.metrics.config_reload("error");
                        if dirty.is_empty() {
                            retry.as_mut().reset(tokio::time::Instant::now() + dirty.wait(false));
                        }
                        dirty.everything = true;
                    }
                }
                _ = shutdown.changed() => return,
            }
        }
    }
}

/// Applies one published event; one this replica could not apply yet is remembered in `dirty`
/// for the retry, which starts counting with the first.
async fn on_message(
    state: &AppState,
    dirty: &mut Dirty,
    retry: std::pin::Pin<&mut tokio::time::Sleep>,
    message: &redis::Msg,
) {
    let payload: String = message.get_payload().unwrap_or_default();
    let Some((org, key, version)) = parse_event(message.get_channel_name(), &payload) else {
        tracing::warn!(
            channel = message.get_channel_name(),
            "ignoring a malformed config event"
        );
        return;
    };
    if !on_event(state, org, &key, version).await {
        if dirty.is_empty() {
            retry.reset(tokio::time::Instant::now() + dirty.wait(false));
        }
        let announced = dirty.keys.entry((org, key)).or_default();
        *announced = (*announced).max(version);
    }
}

/// Sleeps, or returns true at once when shutdown is requested.
async fn sleep_or_stop(duration: Duration, shutdown: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        () = tokio::time::sleep(duration) => false,
        _ = shutdown.changed() => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_carry_only_org_key_and_version() {
        let org = Uuid::new_v4();
        assert_eq!(
            parse_event(&channel(org, "ui.banner"), "version=7"),
            Some((org, "ui.banner".to_owned(), 7))
        );
        assert_eq!(parse_event(&channel(org, "ui.banner"), "value=7"), None);
        assert_eq!(parse_event("config:not-a-uuid:k", "version=1"), None);
        assert_eq!(parse_event("other:x", "version=1"), None);
    }
}
