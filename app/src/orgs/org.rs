//! An organization as `organizations` stores it and the API shows it, with the two columns the
//! saga moves: its status and the step it has reached.

use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::{self, Tenant};

/// Where an org's creation stands: `organizations.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema, sqlx::Type)]
#[serde(rename_all = "UPPERCASE")]
#[sqlx(type_name = "text", rename_all = "UPPERCASE")]
pub enum OrgStatus {
    /// The creation saga is running (or a crashed replica left it to the recovery loop).
    Pending,
    /// Defaults applied and the namespace isolated: the org is usable.
    Committed,
    /// The saga failed and was compensated; the slug is free again.
    Failed,
}

impl OrgStatus {
    /// As the API and the column spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Committed => "COMMITTED",
            Self::Failed => "FAILED",
        }
    }
}

/// A saga step, named after what is true once it is done: `organizations.saga_step`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum Step {
    Created,
    DefaultsApplied,
    Isolated,
    Committed,
    /// Every step undone; the org is FAILED.
    Compensated,
}

/// An org as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Org {
    pub id: Uuid,
    #[schema(value_type = String)]
    pub slug: String,
    pub name: String,
    pub status: OrgStatus,
    /// Why creation failed, for a `FAILED` org.
    pub failure: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(skip)]
    pub saga_step: Step,
}

/// Every statement on `organizations`: the saga's steps move an org only from the status and
/// step they expect, so two drivers can never both move it. Each runs in a transaction whose
/// tenant is that org (row-level security hides any other).
impl Org {
    /// The org, read in its own tenant.
    pub async fn find(pool: &PgPool, id: Uuid) -> Result<Option<Self>, sqlx::Error> {
        let mut tx = db::begin(pool, Tenant::org(id)).await?;
        let org = sqlx::query_as!(
            Org,
            r#"SELECT id, slug, name, status AS "status: OrgStatus", failure, created_at, saga_step AS "saga_step: Step"
                 FROM organizations WHERE id = $1"#,
            id
        )
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(org)
    }

    /// A new PENDING org, leased to its creator for `lease_secs`.
    pub async fn insert(
        conn: &mut PgConnection,
        id: Uuid,
        slug: &str,
        name: &str,
        lease_secs: f64,
    ) -> Result<Self, sqlx::Error> {
        sqlx::query_as!(
            Org,
            r#"INSERT INTO organizations (id, slug, name, lease_until) VALUES ($1, $2, $3, now() + $4 * interval '1 second')
               RETURNING id, slug, name, status AS "status: OrgStatus", failure, created_at, saga_step AS "saga_step: Step""#,
            id,
            slug,
            name,
            lease_secs
        )
        .fetch_one(conn)
        .await
    }

    /// Moves a PENDING org from step `from` to `to` (COMMITTED with the last step) and renews
    /// the lease; `None` when it is no longer at `from`.
    pub async fn advance(
        conn: &mut PgConnection,
        id: Uuid,
        from: Step,
        to: Step,
        lease_secs: f64,
    ) -> Result<Option<Self>, sqlx::Error> {
        let status = if to == Step::Committed {
            OrgStatus::Committed
        } else {
            OrgStatus::Pending
        };
        sqlx::query_as!(
            Org,
            r#"UPDATE organizations SET saga_step = $2, status = $3, lease_until = now() + $4 * interval '1 second'
                WHERE id = $1 AND status = $6 AND saga_step = $5
            RETURNING id, slug, name, status AS "status: OrgStatus", failure, created_at, saga_step AS "saga_step: Step""#,
            id,
            to as _,
            status as _,
            lease_secs,
            from as _,
            OrgStatus::Pending as _
        )
        .fetch_optional(conn)
        .await
    }

    /// Marks a PENDING org FAILED and compensated, with why; `None` when it is no longer PENDING.
    pub async fn fail(conn: &mut PgConnection, id: Uuid, reason: &str) -> Result<Option<Self>, sqlx::Error> {
        sqlx::query_as!(
            Org,
            r#"UPDATE organizations SET status = $3, saga_step = $4, failure = $2
                WHERE id = $1 AND status = $5
            RETURNING id, slug, name, status AS "status: OrgStatus", failure, created_at, saga_step AS "saga_step: Step""#,
            id,
            reason,
            OrgStatus::Failed as _,
            Step::Compensated as _,
            OrgStatus::Pending as _
        )
        .fetch_optional(conn)
        .await
    }

    /// Takes over a PENDING org whose lease ran out, for `lease_secs`; `None` when another
    /// replica took it first or it finished.
    pub async fn claim_expired(
        conn: &mut PgConnection,
        id: Uuid,
        lease_secs: f64,
    ) -> Result<Option<Self>, sqlx::Error> {
        sqlx::query_as!(
            Org,
            r#"UPDATE organizations SET lease_until = now() + $2 * interval '1 second'
                WHERE id = $1 AND status = $3 AND lease_until < now()
            RETURNING id, slug, name, status AS "status: OrgStatus", failure, created_at, saga_step AS "saga_step: Step""#,
            id,
            lease_secs,
            OrgStatus::Pending as _
        )
        .fetch_optional(conn)
        .await
    }

    /// The PENDING orgs whose lease ran out, across every tenant: the one query that sees
    /// them all, through a SECURITY DEFINER function that returns only their ids.
    pub async fn to_recover(pool: &PgPool) -> Result<Vec<Uuid>, sqlx::Error> {
        sqlx::query_scalar!(r#"SELECT app_orgs_to_recover() AS "id!""#)
            .fetch_all(pool)
            .await
    }
}
