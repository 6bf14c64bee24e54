//! An organization as `organizations` stores it and the API shows it, with the two columns the
//! saga moves: its status and the step it has reached.

use serde::Serialize;
use sqlx::PgConnection;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

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
#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
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

/// The columns an [`Org`] is read from, for the saga's `RETURNING` clauses.
pub(super) const COLUMNS: &str = "id, slug, name, status, failure, created_at, saga_step";

impl Org {
    /// The org, in a transaction whose tenant is that org (row-level security hides any other).
    pub async fn find(tx: &mut PgConnection, id: Uuid) -> Result<Option<Self>, sqlx::Error> {
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM organizations WHERE id = $1"))
            .bind(id)
            .fetch_optional(tx)
            .await
    }
}
