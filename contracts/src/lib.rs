//! What `platform` and the app agree on, defined once: the labels the app's isolation gate puts
//! on a tenant namespace and the rendered Kyverno policies select on ([`tenancy`]), the app's
//! metrics that the rendered alerts and dashboards query ([`metrics`]), and the app's
//! token-signing key ring that `platform secrets rotate` writes ([`signing_keys`]). No
//! dependencies, so both crates build on it and no test has to keep two copies in step.

pub mod metrics;
pub mod signing_keys;
pub mod tenancy;
