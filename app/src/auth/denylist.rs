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

pub async fn revoke(redis: &ConnectionManager, jti: &str) -> redis::RedisResult<()> {
    let mut conn = redis.clone();
    conn.set_ex(key(jti), 1u8, ENTRY_TTL.as_secs()).await
}

/// `Err` when Redis cannot answer; callers must refuse the request then.
pub async fn is_revoked(redis: &ConnectionManager, jti: &str) -> redis::RedisResult<bool> {
    let mut conn = redis.clone();
    conn.exists(key(jti)).await
}
