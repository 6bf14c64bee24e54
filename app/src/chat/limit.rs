//! Chat rate limits: one bucket per user and project (see [`crate::ratelimit`]), so every
//! socket of the user on every replica draws from it. Snapshot requests draw from it too (each
//! is a database transaction).

use redis::aio::ConnectionManager;
use uuid::Uuid;

use crate::ratelimit::{self, Bucket, Verdict};

/// The burst a `per_minute` limit allows: a tenth of it, at least 3.
pub fn burst(per_minute: f64) -> f64 {
    (per_minute / 10.0).max(3.0)
}

/// Takes one token from `user`'s bucket on `project`.
pub async fn take(redis: &ConnectionManager, project: Uuid, user: Uuid, per_minute: f64) -> Verdict {
    let bucket = Bucket::new(format!("chat:rate:{project}:{user}"), per_minute, burst(per_minute));
    ratelimit::take(redis, &[bucket]).await
}
