//! Image signatures: verify cosign signatures of the images an environment deploys.
//!
//! `trust` turns the manifest's signing identity (or cosign-spelled flags) into a
//! [`TrustPolicy`]; `verify` fetches signatures from the registry with the `sigstore` crate and
//! applies the policy, failing closed; `payload` holds the per-signature checks (payload type,
//! digest, signature) that the crate leaves to its callers.

pub mod payload;
pub mod trust;
pub mod verify;

pub use trust::TrustPolicy;
pub use verify::{RegistryOptions, Verified, VerifyError, verify_image};
