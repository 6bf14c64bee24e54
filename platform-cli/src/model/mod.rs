//! The typed model of `platform.yaml`: exactly what a manifest may say, nothing more.
//!
//! Every struct denies unknown fields so a typo never passes silently; the JSON Schema that
//! `platform schema` prints is generated from these types, and doc comments become its
//! descriptions (what an editor shows on hover).
//!
//! This is the floor of the crate: it imports nothing above it. Beside the input types are the
//! tables the input is defaulted and checked against: the component keys and table
//! ([`components`]), each workload's requests ([`sizing`]), the clouds' limits
//! ([`cloud_limits`]), Kubernetes' support windows ([`kubernetes_support`]) and the Terraform
//! providers' pins ([`terraform`]).

pub mod cloud_limits;
pub mod components;
pub mod kubernetes_support;
pub mod sizing;
pub(crate) mod suggest;
pub mod terraform;

use std::borrow::Cow;
use std::collections::BTreeMap;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

pub use components::Component;

/// A platform: one GitOps repository, one app, an ordered list of environments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(title = "Platform manifest")]
pub struct Manifest {
    /// Version of the manifest format.
    pub api_version: ApiVersion,
    /// Always `Platform`.
    pub kind: Kind,
    pub metadata: Metadata,
    pub gitops: GitOps,
    pub registry: Registry,
    pub signing: Signing,
    pub app: App,
    /// Chart versions of the platform components; each environment may override them.
    #[serde(default)]
    pub components: ComponentPins,
    /// Environments in promotion order (for example dev, staging, prod).
    pub environments: Vec<Environment>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ApiVersion {
    #[serde(rename = "platform/v1alpha1")]
    V1alpha1,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Kind {
    Platform,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Metadata {
    /// Name of the platform; a DNS label, used in resource and bucket names.
    pub name: String,
}

/// The Git repository Argo CD watches: this repository, holding the rendered tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GitOps {
    /// HTTPS URL of the GitOps repository.
    #[serde(rename = "repoURL")]
    pub repo_url: String,
    /// Branch Argo CD tracks.
    #[serde(default = "defaults::target_revision")]
    pub target_revision: String,
    /// The repository needs credentials to be read: Argo CD gets them from a Secret of the
    /// secrets table (a GitHub App on github.com, a user and token elsewhere).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub private: bool,
    /// How people sign in to Argo CD (its local admin is off). Left out on a github.com
    /// repository: GitHub, for the members of the repository's owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sso: Option<Sso>,
}

/// Argo CD's single sign-on: one of `github` or `oidc`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Sso {
    /// Dex's GitHub connector: members of an organization sign in with GitHub.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub github: Option<GithubSso>,
    /// An OpenID Connect provider of your own (Entra ID, Google, Okta, Keycloak...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc: Option<OidcSso>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GithubSso {
    /// The GitHub organization whose members may sign in (read-only).
    pub organization: String,
    /// A team of that organization whose members are Argo CD admins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_team: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OidcSso {
    /// The issuer URL (HTTPS), whose `/.well-known/openid-configuration` Argo CD reads.
    pub issuer: String,
    /// The client id registered for Argo CD (its secret: `platform secrets set ... argocd-oidc.clientSecret`).
    pub client_id: String,
    /// A value of the `groups` claim whose members are Argo CD admins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_group: Option<String>,
}

/// The OCI registry that holds the app's images.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Registry {
    /// Registry host, e.g. `ghcr.io`.
    pub host: String,
    /// Repository prefix under the host, e.g. the GitHub organization.
    pub namespace: String,
    /// How the rendered app workflow logs in to push. Which fields apply depends on the
    /// registry: ghcr.io needs none (the workflow's `GITHUB_TOKEN`), Amazon ECR, Azure
    /// Container Registry and Google Artifact Registry use OIDC federation, any other registry
    /// a user and password from GitHub Actions secrets.
    #[serde(default, skip_serializing_if = "RegistryLogin::is_empty")]
    pub login: RegistryLogin,
    /// The clusters need credentials to pull the app's images (a private ghcr.io package, a
    /// registry of your own): the app's pods and Kyverno's signature check read a Docker config
    /// from the secrets table. Not for a cloud registry, which clusters read with their identity.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub private: bool,
}

/// The identity the app workflow federates to (cloud registries) or the secrets it reads
/// (other registries). Names only: no credential is ever written into the manifest.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegistryLogin {
    /// Amazon ECR: ARN of the IAM role the workflow assumes through GitHub's OIDC provider,
    /// e.g. `arn:aws:iam::123456789012:role/shop-ci-push`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws_role_arn: Option<String>,
    /// Azure Container Registry: client id of the Entra ID application (or user-assigned
    /// identity) holding a federated credential for the GitOps repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azure_client_id: Option<String>,
    /// Azure Container Registry: the Entra ID tenant id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azure_tenant_id: Option<String>,
    /// Azure Container Registry: the subscription id holding the registry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azure_subscription_id: Option<String>,
    /// Google Artifact Registry: full name of the workload identity provider,
    /// `projects/NUMBER/locations/global/workloadIdentityPools/POOL/providers/PROVIDER`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gcp_workload_identity_provider: Option<String>,
    /// Google Artifact Registry: the service account the workflow impersonates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gcp_service_account: Option<String>,
    /// Any other registry: the GitHub Actions secret holding the push user
    /// (default `REGISTRY_USERNAME`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username_secret: Option<String>,
    /// Any other registry: the GitHub Actions secret holding the password or token
    /// (default `REGISTRY_PASSWORD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_secret: Option<String>,
}

impl RegistryLogin {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Each field that is set, with its manifest key, for checks that treat them alike.
    pub fn entries(&self) -> [(&'static str, Option<&str>); 8] {
        [
            ("awsRoleArn", self.aws_role_arn.as_deref()),
            ("azureClientId", self.azure_client_id.as_deref()),
            ("azureTenantId", self.azure_tenant_id.as_deref()),
            ("azureSubscriptionId", self.azure_subscription_id.as_deref()),
            (
                "gcpWorkloadIdentityProvider",
                self.gcp_workload_identity_provider.as_deref(),
            ),
            ("gcpServiceAccount", self.gcp_service_account.as_deref()),
            ("usernameSecret", self.username_secret.as_deref()),
            ("passwordSecret", self.password_secret.as_deref()),
        ]
    }
}

/// Who signs the images: a cosign key pair, or the keyless (Fulcio) identity of the rendered
/// app workflow. Exactly one of `publicKey` and `keyless`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Signing {
    /// PEM-encoded ECDSA P-256 public key (cosign `--key`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    /// Where the app workflow finds the private key of `publicKey` (a reference, never the key);
    /// defaults to the GitHub Actions secret `COSIGN_PRIVATE_KEY`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key: Option<PrivateKeyRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyless: Option<Keyless>,
}

/// A reference to the cosign private key: a cloud KMS key, or a GitHub Actions secret holding
/// the encrypted key (its password in the secret `COSIGN_PASSWORD`). Exactly one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PrivateKeyRef {
    /// cosign KMS URI in the registry's cloud: `awskms:///alias/NAME` (ECR),
    /// `azurekms://VAULT.vault.azure.net/KEY` (ACR) or
    /// `gcpkms://projects/P/locations/L/keyRings/R/cryptoKeys/K` (Artifact Registry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms: Option<String>,
    /// Name of the GitHub Actions secret holding the encrypted key (`cosign generate-key-pair`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// The keyless identity, as cosign's `--certificate-*` flags name it. The rendered workflow
/// signs as `.github/workflows/app.yaml` of the GitOps repository on its tracked branch: each
/// field defaults to that, and a value naming anything else is refused (Kyverno would then
/// reject every image the workflow signs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Keyless {
    /// OIDC issuer: GitHub Actions' `https://token.actions.githubusercontent.com`.
    #[serde(default = "defaults::github_actions_issuer")]
    pub issuer: String,
    /// Exact certificate subject (SAN), e.g.
    /// `https://github.com/OWNER/REPO/.github/workflows/app.yaml@refs/heads/main`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// `OWNER/REPO` the GitHub workflow ran in (Fulcio extension 1.3.6.1.4.1.57264.1.5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow_repository: Option<String>,
}

/// The workload the platform deploys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct App {
    /// Image reference; pinned by digest (`repo@sha256:…`) when `requireDigest` is true.
    pub image: String,
    /// Version of the app's chart (`helm/charts/app`).
    pub chart_version: String,
    /// Refuse image references that are not pinned by digest.
    #[serde(default = "defaults::yes")]
    pub require_digest: bool,
    /// Service level objectives; the SLO burn-rate alerts are rendered from them.
    #[serde(default)]
    pub slo: Slo,
}

/// How Argo CD reads a private GitOps repository: a row of the secrets table each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RepoAuth {
    /// A GitHub App installed on the repository (github.com).
    GithubApp,
    /// A user name and a token or password (any other host).
    Password,
}

/// Which single sign-on Argo CD offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SsoKind {
    /// Dex's GitHub connector.
    Github,
    /// An OpenID Connect issuer, without Dex.
    Oidc,
}

/// `OWNER/REPO` of a GitHub repository URL (`https://github.com/OWNER/REPO[.git]` or
/// `git@github.com:OWNER/REPO[.git]`); `None` for any other host.
pub fn github_repository(url: &str) -> Option<String> {
    // `http://` is refused on its own by validation; the repository it names is still GitHub's.
    let path = url
        .strip_prefix("https://github.com/")
        .or_else(|| url.strip_prefix("http://github.com/"))
        .or_else(|| url.strip_prefix("git@github.com:"))?;
    let path = path.trim_end_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    match path.split('/').collect::<Vec<_>>()[..] {
        [owner, repo] if !owner.is_empty() && !repo.is_empty() => Some(format!("{owner}/{repo}")),
        _ => None,
    }
}

/// Names an environment may not have: `observability/<env>/` would be a hand-written folder
/// (`render::embedded` keeps this list equal to the hand-written trees there).
pub const RESERVED_ENVIRONMENT_NAMES: [&str; 2] = ["dashboards", "tests"];

/// The OIDC issuer of GitHub Actions, the only CI the platform renders workflows for.
pub const GITHUB_ACTIONS_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// The app's SLO burn-rate alerts: fast and slow for availability, then for latency. The rules
/// template names its alerts from here, and promotion gates block on them by default.
pub const SLO_ALERTS: [&str; 4] = [
    "AppAvailabilityBudgetBurnFast",
    "AppAvailabilityBudgetBurnSlow",
    "AppLatencyBudgetBurnFast",
    "AppLatencyBudgetBurnSlow",
];

/// Objectives over a 30-day window, as percentages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Slo {
    /// Percentage of requests that must not fail with a 5xx, e.g. 99.9.
    #[serde(default = "defaults::availability")]
    #[schemars(range(min = limits::OBJECTIVE.0, max = limits::OBJECTIVE.1))]
    pub availability: f64,
    #[serde(default)]
    pub latency: LatencySlo,
}

impl Default for Slo {
    fn default() -> Self {
        Self {
            availability: defaults::availability(),
            latency: LatencySlo::default(),
        }
    }
}

/// Percentage of requests that must be served faster than a threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LatencySlo {
    /// Latency threshold in milliseconds; must be a bucket boundary of the app's histogram
    /// (docs/metrics.md).
    #[serde(default = "defaults::latency_threshold_ms")]
    pub threshold_ms: u32,
    /// Percentage of requests faster than the threshold, e.g. 99.
    #[serde(default = "defaults::latency_target")]
    #[schemars(range(min = limits::OBJECTIVE.0, max = limits::OBJECTIVE.1))]
    pub target: f64,
}

impl Default for LatencySlo {
    fn default() -> Self {
        Self {
            threshold_ms: defaults::latency_threshold_ms(),
            target: defaults::latency_target(),
        }
    }
}

/// Chart versions pinned in the manifest, by component; a component not listed uses its
/// default (top level) or the top level's pin (in an environment). Which keys exist comes from
/// the component table ([`components`]), so the schema is written by hand below.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ComponentPins(pub BTreeMap<Component, Pin>);

impl ComponentPins {
    /// This map's pin of `component`, if it has one.
    pub fn get(&self, component: Component) -> Option<&Pin> {
        self.0.get(&component)
    }

    /// Each pin with its component, in table order.
    pub fn iter(&self) -> impl Iterator<Item = (Component, &Pin)> {
        self.0.iter().map(|(c, p)| (*c, p))
    }
}

impl JsonSchema for ComponentPins {
    fn schema_name() -> Cow<'static, str> {
        "ComponentPins".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let pin = generator.subschema_for::<Pin>();
        let properties: serde_json::Map<String, serde_json::Value> = Component::pinnable()
            .map(|c| {
                let default = c.default_version().unwrap_or_default();
                let mut schema = pin.clone();
                schema.insert(
                    "description".into(),
                    format!("Chart `{}`; default chart version {default}.", c.spec().name).into(),
                );
                (c.key().to_string(), schema.to_value())
            })
            .collect();
        json_schema!({
            "type": "object",
            "properties": properties,
            "additionalProperties": false,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Pin {
    /// Helm chart version (semver).
    pub chart_version: String,
}

/// Per-environment pins of the app; unset ones inherit the top-level `app`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AppPins {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chart_version: Option<String>,
}

/// One environment: a cluster, a domain, and how the platform runs there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Environment {
    /// Environment name; a DNS label, unique in the manifest, other than the hand-written
    /// observability folders' names.
    #[schemars(extend("not" = { "enum": RESERVED_ENVIRONMENT_NAMES }))]
    pub name: String,
    /// The environment whose pinned versions are promoted into this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promoted_from: Option<String>,
    /// A production environment: stricter defaults (policies enforced, more instances,
    /// promotion gates).
    #[serde(default)]
    pub production: bool,
    /// What must hold in the `promotedFrom` environment before `platform promote` carries its
    /// pins here.
    #[serde(default)]
    pub promotion: Promotion,
    pub cluster: Cluster,
    /// Base domain; the app is served at `app.<domain>`.
    pub domain: String,
    /// Contact for ACME (Let's Encrypt) certificate registration.
    pub acme_email: String,
    #[serde(default)]
    pub replicas: Replicas,
    #[serde(default)]
    pub observability: Observability,
    #[serde(default)]
    pub policy: Policy,
    #[serde(default)]
    pub database: Database,
    #[serde(default)]
    pub backup: Backup,
    /// Who makes the DNS records of `app.`, `argocd.` and `grafana.<domain>`, and how Let's
    /// Encrypt validates their certificates.
    #[serde(default)]
    pub dns: Dns,
    /// Where the Secrets of the table (docs/secrets.md) live.
    #[serde(default)]
    pub secrets: Secrets,
    /// Remote Terraform state; names default from the platform and provider.
    #[serde(default)]
    pub terraform_state: TerraformState,
    /// Pins of the app in this environment (what promotion carries forward).
    #[serde(default)]
    pub app: AppPins,
    /// Pins of the platform components in this environment.
    #[serde(default)]
    pub components: ComponentPins,
}

impl Environment {
    /// The facts of this environment that decide which components it runs.
    pub fn runs(&self) -> components::Runs {
        components::Runs {
            provider: self.cluster.provider,
            database_in_cluster: self.database.mode != DatabaseMode::Managed,
            observability_in_cluster: self.observability.mode != ObservabilityMode::Central,
            metallb: !self.cluster.load_balancer_addresses.is_empty(),
            dns_records: self.dns_records(),
            challenge: self.dns.challenge,
            secret_store: self.secrets.store,
        }
    }

    /// The facts of this environment that sizing depends on.
    pub fn shape(&self) -> sizing::Shape {
        sizing::Shape {
            production: self.production,
            enforce: self.policy_enforced(),
            db_instances: self.database.instances,
            app_replicas: self.replicas.min,
        }
    }

    /// `dns.records`, or its default: the cloud's DNS on a cloud, the RFC 2136 server where one
    /// is given, else a person.
    pub fn dns_records(&self) -> DnsRecords {
        self.dns
            .records
            .unwrap_or(match (self.cluster.provider, &self.dns.rfc2136) {
                (Provider::Existing, Some(_)) => DnsRecords::Rfc2136,
                (Provider::Existing, None) => DnsRecords::Manual,
                _ => DnsRecords::Cloud,
            })
    }

    /// Whether Kyverno enforces (rather than audits) here: production does unless told otherwise.
    pub fn policy_enforced(&self) -> bool {
        self.policy.mode.map_or(self.production, |m| m == PolicyMode::Enforce)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(transform = cluster_shapes_per_provider)]
pub struct Cluster {
    pub provider: Provider,
    /// Cloud region (required for eks, aks, gke).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Kubernetes minor version, e.g. "1.35"; `platform validate` refuses one the provider no
    /// longer supports (docs/components.md has the dates).
    #[serde(default = "defaults::kubernetes_version")]
    #[schemars(regex(pattern = r"^1\.[0-9]+$"))]
    pub kubernetes_version: String,
    /// Instance type / VM size of the worker nodes (required for eks, aks, gke).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_size: Option<String>,
    #[serde(default)]
    pub nodes: NodeCount,
    /// CIDR of the cluster network (VPC / VNet / subnet).
    #[serde(default = "defaults::network_cidr")]
    pub network_cidr: String,
    /// GCP project id (gke only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gcp_project: Option<String>,
    /// kubeconfig context of a self-managed cluster (existing only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubeconfig_context: Option<String>,
    /// Addresses MetalLB may give LoadBalancer Services (existing only), as CIDRs or ranges
    /// `first-last` on the nodes' network, announced over layer 2. Leave it out where the
    /// cluster already provides load balancers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub load_balancer_addresses: Vec<String>,
    /// Scrape and alert on the control plane (kube-scheduler, kube-controller-manager, etcd,
    /// kube-proxy) at kubeadm's ports (existing only). kubeadm binds their metrics to 127.0.0.1,
    /// so set this only after binding them where Prometheus reaches them (docs/operating.md);
    /// left off, they are neither scraped nor alerted on, as on a managed control plane.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub control_plane_metrics: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Provider {
    /// Amazon EKS.
    Eks,
    /// Azure AKS.
    Aks,
    /// Google GKE.
    Gke,
    /// A self-managed (e.g. kubeadm) cluster reached through a kubeconfig.
    Existing,
}

impl Provider {
    /// The manifest's spelling (`eks`, `aks`, `gke`, `existing`), which also names the
    /// provider's Terraform modules and the values the templates switch on.
    pub fn key(self) -> &'static str {
        match self {
            Provider::Eks => "eks",
            Provider::Aks => "aks",
            Provider::Gke => "gke",
            Provider::Existing => "existing",
        }
    }

    /// The provider as a diagnostic's sentence names it ("has no effect on an existing cluster").
    pub fn in_prose(self) -> &'static str {
        match self {
            Provider::Existing => "an existing cluster",
            other => other.key(),
        }
    }
}

/// Worker node count bounds of the cluster autoscaler.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeCount {
    #[schemars(range(min = 1))]
    pub min: u32,
    #[schemars(range(min = 1, max = limits::NODES_MAX))]
    pub max: u32,
}

impl Default for NodeCount {
    fn default() -> Self {
        Self { min: 2, max: 4 }
    }
}

/// Horizontal Pod Autoscaler bounds of the app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Replicas {
    #[schemars(range(min = 1))]
    pub min: u32,
    #[schemars(range(min = 1, max = limits::REPLICAS_MAX))]
    pub max: u32,
}

impl Default for Replicas {
    fn default() -> Self {
        Self { min: 1, max: 3 }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Observability {
    #[serde(default)]
    pub mode: ObservabilityMode,
    /// Prometheus remote_write URL of the central Mimir (`central` mode only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mimir_url: Option<String>,
    /// Push URL of the central Loki (`central` mode only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loki_url: Option<String>,
    /// OTLP endpoint of the central Tempo (`central` mode only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tempo_url: Option<String>,
    /// Tenant sent as `X-Scope-OrgID` to the central backends; defaults to `<platform>-<env>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    #[serde(default)]
    pub retention: Retention,
}

/// How long each signal is kept in the cluster, in days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Retention {
    #[serde(default = "defaults::metrics_days")]
    #[schemars(range(min = 1, max = limits::METRICS_DAYS_MAX))]
    pub metrics_days: u32,
    #[serde(default = "defaults::logs_days")]
    #[schemars(range(min = 1, max = limits::LOGS_DAYS_MAX))]
    pub logs_days: u32,
    #[serde(default = "defaults::traces_days")]
    #[schemars(range(min = 1, max = limits::TRACES_DAYS_MAX))]
    pub traces_days: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            metrics_days: defaults::metrics_days(),
            logs_days: defaults::logs_days(),
            traces_days: defaults::traces_days(),
        }
    }
}

/// Gates of a promotion into this environment, checked in the source environment
/// (docs/promotion.md). Unset fields take the defaults: into production a 24h soak, a burn
/// rate of at most 1 and the blocking alerts below; into other environments no gate.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Promotion {
    /// How long the source must have run the pins, a Prometheus duration such as `30m`, `24h`
    /// or `7d`; also the window of the burn rate. `0m` turns the gate off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[0-9]+[mhdw]$"))]
    pub soak: Option<String>,
    /// Highest SLO burn rate (the bad-request ratio over the soak window divided by the error
    /// budget) the source may show; 1 spends the budget exactly as fast as it accrues.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub max_burn_rate: Option<f64>,
    /// Alerts that must not be firing in the source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocking_alerts: Option<BlockingAlerts>,
    /// The source's Prometheus query API (e.g. a central Mimir's `https://HOST/prometheus`),
    /// instead of its in-cluster Prometheus through the API server's service proxy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prometheus_url: Option<String>,
}

impl Promotion {
    /// A soak in a Prometheus duration of one unit (`30m`, `24h`, `7d`, `2w`), which the
    /// burn-rate query also takes as its window.
    pub fn parse_soak(text: &str) -> Option<std::time::Duration> {
        let unit = text.chars().last()?;
        let count: u64 = text.get(..text.len() - 1)?.parse().ok()?;
        let seconds = match unit {
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 7 * 86_400,
            _ => return None,
        };
        Some(std::time::Duration::from_secs(count.checked_mul(seconds)?))
    }

    /// The soak into an environment, defaults applied: as written (also the burn-rate window)
    /// and as a duration; `None` when off.
    pub fn effective_soak(&self, production: bool) -> Option<(String, std::time::Duration)> {
        let text = match (&self.soak, production) {
            (Some(text), _) => text.clone(),
            (None, true) => defaults::PRODUCTION_SOAK.to_string(),
            (None, false) => return None,
        };
        let soak = Self::parse_soak(&text).filter(|d| !d.is_zero())?;
        Some((text, soak))
    }

    /// The burn-rate ceiling, defaults applied; `None` when off (it needs a soak window).
    pub fn effective_max_burn_rate(&self, production: bool) -> Option<f64> {
        self.effective_soak(production)?;
        self.max_burn_rate
            .or(production.then_some(defaults::PRODUCTION_MAX_BURN_RATE))
    }

    /// The blocking alerts, defaults applied; empty lists when off.
    pub fn effective_alerts(&self, production: bool) -> BlockingAlerts {
        match (&self.blocking_alerts, production) {
            (Some(alerts), _) => alerts.clone(),
            (None, true) => BlockingAlerts::default(),
            (None, false) => BlockingAlerts {
                names: vec![],
                severities: vec![],
            },
        }
    }

    /// Whether promotions into an environment are gated: always into production (Argo CD's
    /// health at the least), elsewhere when any gate is set.
    pub fn gated(&self, production: bool) -> bool {
        production || *self != Self::default()
    }
}

/// Which firing alerts refuse a promotion. Empty lists turn the gate off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BlockingAlerts {
    /// Alert names, wherever they fire; default: the app's SLO burn-rate alerts.
    #[serde(default = "defaults::blocking_alert_names")]
    pub names: Vec<String>,
    /// Severities that block when the alert fires in the app's namespaces (`app`, `data`);
    /// default: critical.
    #[serde(default = "defaults::blocking_severities")]
    pub severities: Vec<String>,
}

impl Default for BlockingAlerts {
    fn default() -> Self {
        Self {
            names: defaults::blocking_alert_names(),
            severities: defaults::blocking_severities(),
        }
    }
}

/// Admission policies (Kyverno).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Policy {
    /// `enforce` blocks violations; `audit` reports them. Defaults to enforce in production
    /// and audit elsewhere; production must enforce.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<PolicyMode>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PolicyMode {
    Enforce,
    Audit,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ObservabilityMode {
    /// Prometheus, Loki and Tempo run in the environment's cluster.
    #[default]
    InCluster,
    /// Metrics are shipped to a central Mimir by remote_write.
    Central,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Database {
    #[serde(default)]
    pub mode: DatabaseMode,
    /// PostgreSQL instances (primary + replicas) of the in-cluster database.
    #[serde(default = "defaults::db_instances")]
    #[schemars(range(min = 1, max = limits::DB_INSTANCES_MAX))]
    pub instances: u32,
    /// Volume size per instance, in GiB.
    #[serde(default = "defaults::db_storage_gib")]
    #[schemars(range(min = 1, max = limits::DB_STORAGE_GIB_MAX))]
    pub storage_gib: u32,
}

impl Default for Database {
    fn default() -> Self {
        Self {
            mode: DatabaseMode::default(),
            instances: defaults::db_instances(),
            storage_gib: defaults::db_storage_gib(),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DatabaseMode {
    /// A CloudNativePG cluster in the environment's cluster.
    #[default]
    InCluster,
    /// The cloud provider's managed PostgreSQL (Amazon RDS; eks only).
    Managed,
}

/// Backups and point-in-time recovery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Backup {
    /// Recovery point objective in minutes: the most data a restore may lose.
    #[serde(default = "defaults::rpo_minutes")]
    #[schemars(range(min = 1, max = limits::RPO_MINUTES_MAX))]
    pub rpo_minutes: u32,
    /// How long base backups and WAL are kept, in days.
    #[serde(default = "defaults::retention_days")]
    #[schemars(range(min = 1, max = limits::BACKUP_RETENTION_DAYS_MAX))]
    pub retention_days: u32,
    /// S3-compatible endpoint for backups (existing clusters only; clouds use their own storage).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_endpoint: Option<String>,
}

impl Default for Backup {
    fn default() -> Self {
        Self {
            rpo_minutes: defaults::rpo_minutes(),
            retention_days: defaults::retention_days(),
            s3_endpoint: None,
        }
    }
}

/// DNS records and certificate validation of the Gateway's hostnames.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Dns {
    /// Who makes the records: `cloud` (external-dns writes the cloud's zone, Route 53, Azure
    /// DNS or Cloud DNS, with the cluster's workload identity; the default on eks, aks and gke),
    /// `rfc2136` (external-dns sends dynamic updates signed with a TSIG key to a DNS server;
    /// existing clusters) or `manual` (a person makes them, `platform status` checks them; the
    /// default on existing clusters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub records: Option<DnsRecords>,
    /// The zone the records go to: the domain (the default) or one of its parents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    /// `cloud` only: Terraform creates the zone (the default; delegate it from its parent with
    /// the name servers Terraform outputs) rather than look up one that exists.
    #[serde(default = "defaults::yes")]
    pub create_zone: bool,
    /// The DNS server external-dns updates (`records: rfc2136`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rfc2136: Option<Rfc2136>,
    /// How Let's Encrypt validates the certificates: `http01` (the default) asks for a file
    /// through the Gateway, which the internet must reach; `dns01` asks for a TXT record that
    /// cert-manager writes through the same DNS, for names the internet cannot reach.
    #[serde(default)]
    pub challenge: Challenge,
}

impl Default for Dns {
    fn default() -> Self {
        Self {
            records: None,
            zone: None,
            create_zone: true,
            rfc2136: None,
            challenge: Challenge::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DnsRecords {
    /// external-dns, in the cloud's DNS service.
    Cloud,
    /// external-dns, by RFC 2136 dynamic updates to a DNS server.
    Rfc2136,
    /// A person.
    Manual,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Challenge {
    #[default]
    Http01,
    Dns01,
}

/// Where the Secrets of the table live, and so who makes them in the cluster.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Secrets {
    /// `kubernetes` (the default): `platform bootstrap` makes them as Kubernetes Secrets, and
    /// the cluster is their only copy. Any other: they live in that secret store, External
    /// Secrets Operator copies them into the cluster with the cloud's workload identity (or
    /// Vault's Kubernetes auth), and `platform bootstrap` and `platform secrets set` write them
    /// to the store through it.
    #[serde(default)]
    pub store: SecretStore,
    /// The Vault server (`store: vault`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault: Option<VaultStore>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SecretStore {
    #[default]
    Kubernetes,
    /// AWS Secrets Manager (provider: eks), read through EKS Pod Identity.
    AwsSecretsManager,
    /// Azure Key Vault (provider: aks), read through workload identity federation.
    AzureKeyVault,
    /// Google Secret Manager (provider: gke), read through workload identity federation.
    GcpSecretManager,
    /// HashiCorp Vault's KV version 2 engine, read through Vault's Kubernetes auth (any provider).
    Vault,
}

impl SecretStore {
    /// The value as the manifest spells it.
    pub fn key(self) -> &'static str {
        match self {
            SecretStore::Kubernetes => "kubernetes",
            SecretStore::AwsSecretsManager => "aws-secrets-manager",
            SecretStore::AzureKeyVault => "azure-key-vault",
            SecretStore::GcpSecretManager => "gcp-secret-manager",
            SecretStore::Vault => "vault",
        }
    }
}

/// A Vault server External Secrets Operator reads from and writes to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VaultStore {
    /// The server's HTTPS address as the cluster's pods reach it, e.g. https://vault.example.com:8200.
    pub server: String,
    /// Where the KV version 2 secrets engine is mounted.
    #[serde(default = "defaults::vault_mount")]
    pub mount: String,
    /// Where the Kubernetes auth method that knows this cluster is mounted.
    #[serde(default = "defaults::vault_auth_mount")]
    pub auth_mount: String,
}

/// A DNS server that takes RFC 2136 dynamic updates signed with a TSIG key (BIND, Knot,
/// PowerDNS, Windows DNS). The key's secret is a row of the secrets table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Rfc2136 {
    /// The server's address or name, as the cluster's pods reach it.
    pub server: String,
    #[serde(default = "defaults::dns_port")]
    #[schemars(range(min = 1))]
    pub port: u16,
    /// The TSIG key's name, as the server's configuration names it.
    pub key_name: String,
    #[serde(default)]
    pub key_algorithm: TsigAlgorithm,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TsigAlgorithm {
    #[default]
    HmacSha256,
    HmacSha384,
    HmacSha512,
}

/// Where Terraform keeps the environment's state. Unset names are derived from the platform name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TerraformState {
    /// S3 / GCS bucket (eks, gke).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
    /// Azure resource group of the state storage account (aks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_group: Option<String>,
    /// Azure storage account (aks): 3-24 lowercase letters and digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_account: Option<String>,
}

/// Bounds `platform validate` enforces, in one place so the schema carries the same ones.
pub mod limits {
    /// A percentage objective (availability, latency target).
    pub const OBJECTIVE: (f64, f64) = (90.0, 99.999);
    pub const NODES_MAX: u32 = 1000;
    pub const REPLICAS_MAX: u32 = 100;
    pub const METRICS_DAYS_MAX: u32 = 400;
    pub const LOGS_DAYS_MAX: u32 = 400;
    pub const TRACES_DAYS_MAX: u32 = 90;
    pub const DB_INSTANCES_MAX: u32 = 9;
    pub const DB_STORAGE_GIB_MAX: u32 = 16384;
    pub const RPO_MINUTES_MAX: u32 = 1440;
    pub const BACKUP_RETENTION_DAYS_MAX: u32 = 3650;
}

/// The cloud limits on a cluster's region, node size and network size depend on its provider:
/// one `if provider … then …` per provider, from the same patterns `validate` matches.
fn cluster_shapes_per_provider(schema: &mut Schema) {
    use crate::model::cloud_limits::{network_pattern, node_size_pattern, region_pattern};
    let rules: Vec<serde_json::Value> = [Provider::Eks, Provider::Aks, Provider::Gke]
        .into_iter()
        .map(|provider| {
            let name = serde_json::to_value(provider).unwrap_or_default();
            let mut properties = serde_json::Map::new();
            if let Some(pattern) = region_pattern(provider) {
                properties.insert("region".into(), serde_json::json!({ "pattern": pattern }));
            }
            if let Some(pattern) = node_size_pattern(provider) {
                properties.insert("nodeSize".into(), serde_json::json!({ "pattern": pattern }));
            }
            if let Some(pattern) = network_pattern(provider) {
                properties.insert("networkCidr".into(), serde_json::json!({ "pattern": pattern }));
            }
            serde_json::json!({
                "if": { "properties": { "provider": { "const": name } }, "required": ["provider"] },
                "then": { "properties": properties },
            })
        })
        .collect();
    schema.insert("allOf".into(), rules.into());
}

/// Default values, in one place so the schema and the resolver agree.
pub mod defaults {
    pub fn yes() -> bool {
        true
    }
    /// The soak into production: a day of traffic, so a daily cycle has been seen.
    pub const PRODUCTION_SOAK: &str = "24h";
    /// The burn-rate ceiling into production: the budget spent no faster than it accrues.
    pub const PRODUCTION_MAX_BURN_RATE: f64 = 1.0;
    pub fn blocking_alert_names() -> Vec<String> {
        super::SLO_ALERTS.map(String::from).to_vec()
    }
    pub fn blocking_severities() -> Vec<String> {
        vec!["critical".into()]
    }
    pub fn target_revision() -> String {
        "main".into()
    }
    pub fn github_actions_issuer() -> String {
        super::GITHUB_ACTIONS_ISSUER.into()
    }
    pub fn kubernetes_version() -> String {
        super::kubernetes_support::DEFAULT_VERSION.into()
    }
    pub fn dns_port() -> u16 {
        53
    }
    pub fn vault_mount() -> String {
        "secret".into()
    }
    pub fn vault_auth_mount() -> String {
        "kubernetes".into()
    }
    pub fn network_cidr() -> String {
        "10.0.0.0/16".into()
    }
    pub fn db_instances() -> u32 {
        2
    }
    pub fn db_storage_gib() -> u32 {
        20
    }
    pub fn rpo_minutes() -> u32 {
        5
    }
    pub fn retention_days() -> u32 {
        30
    }
    pub fn availability() -> f64 {
        99.9
    }
    pub fn latency_threshold_ms() -> u32 {
        300
    }
    pub fn latency_target() -> f64 {
        99.0
    }
    pub fn metrics_days() -> u32 {
        15
    }
    pub fn logs_days() -> u32 {
        7
    }
    pub fn traces_days() -> u32 {
        3
    }
}

/// A name given on the command line (`--env`, `--from`, `--to`) that is not one of the
/// manifest's environments: one error for every command, with the names there are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, miette::Diagnostic)]
#[error("no environment named \"{name}\" in the manifest")]
#[diagnostic(code(manifest::unknown_environment), help("{help}"))]
pub struct UnknownEnvironment {
    pub name: String,
    help: String,
}

impl Manifest {
    /// How Argo CD authenticates to the GitOps repository (`gitops.private`): a GitHub App on
    /// github.com, a user and token elsewhere; none for a public repository.
    pub fn repo_auth(&self) -> Option<RepoAuth> {
        self.gitops
            .private
            .then(|| match github_repository(&self.gitops.repo_url) {
                Some(_) => RepoAuth::GithubApp,
                None => RepoAuth::Password,
            })
    }

    /// Which single sign-on Argo CD offers: `gitops.sso`, or GitHub (for the members of the
    /// repository's owner) when the repository is on github.com and the manifest names none.
    pub fn sso_kind(&self) -> Option<SsoKind> {
        match &self.gitops.sso {
            Some(Sso { github: Some(_), .. }) => Some(SsoKind::Github),
            Some(Sso { oidc: Some(_), .. }) => Some(SsoKind::Oidc),
            Some(_) => None,
            None => github_repository(&self.gitops.repo_url).map(|_| SsoKind::Github),
        }
    }

    /// The environment called `name`.
    pub fn environment(&self, name: &str) -> Result<&Environment, UnknownEnvironment> {
        self.environments
            .iter()
            .find(|e| e.name == name)
            .ok_or_else(|| self.unknown_environment(name))
    }

    /// The error for `name`, which is not an environment of this manifest: it lists the ones
    /// there are, and the closest when one is a likely misspelling.
    pub fn unknown_environment(&self, name: &str) -> UnknownEnvironment {
        let names: Vec<&str> = self.environments.iter().map(|e| e.name.as_str()).collect();
        let mut help = format!("environments in the manifest: {}", names.join(", "));
        if let Some(close) = suggest::closest(name, names.iter().copied()) {
            help = format!("did you mean \"{close}\"? {help}");
        }
        UnknownEnvironment {
            name: name.to_owned(),
            help,
        }
    }
}
