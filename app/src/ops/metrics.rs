//! The app's Prometheus metrics, named as `docs/metrics.md` promises (the contract the
//! platform's alerts and dashboards are written against). Labels never carry tenant data.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use platform_contracts::metrics::{
    self, CHAT_CONNECTIONS, CHAT_DELIVERY, CHAT_FRAMES_DELIVERED, CHAT_FRAMES_REJECTED, CHAT_SLOW_CONSUMERS,
    CONFIG_RELOADS, CONFIG_VERSION, HTTP_REQUEST_DURATION, HTTP_REQUESTS,
};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use crate::configs::store::ConfigStore;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KeyLabels {
    key: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: String,
}

fn latency_histogram() -> Histogram {
    Histogram::new(metrics::latency_buckets_seconds())
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: String,
}

/// Publish → dispatch latency buckets (seconds).
const DELIVERY_BUCKETS: [f64; 10] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0];

#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    chat_connections: Gauge,
    chat_delivered: Counter,
    chat_rejected: Family<ReasonLabels, Counter>,
    chat_slow: Counter,
    chat_delivery: Histogram,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    config_version: Family<KeyLabels, Gauge>,
    config_reloads: Family<ResultLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(latency_histogram);
        let config_version = Family::<KeyLabels, Gauge>::default();
        let config_reloads = Family::<ResultLabels, Counter>::default();
        registry.register(HTTP_REQUESTS.registered_name(), HTTP_REQUESTS.help, requests.clone());
        registry.register_with_unit(
            HTTP_REQUEST_DURATION.registered_name(),
            HTTP_REQUEST_DURATION.help,
            Unit::Seconds,
            latency.clone(),
        );
        registry.register(
            CONFIG_VERSION.registered_name(),
            CONFIG_VERSION.help,
            config_version.clone(),
        );
        registry.register(
            CONFIG_RELOADS.registered_name(),
            CONFIG_RELOADS.help,
            config_reloads.clone(),
        );
        let chat_connections = Gauge::default();
        let chat_delivered = Counter::default();
        let chat_rejected = Family::<ReasonLabels, Counter>::default();
        let chat_slow = Counter::default();
        let chat_delivery = Histogram::new(DELIVERY_BUCKETS);
        registry.register(
            CHAT_CONNECTIONS.registered_name(),
            CHAT_CONNECTIONS.help,
            chat_connections.clone(),
        );
        registry.register(
            CHAT_FRAMES_DELIVERED.registered_name(),
            CHAT_FRAMES_DELIVERED.help,
            chat_delivered.clone(),
        );
        registry.register(
            CHAT_FRAMES_REJECTED.registered_name(),
            CHAT_FRAMES_REJECTED.help,
            chat_rejected.clone(),
        );
        registry.register(
            CHAT_SLOW_CONSUMERS.registered_name(),
            CHAT_SLOW_CONSUMERS.help,
            chat_slow.clone(),
        );
        registry.register_with_unit(
            CHAT_DELIVERY.registered_name(),
            CHAT_DELIVERY.help,
            Unit::Seconds,
            chat_delivery.clone(),
        );
        Self {
            registry,
            chat_connections,
            chat_delivered,
            chat_rejected,
            chat_slow,
            chat_delivery,
            requests,
            latency,
            config_version,
            config_reloads,
        }
    }
}

impl Metrics {
    pub fn config_reload(&self, result: &str) {
        self.config_reloads
            .get_or_create(&ResultLabels {
                result: result.to_owned(),
            })
            .inc();
    }

    /// Raises `key`'s gauge to `version` when that is newer: versions only grow, so one swapped
    /// entry needs no pass over the whole store.
    pub fn config_version_served(&self, key: &str, version: i64) {
        let gauge = self.config_version.get_or_create(&KeyLabels { key: key.to_owned() });
        if gauge.get() < version {
            gauge.set(version);
        }
    }

    /// Recomputes every key's gauge from the store (after reconciliation, which may remove keys).
    pub fn set_config_versions(&self, store: &ConfigStore) {
        for (key, version) in store.max_versions() {
            self.config_version.get_or_create(&KeyLabels { key }).set(version);
        }
    }

    pub fn chat_connected(&self, delta: i64) {
        self.chat_connections.inc_by(delta);
    }

    pub fn chat_delivered(&self, frames: u64) {
        self.chat_delivered.inc_by(frames);
    }

    pub fn chat_rejected(&self, reason: &str) {
        self.chat_rejected
            .get_or_create(&ReasonLabels {
                reason: reason.to_owned(),
            })
            .inc();
    }

    pub fn chat_slow_consumers(&self, count: u64) {
        if count > 0 {
            self.chat_slow.inc_by(count);
        }
    }

    pub fn chat_delivery(&self, seconds: f64) {
        self.chat_delivery.observe(seconds);
    }

    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

/// Counts and times every request by its route template (never the raw path).
pub async fn track(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let method = method_label(request.method()).to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let started = Instant::now();
    let response = next.run(request).await;
    let elapsed = started.elapsed().as_secs_f64();
    metrics
        .latency
        .get_or_create(&RouteLabels {
            method: method.clone(),
            route: route.clone(),
        })
        .observe(elapsed);
    metrics
        .requests
        .get_or_create(&RequestLabels {
            method,
            route,
            status: response.status().as_u16().to_string(),
        })
        .inc();
    response
}

/// The metrics listener's routes: `/metrics` only. It runs on a port of its own so the public
/// router (and the ingress in front of it) never serves it.
pub fn router(metrics: Arc<Metrics>) -> axum::Router {
    axum::Router::new()
        .route("/metrics", axum::routing::get(serve))
        .with_state(metrics)
}

/// The `method` label: the standard methods by name, anything else (hyper accepts any token, of
/// any length) as `OTHER`, so no request can add label values.
fn method_label(method: &Method) -> &'static str {
    const STANDARD: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE",
    ];
    STANDARD
        .into_iter()
        .find(|name| *name == method.as_str())
        .unwrap_or("OTHER")
}

/// `GET /metrics`, in the OpenMetrics text format.
pub async fn serve(State(metrics): State<Arc<Metrics>>) -> Response {
    match metrics.encode() {
        Ok(text) => {
            let mut response = text.into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
            );
            response
        }
        Err(e) => crate::error::ApiError::Internal(format!("metrics encoding: {e}")).into_response(),
    }
}
