//! `/api/v1/orgs/{org}/projects` and its members: each handler checks who may call, makes one
//! store call ([`super::rows`], [`super::members`]) and answers.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::members::{self, ProjectMember};
use super::rows::{self, Project};
use crate::auth::Principal;
use crate::domain::{Name, ProjectRole};
use crate::error::{ApiResult, JsonBody, PathParams};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_projects, create_project))
        .routes(routes!(get_project))
        .routes(routes!(list_members))
        .routes(routes!(put_member, remove_member))
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
    Ok(Json(rows::list(&state.db, org).await?))
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
    let project = rows::create(&state, org, &body.name, admin.user).await?;
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
    let found = rows::find(&state.db, org, project).await?;
    found.map(Json).ok_or_else(|| rows::not_found(project))
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
    Ok(Json(members::list(&state.db, org, project).await?))
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
    Ok(Json(
        members::put(&state.db, &member, project, &user_key, body.role).await?,
    ))
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
    let user = members::remove(&state.db, &member, project, &user_key).await?;
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
