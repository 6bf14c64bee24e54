//! `platform diff`: differences between environments explained by the manifest field or pin
//! that makes them, and what it says when a tree is missing.

use std::path::Path;

use crate::support::cli::{assert_output, platform};

/// `example` rendered with `--out` into a fresh folder: a tree as a repository commits it.
fn rendered_example(example: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../examples/{example}.yaml"));
    let out = platform()
        .args(["render", "-f"])
        .arg(&manifest)
        .arg("--out")
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let copied = dir.path().join(format!("{example}.yaml"));
    (dir, copied)
}

fn diff(manifest: &Path, args: &[&str]) -> std::process::Output {
    platform()
        .arg("diff")
        .arg("-f")
        .arg(manifest)
        .args(args)
        .output()
        .expect("runs")
}

#[test]
fn diff_explains_every_difference_between_the_examples_environments() {
    for (example, from, to, output, golden) in [
        ("eks-three-envs", "dev", "staging", "text", "txt"),
        ("eks-three-envs", "staging", "prod", "text", "txt"),
        ("eks-three-envs", "staging", "prod", "json", "json"),
        ("eks-three-envs", "staging", "prod", "markdown", "md"),
        ("gke-central-mimir", "staging", "prod", "text", "txt"),
    ] {
        let (_dir, manifest) = rendered_example(example);
        let out = diff(&manifest, &["--from", from, "--to", to, "--output", output]);
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        assert_output(
            &String::from_utf8_lossy(&out.stdout),
            &format!("tests/fixtures/diff/{example}.{from}-{to}.{golden}"),
        );
    }
}

#[test]
fn a_hand_edit_in_a_rendered_file_is_an_unexplained_difference() {
    let (dir, manifest) = rendered_example("eks-three-envs");
    let values = dir.path().join("helm/values/staging/app.yaml");
    let text = std::fs::read_to_string(&values).expect("values");
    let edited = text.replace("minReplicas: 2", "minReplicas: 7");
    assert_ne!(text, edited, "the planted edit applies");
    std::fs::write(&values, edited).expect("write");
    let out = diff(&manifest, &["--from", "dev", "--to", "staging"]);
    assert_eq!(out.status.code(), Some(1), "an unexplained difference fails");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        report.contains("    autoscaling.minReplicas: 1 → 7  [unexplained]\n"),
        "{report}"
    );
    assert!(
        report.ends_with("89 differences between dev and staging:\n  88 explained by manifest fields\n  0 pins not yet promoted\n  1 unexplained\n"),
        "{report}"
    );
}

#[test]
fn diff_of_a_tree_not_rendered_says_how_to_render_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = dir.path().join("platform.yaml");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/eks-three-envs.yaml"),
        &manifest,
    )
    .expect("copy");
    let out = platform()
        .current_dir(dir.path())
        .args(["diff", "--from", "dev", "--to", "staging"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert_output(
        &String::from_utf8_lossy(&out.stderr),
        "tests/fixtures/cli/diff-no-tree.stderr",
    );
}

#[test]
fn an_image_not_yet_promoted_is_a_pin_difference() {
    let dir = tempfile::tempdir().expect("tempdir");
    let example =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/eks-three-envs.yaml"))
            .expect("example");
    let newer = format!(
        "  - name: staging\n    promotedFrom: dev\n    app: {{ image: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/app@sha256:{} }}\n",
        "ab".repeat(32)
    );
    let text = example.replace("  - name: staging\n    promotedFrom: dev\n", &newer);
    assert_ne!(text, example);
    let manifest = dir.path().join("platform.yaml");
    std::fs::write(&manifest, text).expect("write");
    let out = platform()
        .args(["render", "-f"])
        .arg(&manifest)
        .arg("--out")
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let out = diff(&manifest, &["--from", "staging", "--to", "prod", "--output", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let pins: Vec<&serde_json::Value> = report["differences"]
        .as_array()
        .expect("differences")
        .iter()
        .filter(|d| d["class"] == "pin")
        .collect();
    assert_eq!(report["summary"]["pin"], pins.len());
    assert!(
        pins.iter().any(|d| d["object"]["file"] == "helm/values/app.yaml"
            && d["path"] == "image.digest"
            && d["from"] == format!("\"sha256:{}\"", "ab".repeat(32))),
        "{pins:#?}"
    );
    assert!(
        pins.iter().all(|d| d["fields"] == serde_json::json!(["app.image"])),
        "{pins:#?}"
    );
}

#[test]
fn diff_live_prints_text_or_json_only() {
    let out = platform()
        .args([
            "diff",
            "-f",
            "../platform.yaml",
            "--env",
            "dev",
            "--live",
            "--output",
            "markdown",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert_output(
        &String::from_utf8_lossy(&out.stderr),
        "tests/fixtures/cli/diff-live-markdown.stderr",
    );
}

#[test]
fn a_tree_still_on_kyverno_clusterpolicies_differs_by_the_migration_not_unexplained() {
    let (dir, manifest) = rendered_example("eks-three-envs");
    // staging as a tree rendered before the migration left it: the kyverno.io ClusterPolicies
    // (tests/fixtures/diff/clusterpolicies holds that render), no exceptions, no new policy.
    let policies = dir.path().join("policies/staging");
    for entry in std::fs::read_dir(&policies).expect("policies") {
        let path = entry.expect("entry").path();
        if path.is_file() {
            std::fs::remove_file(path).expect("remove");
        }
    }
    let old = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/diff/clusterpolicies");
    for entry in std::fs::read_dir(&old).expect("fixture") {
        let path = entry.expect("entry").path();
        std::fs::copy(&path, policies.join(path.file_name().expect("name"))).expect("copy");
    }
    let out = diff(&manifest, &["--from", "dev", "--to", "staging"]);
    let report = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{report}");
    assert!(
        report.contains(
            "  ValidatingPolicy pod-security-baseline (policies/pod-security-baseline.yaml)\n    only in dev  [migration: Kyverno's ClusterPolicies replaced by its policies.kyverno.io types (docs/policies.md)]\n"
        ),
        "{report}"
    );
    assert!(
        report.contains(
            "  ClusterPolicy pod-security-baseline (policies/pod-security-baseline.yaml)\n    only in staging  [migration: "
        ),
        "{report}"
    );
    assert!(
        report.contains(" from a migration one side has not made\n  0 unexplained\n"),
        "{report}"
    );

    // The same staging without the old objects is drift, not a migration.
    for entry in std::fs::read_dir(&policies).expect("policies") {
        let path = entry.expect("entry").path();
        if path.is_file() {
            std::fs::remove_file(path).expect("remove");
        }
    }
    let out = diff(&manifest, &["--from", "dev", "--to", "staging"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
}
