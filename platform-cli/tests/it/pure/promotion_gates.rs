//! The promotion gates as the manifest sets them: production's defaults, what an environment
//! sets, the queries' agreement with the rendered SLO rules, and the workflow job that checks
//! them on promotion pull requests. Against a real Prometheus: `tools::promotion_gates`.

use platform_cli::manifest::{self, LoadedManifest};
use platform_cli::promote::gates::Gates;
use serde_json::Value;
use test_support::repository_root;

fn load(example: &str) -> LoadedManifest {
    manifest::load(&repository_root().join(example)).expect("valid")
}

fn gates(loaded: &LoadedManifest, from: &str, to: &str) -> Option<Gates> {
    let m = &loaded.manifest;
    Gates::of(m, m.environment(from).expect("from"), m.environment(to).expect("to")).expect("resolves")
}

#[test]
fn production_is_gated_by_default_and_other_environments_only_when_they_say_so() {
    let loaded = load("platform.yaml");
    let prod = gates(&loaded, "staging", "prod").expect("production is gated");
    assert_eq!(
        prod.soak.as_ref().map(|(text, d)| (text.as_str(), d.as_secs())),
        Some(("24h", 86_400))
    );
    assert_eq!(prod.max_burn_rate, Some(1.0));
    assert_eq!(prod.alerts.names.len(), 4);
    assert_eq!(prod.alerts.severities, ["critical"]);
    assert_eq!((prod.prometheus_url.as_deref(), prod.tenant.as_deref()), (None, None));
    assert!(gates(&loaded, "dev", "staging").is_none(), "staging sets no gate");

    // A central source is queried where its metrics are, as its tenant.
    let central = load("examples/gke-central-mimir.yaml");
    let prod = gates(&central, "staging", "prod").expect("gated");
    assert_eq!(
        (prod.prometheus_url.as_deref(), prod.tenant.as_deref()),
        (Some("https://mimir.globex.example/prometheus"), Some("globex-staging"))
    );

    // What an environment sets replaces the defaults; 0m turns the soak and burn rate off.
    let text = std::fs::read_to_string(repository_root().join("platform.yaml")).expect("read");
    let text = text.replace(
        "    promotedFrom: dev\n",
        "    promotedFrom: dev\n    promotion: { soak: 2h, maxBurnRate: 3, blockingAlerts: { names: [], severities: [warning] } }\n",
    );
    let text = text.replace(
        "    promotedFrom: staging\n    production: true\n",
        "    promotedFrom: staging\n    production: true\n    promotion: { soak: 0m }\n",
    );
    let edited = manifest::load_str("platform.yaml", &text).expect("valid");
    let staging = gates(&edited, "dev", "staging").expect("staging sets gates");
    assert_eq!(staging.soak.as_ref().map(|(t, _)| t.as_str()), Some("2h"));
    assert_eq!(staging.max_burn_rate, Some(3.0));
    assert_eq!(
        staging.alerts_query().as_deref(),
        Some("ALERTS{alertstate=\"firing\",severity=~\"warning\",namespace=~\"app|data\"}")
    );
    let prod = gates(&edited, "staging", "prod").expect("production stays gated (Argo CD's health)");
    assert_eq!((prod.soak.is_none(), prod.max_burn_rate), (true, None));
}

/// The burn-rate gate measures what the SLO alerts measure: its ratio over a window is the
/// expression of the rendered recording rule for that window.
#[test]
fn the_burn_rate_query_is_the_rendered_recording_rule_over_the_soak_window() {
    let loaded = load("platform.yaml");
    let prod = gates(&loaded, "staging", "prod").expect("gated");
    let text =
        std::fs::read_to_string(repository_root().join("observability/staging/rules/app-slo.yaml")).expect("rules");
    let rules: Value = yaml_serde::from_str(&text).expect("yaml");
    let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut compared = 0;
    for group in rules["spec"]["groups"].as_array().expect("groups") {
        for rule in group["rules"].as_array().expect("rules") {
            let Some(record) = rule["record"].as_str() else {
                continue;
            };
            let (ratio, window) = record
                .strip_prefix("slo:app_http_")
                .and_then(|r| r.split_once(":ratio_rate"))
                .expect("slo:app_http_<ratio>:ratio_rate<window>");
            assert_eq!(
                words(&prod.ratio_query(ratio, window)),
                words(rule["expr"].as_str().expect("expr")),
                "{record}"
            );
            compared += 1;
        }
    }
    assert_eq!(compared, 14, "two SLIs over seven windows");
}

/// The workflow checks the gates of each gated promotion, and only those.
#[test]
fn the_workflow_checks_the_gates_of_every_gated_promotion_on_its_pull_request() {
    for (example, gated) in [
        ("platform.yaml", vec![("staging", "prod")]),
        ("examples/eks-three-envs.yaml", vec![("staging", "prod")]),
        ("examples/gke-central-mimir.yaml", vec![("staging", "prod")]),
        ("examples/aks.yaml", vec![]),
    ] {
        let loaded = load(example);
        let tree = platform_cli::render::render(&loaded, &[]).expect("renders");
        let workflow: Value = yaml_serde::from_slice(&tree.files[".github/workflows/platform.yaml"]).expect("yaml");
        let job = &workflow["jobs"]["promotion-gates"];
        if gated.is_empty() {
            assert!(job.is_null(), "{example}: nothing is gated, no job");
            assert!(workflow["on"]["schedule"].is_null(), "{example}");
            continue;
        }
        let matrix: Vec<(&str, &str)> = job["strategy"]["matrix"]["include"]
            .as_array()
            .expect("matrix")
            .iter()
            .map(|e| (e["from"].as_str().expect("from"), e["to"].as_str().expect("to")))
            .collect();
        assert_eq!(matrix, gated, "{example}");
        assert_eq!(job["permissions"]["statuses"], "write", "{example}");
        let steps = serde_json::to_string(&job["steps"]).expect("json");
        assert!(steps.contains("--gates-only"), "{example}");
        assert!(steps.contains("context=platform/promotion-gates"), "{example}");
        // The other jobs do not run on the schedule.
        for other in ["render", "verify"] {
            let condition = workflow["jobs"][other]["if"].as_str().unwrap_or_default();
            assert!(
                condition.contains("schedule") || condition == "github.event_name == 'push'",
                "{example}: {other}"
            );
        }
    }
}
