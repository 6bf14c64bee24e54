//! What every handler shares.

use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use redis::aio::ConnectionManager;
use secrecy::SecretString;
use sqlx::PgPool;
use tokio::sync::Semaphore;

use crate::auth::denylist::Denylist;
use crate::auth::token::TokenKeys;
use crate::chat::assistant::Assistant;
use crate::chat::hub::Hub;
use crate::configs::store::ConfigStore;
use crate::ops::metrics::Metrics;
use crate::orgs::gate::IsolationGate;

#[derive(Debug, Clone)]
pub struct AppState(Arc<Inner>);

#[derive(Debug)]
pub struct Inner {
    /// Connections run as `app_runtime`; every query goes through [`crate::db::begin`].
    pub db: PgPool,
    pub redis: ConnectionManager,
    pub tokens: TokenKeys,
    pub admin_token: SecretString,
    pub configs: ConfigStore,
    pub metrics: Arc<Metrics>,
    pub gate: Arc<dyn IsolationGate>,
    pub saga_lease: Duration,
    /// This replica's chat sockets.
    pub hub: Arc<Hub>,
    pub assistant: Assistant,
    /// Guest sign-in transactions running on this replica (see
    /// [`crate::limits::GUEST_SIGN_INS_AT_ONCE`]).
    pub guest_sign_ins: Semaphore,
    /// Whether each Redis subscriber is subscribed now; a replica that would miss config
    /// changes or chat closes is not ready.
    pub config_events: AtomicBool,
    /// Revoked tokens and users (PostgreSQL, with Redis as the fast path).
    pub denylist: Denylist,
    pub chat_events: AtomicBool,
    draining: AtomicBool,
    /// An opaque name for this process, sent on every response (`X-Replica`), so a client
    /// behind a balancer can tell the replicas apart: the UI shows the version each serves.
    pub replica: String,
}

impl AppState {
    pub fn new(
        db: PgPool,
        redis: ConnectionManager,
        tokens: TokenKeys,
        admin_token: SecretString,
        gate: Arc<dyn IsolationGate>,
        saga_lease: Duration,
        assistant: Assistant,
    ) -> Self {
        Self(Arc::new(Inner {
            denylist: Denylist::new(db.clone(), redis.clone()),
            db,
            redis,
            tokens,
            admin_token,
            configs: ConfigStore::default(),
            metrics: Arc::default(),
            gate,
            saga_lease,
            hub: Arc::default(),
            assistant,
            guest_sign_ins: Semaphore::new(crate::limits::GUEST_SIGN_INS_AT_ONCE),
            config_events: AtomicBool::new(false),
            chat_events: AtomicBool::new(false),
            draining: AtomicBool::new(false),
            replica: format!("r-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]),
        }))
    }

    /// From now on `/readyz` says 503, so the load balancer stops sending new requests.
    pub fn start_draining(&self) {
        self.0.draining.store(true, Ordering::Release);
    }

    pub fn is_draining(&self) -> bool {
        self.0.draining.load(Ordering::Acquire)
    }

    /// Both subscribers are subscribed.
    pub fn is_subscribed(&self) -> bool {
        self.0.config_events.load(Ordering::Acquire) && self.0.chat_events.load(Ordering::Acquire)
    }
}

impl Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// The request metrics layer takes only the metrics it records into, not the whole state.
impl axum::extract::FromRef<AppState> for Arc<Metrics> {
    fn from_ref(state: &AppState) -> Self {
        state.metrics.clone()
    }
}
