//! The committed Kubernetes objects of an environment against the cluster's. Only what the
//! committed object says is compared: fields the server adds (status, managedFields, uid,
//! defaults, Argo CD's tracking labels) are not drift. Secret data is compared by digest and
//! shown as "(secret value)".

use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};

use super::objects::{Leaves, ObjectKey, Objects, leaves};
use crate::cluster::ClusterError;

/// A committed field the cluster does not have as committed (or a whole missing object).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Drift {
    pub object: ObjectKey,
    /// Leaf path, or [`super::compare::PRESENCE`] for an object the cluster lacks.
    pub path: String,
    pub committed: Option<String>,
    pub live: Option<String>,
}

/// The committed objects the cluster should hold: every Kubernetes object of the tree except
/// Kustomize's own configuration and the Kyverno test cases (samples, never applied).
pub fn applied(objects: &Objects) -> Vec<(&ObjectKey, &Leaves)> {
    objects
        .0
        .iter()
        .filter(|(key, _)| key.kind.is_some() && key.name.is_some())
        .filter(|(key, _)| key.kind.as_deref() != Some("Kustomization") && !key.file.starts_with("policies/tests/"))
        .collect()
}

/// Compares each applied object with the cluster's copy, read through `client`.
pub async fn drift(client: &kube::Client, objects: &Objects) -> Result<(usize, Vec<Drift>), ClusterError> {
    let applied = applied(objects);
    let mut drifts = Vec::new();
    for (key, committed) in &applied {
        let live = fetch(client, key, committed).await?;
        let Some(live) = live else {
            drifts.push(Drift {
                object: (*key).clone(),
                path: super::compare::PRESENCE.into(),
                committed: Some("present".into()),
                live: None,
            });
            continue;
        };
        for (path, value) in committed.iter() {
            let live_value = live.get(path);
            if live_value != Some(value) {
                drifts.push(Drift {
                    object: (*key).clone(),
                    path: path.clone(),
                    committed: Some(value.clone()),
                    live: live_value.cloned(),
                });
            }
        }
    }
    Ok((applied.len(), drifts))
}

/// The live object's leaves, or `None` if the cluster has no such object.
async fn fetch(client: &kube::Client, key: &ObjectKey, committed: &Leaves) -> Result<Option<Leaves>, ClusterError> {
    let api_version: String = committed
        .get("apiVersion")
        .and_then(|v| serde_json::from_str(v).ok())
        .unwrap_or_default();
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version.as_str()));
    let gvk = GroupVersionKind::gvk(group, version, key.kind.as_deref().unwrap_or_default());
    let resource = ApiResource::from_gvk(&gvk);
    let api: Api<DynamicObject> = match &key.namespace {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &resource),
        None => Api::all_with(client.clone(), &resource),
    };
    let name = key.name.as_deref().unwrap_or_default();
    let object = api
        .get_opt(name)
        .await
        .map_err(|e| crate::cluster::api_error(e, "get", &key.to_string()))?;
    Ok(object.map(|o| leaves(&serde_json::to_value(o).unwrap_or_default(), key.is_secret())))
}
