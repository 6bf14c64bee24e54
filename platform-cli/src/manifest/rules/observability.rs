//! Metrics, logs and traces, and the app's SLOs (`environments[].observability`, `app.slo`).

use super::Checker;
use super::text::is_dns_label;
use crate::model::{ObservabilityMode, limits};
use platform_contracts::metrics::LATENCY_BUCKETS_MS;

pub(super) fn check_observability(c: &mut Checker<'_>, p: &str, env: &crate::model::Environment) {
    let o = &env.observability;
    let p = format!("{p}/observability");
    let central = [
        (
            "mimirUrl",
            &o.mimir_url,
            "the remote_write URL of the central Mimir",
            "e.g. https://mimir.example.com/api/v1/push",
        ),
        (
            "lokiUrl",
            &o.loki_url,
            "the push URL of the central Loki",
            "e.g. https://loki.example.com/loki/api/v1/push",
        ),
        (
            "tempoUrl",
            &o.tempo_url,
            "the OTLP endpoint of the central Tempo",
            "e.g. https://tempo.example.com:4317",
        ),
    ];
    for (field, value, what, example) in central {
        match (o.mode, value) {
            (ObservabilityMode::Central, None) => {
                c.missing(&p, field, what, format!("{example}, or use mode: in-cluster"));
            }
            (ObservabilityMode::Central, Some(url)) => c.https_url(&format!("{p}/{field}"), url, what),
            (ObservabilityMode::InCluster, Some(_)) => c.invalid(
                &format!("{p}/{field}"),
                format!("`{field}` is set but mode is in-cluster"),
                format!("{field} only with mode: central"),
                "set `mode: central` to ship signals to the central backends, or remove it",
            ),
            (ObservabilityMode::InCluster, None) => {}
        }
    }
    if let Some(tenant) = &o.tenant {
        if o.mode == ObservabilityMode::InCluster {
            c.invalid(
                &format!("{p}/tenant"),
                "`tenant` is set but mode is in-cluster",
                "tenant only with mode: central",
                "the tenant header is sent to the central backends only",
            );
        } else if !is_dns_label(tenant) {
            c.dns_label(&format!("{p}/tenant"), tenant);
        }
    }
    let r = &o.retention;
    c.range(
        &format!("{p}/retention/metricsDays"),
        r.metrics_days,
        1,
        limits::METRICS_DAYS_MAX,
        "days of metrics kept in-cluster",
    );
    c.range(
        &format!("{p}/retention/logsDays"),
        r.logs_days,
        1,
        limits::LOGS_DAYS_MAX,
        "days of logs kept in-cluster",
    );
    c.range(
        &format!("{p}/retention/tracesDays"),
        r.traces_days,
        1,
        limits::TRACES_DAYS_MAX,
        "days of traces kept in-cluster",
    );
}

pub(super) fn check_slo(c: &mut Checker<'_>, slo: &crate::model::Slo) {
    for (pointer, value) in [
        ("/app/slo/availability", slo.availability),
        ("/app/slo/latency/target", slo.latency.target),
    ] {
        let (low, high) = limits::OBJECTIVE;
        if !(low..=high).contains(&value) {
            c.invalid(
                pointer,
                format!("{value} is not a usable objective"),
                format!("a percentage from {low} to {high}"),
                "write it as a percentage: 99.9 means 0.1% of requests may fail",
            );
        }
    }
    if !LATENCY_BUCKETS_MS.contains(&slo.latency.threshold_ms) {
        let buckets: Vec<String> = LATENCY_BUCKETS_MS.iter().map(u32::to_string).collect();
        c.invalid(
            "/app/slo/latency/thresholdMs",
            format!(
                "{} ms is not a bucket boundary of the app's latency histogram",
                slo.latency.threshold_ms
            ),
            format!("one of: {}", buckets.join(", ")),
            "the alert counts requests below a bucket boundary (docs/metrics.md); pick the nearest one",
        );
    }
}
