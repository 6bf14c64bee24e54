//! What Argo CD says about the source environment: whether every Application is Synced and
//! Healthy at the pins being promoted, and since when those pins have been live (each
//! Application's sync history).

use kube::api::DynamicObject;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::manifest::pins::Pins;
use crate::model::components::Component;

/// The Argo CD Application of the app (its values carry the image and chart pins).
const APP: &str = Component::App.spec().name;

/// The pins a Git revision of the manifest gives the source environment, if the repository has
/// that revision.
pub type PinsAt<'a> = dyn Fn(&str) -> Option<Pins> + 'a;

/// How many Applications are Synced and Healthy, and every way the source falls short.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    pub ready: usize,
    pub total: usize,
    /// Applications not Synced and Healthy, or not at the promoted pins; empty when all are.
    pub problems: Vec<String>,
}

/// Checks the source's Applications against `expected`, the Applications it should run (its
/// resolved components), and the app's and each pinned component's revision against `pins`.
pub fn health(apps: &[DynamicObject], expected: &[&str], pins: &Pins, pins_at: &PinsAt<'_>) -> Health {
    let mut problems: Vec<String> = expected
        .iter()
        .filter(|e| !apps.iter().any(|a| name(a) == **e))
        .map(|e| format!("no Application `{e}`, which the source should run"))
        .collect();
    let mut ready = 0;
    for app in apps {
        let status = &app.data["status"];
        let (sync, health) = (
            status["sync"]["status"].as_str().unwrap_or("Unknown"),
            status["health"]["status"].as_str().unwrap_or("Unknown"),
        );
        if sync == "Synced" && health == "Healthy" {
            ready += 1;
        } else {
            problems.push(format!("{} is {sync} and {health}", name(app)));
        }
    }
    if let Some(app) = apps.iter().find(|a| name(a) == APP) {
        let revision = app.data["status"]["sync"]["revision"].as_str().unwrap_or_default();
        if !carries(pins_at, revision, pins) {
            problems.push(format!(
                "{APP} is synced at {}, a revision that does not carry the pins promoted (or that this clone lacks: git fetch)",
                short(revision)
            ));
        }
    }
    for (component, version) in &pins.components {
        // A pinned component the source does not run (the component table's `needs`) has none.
        let Some(app) = apps.iter().find(|a| name(a) == component.spec().name) else {
            continue;
        };
        if !revisions(&app.data["status"]["sync"]).iter().any(|r| r == version) {
            problems.push(format!("{} does not run chart {version}", name(app)));
        }
    }
    Health {
        ready,
        total: apps.len(),
        problems,
    }
}

/// Since when every promoted pin has been live: per Application, the oldest deployment of the
/// unbroken run of newest history entries at that pin; the latest of those. `Err` names an
/// Application whose newest deployment is not at its pin.
pub fn live_since(
    apps: &[DynamicObject],
    pins: &Pins,
    pins_at: &PinsAt<'_>,
) -> Result<(OffsetDateTime, String), String> {
    let mut latest: Option<(OffsetDateTime, String)> = None;
    for app in apps {
        let name = name(app);
        // The app's pins are in the manifest at a revision; a component's, its chart version.
        let version = pins
            .components
            .iter()
            .find(|(c, _)| c.spec().name == name)
            .map(|(_, v)| v);
        if name != APP && version.is_none() {
            continue;
        }
        let at_pin = |entry: &serde_json::Value| match version {
            Some(version) => revisions(entry).iter().any(|r| r == version),
            None => entry["revision"].as_str().is_some_and(|r| carries(pins_at, r, pins)),
        };
        let mut history: Vec<&serde_json::Value> =
            app.data["status"]["history"].as_array().into_iter().flatten().collect();
        history.sort_by_key(|entry| entry["id"].as_i64().unwrap_or_default());
        let mut since = None;
        for entry in history.iter().rev() {
            if !at_pin(entry) {
                break;
            }
            since = entry["deployedAt"]
                .as_str()
                .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok());
        }
        let Some(since) = since else {
            return Err(format!("{name}'s last deployment is not at the pins promoted"));
        };
        if latest.as_ref().is_none_or(|(t, _)| since > *t) {
            latest = Some((since, name.to_string()));
        }
    }
    latest.ok_or_else(|| format!("no Application `{APP}`"))
}

fn carries(pins_at: &PinsAt<'_>, revision: &str, pins: &Pins) -> bool {
    !revision.is_empty() && pins_at(revision).is_some_and(|at| at == *pins)
}

/// A sync status' or history entry's revisions: `revisions` of a multi-source Application,
/// else its one `revision`.
fn revisions(value: &serde_json::Value) -> Vec<String> {
    match value["revisions"].as_array() {
        Some(list) => list.iter().filter_map(|r| r.as_str().map(str::to_string)).collect(),
        None => value["revision"].as_str().map(str::to_string).into_iter().collect(),
    }
}

fn name(app: &DynamicObject) -> &str {
    app.metadata.name.as_deref().unwrap_or_default()
}

fn short(revision: &str) -> &str {
    revision.get(..12).unwrap_or(revision)
}
