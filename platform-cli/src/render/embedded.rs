//! What the binary carries: the templates, and the hand-written parts that rendered files
//! refer to (Terraform modules, charts, dashboards, rule unit tests), so `render --out DIR` needs nothing else.

use include_dir::{Dir, include_dir};

pub static TEMPLATES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../templates");

/// Hand-written trees, with the repository path each is copied to.
pub static HAND_WRITTEN: [(&str, &Dir<'_>); 4] = [
    ("terraform/modules", &TERRAFORM_MODULES),
    ("helm/charts", &HELM_CHARTS),
    ("observability/dashboards", &DASHBOARDS),
    ("observability/tests", &RULE_TESTS),
];

static TERRAFORM_MODULES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../terraform/modules");
static HELM_CHARTS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../helm/charts");
static DASHBOARDS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../observability/dashboards");
static RULE_TESTS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../observability/tests");

/// Every embedded hand-written file as (repository path, contents), sorted by path.
pub fn hand_written_files() -> Vec<(String, &'static [u8])> {
    let mut files = Vec::new();
    for (prefix, dir) in &HAND_WRITTEN {
        collect(dir, prefix, &mut files);
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    files
}

/// The version of the embedded app chart (`helm/charts/app/Chart.yaml`): what a new manifest
/// pins as `app.chartVersion` (empty if the chart had none, which `validate` refuses).
pub fn app_chart_version() -> &'static str {
    HELM_CHARTS
        .get_file("app/Chart.yaml")
        .and_then(|f| f.contents_utf8())
        .and_then(|text| text.lines().find_map(|l| l.strip_prefix("version:")))
        .map_or("", |v| v.trim().trim_matches('"'))
}

fn collect(dir: &'static Dir<'static>, prefix: &str, out: &mut Vec<(String, &'static [u8])>) {
    for file in dir.files() {
        out.push((format!("{prefix}/{}", file.path().display()), file.contents()));
    }
    for sub in dir.dirs() {
        collect(sub, prefix, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RESERVED_ENVIRONMENT_NAMES;

    #[test]
    fn the_app_chart_version_is_read_from_the_embedded_chart() {
        let chart = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../helm/charts/app/Chart.yaml"))
            .expect("chart");
        assert!(!app_chart_version().is_empty());
        assert!(
            chart.contains(&format!("\nversion: {}\n", app_chart_version())),
            "{chart}"
        );
    }

    #[test]
    fn no_environment_may_render_into_a_hand_written_observability_folder() {
        let hand_written: Vec<&str> = HAND_WRITTEN
            .iter()
            .filter_map(|(prefix, _)| prefix.strip_prefix("observability/"))
            .collect();
        assert_eq!(hand_written, RESERVED_ENVIRONMENT_NAMES);
    }
}
