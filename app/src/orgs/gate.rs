//! The isolation gate: what must hold in the cluster before an org may be committed (its
//! namespace, default-deny NetworkPolicy and `isolation-ready=true` label). Both calls are
//! idempotent, since a recovered saga may repeat them.

use std::future::Future;
use std::pin::Pin;

use uuid::Uuid;

use crate::domain::Slug;

pub type GateFuture<'a> = Pin<Box<dyn Future<Output = Result<(), GateError>> + Send + 'a>>;

#[derive(Debug, thiserror::Error)]
#[error("isolation gate: {0}")]
pub struct GateError(pub String);

pub trait IsolationGate: Send + Sync + std::fmt::Debug {
    /// Makes the org's isolation ready, or says why it is not.
    fn isolate<'a>(&'a self, org: Uuid, slug: &'a Slug) -> GateFuture<'a>;
    /// Undoes [`IsolationGate::isolate`]; nothing to undo is success.
    fn release<'a>(&'a self, org: Uuid, slug: &'a Slug) -> GateFuture<'a>;
}

/// No cluster to isolate in (local runs, tests): the gate passes.
#[derive(Debug, Default)]
pub struct NoGate;

impl IsolationGate for NoGate {
    fn isolate<'a>(&'a self, _org: Uuid, _slug: &'a Slug) -> GateFuture<'a> {
        Box::pin(async { Ok(()) })
    }

    fn release<'a>(&'a self, _org: Uuid, _slug: &'a Slug) -> GateFuture<'a> {
        Box::pin(async { Ok(()) })
    }
}
