//! Promotion edits platform.yaml in place: only the pinned values change, comments and layout
//! stay. Expected results live beside the fixture (`*.expected.yaml`, reviewable); bless an
//! intended change with `UPDATE_GOLDEN=1 cargo test -p platform-cli --test it pure::promote_edit`.

use std::path::Path;

use platform_cli::manifest;
use platform_cli::promote::pins::{changes, effective};
use platform_cli::promote::{PromoteError, check_chain, edit};

fn fixture() -> manifest::LoadedManifest {
    manifest::load(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/promote/platform.yaml"
    )))
    .expect("fixture is valid")
}

fn promote(loaded: &manifest::LoadedManifest, from: &str, to: &str) -> String {
    check_chain(&loaded.manifest, from, to).expect("in chain");
    let source = effective(&loaded.manifest, from).expect("source");
    let target = effective(&loaded.manifest, to).expect("target");
    let list = changes(&source, &target);
    assert!(!list.is_empty());
    edit::apply(loaded, to, &list, &source)
        .expect("edit applies")
        .source
        .text
        .to_string()
}

fn assert_expected(actual: &str, name: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/promote")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).expect("write");
        return;
    }
    assert_eq!(actual, std::fs::read_to_string(&path).expect("expected file"), "{name}");
}

#[test]
fn dev_to_staging_inserts_the_pins_with_sibling_indentation() {
    let edited = promote(&fixture(), "dev", "staging");
    assert_expected(&edited, "dev-to-staging.expected.yaml");
}

#[test]
fn staging_to_prod_replaces_in_place_and_extends_flow_mappings() {
    // First carry dev into staging, then staging into prod, as a team would.
    let staged = promote(&fixture(), "dev", "staging");
    let loaded = manifest::load_str("platform.yaml", &staged).expect("valid");
    let edited = promote(&loaded, "staging", "prod");
    assert_expected(&edited, "staging-to-prod.expected.yaml");
}

#[test]
fn every_original_comment_survives() {
    let original = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/promote/platform.yaml"
    ))
    .expect("fixture");
    let edited = promote(&fixture(), "dev", "staging");
    for line in original.lines().filter(|l| l.contains('#')) {
        assert!(edited.contains(line), "lost: {line}");
    }
    // Only lines were added; none of the original lines changed.
    let kept = original.lines().filter(|l| edited.lines().any(|e| e == *l)).count();
    assert_eq!(kept, original.lines().count());
}

#[test]
fn skipping_a_step_of_the_chain_is_refused() {
    let err = check_chain(&fixture().manifest, "dev", "prod").expect_err("dev → prod skips staging");
    assert!(matches!(err, PromoteError::NotInChain { .. }));
    assert_eq!(
        err.to_string(),
        "\"prod\" is promoted from \"staging\", not from \"dev\""
    );
    let err = check_chain(&fixture().manifest, "staging", "dev").expect_err("dev has no source");
    assert_eq!(
        err.to_string(),
        "\"dev\" is promoted from no environment, not from \"staging\""
    );
}

#[test]
fn nothing_to_change_is_an_empty_change_list() {
    let loaded = fixture();
    let staged = promote(&loaded, "dev", "staging");
    let again = manifest::load_str("platform.yaml", &staged).expect("valid");
    let source = effective(&again.manifest, "dev").expect("dev");
    let target = effective(&again.manifest, "staging").expect("staging");
    assert!(changes(&source, &target).is_empty());
}
