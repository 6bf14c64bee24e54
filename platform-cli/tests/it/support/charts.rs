//! The vendored charts of `../shared/upstream`, packed as Helm packs a release.

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use serde_json::{Value, json};

pub fn upstream() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/upstream")
}

/// The vendored chart's Chart.yaml, as an index entry starts.
pub fn chart_yaml(chart: &str, version: &str) -> Value {
    let text = std::fs::read_to_string(upstream().join(chart).join(version).join("Chart.yaml")).expect("Chart.yaml");
    yaml_serde::from_str(&text).expect("Chart.yaml parses")
}

/// A chart archive as `helm package` lays it out (`<chart>/…`), of the vendored chart with
/// its Chart.yaml at `as_version` and `edit` applied to its folder; its file name, in `dir`.
pub fn package(chart: &str, vendored: &str, as_version: &str, dir: &Path, edit: impl FnOnce(&Path)) -> String {
    let name = format!("{chart}-{as_version}.tgz");
    let work = tempfile::tempdir().expect("temp dir");
    let copy = work.path().join(chart);
    let status = Process::new("cp")
        .arg("-r")
        .arg(upstream().join(chart).join(vendored))
        .arg(&copy)
        .status()
        .expect("cp runs");
    assert!(status.success());
    let mut meta = chart_yaml(chart, vendored);
    meta["version"] = json!(as_version);
    std::fs::write(copy.join("Chart.yaml"), yaml_serde::to_string(&meta).expect("yaml")).expect("write Chart.yaml");
    edit(&copy);
    let status = Process::new("tar")
        .arg("czf")
        .arg(dir.join(&name))
        .arg("-C")
        .arg(work.path())
        .arg(chart)
        .status()
        .expect("tar runs");
    assert!(status.success());
    name
}
