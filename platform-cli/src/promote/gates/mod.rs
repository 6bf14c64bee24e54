//! Promotion gates: evidence, read from the source environment, that what would be promoted
//! works there. Argo CD says whether every Application is Synced and Healthy at the pins and
//! since when they have been live; Prometheus says how fast the SLOs' error budgets burned over
//! that time and which alerts fire. Any gate that cannot be read refuses: no answer is never a
//! pass. A person may override a gate, with a reason that goes into the pull request.

pub mod argo;
pub mod prometheus;

use std::time::Duration;

use kube::api::{Api, DynamicObject, ListParams};
use platform_contracts::metrics::{HTTP_REQUEST_DURATION, HTTP_REQUESTS};
use serde::Serialize;
use time::OffsetDateTime;

use crate::cluster::applications::{NAMESPACE, application_resource};
use crate::manifest::Manifest;
use crate::manifest::ci::NoSigningIdentity;
use crate::manifest::pins::Pins;
use crate::manifest::resolve::{SliView, SloView};
use crate::model::components::Component;
use crate::model::{BlockingAlerts, Environment};

pub use prometheus::{Prometheus, PrometheusError};

/// One gate, as `--override-gate` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum GateName {
    /// Every Application of the source Synced and Healthy, at the pins promoted.
    Healthy,
    /// The pins live in the source at least the soak time.
    Soak,
    /// Each SLO's burn rate over the soak window at most the ceiling.
    BurnRate,
    /// None of the blocking alerts firing in the source.
    Alerts,
}

impl GateName {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Healthy => "healthy",
            Self::Soak => "soak",
            Self::BurnRate => "burn-rate",
            Self::Alerts => "alerts",
        }
    }
}

/// The gates of a promotion into one environment, its defaults applied.
#[derive(Debug, Clone)]
pub struct Gates {
    pub from: String,
    pub to: String,
    /// The soak as written (`24h`, also the burn-rate window) and as a duration; `None` is off.
    pub soak: Option<(String, Duration)>,
    pub max_burn_rate: Option<f64>,
    pub alerts: BlockingAlerts,
    /// The namespaces where a blocking severity refuses: the app's and its data's.
    pub namespaces: Vec<&'static str>,
    /// The source's SLOs, as its rendered alerts have them.
    pub slo: SloView,
    /// The Argo CD Applications the source should run: its resolved components.
    pub applications: Vec<&'static str>,
    pub prometheus_url: Option<String>,
    /// `X-Scope-OrgID` for a central query API, when the source ships its metrics there.
    pub tenant: Option<String>,
}

impl Gates {
    /// The gates of promoting `source` into `target`; `None` when no gate applies (none set,
    /// and `target` is not production).
    pub fn of(
        manifest: &Manifest,
        source: &Environment,
        target: &Environment,
    ) -> Result<Option<Self>, NoSigningIdentity> {
        let (set, production) = (&target.promotion, target.production);
        if !set.gated(production) {
            return Ok(None);
        }
        let resolved = crate::manifest::resolve::resolve_environment(manifest, source)?;
        Ok(Some(Self {
            from: source.name.clone(),
            to: target.name.clone(),
            soak: set.effective_soak(production),
            max_burn_rate: set.effective_max_burn_rate(production),
            alerts: set.effective_alerts(production),
            namespaces: vec![Component::App.spec().namespace, Component::Valkey.spec().namespace],
            slo: resolved.slo,
            applications: resolved.components.iter().map(|c| c.name).collect(),
            prometheus_url: set.prometheus_url.clone(),
            tenant: resolved.observability.central.then_some(resolved.observability.tenant),
        }))
    }

    /// The in-cluster Prometheus of kube-prometheus-stack, as its chart names its Service.
    pub fn in_cluster(client: kube::Client) -> Prometheus {
        let spec = Component::KubePrometheusStack.spec();
        Prometheus::through_api_server(client, spec.namespace, &format!("{}-prometheus", spec.name), 9090)
    }

    /// The bad-request ratio of one SLI over `window`: the expression of the rendered recording
    /// rule `slo:app_http_<ratio>:ratio_rate<window>`.
    pub fn ratio_query(&self, ratio: &str, window: &str) -> String {
        let requests = HTTP_REQUESTS.name;
        let duration = HTTP_REQUEST_DURATION.name;
        if ratio == "errors" {
            format!("sum(rate({requests}{{status=~\"5..\"}}[{window}])) / sum(rate({requests}[{window}]))")
        } else {
            format!(
                "1 - ( sum(rate({duration}_bucket{{le=\"{le}\"}}[{window}])) / sum(rate({duration}_count[{window}])) )",
                le = self.slo.latency_le
            )
        }
    }

    /// Firing alerts that block: by name anywhere, by severity in the app's namespaces.
    pub fn alerts_query(&self) -> Option<String> {
        let mut parts = Vec::new();
        if !self.alerts.names.is_empty() {
            parts.push(format!(
                "ALERTS{{alertstate=\"firing\",alertname=~\"{}\"}}",
                self.alerts.names.join("|")
            ));
        }
        if !self.alerts.severities.is_empty() {
            parts.push(format!(
                "ALERTS{{alertstate=\"firing\",severity=~\"{}\",namespace=~\"{}\"}}",
                self.alerts.severities.join("|"),
                self.namespaces.join("|")
            ));
        }
        (!parts.is_empty()).then(|| parts.join(" or "))
    }
}

/// A gate's outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "verdict", content = "why")]
pub enum Verdict {
    Pass,
    Refuse(String),
    /// Would have refused for this reason; a person overrode it.
    Overridden(String),
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Pass => f.write_str("pass"),
            Self::Refuse(why) => write!(f, "refused: {why}"),
            Self::Overridden(why) => write!(f, "overridden: {why}"),
        }
    }
}

/// One row of the evidence: what was asked, what came back, against what.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    pub gate: GateName,
    /// What this row measures, when a gate has several (an SLI).
    pub subject: String,
    pub query: String,
    pub observed: String,
    pub threshold: String,
    pub window: String,
    pub verdict: Verdict,
}

impl Evidence {
    /// The gate's name, with its subject where it has one: `burn-rate (latency)`.
    pub fn label(&self) -> String {
        if self.subject.is_empty() {
            self.gate.as_str().to_string()
        } else {
            format!("{} ({})", self.gate.as_str(), self.subject)
        }
    }
}

/// Who overrode which gates, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Override {
    pub gates: Vec<GateName>,
    pub reason: String,
    pub by: String,
}

/// Everything the gates found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub from: String,
    pub to: String,
    pub prometheus: String,
    pub rows: Vec<Evidence>,
    pub overridden: Option<Override>,
}

impl Report {
    pub fn refusals(&self) -> impl Iterator<Item = &Evidence> {
        self.rows.iter().filter(|r| matches!(r.verdict, Verdict::Refuse(_)))
    }

    /// One line per refusing gate: its reason, query, value and threshold.
    pub fn refusal_text(&self) -> String {
        self.refusals()
            .map(|r| {
                let why = match &r.verdict {
                    Verdict::Refuse(why) => why.as_str(),
                    Verdict::Pass | Verdict::Overridden(_) => "",
                };
                format!(
                    "\n  gate {}: {why}\n    query `{}`: observed {}, threshold {}, window {}",
                    r.label(),
                    r.query,
                    r.observed,
                    r.threshold,
                    r.window
                )
            })
            .collect()
    }

    /// The evidence as a Markdown table, for the pull request.
    pub fn markdown(&self) -> String {
        let mut out = format!(
            "### Gates: evidence from {} (Prometheus: {})\n\n| gate | query | observed | threshold | window | verdict |\n| --- | --- | --- | --- | --- | --- |\n",
            self.from, self.prometheus
        );
        for r in &self.rows {
            let gate = r.label();
            let verdict = match &r.verdict {
                Verdict::Pass => "pass".to_string(),
                other => format!("**{other}**"),
            };
            out.push_str(&format!(
                "| {gate} | `{}` | {} | {} | {} | {} |\n",
                r.query.replace('|', "\\|"),
                r.observed.replace('|', "\\|"),
                r.threshold,
                r.window,
                verdict.replace('|', "\\|")
            ));
        }
        if let Some(o) = &self.overridden {
            let names: Vec<&str> = o.gates.iter().map(|g| g.as_str()).collect();
            out.push_str(&format!(
                "\n**Gates overridden** ({}) by {}: {}\n",
                names.join(", "),
                o.by,
                o.reason
            ));
        }
        out
    }
}

/// What the gates read: the source's Argo CD (a kube client, or why there is none) and its
/// Prometheus, as of `now`.
pub struct Source<'a> {
    pub cluster: Result<kube::Client, String>,
    pub prometheus: Result<Prometheus, String>,
    pub pins: &'a Pins,
    pub pins_at: &'a argo::PinsAt<'a>,
    pub now: OffsetDateTime,
}

impl std::fmt::Debug for Source<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Source")
            .field("prometheus", &self.prometheus)
            .field("pins", self.pins)
            .field("now", &self.now)
            .finish_non_exhaustive()
    }
}

/// Every gate of `gates`, read from `source`; overridden gates are read too, so the pull
/// request shows what was overridden.
pub async fn evaluate(gates: &Gates, source: &Source<'_>, overridden: Option<Override>) -> Report {
    let apps = match &source.cluster {
        Ok(client) => {
            let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), NAMESPACE, &application_resource());
            api.list(&ListParams::default())
                .await
                .map(|l| l.items)
                .map_err(|e| format!("cannot list the Applications of {}: {e}", gates.from))
        }
        Err(e) => Err(e.clone()),
    };
    let mut rows = vec![healthy(&apps, &gates.applications, source)];
    if let Some((text, soak)) = &gates.soak {
        rows.push(soak_row(&apps, source, text, *soak));
    }
    if let (Some(ceiling), Some((window, _))) = (gates.max_burn_rate, &gates.soak) {
        for sli in &gates.slo.indicators {
            rows.push(burn_rate_row(gates, source, sli, window, ceiling).await);
        }
    }
    if let Some(query) = gates.alerts_query() {
        rows.push(alerts_row(source, query).await);
    }
    if let Some(o) = &overridden {
        for row in &mut rows {
            if let (true, Verdict::Refuse(why)) = (o.gates.contains(&row.gate), &row.verdict) {
                row.verdict = Verdict::Overridden(why.clone());
            }
        }
    }
    Report {
        from: gates.from.clone(),
        to: gates.to.clone(),
        prometheus: source
            .prometheus
            .as_ref()
            .map_or("none".to_string(), Prometheus::describe),
        rows,
        overridden,
    }
}

/// One SLI's burn rate over the soak window against the ceiling; no requests at all is no
/// evidence, so it refuses.
async fn burn_rate_row(gates: &Gates, source: &Source<'_>, sli: &SliView, window: &str, ceiling: f64) -> Evidence {
    let query = format!("({}) / {}", gates.ratio_query(sli.ratio, window), sli.budget);
    let (observed, verdict) = match ask(source, &query).await {
        Err(e) => ("no answer".to_string(), Verdict::Refuse(e)),
        Ok(samples) => match samples.first().map(|s| s.value).filter(|v| !v.is_nan()) {
            None => (
                "no requests".to_string(),
                Verdict::Refuse(format!(
                    "no {} requests in the last {window}: nothing to judge the SLO by",
                    gates.from
                )),
            ),
            Some(rate) if rate > ceiling => (
                format!("{rate:.2}"),
                Verdict::Refuse(format!(
                    "burn rate {rate:.2} is above {ceiling}: the {} budget went {rate:.1}× as fast as it accrues",
                    sli.name.to_lowercase()
                )),
            ),
            Some(rate) => (format!("{rate:.2}"), Verdict::Pass),
        },
    };
    Evidence {
        gate: GateName::BurnRate,
        subject: sli.name.to_lowercase(),
        query,
        observed,
        threshold: format!("≤ {ceiling}"),
        window: window.to_string(),
        verdict,
    }
}

/// The blocking alerts firing now, each named with its severity and namespace.
async fn alerts_row(source: &Source<'_>, query: String) -> Evidence {
    let (observed, verdict) = match ask(source, &query).await {
        Err(e) => ("no answer".to_string(), Verdict::Refuse(e)),
        Ok(samples) if samples.is_empty() => ("none firing".to_string(), Verdict::Pass),
        Ok(samples) => {
            let mut firing: Vec<String> = samples
                .iter()
                .map(|s| {
                    let label = |k: &str| s.labels.get(k).map_or("", String::as_str).to_string();
                    let ns = label("namespace");
                    let at = if ns.is_empty() {
                        String::new()
                    } else {
                        format!(" in {ns}")
                    };
                    format!("{} ({}{at})", label("alertname"), label("severity"))
                })
                .collect();
            firing.sort();
            firing.dedup();
            let list = firing.join(", ");
            (list.clone(), Verdict::Refuse(format!("firing: {list}")))
        }
    };
    Evidence {
        gate: GateName::Alerts,
        subject: String::new(),
        query,
        observed,
        threshold: "none firing".into(),
        window: "now".into(),
        verdict,
    }
}

async fn ask(source: &Source<'_>, query: &str) -> Result<Vec<prometheus::Sample>, String> {
    match &source.prometheus {
        Ok(p) => p.query(query).await.map_err(|e| e.to_string()),
        Err(e) => Err(e.clone()),
    }
}

fn healthy(apps: &Result<Vec<DynamicObject>, String>, expected: &[&str], source: &Source<'_>) -> Evidence {
    let (observed, verdict) = match apps {
        Err(e) => ("no answer".to_string(), Verdict::Refuse(e.clone())),
        Ok(apps) => {
            let health = argo::health(apps, expected, source.pins, source.pins_at);
            let observed = format!("{} of {} Synced and Healthy", health.ready, health.total);
            if health.problems.is_empty() {
                (observed, Verdict::Pass)
            } else {
                (observed, Verdict::Refuse(health.problems.join("; ")))
            }
        }
    };
    Evidence {
        gate: GateName::Healthy,
        subject: String::new(),
        query: format!("Argo CD Applications in {NAMESPACE}: sync, health, revision"),
        observed,
        threshold: "all Synced and Healthy at the pins".into(),
        window: "now".into(),
        verdict,
    }
}

fn soak_row(apps: &Result<Vec<DynamicObject>, String>, source: &Source<'_>, text: &str, soak: Duration) -> Evidence {
    let (observed, verdict) = match apps {
        Err(e) => ("no answer".to_string(), Verdict::Refuse(e.clone())),
        Ok(apps) => match argo::live_since(apps, source.pins, source.pins_at) {
            Err(e) => ("not live".to_string(), Verdict::Refuse(e)),
            Ok((since, app)) => {
                let live = Duration::try_from(source.now - since).unwrap_or_default();
                let observed = format!(
                    "live {} (since {}, {app})",
                    span(live),
                    since
                        .format(&time::format_description::well_known::Rfc3339)
                        .unwrap_or_default()
                );
                if live >= soak {
                    (observed, Verdict::Pass)
                } else {
                    let left = span(soak.saturating_sub(live));
                    (observed, Verdict::Refuse(format!("{left} left of the {text} soak")))
                }
            }
        },
    };
    Evidence {
        gate: GateName::Soak,
        subject: String::new(),
        query: "Argo CD Applications' sync history: the oldest deployment of the pins still running".into(),
        observed,
        threshold: format!("≥ {text}"),
        window: text.into(),
        verdict,
    }
}

/// A duration in hours and minutes, e.g. `20h 48m`.
fn span(d: Duration) -> String {
    let minutes = d.as_secs() / 60;
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m}m"),
        (h, 0) => format!("{h}h"),
        (h, m) => format!("{h}h {m}m"),
    }
}
