//! Twelve-factor settings: defaults, then an optional TOML file (`APP_CONFIG_FILE`), then
//! `APP_*` environment variables, the last one winning. Secrets are [`SecretString`]s, so
//! neither `Debug` nor a log line can print them.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use time::OffsetDateTime;

use crate::auth::token::TokenKeys;
use crate::limits::MAX_TOKEN_TTL;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum SettingsError {
    #[error("invalid settings: {0}")]
    #[diagnostic(help(
        "settings come from APP_* environment variables (e.g. APP_DATABASE_URL) and the optional \
         TOML file named by APP_CONFIG_FILE; every setting is listed in docs/app.md"
    ))]
    Load(#[source] Box<figment::Error>),
    #[error("APP_JWT_SECRET is {0} bytes long; it must be at least 32")]
    #[diagnostic(help("generate one with `openssl rand -base64 48` and store it in the app-jwt Secret"))]
    WeakJwtSecret(usize),
    #[error("{var} is {len} bytes long; it must be at least 32")]
    #[diagnostic(help(
        "a key of the app-jwt Secret's ring is as long as APP_JWT_SECRET; `platform secrets rotate` writes them"
    ))]
    WeakRingKey { var: &'static str, len: usize },
    #[error("APP_JWT_PREVIOUS_SECRET and APP_JWT_PREVIOUS_UNTIL come together; only {0} is set")]
    #[diagnostic(help(
        "a retired key verifies only until a given time: set both (the app-jwt keys `previous` and \
         `previous-until`, RFC 3339) or neither"
    ))]
    PreviousKeyWindow(&'static str),
    #[error("APP_TOKEN_TTL_SECS is {0}; access tokens may live at most 900 seconds")]
    #[diagnostic(help("short-lived tokens keep a revoked or stolen token useful for minutes at most"))]
    TokenTtl(u64),
    #[error("APP_ADMIN_TOKEN is {0} bytes long; it must be at least 24")]
    #[diagnostic(help("generate one with `openssl rand -base64 32` and store it in the app-admin Secret"))]
    WeakAdminToken(usize),
    #[error("APP_SHUTDOWN_DRAIN_SECS is {drain}, not less than APP_SHUTDOWN_GRACE_SECS ({grace})")]
    #[diagnostic(help(
        "the grace period includes the drain and then closing sockets and finishing requests; \
         e.g. a drain of 5 and a grace of 20"
    ))]
    Shutdown { drain: u64, grace: u64 },
}

/// How org namespaces are isolated before an org is committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GateKind {
    /// No cluster: the gate passes at once (local runs and tests).
    None,
    /// The org's namespace, with Kyverno's default-deny NetworkPolicy, before commit.
    Kubernetes,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Json,
    Text,
}

#[derive(Debug, Deserialize)]
pub struct Settings {
    #[serde(default = "defaults::listen")]
    pub listen: SocketAddr,
    /// Where `/metrics` is served: a port of its own, which the ingress does not route.
    #[serde(default = "defaults::metrics_listen")]
    pub metrics_listen: SocketAddr,
    /// How long a client may take to send a request's headers before the connection is closed
    /// (a slow-headers client otherwise holds a connection open for as long as it likes).
    #[serde(default = "defaults::header_read_timeout_secs")]
    pub header_read_timeout_secs: u64,
    /// Chat sockets one user may hold on one replica (the fan-out benchmark raises it: its
    /// clients are one user).
    #[serde(default = "defaults::chat_max_sockets_per_user")]
    pub chat_max_sockets_per_user: usize,
    /// The login role must be allowed to `SET ROLE app_runtime`.
    pub database_url: SecretString,
    #[serde(default = "defaults::database_max_connections")]
    pub database_max_connections: u32,
    pub redis_url: SecretString,
    /// PEM file of the CA that signs the Redis (Valkey) server's certificate, for a `rediss://`
    /// server the system's trust store does not know: the platform's own CA in a cluster.
    #[serde(default)]
    pub redis_ca_file: Option<PathBuf>,
    pub jwt_secret: SecretString,
    /// During a rotation: the key that signs next, which every replica verifies with before any
    /// replica signs with it.
    #[serde(default)]
    pub jwt_next_secret: Option<SecretString>,
    /// After a rotation: the key that signed before it, which verifies what it signed until
    /// `jwt_previous_until` (RFC 3339).
    #[serde(default)]
    pub jwt_previous_secret: Option<SecretString>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub jwt_previous_until: Option<OffsetDateTime>,
    /// The platform-admin credential, exchanged for a short-lived token.
    pub admin_token: SecretString,
    #[serde(default = "defaults::issuer")]
    pub jwt_issuer: String,
    #[serde(default = "defaults::audience")]
    pub jwt_audience: String,
    #[serde(default = "defaults::token_ttl_secs")]
    pub token_ttl_secs: u64,
    #[serde(default = "defaults::log_format")]
    pub log_format: LogFormat,
    #[serde(default = "defaults::reconcile_secs")]
    pub config_reconcile_secs: u64,
    #[serde(default = "defaults::recovery_secs")]
    pub saga_recovery_secs: u64,
    #[serde(default = "defaults::lease_secs")]
    pub saga_lease_secs: u64,
    #[serde(default = "defaults::gate")]
    pub isolation_gate: GateKind,
    /// The mock AI's base URL (internal HTTP); chat works without it.
    #[serde(default)]
    pub assistant_url: Option<String>,
    /// How long the Kubernetes gate waits for the default-deny NetworkPolicy.
    #[serde(default = "defaults::isolation_timeout_secs")]
    pub isolation_timeout_secs: u64,
    /// After SIGTERM: how long the replica keeps serving while `/readyz` says 503, so load
    /// balancers stop sending before it stops listening.
    #[serde(default = "defaults::drain_secs")]
    pub shutdown_drain_secs: u64,
    /// After SIGTERM: when the process has exited at the latest, the drain included.
    #[serde(default = "defaults::shutdown_secs")]
    pub shutdown_grace_secs: u64,
}

mod defaults {
    use super::{GateKind, LogFormat};
    use std::net::SocketAddr;

    pub fn listen() -> SocketAddr {
        SocketAddr::from(([0, 0, 0, 0], 8080))
    }
    pub fn metrics_listen() -> SocketAddr {
        SocketAddr::from(([0, 0, 0, 0], 9090))
    }
    pub fn header_read_timeout_secs() -> u64 {
        10
    }
    pub fn chat_max_sockets_per_user() -> usize {
        crate::limits::MAX_SOCKETS_PER_USER
    }
    pub fn database_max_connections() -> u32 {
        16
    }
    pub fn issuer() -> String {
        "app".to_owned()
    }
    pub fn audience() -> String {
        "app-api".to_owned()
    }
    pub fn token_ttl_secs() -> u64 {
        15 * 60
    }
    pub fn log_format() -> LogFormat {
        LogFormat::Json
    }
    pub fn reconcile_secs() -> u64 {
        5 * 60
    }
    pub fn recovery_secs() -> u64 {
        30
    }
    pub fn lease_secs() -> u64 {
        60
    }
    pub fn gate() -> GateKind {
        GateKind::None
    }
    pub fn isolation_timeout_secs() -> u64 {
        30
    }
    pub fn drain_secs() -> u64 {
        5
    }
    pub fn shutdown_secs() -> u64 {
        20
    }
}

impl Settings {
    /// Reads the settings of this process: `APP_CONFIG_FILE` (if set), then `APP_*` variables.
    pub fn from_env() -> Result<Self, SettingsError> {
        let file = std::env::var_os("APP_CONFIG_FILE").map(PathBuf::from);
        let mut figment = Figment::new();
        if let Some(file) = file {
            figment = figment.merge(Toml::file_exact(file));
        }
        Self::from_figment(figment.merge(Env::prefixed("APP_").ignore(&["config_file"])))
    }

    /// Extracts and checks settings from any provider stack (tests build their own).
    pub fn from_figment(figment: Figment) -> Result<Self, SettingsError> {
        let settings: Self = figment.extract().map_err(|e| SettingsError::Load(Box::new(e)))?;
        settings.check()?;
        Ok(settings)
    }

    /// The token keys: the current one signs, the ring's others verify.
    pub fn token_keys(&self) -> TokenKeys {
        let mut keys = TokenKeys::new(
            &self.jwt_secret,
            &self.jwt_issuer,
            &self.jwt_audience,
            Duration::from_secs(self.token_ttl_secs),
        );
        if let Some(next) = &self.jwt_next_secret {
            keys = keys.with_next(next);
        }
        if let (Some(previous), Some(until)) = (&self.jwt_previous_secret, self.jwt_previous_until) {
            keys = keys.with_previous(previous, until);
        }
        keys
    }

    fn check(&self) -> Result<(), SettingsError> {
        let secret = self.jwt_secret.expose_secret().len();
        if secret < 32 {
            return Err(SettingsError::WeakJwtSecret(secret));
        }
        let ring = [
            ("APP_JWT_NEXT_SECRET", &self.jwt_next_secret),
            ("APP_JWT_PREVIOUS_SECRET", &self.jwt_previous_secret),
        ];
        for (var, key) in ring {
            let len = key.as_ref().map_or(32, |k| k.expose_secret().len());
            if len < 32 {
                return Err(SettingsError::WeakRingKey { var, len });
            }
        }
        match (&self.jwt_previous_secret, self.jwt_previous_until) {
            (Some(_), None) => return Err(SettingsError::PreviousKeyWindow("APP_JWT_PREVIOUS_SECRET")),
            (None, Some(_)) => return Err(SettingsError::PreviousKeyWindow("APP_JWT_PREVIOUS_UNTIL")),
            _ => {}
        }
        let admin = self.admin_token.expose_secret().len();
        if admin < 24 {
            return Err(SettingsError::WeakAdminToken(admin));
        }
        if self.token_ttl_secs == 0 || Duration::from_secs(self.token_ttl_secs) > MAX_TOKEN_TTL {
            return Err(SettingsError::TokenTtl(self.token_ttl_secs));
        }
        if self.shutdown_drain_secs >= self.shutdown_grace_secs {
            return Err(SettingsError::Shutdown {
                drain: self.shutdown_drain_secs,
                grace: self.shutdown_grace_secs,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use figment::providers::Serialized;
    use serde_json::json;

    use super::*;

    fn load(ring: serde_json::Value) -> Result<Settings, SettingsError> {
        let mut base = json!({
            "database_url": "postgres://localhost/app",
            "redis_url": "redis://localhost",
            "jwt_secret": "a-signing-key-of-at-least-thirty-two-bytes",
            "admin_token": "an-admin-token-of-24-bytes-or-more",
        });
        for (k, v) in ring.as_object().into_iter().flatten() {
            base[k] = v.clone();
        }
        Settings::from_figment(Figment::from(Serialized::defaults(base)))
    }

    #[test]
    fn the_key_ring_is_checked_like_the_signing_key() {
        let message = |ring| load(ring).err().map(|e| e.to_string());
        assert_eq!(
            message(json!({ "jwt_next_secret": "short" })).as_deref(),
            Some("APP_JWT_NEXT_SECRET is 5 bytes long; it must be at least 32")
        );
        assert_eq!(
            message(json!({ "jwt_previous_secret": "the-previous-key-of-at-least-32-bytes" })).as_deref(),
            Some(
                "APP_JWT_PREVIOUS_SECRET and APP_JWT_PREVIOUS_UNTIL come together; only APP_JWT_PREVIOUS_SECRET is set"
            )
        );
        assert_eq!(
            message(json!({ "jwt_previous_until": "2026-12-03T21:00:00Z" })).as_deref(),
            Some(
                "APP_JWT_PREVIOUS_SECRET and APP_JWT_PREVIOUS_UNTIL come together; only APP_JWT_PREVIOUS_UNTIL is set"
            )
        );
        assert!(
            message(json!({ "jwt_previous_secret": "the-previous-key-of-at-least-32-bytes", "jwt_previous_until": "tomorrow" }))
                .is_some_and(|m| m.starts_with("invalid settings")),
            "not RFC 3339"
        );
        let whole = load(json!({
            "jwt_next_secret": "the-next-key-of-at-least-thirty-two-bytes",
            "jwt_previous_secret": "the-previous-key-of-at-least-32-bytes",
            "jwt_previous_until": "2026-12-03T21:00:00Z",
        }));
        assert!(whole.is_ok(), "{:?}", whole.err());
    }
}
