//! `platform validate` and the command line's flags as users see them: exit codes, and the exact
//! text of diagnostics (`tests/fixtures/invalid/*.stderr`, blessed with `UPDATE_GOLDEN=1`).

use crate::support::cli::{assert_output, platform};

fn invalid(fixture: &str) {
    let file = format!("tests/fixtures/invalid/{fixture}.yaml");
    let out = platform().args(["validate", "-f", &file]).output().expect("runs");
    assert_eq!(out.status.code(), Some(1), "invalid manifests exit 1");
    assert!(out.stdout.is_empty(), "diagnostics go to stderr");
    assert_output(
        &String::from_utf8_lossy(&out.stderr),
        &format!("tests/fixtures/invalid/{fixture}.stderr"),
    );
}

#[test]
fn cloud_limits_and_kubernetes_support_windows_are_enforced() {
    invalid("cloud-limits");
}

#[test]
fn names_terraform_builds_past_the_clouds_limits_are_refused_at_the_names_they_come_from() {
    invalid("name-limits");
    invalid("state-bucket-name");
}

#[test]
fn argo_cd_sign_in_takes_one_way_and_names_its_configuration_can_hold() {
    invalid("sso");
}

#[test]
fn every_hostname_needs_a_record_maker_and_a_certificate_path_that_can_succeed() {
    invalid("dns");
}

#[test]
fn a_secret_store_the_cluster_cannot_reach_or_a_vault_without_a_usable_server_is_refused() {
    invalid("secret-store");
}

#[test]
fn a_pull_secret_for_a_cloud_registry_is_refused() {
    invalid("private-cloud-registry");
}

#[test]
fn node_pools_too_small_for_the_platform_are_refused_naming_the_shortfall() {
    invalid("node-fit");
}

#[test]
fn unknown_keys_wrong_types_and_enum_typos_are_all_reported() {
    invalid("typos");
}

#[test]
fn chart_pins_outside_the_range_the_values_are_written_for_are_refused_with_the_nearest_supported() {
    invalid("unsupported-pins");
}

#[test]
fn promotion_gates_that_guard_nothing_or_cannot_be_measured_are_refused() {
    invalid("promotion-gates");
}

#[test]
fn environments_named_after_hand_written_observability_folders_are_refused() {
    invalid("reserved-names");
}

#[test]
fn every_meaning_error_is_reported_in_one_run() {
    invalid("semantics");
}

#[test]
fn keyless_trust_naming_another_workflow_and_logins_for_another_registry_are_refused() {
    invalid("ci-keyless");
}

#[test]
fn a_private_key_the_workflow_cannot_reach_a_foreign_ghcr_namespace_and_images_it_does_not_push_are_refused() {
    invalid("ci-key");
}

#[test]
fn cloud_registries_need_a_github_repository_a_repository_path_and_a_real_kms_key() {
    invalid("ci-cloud");
}

#[test]
fn keyless_signing_outside_github_and_bad_secret_names_are_refused() {
    invalid("ci-other-registry");
}

#[test]
fn yaml_syntax_errors_point_at_the_line() {
    invalid("syntax");
}

#[test]
fn valid_manifests_validate() {
    let out = platform()
        .args(["validate", "-f", "../platform.yaml"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "../platform.yaml: valid (3 environments: dev, staging, prod)\n"
    );
}

#[test]
fn a_missing_manifest_says_how_to_pass_one() {
    let out = platform().args(["validate", "-f", "nope.yaml"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot read manifest nope.yaml"), "{err}");
    assert!(err.contains("pass the manifest with -f FILE"), "{err}");
}

#[test]
fn bad_flags_are_usage_errors() {
    let out = platform().args(["render", "--frobnicate"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn schema_prints_json() {
    let out = platform().arg("schema").output().expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(schema["title"], "Platform manifest");
}

#[test]
fn a_trusted_root_file_and_a_tuf_fetch_are_exclusive() {
    let out = platform()
        .args(["verify", "-f", "../platform.yaml", "--env", "dev"])
        .args(["--sigstore-tuf", "--trusted-root", "trusted_root.json"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("the argument '--sigstore-tuf' cannot be used with '--trusted-root <FILE>'")
    );
}
