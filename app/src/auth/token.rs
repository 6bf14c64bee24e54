//! Access tokens: HS256 JWTs of at most 15 minutes. `jsonwebtoken` checks the signature, the
//! algorithm, `exp`, `nbf`, `iss` and `aud`; `typ` and `jti` it would let through when absent,
//! so they are required here explicitly.

use std::time::Duration;

use platform_contracts::signing_keys;

use hmac::{Hmac, Mac};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::OrgRole;
use crate::limits::MAX_INVITE_TTL_HOURS;

/// The `typ` claim of an access token (so that no other JWT signed with the key passes).
pub const ACCESS_TYP: &str = "access";
/// Clock skew tolerated on `exp` and `nbf`.
pub const LEEWAY: Duration = Duration::from_secs(signing_keys::LEEWAY_SECS);

/// Who a token speaks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Subject {
    /// Holder of the platform-admin credential: creates orgs and mints their first invites.
    PlatformAdmin,
    /// A guest of one org.
    Guest {
        org: Uuid,
        user: Uuid,
        user_key: String,
        role: OrgRole,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    pub typ: String,
    pub sub: String,
    pub jti: String,
    pub iat: u64,
    pub nbf: u64,
    pub exp: u64,
    pub who: Subject,
}

/// Every claim an access token must carry; `jsonwebtoken` refuses a token missing any of them.
const REQUIRED: [&str; 6] = ["iss", "aud", "typ", "exp", "jti", "sub"];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("the token is not valid: {0}")]
    Invalid(String),
    #[error("the token is not an access token (typ must be \"access\")")]
    WrongType,
    #[error("the token has no jti")]
    MissingJti,
}

/// Signs access tokens and invite codes with the current key, and checks them against a ring:
/// the current key, a `next` key every replica learns before any signs with it, and the
/// `previous` key for as long as what it signed may still be presented
/// ([`platform_contracts::signing_keys`]).
pub struct TokenKeys {
    encoding: EncodingKey,
    /// The current key first (the common case costs one HMAC), then the keys that only verify.
    ring: Vec<RingKey>,
    validation: Validation,
    issuer: String,
    audience: String,
    ttl: Duration,
}

/// A key that verifies, with the end of its window for each kind of credential (`None`: open).
struct RingKey {
    decoding: DecodingKey,
    invites: [u8; 32],
    tokens_until: Option<OffsetDateTime>,
    invites_until: Option<OffsetDateTime>,
}

impl RingKey {
    fn new(secret: &SecretString) -> Self {
        let bytes = secret.expose_secret().as_bytes();
        Self {
            decoding: DecodingKey::from_secret(bytes),
            invites: derive(bytes, b"invite-codes/v1"),
            tokens_until: None,
            invites_until: None,
        }
    }
}

fn open(until: Option<OffsetDateTime>, now: OffsetDateTime) -> bool {
    until.is_none_or(|until| now < until)
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("ttl", &self.ttl)
            .field("verifying_keys", &self.ring.len())
            .finish_non_exhaustive()
    }
}

impl TokenKeys {
    pub fn new(secret: &SecretString, issuer: &str, audience: &str, ttl: Duration) -> Self {
        let bytes = secret.expose_secret().as_bytes();
        // Exactly one algorithm: a token claiming any other (none, RS256 with the secret as a
        // "public key", HS512, ...) is refused before its signature is looked at.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&REQUIRED);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY.as_secs();
        Self {
            encoding: EncodingKey::from_secret(bytes),
            ring: vec![RingKey::new(secret)],
            validation,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            ttl,
        }
    }

    /// Also verifies with `secret`, the key the next rotation signs with.
    pub fn with_next(mut self, secret: &SecretString) -> Self {
        self.ring.push(RingKey::new(secret));
        self
    }

    /// Also verifies with `secret`, the key that signed before the last rotation: access tokens
    /// until `until`, invite codes (which live longer) until `until` plus their longest life.
    pub fn with_previous(mut self, secret: &SecretString, until: OffsetDateTime) -> Self {
        let invites_until = until + time::Duration::hours(MAX_INVITE_TTL_HOURS);
        self.ring.push(RingKey {
            tokens_until: Some(until),
            invites_until: Some(invites_until),
            ..RingKey::new(secret)
        });
        self
    }

    /// A fresh token for `who`, with its claims.
    pub fn issue(&self, who: Subject) -> Result<(String, Claims), TokenError> {
        let now = jsonwebtoken::get_current_timestamp();
        let sub = match &who {
            Subject::PlatformAdmin => "platform-admin".to_owned(),
            Subject::Guest { user, .. } => user.to_string(),
        };
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            typ: ACCESS_TYP.to_owned(),
            sub,
            jti: Uuid::new_v4().to_string(),
            iat: now,
            nbf: now,
            exp: now + self.ttl.as_secs(),
            who,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| TokenError::Invalid(e.to_string()))?;
        Ok((token, claims))
    }

    /// Checks a token's signature (against each key of the ring whose window is open) and
    /// every claim. Revocation is checked by the caller ([`super::denylist`]), which needs Redis.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let now = OffsetDateTime::now_utc();
        let mut refused = TokenError::Invalid("InvalidSignature".to_owned());
        for key in self.ring.iter().filter(|k| open(k.tokens_until, now)) {
            match jsonwebtoken::decode::<Claims>(token, &key.decoding, &self.validation) {
                Ok(data) => return checked(data.claims),
                // Signed with another key of the ring, perhaps: try the next one.
                Err(e) if matches!(e.kind(), ErrorKind::InvalidSignature) => {
                    refused = TokenError::Invalid(e.to_string());
                }
                Err(e) => return Err(TokenError::Invalid(e.to_string())),
            }
        }
        Err(refused)
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The MAC of an invite code's body, truncated to [`INVITE_MAC_LEN`] bytes.
    pub fn invite_mac(&self, body: &[u8]) -> [u8; INVITE_MAC_LEN] {
        // The ring starts with the current key (`new`), which mints every code.
        let full = mac(&self.ring[0].invites).chain_update(body).finalize().into_bytes();
        let mut out = [0u8; INVITE_MAC_LEN];
        out.copy_from_slice(&full[..INVITE_MAC_LEN]);
        out
    }

    /// Whether `tag` is the MAC of `body` under a key of the ring whose window is open
    /// (compared in constant time).
    pub fn invite_mac_matches(&self, body: &[u8], tag: &[u8]) -> bool {
        let now = OffsetDateTime::now_utc();
        self.ring
            .iter()
            .filter(|k| open(k.invites_until, now))
            .any(|k| mac(&k.invites).chain_update(body).verify_truncated_left(tag).is_ok())
    }
}

fn checked(claims: Claims) -> Result<Claims, TokenError> {
    if claims.typ != ACCESS_TYP {
        return Err(TokenError::WrongType);
    }
    if claims.jti.trim().is_empty() {
        return Err(TokenError::MissingJti);
    }
    Ok(claims)
}

/// Bytes of an invite code's MAC: 128 bits, past any guessing.
pub const INVITE_MAC_LEN: usize = 16;

fn mac(key: &[u8]) -> Hmac<Sha256> {
    // HMAC takes a key of any length; this cannot fail.
    <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC accepts any key length"))
}

/// A key for one purpose from the shared secret (HMAC as a PRF), so a MAC of one kind never
/// verifies as another.
fn derive(secret: &[u8], purpose: &[u8]) -> [u8; 32] {
    mac(secret).chain_update(purpose).finalize().into_bytes().into()
}
