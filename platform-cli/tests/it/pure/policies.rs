//! The wiring of the rendered Kyverno policies, for every example environment: the signing
//! trust is the manifest's, production denies and fails closed, and the tenant selectors are
//! the labels the isolation gate sets. What each CEL check admits and refuses is proven by a
//! real CEL engine in scripts/check-policies and scripts/check-references (the test command's
//! validators), against the shipped test cases and every vendor workload.

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
                .map_or(env.production, |m| m == platform_cli::model::PolicyMode::Enforce);
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

const VALIDATING: [&str; 7] = [
    "pod-security-baseline",
    "pod-security-restricted",
    "require-labels",
    "require-tenant-org-label",
    "disallow-latest-tag",
    "require-app-image-digest",
    "verify-app-images",
];

#[test]
fn verify_images_trusts_exactly_the_manifests_signing_identity() {
    for (m, env) in environments() {
        let p = policy(&env, "verify-app-images");
        assert_eq!(p["kind"], json!("ImageValidatingPolicy"));
        let spec = &p["spec"];
        let app = m
            .environments
            .iter()
            .find(|e| e.name == env.name)
            .and_then(|e| e.app.image.clone());
        let image = app.unwrap_or(m.app.image.clone());
        let repository = image.split('@').next().expect("repository");
        assert_eq!(
            spec["matchImageReferences"],
            json!([{ "glob": format!("{repository}*") }]),
            "{}",
            env.name
        );
        assert_eq!(spec["validationConfigurations"]["required"], json!(true));
        assert_eq!(spec["validationConfigurations"]["verifyDigest"], json!(true));
        let attestors = spec["attestors"].as_array().expect("attestors");
        assert_eq!(attestors.len(), 1, "exactly one trusted identity");
        let cosign = &attestors[0]["cosign"];
        assert_eq!(cosign["ctlog"]["url"], json!("https://rekor.sigstore.dev"));
        match (&m.signing.public_key, &m.signing.keyless) {
            (Some(key), None) => {
                assert_eq!(
                    cosign["key"]["data"].as_str().map(str::trim),
                    Some(key.trim()),
                    "{}",
                    env.name
                );
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
                assert_eq!(
                    cosign["keyless"]["identities"],
                    json!([{ "issuer": k.issuer, "subject": subject }]),
                    "{}",
                    env.name
                );
            }
            _ => unreachable!("validation guarantees exactly one identity"),
        }
        let text = String::from_utf8_lossy(&env.files[&format!("policies/{}/verify-app-images.yaml", env.name)]);
        assert!(!text.contains("insecureIgnore"), "transparency log is required");
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
                assert_eq!(spec["validationActions"], json!(["Deny"]), "{}/{name}", env.name);
                assert_eq!(spec["failurePolicy"], json!("Fail"), "{}/{name}", env.name);
            } else {
                saw_audit = true;
                assert_eq!(spec["validationActions"], json!(["Audit"]), "{}/{name}", env.name);
            }
            if env.production {
                assert_eq!(
                    spec["validationActions"],
                    json!(["Deny"]),
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
        assert_eq!(isolation["kind"], json!("GeneratingPolicy"));
        let spec = &isolation["spec"];
        assert_eq!(
            spec["matchConstraints"]["resourceRules"][0]["resources"],
            json!(["namespaces"])
        );
        assert_eq!(
            spec["matchConstraints"]["objectSelector"]["matchLabels"], tenant,
            "{}",
            env.name
        );
        assert_eq!(spec["evaluation"]["synchronize"]["enabled"], json!(true));
        assert_eq!(spec["evaluation"]["generateExisting"]["enabled"], json!(true));
        assert_eq!(
            spec["generate"],
            json!([{ "expression": "generator.Apply(object.metadata.name, variables.networkPolicies)" }])
        );
        let generated = spec["variables"][0]["expression"].as_str().expect("expression");
        assert!(
            generated.contains(&format!("\"metadata\": {{\"name\": \"{DEFAULT_DENY}\"}}")),
            "the gate waits for {DEFAULT_DENY}: {generated}"
        );

        // Restricted and the labels apply in tenant namespaces, known by the same label.
        for name in ["pod-security-restricted", "require-labels"] {
            let condition = policy(&env, name)["spec"]["matchConditions"][0]["expression"]
                .as_str()
                .expect("condition")
                .to_string();
            assert!(
                condition.contains(&format!(
                    "namespaceObject.metadata.?labels[?'{TENANT_LABEL}'].orValue('') == 'true'"
                )),
                "{name}: {condition}"
            );
        }
        let org = policy(&env, "require-tenant-org-label");
        assert_eq!(org["spec"]["matchConstraints"]["objectSelector"]["matchLabels"], tenant);
        assert_eq!(
            org["spec"]["validations"][0]["expression"],
            json!(format!("object.metadata.?labels[?'{ORG_LABEL}'].orValue('') != ''"))
        );
    }
}

#[test]
fn kyverno_test_cases_cover_a_pass_and_a_fail_per_validating_policy() {
    for (_, env) in environments() {
        let test: Value = yaml_serde::from_slice(&env.files[&format!("policies/{}/tests/kyverno-test.yaml", env.name)])
            .expect("kyverno-test.yaml parses");
        let results = test["results"].as_array().expect("results");
        let mut by_policy = std::collections::BTreeMap::<String, Vec<String>>::new();
        for r in results {
            assert_eq!(r["isValidatingPolicy"], json!(true), "{r}");
            assert!(r.get("rule").is_none(), "the CEL policies have no rules: {r}");
            by_policy
                .entry(r["policy"].as_str().unwrap_or_default().into())
                .or_default()
                .push(r["result"].as_str().unwrap_or_default().into());
        }
        for name in VALIDATING.iter().filter(|n| **n != "verify-app-images") {
            let got = by_policy.get(*name).cloned().unwrap_or_default();
            assert!(
                got.contains(&"pass".to_string()) && got.contains(&"fail".to_string()),
                "{name} in {}: {got:?}",
                env.name
            );
        }
    }
}

#[test]
fn platform_verify_and_kyverno_use_one_trust_config() {
    use platform_cli::supply_chain::TrustPolicy;
    for (m, env) in environments() {
        let policy = TrustPolicy::from_manifest(&m, None).expect("an identity");
        let cosign = &policy_doc(&env)["spec"]["attestors"][0]["cosign"];
        // Rebuild the trust policy from what admission will enforce; it must be the same.
        let from_kyverno = if let Some(key) = cosign.get("key") {
            TrustPolicy::Key {
                public_key: key["data"].as_str().expect("pem").trim().to_string(),
                ignore_tlog: cosign.get("ctlog").is_none(),
                trusted_root: None,
            }
        } else {
            assert!(cosign.get("ctlog").is_some(), "keyless admission requires Rekor");
            let identity = &cosign["keyless"]["identities"][0];
            let subject = identity["subject"].as_str().expect("subject");
            // The subject is the workflow's file in its repository: it names the repository
            // `platform verify` checks in the certificate.
            let repository = subject
                .strip_prefix("https://github.com/")
                .and_then(|rest| rest.split("/.github/workflows/").next())
                .map(Into::into);
            TrustPolicy::Keyless {
                identity: subject.into(),
                issuer: identity["issuer"].as_str().expect("issuer").into(),
                workflow_repository: repository,
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

#[test]
fn exceptions_live_where_kyverno_reads_them_and_each_says_why() {
    for (_, env) in environments() {
        let values: Value = yaml_serde::from_slice(&env.files[&format!("helm/values/{}/kyverno.yaml", env.name)])
            .expect("kyverno values parse");
        let read_from = &values["features"]["policyExceptions"];
        assert_eq!(read_from["enabled"], json!(true), "{}", env.name);
        let path = format!("policies/{}/exceptions.yaml", env.name);
        let text = String::from_utf8_lossy(&env.files[&path]).to_string();
        let mut seen = 0;
        for document in yaml_serde::Deserializer::from_str(&text) {
            let exception = <Value as serde::Deserialize>::deserialize(document).expect("yaml");
            if exception.is_null() {
                continue;
            }
            seen += 1;
            assert_eq!(exception["kind"], json!("PolicyException"), "{path}");
            assert_eq!(exception["metadata"]["namespace"], read_from["namespace"], "{path}");
            let reason = exception["metadata"]["annotations"]["platform/reason"]
                .as_str()
                .unwrap_or_default();
            assert!(reason.len() > 20, "{path}: every exception says why: {exception}");
            // One workload: its namespace and its name, never a whole namespace.
            let condition = exception["spec"]["matchConditions"][0]["expression"]
                .as_str()
                .unwrap_or_default();
            assert!(
                condition.contains("object.metadata.namespace == ") && condition.contains("'app.kubernetes.io/name'"),
                "{path}: {condition}"
            );
        }
        assert!(seen >= 2, "node-exporter and Alloy need theirs in {}", env.name);
    }
}

#[test]
fn docs_policies_lists_every_policy_file_and_exception_the_tree_renders() {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/policies.md"))
        .expect("docs/policies.md");
    for (_, env) in environments() {
        let prefix = format!("policies/{}/", env.name);
        for path in env.files.keys().filter_map(|p| p.strip_prefix(&prefix)) {
            if !path.starts_with("tests/") {
                assert!(
                    doc.contains(&format!("| `{path}` |")),
                    "docs/policies.md lacks a row for {path}"
                );
            }
        }
        let text = String::from_utf8_lossy(&env.files[&format!("{prefix}exceptions.yaml")]).to_string();
        for document in yaml_serde::Deserializer::from_str(&text) {
            let exception = <Value as serde::Deserialize>::deserialize(document).expect("yaml");
            if let Some(name) = exception["metadata"]["name"].as_str() {
                assert!(
                    doc.contains(&format!("| `{name}` |")),
                    "docs/policies.md lacks exception {name}"
                );
            }
        }
    }
}
