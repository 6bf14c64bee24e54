//! The members' rows: every statement on `project_members` (but the owner a new project starts
//! with, which [`super::rows::create`] writes with the project), and who may change them. Changes
//! check the manager and write in one transaction, so a demotion cannot slip between the two.

use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use utoipa::ToSchema;
use uuid::Uuid;

use super::rows;
use crate::auth::Member;
use crate::db::{self, Tenant};
use crate::domain::{OrgRole, ProjectRole};
use crate::error::{ApiError, ApiResult};

#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectMember {
    pub user_id: Uuid,
    pub user_key: String,
    pub role: ProjectRole,
}

/// `user`'s role in `project`, if they are a member: the one query of it, which chat asks too.
pub async fn role_of(conn: &mut PgConnection, project: Uuid, user: Uuid) -> Result<Option<ProjectRole>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT role AS "role: ProjectRole" FROM project_members WHERE project_id = $1 AND user_id = $2"#,
        project,
        user
    )
    .fetch_optional(conn)
    .await
}

/// The project's members by user key; not found when the org has no such project.
pub async fn list(pool: &PgPool, org: Uuid, project: Uuid) -> ApiResult<Vec<ProjectMember>> {
    let mut tx = db::begin(pool, Tenant::org(org)).await?;
    rows::ensure(&mut tx, project).await?;
    let members = sqlx::query_as!(
        ProjectMember,
        r#"SELECT m.user_id, u.user_key, m.role AS "role: ProjectRole"
             FROM project_members m JOIN users u ON u.id = m.user_id
            WHERE m.project_id = $1 ORDER BY u.user_key"#,
        project
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(members)
}

/// Org admins manage every project's members; a project owner manages its own.
async fn may_manage(conn: &mut PgConnection, by: &Member, project: Uuid) -> ApiResult<()> {
    rows::ensure(conn, project).await?;
    if by.role == OrgRole::Admin || role_of(conn, project, by.user).await? == Some(ProjectRole::Owner) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "only an org admin or the project's owner may manage its members".to_owned(),
        ))
    }
}

/// Adds the org's user `user_key` to the project as `role`, or changes their role, if `by`
/// may manage its members.
pub async fn put(
    pool: &PgPool,
    by: &Member,
    project: Uuid,
    user_key: &str,
    role: ProjectRole,
) -> ApiResult<ProjectMember> {
    let mut tx = db::begin(pool, Tenant::org(by.org)).await?;
    may_manage(&mut tx, by, project).await?;
    let member = sqlx::query_as!(
        ProjectMember,
        r#"INSERT INTO project_members (org_id, project_id, user_id, role)
           SELECT $1, $2, u.id, $4 FROM users u WHERE u.user_key = $3
           ON CONFLICT (project_id, user_id) DO UPDATE SET role = EXCLUDED.role
           RETURNING user_id, $3 AS "user_key!", role AS "role: ProjectRole""#,
        by.org,
        project,
        user_key,
        role as _
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| ApiError::NotFound(format!("user {user_key} not found in this org")))?;
    tx.commit().await?;
    Ok(member)
}

/// Removes the user `user_key` from the project, if `by` may manage its members, and closes
/// their chats in the same transaction (it is project-scoped for that). Returns their id.
pub async fn remove(pool: &PgPool, by: &Member, project: Uuid, user_key: &str) -> ApiResult<Uuid> {
    let mut tx = db::begin(
        pool,
        Tenant {
            org: by.org,
            project: Some(project),
        },
    )
    .await?;
    may_manage(&mut tx, by, project).await?;
    let removed = sqlx::query_scalar!(
        "DELETE FROM project_members m USING users u WHERE m.user_id = u.id AND m.project_id = $1 AND u.user_key = $2
         RETURNING m.user_id",
        project,
        user_key
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| ApiError::NotFound(format!("{user_key} is not a member of project {project}")))?;
    sqlx::query!(
        "UPDATE chat_sessions SET closed_at = now() WHERE project_id = $1 AND user_id = $2 AND closed_at IS NULL",
        project,
        removed
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(removed)
}
