//! `/api/v1/orgs/{org}/configs`: reads from this replica's memory, writes to PostgreSQL with
//! optimistic concurrency on the version.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::key::Spec;
use super::rows::{self, HistoryEntry};
use super::store::ConfigEntry;
use super::{catalog, sync};
use crate::auth::Principal;
use crate::domain::{ConfigKey, Reason};
use crate::error::{ApiError, ApiResult, JsonBody, PathParams, QueryParams};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_configs))
        .routes(routes!(get_config, put_config))
        .routes(routes!(config_history))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Config {
    pub key: String,
    pub value: Value,
    /// The version this replica serves (also the ETag).
    pub version: i64,
    pub updated_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// Who may change it: a page offers an org admin no editor for a key only the platform
    /// admin sets.
    pub set_by: SetBy,
}

/// Who may change a config key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SetBy {
    /// The org's admins (and the platform admin).
    OrgAdmin,
    /// The platform admin alone (`quotas`).
    PlatformAdmin,
}

impl Config {
    fn of(key: String, entry: &ConfigEntry) -> Self {
        let platform_only = catalog::find(&key).is_some_and(Spec::platform_only);
        Self {
            key,
            value: entry.value.clone(),
            version: entry.version,
            updated_by: entry.updated_by.clone(),
            updated_at: entry.updated_at,
            set_by: if platform_only {
                SetBy::PlatformAdmin
            } else {
                SetBy::OrgAdmin
            },
        }
    }

    fn into_response_with_etag(self) -> Response {
        let etag = HeaderValue::from_str(&format!("\"{}\"", self.version)).ok();
        let mut response = Json(self).into_response();
        if let Some(etag) = etag {
            response.headers_mut().insert(header::ETAG, etag);
        }
        response
    }
}

/// A key of the catalog; any other is "not found", whatever the endpoint.
fn parse_key(key: String) -> ApiResult<ConfigKey> {
    let key = ConfigKey::try_from(key).map_err(ApiError::NotFound)?;
    catalog::spec(&key).map_err(ApiError::NotFound)?;
    Ok(key)
}

/// Every config of the org, as this replica serves it (its members, and the platform admin).
#[utoipa::path(get, path = "/api/v1/orgs/{org}/configs", tag = "configs", params(("org" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = Vec<Config>), (status = 400, body = crate::error::Problem),
              (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem),
              (status = 503, body = crate::error::Problem)))]
pub async fn list_configs(
    State(state): State<AppState>,
    principal: Principal,
    PathParams(org): PathParams<Uuid>,
) -> ApiResult<Json<Vec<Config>>> {
    reader(&principal, org)?;
    let configs = state.configs.list(org);
    if configs.is_empty() {
        // Every committed org has its defaults; the platform admin may ask about any id.
        return Err(ApiError::NotFound(format!("org {org} not found")));
    }
    Ok(Json(
        configs
            .into_iter()
            .map(|(key, entry)| Config::of(key, &entry))
            .collect(),
    ))
}

/// Who may read an org's configs: its members, and the platform admin (who sets `quotas`).
fn reader(principal: &Principal, org: Uuid) -> ApiResult<()> {
    if !principal.is_platform_admin() {
        principal.member_of(org)?;
    }
    Ok(())
}

/// One config, from memory; the body and the ETag say which version is served.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/configs/{key}", tag = "configs",
    params(("org" = Uuid, Path), ("key" = catalog::KeyName, Path)), security(("bearer" = [])),
    responses((status = 200, body = Config, headers(("ETag" = String))), (status = 400, body = crate::error::Problem),
              (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem),
              (status = 503, body = crate::error::Problem)))]
pub async fn get_config(
    State(state): State<AppState>,
    principal: Principal,
    PathParams((org, key)): PathParams<(Uuid, String)>,
) -> ApiResult<Response> {
    reader(&principal, org)?;
    let key = parse_key(key)?;
    let entry = state
        .configs
        .get(org, key.as_str())
        .ok_or_else(|| ApiError::NotFound(format!("config {key} not found in org {org}")))?;
    Ok(Config::of(key.to_string(), &entry).into_response_with_etag())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutConfig {
    pub value: Value,
    /// Why, for the history.
    #[schema(value_type = String, min_length = 1, max_length = 500, pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$")]
    pub reason: Reason,
}

/// `If-Match: "7"` (or `7`): the version the change was based on.
fn if_match(headers: &HeaderMap) -> ApiResult<Option<i64>> {
    let Some(raw) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    raw.to_str()
        .ok()
        .map(|v| v.trim().trim_start_matches("W/").trim_matches('"'))
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|v| *v > 0)
        .map(Some)
        .ok_or_else(|| ApiError::BadRequest("If-Match must be the config's version, e.g. If-Match: \"3\"".to_owned()))
}

/// Change a config (org admin; `quotas`: the platform admin only). Send `If-Match` with the
/// version you read; a change based on an older version gets 412.
#[utoipa::path(put, path = "/api/v1/orgs/{org}/configs/{key}", tag = "configs", request_body = PutConfig,
    params(("org" = Uuid, Path), ("key" = catalog::KeyName, Path),
           ("If-Match" = Option<String>, Header, description = "the version the change is based on, e.g. \"3\"")),
    security(("bearer" = [])),
    responses((status = 200, body = Config, headers(("ETag" = String))), (status = 400, body = crate::error::Problem),
              (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
              (status = 404, body = crate::error::Problem), (status = 412, body = crate::error::Problem),
              (status = 415, body = crate::error::Problem), (status = 422, body = crate::error::Problem),
              (status = 428, body = crate::error::Problem), (status = 503, body = crate::error::Problem)))]
pub async fn put_config(
    State(state): State<AppState>,
    principal: Principal,
    PathParams((org, key)): PathParams<(Uuid, String)>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<PutConfig>,
) -> ApiResult<Response> {
    let key = parse_key(key)?;
    let spec = catalog::spec(&key).map_err(ApiError::NotFound)?;
    let actor = if spec.platform_only() {
        if !principal.is_platform_admin() {
            principal.member_of(org)?;
            return Err(ApiError::Forbidden(format!(
                "only the platform admin may change {key}: an org cannot raise its own limits"
            )));
        }
        principal.actor()
    } else {
        principal.admin_of(org)?.user_key
    };
    let expected = if_match(&headers)?;
    spec.check(&body.value).map_err(ApiError::Unprocessable)?;
    let change = rows::Change {
        org,
        key: key.as_str(),
        value: &body.value,
        expected,
        actor: &actor,
        reason: body.reason.as_str(),
        check_org: principal.is_platform_admin(),
    };
    let entry = rows::put(&state.db, change).await.map_err(|refused| match refused {
        rows::Refused::NoOrg(_) => ApiError::NotFound(refused.to_string()),
        rows::Refused::NotYet(_) | rows::Refused::Stale { .. } => ApiError::PreconditionFailed(refused.to_string()),
        rows::Refused::VersionRequired { .. } => ApiError::PreconditionRequired(refused.to_string()),
        rows::Refused::Database(e) => e.into(),
    })?;
    state.configs.apply(org, key.as_str(), entry.clone());
    state.metrics.config_version_served(key.as_str(), entry.version);
    sync::publish(&state.redis, org, key.as_str(), entry.version).await;
    Ok(Config::of(key.to_string(), &entry).into_response_with_etag())
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Newest first; at most 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    #[serde(default, deserialize_with = "crate::domain::integral_opt")]
    pub limit: Option<i64>,
}

/// A config's change history, newest first (org admin); the newest [`rows::HISTORY_KEPT`] are kept.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/configs/{key}/history", tag = "configs",
    params(("org" = Uuid, Path), ("key" = catalog::KeyName, Path), HistoryQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<HistoryEntry>), (status = 400, body = crate::error::Problem),
              (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
              (status = 404, body = crate::error::Problem), (status = 503, body = crate::error::Problem)))]
pub async fn config_history(
    State(state): State<AppState>,
    principal: Principal,
    PathParams((org, key)): PathParams<(Uuid, String)>,
    QueryParams(query): QueryParams<HistoryQuery>,
) -> ApiResult<Json<Vec<HistoryEntry>>> {
    principal.admin_of(org)?;
    let key = parse_key(key)?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::BadRequest(format!("limit is {limit}; it must be 1-200")));
    }
    Ok(Json(rows::history(&state.db, org, key.as_str(), limit).await?))
}
