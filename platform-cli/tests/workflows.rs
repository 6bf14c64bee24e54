//! The rendered CI workflows: every action pinned by commit SHA, least permissions, GitHub
//! expressions intact, and `platform verify` run for every environment.

use std::path::Path;

use platform_cli::{manifest, render};
use serde_json::Value;

fn workflows(example: &str) -> Vec<(String, Value, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(example);
    let loaded = manifest::load(&path).expect("valid");
    render::render(&loaded, &[])
        .expect("renders")
        .files
        .into_iter()
        .filter(|(p, _)| p.starts_with(".github/workflows/"))
        .map(|(p, bytes)| {
            let text = String::from_utf8(bytes).expect("utf-8");
            (p, yaml_serde::from_str(&text).expect("yaml"), text)
        })
        .collect()
}

#[test]
fn every_action_is_pinned_by_commit_sha() {
    let all = workflows("platform.yaml");
    assert_eq!(all.len(), 2);
    for (path, doc, _) in &all {
        for (_, job) in doc["jobs"].as_object().expect("jobs") {
            for step in job["steps"].as_array().expect("steps") {
                if let Some(uses) = step["uses"].as_str() {
                    let (_, sha) = uses.split_once('@').expect("@ref");
                    assert!(
                        sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit()),
                        "{path}: {uses} is not pinned by commit SHA"
                    );
                }
            }
        }
    }
}

#[test]
fn permissions_are_least_and_only_signing_gets_an_oidc_token() {
    for (path, doc, _) in workflows("platform.yaml") {
        assert!(
            doc.get("permissions").is_some(),
            "{path}: top-level permissions are set"
        );
        for (name, job) in doc["jobs"].as_object().expect("jobs") {
            let token = job["permissions"]["id-token"].as_str();
            if path.ends_with("app.yaml") {
                assert_eq!(
                    token,
                    Some("write"),
                    "{path}/{name}: keyless signing needs the OIDC token"
                );
            } else {
                assert_eq!(doc["permissions"], serde_json::json!({ "contents": "read" }), "{path}");
                assert!(token.is_none(), "{path}/{name}: no OIDC token for checks");
            }
        }
    }
}

#[test]
fn verify_runs_for_every_environment_and_expressions_survive_tera() {
    for example in ["platform.yaml", "examples/gke-central-mimir.yaml"] {
        let loaded = manifest::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(example)).expect("valid");
        let envs: Vec<Value> = loaded
            .manifest
            .environments
            .iter()
            .map(|e| Value::String(e.name.clone()))
            .collect();
        for (path, doc, text) in workflows(example) {
            if path.ends_with("platform.yaml") {
                assert_eq!(
                    doc["jobs"]["verify"]["strategy"]["matrix"]["environment"],
                    Value::Array(envs.clone())
                );
                assert!(text.contains("--env ${{ matrix.environment }}"), "{text}");
            } else {
                assert!(text.contains("tags: ${{ env.IMAGE }}:${{ github.sha }}"));
                assert!(text.contains(r#"-a "sha=${{ github.sha }}""#));
                assert!(text.contains(r#""${IMAGE}@${DIGEST}""#), "signs by digest");
            }
        }
    }
}

#[test]
fn selecting_environments_leaves_the_repository_wide_workflows_alone() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../platform.yaml");
    let loaded = manifest::load(&path).expect("valid");
    let tree = render::render(&loaded, &["dev".to_string()]).expect("renders");
    assert!(tree.files.keys().all(|p| !p.starts_with(".github/")));
}
