//! Every rendered alert has promtool unit tests in observability/tests showing it firing and
//! not firing (scripts/validate-rendered runs them for every environment).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use platform_cli::{manifest, render};
use serde_json::Value;

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

#[test]
fn every_alert_is_tested_firing_and_not_firing() {
    // (alert) -> {"firing", "silent"}
    let mut cases: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for entry in std::fs::read_dir(repo().join("observability/tests")).expect("tests folder") {
        let path = entry.expect("entry").path();
        let doc: Value = yaml_serde::from_str(&std::fs::read_to_string(&path).expect("readable")).expect("yaml");
        for test in doc["tests"].as_array().expect("tests") {
            for check in test["alert_rule_test"].as_array().into_iter().flatten() {
                let name = check["alertname"].as_str().expect("alertname").to_string();
                let firing = check["exp_alerts"].as_array().is_some_and(|a| !a.is_empty());
                cases
                    .entry(name)
                    .or_default()
                    .insert(if firing { "firing" } else { "silent" });
            }
        }
    }
    let mut alerts = BTreeSet::new();
    for manifest_path in [
        "platform.yaml",
        "examples/eks-three-envs.yaml",
        "examples/existing-cluster.yaml",
    ] {
        let loaded = manifest::load(&repo().join(manifest_path)).expect("valid");
        for (path, bytes) in render::render(&loaded, &[]).expect("renders").files {
            if path.contains("/rules/") {
                let doc: Value = yaml_serde::from_slice(&bytes).expect("yaml");
                for group in doc["spec"]["groups"].as_array().expect("groups") {
                    for rule in group["rules"].as_array().expect("rules") {
                        if let Some(alert) = rule["alert"].as_str() {
                            alerts.insert(alert.to_string());
                        }
                    }
                }
            }
        }
    }
    assert!(alerts.len() >= 15, "{alerts:?}");
    let missing: Vec<String> = alerts
        .iter()
        .filter(|a| cases.get(*a).is_none_or(|c| c.len() < 2))
        .map(|a| format!("{a}: {:?}", cases.get(a)))
        .collect();
    assert!(
        missing.is_empty(),
        "alerts without a firing and a silent promtool case: {missing:?}"
    );
}
