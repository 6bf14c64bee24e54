//! `/api/v1/orgs/{org}/projects/{project}/chats` (sessions under the cap), `/polls`, and the
//! WebSocket.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::hub;
use super::protocol::ServerFrame;
use super::protocol::now_us;
use super::socket;
use super::store::polls;
use super::store::sessions::{self, Session};
use super::topic::Topic;
use crate::auth::{Member, Principal};
use crate::configs::catalog;
use crate::domain::{OrgRole, ProjectRole};
use crate::error::{ApiError, ApiResult, JsonBody, PathParams, QueryParams};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_chats, open_chat))
        .routes(routes!(close_chat))
        .routes(routes!(list_polls, open_poll))
        .routes(routes!(delete_poll))
        // The WebSocket upgrade is described in docs/chat-protocol.md, not in OpenAPI.
        .route(
            "/api/v1/orgs/{org}/projects/{project}/chats/{session}/ws",
            get(socket::connect),
        )
}

/// The caller, who must be a member of the project.
async fn chatter(state: &AppState, principal: &Principal, org: Uuid, project: Uuid) -> ApiResult<Member> {
    Ok(chatter_with_role(state, principal, org, project).await?.0)
}

/// [`chatter`], with the caller's role in the project (`owner` or `member`).
async fn chatter_with_role(
    state: &AppState,
    principal: &Principal,
    org: Uuid,
    project: Uuid,
) -> ApiResult<(Member, ProjectRole)> {
    let member = principal.member_of(org)?;
    match sessions::membership(&state.db, org, project, member.user).await? {
        Some(role) => Ok((member, role)),
        None => Err(ApiError::NotFound(format!(
            "project {project} not found, or you are not one of its members"
        ))),
    }
}

/// The caller's active chats in the project (at most 3), oldest first.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/projects/{project}/chats", tag = "chat",
    params(("org" = Uuid, Path), ("project" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = Vec<Session>), (status = 400, body = crate::error::Problem),
              (status = 404, body = crate::error::Problem)))]
pub async fn list_chats(
    State(state): State<AppState>,
    principal: Principal,
    PathParams((org, project)): PathParams<(Uuid, Uuid)>,
) -> ApiResult<Json<Vec<Session>>> {
    let member = chatter(&state, &principal, org, project).await?;
    Ok(Json(sessions::active(&state.db, org, project, member.user).await?))
}

/// Open a chat. With 3 already active, the oldest is closed (its sockets get a close frame).
#[utoipa::path(post, path = "/api/v1/orgs/{org}/projects/{project}/chats", tag = "chat",
    params(("org" = Uuid, Path), ("project" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 201, body = Session), (status = 400, body = crate::error::Problem),
              (status = 404, body = crate::error::Problem)))]
pub async fn open_chat(
    State(state): State<AppState>,
    principal: Principal,
    PathParams((org, project)): PathParams<(Uuid, Uuid)>,
) -> ApiResult<(StatusCode, Json<Session>)> {
    let member = chatter(&state, &principal, org, project).await?;
    let cap = catalog::MAX_SESSIONS.get(&state.configs, org);
    let (session, closed) = sessions::open(&state.db, org, project, member.user, cap).await?;
    for id in closed {
        hub::publish(&state.redis, Topic::Closed, &id.to_string()).await;
    }
    Ok((StatusCode::CREATED, Json(session)))
}

/// Close one of the caller's chats.
#[utoipa::path(delete, path = "/api/v1/orgs/{org}/projects/{project}/chats/{session}", tag = "chat",
    params(("org" = Uuid, Path), ("project" = Uuid, Path), ("session" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 400, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
pub async fn close_chat(
    State(state): State<AppState>,
    principal: Principal,
    PathParams((org, project, session)): PathParams<(Uuid, Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    let member = chatter(&state, &principal, org, project).await?;
    if !sessions::close(&state.db, org, project, member.user, session).await? {
        return Err(ApiError::NotFound(format!(
            "no open chat {session} of yours in this project"
        )));
    }
    hub::publish(&state.redis, Topic::Closed, &session.to_string()).await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PollsQuery {
    /// Polls per page, newest first: 1-100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    #[serde(default, deserialize_with = "crate::domain::integral_opt")]
    pub limit: Option<i64>,
    /// The last poll of the previous page (its `Link: rel="next"` names it).
    pub before: Option<Uuid>,
}

/// The project's polls, newest first, a page at a time; `Link: <...>; rel="next"` while there
/// are older ones.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/projects/{project}/polls", tag = "chat",
    params(("org" = Uuid, Path), ("project" = Uuid, Path), PollsQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<Value>, headers(("Link" = String, description = "the next page, if any"))),
              (status = 400, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
pub async fn list_polls(
    State(state): State<AppState>,
    principal: Principal,
    PathParams((org, project)): PathParams<(Uuid, Uuid)>,
    QueryParams(query): QueryParams<PollsQuery>,
) -> ApiResult<Response> {
    chatter(&state, &principal, org, project).await?;
    let limit = query.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::BadRequest(format!("limit is {limit}; it must be 1-100")));
    }
    let mut polls = polls::page(&state.db, org, project, limit + 1, query.before)
        .await?
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "before names no poll of this project ({}); start again without it",
                query.before.unwrap_or_default()
            ))
        })?;
    let more = polls.len() as i64 > limit;
    polls.truncate(limit as usize);
    let next = polls
        .last()
        .and_then(|p| p["id"].as_str())
        .filter(|_| more)
        .map(|last| format!("</api/v1/orgs/{org}/projects/{project}/polls?limit={limit}&before={last}>; rel=\"next\""));
    let mut response = Json(polls).into_response();
    if let Some(link) = next.and_then(|l| HeaderValue::from_str(&l).ok()) {
        response.headers_mut().insert(header::LINK, link);
    }
    Ok(response)
}

/// Delete a poll and its votes (the project's owner, or an org admin); viewers get a
/// `poll_deleted` frame.
#[utoipa::path(delete, path = "/api/v1/orgs/{org}/projects/{project}/polls/{poll}", tag = "chat",
    params(("org" = Uuid, Path), ("project" = Uuid, Path), ("poll" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
              (status = 404, body = crate::error::Problem)))]
pub async fn delete_poll(
    State(state): State<AppState>,
    principal: Principal,
    PathParams((org, project, poll)): PathParams<(Uuid, Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    let (member, role) = chatter_with_role(&state, &principal, org, project).await?;
    let owner = role == ProjectRole::Owner;
    if !owner && member.role != OrgRole::Admin {
        return Err(ApiError::Forbidden(
            "only the project's owner or an org admin may delete a poll".to_owned(),
        ));
    }
    if !polls::delete(&state.db, org, project, poll).await? {
        return Err(ApiError::NotFound(format!("project {project} has no poll {poll}")));
    }
    let frame = ServerFrame::PollDeleted {
        poll,
        sent_at_us: now_us(),
    };
    let text = serde_json::to_string(&frame).map_err(|e| ApiError::Internal(e.to_string()))?;
    hub::publish(&state.redis, Topic::Project(project), &text).await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenPoll {
    /// The id of a template in the org's `chat.poll_templates` config.
    #[schema(pattern = "^[a-z][a-z0-9_-]{0,39}$")]
    pub template: String,
}

/// Open a poll from one of the org's poll templates; everyone viewing the project sees it.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/projects/{project}/polls", tag = "chat", request_body = OpenPoll,
    params(("org" = Uuid, Path), ("project" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 201, body = Value), (status = 400, body = crate::error::Problem),
              (status = 404, body = crate::error::Problem, description = "no such project"),
              (status = 409, body = crate::error::Problem, description = "the project holds `quotas.polls_per_project` polls"),
              (status = 422, body = crate::error::Problem, description = "the body names no template of the org")))]
pub async fn open_poll(
    State(state): State<AppState>,
    principal: Principal,
    PathParams((org, project)): PathParams<(Uuid, Uuid)>,
    JsonBody(body): JsonBody<OpenPoll>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    chatter(&state, &principal, org, project).await?;
    let templates = catalog::POLL_TEMPLATES.get(&state.configs, org);
    let template = templates.iter().find(|t| t.id == body.template).ok_or_else(|| {
        let known: Vec<&str> = templates.iter().map(|t| t.id.as_str()).collect();
        ApiError::Unprocessable(format!(
            "no poll template {:?} in this org's {}; known: {}",
            body.template,
            catalog::POLL_TEMPLATES.name,
            known.join(", ")
        ))
    })?;
    let choices = serde_json::json!(template.choices);
    let poll = polls::create(&state, org, project, &template.id, &template.question, &choices).await?;
    let frame = ServerFrame::Poll {
        poll: poll.clone(),
        sent_at_us: now_us(),
    };
    let text = serde_json::to_string(&frame).map_err(|e| ApiError::Internal(e.to_string()))?;
    hub::publish(&state.redis, Topic::Project(project), &text).await;
    Ok((StatusCode::CREATED, Json(poll)))
}
