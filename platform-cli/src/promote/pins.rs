//! What an environment runs: the app image, its chart, and each component's chart version.

use std::collections::BTreeMap;

use crate::manifest::Manifest;

/// The effective pins of one environment (its own, else the top-level defaults).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pins {
    pub app_image: String,
    pub app_chart_version: String,
    /// Manifest key (e.g. `ingressNginx`) → chart version.
    pub components: BTreeMap<&'static str, String>,
}

/// One pin that differs between source and target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Where it lives under the environment, e.g. `app/image`, `components/redis/chartVersion`.
    pub field: String,
    pub from: String,
    pub to: String,
}

pub fn effective(manifest: &Manifest, env: &str) -> Option<Pins> {
    let e = manifest.environments.iter().find(|e| e.name == env)?;
    let components = manifest
        .components
        .entries()
        .into_iter()
        .zip(e.components.entries())
        .map(|((key, base), (_, pin))| (key, pin.as_ref().unwrap_or(base).chart_version.clone()))
        .collect();
    Some(Pins {
        app_image: e.app.image.clone().unwrap_or_else(|| manifest.app.image.clone()),
        app_chart_version: e
            .app
            .chart_version
            .clone()
            .unwrap_or_else(|| manifest.app.chart_version.clone()),
        components,
    })
}

/// What promoting `source` into an environment running `target` changes, in a stable order.
pub fn changes(source: &Pins, target: &Pins) -> Vec<Change> {
    let mut out = Vec::new();
    let mut push = |field: String, from: &str, to: &str| {
        if from != to {
            out.push(Change {
                field,
                from: from.into(),
                to: to.into(),
            });
        }
    };
    push("app/image".into(), &target.app_image, &source.app_image);
    push(
        "app/chartVersion".into(),
        &target.app_chart_version,
        &source.app_chart_version,
    );
    for (key, version) in &source.components {
        let current = target.components.get(key).map_or("", String::as_str);
        push(format!("components/{key}/chartVersion"), current, version);
    }
    out
}
