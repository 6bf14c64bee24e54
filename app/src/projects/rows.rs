//! The projects' rows: every statement on `projects`, each in the caller's org.

use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::configs::quotas::Quota;
use crate::db::{self, Tenant};
use crate::domain::{Name, ProjectRole};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct Project {
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// How many projects a list shows at most.
const LISTED: i64 = 500;

/// The org's projects, oldest first.
pub async fn list(pool: &PgPool, org: Uuid) -> Result<Vec<Project>, sqlx::Error> {
    let mut tx = db::begin(pool, Tenant::org(org)).await?;
    let projects = sqlx::query_as!(
        Project,
        "SELECT id, org_id, name, created_at FROM projects ORDER BY created_at, id LIMIT $1",
        LISTED
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(projects)
}

/// Creates a project within the org's `quotas.projects`, with `owner` its first member and
/// owner: one statement, so no project is ever without its owner.
pub async fn create(state: &AppState, org: Uuid, name: &Name, owner: Uuid) -> ApiResult<Project> {
    let mut tx = db::begin(&state.db, Tenant::org(org)).await?;
    Quota::Projects.check(&mut tx, state, org, org).await?;
    let project = sqlx::query_as!(
        Project,
        r#"WITH project AS (
             INSERT INTO projects (org_id, name) VALUES ($1, $2) RETURNING id, org_id, name, created_at
           ), owner AS (
             INSERT INTO project_members (org_id, project_id, user_id, role) SELECT $1, id, $3, $4 FROM project
           )
           SELECT id AS "id!", org_id AS "org_id!", name AS "name!", created_at AS "created_at!" FROM project"#,
        org,
        name.as_str(),
        owner,
        ProjectRole::Owner as _
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| match e.as_database_error() {
        Some(d) if d.is_unique_violation() => ApiError::Conflict(format!(
            "a project named {:?} exists in this org; choose another name",
            name.as_str()
        )),
        _ => e.into(),
    })?;
    tx.commit().await?;
    Ok(project)
}

/// The project, if the org has it.
pub async fn find(pool: &PgPool, org: Uuid, project: Uuid) -> Result<Option<Project>, sqlx::Error> {
    let mut tx = db::begin(pool, Tenant::org(org)).await?;
    let row = sqlx::query_as!(
        Project,
        "SELECT id, org_id, name, created_at FROM projects WHERE id = $1",
        project
    )
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// Not found unless the tenant has the project: what every member route checks first.
pub async fn ensure(conn: &mut PgConnection, project: Uuid) -> ApiResult<()> {
    sqlx::query_scalar!("SELECT 1 AS \"exists!\" FROM projects WHERE id = $1", project)
        .fetch_optional(conn)
        .await?
        .map(|_| ())
        .ok_or_else(|| not_found(project))
}

/// The answer for a project the org does not have.
pub fn not_found(project: Uuid) -> ApiError {
    ApiError::NotFound(format!("project {project} not found"))
}
