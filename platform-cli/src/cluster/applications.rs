//! Argo CD Applications as `platform` reads them: sync, health, revision, conditions.

use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};
use serde::Serialize;

use super::{ClusterError, api_error};

pub const NAMESPACE: &str = "argocd";

pub fn application_resource() -> ApiResource {
    ApiResource::from_gvk(&GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Application"))
}

pub fn project_resource() -> ApiResource {
    ApiResource::from_gvk(&GroupVersionKind::gvk("argoproj.io", "v1alpha1", "AppProject"))
}

/// One Application's state, as Argo CD reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppStatus {
    pub name: String,
    pub sync_wave: i64,
    pub sync: String,
    pub health: String,
    pub revision: String,
    pub last_sync: String,
    /// Argo CD's own messages: status conditions and the last operation's message.
    pub messages: Vec<String>,
}

impl AppStatus {
    pub fn healthy(&self) -> bool {
        self.sync == "Synced" && self.health == "Healthy"
    }

    fn from_object(o: &DynamicObject) -> Self {
        let status = &o.data["status"];
        let text = |v: &serde_json::Value| v.as_str().unwrap_or("Unknown").to_string();
        let mut messages: Vec<String> = status["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| format!("{}: {}", text(&c["type"]), text(&c["message"])))
            .collect();
        if let Some(m) = status["operationState"]["message"].as_str().filter(|m| !m.is_empty()) {
            messages.push(m.to_string());
        }
        if let Some(m) = status["health"]["message"].as_str().filter(|m| !m.is_empty()) {
            messages.push(m.to_string());
        }
        AppStatus {
            name: o.metadata.name.clone().unwrap_or_default(),
            sync_wave: o
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get("argocd.argoproj.io/sync-wave"))
                .and_then(|w| w.parse().ok())
                .unwrap_or(0),
            sync: text(&status["sync"]["status"]),
            health: text(&status["health"]["status"]),
            revision: status["sync"]["revision"]
                .as_str()
                .map_or("-".into(), |r| r.chars().take(12).collect()),
            last_sync: status["operationState"]["finishedAt"]
                .as_str()
                .unwrap_or("-")
                .to_string(),
            messages,
        }
    }
}

/// Every Application in the Argo CD namespace, in sync-wave order.
pub async fn list(client: &kube::Client) -> Result<Vec<AppStatus>, ClusterError> {
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), NAMESPACE, &application_resource());
    let objects = api
        .list(&ListParams::default())
        .await
        .map_err(|e| api_error(e, "list", "applications.argoproj.io"))?;
    let mut apps: Vec<AppStatus> = objects.items.iter().map(AppStatus::from_object).collect();
    apps.sort_by(|a, b| (a.sync_wave, &a.name).cmp(&(b.sync_wave, &b.name)));
    Ok(apps)
}

/// A fixed-width table of applications, for humans.
pub fn table(apps: &[AppStatus]) -> String {
    let mut out = format!(
        "{:<24} {:>5} {:<10} {:<12} {:<13} {}\n",
        "APPLICATION", "WAVE", "SYNC", "HEALTH", "REVISION", "LAST SYNC"
    );
    for a in apps {
        out.push_str(&format!(
            "{:<24} {:>5} {:<10} {:<12} {:<13} {}\n",
            a.name, a.sync_wave, a.sync, a.health, a.revision, a.last_sync
        ));
    }
    out
}
