//! The semantic contract of the rendered Kyverno policies, for every example environment.
//! No Kyverno CLI runs here, so these tests check what matters to admission directly:
//! the signing trust is the manifest's, production enforces and fails closed, and the
//! tenant selectors are the labels the isolation gate sets.

use std::path::Path;

use platform_cli::manifest::{self, Manifest};
use platform_cli::render;
use platform_contracts::tenancy::{DEFAULT_DENY, ORG_LABEL, TENANT_LABEL};
use serde_json::{Value, json};

struct Env {
    name: String,
    production: bool,
    enforce_expected: bool,
    files: std::collections::BTreeMap<String, Vec<u8>>,
}

fn environments() -> Vec<(Manifest, Env)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("examples")
        .map(|e| e.expect("entry").path())
        .collect();
    paths.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../platform.yaml"));
    paths.sort();
    let mut out = Vec::new();
    for path in paths.into_iter().filter(|p| p.extension().is_some_and(|e| e == "yaml")) {
        let loaded = manifest::load(&path).expect("valid manifest");
        for env in &loaded.manifest.environments {
            let tree = render::render(&loaded, std::slice::from_ref(&env.name)).expect("renders");
            let enforce_expected = env
                .policy
                .mode
                .map_or(env.production, |m| m == manifest::model::PolicyMode::Enforce);
            out.push((
                loaded.manifest.clone(),
                Env {
                    name: env.name.clone(),
                    production: env.production,
                    enforce_expected,
                    files: tree.files,
                },
            ));
        }
    }
    assert!(out.len() >= 10, "every example environment is covered");
    out
}

fn policy(env: &Env, name: &str) -> Value {
    let path = format!("policies/{}/{name}.yaml", env.name);
    let bytes = env.files.get(&path).unwrap_or_else(|| panic!("{path} rendered"));
    yaml_serde::from_slice(bytes).unwrap_or_else(|e| panic!("{path}: {e}"))
}

const VALIDATING: [&str; 6] = [
    "pod-security-baseline",
    "pod-security-restricted",
    "require-labels",
    "disallow-latest-tag",
    "require-app-image-digest",
    "verify-app-images",
];

#[test]
fn verify_images_trusts_exactly_the_manifests_signing_identity() {
    for (m, env) in environments() {
        let p = policy(&env, "verify-app-images");
        let rule = &p["spec"]["rules"][0]["verifyImages"][0];
        let app = m
            .environments
            .iter()
            .find(|e| e.name == env.name)
            .and_then(|e| e.app.image.clone());
        let image = app.unwrap_or(m.app.image.clone());
        let repository = image.split('@').next().expect("repository");
        assert_eq!(
            rule["imageReferences"],
            json!([format!("{repository}*")]),
            "{}",
            env.name
        );
        assert_eq!(rule["required"], json!(true));
        assert_eq!(rule["verifyDigest"], json!(true));
        let entries = rule["attestors"][0]["entries"].as_array().expect("entries");
        assert_eq!(entries.len(), 1, "exactly one trusted identity");
        let entry = &entries[0];
        match (&m.signing.public_key, &m.signing.keyless) {
            (Some(key), None) => {
                assert_eq!(
                    entry["keys"]["publicKeys"].as_str().map(str::trim),
                    Some(key.trim()),
                    "{}",
                    env.name
                );
                assert_eq!(entry["keys"]["rekor"]["url"], json!("https://rekor.sigstore.dev"));
            }
            (None, Some(k)) => {
                // The rendered app workflow's own identity: its file in the GitOps repository,
                // on the tracked branch (a manifest that names another is refused).
                let repo = m
                    .gitops
                    .repo_url
                    .trim_start_matches("https://github.com/")
                    .trim_end_matches(".git");
                let subject = format!(
                    "https://github.com/{repo}/.github/workflows/app.yaml@refs/heads/{}",
                    m.gitops.target_revision
                );
                let keyless = &entry["keyless"];
                assert_eq!(keyless["issuer"], json!(k.issuer), "{}", env.name);
                assert_eq!(keyless["subject"], json!(subject), "{}", env.name);
                assert_eq!(keyless["rekor"]["url"], json!("https://rekor.sigstore.dev"));
                assert_eq!(keyless["additionalExtensions"]["githubWorkflowRepository"], json!(repo));
            }
            _ => unreachable!("validation guarantees exactly one identity"),
        }
        let text = String::from_utf8_lossy(&env.files[&format!("policies/{}/verify-app-images.yaml", env.name)]);
        assert!(
            !text.contains("ignoreTlog") && !text.contains("ignoreSCT"),
            "transparency log is required"
        );
    }
}

#[test]
fn production_enforces_and_fails_closed_elsewhere_audit_is_allowed() {
    let mut saw_production = false;
    let mut saw_audit = false;
    for (_, env) in environments() {
        saw_production |= env.production;
        for name in VALIDATING {
            let spec = &policy(&env, name)["spec"];
            if env.enforce_expected {
                assert_eq!(spec["validationFailureAction"], json!("Enforce"), "{}/{name}", env.name);
                assert_eq!(spec["failurePolicy"], json!("Fail"), "{}/{name}", env.name);
            } else {
                saw_audit = true;
                assert_eq!(spec["validationFailureAction"], json!("Audit"), "{}/{name}", env.name);
            }
            if env.production {
                assert_eq!(
                    spec["validationFailureAction"],
                    json!("Enforce"),
                    "production {}/{name}",
                    env.name
                );
            }
        }
    }
    assert!(saw_production && saw_audit, "the examples cover both modes");
}

#[test]
fn tenant_selectors_are_the_labels_the_isolation_gate_sets() {
    let tenant = json!({ TENANT_LABEL: "true" });
    for (_, env) in environments() {
        let isolation = policy(&env, "tenant-network-isolation");
        let rules = isolation["spec"]["rules"].as_array().expect("rules");
        let names: Vec<_> = rules.iter().map(|r| r["name"].as_str().unwrap_or_default()).collect();
        assert_eq!(
            names,
            [
                "default-deny",
                "allow-dns",
                "allow-from-ingress-controller",
                "allow-to-data"
            ]
        );
        for rule in rules {
            let resources = &rule["match"]["any"][0]["resources"];
            assert_eq!(resources["kinds"], json!(["Namespace"]));
            assert_eq!(resources["selector"]["matchLabels"], tenant, "{}", env.name);
            let generate = &rule["generate"];
            assert_eq!(generate["kind"], json!("NetworkPolicy"));
            assert_eq!(generate["synchronize"], json!(true));
            assert_eq!(generate["namespace"], json!("{{request.object.metadata.name}}"));
        }
        assert_eq!(
            rules[0]["generate"]["data"]["spec"]["policyTypes"],
            json!(["Ingress", "Egress"])
        );
        assert_eq!(rules[0]["generate"]["data"]["spec"]["podSelector"], json!({}));
        assert_eq!(
            rules[0]["generate"]["name"],
            json!(DEFAULT_DENY),
            "the gate waits for this one"
        );
        assert_eq!(isolation["spec"]["generateExisting"], json!(true));

        let restricted = policy(&env, "pod-security-restricted");
        let any = restricted["spec"]["rules"][0]["match"]["any"]
            .as_array()
            .expect("any")
            .clone();
        assert!(
            any.iter()
                .any(|m| m["resources"]["namespaceSelector"]["matchLabels"] == tenant)
        );
        assert_eq!(
            restricted["spec"]["rules"][0]["validate"]["podSecurity"]["level"],
            json!("restricted")
        );

        let labels = policy(&env, "require-labels");
        let org_rule = &labels["spec"]["rules"][1];
        assert_eq!(
            org_rule["match"]["any"][0]["resources"]["selector"]["matchLabels"],
            tenant
        );
        assert_eq!(
            org_rule["validate"]["pattern"]["metadata"]["labels"][ORG_LABEL],
            json!("?*")
        );
    }
}

#[test]
fn kyverno_test_cases_cover_a_pass_and_a_fail_per_validate_rule() {
    for (_, env) in environments() {
        let test: Value = yaml_serde::from_slice(&env.files[&format!("policies/{}/tests/kyverno-test.yaml", env.name)])
            .expect("kyverno-test.yaml parses");
        let results = test["results"].as_array().expect("results");
        let mut by_rule = std::collections::BTreeMap::<(String, String), Vec<String>>::new();
        for r in results {
            by_rule
                .entry((
                    r["policy"].as_str().unwrap_or_default().into(),
                    r["rule"].as_str().unwrap_or_default().into(),
                ))
                .or_default()
                .push(r["result"].as_str().unwrap_or_default().into());
        }
        for name in VALIDATING.iter().filter(|n| **n != "verify-app-images") {
            for rule in policy(&env, name)["spec"]["rules"].as_array().expect("rules") {
                let key = (
                    (*name).to_string(),
                    rule["name"].as_str().unwrap_or_default().to_string(),
                );
                let mut got = by_rule.get(&key).cloned().unwrap_or_default();
                got.sort();
                assert_eq!(got, ["fail", "pass"], "{key:?} in {}", env.name);
            }
        }
    }
}

#[test]
fn platform_verify_and_kyverno_use_one_trust_config() {
    use platform_cli::supply_chain::TrustPolicy;
    for (m, env) in environments() {
        let policy = TrustPolicy::from_manifest(&m, None).expect("an identity");
        let p = policy_doc(&env);
        let entry = &p["spec"]["rules"][0]["verifyImages"][0]["attestors"][0]["entries"][0];
        // Rebuild the trust policy from what admission will enforce; it must be the same.
        let from_kyverno = if let Some(keys) = entry.get("keys") {
            TrustPolicy::Key {
                public_key: keys["publicKeys"].as_str().expect("pem").trim().to_string(),
                ignore_tlog: keys.get("rekor").is_none(),
                trusted_root: None,
            }
        } else {
            let k = &entry["keyless"];
            assert!(k.get("rekor").is_some(), "keyless admission requires Rekor");
            TrustPolicy::Keyless {
                identity: k["subject"].as_str().expect("subject").into(),
                issuer: k["issuer"].as_str().expect("issuer").into(),
                workflow_repository: k["additionalExtensions"]["githubWorkflowRepository"]
                    .as_str()
                    .map(Into::into),
                trusted_root: None,
            }
        };
        assert_eq!(policy, from_kyverno, "{}", env.name);
        assert!(
            policy.requires_tlog(),
            "manifest trust always requires the transparency log"
        );
    }
}

fn policy_doc(env: &Env) -> Value {
    policy(env, "verify-app-images")
}
