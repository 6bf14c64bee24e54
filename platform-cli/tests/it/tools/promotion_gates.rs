//! The promotion gates against a real Prometheus (Debian's package) serving a backfilled history
//! with the source environment's rendered recording and alerting rules loaded, reached through
//! the stand-in API server's service proxy as `platform promote` reaches it through a cluster's.
//! Argo CD's side is the stand-in's Application list, shaped as Argo CD reports it.

use std::sync::Arc;

use http::{Request, Response, StatusCode};
use kube::client::Body;
use platform_cli::manifest::{self, LoadedManifest, pins::Pins};
use platform_cli::promote::gates::{self, GateName, Gates, Override, Prometheus, Verdict};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::support::prometheus::{History, PrometheusServer, rule_files};
use test_support::apiserver::reply;
use test_support::{free_port, repository_root};

const PROXY: &str = "/api/v1/namespaces/monitoring/services/http:kube-prometheus-stack-prometheus:9090/proxy";
/// A day and two hours of history: the 24h soak window and a little before it.
const MINUTES: i64 = 26 * 60;
const PER_MINUTE: f64 = 600.0;

/// The repository's own manifest: staging is promoted into prod, a production environment
/// with the default gates.
fn manifest() -> LoadedManifest {
    manifest::load(&repository_root().join("platform.yaml")).expect("platform.yaml is valid")
}

fn gates(loaded: &LoadedManifest) -> Gates {
    let m = &loaded.manifest;
    Gates::of(
        m,
        m.environment("staging").expect("staging"),
        m.environment("prod").expect("prod"),
    )
    .expect("resolves")
    .expect("promotions into production are gated")
}

/// Staging's Prometheus: its rendered rules, over `history`.
fn prometheus(history: &History) -> PrometheusServer {
    history.serve(&rule_files(&repository_root().join("observability/staging/rules")))
}

/// A quiet day: 600 requests a minute, one in 10,000 failing, one in 1,000 slow.
fn healthy_traffic(now: i64) -> History {
    let mut history = History::default();
    history.app_traffic(now, MINUTES, PER_MINUTE, |_| 0.06, |_| 0.6);
    history
}

/// What Argo CD reports in staging: every Application staging runs, Synced and Healthy (but
/// `degraded`, and without `missing`): the app deployed `deployed_hours` ago at revision
/// `rev-now` (after `rev-old`, other pins), each pinned component at its chart for 50 hours.
fn applications(
    pins: &Pins,
    now: OffsetDateTime,
    deployed_hours: i64,
    degraded: Option<&str>,
    missing: Option<&str>,
) -> Value {
    let at = |hours: i64| {
        (now - time::Duration::hours(hours))
            .format(&time::format_description::well_known::Rfc3339)
            .expect("time")
    };
    let loaded = manifest();
    let items: Vec<Value> = gates(&loaded)
        .applications
        .into_iter()
        .filter(|name| Some(*name) != missing)
        .map(|name| {
            let health = if Some(name) == degraded { "Degraded" } else { "Healthy" };
            let chart = pins
                .components
                .iter()
                .find(|(c, _)| c.spec().name == name)
                .map(|(_, v)| v);
            let (sync, history) = match (name, chart) {
                ("app", _) => (
                    json!({ "status": "Synced", "revision": "rev-now" }),
                    json!([{ "id": 1, "revision": "rev-old", "deployedAt": at(60) },
                           { "id": 2, "revision": "rev-now", "deployedAt": at(deployed_hours) }]),
                ),
                (_, Some(chart)) => (
                    json!({ "status": "Synced", "revisions": [chart, "rev-now"] }),
                    json!([{ "id": 1, "revisions": [chart, "rev-old"], "deployedAt": at(50) }]),
                ),
                (_, None) => (
                    json!({ "status": "Synced", "revision": "rev-now" }),
                    json!([{ "id": 1, "revision": "rev-old", "deployedAt": at(50) }]),
                ),
            };
            json!({ "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
                    "metadata": { "name": name, "namespace": "argocd" },
                    "status": { "sync": sync, "health": { "status": health }, "history": history } })
        })
        .collect();
    json!({ "apiVersion": "argoproj.io/v1alpha1", "kind": "ApplicationList", "metadata": { "resourceVersion": "1" },
            "items": items })
}

/// The stand-in API server: Argo CD's Applications, and the service proxy to `prometheus`
/// (answering 503, as the API server does for a Service without endpoints, when there is none).
fn api_server(apps: Value, prometheus: Option<String>) -> kube::Client {
    let apps = Arc::new(apps);
    let service = tower::service_fn(move |request: Request<Body>| {
        let (apps, prometheus) = (apps.clone(), prometheus.clone());
        async move {
            let path = request.uri().path().to_string();
            let query = request.uri().query().unwrap_or_default().to_string();
            let response = if path == "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications" {
                reply(StatusCode::OK, &apps)
            } else if let Some(rest) = path.strip_prefix(PROXY) {
                match prometheus {
                    Some(base) => {
                        let answer = reqwest::get(format!("{base}{rest}?{query}"))
                            .await
                            .expect("prometheus answers");
                        let status = StatusCode::from_u16(answer.status().as_u16()).expect("status");
                        let body = answer.bytes().await.expect("body");
                        Response::builder()
                            .status(status)
                            .header("content-type", "application/json")
                            .body(Body::from(body.to_vec()))
                            .expect("response")
                    }
                    None => reply(
                        StatusCode::SERVICE_UNAVAILABLE,
                        &json!({ "kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 503, "reason": "ServiceUnavailable",
                                 "message": "no endpoints available for service \"http:kube-prometheus-stack-prometheus:9090\"" }),
                    ),
                }
            } else {
                panic!("the stand-in serves no {path}");
            };
            Ok::<_, std::convert::Infallible>(response)
        }
    });
    kube::Client::new(service, "default")
}

/// The gates of promoting `pins` from staging into prod, read from `cluster` and `prometheus`;
/// the repository holds staging's pins at `rev-now` and others at `rev-old`.
async fn evaluate(
    cluster: kube::Client,
    prometheus: Option<Prometheus>,
    pins: &Pins,
    now: OffsetDateTime,
    overridden: Option<Override>,
) -> gates::Report {
    let loaded = manifest();
    let gates = gates(&loaded);
    let current = staging_pins();
    let mut older = current.clone();
    older.app_image = "ghcr.io/acme/app@sha256:older".into();
    let pins_at = |revision: &str| match revision {
        "rev-now" => Some(current.clone()),
        "rev-old" => Some(older.clone()),
        _ => None,
    };
    let source = gates::Source {
        prometheus: Ok(prometheus.unwrap_or_else(|| Gates::in_cluster(cluster.clone()))),
        cluster: Ok(cluster),
        pins,
        pins_at: &pins_at,
        now,
    };
    gates::evaluate(&gates, &source, overridden).await
}

fn staging_pins() -> Pins {
    let loaded = manifest();
    manifest::pins::effective(&loaded.manifest, "staging").expect("staging")
}

fn verdict(report: &gates::Report, label: &str) -> Verdict {
    report
        .rows
        .iter()
        .find(|r| r.label() == label)
        .unwrap_or_else(|| panic!("no row {label} in {report:#?}"))
        .verdict
        .clone()
}

fn refusal(report: &gates::Report, label: &str) -> String {
    match verdict(report, label) {
        Verdict::Refuse(why) => why,
        other => panic!("{label} should refuse, it says {other:?}: {report:#?}"),
    }
}

fn now() -> (OffsetDateTime, i64) {
    let now = OffsetDateTime::now_utc();
    (now, now.unix_timestamp())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_healthy_source_passes_every_gate() {
    let (now, seconds) = now();
    let server = prometheus(&healthy_traffic(seconds));
    let pins = staging_pins();
    let cluster = api_server(applications(&pins, now, 30, None, None), Some(server.url.clone()));
    let report = evaluate(cluster, None, &pins, now, None).await;
    let labels: Vec<String> = report.rows.iter().map(gates::Evidence::label).collect();
    assert_eq!(
        labels,
        [
            "healthy",
            "soak",
            "burn-rate (availability)",
            "burn-rate (latency)",
            "alerts"
        ]
    );
    for row in &report.rows {
        assert_eq!(row.verdict, Verdict::Pass, "{row:#?}");
    }
    // One failure in 10,000 against a budget of one in 1,000: a tenth of the budget's pace.
    let availability = report
        .rows
        .iter()
        .find(|r| r.label() == "burn-rate (availability)")
        .expect("row");
    assert_eq!(availability.observed, "0.10", "{availability:#?}");
    assert_eq!(availability.window, "24h");
    let latency = report
        .rows
        .iter()
        .find(|r| r.label() == "burn-rate (latency)")
        .expect("row");
    assert_eq!(latency.observed, "0.10", "{latency:#?}");
    assert!(
        report
            .markdown()
            .contains("| healthy | `Argo CD Applications in argocd"),
        "{}",
        report.markdown()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_error_burst_in_the_window_refuses_with_the_burn_rate() {
    let (now, seconds) = now();
    let mut history = History::default();
    // Two hours ago a bad release: one request in ten fails for an hour and a half.
    history.app_traffic(
        seconds,
        MINUTES,
        PER_MINUTE,
        |ago| if (30..120).contains(&ago) { 60.0 } else { 0.06 },
        |_| 0.6,
    );
    let server = prometheus(&history);
    let pins = staging_pins();
    let cluster = api_server(applications(&pins, now, 30, None, None), Some(server.url.clone()));
    let report = evaluate(cluster, None, &pins, now, None).await;
    let why = refusal(&report, "burn-rate (availability)");
    // 90 minutes at 10% in 24 hours: 0.00635 of requests failed, 6.3 times the budget of 0.001.
    assert!(why.starts_with("burn rate 6.3"), "{why}");
    assert!(why.contains("above 1"), "{why}");
    let row = report
        .rows
        .iter()
        .find(|r| r.label() == "burn-rate (availability)")
        .expect("row");
    assert!(
        row.query.contains("[24h]") && row.query.ends_with("/ 0.001"),
        "{}",
        row.query
    );
    assert_eq!(verdict(&report, "burn-rate (latency)"), Verdict::Pass);
    assert_eq!(verdict(&report, "healthy"), Verdict::Pass);
    assert!(
        report.refusal_text().contains("observed 6.3"),
        "{}",
        report.refusal_text()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_firing_critical_alert_refuses_naming_it() {
    let (now, seconds) = now();
    let mut history = healthy_traffic(seconds);
    history.firing(
        "KubePodCrashLooping",
        "severity=\"critical\",namespace=\"data\",pod=\"valkey-0\"",
        seconds,
        20,
    );
    // Critical, but in a namespace that is not the app's: it does not block.
    history.firing(
        "KubeNodeNotReady",
        "severity=\"critical\",namespace=\"kube-system\"",
        seconds,
        20,
    );
    let server = prometheus(&history);
    let pins = staging_pins();
    let cluster = api_server(applications(&pins, now, 30, None, None), Some(server.url.clone()));
    let report = evaluate(cluster, None, &pins, now, None).await;
    assert_eq!(
        refusal(&report, "alerts"),
        "firing: KubePodCrashLooping (critical in data)"
    );
    for label in ["healthy", "soak", "burn-rate (availability)"] {
        assert_eq!(verdict(&report, label), Verdict::Pass, "{label}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_source_younger_than_the_soak_refuses_with_the_time_left() {
    let (now, seconds) = now();
    let server = prometheus(&healthy_traffic(seconds));
    let pins = staging_pins();
    let cluster = api_server(applications(&pins, now, 3, None, None), Some(server.url.clone()));
    let report = evaluate(cluster, None, &pins, now, None).await;
    assert_eq!(refusal(&report, "soak"), "21h left of the 24h soak");
    let row = report.rows.iter().find(|r| r.label() == "soak").expect("row");
    assert!(row.observed.starts_with("live 3h (since "), "{}", row.observed);
    // Valkey has run its chart for 50 hours; the app's newest pins are what counts.
    assert!(row.observed.ends_with(", app)"), "{}", row.observed);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_application_that_is_not_healthy_or_not_at_the_pins_refuses() {
    let (now, seconds) = now();
    let server = prometheus(&healthy_traffic(seconds));
    let pins = staging_pins();
    let cluster = api_server(
        applications(&pins, now, 30, Some("valkey"), None),
        Some(server.url.clone()),
    );
    let report = evaluate(cluster, None, &pins, now, None).await;
    assert_eq!(refusal(&report, "healthy"), "valkey is Synced and Degraded");
    // An Application the source should run is not there at all.
    let cluster = api_server(
        applications(&pins, now, 30, None, Some("loki")),
        Some(server.url.clone()),
    );
    let report = evaluate(cluster, None, &pins, now, None).await;
    assert_eq!(
        refusal(&report, "healthy"),
        "no Application `loki`, which the source should run"
    );
    // Staging runs other pins than those promoted (the manifest moved on since its last sync).
    let mut newer = pins.clone();
    newer.app_chart_version = "0.2.0".into();
    let cluster = api_server(applications(&pins, now, 30, None, None), Some(server.url.clone()));
    let report = evaluate(cluster, None, &newer, now, None).await;
    let why = refusal(&report, "healthy");
    assert!(
        why.starts_with("app is synced at rev-now, a revision that does not carry the pins promoted"),
        "{why}"
    );
    assert_eq!(
        refusal(&report, "soak"),
        "app's last deployment is not at the pins promoted"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn prometheus_unreachable_or_answering_garbage_refuses_never_passes() {
    let (now, _) = now();
    let pins = staging_pins();
    // No endpoints behind the Service: the API server's 503.
    let report = evaluate(
        api_server(applications(&pins, now, 30, None, None), None),
        None,
        &pins,
        now,
        None,
    )
    .await;
    for label in ["burn-rate (availability)", "burn-rate (latency)", "alerts"] {
        let why = refusal(&report, label);
        assert!(
            why.contains("answered HTTP 503: no endpoints available"),
            "{label}: {why}"
        );
    }
    // Nothing listening at the URL.
    let closed = Prometheus::at(
        url::Url::parse(&format!("http://127.0.0.1:{}/", free_port())).expect("url"),
        None,
    );
    let cluster = api_server(applications(&pins, now, 30, None, None), None);
    let report = evaluate(cluster, Some(closed), &pins, now, None).await;
    assert!(refusal(&report, "alerts").contains("did not answer"), "{report:#?}");
    // A web server that is not Prometheus (a login page in front of it, say).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for stream in listener.incoming().take(3) {
            let mut stream = stream.expect("stream");
            let mut buffer = [0u8; 4096];
            let _ = stream.read(&mut buffer);
            let page = "<html><body>Sign in</body></html>";
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{page}",
                page.len()
            );
        }
    });
    let garbage = Prometheus::at(
        url::Url::parse(&format!("http://127.0.0.1:{port}/")).expect("url"),
        None,
    );
    let cluster = api_server(applications(&pins, now, 30, None, None), None);
    let report = evaluate(cluster, Some(garbage), &pins, now, None).await;
    for label in ["burn-rate (availability)", "burn-rate (latency)", "alerts"] {
        let why = refusal(&report, label);
        assert!(
            why.contains("did not answer as Prometheus' query API does") && why.contains("<html><body>Sign in"),
            "{label}: {why}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_overridden_gate_is_read_and_recorded_not_skipped() {
    let (now, seconds) = now();
    let server = prometheus(&healthy_traffic(seconds));
    let pins = staging_pins();
    let cluster = api_server(applications(&pins, now, 3, None, None), Some(server.url.clone()));
    let overridden = Override {
        gates: vec![GateName::Soak],
        reason: "hotfix for incident 42".into(),
        by: "Ada <ada@example.com>".into(),
    };
    let report = evaluate(cluster, None, &pins, now, Some(overridden)).await;
    assert_eq!(
        verdict(&report, "soak"),
        Verdict::Overridden("21h left of the 24h soak".into())
    );
    assert_eq!(report.refusals().count(), 0);
    let markdown = report.markdown();
    assert!(
        markdown.contains("**Gates overridden** (soak) by Ada <ada@example.com>: hotfix for incident 42"),
        "{markdown}"
    );
    assert!(
        markdown.contains("**overridden: 21h left of the 24h soak**"),
        "{markdown}"
    );
}
