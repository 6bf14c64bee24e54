//! Operability: health and readiness, Prometheus metrics, the OpenAPI document, telemetry.

pub mod health;
pub mod metrics;
pub mod openapi;
pub mod telemetry;
