//! `/api/v1/auth/*` and invites.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::denylist::{self, Revoked};
use super::token::{Claims, Subject};
use super::{Principal, invites};
use crate::domain::OrgRole;
use crate::error::{ApiError, ApiResult, JsonBody, PathParams};
use crate::limits::MAX_INVITE_TTL_HOURS;
use crate::ratelimit::{self, Bucket, Verdict};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(admin_sign_in))
        .routes(routes!(guest_sign_in))
        .routes(routes!(sign_out))
        .routes(routes!(revoke))
        .routes(routes!(me))
        .routes(routes!(mint_invite, list_invites))
        .routes(routes!(revoke_invite))
        .routes(routes!(revoke_user))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdminSignIn {
    /// The platform-admin credential (from the app-admin Secret).
    #[schema(pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$")]
    pub credential: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GuestSignIn {
    /// An invite code minted by an org admin (`inv_...`).
    #[schema(pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$")]
    pub invite_code: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    pub token_type: &'static str,
    /// Token id: what `POST /api/v1/auth/revoke` takes.
    pub jti: String,
    /// Seconds until the token expires (at most 900).
    pub expires_in: u64,
    pub me: Me,
}

/// Who the token speaks for.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// `platform_admin` or `guest`.
    pub kind: &'static str,
    pub org: Option<Uuid>,
    pub user: Option<Uuid>,
    /// `guest-NNNN`: the only identity a guest has.
    pub user_key: Option<String>,
    pub role: Option<OrgRole>,
}

impl Me {
    fn of(claims: &Claims) -> Self {
        match &claims.who {
            Subject::PlatformAdmin => Self {
                kind: "platform_admin",
                org: None,
                user: None,
                user_key: None,
                role: None,
            },
            Subject::Guest {
                org,
                user,
                user_key,
                role,
            } => Self {
                kind: "guest",
                org: Some(*org),
                user: Some(*user),
                user_key: Some(user_key.clone()),
                role: Some(*role),
            },
        }
    }
}

fn respond(state: &AppState, who: Subject) -> ApiResult<Json<TokenResponse>> {
    let (token, claims) = state.tokens.issue(who).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(TokenResponse {
        token,
        token_type: "Bearer",
        jti: claims.jti.clone(),
        expires_in: state.tokens.ttl().as_secs(),
        me: Me::of(&claims),
    }))
}

/// Exchange the platform-admin credential for a short-lived token.
#[utoipa::path(post, path = "/api/v1/auth/admin", tag = "auth", request_body = AdminSignIn,
    responses((status = 200, body = TokenResponse), (status = 401, body = crate::error::Problem),
              (status = 400, body = crate::error::Problem), (status = 422, body = crate::error::Problem),
              (status = 429, body = crate::error::Problem, headers(("Retry-After" = u64))),
              (status = 503, body = crate::error::Problem)))]
pub async fn admin_sign_in(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<AdminSignIn>,
) -> ApiResult<Json<TokenResponse>> {
    // Comparing digests: equal-length inputs, and no early exit on a matching prefix of the secret.
    let given = Sha256::digest(body.credential.as_bytes());
    let expected = Sha256::digest(state.admin_token.expose_secret().as_bytes());
    // Every attempt takes a token first, atomically, and a right credential gives it back: only
    // wrong guesses spend the bucket, concurrent guesses cannot all pass one check, and while the
    // bucket is empty the right credential is refused too (otherwise the answer would tell a
    // guesser which guess was right).
    let guesses = Bucket::new(
        format!("auth:admin:{}", hex_prefix(&Sha256::digest(expected))),
        ADMIN_GUESSES_PER_MINUTE,
        ADMIN_GUESSES_PER_MINUTE,
    );
    refused_when_limited(
        ratelimit::take(&state.redis, std::slice::from_ref(&guesses)).await,
        "too many wrong platform-admin credentials were tried",
    )?;
    if given != expected {
        return Err(ApiError::Unauthorized(
            "the platform-admin credential is not valid".to_owned(),
        ));
    }
    ratelimit::refund(&state.redis, &[guesses]).await;
    respond(&state, Subject::PlatformAdmin)
}

/// Wrong platform-admin credentials accepted a minute, for the whole deployment (every replica
/// draws from one bucket, named by a digest of the credential).
pub const ADMIN_GUESSES_PER_MINUTE: f64 = 10.0;
/// Guest sign-ins a minute per org, right or wrong (each is a database transaction), over
/// every replica; a class of this many may sign in at once.
pub const GUEST_SIGN_INS_PER_MINUTE: f64 = 60.0;

fn hex_prefix(digest: &[u8]) -> String {
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// A rate limit's verdict as the API answers it: 429 with `Retry-After`, or 503 when Redis
/// cannot say.
fn refused_when_limited(verdict: Verdict, what: &str) -> Result<(), ApiError> {
    match verdict {
        Verdict::Allowed => Ok(()),
        Verdict::Limited { retry_after } => Err(ApiError::RateLimited {
            detail: what.to_owned(),
            retry_after,
        }),
        Verdict::Unavailable => Err(ApiError::Unavailable(
            "sign-in cannot be rate limited right now (Redis is unreachable); retry shortly".to_owned(),
        )),
    }
}

/// Sign in as a guest with an invite code; each sign-in is a new `guest-NNNN` of the org.
#[utoipa::path(post, path = "/api/v1/auth/guest", tag = "auth", request_body = GuestSignIn,
    responses((status = 200, body = TokenResponse), (status = 401, body = crate::error::Problem),
              (status = 400, body = crate::error::Problem), (status = 409, body = crate::error::Problem),
              (status = 422, body = crate::error::Problem),
              (status = 429, body = crate::error::Problem, headers(("Retry-After" = u64))),
              (status = 503, body = crate::error::Problem)))]
pub async fn guest_sign_in(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<GuestSignIn>,
) -> ApiResult<Json<TokenResponse>> {
    let (org, secret) = invites::decode(&state.tokens, &body.invite_code).ok_or_else(invites::refused)?;
    let bucket = Bucket::new(
        format!("auth:guest:{org}"),
        GUEST_SIGN_INS_PER_MINUTE,
        GUEST_SIGN_INS_PER_MINUTE,
    );
    refused_when_limited(
        ratelimit::take(&state.redis, &[bucket]).await,
        "too many sign-ins to this org in the last minute",
    )?;
    let _running = state.guest_sign_ins.try_acquire().map_err(|_| ApiError::RateLimited {
        detail: "too many sign-ins are running on this server at once".to_owned(),
        retry_after: std::time::Duration::from_secs(1),
    })?;
    let guest = invites::redeem(&state, org, &secret).await?;
    respond(
        &state,
        Subject::Guest {
            org,
            user: guest.user,
            user_key: guest.user_key,
            role: guest.role,
        },
    )
}

/// Revoke the caller's own token.
#[utoipa::path(post, path = "/api/v1/auth/sign-out", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = crate::error::Problem), (status = 503, body = crate::error::Problem)))]
pub async fn sign_out(State(state): State<AppState>, principal: Principal) -> ApiResult<StatusCode> {
    revoke_jti(&state, &principal.claims.jti, &principal.actor(), "signed out").await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Revoke {
    /// The `jti` of the token to lock out.
    pub jti: String,
}

/// Revoke any token by its id, on every replica at once (platform admin).
#[utoipa::path(post, path = "/api/v1/auth/revoke", tag = "auth", request_body = Revoke, security(("bearer" = [])),
    responses((status = 204), (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
              (status = 422, body = crate::error::Problem), (status = 503, body = crate::error::Problem)))]
pub async fn revoke(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(body): JsonBody<Revoke>,
) -> ApiResult<StatusCode> {
    principal.require_platform_admin()?;
    let jti = body.jti.trim();
    if jti.is_empty() || jti.len() > 64 {
        return Err(ApiError::Unprocessable("jti must have 1-64 characters".to_owned()));
    }
    revoke_jti(&state, jti, &principal.actor(), "revoked by id").await
}

fn not_stored(e: denylist::Unavailable) -> ApiError {
    tracing::warn!(error = %e, "revocation failed");
    ApiError::Unavailable(format!("the revocation could not be stored ({e}); retry"))
}

async fn revoke_jti(state: &AppState, jti: &str, by: &str, reason: &str) -> ApiResult<StatusCode> {
    state
        .denylist
        .revoke(Revoked::Token(jti), by, reason)
        .await
        .map_err(not_stored)?;
    // Open chat sockets of the token close on every replica.
    crate::chat::hub::publish(&state.redis, crate::chat::topic::Topic::Revoked, jti).await;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, body = crate::error::Problem), (status = 503, body = crate::error::Problem)))]
pub async fn me(principal: Principal) -> Json<Me> {
    Json(Me::of(&principal.claims))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MintInvite {
    pub role: OrgRole,
    /// How many sign-ins the code allows (1-100, default 1).
    #[serde(default = "one", deserialize_with = "crate::domain::integral")]
    #[schema(minimum = 1, maximum = 100)]
    pub uses: i64,
    /// Hours until the code expires (1-168, default 24).
    #[serde(default = "day", deserialize_with = "crate::domain::integral")]
    #[schema(minimum = 1, maximum = 168)]
    pub ttl_hours: i64,
}

fn one() -> i64 {
    1
}
fn day() -> i64 {
    24
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Invite {
    /// What `GET` lists and `DELETE` takes.
    pub id: Uuid,
    /// Shown once; only its hash is kept.
    pub code: String,
    pub role: OrgRole,
    pub uses: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// Mint an invite code for an org (platform admin, or an admin of that org).
#[utoipa::path(post, path = "/api/v1/orgs/{org}/invites", tag = "auth", request_body = MintInvite,
    params(("org" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 201, body = Invite), (status = 400, body = crate::error::Problem),
              (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
              (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem),
              (status = 422, body = crate::error::Problem), (status = 503, body = crate::error::Problem)))]
pub async fn mint_invite(
    State(state): State<AppState>,
    principal: Principal,
    PathParams(org): PathParams<Uuid>,
    JsonBody(body): JsonBody<MintInvite>,
) -> ApiResult<(StatusCode, Json<Invite>)> {
    if !principal.is_platform_admin() {
        principal.admin_of(org)?;
    }
    if !(1..=100).contains(&body.uses) {
        return Err(ApiError::Unprocessable(format!(
            "uses is {}; it must be 1-100",
            body.uses
        )));
    }
    if !(1..=MAX_INVITE_TTL_HOURS).contains(&body.ttl_hours) {
        return Err(ApiError::Unprocessable(format!(
            "ttl_hours is {}; it must be 1-{MAX_INVITE_TTL_HOURS}",
            body.ttl_hours
        )));
    }
    let minted = invites::mint(
        &state,
        org,
        body.role,
        body.uses,
        time::Duration::hours(body.ttl_hours),
        &principal.actor(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(Invite {
            id: minted.id,
            code: minted.code,
            role: body.role,
            uses: body.uses,
            expires_at: minted.expires_at,
        }),
    ))
}

/// An org's admin, or the platform admin.
fn may_administer(principal: &Principal, org: Uuid) -> Result<(), ApiError> {
    if !principal.is_platform_admin() {
        principal.admin_of(org)?;
    }
    Ok(())
}

/// The org's invites that can still be redeemed (never their codes).
#[utoipa::path(get, path = "/api/v1/orgs/{org}/invites", tag = "auth", params(("org" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = Vec<invites::Listed>), (status = 400, body = crate::error::Problem),
              (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
              (status = 503, body = crate::error::Problem)))]
pub async fn list_invites(
    State(state): State<AppState>,
    principal: Principal,
    PathParams(org): PathParams<Uuid>,
) -> ApiResult<Json<Vec<invites::Listed>>> {
    may_administer(&principal, org)?;
    Ok(Json(invites::list(&state.db, org).await?))
}

/// Withdraw an invite: its code signs nobody in from now on.
#[utoipa::path(delete, path = "/api/v1/orgs/{org}/invites/{invite}", tag = "auth",
    params(("org" = Uuid, Path), ("invite" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 400, body = crate::error::Problem), (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem),
              (status = 503, body = crate::error::Problem)))]
pub async fn revoke_invite(
    State(state): State<AppState>,
    principal: Principal,
    PathParams((org, invite)): PathParams<(Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    may_administer(&principal, org)?;
    if invites::revoke(&state.db, org, invite).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!("org {org} has no invite {invite}")))
    }
}

/// Revoke every token a user of the org holds now, on every replica, and close their chat
/// sockets (an org admin needs no `jti`, which only the holder knows). Signing in again with a
/// new invite is not prevented.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/users/{user_key}/revoke", tag = "auth",
    params(("org" = Uuid, Path), ("user_key" = String, Path, description = "guest-NNNN", pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")), security(("bearer" = [])),
    responses((status = 204), (status = 400, body = crate::error::Problem), (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem),
              (status = 422, body = crate::error::Problem), (status = 503, body = crate::error::Problem)))]
pub async fn revoke_user(
    State(state): State<AppState>,
    principal: Principal,
    PathParams((org, user_key)): PathParams<(Uuid, String)>,
) -> ApiResult<StatusCode> {
    crate::error::path_text("user_key", &user_key)?;
    may_administer(&principal, org)?;
    let user = invites::user_id(&state.db, org, &user_key)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("org {org} has no user {user_key}")))?;
    let before = jsonwebtoken::get_current_timestamp();
    let reason = format!("every token of {user_key} revoked");
    state
        .denylist
        .revoke(Revoked::User { user, before }, &principal.actor(), &reason)
        .await
        .map_err(not_stored)?;
    crate::chat::hub::publish(&state.redis, crate::chat::topic::Topic::RevokedUser, &user.to_string()).await;
    Ok(StatusCode::NO_CONTENT)
}
