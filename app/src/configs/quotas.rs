//! Per-org quotas: how many of each thing a tenant may hold, so no tenant grows a table (or
//! every chat snapshot) without bound. The limits live in the org's `quotas` config, which
//! only the platform admin may change (a tenant must not raise its own); an org without one
//! gets the defaults here.
//!
//! A quota is checked in the transaction that adds the row, under a transaction-scoped
//! advisory lock on (quota, scope), so concurrent requests on any replica cannot overshoot it.

use std::collections::BTreeMap;

use sqlx::PgConnection;
use uuid::Uuid;

use super::key::Key;
use super::store::ConfigStore;
use crate::error::ApiError;
use crate::state::AppState;

/// The config key that holds an org's quotas.
pub const KEY: &str = "quotas";

/// One quota: a field of the `quotas` config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quota {
    /// Projects in the org.
    Projects,
    /// Guests who may still hold a valid token (signed in within a token's lifetime).
    Guests,
    /// Invites that can still be redeemed.
    Invites,
    /// Polls in one project.
    PollsPerProject,
}

impl Quota {
    pub const ALL: [Quota; 4] = [Self::Projects, Self::Guests, Self::Invites, Self::PollsPerProject];

    /// Its field in the `quotas` config.
    pub fn field(self) -> &'static str {
        match self {
            Self::Projects => "projects",
            Self::Guests => "guests",
            Self::Invites => "invites",
            Self::PollsPerProject => "polls_per_project",
        }
    }

    /// What an org without a `quotas` config gets.
    pub fn default_limit(self) -> i64 {
        match self {
            Self::Projects => 100,
            Self::Guests => 500,
            Self::Invites => 100,
            Self::PollsPerProject => 50,
        }
    }

    /// The most the platform admin may set (the project list pages at 500).
    pub fn ceiling(self) -> i64 {
        match self {
            Self::Projects => 500,
            Self::Guests => 10_000,
            Self::Invites => 1_000,
            Self::PollsPerProject => 500,
        }
    }

    fn counted(self) -> &'static str {
        match self {
            Self::Projects => "projects",
            Self::Guests => "guests signed in within a token's lifetime",
            Self::Invites => "redeemable invites",
            Self::PollsPerProject => "polls in this project",
        }
    }

    /// The org's limit, as this replica serves its config.
    pub fn limit(self, configs: &ConfigStore, org: Uuid) -> i64 {
        QUOTAS
            .get(configs, org)
            .get(self.field())
            .copied()
            .unwrap_or_else(|| self.default_limit())
    }

    /// Fails with 409 when `scope` (the org, or the project for polls) already holds the org's
    /// limit. Call inside the transaction that adds one; the lock lasts until it ends.
    pub async fn check(self, tx: &mut PgConnection, state: &AppState, org: Uuid, scope: Uuid) -> Result<(), ApiError> {
        let limit = self.limit(&state.configs, org);
        sqlx::query!(
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
            format!("quota/{}/{scope}", self.field())
        )
        .execute(&mut *tx)
        .await?;
        // Row-level security scopes every count to the transaction's tenant.
        let held: i64 = match self {
            Self::Projects => {
                sqlx::query_scalar!(r#"SELECT count(*) AS "held!" FROM projects"#)
                    .fetch_one(&mut *tx)
                    .await?
            }
            Self::Guests => {
                sqlx::query_scalar!(
                    r#"SELECT count(*) AS "held!" FROM users WHERE created_at > now() - make_interval(secs => $1)"#,
                    state.tokens.ttl().as_secs_f64()
                )
                .fetch_one(&mut *tx)
                .await?
            }
            Self::Invites => {
                sqlx::query_scalar!(
                    r#"SELECT count(*) AS "held!" FROM invites WHERE uses_left > 0 AND expires_at > now()"#
                )
                .fetch_one(&mut *tx)
                .await?
            }
            Self::PollsPerProject => {
                sqlx::query_scalar!(
                    r#"SELECT count(*) AS "held!" FROM chat_polls WHERE project_id = $1"#,
                    scope
                )
                .fetch_one(&mut *tx)
                .await?
            }
        };
        if held < limit {
            return Ok(());
        }
        let free = match self {
            Self::Projects => "",
            Self::Guests => "wait until earlier guests' tokens expire, or ",
            Self::Invites => "withdraw unused invites (DELETE .../invites/{id}), or ",
            Self::PollsPerProject => "delete polls that are over (DELETE .../polls/{id}), or ",
        };
        Err(ApiError::Conflict(format!(
            "the org has reached its quota of {limit} {} (quotas.{}); {free}ask the platform admin to raise it \
             (PUT /api/v1/orgs/{org}/configs/{KEY})",
            self.counted(),
            self.field(),
        )))
    }
}

/// The `quotas` config: every field, each from 1 to its ceiling.
pub static QUOTAS: Key<BTreeMap<String, i64>> = Key {
    name: KEY,
    accepts: "an object {\"projects\": 1-500, \"guests\": 1-10000, \"invites\": 1-1000, \"polls_per_project\": 1-500} (set by the platform admin only)",
    platform_only: true,
    default: || {
        Quota::ALL
            .iter()
            .map(|q| (q.field().to_owned(), q.default_limit()))
            .collect()
    },
    within: |fields| {
        fields.len() == Quota::ALL.len()
            && Quota::ALL
                .iter()
                .all(|q| fields.get(q.field()).is_some_and(|n| (1..=q.ceiling()).contains(n)))
    },
};
