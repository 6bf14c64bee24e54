//! Argo CD refuses to sync a cluster-scoped object its AppProject does not whitelist: every
//! cluster-scoped object the platform renders into Git must be allowed by `project.yaml`.

use std::path::Path;

use platform_cli::{manifest, render};
use serde_json::Value;

fn documents(text: &str) -> Vec<Value> {
    text.split("\n---\n")
        .filter_map(|doc| yaml_serde::from_str::<Value>(doc).ok())
        .filter(serde_json::Value::is_object)
        .collect()
}

#[test]
fn every_cluster_scoped_object_argo_cd_syncs_from_git_is_whitelisted() {
    for example in ["eks-three-envs", "aks", "gke-central-mimir", "existing-cluster"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../examples/{example}.yaml"));
        let loaded = manifest::load(&path).expect("valid example");
        let tree = render::render(&loaded, &[]).expect("renders");
        for env in loaded.manifest.environments.iter().map(|e| e.name.as_str()) {
            let project = tree
                .files
                .iter()
                .find(|(p, _)| **p == format!("argocd/{env}/project.yaml"))
                .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
                .expect("project rendered");
            let project: Value = yaml_serde::from_str(&project).expect("project parses");
            let allowed: Vec<(String, String)> = project["spec"]["clusterResourceWhitelist"]
                .as_array()
                .expect("a whitelist")
                .iter()
                .map(|r| {
                    (
                        r["group"].as_str().unwrap_or_default().into(),
                        r["kind"].as_str().unwrap_or_default().into(),
                    )
                })
                .collect();
            // Directory sources Argo CD syncs: manifests, policies (not their tests/), observability.
            let synced = |p: &str| {
                (p.starts_with(&format!("argocd/{env}/manifests/"))
                    || (p.starts_with(&format!("policies/{env}/")) && !p.contains("/tests/"))
                    || p.starts_with(&format!("observability/{env}/")))
                    && p.ends_with(".yaml")
            };
            let mut checked = 0;
            for (p, bytes) in tree.files.iter().filter(|(p, _)| synced(p)) {
                for doc in documents(&String::from_utf8_lossy(bytes)) {
                    let Some(kind) = doc["kind"].as_str() else { continue };
                    if kind == "Kustomization" || doc["metadata"]["namespace"].is_string() {
                        continue;
                    }
                    let group = doc["apiVersion"]
                        .as_str()
                        .and_then(|v| v.split_once('/').map(|(g, _)| g.to_string()))
                        .unwrap_or_default();
                    assert!(
                        allowed.contains(&(group.clone(), kind.to_string())),
                        "{example}/{p}: {group}/{kind} is cluster-scoped and not in the AppProject's whitelist"
                    );
                    checked += 1;
                }
            }
            assert!(
                checked > 0,
                "{example}/{env}: no cluster-scoped object found: the test lost its input"
            );
        }
    }
}
