//! Restarting a Deployment so its pods read their Secrets again, and waiting until every
//! replica runs the new pod template: what `kubectl rollout restart` and `kubectl rollout
//! status` do, through the same API.

use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, Patch, PatchParams};

use super::{ClusterError, api_error};

/// The annotation `kubectl rollout restart` sets; Argo CD's restart action sets it too, so it
/// is not drift.
pub const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";

/// A Deployment by namespace and name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Workload<'a> {
    pub namespace: &'a str,
    pub name: &'a str,
}

impl std::fmt::Display for Workload<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "deployments/{} in namespace {}", self.name, self.namespace)
    }
}

/// Rolls `workload`'s pods (stamping the template with `at`, an RFC 3339 time) and waits until
/// each replica runs the new template, polling every `poll` for at most `timeout`. `false`,
/// with nothing done, when there is no such Deployment: nothing runs that reads the Secret.
pub async fn restart(
    client: &kube::Client,
    workload: Workload<'_>,
    at: &str,
    field_manager: &str,
    timeout: Duration,
    poll: Duration,
) -> Result<bool, ClusterError> {
    let api: Api<Deployment> = Api::namespaced(client.clone(), workload.namespace);
    let what = workload.to_string();
    if api
        .get_opt(workload.name)
        .await
        .map_err(|e| api_error(e, "get", &what))?
        .is_none()
    {
        return Ok(false);
    }
    let patch = serde_json::json!({
        "spec": { "template": { "metadata": { "annotations": { RESTARTED_AT: at } } } }
    });
    let params = PatchParams {
        field_manager: Some(field_manager.to_string()),
        ..PatchParams::default()
    };
    api.patch(workload.name, &params, &Patch::Merge(&patch))
        .await
        .map_err(|e| api_error(e, "patch", &what))?;
    let started = Instant::now();
    loop {
        let deployment = api.get(workload.name).await.map_err(|e| api_error(e, "get", &what))?;
        let progress = Progress::of(&deployment);
        if progress.done() {
            return Ok(true);
        }
        if started.elapsed() >= timeout {
            return Err(ClusterError::Rollout {
                workload: what,
                seconds: timeout.as_secs(),
                progress: progress.to_string(),
            });
        }
        tokio::time::sleep(poll).await;
    }
}

/// Where a rollout stands, as `kubectl rollout status` reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Progress {
    generation: i64,
    observed: i64,
    wanted: i32,
    updated: i32,
    total: i32,
    available: i32,
}

impl Progress {
    fn of(d: &Deployment) -> Self {
        let status = d.status.clone().unwrap_or_default();
        Progress {
            generation: d.metadata.generation.unwrap_or(0),
            observed: status.observed_generation.unwrap_or(0),
            wanted: d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
            updated: status.updated_replicas.unwrap_or(0),
            total: status.replicas.unwrap_or(0),
            available: status.available_replicas.unwrap_or(0),
        }
    }

    /// The controller has seen the new template, every replica runs it, no old pod is left
    /// and each is available.
    fn done(self) -> bool {
        self.observed >= self.generation
            && self.updated == self.wanted
            && self.total == self.wanted
            && self.available == self.wanted
    }
}

impl std::fmt::Display for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.observed < self.generation {
            return write!(f, "the controller has not seen the new template yet");
        }
        write!(
            f,
            "{} of {} replicas updated, {} pods in all, {} available",
            self.updated, self.wanted, self.total, self.available
        )
    }
}
