//! Revoked token ids, in Redis so that a revocation reaches every replica at once. An entry
//! outlives any token it could name (max lifetime plus leeway), and a failed lookup refuses the
//! request: when revocation cannot be checked, nothing passes.

use std::time::Duration;

use redis::AsyncCommands;
use redis::aio::ConnectionManager;

use super::token::LEEWAY;
use crate::settings::MAX_TOKEN_TTL;

/// How long a revocation is kept: longer than any token can be valid.
pub const ENTRY_TTL: Duration = Duration::from_secs(MAX_TOKEN_TTL.as_secs() + LEEWAY.as_secs() + 60);

fn key(jti: &str) -> String {
    format!("auth:revoked:{jti}")
}

/// Tokens of `user` issued at or before the second this key holds are revoked.
fn user_key(user: uuid::Uuid) -> String {
    format!("auth:revoked-user:{user}")
}

/// Revokes every token `user` holds now (issued at or before `now`, in seconds); tokens signed
/// in afterwards are not affected. Kept as long as a single revocation.
pub async fn revoke_user(redis: &ConnectionManager, user: uuid::Uuid, now: u64) -> redis::RedisResult<()> {
    let mut conn = redis.clone();
    conn.set_ex(user_key(user), now, ENTRY_TTL.as_secs()).await
}

pub async fn revoke(redis: &ConnectionManager, jti: &str) -> redis::RedisResult<()> {
    let mut conn = redis.clone();
    conn.set_ex(key(jti), 1u8, ENTRY_TTL.as_secs()).await
}

/// Whether the token `jti`, issued at `iat` to `user` (a guest; `None` for the platform admin),
/// is revoked: by its id, or with every token of its user. One round trip. `Err` when Redis
/// cannot answer; callers must refuse the request then.
pub async fn is_revoked(
    redis: &ConnectionManager,
    jti: &str,
    user: Option<uuid::Uuid>,
    iat: u64,
) -> redis::RedisResult<bool> {
    let mut conn = redis.clone();
    let Some(user) = user else {
        return conn.exists(key(jti)).await;
    };
    let (by_id, user_before): (Option<u8>, Option<u64>) = redis::pipe()
        .get(key(jti))
        .get(user_key(user))
        .query_async(&mut conn)
        .await?;
    Ok(by_id.is_some() || user_before.is_some_and(|before| iat <= before))
}
