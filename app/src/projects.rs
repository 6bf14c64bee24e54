//! Projects and their members. Every query runs in the caller's tenant, so RLS
//! scopes it to the org whatever the WHERE clause says.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::{Member, Principal};
use crate::configs::quotas::Quota;
use crate::db::{self, Tenant};
use crate::domain::{Name, OrgRole, ProjectRole};
use crate::error::{ApiError, ApiResult, JsonBody, PathParams};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_projects, create_project))
        .routes(routes!(get_project))
        .routes(routes!(list_members))
        .routes(routes!(put_member, remove_member))
}

#[derive(Debug, Serialize, sqlx::FromRow, ToSchema)]
pub struct Project {
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProject {
    #[schema(value_type = String, min_length = 1, max_length = 200, pattern = r"^[^\u0000-\u001F\u007F-\u009F\u061C\u200B\u200E\u200F\u202A-\u202E\u2060\u2066-\u2069\uFEFF]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\u061C\u200B\u200E\u200F\u202A-\u202E\u2060\u2066-\u2069\uFEFF][^\u0000-\u001F\u007F-\u009F\u061C\u200B\u200E\u200F\u202A-\u202E\u2060\u2066-\u2069\uFEFF]*$")]
    pub name: Name,
}

/// The org's projects (any member of the org).
#[utoipa::path(get, path = "/api/v1/orgs/{org}/projects", tag = "projects", params(("org" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = Vec<Project>), (status = 400, body = crate::error::Problem),
              (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem),
              (status = 503, body = crate::error::Problem)))]
pub async fn list_projects(
    State(state): State<AppState>,
    principal: Principal,
    PathParams(org): PathParams<Uuid>,
) -> ApiResult<Json<Vec<Project>>> {
    principal.member_of(org)?;
    let mut tx = db::begin(&state.db, Tenant::org(org)).await?;
    let projects = sqlx::query_as::<_, Project>(
        "SELECT id, org_id, name, created_at FROM projects ORDER BY created_at, id LIMIT 500",
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Json(projects))
}

/// Create a project (org admin); its creator becomes its owner. At most `quotas.projects` per org.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/projects", tag = "projects", request_body = CreateProject,
    params(("org" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 201, body = Project), (status = 400, body = crate::error::Problem),
              (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
              (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem),
              (status = 415, body = crate::error::Problem), (status = 422, body = crate::error::Problem),
              (status = 503, body = crate::error::Problem)))]
pub async fn create_project(
    State(state): State<AppState>,
    principal: Principal,
    PathParams(org): PathParams<Uuid>,
    JsonBody(body): JsonBody<CreateProject>,
) -> ApiResult<(StatusCode, Json<Project>)> {
    let admin = principal.admin_of(org)?;
    let mut tx = db::begin(&state.db, Tenant::org(org)).await?;
    Quota::Projects.check(&mut tx, &state, org, org).await?;
    let project = sqlx::query_as::<_, Project>(
        "INSERT INTO projects (org_id, name) VALUES ($1, $2) RETURNING id, org_id, name, created_at",
    )
    .bind(org)
    .bind(body.name.as_str())
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| match e.as_database_error() {
        Some(d) if d.is_unique_violation() => ApiError::Conflict(format!(
            "a project named {:?} exists in this org; choose another name",
            body.name.as_str()
        )),
        _ => e.into(),
    })?;
    sqlx::query("INSERT INTO project_members (org_id, project_id, user_id, role) VALUES ($1, $2, $3, $4)")
        .bind(org)
        .bind(project.id)
        .bind(admin.user)
        .bind(ProjectRole::Owner)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(project)))
}

/// One project (any member of the org).
#[utoipa::path(get, path = "/api/v1/orgs/{org}/projects/{project}", tag = "projects",
    params(("org" = Uuid, Path), ("project" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = Project), (status = 400, body = crate::error::Problem),
              (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem),
              (status = 503, body = crate::error::Problem)))]
pub async fn get_project(
    State(state): State<AppState>,
    principal: Principal,
    PathParams((org, project)): PathParams<(Uuid, Uuid)>,
) -> ApiResult<Json<Project>> {
    principal.member_of(org)?;
    let mut tx = db::begin(&state.db, Tenant::org(org)).await?;
    let row = sqlx::query_as::<_, Project>("SELECT id, org_id, name, created_at FROM projects WHERE id = $1")
        .bind(project)
        .fetch_optional(&mut *tx)
        .await?;
    tx.commit().await?;
    row.map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("project {project} not found")))
}

/// `user`'s role in `project`, if they are a member: the one query of it, which chat asks too.
pub async fn role_of(
    conn: &mut sqlx::PgConnection,
    project: Uuid,
    user: Uuid,
) -> Result<Option<ProjectRole>, sqlx::Error> {
    sqlx::query_scalar("SELECT role FROM project_members WHERE project_id = $1 AND user_id = $2")
        .bind(project)
        .bind(user)
        .fetch_optional(conn)
        .await
}

#[derive(Debug, Serialize, sqlx::FromRow, ToSchema)]
pub struct ProjectMember {
    pub user_id: Uuid,
    pub user_key: String,
    pub role: ProjectRole,
}

/// A project's members (any member of the org).
#[utoipa::path(get, path = "/api/v1/orgs/{org}/projects/{project}/members", tag = "projects",
    params(("org" = Uuid, Path), ("project" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = Vec<ProjectMember>), (status = 400, body = crate::error::Problem),
              (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem),
              (status = 503, body = crate::error::Problem)))]
pub async fn list_members(
    State(state): State<AppState>,
    principal: Principal,
    PathParams((org, project)): PathParams<(Uuid, Uuid)>,
) -> ApiResult<Json<Vec<ProjectMember>>> {
    principal.member_of(org)?;
    let mut tx = db::begin(&state.db, Tenant::org(org)).await?;
    ensure_project(&mut tx, project).await?;
    let rows = sqlx::query_as::<_, ProjectMember>(
        "SELECT m.user_id, u.user_key, m.role FROM project_members m JOIN users u ON u.id = m.user_id
          WHERE m.project_id = $1 ORDER BY u.user_key",
    )
    .bind(project)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Json(rows))
}

async fn ensure_project(tx: &mut sqlx::Transaction<'static, sqlx::Postgres>, project: Uuid) -> ApiResult<()> {
    let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM projects WHERE id = $1")
        .bind(project)
        .fetch_optional(&mut **tx)
        .await?;
    exists
        .map(|_| ())
        .ok_or_else(|| ApiError::NotFound(format!("project {project} not found")))
}

/// Org admins manage every project's members; a project owner manages its own.
async fn may_manage(
    tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    member: &Member,
    project: Uuid,
) -> ApiResult<()> {
    ensure_project(tx, project).await?;
    if member.role == OrgRole::Admin {
        return Ok(());
    }
    if role_of(tx, project, member.user).await? == Some(ProjectRole::Owner) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "only an org admin or the project's owner may manage its members".to_owned(),
        ))
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutMember {
    pub role: ProjectRole,
}

/// Add a user of the org to the project, or change their role.
#[utoipa::path(put, path = "/api/v1/orgs/{org}/projects/{project}/members/{user_key}", tag = "projects",
    request_body = PutMember,
    params(("org" = Uuid, Path), ("project" = Uuid, Path), ("user_key" = String, Path, description = "guest-NNNN", pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")),
    security(("bearer" = [])),
    responses((status = 200, body = ProjectMember), (status = 400, body = crate::error::Problem),
              (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
              (status = 404, body = crate::error::Problem), (status = 415, body = crate::error::Problem),
              (status = 422, body = crate::error::Problem), (status = 503, body = crate::error::Problem)))]
pub async fn put_member(
    State(state): State<AppState>,
    principal: Principal,
    PathParams((org, project, user_key)): PathParams<(Uuid, Uuid, String)>,
    JsonBody(body): JsonBody<PutMember>,
) -> ApiResult<Json<ProjectMember>> {
    crate::error::path_text("user_key", &user_key)?;
    let member = principal.member_of(org)?;
    let mut tx = db::begin(&state.db, Tenant::org(org)).await?;
    may_manage(&mut tx, &member, project).await?;
    let row = sqlx::query_as::<_, ProjectMember>(
        "INSERT INTO project_members (org_id, project_id, user_id, role)
         SELECT $1, $2, u.id, $4 FROM users u WHERE u.user_key = $3
         ON CONFLICT (project_id, user_id) DO UPDATE SET role = EXCLUDED.role
         RETURNING user_id, $3 AS user_key, role",
    )
    .bind(org)
    .bind(project)
    .bind(&user_key)
    .bind(body.role)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| ApiError::NotFound(format!("user {user_key} not found in this org")))?;
    tx.commit().await?;
    Ok(Json(row))
}

/// Remove a user from the project.
#[utoipa::path(delete, path = "/api/v1/orgs/{org}/projects/{project}/members/{user_key}", tag = "projects",
    params(("org" = Uuid, Path), ("project" = Uuid, Path), ("user_key" = String, Path, description = "guest-NNNN", pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")), security(("bearer" = [])),
    responses((status = 204), (status = 400, body = crate::error::Problem), (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem),
              (status = 422, body = crate::error::Problem), (status = 503, body = crate::error::Problem)))]
pub async fn remove_member(
    State(state): State<AppState>,
    principal: Principal,
    PathParams((org, project, user_key)): PathParams<(Uuid, Uuid, String)>,
) -> ApiResult<StatusCode> {
    crate::error::path_text("user_key", &user_key)?;
    let member = principal.member_of(org)?;
    // Project-scoped, so the removed user's chats close in the same transaction.
    let mut tx = db::begin(
        &state.db,
        Tenant {
            org,
            project: Some(project),
        },
    )
    .await?;
    may_manage(&mut tx, &member, project).await?;
    let removed: Option<Uuid> = sqlx::query_scalar(
        "DELETE FROM project_members m USING users u WHERE m.user_id = u.id AND m.project_id = $1 AND u.user_key = $2
         RETURNING m.user_id",
    )
    .bind(project)
    .bind(&user_key)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(user) = removed {
        sqlx::query(
            "UPDATE chat_sessions SET closed_at = now() WHERE project_id = $1 AND user_id = $2 AND closed_at IS NULL",
        )
        .bind(project)
        .bind(user)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    let Some(user) = removed else {
        return Err(ApiError::NotFound(format!(
            "{user_key} is not a member of project {project}"
        )));
    };
    // Their open chat sockets close on every replica; a replica that misses this hears it from
    // PostgreSQL when it re-subscribes, or within `chat::subscriber::SESSION_RECHECK`.
    crate::chat::hub::publish(
        &state.redis,
        crate::chat::topic::Topic::Removed,
        &crate::chat::topic::removal(project, user),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}
