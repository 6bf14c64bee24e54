//! The Kubernetes isolation gate (`APP_ISOLATION_GATE=kubernetes`): an org is committed only
//! once its namespace `org-<slug>` exists with the tenant labels, Kyverno's generate rule
//! (`policies/<env>/tenant-network-isolation.yaml`) has put the default-deny NetworkPolicy in
//! it, and the namespace says `isolation-ready=true`. Compensation deletes the namespace.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::api::{Api, DeleteParams, ObjectMeta, Patch, PatchParams, Preconditions};
use platform_contracts::tenancy::{DEFAULT_DENY, ISOLATION_READY_LABEL, ORG_LABEL, TENANT_LABEL};
use uuid::Uuid;

use super::gate::{GateError, GateFuture, IsolationGate};
use crate::domain::Slug;

/// The org's id, so a namespace of an earlier org with the same slug is never adopted.
pub const ORG_ID_ANNOTATION: &str = "platform/org-id";
pub const FIELD_MANAGER: &str = "app-isolation-gate";

#[derive(Clone)]
pub struct KubernetesGate {
    client: kube::Client,
    /// How long to wait for the default-deny NetworkPolicy.
    timeout: Duration,
    poll: Duration,
}

impl std::fmt::Debug for KubernetesGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubernetesGate")
            .field("timeout", &self.timeout)
            .field("poll", &self.poll)
            .finish_non_exhaustive()
    }
}

pub fn namespace_of(slug: &Slug) -> String {
    format!("org-{slug}")
}

/// What a failed call means, with what to do about it.
fn explain(action: &str, error: kube::Error) -> GateError {
    match error {
        kube::Error::Api(status) if status.code == 403 => GateError(format!(
            "the app's ServiceAccount may not {action}: {}; grant it in the chart's RBAC (helm/charts/app/templates/rbac.yaml)",
            status.message
        )),
        kube::Error::Api(status) => GateError(format!("{action} failed: {} ({})", status.message, status.code)),
        other => GateError(format!("{action} failed: {other}")),
    }
}

fn is_not_found(error: &kube::Error) -> bool {
    matches!(error, kube::Error::Api(status) if status.code == 404)
}

/// The default-deny policy: every pod selected, both directions restricted.
fn denies_all(policy: &NetworkPolicy) -> bool {
    policy.spec.as_ref().is_some_and(|spec| {
        let every_pod = spec.pod_selector.as_ref().is_none_or(|s| {
            s.match_labels.as_ref().is_none_or(BTreeMap::is_empty)
                && s.match_expressions.as_ref().is_none_or(Vec::is_empty)
        });
        let types = spec.policy_types.as_deref().unwrap_or_default();
        every_pod && types.iter().any(|t| t == "Ingress") && types.iter().any(|t| t == "Egress")
    })
}

impl KubernetesGate {
    pub fn new(client: kube::Client, timeout: Duration, poll: Duration) -> Self {
        Self { client, timeout, poll }
    }

    /// The namespace as this gate owns it; `ready` adds the `isolation-ready` label.
    fn desired(org: Uuid, slug: &Slug, ready: bool) -> Namespace {
        let mut labels = BTreeMap::from([
            (TENANT_LABEL.to_owned(), "true".to_owned()),
            (ORG_LABEL.to_owned(), slug.to_string()),
        ]);
        if ready {
            labels.insert(ISOLATION_READY_LABEL.to_owned(), "true".to_owned());
        }
        Namespace {
            metadata: ObjectMeta {
                name: Some(namespace_of(slug)),
                labels: Some(labels),
                annotations: Some(BTreeMap::from([(ORG_ID_ANNOTATION.to_owned(), org.to_string())])),
                ..ObjectMeta::default()
            },
            ..Namespace::default()
        }
    }

    async fn isolate_now(&self, org: Uuid, slug: &Slug) -> Result<(), GateError> {
        let name = namespace_of(slug);
        let namespaces: Api<Namespace> = Api::all(self.client.clone());
        if let Some(existing) = namespaces
            .get_opt(&name)
            .await
            .map_err(|e| explain("read namespaces", e))?
        {
            let owner = existing
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(ORG_ID_ANNOTATION));
            if owner.is_none_or(|id| *id != org.to_string()) {
                return Err(GateError(format!(
                    "namespace {name} already exists and does not belong to this org (annotation {ORG_ID_ANNOTATION}: {}); \
                     delete it or choose another slug",
                    owner.map_or("none", String::as_str)
                )));
            }
            if existing.metadata.deletion_timestamp.is_some() {
                return Err(GateError(format!(
                    "namespace {name} is still being deleted; retry once it is gone"
                )));
            }
        }
        let apply = PatchParams::apply(FIELD_MANAGER).force();
        namespaces
            .patch(&name, &apply, &Patch::Apply(Self::desired(org, slug, false)))
            .await
            .map_err(|e| explain("create namespaces", e))?;

        let policies: Api<NetworkPolicy> = Api::namespaced(self.client.clone(), &name);
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            let policy = policies
                .get_opt(DEFAULT_DENY)
                .await
                .map_err(|e| explain("read networkpolicies", e))?;
            if policy.as_ref().is_some_and(denies_all) {
                break;
            }
            if tokio::time::Instant::now() + self.poll > deadline {
                return Err(GateError(format!(
                    "the {DEFAULT_DENY} NetworkPolicy did not appear in namespace {name} within {:?}; check that Kyverno \
                     runs the tenant-network-isolation policy",
                    self.timeout
                )));
            }
            tokio::time::sleep(self.poll).await;
        }
        namespaces
            .patch(&name, &apply, &Patch::Apply(Self::desired(org, slug, true)))
            .await
            .map_err(|e| explain("label namespaces", e))?;
        Ok(())
    }

    /// Deletes the namespace only if it is this org's: a gate that refused another org's
    /// namespace must not delete it while compensating. The uid precondition makes the check
    /// and the delete one step.
    async fn release_now(&self, org: Uuid, slug: &Slug) -> Result<(), GateError> {
        let name = namespace_of(slug);
        let namespaces: Api<Namespace> = Api::all(self.client.clone());
        let Some(existing) = namespaces
            .get_opt(&name)
            .await
            .map_err(|e| explain("read namespaces", e))?
        else {
            return Ok(());
        };
        let ours = existing
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(ORG_ID_ANNOTATION))
            == Some(&org.to_string());
        if !ours {
            return Ok(());
        }
        let params = DeleteParams {
            preconditions: existing.metadata.uid.map(|uid| Preconditions {
                uid: Some(uid),
                resource_version: None,
            }),
            ..DeleteParams::background()
        };
        match namespaces.delete(&name, &params).await {
            Ok(_) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(explain("delete namespaces", e)),
        }
    }
}

impl IsolationGate for KubernetesGate {
    fn isolate<'a>(&'a self, org: Uuid, slug: &'a Slug) -> GateFuture<'a> {
        Box::pin(self.isolate_now(org, slug))
    }

    fn release<'a>(&'a self, org: Uuid, slug: &'a Slug) -> GateFuture<'a> {
        Box::pin(self.release_now(org, slug))
    }
}
