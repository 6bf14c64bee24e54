//! Chat rate limits, one token bucket per user and project kept in Redis, so every socket of
//! the user on every replica draws from the same bucket: opening more sockets or reconnecting
//! gains nothing. Snapshot requests draw from it too (each is a database transaction).

use std::sync::LazyLock;

use redis::aio::ConnectionManager;
use uuid::Uuid;

/// A bucket of `burst` tokens refilled at `rate` a second, taken one at a time, atomically,
/// with the Redis server's clock (replicas' clocks may differ). Returns 1 when a token was taken.
static TAKE: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
        local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
        local tokens, at = tonumber(state[1]), tonumber(state[2])
        if tokens == nil then tokens, at = burst, now end
        tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
        local taken = 0
        if tokens >= 1 then tokens, taken = tokens - 1, 1 end
        redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
        redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
        return taken
        ",
    )
});

/// What the bucket said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    Limited,
    /// Redis did not answer: refused, as the revocation check refuses.
    Unavailable,
}

/// The burst a `per_minute` limit allows: a tenth of it, at least 3.
pub fn burst(per_minute: f64) -> f64 {
    (per_minute / 10.0).max(3.0)
}

/// Takes one token from `user`'s bucket on `project`.
pub async fn take(redis: &ConnectionManager, project: Uuid, user: Uuid, per_minute: f64) -> Verdict {
    let mut conn = redis.clone();
    let taken: redis::RedisResult<i64> = TAKE
        .key(format!("chat:rate:{project}:{user}"))
        .arg(per_minute.max(1.0) / 60.0)
        .arg(burst(per_minute))
        .invoke_async(&mut conn)
        .await;
    match taken {
        Ok(1) => Verdict::Allowed,
        Ok(_) => Verdict::Limited,
        Err(e) => {
            tracing::warn!(error = %e, "chat rate limit not checked: Redis did not answer");
            Verdict::Unavailable
        }
    }
}
