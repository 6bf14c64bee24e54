//! `/healthz` (the process answers) and `/readyz` (it can serve: database, Redis, configs
//! warm-loaded, subscribed to Redis, not draining).

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppState;

const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    pub database: bool,
    pub redis: bool,
    /// The warm load of every config has finished.
    pub configs: bool,
    /// The config and chat subscribers are subscribed to Redis (else changes and closes
    /// published now would pass this replica by).
    pub subscribed: bool,
    /// The replica is shutting down.
    pub draining: bool,
}

/// Liveness.
#[utoipa::path(get, path = "/healthz", tag = "ops", responses((status = 200, body = String)))]
pub async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: 200 when every dependency answers and configs are loaded, else 503.
#[utoipa::path(get, path = "/readyz", tag = "ops",
    responses((status = 200, body = Readiness), (status = 503, body = Readiness)))]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let database = async { sqlx::query_scalar!("SELECT 1 AS up").fetch_one(&state.db).await.is_ok() };
    let redis = async {
        let mut conn = state.redis.clone();
        redis::cmd("PING").query_async::<String>(&mut conn).await.is_ok()
    };
    let (database, redis) = tokio::join!(
        async { tokio::time::timeout(PROBE_TIMEOUT, database).await.unwrap_or(false) },
        async { tokio::time::timeout(PROBE_TIMEOUT, redis).await.unwrap_or(false) },
    );
    let readiness = Readiness {
        database,
        redis,
        configs: state.configs.is_loaded(),
        subscribed: state.is_subscribed(),
        draining: state.is_draining(),
    };
    let ready =
        readiness.database && readiness.redis && readiness.configs && readiness.subscribed && !readiness.draining;
    (
        if ready {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        },
        Json(readiness),
    )
}
