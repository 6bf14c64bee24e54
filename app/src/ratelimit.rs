//! Token buckets kept in Redis, so that every replica draws from the same bucket: more
//! replicas, sockets or reconnects gain a client nothing. Used by the chat (per user and
//! project) and by sign-in (per org, and for the platform-admin credential).

use std::sync::LazyLock;
use std::time::Duration;

use redis::aio::ConnectionManager;

/// Takes one token from every bucket in `KEYS`, or from none. `ARGV[1]` is `take`, or `refund`
/// to give one back (up to the burst); then come each bucket's refill rate (tokens a second)
/// and burst, in pairs. Reads the Redis server's clock (replicas' clocks may differ). Returns 0
/// when every bucket held a token (and gave it), else the milliseconds until every bucket holds
/// one again.
static TAKE: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        local refund = ARGV[1] == 'refund'
        local wait, tokens = 0, {}
        for i, key in ipairs(KEYS) do
            local rate, burst = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1])
            local state = redis.call('HMGET', key, 'tokens', 'at')
            local t, at = tonumber(state[1]), tonumber(state[2])
            if t == nil then t, at = burst, now end
            t = math.min(burst, t + math.max(0, now - at) * rate / 1000)
            if t < 1 then wait = math.max(wait, math.ceil((1 - t) * 1000 / rate)) end
            tokens[i] = refund and math.min(burst, t + 1) or t - 1
        end
        if refund or wait == 0 then
            for i, key in ipairs(KEYS) do
                local rate, burst = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1])
                redis.call('HSET', key, 'tokens', tostring(tokens[i]), 'at', now)
                redis.call('PEXPIRE', key, math.ceil(burst / rate * 1000) + 1000)
            end
        end
        if refund then return 0 end
        return wait
        ",
    )
});

/// One bucket: `burst` tokens, refilled at `per_minute` a minute.
#[derive(Debug, Clone)]
pub struct Bucket {
    pub key: String,
    pub per_minute: f64,
    pub burst: f64,
}

impl Bucket {
    pub fn new(key: String, per_minute: f64, burst: f64) -> Self {
        Self {
            key,
            per_minute: per_minute.max(1.0),
            burst: burst.max(1.0),
        }
    }
}

/// What the buckets said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// Empty; a token is back after this long.
    Limited {
        retry_after: Duration,
    },
    /// Redis did not answer: refused, as the revocation check refuses.
    Unavailable,
}

/// Takes one token from each of `buckets` atomically: from all of them or from none.
pub async fn take(redis: &ConnectionManager, buckets: &[Bucket]) -> Verdict {
    run(redis, "take", buckets).await
}

/// Gives back the token [`take`] took from each of `buckets`: for limits that only failures
/// spend, which take first (so concurrent attempts cannot all pass a check before any spends)
/// and refund what succeeded. A lost refund costs the caller one token of its bucket.
pub async fn refund(redis: &ConnectionManager, buckets: &[Bucket]) {
    run(redis, "refund", buckets).await;
}

async fn run(redis: &ConnectionManager, mode: &str, buckets: &[Bucket]) -> Verdict {
    let mut invocation = TAKE.prepare_invoke();
    invocation.arg(mode);
    for bucket in buckets {
        invocation
            .key(&bucket.key)
            .arg(bucket.per_minute / 60.0)
            .arg(bucket.burst);
    }
    let mut conn = redis.clone();
    let wait: redis::RedisResult<u64> = invocation.invoke_async(&mut conn).await;
    match wait {
        Ok(0) => Verdict::Allowed,
        Ok(ms) => Verdict::Limited {
            retry_after: Duration::from_millis(ms),
        },
        Err(e) => {
            tracing::warn!(error = %e, "rate limit not checked: Redis did not answer");
            Verdict::Unavailable
        }
    }
}
