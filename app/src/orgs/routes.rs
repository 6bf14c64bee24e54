//! `POST /api/v1/orgs` (the saga behind an Idempotency-Key) and `GET /api/v1/orgs/{org}`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::idempotency::{self, Begin};
use super::org::Org;
use super::saga::{Saga, SagaError};
use crate::auth::Principal;
use crate::domain::{Name, Slug};
use crate::error::{ApiError, ApiResult, JsonBody, PathParams};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_org))
        .routes(routes!(get_org))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrg {
    /// DNS label; the org's namespace is `org-<slug>`.
    #[schema(value_type = String, pattern = "^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$")]
    pub slug: Slug,
    #[schema(value_type = String, min_length = 1, max_length = 200, pattern = r"^[^\u0000-\u001F\u007F-\u009F\u061C\u200B\u200E\u200F\u202A-\u202E\u2060\u2066-\u2069\uFEFF]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\u061C\u200B\u200E\u200F\u202A-\u202E\u2060\u2066-\u2069\uFEFF][^\u0000-\u001F\u007F-\u009F\u061C\u200B\u200E\u200F\u202A-\u202E\u2060\u2066-\u2069\uFEFF]*$")]
    pub name: Name,
}

/// Create an org: `PENDING` → default configs → isolation gate → `COMMITTED` (or `FAILED`,
/// compensated). Requires an `Idempotency-Key`; a retry replays the first response.
#[utoipa::path(post, path = "/api/v1/orgs", tag = "orgs", request_body = CreateOrg, security(("bearer" = [])),
    params(("Idempotency-Key" = String, Header, description = "unique per intended org, e.g. a UUID")),
    responses((status = 201, body = Org), (status = 400, body = crate::error::Problem),
              (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
              (status = 409, body = crate::error::Problem, description = "slug taken, or the same key is in flight"),
              (status = 422, body = crate::error::Problem, description = "bad body, or the key was used with another body"),
              (status = 502, body = crate::error::Problem, description = "the saga failed and was compensated"),
              (status = 503, body = crate::error::Problem)))]
pub async fn create_org(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    JsonBody(body): JsonBody<CreateOrg>,
) -> ApiResult<Response> {
    principal.require_platform_admin()?;
    let key = idempotency::check_key(headers.get(idempotency::HEADER))?;
    let canonical = serde_json::to_value(&body).map_err(|e| ApiError::Internal(e.to_string()))?;
    let claimed = match idempotency::begin(&state.db, &key, idempotency::fingerprint(&canonical)).await? {
        Begin::Claimed(claimed) => claimed,
        Begin::InFlight => {
            return Err(ApiError::Conflict(
                "a request with this Idempotency-Key is still in progress; retry in a moment for its result".to_owned(),
            ));
        }
        Begin::Mismatch => {
            return Err(ApiError::Unprocessable(
                "this Idempotency-Key was already used with a different body; use a new key for a new org".to_owned(),
            ));
        }
        Begin::Replay(status, body) => {
            let mut response = (status, Json(body)).into_response();
            response
                .headers_mut()
                .insert("idempotent-replayed", HeaderValue::from_static("true"));
            return Ok(response);
        }
    };
    let saga = Saga {
        db: &state.db,
        redis: &state.redis,
        gate: state.gate.as_ref(),
        probe: &super::saga::NoProbe,
        lease: state.saga_lease,
    };
    let created = match saga
        .create(Uuid::new_v4(), &body.slug, body.name.as_str(), &claimed)
        .await
    {
        Ok(org) => org,
        Err(e) => {
            claimed.release(&state.db).await?;
            return Err(match e {
                SagaError::SlugTaken(_) => ApiError::Conflict(format!("{e}; choose another slug")),
                SagaError::Database(e) => ApiError::Database(e),
                SagaError::Crashed(_) | SagaError::GateRelease(_) | SagaError::StoredSlug(_) => {
                    ApiError::Internal(e.to_string())
                }
            });
        }
    };
    // From here on the org exists: an error leaves it PENDING for the recovery loop, which
    // also completes this key's record; the client's retry then gets the final answer.
    let org = saga.drive(created).await.map_err(|e| match e {
        SagaError::Database(e) => ApiError::Database(e),
        // The org stays PENDING; a retry with the same key gets the final answer.
        SagaError::GateRelease(_) => {
            ApiError::Unavailable(format!("{e}; retry with the same Idempotency-Key for the final answer"))
        }
        other => ApiError::Internal(other.to_string()),
    })?;
    let (status, body) = idempotency::final_response(&org);
    claimed.complete(&state.db, status, &body).await?;
    Ok((status, Json(body)).into_response())
}

/// An org's status (platform admin, or a member of the org).
#[utoipa::path(get, path = "/api/v1/orgs/{org}", tag = "orgs", params(("org" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = Org), (status = 400, body = crate::error::Problem),
              (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem),
              (status = 503, body = crate::error::Problem)))]
pub async fn get_org(
    State(state): State<AppState>,
    principal: Principal,
    PathParams(org): PathParams<Uuid>,
) -> ApiResult<Json<Org>> {
    if !principal.is_platform_admin() {
        principal.member_of(org)?;
    }
    let row = Org::find(&state.db, org).await?;
    row.map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("org {org} not found")))
}
