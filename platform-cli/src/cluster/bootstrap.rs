//! `platform bootstrap`: after Terraform created the cluster and installed Argo CD, make the
//! Secrets the platform generates (secrets::store::ensure, before anything syncs), apply the
//! AppProject and the root Application (server-side, field manager `platform`) and wait until
//! every Application Argo CD creates from them is Synced and Healthy. Re-running resumes:
//! applying the same objects again changes nothing, and the wait starts over.

use std::time::{Duration, Instant};

use k8s_openapi::api::storage::v1::StorageClass;
use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams};

use super::applications::{AppStatus, NAMESPACE, application_resource, list, project_resource};
use super::{ClusterError, FIELD_MANAGER, MIN_MINOR, api_error};
use crate::manifest::LoadedManifest;
use crate::render;

/// The objects bootstrap applies and the Applications it then expects.
#[derive(Debug, Clone)]
pub struct BootstrapObjects {
    pub project: serde_json::Value,
    pub root: serde_json::Value,
    /// Applications the root creates (one per component).
    pub expected: Vec<String>,
}

/// The environment's project and root, rendered in memory from the manifest.
pub fn objects_for(loaded: &LoadedManifest, env: &str) -> Result<BootstrapObjects, ClusterError> {
    let tree = render::render(loaded, &[env.to_string()]).map_err(|e| ClusterError::Rendered(e.to_string()))?;
    let parse = |path: String| -> Result<serde_json::Value, ClusterError> {
        let bytes = tree
            .files
            .get(&path)
            .ok_or_else(|| ClusterError::Rendered(path.clone()))?;
        yaml_serde::from_slice(bytes).map_err(|_| ClusterError::Rendered(path))
    };
    let prefix = format!("argocd/{env}/apps/");
    let expected = tree
        .files
        .keys()
        .filter_map(|p| p.strip_prefix(&prefix)?.strip_suffix(".yaml").map(str::to_string))
        .collect();
    Ok(BootstrapObjects {
        project: parse(format!("argocd/{env}/project.yaml"))?,
        root: parse(format!("argocd/{env}/root.yaml"))?,
        expected,
    })
}

#[derive(Debug, Clone)]
pub struct Options {
    /// Server-side dry run: the API server validates and admits, nothing is persisted.
    pub dry_run: bool,
    /// Wait for the Applications; off when a person must set a Secret first, since nothing
    /// that reads it can become healthy until then.
    pub wait: bool,
    pub timeout: Duration,
    pub poll: Duration,
}

/// Applies and waits; `progress` sees every poll (for a live table).
pub async fn bootstrap(
    client: &kube::Client,
    objects: &BootstrapObjects,
    options: &Options,
    mut progress: impl FnMut(&[AppStatus]),
) -> Result<Vec<AppStatus>, ClusterError> {
    check_version(client).await?;
    let mut params = PatchParams::apply(FIELD_MANAGER).force();
    params.dry_run = options.dry_run;
    apply(
        client,
        &objects.project,
        &project_resource(),
        "appprojects.argoproj.io",
        &params,
    )
    .await?;
    apply(
        client,
        &objects.root,
        &application_resource(),
        "applications.argoproj.io",
        &params,
    )
    .await?;
    if options.dry_run || !options.wait {
        return Ok(Vec::new());
    }
    let started = Instant::now();
    loop {
        let apps = list(client).await?;
        progress(&apps);
        let missing: Vec<&String> = objects
            .expected
            .iter()
            .filter(|e| !apps.iter().any(|a| &a.name == *e))
            .collect();
        if missing.is_empty() && apps.iter().all(AppStatus::healthy) {
            return Ok(apps);
        }
        if started.elapsed() >= options.timeout {
            let mut unhealthy: Vec<String> = apps
                .iter()
                .filter(|a| !a.healthy())
                .map(|a| {
                    let why = if a.messages.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", a.messages.join("; "))
                    };
                    format!("  {} (wave {}) is {}/{}{why}", a.name, a.sync_wave, a.sync, a.health)
                })
                .collect();
            unhealthy.extend(
                missing
                    .iter()
                    .map(|m| format!("  {m} was not created by the root application")),
            );
            return Err(ClusterError::Timeout {
                seconds: options.timeout.as_secs(),
                unhealthy,
            });
        }
        tokio::time::sleep(options.poll).await;
    }
}

/// The annotation that makes a StorageClass the one a PersistentVolumeClaim without a class gets.
const DEFAULT_CLASS: &str = "storageclass.kubernetes.io/is-default-class";

/// The platform's PersistentVolumeClaims (PostgreSQL, Prometheus, Alertmanager, Loki, Tempo,
/// Valkey) name no class: without a default StorageClass every one stays Pending and nothing
/// that stores data starts. EKS (the EBS CSI add-on, from Terraform), AKS and GKE have one; a
/// kubeadm cluster has none until someone installs a provisioner.
pub async fn check_storage_class(client: &kube::Client) -> Result<(), ClusterError> {
    let classes: Api<StorageClass> = Api::all(client.clone());
    let list = classes
        .list(&ListParams::default())
        .await
        .map_err(|e| api_error(e, "list", "storageclasses.storage.k8s.io"))?;
    let is_default = |c: &StorageClass| {
        c.metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(DEFAULT_CLASS))
            .is_some_and(|v| v == "true")
    };
    if list.items.iter().any(is_default) {
        return Ok(());
    }
    Err(ClusterError::NoDefaultStorageClass {
        classes: list.items.iter().filter_map(|c| c.metadata.name.clone()).collect(),
    })
}

pub async fn check_version(client: &kube::Client) -> Result<(), ClusterError> {
    let info = client
        .apiserver_version()
        .await
        .map_err(|e| ClusterError::Unreachable(e.to_string()))?;
    // Managed clusters report minors such as "31+".
    let minor: u32 = info.minor.trim_end_matches('+').parse().unwrap_or(0);
    if info.major != "1" || minor < MIN_MINOR {
        return Err(ClusterError::UnsupportedVersion {
            version: format!("{}.{}", info.major, info.minor),
        });
    }
    Ok(())
}

async fn apply(
    client: &kube::Client,
    object: &serde_json::Value,
    resource: &kube::api::ApiResource,
    kind: &str,
    params: &PatchParams,
) -> Result<(), ClusterError> {
    let name = object["metadata"]["name"]
        .as_str()
        .ok_or_else(|| ClusterError::Rendered(format!("{kind} without a name")))?;
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), NAMESPACE, resource);
    api.patch(name, params, &Patch::Apply(object))
        .await
        .map_err(|e| api_error(e, "apply", &format!("{kind}/{name}")))?;
    Ok(())
}
