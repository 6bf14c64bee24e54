//! Start-up and shutdown: connect, bind, run the background loops next to the HTTP server.
//! On shutdown: say not ready and keep serving for the drain, then close the chat sockets
//! (1001), stop accepting, finish what is in flight and stop the loops, all within the grace.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use secrecy::ExposeSecret;
use sqlx::postgres::PgConnectOptions;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::chat::assistant::Assistant;
use crate::chat::subscriber;
use crate::chat::topic::CloseReason;
use crate::configs::sync;
use crate::ops::metrics;
use crate::orgs::gate::{IsolationGate, NoGate};
use crate::orgs::kubernetes::KubernetesGate;
use crate::orgs::saga::{NoProbe, Saga};
use crate::settings::{GateKind, Settings};
use crate::state::AppState;
use crate::{db, routes};

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum StartError {
    #[error("APP_DATABASE_URL is not a valid PostgreSQL URL: {0}")]
    #[diagnostic(help("e.g. postgres://app@db:5432/app?sslmode=require"))]
    DatabaseUrl(#[source] sqlx::Error),
    #[error("cannot connect to PostgreSQL: {0}")]
    #[diagnostic(help(
        "check APP_DATABASE_URL, and that its login role may `SET ROLE app_runtime` (GRANT app_runtime TO <login>)"
    ))]
    Database(#[source] sqlx::Error),
    #[error("APP_REDIS_URL is not a valid Redis URL: {0}")]
    #[diagnostic(help("e.g. rediss://app:<password>@redis:6379"))]
    RedisUrl(#[source] redis::RedisError),
    #[error("cannot read APP_REDIS_CA_FILE {}: {source}", path.display())]
    #[diagnostic(help("mount the CA certificate (PEM) that signs the Redis server's certificate there, or unset it"))]
    RedisCa {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot connect to Redis: {0}")]
    #[diagnostic(help("check APP_REDIS_URL and that Redis is reachable"))]
    Redis(#[source] redis::RedisError),
    #[error("cannot reach the Kubernetes API for the isolation gate: {0}")]
    #[diagnostic(help(
        "APP_ISOLATION_GATE=kubernetes needs the in-cluster ServiceAccount (the chart mounts it) or a kubeconfig"
    ))]
    Kubernetes(#[source] kube::Error),
    #[error("cannot listen on {0}: {1}")]
    #[diagnostic(help(
        "choose free addresses with APP_LISTEN (e.g. 0.0.0.0:8080) and APP_METRICS_LISTEN (e.g. 0.0.0.0:9090)"
    ))]
    Bind(SocketAddr, #[source] std::io::Error),
    #[error("cannot build the HTTP client for the assistant: {0}")]
    #[diagnostic(help("the system's TLS roots or resolver could not be loaded; see the error for which"))]
    Assistant(#[source] reqwest::Error),
}

/// The Redis client, trusting `APP_REDIS_CA_FILE` (alone) where it is set.
fn redis_client(settings: &Settings) -> Result<redis::Client, StartError> {
    let url = settings.redis_url.expose_secret();
    let client = match &settings.redis_ca_file {
        None => redis::Client::open(url),
        Some(path) => {
            let pem = std::fs::read(path).map_err(|source| StartError::RedisCa {
                path: path.clone(),
                source,
            })?;
            redis::Client::build_with_tls(
                url,
                redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(pem),
                },
            )
        }
    };
    client.map_err(StartError::RedisUrl)
}

/// A bound, connected app, ready to run.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    metrics_listener: TcpListener,
    state: AppState,
    redis: redis::Client,
    reconcile_every: Duration,
    recovery_every: Duration,
    drain: Duration,
    grace: Duration,
    header_read_timeout: Duration,
}

impl Application {
    pub async fn build(settings: &Settings) -> Result<Self, StartError> {
        let gate: Arc<dyn IsolationGate> = match settings.isolation_gate {
            GateKind::None => Arc::new(NoGate),
            GateKind::Kubernetes => Arc::new(KubernetesGate::new(
                kube::Client::try_default().await.map_err(StartError::Kubernetes)?,
                Duration::from_secs(settings.isolation_timeout_secs),
                Duration::from_secs(1),
            )),
        };
        Self::build_with_gate(settings, gate).await
    }

    /// Like [`Application::build`] with a given isolation gate.
    pub async fn build_with_gate(settings: &Settings, gate: Arc<dyn IsolationGate>) -> Result<Self, StartError> {
        let options: PgConnectOptions = settings
            .database_url
            .expose_secret()
            .parse()
            .map_err(StartError::DatabaseUrl)?;
        let db = db::runtime_pool(options, settings.database_max_connections)
            .await
            .map_err(StartError::Database)?;
        let redis = redis_client(settings)?;
        // Short timeouts: a request waiting on Redis (the revocation check) fails fast and closed.
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_millis(500)))
            .set_response_timeout(Some(Duration::from_millis(500)))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        let manager = ConnectionManager::new_with_config(redis.clone(), manager_config)
            .await
            .map_err(StartError::Redis)?;
        let listener = TcpListener::bind(settings.listen)
            .await
            .map_err(|e| StartError::Bind(settings.listen, e))?;
        let metrics_listener = TcpListener::bind(settings.metrics_listen)
            .await
            .map_err(|e| StartError::Bind(settings.metrics_listen, e))?;
        let tokens = settings.token_keys();
        let state = AppState::new(
            db,
            manager,
            tokens,
            settings.admin_token.clone(),
            gate,
            Duration::from_secs(settings.saga_lease_secs),
            Assistant::new(settings.assistant_url.clone()).map_err(StartError::Assistant)?,
        );
        state.hub.set_max_sockets_per_user(settings.chat_max_sockets_per_user);
        Ok(Self {
            listener,
            metrics_listener,
            state,
            redis,
            reconcile_every: Duration::from_secs(settings.config_reconcile_secs.max(1)),
            recovery_every: Duration::from_secs(settings.saga_recovery_secs.max(1)),
            drain: Duration::from_secs(settings.shutdown_drain_secs),
            grace: Duration::from_secs(settings.shutdown_grace_secs),
            header_read_timeout: Duration::from_secs(settings.header_read_timeout_secs.max(1)),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// Where `/metrics` is served (a port the ingress does not route).
    pub fn metrics_addr(&self) -> SocketAddr {
        self.metrics_listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    pub fn state(&self) -> AppState {
        self.state.clone()
    }

    /// Serves until `shutdown` resolves, then drains.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), StartError> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let subscriber = tokio::spawn(sync::run(
            self.state.clone(),
            self.redis.clone(),
            self.reconcile_every,
            stop_rx.clone(),
        ));
        let chat = tokio::spawn(subscriber::run(self.state.clone(), self.redis.clone(), stop_rx.clone()));
        let recovery = tokio::spawn(recover_forever(
            self.state.clone(),
            self.recovery_every,
            stop_rx.clone(),
        ));
        let mut metrics_stop = stop_rx;
        let metrics = tokio::spawn(
            axum::serve(self.metrics_listener, metrics::router(self.state.metrics.clone()))
                .with_graceful_shutdown(async move {
                    let _ = metrics_stop.changed().await;
                })
                .into_future(),
        );
        let state = self.state.clone();
        let (drain, grace) = (self.drain, self.grace);
        // Resolves, with the time by which the process must be gone, once the drain is over.
        let drained = async move {
            shutdown.await;
            let deadline = tokio::time::Instant::now() + grace;
            state.start_draining();
            tracing::info!(
                ?drain,
                "shutdown requested: /readyz says 503; serving on while load balancers notice"
            );
            tokio::time::sleep(drain).await;
            let sockets = state.hub.close_where(CloseReason::ShuttingDown, |_| true);
            tracing::info!(sockets, "drained: closing chat sockets, finishing requests in flight");
            deadline
        };
        let deadline = serve(
            self.listener,
            routes::router(self.state.clone()),
            drained,
            self.header_read_timeout,
        )
        .await;
        // Chat sockets are upgraded connections, no longer the HTTP server's: wait for theirs
        // to end (each has sent its close frame, or given up on a peer that does not read).
        // Closing again on each look catches a socket whose upgrade finished after the drain.
        let sockets_gone = async {
            while self.state.hub.connections() > 0 {
                self.state.hub.close_where(CloseReason::ShuttingDown, |_| true);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        };
        if tokio::time::timeout_at(deadline, sockets_gone).await.is_err() {
            tracing::warn!("chat sockets still open at the end of the grace period");
        }
        let _ = stop_tx.send(true);
        let stopped = async {
            let _ = subscriber.await;
            let _ = chat.await;
            let _ = recovery.await;
            let _ = metrics.await;
            self.state.db.close().await;
        };
        if tokio::time::timeout_at(deadline, stopped).await.is_err() {
            tracing::warn!("background loops or database connections still busy at the end of the grace period");
        }
        tracing::info!("stopped");
        Ok(())
    }
}

/// Serves HTTP/1 (WebSocket upgrades included) until `shutdown` resolves with a deadline, then
/// stops accepting and lets every open connection finish its request until that deadline. What
/// `axum::serve` does, with the one setting it lacks: a client must send its headers within
/// `header_read_timeout`. Returns the deadline.
async fn serve(
    listener: TcpListener,
    router: axum::Router,
    shutdown: impl Future<Output = tokio::time::Instant> + Send + 'static,
    header_read_timeout: Duration,
) -> tokio::time::Instant {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    // `stop` tells the connections to finish; every connection task holds a `running` receiver,
    // so `running_tx.closed()` resolves once all have ended.
    let (stop_tx, stop_rx) = watch::channel(());
    let (running_tx, running_rx) = watch::channel(());
    tokio::pin!(shutdown);
    let deadline = loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors and the like: wait a little rather than spin.
                Err(e) => {
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            deadline = &mut shutdown => break deadline,
        };
        let service = hyper_util::service::TowerToHyperService::new(router.clone());
        let http = http.clone();
        let mut stop = stop_rx.clone();
        let running = running_rx.clone();
        tokio::spawn(async move {
            let connection = http
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .with_upgrades();
            tokio::pin!(connection);
            let mut stopping = false;
            loop {
                tokio::select! {
                    result = connection.as_mut() => {
                        if let Err(e) = result {
                            tracing::debug!(error = %e, "connection ended with an error");
                        }
                        break;
                    }
                    _ = stop.changed(), if !stopping => {
                        stopping = true;
                        connection.as_mut().graceful_shutdown();
                    }
                }
            }
            drop(running);
        });
    };
    drop(listener);
    drop(running_rx);
    let _ = stop_tx.send(());
    if tokio::time::timeout_at(deadline, running_tx.closed()).await.is_err() {
        tracing::warn!("requests still in flight at the end of the grace period");
    }
    deadline
}

/// Resumes or fails org sagas a crashed replica left PENDING.
async fn recover_forever(state: AppState, every: Duration, mut stop: watch::Receiver<bool>) {
    let mut timer = tokio::time::interval(every);
    loop {
        tokio::select! {
            _ = timer.tick() => {}
            _ = stop.changed() => return,
        }
        let saga = Saga {
            db: &state.db,
            redis: &state.redis,
            gate: state.gate.as_ref(),
            probe: &NoProbe,
            lease: state.saga_lease,
        };
        match saga.recover_once().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(recovered = n, "recovered interrupted org sagas"),
            Err(e) => tracing::warn!(error = %e, "saga recovery failed; retrying on the next tick"),
        }
    }
}

/// SIGTERM (Kubernetes) or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
