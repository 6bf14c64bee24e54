//! The typed model of `platform.yaml`: exactly what a manifest may say, nothing more.
//!
//! Every struct denies unknown fields so a typo never passes silently; the JSON Schema that
//! `platform schema` prints is generated from these types, and doc comments become its
//! descriptions (what an editor shows on hover).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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
    pub components: Components,
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
}

/// The OCI registry that holds the app's images.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Registry {
    /// Registry host, e.g. `ghcr.io`.
    pub host: String,
    /// Repository prefix under the host, e.g. the GitHub organization.
    pub namespace: String,
}

/// Who signs the images: a cosign public key, or a keyless (Fulcio) identity. Exactly one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Signing {
    /// PEM-encoded ECDSA P-256 public key (cosign `--key`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyless: Option<Keyless>,
}

/// A keyless signing identity, as cosign's `--certificate-*` flags name it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Keyless {
    /// OIDC issuer, e.g. `https://token.actions.githubusercontent.com`.
    pub issuer: String,
    /// Exact certificate subject (SAN), e.g. the signing workflow's URL at a ref.
    pub subject: String,
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
}

/// Chart versions of the platform components.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Components {
    #[serde(default = "defaults::ingress_nginx")]
    pub ingress_nginx: Component,
    #[serde(default = "defaults::argo_cd")]
    pub argo_cd: Component,
    #[serde(default = "defaults::cert_manager")]
    pub cert_manager: Component,
    #[serde(default = "defaults::cloudnative_pg")]
    pub cloudnative_pg: Component,
    #[serde(default = "defaults::redis")]
    pub redis: Component,
}

impl Default for Components {
    fn default() -> Self {
        Self {
            ingress_nginx: defaults::ingress_nginx(),
            argo_cd: defaults::argo_cd(),
            cert_manager: defaults::cert_manager(),
            cloudnative_pg: defaults::cloudnative_pg(),
            redis: defaults::redis(),
        }
    }
}

impl Components {
    /// Each component with its manifest key, for checks that treat them alike.
    pub fn entries(&self) -> [(&'static str, &Component); 5] {
        [
            ("ingressNginx", &self.ingress_nginx),
            ("argoCd", &self.argo_cd),
            ("certManager", &self.cert_manager),
            ("cloudnativePg", &self.cloudnative_pg),
            ("redis", &self.redis),
        ]
    }
}

impl ComponentPins {
    /// Each pin with its manifest key (`None` where the environment inherits).
    pub fn entries(&self) -> [(&'static str, &Option<Component>); 5] {
        [
            ("ingressNginx", &self.ingress_nginx),
            ("argoCd", &self.argo_cd),
            ("certManager", &self.cert_manager),
            ("cloudnativePg", &self.cloudnative_pg),
            ("redis", &self.redis),
        ]
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Component {
    /// Helm chart version (semver).
    pub chart_version: String,
}

/// Per-environment overrides of component chart versions; unset ones inherit the top level.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ComponentPins {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress_nginx: Option<Component>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub argo_cd: Option<Component>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_manager: Option<Component>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloudnative_pg: Option<Component>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redis: Option<Component>,
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
    /// Environment name; a DNS label, unique in the manifest.
    pub name: String,
    /// The environment whose pinned versions are promoted into this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promoted_from: Option<String>,
    /// A production environment: stricter defaults (policies enforced, more instances).
    #[serde(default)]
    pub production: bool,
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
    pub database: Database,
    #[serde(default)]
    pub backup: Backup,
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Cluster {
    pub provider: Provider,
    /// Cloud region (required for eks, aks, gke).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Kubernetes minor version, e.g. "1.31".
    #[serde(default = "defaults::kubernetes_version")]
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
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

/// Worker node count bounds of the cluster autoscaler.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeCount {
    pub min: u32,
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
    pub min: u32,
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
    pub instances: u32,
    /// Volume size per instance, in GiB.
    #[serde(default = "defaults::db_storage_gib")]
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
    pub rpo_minutes: u32,
    /// How long base backups and WAL are kept, in days.
    #[serde(default = "defaults::retention_days")]
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

/// Default values, in one place so the schema and the resolver agree.
pub mod defaults {
    use super::Component;

    pub fn yes() -> bool {
        true
    }
    pub fn target_revision() -> String {
        "main".into()
    }
    pub fn kubernetes_version() -> String {
        "1.31".into()
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
    fn chart(version: &str) -> Component {
        Component {
            chart_version: version.into(),
        }
    }
    pub fn ingress_nginx() -> Component {
        chart("4.11.3")
    }
    pub fn argo_cd() -> Component {
        chart("7.7.5")
    }
    pub fn cert_manager() -> Component {
        chart("v1.16.2")
    }
    pub fn cloudnative_pg() -> Component {
        chart("0.22.1")
    }
    pub fn redis() -> Component {
        chart("20.3.0")
    }
}
