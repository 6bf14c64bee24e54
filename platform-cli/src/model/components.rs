//! The platform's components, one table. The manifest's `components` keys and their defaults,
//! the resolver's Argo CD Applications, the render plan and the table in docs/components.md all
//! derive from [`Component::spec`]; adding a component is a variant, its entry and its templates.

use serde::{Deserialize, Serialize};
use strum::{IntoStaticStr, VariantArray};

use super::{Challenge, DnsRecords, Provider, SecretStore};

/// A component of the platform, in the order its Argo CD Applications are listed.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, IntoStaticStr, VariantArray,
)]
#[serde(rename_all = "camelCase")]
#[strum(serialize_all = "camelCase")]
pub enum Component {
    Namespaces,
    GatewayApiCrds,
    ExternalSecrets,
    SecretStore,
    ArgoCd,
    KubePrometheusStack,
    Kyverno,
    CertManager,
    CloudnativePg,
    AwsLoadBalancerController,
    Karpenter,
    Metallb,
    NginxGatewayFabric,
    ExternalDns,
    BarmanCloud,
    ClusterIssuers,
    KyvernoPolicies,
    KarpenterNodes,
    MetallbPool,
    Gateway,
    ValkeyTls,
    Valkey,
    Postgres,
    Loki,
    Tempo,
    Alloy,
    Observability,
    App,
}

/// Where Argo CD gets a component's manifests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A chart from a Helm repository at `version` unless the manifest pins another; `platform`
    /// renders its values from `templates/helm/<name>.yaml.tera`.
    Chart {
        repository: &'static str,
        chart: &'static str,
        version: &'static str,
        /// The chart versions the values template is written for, as a semver requirement:
        /// from the release the upstream checks run on up to the next breaking one (the next
        /// major, or the next minor of a 0.x chart); `platform validate` refuses a pin outside it.
        supported: &'static str,
    },
    /// A folder of plain manifests in an upstream Git repository, at the tag `v<version>` of
    /// another component's chart: what that chart's release was built and tested against.
    Git {
        repository: &'static str,
        path: &'static str,
        tag_of: Component,
    },
    /// Plain manifests rendered from `templates/<templates>/<file>.tera` into `folder`.
    Manifests {
        templates: &'static str,
        files: &'static [ManifestFile],
        folder: Folder,
    },
    /// The app's own chart in this repository (`helm/charts/app`), versioned by `app.chartVersion`.
    AppChart,
}

/// One file of a [`Source::Manifests`] component, rendered where `needs` holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ManifestFile {
    pub path: &'static str,
    pub needs: Needs,
}

const fn always(path: &'static str) -> ManifestFile {
    ManifestFile {
        path,
        needs: Needs::Always,
    }
}

/// The repository folder of a component's rendered manifests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Folder {
    /// `argocd/<env>/manifests/<name>`.
    Argocd,
    /// `<top>/<env>`, a folder of its own that users review apart from the Applications.
    Top(&'static str),
}

/// Which environments run a component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    Always,
    /// Only where PostgreSQL runs in the cluster (`database.mode: in-cluster`).
    InClusterDatabase,
    /// Only where Prometheus, Loki and Tempo run in the environment (`observability.mode: in-cluster`).
    InClusterObservability,
    /// Only on EKS.
    Eks,
    /// Only on an existing cluster given `loadBalancerAddresses`.
    Metallb,
    /// Only where external-dns makes the Gateway's records (`dns.records` other than `manual`).
    DnsRecords,
    /// Only where the Secrets live in a secret store (`secrets.store` other than `kubernetes`).
    SecretStore,
}

impl Needs {
    /// Whether an environment like `runs` meets it.
    pub fn holds(self, runs: &Runs) -> bool {
        match self {
            Needs::Always => true,
            Needs::InClusterDatabase => runs.database_in_cluster,
            Needs::InClusterObservability => runs.observability_in_cluster,
            Needs::Eks => runs.provider == Provider::Eks,
            Needs::Metallb => runs.metallb,
            Needs::DnsRecords => runs.dns_records != DnsRecords::Manual,
            Needs::SecretStore => runs.secret_store != SecretStore::Kubernetes,
        }
    }
}

/// The facts of an environment that decide which components it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Runs {
    pub provider: Provider,
    pub database_in_cluster: bool,
    pub observability_in_cluster: bool,
    /// MetalLB gives LoadBalancer Services addresses (`loadBalancerAddresses` is set).
    pub metallb: bool,
    /// Who makes the Gateway's DNS records.
    pub dns_records: DnsRecords,
    /// How Let's Encrypt validates the Gateway's certificates.
    pub challenge: Challenge,
    /// Where the Secrets of the table live.
    pub secret_store: SecretStore,
}

/// One row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    /// Argo CD Application and file name, e.g. `cert-manager`.
    pub name: &'static str,
    pub namespace: &'static str,
    /// Argo CD sync wave: CRDs and operators before what uses them.
    pub wave: i32,
    pub source: Source,
    pub needs: Needs,
}

/// The OSS Loki and Tempo charts' home since 2026 (grafana/helm-charts keeps only GEL).
const GRAFANA_COMMUNITY: &str = "https://grafana-community.github.io/helm-charts";

/// Kyverno's CEL policies (`policies.kyverno.io`) and the components' exceptions to them, plus
/// `kyverno test` cases for users' CI (in `tests/`, which Argo CD does not sync: directory
/// sources are not recursive).
const POLICY_FILES: &[ManifestFile] = &[
    always("pod-security-baseline.yaml"),
    always("pod-security-restricted.yaml"),
    always("require-labels.yaml"),
    always("require-tenant-org-label.yaml"),
    always("disallow-latest-tag.yaml"),
    always("require-app-image-digest.yaml"),
    always("verify-app-images.yaml"),
    always("tenant-network-isolation.yaml"),
    always("exceptions.yaml"),
    always("tests/kyverno-test.yaml"),
    always("tests/resources.yaml"),
];

/// A kustomization (so dashboards become ConfigMaps), PrometheusRules, and the monitors of what
/// has none of its own (the app, NGF's control plane) or cannot bring its own (External Secrets
/// Operator).
const OBSERVABILITY_FILES: &[ManifestFile] = &[
    always("kustomization.yaml"),
    always("rules/app-slo.yaml"),
    always("rules/platform.yaml"),
    always("servicemonitors/app.yaml"),
    always("servicemonitors/nginx-gateway-fabric.yaml"),
    // External Secrets Operator's controller: it syncs before the ServiceMonitor CRD exists.
    ManifestFile {
        path: "servicemonitors/external-secrets.yaml",
        needs: Needs::SecretStore,
    },
];

impl Component {
    /// The table: an exhaustive match, so a component without an entry does not compile.
    pub const fn spec(self) -> Spec {
        use Component as C;
        let (name, namespace, wave, source, needs) = match self {
            C::Namespaces => (
                "namespaces",
                "argocd",
                -6,
                manifests("manifests/namespaces", const { &[always("namespaces.yaml")] }),
                Needs::Always,
            ),
            // The standard-channel Gateway API CRDs NGINX Gateway Fabric supports, from its own
            // repository at its release tag (the chart does not carry them).
            C::GatewayApiCrds => (
                "gateway-api-crds",
                "nginx-gateway",
                -6,
                Source::Git {
                    repository: "https://github.com/nginx/nginx-gateway-fabric",
                    path: "config/crd/gateway-api/standard",
                    tag_of: C::NginxGatewayFabric,
                },
                Needs::Always,
            ),
            // Copies the table's Secrets from the secret store into the cluster. Before
            // kube-prometheus-stack and Argo CD's own sync, which read them; so before any
            // ServiceMonitor CRD exists, and its chart's ServiceMonitor stays off.
            C::ExternalSecrets => (
                "external-secrets",
                "external-secrets",
                -6,
                chart(
                    "https://charts.external-secrets.io",
                    "external-secrets",
                    "2.9.0",
                    ">=2.9.0, <3.0.0",
                ),
                Needs::SecretStore,
            ),
            // The store External Secrets Operator reads, and one ExternalSecret per Secret of
            // the table, in the same wave as the first readers (they start once it synced).
            C::SecretStore => (
                "secret-store",
                "external-secrets",
                -5,
                manifests(
                    "manifests/secret-store",
                    const { &[always("cluster-secret-store.yaml"), always("external-secrets.yaml")] },
                ),
                Needs::SecretStore,
            ),
            C::ArgoCd => (
                "argo-cd",
                "argocd",
                -5,
                chart(
                    "https://argoproj.github.io/argo-helm",
                    "argo-cd",
                    "10.1.1",
                    ">=10.1.1, <11.0.0",
                ),
                Needs::Always,
            ),
            C::KubePrometheusStack => (
                "kube-prometheus-stack",
                "monitoring",
                -5,
                chart(
                    "https://prometheus-community.github.io/helm-charts",
                    "kube-prometheus-stack",
                    "88.5.3",
                    ">=88.5.3, <89.0.0",
                ),
                Needs::Always,
            ),
            // After kube-prometheus-stack, whose CRDs its ServiceMonitors need.
            C::Kyverno => (
                "kyverno",
                "kyverno",
                -4,
                chart(
                    "https://kyverno.github.io/kyverno/",
                    "kyverno",
                    "3.9.0",
                    ">=3.9.0, <4.0.0",
                ),
                Needs::Always,
            ),
            C::CertManager => (
                "cert-manager",
                "cert-manager",
                -4,
                chart(
                    "https://charts.jetstack.io",
                    "cert-manager",
                    "v1.21.1",
                    ">=1.21.1, <2.0.0",
                ),
                Needs::Always,
            ),
            C::CloudnativePg => (
                "cloudnative-pg",
                "cnpg-system",
                -4,
                chart(
                    "https://cloudnative-pg.github.io/charts",
                    "cloudnative-pg",
                    "0.29.0",
                    ">=0.29.0, <0.30.0",
                ),
                Needs::InClusterDatabase,
            ),
            // The Gateway's LoadBalancer Service becomes an NLB only through this controller on
            // EKS (the annotations NGF's values set are its); AWS permissions by Pod Identity.
            C::AwsLoadBalancerController => (
                "aws-load-balancer-controller",
                "kube-system",
                -4,
                chart(
                    "https://aws.github.io/eks-charts",
                    "aws-load-balancer-controller",
                    "3.5.0",
                    ">=3.5.0, <4.0.0",
                ),
                Needs::Eks,
            ),
            // Node autoscaling on EKS: nodes beyond the managed node group's `nodes.min`, up to
            // `nodes.max` worth of capacity (OCI only, like NGF). Its CRDs come with the chart.
            C::Karpenter => (
                "karpenter",
                "kube-system",
                -4,
                chart("public.ecr.aws/karpenter", "karpenter", "1.14.1", ">=1.14.1, <2.0.0"),
                Needs::Eks,
            ),
            // LoadBalancer Services on a cluster that has no load balancer of its own: addresses
            // from `loadBalancerAddresses`, announced over layer 2 (no BGP, so no FRR).
            C::Metallb => (
                "metallb",
                "metallb-system",
                -4,
                chart(
                    "https://metallb.github.io/metallb",
                    "metallb",
                    "0.16.1",
                    ">=0.16.1, <0.17.0",
                ),
                Needs::Metallb,
            ),
            // OCI only: Argo CD reads `ghcr.io/nginx/charts` as an OCI Helm repository through the
            // repository Secret the argo-cd values declare (`enableOCI`).
            C::NginxGatewayFabric => (
                "nginx-gateway-fabric",
                "nginx-gateway",
                -4,
                chart(
                    "ghcr.io/nginx/charts",
                    "nginx-gateway-fabric",
                    "2.6.7",
                    ">=2.6.7, <3.0.0",
                ),
                Needs::Always,
            ),
            // The Gateway's hostnames in DNS: records for its HTTPRoutes, pointing at the
            // Gateway's address, in the environment's zone only, owned by the environment.
            C::ExternalDns => (
                "external-dns",
                "external-dns",
                -3,
                chart(
                    "https://kubernetes-sigs.github.io/external-dns",
                    "external-dns",
                    "1.21.1",
                    ">=1.21.1, <2.0.0",
                ),
                Needs::DnsRecords,
            ),
            // WAL archiving and base backups for CloudNativePG (it needs cert-manager's CRDs).
            C::BarmanCloud => (
                "plugin-barman-cloud",
                "cnpg-system",
                -3,
                chart(
                    "https://cloudnative-pg.github.io/charts",
                    "plugin-barman-cloud",
                    "0.7.0",
                    ">=0.7.0, <0.8.0",
                ),
                Needs::InClusterDatabase,
            ),
            C::ClusterIssuers => (
                "cluster-issuers",
                "cert-manager",
                -3,
                manifests("manifests/cluster-issuers", const { &[always("cluster-issuers.yaml")] }),
                Needs::Always,
            ),
            C::KyvernoPolicies => (
                "kyverno-policies",
                "kyverno",
                -3,
                Source::Manifests {
                    templates: "policies",
                    files: POLICY_FILES,
                    folder: Folder::Top("policies"),
                },
                Needs::Always,
            ),
            C::KarpenterNodes => (
                "karpenter-nodes",
                "kube-system",
                -3,
                manifests("manifests/karpenter-nodes", const { &[always("nodes.yaml")] }),
                Needs::Eks,
            ),
            C::MetallbPool => (
                "metallb-pool",
                "metallb-system",
                -3,
                manifests("manifests/metallb-pool", const { &[always("pool.yaml")] }),
                Needs::Metallb,
            ),
            C::Gateway => (
                "gateway",
                "gateway",
                -2,
                manifests("manifests/gateway", const { &[always("gateway.yaml")] }),
                Needs::Always,
            ),
            C::ValkeyTls => (
                "valkey-tls",
                "data",
                -2,
                manifests("manifests/valkey-tls", const { &[always("certificate.yaml")] }),
                Needs::Always,
            ),
            C::Valkey => (
                "valkey",
                "data",
                -1,
                chart(
                    "https://valkey.io/valkey-helm/",
                    "valkey",
                    "0.11.0",
                    ">=0.11.0, <0.12.0",
                ),
                Needs::Always,
            ),
            C::Postgres => (
                "postgres",
                "data",
                -1,
                manifests(
                    "manifests/postgres",
                    const {
                        &[
                            always("object-store.yaml"),
                            always("cluster.yaml"),
                            always("scheduled-backup.yaml"),
                        ]
                    },
                ),
                Needs::InClusterDatabase,
            ),
            C::Loki => (
                "loki",
                "monitoring",
                -2,
                chart(GRAFANA_COMMUNITY, "loki", "18.11.0", ">=18.11.0, <19.0.0"),
                Needs::InClusterObservability,
            ),
            C::Tempo => (
                "tempo",
                "monitoring",
                -2,
                chart(GRAFANA_COMMUNITY, "tempo", "2.2.4", ">=2.2.4, <3.0.0"),
                Needs::InClusterObservability,
            ),
            C::Alloy => (
                "alloy",
                "monitoring",
                -2,
                chart(
                    "https://grafana.github.io/helm-charts",
                    "alloy",
                    "1.11.1",
                    ">=1.11.1, <2.0.0",
                ),
                Needs::Always,
            ),
            C::Observability => (
                "observability",
                "monitoring",
                -1,
                Source::Manifests {
                    templates: "observability",
                    files: OBSERVABILITY_FILES,
                    folder: Folder::Top("observability"),
                },
                Needs::Always,
            ),
            C::App => ("app", "app", 0, Source::AppChart, Needs::Always),
        };
        Spec {
            name,
            namespace,
            wave,
            source,
            needs,
        }
    }

    /// Whether an environment like `runs` runs the component.
    pub fn needed(self, runs: &Runs) -> bool {
        self.spec().needs.holds(runs)
    }

    /// The key under `components:` in the manifest, e.g. `certManager`.
    pub fn key(self) -> &'static str {
        self.into()
    }

    /// The chart version used where the manifest pins none; `None` for what has no chart of its own.
    pub const fn default_version(self) -> Option<&'static str> {
        match self.spec().source {
            Source::Chart { version, .. } => Some(version),
            Source::Git { .. } | Source::Manifests { .. } | Source::AppChart => None,
        }
    }

    /// The chart versions the component's values template is written for; `None` for what
    /// has no chart of its own.
    pub fn supported(self) -> Option<semver::VersionReq> {
        match self.spec().source {
            // The table's requirements are literals a unit test parses.
            Source::Chart { supported, .. } => semver::VersionReq::parse(supported).ok(),
            Source::Git { .. } | Source::Manifests { .. } | Source::AppChart => None,
        }
    }

    /// Every component, in table order.
    pub fn all() -> impl Iterator<Item = Component> {
        Self::VARIANTS.iter().copied()
    }

    /// Components whose chart version the manifest may pin, in table order.
    pub fn pinnable() -> impl Iterator<Item = Component> {
        Self::all().filter(|c| c.default_version().is_some())
    }
}

/// The component table as Markdown, the copy docs/components.md holds (a test keeps them equal).
pub fn markdown_table() -> String {
    let mut table = String::from(
        "| component | `components:` key | source | default version | supported | namespace | sync wave | runs where |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for c in Component::all() {
        let spec = c.spec();
        let supported = c.supported().map_or_else(|| "-".to_string(), |r| format!("`{r}`"));
        let (key, source, version) = match spec.source {
            Source::Chart {
                repository,
                chart,
                version,
                ..
            } => (
                format!("`{}`", c.key()),
                format!("chart `{chart}` from {repository}"),
                version.to_string(),
            ),
            Source::Git {
                repository,
                path,
                tag_of,
            } => (
                "-".into(),
                format!("`{path}` of {repository}"),
                format!("the tag of {}", tag_of.spec().name),
            ),
            Source::Manifests { templates, .. } => {
                ("-".into(), format!("rendered from `templates/{templates}`"), "-".into())
            }
            Source::AppChart => ("`app.chartVersion`".into(), "`helm/charts/app`".into(), "-".into()),
        };
        let needs = match spec.needs {
            Needs::Always => "every environment",
            Needs::InClusterDatabase => "`database.mode: in-cluster`",
            Needs::InClusterObservability => "`observability.mode: in-cluster`",
            Needs::Eks => "`provider: eks`",
            Needs::Metallb => "`loadBalancerAddresses` set (existing clusters)",
            Needs::DnsRecords => "`dns.records` `cloud` or `rfc2136`",
            Needs::SecretStore => "`secrets.store` other than `kubernetes`",
        };
        table += &format!(
            "| {} | {key} | {source} | {version} | {supported} | {} | {} | {needs} |\n",
            spec.name, spec.namespace, spec.wave
        );
    }
    table
}

const fn chart(
    repository: &'static str,
    chart: &'static str,
    version: &'static str,
    supported: &'static str,
) -> Source {
    Source::Chart {
        repository,
        chart,
        version,
        supported,
    }
}

const fn manifests(templates: &'static str, files: &'static [ManifestFile]) -> Source {
    Source::Manifests {
        templates,
        files,
        folder: Folder::Argocd,
    }
}

#[cfg(test)]
mod tests {
    use super::{Component, Source};
    use crate::render::embedded::TEMPLATES;

    #[test]
    fn every_component_has_its_templates() {
        for c in Component::all() {
            let spec = c.spec();
            let templates: Vec<String> = match spec.source {
                Source::Chart { .. } | Source::AppChart => vec![format!("helm/{}.yaml.tera", spec.name)],
                Source::Git { .. } => vec![],
                Source::Manifests { templates, files, .. } => {
                    files.iter().map(|f| format!("{templates}/{}.tera", f.path)).collect()
                }
            };
            for t in templates {
                assert!(TEMPLATES.get_file(&t).is_some(), "{c:?} has no template {t}");
            }
        }
    }

    #[test]
    fn names_and_keys_are_unique() {
        let mut names: Vec<_> = Component::all().map(|c| c.spec().name).collect();
        let mut keys: Vec<_> = Component::all().map(Component::key).collect();
        names.sort_unstable();
        names.dedup();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(names.len(), Component::all().count());
        assert_eq!(keys.len(), Component::all().count());
    }

    #[test]
    fn docs_components_md_holds_this_table() {
        let docs = include_str!("../../../docs/components.md");
        let (begin, end) = ("<!-- components:start -->\n", "<!-- components:end -->");
        let (Some(start), Some(stop)) = (docs.find(begin), docs.find(end)) else {
            panic!("docs/components.md lost its components markers");
        };
        assert_eq!(
            &docs[start + begin.len()..stop],
            super::markdown_table(),
            "regenerate the table in docs/components.md from components::markdown_table()"
        );
    }

    #[test]
    fn every_chart_supports_its_default_from_the_default_up() {
        for c in Component::pinnable() {
            let Source::Chart { version, supported, .. } = c.spec().source else {
                panic!("{c:?} is pinnable without a chart");
            };
            let range = semver::VersionReq::parse(supported).expect("the table's ranges parse");
            let default = semver::Version::parse(version.trim_start_matches('v')).expect("a semver default");
            assert!(range.matches(&default), "{c:?}: {version} is outside {supported}");
            assert_eq!(
                range.comparators.first().map(|f| (f.op, f.major, f.minor, f.patch)),
                Some((
                    semver::Op::GreaterEq,
                    default.major,
                    Some(default.minor),
                    Some(default.patch)
                )),
                "{c:?}: the range starts at the default, the release the upstream checks run on"
            );
        }
    }

    #[test]
    fn keys_are_what_the_manifest_says() {
        assert_eq!(Component::CertManager.key(), "certManager");
        let parsed: Component = serde_json::from_value("certManager".into()).expect("a key parses");
        assert_eq!(parsed, Component::CertManager);
    }
}
