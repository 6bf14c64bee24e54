//! The app's metrics (`platform_contracts::metrics`, which the app registers from): the rendered
//! rules and the dashboards use exactly those, and docs/metrics.md lists exactly those.

use std::collections::BTreeSet;
use std::path::Path;

use platform_cli::{manifest, render};

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// `app_…` metric names in `text`, histogram series folded into their metric.
fn app_metrics(text: &str) -> BTreeSet<String> {
    let bytes = text.as_bytes();
    let mut names = BTreeSet::new();
    for (i, _) in text.match_indices("app_") {
        // Part of a longer identifier (a recording rule such as `slo:app_http_errors:…`)?
        if i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || b":_".contains(&bytes[i - 1])) {
            continue;
        }
        let end = text[i..]
            .find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
            .map_or(text.len(), |n| i + n);
        let name = &text[i..end];
        let base = ["_bucket", "_count", "_sum"]
            .iter()
            .find_map(|s| name.strip_suffix(s))
            .unwrap_or(name);
        names.insert(base.to_string());
    }
    names
}

#[test]
fn rules_and_dashboards_use_exactly_the_contracts_metrics_and_the_docs_list_them() {
    let doc = std::fs::read_to_string(repo().join("docs/metrics.md")).expect("docs/metrics.md");
    let documented: BTreeSet<String> = doc
        .lines()
        .filter_map(|l| l.strip_prefix("| `app_"))
        .filter_map(|l| l.split('`').next())
        .map(|rest| format!("app_{rest}"))
        .collect();
    let contract: BTreeSet<String> = platform_contracts::metrics::ALL
        .iter()
        .map(|m| m.name.to_owned())
        .collect();
    assert_eq!(documented, contract, "docs/metrics.md lists the contract's metrics");

    let loaded = manifest::load(&repo().join("platform.yaml")).expect("valid");
    let tree = render::render(&loaded, &[]).expect("renders");
    let mut used = BTreeSet::new();
    for (path, bytes) in &tree.files {
        if path.starts_with("observability/") {
            used.extend(app_metrics(&String::from_utf8_lossy(bytes)));
        }
    }
    for entry in std::fs::read_dir(repo().join("observability/dashboards")).expect("dashboards") {
        let text = std::fs::read_to_string(entry.expect("entry").path()).expect("readable");
        used.extend(app_metrics(&text));
    }
    let unknown: Vec<_> = used.difference(&contract).collect();
    let unused: Vec<_> = contract.difference(&used).collect();
    assert!(unknown.is_empty(), "used but not exported by the app: {unknown:?}");
    assert!(
        unused.is_empty(),
        "exported but used by no rule or dashboard: {unused:?}"
    );
}

#[test]
fn the_scanner_folds_histograms_and_skips_recording_rules() {
    let names = app_metrics("rate(app_x_seconds_bucket[5m]) slo:app_http_errors:ratio_rate5m app_y_total");
    assert_eq!(names.into_iter().collect::<Vec<_>>(), ["app_x_seconds", "app_y_total"]);
}
