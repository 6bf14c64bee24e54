//! What an environment runs: the app image, its chart, and each component's chart version,
//! after its own pins override the top-level defaults. The one place that rule lives: the
//! resolver renders from it and promotion carries it forward.

use std::collections::BTreeMap;

use super::Manifest;
use crate::model::Environment;
use crate::model::components::Component;

/// The effective pins of one environment (its own, else the top-level defaults).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pins {
    pub app_image: String,
    pub app_chart_version: String,
    /// Chart version of every component that has one.
    pub components: BTreeMap<Component, String>,
}

/// The effective pins of environment `env`, if the manifest has it.
pub fn effective(manifest: &Manifest, env: &str) -> Option<Pins> {
    manifest
        .environments
        .iter()
        .find(|e| e.name == env)
        .map(|e| of(manifest, e))
}

/// The effective pins of `e`, an environment of `manifest`.
pub fn of(manifest: &Manifest, e: &Environment) -> Pins {
    let components = Component::pinnable()
        .filter_map(|c| {
            let pinned = e.components.get(c).or_else(|| manifest.components.get(c));
            let version = pinned.map(|p| p.chart_version.as_str()).or(c.default_version())?;
            Some((c, version.to_string()))
        })
        .collect();
    Pins {
        app_image: e.app.image.clone().unwrap_or_else(|| manifest.app.image.clone()),
        app_chart_version: e
            .app
            .chart_version
            .clone()
            .unwrap_or_else(|| manifest.app.chart_version.clone()),
        components,
    }
}
