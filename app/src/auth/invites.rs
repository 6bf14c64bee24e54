//! Invite codes: `inv_` + base64url(org id ‖ 32 random bytes ‖ MAC). Only SHA-256 of the random
//! part is stored. Because the code names its org, redeeming it runs inside that tenant like any
//! other request. The MAC (HMAC-SHA256 with a key derived from the token secret, 16 bytes) is
//! checked before anything else: a code nobody minted costs no Redis call and no database
//! work, and cannot spend a real org's sign-in bucket or this server's sign-in slots.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use super::token::{INVITE_MAC_LEN, TokenKeys};
use crate::configs::quotas::Quota;
use crate::db::{self, Tenant};
use crate::domain::OrgRole;
use crate::error::ApiError;
use crate::orgs::org::OrgStatus;
use crate::state::AppState;

const PREFIX: &str = "inv_";
pub const SECRET_LEN: usize = 32;

#[derive(Debug)]
pub struct Minted {
    pub id: Uuid,
    pub code: String,
    pub expires_at: OffsetDateTime,
}

/// The guest a redeemed invite made.
#[derive(Debug)]
pub struct Guest {
    pub user: Uuid,
    pub user_key: String,
    pub role: OrgRole,
}

/// The org and secret of a code this deployment minted; `None` for anything else (no Redis or
/// database needed).
pub fn decode(keys: &TokenKeys, code: &str) -> Option<(Uuid, [u8; SECRET_LEN])> {
    let bytes = URL_SAFE_NO_PAD.decode(code.trim().strip_prefix(PREFIX)?).ok()?;
    if bytes.len() != 16 + SECRET_LEN + INVITE_MAC_LEN {
        return None;
    }
    let (body, tag) = bytes.split_at(16 + SECRET_LEN);
    if !keys.invite_mac_matches(body, tag) {
        return None;
    }
    let (org, secret) = body.split_at(16);
    Some((Uuid::from_slice(org).ok()?, secret.try_into().ok()?))
}

/// The code of `org`'s invite with `secret`.
fn encode(keys: &TokenKeys, org: Uuid, secret: &[u8; SECRET_LEN]) -> String {
    let mut bytes = org.as_bytes().to_vec();
    bytes.extend_from_slice(secret);
    let tag = keys.invite_mac(&bytes);
    bytes.extend_from_slice(&tag);
    format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    Sha256::digest(bytes).to_vec()
}

pub async fn mint(
    state: &AppState,
    org: Uuid,
    role: OrgRole,
    uses: i64,
    ttl: time::Duration,
    created_by: &str,
) -> Result<Minted, ApiError> {
    let mut secret = [0u8; SECRET_LEN];
    getrandom::fill(&mut secret).map_err(|e| ApiError::Internal(format!("no randomness: {e}")))?;
    let mut tx = db::begin(&state.db, Tenant::org(org)).await?;
    let status = sqlx::query_scalar!(
        r#"SELECT status AS "status: OrgStatus" FROM organizations WHERE id = $1"#,
        org
    )
    .fetch_optional(&mut *tx)
    .await?;
    match status {
        None => return Err(ApiError::NotFound(format!("org {org} not found"))),
        Some(OrgStatus::Committed) => {}
        Some(other) => {
            return Err(ApiError::Conflict(format!(
                "org {org} is {}; invites can be minted once it is COMMITTED",
                other.as_str()
            )));
        }
    }
    // Spent and expired invites redeem nothing: dropped, so the table holds at most the quota.
    sqlx::query!("DELETE FROM invites WHERE uses_left = 0 OR expires_at <= now()")
        .execute(&mut *tx)
        .await?;
    Quota::Invites.check(&mut tx, state, org, org).await?;
    let minted = sqlx::query!(
        "INSERT INTO invites (org_id, secret_sha256, role, uses_left, expires_at, created_by)
         VALUES ($1, $2, $3, $4, now() + $5 * interval '1 second', $6) RETURNING id, expires_at",
        org,
        sha256(&secret),
        role.as_str(),
        i32::try_from(uses).unwrap_or(i32::MAX),
        ttl.whole_seconds() as f64,
        created_by
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Minted {
        id: minted.id,
        code: encode(&state.tokens, org, &secret),
        expires_at: minted.expires_at,
    })
}

/// Why a code signs nobody in; the same whatever the reason, so it tells a guesser nothing.
pub fn refused() -> ApiError {
    ApiError::Unauthorized(
        "the invite code is not valid, used up or expired; ask an admin of your org for a new one".to_owned(),
    )
}

/// How long a guest's rows outlive its token: a guest cannot sign in again (each sign-in is a
/// new guest), so once its token has expired nobody can act as it, and after this its project
/// memberships and chat sessions go too.
pub const GUEST_RETENTION: time::Duration = time::Duration::days(1);

/// Expired guests dropped per sign-in: each sign-in adds one guest, so they cannot pile up,
/// and no sign-in pays for a long backlog at once.
const GUESTS_DROPPED_PER_SIGN_IN: i64 = 100;

/// Spends one use of the code and creates the next `guest-NNNN` of its org, within the org's
/// `quotas.guests`.
/// `org` and `secret` come from [`decode`].
pub async fn redeem(state: &AppState, org: Uuid, secret: &[u8; SECRET_LEN]) -> Result<Guest, ApiError> {
    let mut tx = db::begin(&state.db, Tenant::org(org)).await?;
    let role = sqlx::query_scalar!(
        "UPDATE invites SET uses_left = uses_left - 1
          WHERE secret_sha256 = $1 AND uses_left > 0 AND expires_at > now() RETURNING role",
        sha256(secret)
    )
    .fetch_optional(&mut *tx)
    .await?;
    let role = role.as_deref().and_then(OrgRole::parse).ok_or_else(refused)?;
    // The row lock on the org serializes numbering; the unique (org_id, user_key) backs it up.
    let seq = sqlx::query_scalar!(
        "UPDATE organizations SET guest_seq = guest_seq + 1 WHERE id = $1 AND status = $2 RETURNING guest_seq",
        org,
        OrgStatus::Committed as _
    )
    .fetch_optional(&mut *tx)
    .await?;
    let seq = seq.ok_or_else(refused)?;
    let lifetime = state.tokens.ttl().as_secs_f64();
    sqlx::query!(
        "DELETE FROM users WHERE id IN (SELECT id FROM users WHERE created_at < now() - make_interval(secs => $1)
                                          ORDER BY created_at LIMIT $2)",
        lifetime + GUEST_RETENTION.as_seconds_f64(),
        GUESTS_DROPPED_PER_SIGN_IN
    )
    .execute(&mut *tx)
    .await?;
    Quota::Guests.check(&mut tx, state, org, org).await?;
    let user_key = format!("guest-{seq:04}");
    let user = sqlx::query_scalar!(
        "INSERT INTO users (org_id, user_key, role) VALUES ($1, $2, $3) RETURNING id",
        org,
        &user_key,
        role.as_str()
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Guest { user, user_key, role })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(secret: &str) -> TokenKeys {
        TokenKeys::new(
            &secret.to_owned().into(),
            "iss",
            "aud",
            std::time::Duration::from_secs(60),
        )
    }

    #[test]
    fn a_code_names_its_org_and_refuses_tampering_and_forgery() {
        let keys = keys("a secret of the deployment, long enough");
        let org = Uuid::new_v4();
        let code = encode(&keys, org, &[7u8; SECRET_LEN]);
        assert_eq!(decode(&keys, &code), Some((org, [7u8; SECRET_LEN])));
        assert_eq!(decode(&keys, &code[..code.len() - 2]), None, "truncated");
        assert_eq!(decode(&keys, code.trim_start_matches(PREFIX)), None, "no prefix");
        assert_eq!(decode(&keys, "inv_!!!"), None, "not base64url");
        // Another org's id in a real code, a made-up code of the right shape, the old shape
        // without a MAC, and a code of another deployment: all refused.
        let mut bytes = URL_SAFE_NO_PAD.decode(&code[PREFIX.len()..]).expect("base64");
        bytes[..16].copy_from_slice(Uuid::new_v4().as_bytes());
        assert_eq!(
            decode(&keys, &format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(&bytes))),
            None,
            "org swapped"
        );
        let made_up = format!(
            "{PREFIX}{}",
            URL_SAFE_NO_PAD.encode([9u8; 16 + SECRET_LEN + INVITE_MAC_LEN])
        );
        assert_eq!(decode(&keys, &made_up), None, "made up");
        let old = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(&bytes[..16 + SECRET_LEN]));
        assert_eq!(decode(&keys, &old), None, "no MAC");
        assert_eq!(
            decode(&self::keys("another deployment's secret"), &code),
            None,
            "another key"
        );
    }
}

/// An invite as its org's admins see it: never the code, which only its holder has.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Listed {
    pub id: Uuid,
    pub role: String,
    pub uses_left: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    pub created_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// The org's invites that can still be redeemed, newest first.
pub async fn list(pool: &PgPool, org: Uuid) -> Result<Vec<Listed>, ApiError> {
    let mut tx = db::begin(pool, Tenant::org(org)).await?;
    let rows = sqlx::query_as!(
        Listed,
        "SELECT id, role, uses_left, expires_at, created_by, created_at FROM invites
          WHERE uses_left > 0 AND expires_at > now() ORDER BY created_at DESC, id"
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows)
}

/// Withdraws an invite: its code redeems nothing from now on. `false` when the org has none
/// with that id.
pub async fn revoke(pool: &PgPool, org: Uuid, invite: Uuid) -> Result<bool, ApiError> {
    let mut tx = db::begin(pool, Tenant::org(org)).await?;
    let deleted = sqlx::query!("DELETE FROM invites WHERE id = $1", invite)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(deleted > 0)
}

/// The id of the org's user `user_key`, if there is one.
pub async fn user_id(pool: &PgPool, org: Uuid, user_key: &str) -> Result<Option<Uuid>, ApiError> {
    let mut tx = db::begin(pool, Tenant::org(org)).await?;
    let user = sqlx::query_scalar!("SELECT id FROM users WHERE user_key = $1", user_key)
        .fetch_optional(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(user)
}
