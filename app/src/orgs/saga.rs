//! The org creation saga. Each step is its own transaction and moves `saga_step` forward only
//! from the step it expects, under a lease (`lease_until`) that says which replica drives it. A
//! failing step is compensated (gate released, defaults removed) and the org ends `FAILED`; a
//! crash leaves the org `PENDING` with a lease that runs out, and [`Saga::recover_once`] (run by
//! every replica on a timer) resumes it.

use std::time::Duration;

use redis::aio::ConnectionManager;
use sqlx::PgPool;
use uuid::Uuid;

use super::gate::IsolationGate;
use super::idempotency;
use super::org::{Org, OrgStatus, Step};
use crate::configs::{catalog, rows, sync};
use crate::db::{self, Tenant};
use crate::domain::Slug;

/// What a [`SagaProbe`] makes happen right after a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Injected {
    /// The next action fails: the saga compensates.
    Fail,
    /// The process "dies": the saga stops where it is, as a crash would leave it.
    Crash,
}

/// A seam for fault injection; production uses [`NoProbe`].
pub trait SagaProbe: Send + Sync {
    fn after(&self, org: Uuid, step: Step) -> Option<Injected>;
}

#[derive(Debug, Default)]
pub struct NoProbe;

impl SagaProbe for NoProbe {
    fn after(&self, _org: Uuid, _step: Step) -> Option<Injected> {
        None
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SagaError {
    #[error("the slug {0:?} is taken by another org")]
    SlugTaken(String),
    #[error("the saga stopped (injected crash) at {0:?}")]
    Crashed(Step),
    #[error("the isolation gate could not be released ({0}); the org stays PENDING and recovery retries")]
    GateRelease(String),
    #[error("the stored org has a slug that is not one ({0})")]
    StoredSlug(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Everything a saga run needs.
pub struct Saga<'a> {
    pub db: &'a PgPool,
    pub redis: &'a ConnectionManager,
    pub gate: &'a dyn IsolationGate,
    pub probe: &'a dyn SagaProbe,
    /// How long a driver owns a PENDING org before recovery may take over.
    pub lease: Duration,
}

impl std::fmt::Debug for Saga<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Saga")
            .field("gate", &self.gate)
            .field("lease", &self.lease)
            .finish_non_exhaustive()
    }
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(sqlx::error::DatabaseError::is_unique_violation)
}

impl Saga<'_> {
    fn lease_secs(&self) -> f64 {
        self.lease.as_secs_f64()
    }

    /// Step 1, in the same transaction as the idempotency record: the org exists, PENDING.
    pub async fn create(
        &self,
        id: Uuid,
        slug: &Slug,
        name: &str,
        key: &idempotency::Claimed,
    ) -> Result<Org, SagaError> {
        let mut tx = db::begin(self.db, Tenant::org(id)).await?;
        let inserted = Org::insert(&mut tx, id, slug.as_str(), name, self.lease_secs()).await;
        let org = match inserted {
            Ok(org) => org,
            Err(e) if is_unique_violation(&e) => return Err(SagaError::SlugTaken(slug.to_string())),
            Err(e) => return Err(e.into()),
        };
        key.link(&mut tx, id).await?;
        tx.commit().await?;
        match self.probe.after(id, Step::Created) {
            None => Ok(org),
            Some(Injected::Crash) => Err(SagaError::Crashed(Step::Created)),
            Some(Injected::Fail) => self.compensate(id, slug, "injected failure after Created").await,
        }
    }

    /// Runs the org's remaining steps; ends COMMITTED or FAILED (compensated).
    pub async fn drive(&self, mut org: Org) -> Result<Org, SagaError> {
        loop {
            let step = org.saga_step;
            if org.status != OrgStatus::Pending || matches!(step, Step::Committed | Step::Compensated) {
                return Ok(org);
            }
            let slug = Slug::try_from(org.slug.clone()).map_err(SagaError::StoredSlug)?;
            let advanced = match step {
                Step::Created => self.apply_defaults(org.id).await.map_err(|e| e.to_string()),
                Step::DefaultsApplied => self.gate.isolate(org.id, &slug).await.map_err(|e| e.to_string()),
                Step::Isolated => Ok(()),
                Step::Committed | Step::Compensated => unreachable!("returned above"),
            };
            let next = match step {
                Step::Created => Step::DefaultsApplied,
                Step::DefaultsApplied => Step::Isolated,
                _ => Step::Committed,
            };
            let result: Result<(), String> = match advanced {
                Ok(()) => match self.advance(org.id, step, next).await? {
                    Some(moved) => {
                        org = moved;
                        match self.probe.after(org.id, next) {
                            None => continue,
                            Some(Injected::Crash) => return Err(SagaError::Crashed(next)),
                            // Committing is the point of no return: nothing after it undoes it.
                            Some(Injected::Fail) if next == Step::Committed => return Ok(org),
                            Some(Injected::Fail) => Err(format!("injected failure after {next:?}")),
                        }
                    }
                    // Another driver moved it on: it owns the rest.
                    None => return Ok(self.load(org.id).await?.unwrap_or(org)),
                },
                Err(reason) => Err(reason),
            };
            if let Err(reason) = result {
                tracing::warn!(org = %org.id, %reason, "org saga failed; compensating");
                return self.compensate(org.id, &slug, &reason).await;
            }
        }
    }

    async fn apply_defaults(&self, org: Uuid) -> Result<(), sqlx::Error> {
        let mut tx = db::begin(self.db, Tenant::org(org)).await?;
        let mut published = Vec::new();
        for spec in catalog::KEYS {
            let (key, value) = (spec.name(), spec.default_value());
            if let Some(version) = rows::insert_default(&mut tx, org, key, &value).await? {
                published.push((key, version));
            }
        }
        tx.commit().await?;
        for (key, version) in published {
            sync::publish(self.redis, org, key, version).await;
        }
        Ok(())
    }

    async fn advance(&self, org: Uuid, from: Step, to: Step) -> Result<Option<Org>, sqlx::Error> {
        let mut tx = db::begin(self.db, Tenant::org(org)).await?;
        let moved = Org::advance(&mut tx, org, from, to, self.lease_secs()).await?;
        tx.commit().await?;
        Ok(moved)
    }

    /// Undoes every step and marks the org FAILED. Each undo is idempotent, so a compensation
    /// cut short by a crash is simply done again by recovery.
    async fn compensate(&self, org: Uuid, slug: &Slug, reason: &str) -> Result<Org, SagaError> {
        if let Err(e) = self.gate.release(org, slug).await {
            // The org stays PENDING: recovery tries again once the lease runs out.
            tracing::error!(%org, error = %e, "compensation could not release the isolation gate");
            return Err(SagaError::GateRelease(e.to_string()));
        }
        let mut tx = db::begin(self.db, Tenant::org(org)).await?;
        let removed = rows::delete_all(&mut tx, org).await?;
        let failed = Org::fail(&mut tx, org, reason).await?;
        tx.commit().await?;
        for key in removed {
            sync::publish(self.redis, org, &key, 0).await;
        }
        match failed {
            Some(org) => Ok(org),
            None => Ok(self.load(org).await?.ok_or(sqlx::Error::RowNotFound)?),
        }
    }

    async fn load(&self, org: Uuid) -> Result<Option<Org>, sqlx::Error> {
        Org::find(self.db, org).await
    }

    /// Takes over every PENDING org whose lease ran out, drives it to an end, and completes
    /// the idempotency record of the request that started it. Returns how many it finished.
    pub async fn recover_once(&self) -> Result<usize, SagaError> {
        let ids = Org::to_recover(self.db).await?;
        let mut finished = 0;
        for id in ids {
            let mut tx = db::begin(self.db, Tenant::org(id)).await?;
            let claimed = Org::claim_expired(&mut tx, id, self.lease_secs()).await?;
            tx.commit().await?;
            let Some(org) = claimed else { continue };
            tracing::info!(org = %id, step = ?org.saga_step, "recovering an interrupted org saga");
            let org = self.drive(org).await?;
            idempotency::complete_for_org(self.db, &org).await?;
            finished += 1;
        }
        idempotency::settle_stale(self.db, self.lease).await?;
        Ok(finished)
    }
}
