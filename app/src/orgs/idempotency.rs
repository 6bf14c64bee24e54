//! `Idempotency-Key` for `POST /api/v1/orgs` (draft-ietf-httpapi-idempotency-key-header):
//! the first request with a key claims it, then links it to the PENDING org in the org's creating
//! transaction; a retry while it runs gets 409, a retry after it finished gets the first response replayed,
//! and the same key with another body gets 422.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode};
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use super::org::{Org, OrgStatus};
use crate::error::ApiError;

pub const HEADER: &str = "idempotency-key";

/// What a key's record says about a new request.
#[derive(Debug)]
pub enum Begin {
    /// The key is new and now ours.
    Claimed(Claimed),
    /// The first request with this key is still running.
    InFlight,
    /// The key was used for another body.
    Mismatch,
    /// The first request finished; this is its response.
    Replay(StatusCode, Value),
}

/// A key claimed by this request, in the transaction that creates the org.
#[derive(Debug)]
pub struct Claimed {
    key: String,
    fingerprint: Vec<u8>,
}

/// A hash of the request's meaning (its canonical JSON), so whitespace and key order do not
/// make a retry "different".
pub fn fingerprint(canonical: &Value) -> Vec<u8> {
    Sha256::digest(canonical.to_string().as_bytes()).to_vec()
}

pub fn check_key(raw: Option<&HeaderValue>) -> Result<String, ApiError> {
    let raw = raw.ok_or_else(|| {
        ApiError::BadRequest(
            "send an Idempotency-Key header (e.g. a fresh UUID) so that a retried request cannot create the \
             org twice"
                .to_owned(),
        )
    })?;
    let key = raw
        .to_str()
        .ok()
        .map(|k| k.trim().trim_matches('"'))
        .filter(|k| !k.is_empty() && k.len() <= 255)
        .ok_or_else(|| ApiError::BadRequest("the Idempotency-Key must be 1-255 visible ASCII characters".to_owned()))?;
    Ok(key.to_owned())
}

/// Looks the key up, claiming it when it is new.
pub async fn begin(pool: &PgPool, key: &str, fingerprint: Vec<u8>) -> Result<Begin, sqlx::Error> {
    // The insert waits for a concurrent claim of the same key to commit or roll back, so of
    // many identical requests exactly one claims it.
    let claimed = sqlx::query!(
        "INSERT INTO idempotency_keys (key, request_sha256) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        key,
        &fingerprint
    )
    .execute(pool)
    .await?
    .rows_affected()
        == 1;
    if claimed {
        return Ok(Begin::Claimed(Claimed {
            key: key.to_owned(),
            fingerprint,
        }));
    }
    let row = sqlx::query!(
        "SELECT request_sha256, state, response_status, response_body FROM idempotency_keys WHERE key = $1",
        key
    )
    .fetch_optional(pool)
    .await?;
    Ok(match row {
        // Released between our insert and this read (the first request created nothing).
        None => Begin::InFlight,
        Some(record) if record.request_sha256 != fingerprint => Begin::Mismatch,
        Some(record) => match (record.state.as_str(), record.response_status, record.response_body) {
            ("done", Some(status), Some(body)) => {
                Begin::Replay(StatusCode::from_u16(status as u16).unwrap_or(StatusCode::OK), body)
            }
            _ => Begin::InFlight,
        },
    })
}

impl Claimed {
    /// Ties the key to the org being created, in the org's creating transaction.
    pub async fn link(&self, tx: &mut Transaction<'static, Postgres>, org: Uuid) -> Result<(), sqlx::Error> {
        sqlx::query!(
            "UPDATE idempotency_keys SET created_org = $2 WHERE key = $1 AND request_sha256 = $3",
            &self.key,
            org,
            &self.fingerprint
        )
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Stores the response to replay.
    pub async fn complete(&self, pool: &PgPool, status: StatusCode, body: &Value) -> Result<(), sqlx::Error> {
        store(pool, &self.key, status, body).await
    }

    /// Frees the key of a request that created nothing, so a retry may run again.
    pub async fn release(&self, pool: &PgPool) -> Result<(), sqlx::Error> {
        release(pool, &self.key).await
    }
}

/// Frees `key` if it is still in flight and created nothing.
async fn release(pool: &PgPool, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "DELETE FROM idempotency_keys WHERE key = $1 AND state = 'in_flight' AND created_org IS NULL",
        key
    )
    .execute(pool)
    .await?;
    Ok(())
}

async fn store(pool: &PgPool, key: &str, status: StatusCode, body: &Value) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE idempotency_keys SET state = 'done', response_status = $2, response_body = $3
          WHERE key = $1 AND state = 'in_flight'",
        key,
        status.as_u16() as i16,
        body
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// The response `POST /api/v1/orgs` gives (and replays) for a finished saga.
pub fn final_response(org: &Org) -> (StatusCode, Value) {
    if org.status == OrgStatus::Committed {
        (StatusCode::CREATED, serde_json::to_value(org).unwrap_or(Value::Null))
    } else {
        let problem = ApiError::OrgFailed(org.failure.clone().unwrap_or_default()).problem();
        (
            StatusCode::BAD_GATEWAY,
            serde_json::to_value(problem).unwrap_or(Value::Null),
        )
    }
}

/// Completes the records of requests whose org finished after they stopped waiting.
pub async fn complete_for_org(pool: &PgPool, org: &Org) -> Result<(), sqlx::Error> {
    let keys = sqlx::query_scalar!(
        "SELECT key FROM idempotency_keys WHERE created_org = $1 AND state = 'in_flight'",
        org.id
    )
    .fetch_all(pool)
    .await?;
    let (status, body) = final_response(org);
    for key in keys {
        store(pool, &key, status, &body).await?;
    }
    Ok(())
}

/// Settles records left `in_flight` longer than a lease: released when they created nothing,
/// completed when their org has since finished.
pub async fn settle_stale(pool: &PgPool, lease: Duration) -> Result<(), sqlx::Error> {
    let stale = sqlx::query!(
        "SELECT key, created_org FROM idempotency_keys
          WHERE state = 'in_flight' AND created_at < now() - $1 * interval '1 second'",
        lease.as_secs_f64()
    )
    .fetch_all(pool)
    .await?;
    for record in stale {
        let key = record.key;
        let Some(org) = record.created_org else {
            release(pool, &key).await?;
            continue;
        };
        let row = Org::find(pool, org).await?;
        if let Some(row) = row.filter(|o| o.status != OrgStatus::Pending) {
            let (status, body) = final_response(&row);
            store(pool, &key, status, &body).await?;
        }
    }
    Ok(())
}
