//! Revocations: PostgreSQL is the source of truth, Redis the fast path every request reads and
//! the broadcast that closes sockets. An entry outlives any token it could name (max lifetime
//! plus leeway), and a check that cannot be answered refuses the request: when revocation
//! cannot be checked, nothing passes.
//!
//! Redis also holds a marker, `auth:seeded`, written after its entries were copied from
//! PostgreSQL. A Redis that lost its data (restarted without a volume) lacks it: the next check
//! copies every live revocation back before answering, so no restart can undo one.

use std::collections::HashSet;
use std::time::Duration;

use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use sqlx::PgPool;
use uuid::Uuid;

use super::token::LEEWAY;
use crate::limits::MAX_TOKEN_TTL;

/// How long a revocation is kept: longer than any token can be valid.
pub const ENTRY_TTL: Duration = Duration::from_secs(MAX_TOKEN_TTL.as_secs() + LEEWAY.as_secs() + 60);

/// Most tokens [`Denylist::revoked_among`] asks Redis about in one round trip: a command of
/// this many keys takes Redis well under a millisecond, so other clients are not held up.
pub const CHECK_CHUNK: usize = 1_000;

/// Present while Redis holds every live revocation.
const SEEDED: &str = "auth:seeded";

fn key(jti: &str) -> String {
    format!("auth:revoked:{jti}")
}

/// Tokens of `user` issued at or before the second this key holds are revoked.
fn user_key(user: Uuid) -> String {
    format!("auth:revoked-user:{user}")
}

/// A token held by a guest's open socket, as a re-check asks about it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Held {
    pub jti: String,
    pub user: Uuid,
    /// When it was issued (seconds): a user's revocation names tokens issued up to then.
    pub issued_at: u64,
}

/// What is revoked.
#[derive(Debug, Clone, Copy)]
pub enum Revoked<'a> {
    /// One token, by its id.
    Token(&'a str),
    /// Every token `user` holds now (issued at or before `before`, in seconds); tokens signed
    /// in afterwards are not affected.
    User { user: Uuid, before: u64 },
}

/// Why a revocation could not be stored or checked.
#[derive(Debug, thiserror::Error)]
pub enum Unavailable {
    #[error("PostgreSQL: {0}")]
    Database(#[from] sqlx::Error),
    #[error("Redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// Redis lost its revocations again while they were being restored.
    #[error("Redis is being restored")]
    Unsettled,
}

/// Where revocations live: PostgreSQL and Redis, and the lock that keeps this replica's re-seeds
/// of Redis one at a time.
#[derive(Debug)]
pub struct Denylist {
    db: PgPool,
    redis: ConnectionManager,
    seeding: tokio::sync::Mutex<()>,
}

impl Denylist {
    pub fn new(db: PgPool, redis: ConnectionManager) -> Self {
        Self {
            db,
            redis,
            seeding: tokio::sync::Mutex::new(()),
        }
    }

    /// Stores a revocation in PostgreSQL, then in Redis. Both must succeed: the caller is told to
    /// retry otherwise (storing it twice is harmless).
    pub async fn revoke(&self, what: Revoked<'_>, by: &str, reason: &str) -> Result<(), Unavailable> {
        let (jti, user, before) = match what {
            Revoked::Token(jti) => (Some(jti), None, None),
            Revoked::User { user, before } => (None, Some(user), Some(before as i64)),
        };
        sqlx::query!(
            "INSERT INTO revocations (jti, user_id, revoked_before, expires_at, revoked_by, reason)
             VALUES ($1, $2, $3, now() + make_interval(secs => $4), $5, $6)",
            jti,
            user,
            before,
            ENTRY_TTL.as_secs_f64(),
            by,
            reason
        )
        .execute(&self.db)
        .await?;
        // Rows that can name no valid token any more go as new ones come: the table stays as small
        // as the last few minutes of revocations.
        sqlx::query!("DELETE FROM revocations WHERE expires_at < now()")
            .execute(&self.db)
            .await?;
        let mut conn = self.redis.clone();
        match what {
            Revoked::Token(jti) => conn.set_ex::<_, _, ()>(key(jti), 1u8, ENTRY_TTL.as_secs()).await?,
            Revoked::User { user, before } => {
                conn.set_ex::<_, _, ()>(user_key(user), before, ENTRY_TTL.as_secs())
                    .await?;
            }
        }
        Ok(())
    }

    /// Whether the token `jti`, issued at `iat` to `user` (a guest; `None` for the platform admin),
    /// is revoked: by its id, or with every token of its user. One round trip while Redis is
    /// seeded; a re-seed first when it is not.
    pub async fn is_revoked(&self, jti: &str, user: Option<Uuid>, iat: u64) -> Result<bool, Unavailable> {
        for _ in 0..2 {
            let mut conn = self.redis.clone();
            let (by_id, user_before, seeded): (Option<u8>, Option<u64>, bool) = redis::pipe()
                .get(key(jti))
                .get(user.map_or_else(|| "auth:revoked-user:-".to_owned(), user_key))
                .exists(SEEDED)
                .query_async(&mut conn)
                .await?;
            if seeded {
                return Ok(by_id.is_some() || user_before.is_some_and(|before| iat <= before));
            }
            self.seed().await?;
        }
        Err(Unavailable::Unsettled)
    }

    /// Which of `tokens` are revoked (their ids), asked together: a replica re-checks all of its
    /// open chat sockets' tokens in one round trip per [`CHECK_CHUNK`] tokens, not one per
    /// socket. The same verdicts as [`Denylist::is_revoked`], for guests' tokens.
    pub async fn revoked_among<'a>(&self, tokens: &'a [Held]) -> Result<HashSet<&'a str>, Unavailable> {
        let mut revoked = HashSet::new();
        for chunk in tokens.chunks(CHECK_CHUNK) {
            revoked.extend(self.revoked_in_chunk(chunk).await?);
        }
        Ok(revoked)
    }

    async fn revoked_in_chunk<'a>(&self, tokens: &'a [Held]) -> Result<Vec<&'a str>, Unavailable> {
        for _ in 0..2 {
            let mut conn = self.redis.clone();
            let (by_id, user_before, seeded): (Vec<Option<u8>>, Vec<Option<u64>>, bool) = redis::pipe()
                .mget(tokens.iter().map(|t| key(&t.jti)).collect::<Vec<_>>())
                .mget(tokens.iter().map(|t| user_key(t.user)).collect::<Vec<_>>())
                .exists(SEEDED)
                .query_async(&mut conn)
                .await?;
            if seeded {
                return Ok(tokens
                    .iter()
                    .zip(by_id.iter().zip(&user_before))
                    .filter(|(t, (by_id, before))| {
                        by_id.is_some() || before.is_some_and(|before| t.issued_at <= before)
                    })
                    .map(|(t, _)| t.jti.as_str())
                    .collect());
            }
            self.seed().await?;
        }
        Err(Unavailable::Unsettled)
    }

    /// Copies every live revocation from PostgreSQL to Redis, then sets the marker. One replica
    /// task at a time; concurrent seeds by several replicas write the same entries.
    pub async fn seed(&self) -> Result<(), Unavailable> {
        let _one = self.seeding.lock().await;
        let mut conn = self.redis.clone();
        if conn.exists(SEEDED).await? {
            return Ok(());
        }
        let live = live(&self.db).await?;
        let mut pipe = redis::pipe();
        for entry in &live {
            let ttl = (entry.secs_left.ceil() as u64).max(1);
            match (&entry.jti, entry.user_id, entry.revoked_before) {
                (Some(jti), _, _) => pipe.set_ex(key(jti), 1u8, ttl).ignore(),
                (None, Some(user), Some(before)) => pipe.set_ex(user_key(user), before, ttl).ignore(),
                _ => continue,
            };
        }
        pipe.set(SEEDED, jsonwebtoken::get_current_timestamp()).ignore();
        pipe.query_async::<()>(&mut conn).await?;
        tracing::info!(
            entries = live.len(),
            "Redis had lost its revocations; restored them from PostgreSQL"
        );
        Ok(())
    }
}

/// A revocation that can still name a valid token.
#[derive(Debug)]
struct Live {
    jti: Option<String>,
    user_id: Option<Uuid>,
    revoked_before: Option<i64>,
    secs_left: f64,
}

/// Every revocation that can still name a valid token, a user's latest last (it is the one
/// Redis must keep).
async fn live(db: &PgPool) -> Result<Vec<Live>, sqlx::Error> {
    sqlx::query_as!(
        Live,
        r#"SELECT jti, user_id, revoked_before, extract(epoch FROM expires_at - now())::float8 AS "secs_left!"
             FROM revocations WHERE expires_at > now() ORDER BY revoked_before NULLS FIRST"#
    )
    .fetch_all(db)
    .await
}
