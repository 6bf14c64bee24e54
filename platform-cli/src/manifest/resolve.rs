//! Defaults resolved into one flat view per environment: what the templates see.
//!
//! Templates never compute: every derived name (buckets, hosts, namespaces, sync waves) is
//! decided here, once, so a newcomer reads one function to learn where a value comes from.

use std::collections::BTreeMap;
use std::str::FromStr;

use platform_contracts::tenancy::{DEFAULT_DENY, ISOLATION_READY_LABEL, ORG_LABEL, TENANT_LABEL};
use serde::Serialize;

use super::ci::{self, CiInfraView, NoSigningIdentity, RegistryLoginView, SigningView};
use super::pins::Pins;
use crate::model::cloud_limits;
use crate::model::components::{Component, Folder, Runs, Source};
use crate::model::sizing::Workload;
use crate::model::{
    self, Challenge, DatabaseMode, DnsRecords, Manifest, ObservabilityMode, Provider, RepoAuth, SecretStore, SsoKind,
    TsigAlgorithm,
};
use crate::secrets::EnvSecrets;
use crate::secrets::catalog::{SecretId, TSIG_SECRET_KEY, VALKEY_USERS};
use crate::secrets::external::{self, ExternalSecretView};

/// Everything one environment's files are rendered from.
#[derive(Debug, Clone, Serialize)]
pub struct ResolvedEnvironment {
    pub platform: String,
    pub gitops: GitOpsView,
    pub signing: SigningView,
    pub env: EnvView,
    pub cluster: ClusterView,
    pub app: AppView,
    pub database: DatabaseView,
    pub backup: BackupView,
    pub state: StateView,
    pub observability: ObservabilityView,
    pub policy: PolicyView,
    pub slo: SloView,
    pub tenancy: TenancyView,
    pub gateway: GatewayView,
    pub dns: DnsView,
    pub secrets: SecretsView,
    pub valkey: ValkeyView,
    /// The facts that decide which components (and which of their files) the environment runs.
    #[serde(skip)]
    pub runs: Runs,
    /// Component name → workload → what its containers request (model/sizing.rs).
    pub sizing: BTreeMap<&'static str, BTreeMap<&'static str, WorkloadView>>,
    /// Components in sync-wave order: operators and CRDs before their users.
    pub components: Vec<ComponentView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GitOpsView {
    pub repo_url: String,
    pub target_revision: String,
    /// How people sign in to Argo CD; none: only through the cluster (`argocd --core`).
    pub sso: Option<SsoView>,
    /// How Argo CD authenticates to a private repository; none: the repository is public.
    pub credentials: Option<RepoAuth>,
}

impl GitOpsView {
    pub fn of(m: &Manifest) -> Self {
        Self {
            repo_url: m.gitops.repo_url.clone(),
            target_revision: m.gitops.target_revision.clone(),
            sso: sso(m),
            credentials: m.repo_auth(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SsoView {
    pub kind: SsoKind,
    /// GitHub: the organization whose members sign in, and its admin team.
    pub organization: Option<String>,
    pub admin_team: Option<String>,
    /// OIDC: the issuer, the client id, and the admin group.
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    pub admin_group: Option<String>,
    /// The Secret (argocd namespace) holding the client's credentials: a row of the secrets table.
    pub secret: &'static str,
}

/// The manifest's `gitops.sso`, or GitHub for the members of the repository's owner when the
/// repository is on github.com and the manifest names none ([`Manifest::sso_kind`]).
pub fn sso(m: &Manifest) -> Option<SsoView> {
    let view = |kind| SsoView {
        kind,
        organization: None,
        admin_team: None,
        issuer: None,
        client_id: None,
        admin_group: None,
        secret: match kind {
            SsoKind::Github => SecretId::ArgocdDexGithub.spec().name,
            SsoKind::Oidc => SecretId::ArgocdOidc.spec().name,
        },
    };
    let configured = m.gitops.sso.as_ref();
    match m.sso_kind()? {
        SsoKind::Github => {
            let (organization, admin_team) = match configured.and_then(|s| s.github.as_ref()) {
                Some(g) => (g.organization.clone(), g.admin_team.clone()),
                None => (
                    model::github_repository(&m.gitops.repo_url)?
                        .split_once('/')?
                        .0
                        .to_string(),
                    None,
                ),
            };
            Some(SsoView {
                organization: Some(organization),
                admin_team,
                ..view(SsoKind::Github)
            })
        }
        SsoKind::Oidc => {
            let o = configured.and_then(|s| s.oidc.as_ref())?;
            Some(SsoView {
                issuer: Some(o.issuer.clone()),
                client_id: Some(o.client_id.clone()),
                admin_group: o.admin_group.clone(),
                ..view(SsoKind::Oidc)
            })
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct EnvView {
    pub name: String,
    pub production: bool,
    pub promoted_from: Option<String>,
    pub domain: String,
    pub acme_email: String,
    pub replicas_min: u32,
    pub replicas_max: u32,
}

impl EnvView {
    pub fn of(e: &model::Environment) -> Self {
        Self {
            name: e.name.clone(),
            production: e.production,
            promoted_from: e.promoted_from.clone(),
            domain: e.domain.clone(),
            acme_email: e.acme_email.clone(),
            replicas_min: e.replicas.min,
            replicas_max: e.replicas.max,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ClusterView {
    pub provider: &'static str,
    pub name: String,
    pub region: Option<String>,
    pub kubernetes_version: String,
    pub node_size: Option<String>,
    pub nodes_min: u32,
    pub nodes_max: u32,
    pub network_cidr: String,
    /// EKS: the node size is an ARM (Graviton) instance type, so nodes get the ARM image.
    pub arm: bool,
    /// AKS: the overlay pod range and the Service range, both outside the VNet.
    pub pod_cidr: Option<&'static str>,
    pub service_cidr: Option<&'static str>,
    pub gcp_project: Option<String>,
    pub kubeconfig_context: Option<String>,
    /// Existing clusters: the addresses MetalLB gives LoadBalancer Services (none: the cluster
    /// provides load balancers itself).
    pub load_balancer_addresses: Vec<String>,
    /// Prometheus scrapes (and alerts on) kube-scheduler, kube-controller-manager, etcd and
    /// kube-proxy: only where the manifest says they are reachable (existing clusters).
    pub control_plane_metrics: bool,
    /// EKS: the AWS Load Balancer Controller's service account, which Terraform gives its AWS
    /// permissions through Pod Identity.
    pub lb_controller: Option<ServiceAccountView>,
    /// EKS: Karpenter, which Terraform gives its IAM roles and interruption queue.
    pub karpenter: Option<KarpenterView>,
}

impl ClusterView {
    pub fn of(platform: &str, e: &model::Environment) -> Self {
        let name = cluster_name(platform, &e.name);
        let eks = e.cluster.provider == Provider::Eks;
        let aks = e.cluster.provider == Provider::Aks;
        Self {
            provider: e.cluster.provider.key(),
            region: e.cluster.region.clone(),
            kubernetes_version: e.cluster.kubernetes_version.clone(),
            node_size: e.cluster.node_size.clone(),
            nodes_min: e.cluster.nodes.min,
            nodes_max: e.cluster.nodes.max,
            network_cidr: e.cluster.network_cidr.clone(),
            arm: eks
                && e.cluster
                    .node_size
                    .as_deref()
                    .is_some_and(cloud_limits::is_arm_instance_type),
            pod_cidr: aks.then_some(cloud_limits::AKS_POD_CIDR),
            service_cidr: aks.then_some(cloud_limits::AKS_SERVICE_CIDR),
            gcp_project: e.cluster.gcp_project.clone(),
            kubeconfig_context: e.cluster.kubeconfig_context.clone(),
            load_balancer_addresses: e.cluster.load_balancer_addresses.clone(),
            control_plane_metrics: e.cluster.control_plane_metrics,
            karpenter: eks.then(|| karpenter(&name, e)),
            lb_controller: eks.then(|| ServiceAccountView {
                namespace: Component::AwsLoadBalancerController.spec().namespace,
                name: "aws-load-balancer-controller",
            }),
            name,
        }
    }
}

/// What Terraform and Karpenter's values and node classes agree on.
#[derive(Debug, Clone, Serialize)]
pub struct KarpenterView {
    pub service_account: ServiceAccountView,
    /// The IAM role of the nodes Karpenter launches (Terraform names it, the EC2NodeClass uses it).
    pub node_role: String,
    /// The SQS queue of spot interruptions and instance events.
    pub interruption_queue: String,
    /// Value of the `karpenter.sh/discovery` tag on the private subnets and node security group.
    pub discovery: String,
    /// CPU (cores) and memory (GiB) Karpenter may add: `nodes.max - nodes.min` nodes of
    /// `nodeSize` (none where the size's shape is unknown: 0 means it launches nothing).
    pub cpu_limit: u32,
    pub memory_limit_gib: u32,
    /// `amd64` or `arm64`, as the managed node group's.
    pub arch: &'static str,
}

/// A Kubernetes service account that a cloud identity is bound to.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceAccountView {
    pub namespace: &'static str,
    pub name: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct AppView {
    pub image: String,
    /// The image without its digest or tag, e.g. `ghcr.io/acme/app`.
    pub repository: String,
    pub digest: Option<String>,
    pub tag: Option<String>,
    pub chart_version: String,
    pub host: String,
    pub namespace: &'static str,
    /// `registry.private`: the Secrets (secrets table) the app's pods and Kyverno pull with.
    pub pull_secret: Option<&'static str>,
    pub kyverno_pull_secret: Option<&'static str>,
}

impl AppView {
    pub fn of(m: &Manifest, e: &model::Environment, pins: &Pins) -> Self {
        let (repository, digest, tag) = split_image(&pins.app_image);
        Self {
            image: pins.app_image.clone(),
            repository,
            digest,
            tag,
            chart_version: pins.app_chart_version.clone(),
            host: format!("app.{}", e.domain),
            namespace: "app",
            pull_secret: m.registry.private.then(|| SecretId::AppRegistryPull.spec().name),
            kyverno_pull_secret: m.registry.private.then(|| SecretId::KyvernoRegistryPull.spec().name),
        }
    }
}

/// The one public entry point: a Gateway API `Gateway` served by NGINX Gateway Fabric, with an
/// HTTPS listener per host (cert-manager issues each listener's certificate through HTTP-01 on
/// the shared HTTP listener, which otherwise redirects to HTTPS).
#[derive(Debug, Clone, Serialize)]
pub struct GatewayView {
    pub name: &'static str,
    pub namespace: &'static str,
    pub class_name: &'static str,
    /// Name of the plain-HTTP listener (ACME challenges and the redirect).
    pub http_listener: &'static str,
    /// Where NGINX Gateway Fabric's control plane runs, and its pods' `app.kubernetes.io/name`
    /// (the chart's name): what its PodMonitor selects.
    pub controller_namespace: &'static str,
    pub controller_app: &'static str,
    pub app: ListenerView,
    pub argocd: ListenerView,
    pub grafana: ListenerView,
}

/// Who makes the Gateway's DNS records and how its certificates are validated.
#[derive(Debug, Clone, Serialize)]
pub struct DnsView {
    pub records: DnsRecords,
    /// The zone records are made in; every hostname of the Gateway is in it.
    pub zone: String,
    /// Terraform creates the zone rather than look it up (`cloud`).
    pub create_zone: bool,
    /// The TXT registry's owner id: external-dns changes only the records it marked with it, so
    /// two environments sharing a zone never touch each other's.
    pub owner_id: String,
    pub challenge: Challenge,
    /// The service accounts the DNS identity is bound to (Terraform names the same ones):
    /// external-dns's, and cert-manager's where it answers DNS-01 challenges.
    pub external_dns_account: ServiceAccountView,
    pub cert_manager_account: ServiceAccountView,
    pub rfc2136: Option<Rfc2136View>,
    /// AKS: the zone's resource group, and the ConfigMap (external-dns's namespace) through
    /// which Terraform hands external-dns its `azure.json` and client id.
    pub azure_resource_group: Option<String>,
    pub azure_config_map: Option<&'static str>,
    /// GKE: the zone's resource name in Cloud DNS.
    pub gcp_zone_name: Option<String>,
}

/// An RFC 2136 server as external-dns's flags and cert-manager's solver spell it.
#[derive(Debug, Clone, Serialize)]
pub struct Rfc2136View {
    pub server: String,
    pub port: u16,
    pub key_name: String,
    /// e.g. `hmac-sha256` (external-dns) and `HMACSHA256` (cert-manager).
    pub external_dns_algorithm: &'static str,
    pub cert_manager_algorithm: &'static str,
    /// The Secrets (secrets table) holding the TSIG key's secret for each reader.
    pub external_dns_secret: &'static str,
    pub cert_manager_secret: &'static str,
    /// The key of both Secrets.
    pub secret_key: &'static str,
}

/// An HTTPS listener of the Gateway and who may attach routes to it.
#[derive(Debug, Clone, Serialize)]
pub struct ListenerView {
    /// The listener's name, which routes name as `sectionName`.
    pub name: &'static str,
    pub host: String,
    /// The only namespace whose routes the listener accepts.
    pub route_namespace: &'static str,
    /// The Secret cert-manager writes the listener's certificate to (in the Gateway's namespace).
    pub secret: &'static str,
}

/// Replicas and resources of one workload, as Kubernetes quantities.
#[derive(Debug, Clone, Serialize)]
pub struct WorkloadView {
    pub replicas: u32,
    pub cpu: String,
    pub memory: String,
    pub memory_limit: String,
}

impl From<Workload> for WorkloadView {
    fn from(w: Workload) -> Self {
        Self {
            replicas: w.replicas,
            cpu: format!("{}m", w.cpu_millis),
            memory: format!("{}Mi", w.memory_mib),
            memory_limit: format!("{}Mi", w.memory_limit_mib),
        }
    }
}

fn dns(platform: &str, e: &model::Environment) -> DnsView {
    let records = e.dns_records();
    let zone = e.dns.zone.clone().unwrap_or_else(|| e.domain.clone());
    let cloud = |p: Provider| records == DnsRecords::Cloud && e.cluster.provider == p;
    let rfc2136 = e.dns.rfc2136.as_ref().filter(|_| records == DnsRecords::Rfc2136);
    DnsView {
        records,
        owner_id: format!("{platform}-{}", e.name),
        challenge: e.dns.challenge,
        create_zone: records == DnsRecords::Cloud && e.dns.create_zone,
        external_dns_account: ServiceAccountView {
            namespace: Component::ExternalDns.spec().namespace,
            name: "external-dns",
        },
        cert_manager_account: ServiceAccountView {
            namespace: Component::CertManager.spec().namespace,
            name: "cert-manager",
        },
        rfc2136: rfc2136.map(|r| Rfc2136View {
            server: r.server.clone(),
            port: r.port,
            key_name: r.key_name.clone(),
            external_dns_algorithm: match r.key_algorithm {
                TsigAlgorithm::HmacSha256 => "hmac-sha256",
                TsigAlgorithm::HmacSha384 => "hmac-sha384",
                TsigAlgorithm::HmacSha512 => "hmac-sha512",
            },
            cert_manager_algorithm: match r.key_algorithm {
                TsigAlgorithm::HmacSha256 => "HMACSHA256",
                TsigAlgorithm::HmacSha384 => "HMACSHA384",
                TsigAlgorithm::HmacSha512 => "HMACSHA512",
            },
            external_dns_secret: SecretId::ExternalDnsTsig.spec().name,
            cert_manager_secret: SecretId::CertManagerTsig.spec().name,
            secret_key: TSIG_SECRET_KEY,
        }),
        azure_resource_group: cloud(Provider::Aks).then(|| format!("{platform}-{}-dns", e.name)),
        azure_config_map: cloud(Provider::Aks).then_some("external-dns-azure"),
        gcp_zone_name: cloud(Provider::Gke).then(|| zone.replace('.', "-")),
        zone,
    }
}

/// `secrets.store` and what External Secrets Operator needs of it; with `kubernetes`, only
/// `store` (the platform makes the Secrets in the cluster itself).
#[derive(Debug, Clone, Default, Serialize)]
pub struct SecretsView {
    pub store: SecretStore,
    /// The ClusterSecretStore's name.
    pub store_name: &'static str,
    /// External Secrets Operator's controller, which the cloud identity is bound to.
    pub controller: Option<ServiceAccountView>,
    /// What every name in the store starts with: the cluster's name.
    pub prefix: String,
    /// Every name the store holds, one per random or supplied key.
    pub remote_names: Vec<String>,
    /// The field a value is kept under where a store's secrets are maps (Vault's KV engine);
    /// elsewhere a secret is the value itself.
    pub property: Option<&'static str>,
    pub external_secrets: Vec<ExternalSecretView>,
    /// The namespaces ExternalSecrets write to, and the controller's (where `platform` pushes
    /// values): the only ones that may use the store.
    pub namespaces: Vec<&'static str>,
    pub azure: Option<AzureVaultView>,
    pub vault: Option<VaultView>,
}

/// The Key Vault Terraform makes for `store: azure-key-vault`.
#[derive(Debug, Clone, Serialize)]
pub struct AzureVaultView {
    pub name: String,
    pub url: String,
    pub resource_group: String,
    /// Where Terraform writes the controller identity's client id and the tenant, which exist
    /// only once Azure made them.
    pub config_map: &'static str,
}

/// The Vault server of `store: vault`, and the role and policy Terraform makes there.
#[derive(Debug, Clone, Serialize)]
pub struct VaultView {
    pub server: String,
    pub mount: String,
    pub auth_mount: String,
    pub role: String,
    pub policy: String,
}

/// Valkey: chat fan-out, config notifications, the token denylist and rate limits.
#[derive(Debug, Clone, Serialize)]
pub struct ValkeyView {
    pub namespace: &'static str,
    /// The primary's Service (the chart names it after the release).
    pub host: String,
    /// Secret (in the Valkey namespace) with the ACL users' passwords, a key per user.
    pub users_secret: &'static str,
    /// The app's two ACL users (the one it logs in as, and the one rotation moves it to).
    pub app_users: [&'static str; 2],
    /// Secret with the server certificate cert-manager issues from the platform CA.
    pub tls_secret: &'static str,
    /// Secret in the app's namespace with a client certificate from the same CA: its `ca.crt`
    /// is what the app trusts Valkey's certificate by.
    pub client_secret: &'static str,
    /// Where persistence is on (production): a restart keeps the rate-limit buckets and spares
    /// the replicas a re-seed (revocations survive either way: PostgreSQL holds them).
    pub persistent: bool,
    /// Valkey's `maxmemory`: three quarters of its container's memory limit, so writes fail
    /// (noeviction) before the kernel kills it, and ValkeyMemoryHigh has a ceiling to warn at.
    pub maxmemory_mib: u32,
}

impl ValkeyView {
    pub fn of(e: &model::Environment) -> Self {
        Self {
            namespace: "data",
            host: "valkey.data.svc".into(),
            users_secret: SecretId::ValkeyUsers.spec().name,
            app_users: VALKEY_USERS,
            tls_secret: "valkey-tls",
            client_secret: "valkey-client-tls",
            persistent: e.production,
            maxmemory_mib: Component::Valkey
                .workloads(&e.shape())
                .iter()
                .find(|w| w.name == "valkey")
                .map_or(0, |w| w.memory_limit_mib * 3 / 4),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DatabaseView {
    pub managed: bool,
    pub instances: u32,
    pub storage_gib: u32,
    pub cluster_name: &'static str,
    pub namespace: &'static str,
    /// Secret (in the app namespace) holding the app's connection URI; never rendered.
    pub app_secret: &'static str,
}

impl DatabaseView {
    pub fn of(e: &model::Environment) -> Self {
        Self {
            managed: e.database.mode == DatabaseMode::Managed,
            instances: e.database.instances,
            storage_gib: e.database.storage_gib,
            cluster_name: crate::secrets::catalog::DATABASE_CLUSTER,
            namespace: "data",
            app_secret: SecretId::AppDatabase.spec().name,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct BackupView {
    pub rpo_minutes: u32,
    pub retention_days: u32,
    /// `archive_timeout` forces a WAL switch at least this often: the RPO, in PostgreSQL units.
    pub archive_timeout: String,
    pub bucket: String,
    /// Barman destination, e.g. `s3://acme-dev-backups/postgres`.
    pub destination_path: String,
    /// The Barman Cloud plugin's ObjectStore (beside the database) the Cluster archives to.
    pub object_store: &'static str,
    pub s3_endpoint: Option<String>,
    /// AKS: the ConfigMap (beside the database) through which Terraform hands the PostgreSQL
    /// pods the client id of their backup identity, which only exists once Azure made it.
    pub identity_config_map: Option<&'static str>,
    /// GKE: account id and email of the Google service account the PostgreSQL pods write as.
    pub gcp_writer_id: Option<String>,
    pub gcp_writer_email: Option<String>,
}

impl BackupView {
    pub fn of(platform: &str, e: &model::Environment) -> Self {
        // Azure storage accounts allow no '-'; buckets elsewhere keep the readable name.
        let bucket = match e.cluster.provider {
            Provider::Aks => storage_account_name(&format!("{platform}{}backups", e.name)),
            _ => format!("{platform}-{}-backups", e.name),
        };
        let gcp_writer = e.cluster.gcp_project.as_ref().map(|project| {
            let id = gcp_account_id(&format!("{platform}-{}-pg-backup", e.name));
            let email = format!("{id}@{project}.iam.gserviceaccount.com");
            (id, email)
        });
        Self {
            rpo_minutes: e.backup.rpo_minutes,
            retention_days: e.backup.retention_days,
            archive_timeout: format!("{}min", e.backup.rpo_minutes),
            destination_path: match e.cluster.provider {
                Provider::Aks => format!("https://{bucket}.blob.core.windows.net/postgres"),
                Provider::Gke => format!("gs://{bucket}/postgres"),
                Provider::Eks | Provider::Existing => format!("s3://{bucket}/postgres"),
            },
            object_store: "postgres-backup",
            bucket,
            s3_endpoint: e.backup.s3_endpoint.clone(),
            identity_config_map: (e.cluster.provider == Provider::Aks).then_some("postgres-backup-identity"),
            gcp_writer_id: gcp_writer.as_ref().map(|(id, _)| id.clone()),
            gcp_writer_email: gcp_writer.map(|(_, email)| email),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct StateView {
    /// Terraform backend type: s3, azurerm, gcs or kubernetes.
    pub backend: &'static str,
    pub bucket: Option<String>,
    pub key: String,
    pub resource_group: Option<String>,
    pub storage_account: Option<String>,
    /// Where the storage lives (S3 region, GCS or Azure location): beside the first environment
    /// keeping its state there.
    pub region: Option<String>,
    /// GCS: the project that owns the bucket.
    pub project: Option<String>,
}

/// One storage of Terraform state, as `terraform/state/` makes it.
#[derive(Debug, Clone, Serialize)]
pub struct StateStorageView {
    /// The bucket or storage account.
    pub name: String,
    /// `name` as a Terraform identifier.
    pub id: String,
    #[serde(flatten)]
    pub state: StateView,
    /// The roots keeping their state there, e.g. `terraform/envs/prod`.
    pub roots: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ObservabilityView {
    pub central: bool,
    pub mimir_url: Option<String>,
    pub loki_url: Option<String>,
    pub tempo_url: Option<String>,
    /// `X-Scope-OrgID` for the central backends.
    pub tenant: String,
    pub metrics_days: u32,
    pub logs_days: u32,
    pub traces_days: u32,
    pub namespace: &'static str,
}

impl ObservabilityView {
    pub fn of(platform: &str, e: &model::Environment) -> Self {
        Self {
            central: e.observability.mode == ObservabilityMode::Central,
            mimir_url: e.observability.mimir_url.clone(),
            loki_url: e.observability.loki_url.clone(),
            tempo_url: e.observability.tempo_url.clone(),
            tenant: e
                .observability
                .tenant
                .clone()
                .unwrap_or_else(|| format!("{platform}-{}", e.name)),
            metrics_days: e.observability.retention.metrics_days,
            logs_days: e.observability.retention.logs_days,
            traces_days: e.observability.retention.traces_days,
            namespace: "monitoring",
        }
    }
}

/// Kyverno behaviour: production blocks, other environments may only report.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyView {
    pub enforce: bool,
    /// The policies' `validationActions`: Deny (refuse at admission) or Audit (report only).
    pub action: &'static str,
    /// Webhook `failurePolicy`: Fail when enforcing (fail closed), else Ignore.
    pub failure_policy: &'static str,
}

impl PolicyView {
    pub fn of(e: &model::Environment) -> Self {
        let enforce = e.policy_enforced();
        Self {
            enforce,
            action: if enforce { "Deny" } else { "Audit" },
            failure_policy: if enforce { "Fail" } else { "Ignore" },
        }
    }
}

/// SLO targets as the PromQL expressions need them (ratios, not percentages).
#[derive(Debug, Clone, Serialize)]
pub struct SloView {
    pub availability: f64,
    /// Allowed error ratio, e.g. "0.001" for 99.9%.
    pub error_budget: String,
    pub latency_target: f64,
    pub latency_budget: String,
    pub latency_threshold_ms: u32,
    /// The `le` label value of the histogram bucket at the threshold, e.g. "0.3".
    pub latency_le: String,
    /// One entry per SLI, each getting a fast- and a slow-burn alert.
    pub indicators: Vec<SliView>,
}

impl SloView {
    pub fn of(m: &Manifest) -> Self {
        let slo = &m.app.slo;
        Self {
            indicators: vec![
                SliView {
                    name: "Availability",
                    ratio: "errors",
                    budget: ratio(1.0 - slo.availability / 100.0),
                    bad: "failing with 5xx (with AppDependencyUnavailable firing too, PostgreSQL or Redis is why)"
                        .into(),
                    fast_alert: model::SLO_ALERTS[0],
                    slow_alert: model::SLO_ALERTS[1],
                },
                SliView {
                    name: "Latency",
                    ratio: "slow",
                    budget: ratio(1.0 - slo.latency.target / 100.0),
                    bad: format!("slower than {} ms", slo.latency.threshold_ms),
                    fast_alert: model::SLO_ALERTS[2],
                    slow_alert: model::SLO_ALERTS[3],
                },
            ],
            availability: slo.availability,
            error_budget: ratio(1.0 - slo.availability / 100.0),
            latency_target: slo.latency.target,
            latency_budget: ratio(1.0 - slo.latency.target / 100.0),
            latency_threshold_ms: slo.latency.threshold_ms,
            latency_le: ratio(f64::from(slo.latency.threshold_ms) / 1000.0),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SliView {
    /// `Availability` or `Latency`: the alert names' middle part.
    pub name: &'static str,
    /// Recording-rule infix: `slo:app_http_<ratio>:ratio_rate<window>`.
    pub ratio: &'static str,
    pub budget: String,
    /// What a bad request is, for alert descriptions.
    pub bad: String,
    pub fast_alert: &'static str,
    pub slow_alert: &'static str,
}

/// Labels and namespaces that tie policies, network isolation and the org saga together.
#[derive(Debug, Clone, Serialize)]
pub struct TenancyView {
    /// Marks a tenant namespace (`org-<slug>`): restricted Pod Security and default-deny.
    pub tenant_label: &'static str,
    /// The org a tenant namespace belongs to.
    pub org_label: &'static str,
    /// Set by the isolation gate once the default-deny NetworkPolicy exists.
    pub isolation_ready_label: &'static str,
    /// The NetworkPolicy Kyverno generates in every tenant namespace; the gate waits for it.
    pub default_deny: &'static str,
    pub ingress_namespace: &'static str,
    /// Namespaces no admission policy applies to (control plane, Kyverno, node agents).
    pub system_namespaces: Vec<&'static str>,
}

/// The contracts crate's labels and the namespaces policies leave alone.
impl Default for TenancyView {
    fn default() -> Self {
        Self {
            tenant_label: TENANT_LABEL,
            org_label: ORG_LABEL,
            isolation_ready_label: ISOLATION_READY_LABEL,
            default_deny: DEFAULT_DENY,
            ingress_namespace: GATEWAY_NAMESPACE,
            system_namespaces: SYSTEM_NAMESPACES.to_vec(),
        }
    }
}

/// How Argo CD gets a component's manifests.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    /// A chart from a Helm repository, values from this repository.
    HelmRepo,
    /// A chart in this repository (`helm/charts/<name>`).
    LocalChart,
    /// Plain manifests rendered into this repository.
    Directory,
    /// A folder of an upstream Git repository at a release tag.
    UpstreamGit,
}

#[derive(Debug, Clone, Serialize)]
pub struct ComponentView {
    #[serde(skip)]
    pub component: Component,
    pub name: &'static str,
    pub namespace: &'static str,
    pub source: SourceKind,
    pub repo_url: Option<&'static str>,
    pub chart: Option<&'static str>,
    pub chart_version: Option<String>,
    pub sync_wave: i32,
    /// Path in the GitOps repository: the values file, local chart or manifest folder.
    pub path: String,
    /// A values file rendered for this component (`helm/values/<env>/<name>.yaml`).
    pub values_file: Option<String>,
}

impl ResolvedEnvironment {
    /// The images of this environment whose signatures `platform verify` checks: the app's, the
    /// only image the manifest pins. Component charts pull their vendors' images, unverified.
    pub fn images(&self) -> Vec<String> {
        vec![self.app.image.clone()]
    }
}

/// What the repository-wide files (CI workflows) are rendered from.
#[derive(Debug, Clone, Serialize)]
pub struct ResolvedPlatform {
    pub platform: String,
    pub gitops: GitOpsView,
    pub signing: SigningView,
    /// How the app workflow logs in to the registry it pushes to.
    pub registry: RegistryLoginView,
    /// Repository of the app image, e.g. `ghcr.io/acme/app`.
    pub app_repository: String,
    pub environments: Vec<String>,
    /// Each promotion into a gated environment, `(from, to)`: the workflow checks its gates on
    /// the promotion pull request.
    pub gated_promotions: Vec<(String, String)>,
    /// What `terraform/ci/` creates in the registry's cloud (none for ghcr.io and others).
    pub ci_infra: Option<CiInfraView>,
    /// Where `terraform/ci/` keeps its state: beside the first environment in the same cloud.
    pub ci_state: Option<StateView>,
    /// The storages every root keeps its state in, which `terraform/state/` makes first.
    pub state_storages: Vec<StateStorageView>,
}

/// The repository-wide view of a valid manifest.
pub fn resolve_platform(manifest: &Manifest) -> Result<ResolvedPlatform, NoSigningIdentity> {
    let signing = ci::signing(manifest)?;
    let ci_infra = ci::infra(manifest);
    let ci_state = ci_infra.as_ref().and_then(|infra| ci_state(manifest, infra));
    Ok(ResolvedPlatform {
        state_storages: state_storages(manifest, ci_state.as_ref()),
        ci_infra,
        ci_state,
        platform: manifest.metadata.name.clone(),
        gitops: GitOpsView {
            repo_url: manifest.gitops.repo_url.clone(),
            target_revision: manifest.gitops.target_revision.clone(),
            sso: sso(manifest),
            credentials: manifest.repo_auth(),
        },
        registry: ci::registry_login(manifest, &signing),
        signing,
        app_repository: format!("{}/{}/app", manifest.registry.host, manifest.registry.namespace),
        environments: manifest.environments.iter().map(|e| e.name.clone()).collect(),
        gated_promotions: manifest
            .environments
            .iter()
            .filter(|e| e.promotion.gated(e.production))
            .filter_map(|e| Some((e.promoted_from.clone()?, e.name.clone())))
            .collect(),
    })
}

/// The CI root's state sits in the state storage of the first environment in the registry's
/// cloud, under its own key; without one, in the storage those environments would default to,
/// where the CI root's own resources are.
fn ci_state(m: &Manifest, infra: &CiInfraView) -> Option<StateView> {
    let provider = ci::RegistryKind::of(&m.registry.host).provider()?;
    let same_cloud = m.environments.iter().find(|e| e.cluster.provider == provider);
    let names = same_cloud.map(|e| e.terraform_state.clone()).unwrap_or_default();
    let home = Home {
        region: infra
            .aws
            .as_ref()
            .map(|aws| aws.region.clone())
            .or_else(|| infra.azure.as_ref().and_then(|az| az.location.clone()))
            .or_else(|| infra.gcp.as_ref().map(|gcp| gcp.location.clone())),
        project: infra.gcp.as_ref().map(|gcp| gcp.project.clone()),
    };
    Some(state_storage(m, provider, &names, "ci/terraform.tfstate".into(), home))
}

/// Where a storage lives when no environment keeps its state there.
#[derive(Debug, Default)]
struct Home {
    region: Option<String>,
    project: Option<String>,
}

/// The storage's names on `provider`: the manifest's, else the ones derived from the platform.
fn storage_names(platform: &str, provider: Provider, names: &model::TerraformState) -> StorageNames {
    let default = || format!("{platform}-tfstate");
    StorageNames {
        bucket: matches!(provider, Provider::Eks | Provider::Gke).then(|| names.bucket.clone().unwrap_or_else(default)),
        resource_group: (provider == Provider::Aks).then(|| names.resource_group.clone().unwrap_or_else(default)),
        storage_account: (provider == Provider::Aks).then(|| {
            names
                .storage_account
                .clone()
                .unwrap_or_else(|| storage_account_name(&format!("{platform}tfstate")))
        }),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct StorageNames {
    bucket: Option<String>,
    resource_group: Option<String>,
    storage_account: Option<String>,
}

/// Where a Terraform root on `provider` keeps its state under `key`. One place, for the
/// environment roots and the CI root. The storage lives beside the first environment (in
/// manifest order) that keeps its state there, so every root sharing it names the same region
/// (an S3 backend must); `terraform/state/` makes it there.
fn state_storage(
    m: &Manifest,
    provider: Provider,
    names: &model::TerraformState,
    key: String,
    fallback: Home,
) -> StateView {
    let platform = &m.metadata.name;
    let own = storage_names(platform, provider, names);
    let first = m
        .environments
        .iter()
        .find(|e| e.cluster.provider == provider && storage_names(platform, provider, &e.terraform_state) == own);
    let (region, project) = match first {
        Some(e) => (e.cluster.region.clone(), e.cluster.gcp_project.clone()),
        None => (fallback.region, fallback.project),
    };
    StateView {
        backend: match provider {
            Provider::Eks => "s3",
            Provider::Aks => "azurerm",
            Provider::Gke => "gcs",
            Provider::Existing => "kubernetes",
        },
        bucket: own.bucket,
        key,
        resource_group: own.resource_group,
        storage_account: own.storage_account,
        region: (provider != Provider::Existing).then_some(region).flatten(),
        project: (provider == Provider::Gke).then_some(project).flatten(),
    }
}

/// Every storage the repository's Terraform roots keep state in, once each, with the roots
/// that use it: what `terraform/state/` makes before any of them can `terraform init`.
fn state_storages(m: &Manifest, ci_state: Option<&StateView>) -> Vec<StateStorageView> {
    let mut out: Vec<StateStorageView> = Vec::new();
    let roots = m
        .environments
        .iter()
        .map(|e| {
            let home = Home::default();
            let state = state_storage(m, e.cluster.provider, &e.terraform_state, String::new(), home);
            (format!("terraform/envs/{}", e.name), state)
        })
        .chain(ci_state.map(|s| ("terraform/ci".to_string(), s.clone())));
    for (root, state) in roots {
        if state.backend == "kubernetes" {
            continue;
        }
        let name = state
            .bucket
            .clone()
            .or_else(|| state.storage_account.clone())
            .unwrap_or_default();
        match out
            .iter_mut()
            .find(|s| s.state.backend == state.backend && s.name == name)
        {
            Some(s) => s.roots.push(root),
            None => out.push(StateStorageView {
                id: name.replace(['-', '.'], "_"),
                name,
                state,
                roots: vec![root],
            }),
        }
    }
    out
}

/// Resolves every environment of a valid manifest, in manifest order.
pub fn resolve(manifest: &Manifest) -> Result<Vec<ResolvedEnvironment>, NoSigningIdentity> {
    manifest
        .environments
        .iter()
        .map(|env| resolve_environment(manifest, env))
        .collect()
}

/// Resolves `e` as an environment of `manifest`, whether or not the manifest lists it (an
/// environment depends on the platform-level fields and its own, never on the others).
/// The cloud cluster's name, which Terraform gives it and `bootstrap` looks for in the kubeconfig.
pub fn cluster_name(platform: &str, environment: &str) -> String {
    format!("{platform}-{environment}")
}

pub fn resolve_environment(m: &Manifest, e: &model::Environment) -> Result<ResolvedEnvironment, NoSigningIdentity> {
    let platform = m.metadata.name.clone();
    let pins = super::pins::of(m, e);
    let components = components(&pins, e);
    let mut resolved = ResolvedEnvironment {
        runs: e.runs(),
        secrets: SecretsView::default(),
        gitops: GitOpsView::of(m),
        signing: ci::signing(m)?,
        env: EnvView::of(e),
        cluster: ClusterView::of(&platform, e),
        app: AppView::of(m, e, &pins),
        database: DatabaseView::of(e),
        backup: BackupView::of(&platform, e),
        state: state_storage(
            m,
            e.cluster.provider,
            &e.terraform_state,
            format!("envs/{}/terraform.tfstate", e.name),
            Home::default(),
        ),
        observability: ObservabilityView::of(&platform, e),
        policy: PolicyView::of(e),
        slo: SloView::of(m),
        gateway: gateway(&e.domain),
        dns: dns(&platform, e),
        sizing: sizing(&components, e),
        valkey: ValkeyView::of(e),
        tenancy: TenancyView::default(),
        components,
        platform,
    };
    resolved.secrets = secrets(m, e, &resolved);
    Ok(resolved)
}

/// Component name → workload → what its containers request, for every component `e` runs.
fn sizing(
    components: &[ComponentView],
    e: &model::Environment,
) -> BTreeMap<&'static str, BTreeMap<&'static str, WorkloadView>> {
    components
        .iter()
        .map(|c| {
            let workloads = c.component.workloads(&e.shape());
            (c.name, workloads.into_iter().map(|w| (w.name, w.into())).collect())
        })
        .collect()
}

impl ResolvedEnvironment {
    /// The Secrets of `e` (this environment of `m`) and the names their values depend on.
    pub fn secret_table(&self, m: &Manifest, e: &model::Environment) -> EnvSecrets {
        let hosts = crate::secrets::values::Hosts {
            valkey: self.valkey.host.clone(),
            postgres: format!("{}-rw.{}.svc", self.database.cluster_name, self.database.namespace),
            gitops_repo: self.gitops.repo_url.clone(),
        };
        EnvSecrets::new(m, e, hosts, self.cluster.name.clone())
    }
}

/// Where the table's Secrets live and, with a secret store, what External Secrets Operator
/// reads and writes there. Made from the rest of the view: the table depends on it.
fn secrets(m: &Manifest, e: &model::Environment, resolved: &ResolvedEnvironment) -> SecretsView {
    let store = e.secrets.store;
    if store == SecretStore::Kubernetes {
        return SecretsView::default();
    }
    let table = resolved.secret_table(m, e);
    let prefix = resolved.cluster.name.clone();
    let external_secrets = external::external_secrets(&prefix, &table);
    // And the controller's own, where `platform` pushes values.
    let mut namespaces: Vec<&'static str> = external_secrets
        .iter()
        .map(|s| s.namespace)
        .chain([external::namespace()])
        .collect();
    namespaces.sort_unstable();
    namespaces.dedup();
    SecretsView {
        store,
        store_name: external::STORE,
        controller: Some(ServiceAccountView {
            namespace: external::namespace(),
            name: external::CONTROLLER_ACCOUNT,
        }),
        remote_names: external::remote_names(&prefix, &table),
        property: external::property(store),
        external_secrets,
        namespaces,
        azure: (store == SecretStore::AzureKeyVault).then(|| {
            let name = key_vault_name(&prefix);
            AzureVaultView {
                url: format!("https://{name}.vault.azure.net"),
                name,
                resource_group: format!("{prefix}-secrets"),
                config_map: "external-secrets-azure",
            }
        }),
        vault: e
            .secrets
            .vault
            .as_ref()
            .filter(|_| store == SecretStore::Vault)
            .map(|v| VaultView {
                server: v.server.clone(),
                mount: v.mount.clone(),
                auth_mount: v.auth_mount.clone(),
                role: format!("{prefix}-external-secrets"),
                policy: format!("{prefix}-external-secrets"),
            }),
        prefix,
    }
}

/// A Key Vault name (3 to 24 letters, digits and single dashes, from a letter to a letter or
/// digit) from `seed`; vault names are global, so a clash surfaces at `terraform apply`.
fn key_vault_name(seed: &str) -> String {
    let mut name = String::new();
    for c in seed.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-') {
        if !(c == '-' && (name.is_empty() || name.ends_with('-'))) {
            name.push(c);
        }
    }
    name.truncate(24);
    name.trim_end_matches('-').to_string()
}

fn karpenter(cluster: &str, e: &model::Environment) -> KarpenterView {
    let extra_nodes = e.cluster.nodes.max.saturating_sub(e.cluster.nodes.min);
    let (vcpus, memory_mib) = e
        .cluster
        .node_size
        .as_deref()
        .and_then(|size| cloud_limits::node_shape(Provider::Eks, size))
        .unwrap_or((0, 0));
    KarpenterView {
        service_account: ServiceAccountView {
            namespace: Component::Karpenter.spec().namespace,
            name: "karpenter",
        },
        node_role: format!("{cluster}-karpenter-node"),
        interruption_queue: format!("{cluster}-karpenter"),
        discovery: cluster.to_string(),
        cpu_limit: extra_nodes * vcpus,
        memory_limit_gib: extra_nodes * memory_mib / 1024,
        arch: if e
            .cluster
            .node_size
            .as_deref()
            .is_some_and(cloud_limits::is_arm_instance_type)
        {
            "arm64"
        } else {
            "amd64"
        },
    }
}

/// Namespaces no admission policy applies to: the control plane's and Kyverno's own, which
/// Kyverno's default resource filters skip. The components' needs elsewhere (node agents' host
/// access) are PolicyExceptions, one per workload (`policies/<env>/exceptions.yaml`).
const SYSTEM_NAMESPACES: [&str; 4] = ["kube-system", "kube-public", "kube-node-lease", "kyverno"];

/// The Gateway's namespace: NGINX Gateway Fabric runs each Gateway's NGINX pods there, so it is
/// where traffic to the app and to tenants comes from.
const GATEWAY_NAMESPACE: &str = "gateway";

fn gateway(domain: &str) -> GatewayView {
    GatewayView {
        name: "platform",
        namespace: GATEWAY_NAMESPACE,
        class_name: "nginx",
        http_listener: "http",
        controller_namespace: Component::NginxGatewayFabric.spec().namespace,
        controller_app: Component::NginxGatewayFabric.spec().name,
        app: ListenerView {
            name: "https-app",
            host: format!("app.{domain}"),
            route_namespace: "app",
            secret: "app-tls",
        },
        argocd: ListenerView {
            name: "https-argocd",
            host: format!("argocd.{domain}"),
            route_namespace: "argocd",
            secret: "argocd-tls",
        },
        grafana: ListenerView {
            name: "https-grafana",
            host: format!("grafana.{domain}"),
            route_namespace: "monitoring",
            secret: "grafana-tls",
        },
    }
}

/// A ratio in its shortest exact decimal form ("0.001", not "0.0010000000000000009").
fn ratio(value: f64) -> String {
    let text = format!("{value:.6}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text.is_empty() { "0".into() } else { text.into() }
}

/// The environment's components, from the table in [`crate::model::components`], in table order.
fn components(pins: &Pins, e: &model::Environment) -> Vec<ComponentView> {
    let env = &e.name;
    Component::all()
        .filter(|c| c.needed(&e.runs()))
        .map(|component| {
            let spec = component.spec();
            let name = spec.name;
            let values_file = format!("helm/values/{env}/{name}.yaml");
            let (source, repo_url, chart, chart_version, path, values_file) = match spec.source {
                Source::Chart { repository, chart, .. } => (
                    SourceKind::HelmRepo,
                    Some(repository),
                    Some(chart),
                    pins.components.get(&component).cloned(),
                    values_file.clone(),
                    Some(values_file),
                ),
                Source::Git {
                    repository,
                    path,
                    tag_of,
                } => (
                    SourceKind::UpstreamGit,
                    Some(repository),
                    None,
                    pins.components
                        .get(&tag_of)
                        .map(|v| format!("v{}", v.trim_start_matches('v'))),
                    path.to_string(),
                    None,
                ),
                Source::Manifests { folder, .. } => {
                    let path = match folder {
                        Folder::Argocd => format!("argocd/{env}/manifests/{name}"),
                        Folder::Top(top) => format!("{top}/{env}"),
                    };
                    (SourceKind::Directory, None, None, None, path, None)
                }
                Source::AppChart => (
                    SourceKind::LocalChart,
                    None,
                    None,
                    Some(pins.app_chart_version.clone()),
                    "helm/charts/app".into(),
                    Some(values_file),
                ),
            };
            ComponentView {
                component,
                name,
                namespace: spec.namespace,
                source,
                repo_url,
                chart,
                chart_version,
                sync_wave: spec.wave,
                path,
                values_file,
            }
        })
        .collect()
}

/// Google service account ids: 6-30 lowercase letters, digits and '-', no '-' at the end. A
/// longer seed keeps its start and gets a short hash of the whole, so two environments whose
/// names differ only past the cut still get two accounts.
fn gcp_account_id(seed: &str) -> String {
    if seed.len() <= 30 {
        return seed.into();
    }
    use sha2::Digest;
    let digest = sha2::Sha256::digest(seed.as_bytes());
    let start: String = seed.chars().take(23).collect();
    format!(
        "{}-{:02x}{:02x}{:02x}",
        start.trim_end_matches('-'),
        digest[0],
        digest[1],
        digest[2]
    )
}

/// Azure storage account names: 3-24 lowercase letters and digits.
fn storage_account_name(seed: &str) -> String {
    seed.chars().filter(char::is_ascii_alphanumeric).take(24).collect()
}

/// `repo@sha256:…` / `repo:tag` → (repository, digest, tag), parsed as OCI distribution does.
fn split_image(image: &str) -> (String, Option<String>, Option<String>) {
    match oci_spec::distribution::Reference::from_str(image) {
        Ok(r) => (
            format!("{}/{}", r.registry(), r.repository()),
            r.digest().map(str::to_string),
            r.tag().map(str::to_string),
        ),
        // Validation has already refused unparsable references.
        Err(_) => (image.to_string(), None, None),
    }
}

#[cfg(test)]
mod tests {
    use super::split_image;

    #[test]
    fn every_helm_component_resolves_its_pinned_chart_version() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/eks-three-envs.yaml");
        let loaded = crate::manifest::load(std::path::Path::new(path)).expect("valid example");
        for env in super::resolve(&loaded.manifest).expect("an identity") {
            for c in env
                .components
                .iter()
                .filter(|c| matches!(c.source, super::SourceKind::HelmRepo | super::SourceKind::LocalChart))
            {
                assert!(
                    c.chart_version.as_deref().is_some_and(|v| !v.is_empty()),
                    "{}/{}",
                    env.env.name,
                    c.name
                );
            }
        }
    }

    #[test]
    fn gcp_account_ids_fit_and_stay_distinct() {
        assert_eq!(super::gcp_account_id("globex-prod-pg-backup"), "globex-prod-pg-backup");
        let a = super::gcp_account_id("a-very-long-platform-name-staging-pg-backup");
        let b = super::gcp_account_id("a-very-long-platform-name-production-pg-backup");
        assert!(a.len() <= 30 && b.len() <= 30 && !a.ends_with('-'), "{a} {b}");
        assert_ne!(a, b);
    }

    #[test]
    fn ratios_are_exact_decimals() {
        assert_eq!(super::ratio(1.0 - 99.9 / 100.0), "0.001");
        assert_eq!(super::ratio(0.3), "0.3");
        assert_eq!(super::ratio(1.0), "1");
        assert_eq!(super::ratio(1.0 - 99.95 / 100.0), "0.0005");
    }

    #[test]
    fn splits_images() {
        let digest = format!("sha256:{}", "ab".repeat(32));
        assert_eq!(
            split_image(&format!("localhost:5000/acme/app:1.2@{digest}")),
            ("localhost:5000/acme/app".into(), Some(digest), Some("1.2".into()))
        );
        assert_eq!(
            split_image("ghcr.io/acme/app:1.0"),
            ("ghcr.io/acme/app".into(), None, Some("1.0".into()))
        );
    }

    #[test]
    fn key_vault_names_keep_azures_rules() {
        assert_eq!(super::key_vault_name("acme-prod"), "acme-prod");
        assert_eq!(
            super::key_vault_name("a-very-long-platform--name-staging"),
            "a-very-long-platform-nam"
        );
        assert_eq!(
            super::key_vault_name("platform-name-is-long-x-y"),
            "platform-name-is-long-x"
        );
    }
}
