//! The CI the platform renders, decided once: which kind of registry the app is pushed to, how
//! the app workflow logs in to it, and the one signing identity that the workflow signs with
//! and that Kyverno and `platform verify` trust. Templates and checks read these values; none
//! of them derives its own.

use serde::Serialize;

use crate::model::{Manifest, PrivateKeyRef, github_repository};

/// The workflow that builds, pushes and signs the app (`render::plan` renders it here).
pub const APP_WORKFLOW: &str = ".github/workflows/app.yaml";
/// GitHub Actions secrets the workflow reads when the manifest names none.
pub const DEFAULT_KEY_SECRET: &str = "COSIGN_PRIVATE_KEY";
pub const KEY_PASSWORD_SECRET: &str = "COSIGN_PASSWORD";
pub const DEFAULT_USERNAME_SECRET: &str = "REGISTRY_USERNAME";
pub const DEFAULT_PASSWORD_SECRET: &str = "REGISTRY_PASSWORD";

/// A registry, by how a GitHub workflow can log in to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryKind {
    /// GitHub Container Registry: the workflow's own `GITHUB_TOKEN`.
    Ghcr,
    /// Amazon ECR (`ACCOUNT.dkr.ecr.REGION.amazonaws.com`): an IAM role through OIDC.
    Ecr { account: String, region: String },
    /// Azure Container Registry (`NAME.azurecr.io`): an Entra ID federated credential.
    Acr { name: String },
    /// Google Artifact Registry (`LOCATION-docker.pkg.dev`): workload identity federation.
    ArtifactRegistry,
    /// Anything else: a user and password from GitHub Actions secrets.
    Other,
}

impl RegistryKind {
    pub fn of(host: &str) -> Self {
        let name = host.split(':').next().unwrap_or_default();
        if name == "ghcr.io" {
            return RegistryKind::Ghcr;
        }
        if let Some(rest) = name.strip_suffix(".amazonaws.com")
            && let [account, "dkr", "ecr", region] = rest.split('.').collect::<Vec<_>>()[..]
            && account.len() == 12
            && account.bytes().all(|b| b.is_ascii_digit())
        {
            return RegistryKind::Ecr {
                account: account.into(),
                region: region.into(),
            };
        }
        if let Some(acr) = name.strip_suffix(".azurecr.io")
            && !acr.is_empty()
            && !acr.contains('.')
        {
            return RegistryKind::Acr { name: acr.into() };
        }
        if name
            .strip_suffix("-docker.pkg.dev")
            .is_some_and(|l| !l.is_empty() && !l.contains('.'))
        {
            return RegistryKind::ArtifactRegistry;
        }
        RegistryKind::Other
    }

    /// The identifier templates switch on.
    pub fn key(&self) -> &'static str {
        match self {
            RegistryKind::Ghcr => "ghcr",
            RegistryKind::Ecr { .. } => "ecr",
            RegistryKind::Acr { .. } => "acr",
            RegistryKind::ArtifactRegistry => "artifact-registry",
            RegistryKind::Other => "other",
        }
    }

    /// How a person names it, for messages.
    pub fn describe(&self) -> &'static str {
        match self {
            RegistryKind::Ghcr => "GitHub Container Registry",
            RegistryKind::Ecr { .. } => "Amazon ECR",
            RegistryKind::Acr { .. } => "Azure Container Registry",
            RegistryKind::ArtifactRegistry => "Google Artifact Registry",
            RegistryKind::Other => "a registry outside GitHub and the three clouds",
        }
    }

    /// `registry.login` fields that apply to this kind, and whether each is required.
    pub fn login_fields(&self) -> &'static [(&'static str, bool)] {
        match self {
            RegistryKind::Ghcr => &[],
            RegistryKind::Ecr { .. } => &[("awsRoleArn", true)],
            RegistryKind::Acr { .. } => &[
                ("azureClientId", true),
                ("azureTenantId", true),
                ("azureSubscriptionId", true),
            ],
            RegistryKind::ArtifactRegistry => &[("gcpWorkloadIdentityProvider", true), ("gcpServiceAccount", true)],
            RegistryKind::Other => &[("usernameSecret", false), ("passwordSecret", false)],
        }
    }

    /// The cosign KMS scheme the workflow can reach once logged in to this registry's cloud.
    pub fn kms_scheme(&self) -> Option<&'static str> {
        match self {
            RegistryKind::Ecr { .. } => Some("awskms://"),
            RegistryKind::Acr { .. } => Some("azurekms://"),
            RegistryKind::ArtifactRegistry => Some("gcpkms://"),
            RegistryKind::Ghcr | RegistryKind::Other => None,
        }
    }

    /// The cluster provider of the same cloud, whose state storage the CI root shares.
    pub fn provider(&self) -> Option<crate::model::Provider> {
        use crate::model::Provider;
        match self {
            RegistryKind::Ecr { .. } => Some(Provider::Eks),
            RegistryKind::Acr { .. } => Some(Provider::Aks),
            RegistryKind::ArtifactRegistry => Some(Provider::Gke),
            RegistryKind::Ghcr | RegistryKind::Other => None,
        }
    }

    /// Whether logging in takes the job's OIDC token (`id-token: write`).
    pub fn federated(&self) -> bool {
        self.provider().is_some()
    }
}

/// The keyless identity of the rendered app workflow: what Fulcio writes into its certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowIdentity {
    pub subject: String,
    pub repository: String,
}

/// The identity `.github/workflows/app.yaml` signs with, or `None` when the GitOps
/// repository is not on GitHub (no GitHub Actions, so no keyless identity to derive).
pub fn workflow_identity(m: &Manifest) -> Option<WorkflowIdentity> {
    let repository = github_repository(&m.gitops.repo_url)?;
    Some(WorkflowIdentity {
        subject: format!(
            "https://github.com/{repository}/{APP_WORKFLOW}@refs/heads/{}",
            m.gitops.target_revision
        ),
        repository,
    })
}

/// The signing identity, as the workflow, Kyverno and `platform verify` all read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "mode", rename_all = "kebab-case")]
pub enum SigningView {
    Key {
        public_key: String,
        /// cosign's `--key` in the workflow: a KMS URI, or `env://VAR` for a secret.
        key_ref: String,
        /// The GitHub Actions secret holding the encrypted key, when not in a KMS.
        key_secret: Option<String>,
        password_secret: Option<&'static str>,
    },
    Keyless {
        issuer: String,
        subject: String,
        workflow_repository: String,
    },
}

/// A manifest with no identity the rendered workflow can sign with: neither `publicKey` nor
/// `keyless`, or `keyless` with a GitOps repository outside github.com. `validate` refuses both
/// with a diagnostic of its own; this is what a caller that skipped it gets instead of a guess.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("the manifest has no signing identity the rendered workflow can sign with")]
#[diagnostic(
    code(manifest::no_signing_identity),
    help(
        "run `platform validate`: set `signing.publicKey`, or `signing.keyless` with a `gitops.repoURL` on github.com"
    )
)]
pub struct NoSigningIdentity;

/// The manifest's signing identity, with defaults filled in. Validation has refused a keyless
/// identity that differs from the workflow's, so here the workflow's own is the identity.
pub fn signing(m: &Manifest) -> Result<SigningView, NoSigningIdentity> {
    match (&m.signing.public_key, &m.signing.keyless) {
        (Some(key), _) => {
            let (key_ref, key_secret) = match &m.signing.private_key {
                Some(PrivateKeyRef { kms: Some(uri), .. }) => (uri.clone(), None),
                Some(PrivateKeyRef { secret: Some(name), .. }) => (format!("env://{name}"), Some(name.clone())),
                _ => (
                    format!("env://{DEFAULT_KEY_SECRET}"),
                    Some(DEFAULT_KEY_SECRET.to_string()),
                ),
            };
            Ok(SigningView::Key {
                public_key: key.trim().to_string(),
                key_ref,
                password_secret: key_secret.is_some().then_some(KEY_PASSWORD_SECRET),
                key_secret,
            })
        }
        (None, Some(keyless)) => {
            let derived = workflow_identity(m).ok_or(NoSigningIdentity)?;
            Ok(SigningView::Keyless {
                issuer: keyless.issuer.clone(),
                subject: keyless.subject.clone().unwrap_or(derived.subject),
                workflow_repository: keyless.workflow_repository.clone().unwrap_or(derived.repository),
            })
        }
        (None, None) => Err(NoSigningIdentity),
    }
}

/// How the app workflow logs in to the registry, for the template.
#[derive(Debug, Clone, Serialize)]
pub struct RegistryLoginView {
    /// `ghcr`, `ecr`, `acr`, `artifact-registry` or `other`.
    pub kind: &'static str,
    pub host: String,
    /// Logging in takes the job's OIDC token (a cloud registry).
    pub federated: bool,
    /// The image job requests an OIDC token: a federated login or keyless signing.
    pub id_token: bool,
    pub aws_role_arn: Option<String>,
    pub aws_region: Option<String>,
    pub acr_name: Option<String>,
    pub azure_client_id: Option<String>,
    pub azure_tenant_id: Option<String>,
    pub azure_subscription_id: Option<String>,
    pub gcp_workload_identity_provider: Option<String>,
    pub gcp_service_account: Option<String>,
    pub username_secret: Option<String>,
    pub password_secret: Option<String>,
}

pub fn registry_login(m: &Manifest, signing: &SigningView) -> RegistryLoginView {
    let kind = RegistryKind::of(&m.registry.host);
    let login = &m.registry.login;
    let other = kind == RegistryKind::Other;
    RegistryLoginView {
        kind: kind.key(),
        host: m.registry.host.clone(),
        federated: kind.federated(),
        id_token: kind.federated() || matches!(signing, SigningView::Keyless { .. }),
        aws_role_arn: login.aws_role_arn.clone(),
        aws_region: match &kind {
            RegistryKind::Ecr { region, .. } => Some(region.clone()),
            _ => None,
        },
        acr_name: match &kind {
            RegistryKind::Acr { name } => Some(name.clone()),
            _ => None,
        },
        azure_client_id: login.azure_client_id.clone(),
        azure_tenant_id: login.azure_tenant_id.clone(),
        azure_subscription_id: login.azure_subscription_id.clone(),
        gcp_workload_identity_provider: login.gcp_workload_identity_provider.clone(),
        gcp_service_account: login.gcp_service_account.clone(),
        username_secret: other.then(|| {
            login
                .username_secret
                .clone()
                .unwrap_or_else(|| DEFAULT_USERNAME_SECRET.into())
        }),
        password_secret: other.then(|| {
            login
                .password_secret
                .clone()
                .unwrap_or_else(|| DEFAULT_PASSWORD_SECRET.into())
        }),
    }
}

/// What `terraform/ci/` creates for the app workflow in the registry's cloud: the repository it
/// pushes to, the identity it federates to (trusting only the GitOps repository's tracked
/// branch) and, for a KMS key reference, the signing key, under the names the manifest gives.
#[derive(Debug, Clone, Serialize)]
pub struct CiInfraView {
    /// `ecr`, `acr` or `artifact-registry`: the module `terraform/modules/ci-<kind>`.
    pub kind: &'static str,
    /// Owner, repository name and branch of the OIDC subject the identity trusts
    /// (`repo:OWNER/NAME:ref:refs/heads/BRANCH`).
    pub github_owner: String,
    pub github_name: String,
    pub branch: String,
    pub aws: Option<AwsCi>,
    pub azure: Option<AzureCi>,
    pub gcp: Option<GcpCi>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AwsCi {
    pub account: String,
    pub region: String,
    /// ECR repository of the app image, e.g. `shop/app`.
    pub repository: String,
    pub role_name: String,
    /// NAME of `awskms:///alias/NAME`, when the manifest signs through AWS KMS.
    pub kms_alias: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AzureCi {
    pub registry: String,
    /// Region of the registry: the first AKS environment's, else `var.location` asks.
    pub location: Option<String>,
    pub client_id: String,
    pub tenant_id: String,
    pub subscription_id: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct GcpCi {
    pub project: String,
    pub location: String,
    /// Artifact Registry repository id (the namespace's second segment).
    pub repository: String,
    pub project_number: String,
    pub pool: String,
    pub provider: String,
    pub workload_identity_provider: String,
    pub service_account_id: String,
    pub service_account_project: String,
    /// `projects/P/locations/L/keyRings/R/cryptoKeys/K` of `gcpkms://…`, when the manifest
    /// signs through Cloud KMS.
    pub kms_key: Option<GcpKmsKey>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GcpKmsKey {
    pub project: String,
    pub location: String,
    pub key_ring: String,
    pub key: String,
}

/// The CI infrastructure of a valid manifest; `None` for ghcr.io and other registries, where
/// there is nothing to create (the token or the secrets exist already).
pub fn infra(m: &Manifest) -> Option<CiInfraView> {
    let repo = github_repository(&m.gitops.repo_url)?;
    let (owner, name) = repo.split_once('/')?;
    let login = &m.registry.login;
    let kms = m.signing.private_key.as_ref().and_then(|k| k.kms.as_deref());
    let mut view = CiInfraView {
        kind: "",
        github_owner: owner.into(),
        github_name: name.into(),
        branch: m.gitops.target_revision.clone(),
        aws: None,
        azure: None,
        gcp: None,
    };
    match RegistryKind::of(&m.registry.host) {
        RegistryKind::Ecr { account, region } => {
            view.kind = "ecr";
            view.aws = Some(AwsCi {
                repository: format!("{}/app", m.registry.namespace),
                role_name: login.aws_role_arn.as_deref()?.rsplit('/').next()?.to_string(),
                kms_alias: kms.and_then(|k| k.strip_prefix("awskms:///alias/")).map(str::to_string),
                account,
                region,
            });
        }
        RegistryKind::Acr { name } => {
            view.kind = "acr";
            let aks = m
                .environments
                .iter()
                .find(|e| e.cluster.provider == crate::model::Provider::Aks);
            view.azure = Some(AzureCi {
                registry: name,
                location: aks.and_then(|e| e.cluster.region.clone()),
                client_id: login.azure_client_id.clone()?,
                tenant_id: login.azure_tenant_id.clone()?,
                subscription_id: login.azure_subscription_id.clone()?,
            });
        }
        RegistryKind::ArtifactRegistry => {
            view.kind = "artifact-registry";
            let provider = login.gcp_workload_identity_provider.clone()?;
            let parts: Vec<&str> = provider.split('/').collect();
            let (sa_id, sa_domain) = login.gcp_service_account.as_deref()?.split_once('@')?;
            let (project, repository) = m.registry.namespace.split_once('/')?;
            view.gcp = Some(GcpCi {
                project: project.into(),
                location: m.registry.host.strip_suffix("-docker.pkg.dev")?.into(),
                repository: repository.split('/').next()?.into(),
                project_number: (*parts.get(1)?).into(),
                pool: (*parts.get(5)?).into(),
                provider: (*parts.get(7)?).into(),
                service_account_id: sa_id.into(),
                service_account_project: sa_domain.split('.').next()?.into(),
                kms_key: kms.and_then(|k| gcp_kms_key(k.strip_prefix("gcpkms://")?)),
                workload_identity_provider: provider,
            });
        }
        RegistryKind::Ghcr | RegistryKind::Other => return None,
    }
    Some(view)
}

/// `projects/P/locations/L/keyRings/R/cryptoKeys/K` split into its names.
pub fn gcp_kms_key(path: &str) -> Option<GcpKmsKey> {
    match path.split('/').collect::<Vec<_>>()[..] {
        [
            "projects",
            project,
            "locations",
            location,
            "keyRings",
            key_ring,
            "cryptoKeys",
            key,
        ] if [project, location, key_ring, key].iter().all(|s| !s.is_empty()) => Some(GcpKmsKey {
            project: project.into(),
            location: location.into(),
            key_ring: key_ring.into(),
            key: key.into(),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::{NoSigningIdentity, RegistryKind, SigningView, github_repository, signing};

    fn example() -> crate::manifest::Manifest {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/gke-central-mimir.yaml");
        crate::manifest::load(std::path::Path::new(path))
            .expect("valid example")
            .manifest
    }

    /// No identity is invented: without one the workflow can sign with, there is none.
    #[test]
    fn a_manifest_without_a_usable_identity_has_none() {
        let mut m = example();
        let Ok(SigningView::Keyless {
            subject,
            workflow_repository,
            ..
        }) = signing(&m)
        else {
            panic!("the example signs keyless");
        };
        assert!(subject.starts_with("https://github.com/") && !workflow_repository.is_empty());
        m.gitops.repo_url = "https://git.example.org/ops/platform.git".into();
        assert!(
            matches!(signing(&m), Err(NoSigningIdentity)),
            "keyless outside github.com"
        );
        m.signing.keyless = None;
        assert!(matches!(signing(&m), Err(NoSigningIdentity)), "no identity at all");
        let rendered = crate::manifest::resolve::resolve(&m);
        assert!(rendered.is_err(), "nothing resolves without an identity");
    }

    #[test]
    fn registry_kinds_by_host() {
        assert_eq!(RegistryKind::of("ghcr.io"), RegistryKind::Ghcr);
        assert_eq!(
            RegistryKind::of("123456789012.dkr.ecr.eu-west-1.amazonaws.com"),
            RegistryKind::Ecr {
                account: "123456789012".into(),
                region: "eu-west-1".into()
            }
        );
        assert_eq!(
            RegistryKind::of("contoso.azurecr.io"),
            RegistryKind::Acr { name: "contoso".into() }
        );
        assert_eq!(
            RegistryKind::of("europe-docker.pkg.dev"),
            RegistryKind::ArtifactRegistry
        );
        assert_eq!(RegistryKind::of("registry.example.org:5000"), RegistryKind::Other);
        // Look-alikes are not the cloud registries.
        assert_eq!(
            RegistryKind::of("12345.dkr.ecr.eu-west-1.amazonaws.com"),
            RegistryKind::Other
        );
        assert_eq!(RegistryKind::of("a.b.azurecr.io"), RegistryKind::Other);
    }

    #[test]
    fn github_repositories_from_urls() {
        assert_eq!(
            github_repository("https://github.com/acme/platform.git").as_deref(),
            Some("acme/platform")
        );
        assert_eq!(
            github_repository("git@github.com:acme/platform.git").as_deref(),
            Some("acme/platform")
        );
        assert_eq!(
            github_repository("https://github.com/acme/platform/").as_deref(),
            Some("acme/platform")
        );
        assert_eq!(github_repository("https://git.example.org/ops/platform.git"), None);
        assert_eq!(github_repository("https://github.com/acme"), None);
    }
}
