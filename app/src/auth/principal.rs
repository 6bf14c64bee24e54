//! Who is calling, from the `Authorization: Bearer` header: a valid, unrevoked access token.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use uuid::Uuid;

use super::denylist;
use super::token::{Claims, Subject};
use crate::domain::OrgRole;
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Debug, Clone)]
pub struct Principal {
    pub claims: Claims,
}

/// A guest acting inside its own org.
#[derive(Debug, Clone)]
pub struct Member {
    pub org: Uuid,
    pub user: Uuid,
    pub user_key: String,
    pub role: OrgRole,
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts.headers.get(AUTHORIZATION).ok_or_else(|| {
            ApiError::Unauthorized(
                "send `Authorization: Bearer <token>`; get a token from POST /api/v1/auth/guest (invite code) \
                 or POST /api/v1/auth/admin (platform admin)"
                    .to_owned(),
            )
        })?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .ok_or_else(|| ApiError::Unauthorized("the Authorization header must be `Bearer <token>`".to_owned()))?;
        authenticate(state, token).await
    }
}

/// Checks a token and its revocation: the one way a caller is recognised, for requests and
/// WebSockets alike.
pub async fn authenticate(state: &AppState, token: &str) -> Result<Principal, ApiError> {
    let claims = state
        .tokens
        .verify(token.trim())
        .map_err(|e| ApiError::Unauthorized(format!("{e}; sign in again")))?;
    let user = match &claims.who {
        Subject::Guest { user, .. } => Some(*user),
        Subject::PlatformAdmin => None,
    };
    match state.denylist.is_revoked(&claims.jti, user, claims.iat).await {
        Ok(false) => Ok(Principal { claims }),
        Ok(true) => Err(ApiError::Unauthorized(
            "the token has been revoked; sign in again".to_owned(),
        )),
        Err(e) => {
            tracing::warn!(error = %e, "revocation check failed; refusing the request");
            Err(ApiError::Unavailable(format!(
                "token revocation cannot be checked right now ({} is unreachable); retry shortly",
                match e {
                    denylist::Unavailable::Redis(_) | denylist::Unavailable::Unsettled => "Redis",
                    denylist::Unavailable::Database(_) => "the database",
                }
            )))
        }
    }
}

impl Principal {
    pub fn is_platform_admin(&self) -> bool {
        self.claims.who == Subject::PlatformAdmin
    }

    pub fn require_platform_admin(&self) -> Result<(), ApiError> {
        if self.is_platform_admin() {
            Ok(())
        } else {
            Err(ApiError::Forbidden("only the platform admin may do this".to_owned()))
        }
    }

    /// The caller as a member of `org`. Another org's resources are "not found", so ids of
    /// other tenants cannot be probed.
    pub fn member_of(&self, org: Uuid) -> Result<Member, ApiError> {
        match &self.claims.who {
            Subject::Guest {
                org: own,
                user,
                user_key,
                role,
            } if *own == org => Ok(Member {
                org,
                user: *user,
                user_key: user_key.clone(),
                role: *role,
            }),
            _ => Err(ApiError::NotFound(format!("org {org} not found"))),
        }
    }

    pub fn admin_of(&self, org: Uuid) -> Result<Member, ApiError> {
        let member = self.member_of(org)?;
        if member.role == OrgRole::Admin {
            Ok(member)
        } else {
            Err(ApiError::Forbidden("only an org admin may do this".to_owned()))
        }
    }

    /// The actor name kept in audit history.
    pub fn actor(&self) -> String {
        match &self.claims.who {
            Subject::PlatformAdmin => "platform-admin".to_owned(),
            Subject::Guest { user_key, .. } => user_key.clone(),
        }
    }
}
