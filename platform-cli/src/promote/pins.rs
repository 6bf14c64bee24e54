//! What promoting one environment into another changes.

pub use crate::manifest::pins::{Pins, effective};

/// One pin that differs between source and target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Where it lives under the environment, e.g. `app/image`, `components/redis/chartVersion`.
    pub field: String,
    pub from: String,
    pub to: String,
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
    for (component, version) in &source.components {
        let current = target.components.get(component).map_or("", String::as_str);
        push(format!("components/{}/chartVersion", component.key()), current, version);
    }
    out
}
