//! Tera uses `{{ }}` and `{% %}` itself; wherever the output carries braces for its consumer
//! (CEL map literals in the Kyverno policies, Prometheus and Alertmanager templates), they must
//! arrive intact.

use std::path::Path;

use platform_cli::{manifest, render};

fn rendered() -> String {
    let loaded =
        manifest::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/eks-three-envs.yaml")).expect("valid");
    let tree = render::render(&loaded, &["prod".to_string()]).expect("renders");
    tree.files
        .iter()
        .map(|(path, bytes)| format!("=== {path}\n{}", String::from_utf8_lossy(bytes)))
        .collect()
}

fn file<'a>(all: &'a str, path: &str) -> &'a str {
    let start = all
        .find(&format!("=== {path}\n"))
        .unwrap_or_else(|| panic!("{path} rendered"));
    let rest = &all[start + path.len() + 5..];
    &rest[..rest.find("\n=== ").unwrap_or(rest.len())]
}

#[test]
fn cel_map_literals_reach_the_policies() {
    let all = rendered();
    let isolation = file(&all, "policies/prod/tenant-network-isolation.yaml");
    assert_eq!(isolation.matches(r#""podSelector": dyn({}),"#).count(), 4);
    assert_eq!(
        isolation
            .matches(r#""ports": [dyn({"protocol": "TCP", "port": 5432}), dyn({"protocol": "TCP", "port": 6379})]"#)
            .count(),
        1
    );
    let digest = file(&all, "policies/prod/require-app-image-digest.yaml");
    assert!(digest.contains("i.matches('@sha256:[0-9a-f]{64}$')"), "{digest}");
}

#[test]
fn prometheus_alert_templates_reach_the_rules() {
    let all = rendered();
    let rules = file(&all, "observability/prod/rules/platform.yaml");
    assert!(rules.contains("Valkey {{ $labels.pod }} is down"));
    assert!(rules.contains("{{ $value | humanizeDuration }}"));
    let slo = file(&all, "observability/prod/rules/app-slo.yaml");
    assert!(slo.contains("{{ $value | humanizePercentage }} of requests are failing with 5xx"));
}

#[test]
fn alertmanager_templates_reach_the_config() {
    let all = rendered();
    let values = file(&all, "helm/values/prod/kube-prometheus-stack.yaml");
    assert!(values.contains("'{{ .CommonLabels.alertname }}: {{ .CommonAnnotations.summary }}'"));
    assert!(values.contains(
        r#"{{ range .Alerts }}{{ .Annotations.summary }} {{ .Annotations.runbook_url }}{{ "\n" }}{{ end }}"#
    ));
}

#[test]
fn no_template_syntax_leaks_into_any_file() {
    let all = rendered();
    assert!(!all.contains("{%"), "a Tera tag reached the output");
    assert!(!all.contains("{{ slo.") && !all.contains("{{ env.") && !all.contains("{{ tenancy."));
}
