//! `platform update`'s check of rendered values against a chart release holds no false alarm:
//! every chart vendored in `../shared/upstream`, packed as Helm packs it and read back by
//! `update::chart::read`, accepts the values `platform.yaml` renders for it in every
//! environment, as the test command's upstream checks (Helm's own engine) accept them. And a
//! key the chart does not know is refused by name.

use std::path::Path;

use platform_cli::model::components::{Component, Source};
use platform_cli::update::{chart, check};

use crate::support::charts::package;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// The vendored chart, packed as Helm packs it and read as `platform update` reads a release.
fn release(name: &str, version: &str) -> chart::Chart {
    let work = tempfile::tempdir().expect("temp dir");
    let archive = package(name, version, version, work.path(), |_| {});
    chart::read(&std::fs::read(work.path().join(archive)).expect("archive")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn every_vendored_chart_accepts_the_values_rendered_for_it() {
    for component in Component::pinnable() {
        let Source::Chart { chart, version, .. } = component.spec().source else {
            continue;
        };
        let release = release(chart, version);
        for env in ["dev", "staging", "prod"] {
            let path = root().join(format!("helm/values/{env}/{}.yaml", component.spec().name));
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let values: serde_json::Value = yaml_serde::from_str(&text).expect("rendered values parse");
            let problems = check::check(&release, &values);
            assert!(problems.is_empty(), "{chart} {version}, {env}: {problems:#?}");
        }
    }
}

#[test]
fn a_key_the_release_does_not_know_is_refused_by_name() {
    let release = release("argo-cd", "10.1.1");
    let values: serde_json::Value =
        serde_json::json!({ "server": { "replicas": 2 }, "serverr": { "replicas": 3 }, "dexx": { "enabled": false } });
    let mut keys: Vec<String> = check::check(&release, &values).into_iter().map(|p| p.key).collect();
    keys.sort();
    assert_eq!(keys, ["dexx", "serverr"]);
}
