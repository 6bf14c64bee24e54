//! Every Kubernetes Secret the platform's objects read and nothing else makes, one table. The
//! rendered values name these Secrets, `platform bootstrap` makes the generated ones,
//! `platform secrets` lists and sets them, docs/secrets.md holds the table, and the test command
//! checks that every Secret the templated charts and manifests reference is made by a row here,
//! a chart, an operator or the tree (scripts/check-references).

use serde::Serialize;
use strum::{IntoStaticStr, VariantArray};

use crate::cluster::rollout::Workload;
use crate::model::components::{Component, Runs};
use crate::model::{Challenge, DnsRecords, Provider};
use crate::model::{Manifest, RepoAuth, SsoKind};

/// A Secret of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, IntoStaticStr, VariantArray)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum SecretId {
    AlertmanagerReceivers,
    GrafanaAdmin,
    ValkeyUsers,
    RedisAppCredentials,
    AppJwt,
    AppAdmin,
    PostgresOwner,
    PostgresAppLogin,
    PostgresAppLoginB,
    AppDatabaseOwner,
    AppDatabase,
    PostgresBackupS3,
    ArgocdDexGithub,
    ArgocdOidc,
    ArgocdRepoGithubApp,
    ArgocdRepoPassword,
    AppRegistryPull,
    KyvernoRegistryPull,
    ExternalDnsTsig,
    CertManagerTsig,
}

/// How a key's value is born.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Birth {
    /// `bytes` random bytes from the operating system's CSPRNG, base64url without padding (safe
    /// in a URL's userinfo, a Valkey ACL line and an environment variable alike).
    Random { bytes: usize },
    /// A fixed value, e.g. a role's user name.
    Fixed { value: &'static str },
    /// Filled into `template` from other keys: `{secret.key}` is that key's value,
    /// `{valkey-host}` and `{postgres-host}` the environment's in-cluster service addresses,
    /// `{gitops-repo}` the GitOps repository's URL.
    Derived { template: &'static str },
    /// A person supplies it with `platform secrets set`; `what` says where to find it.
    Supplied { what: &'static str },
}

/// One key of a Secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Key {
    pub name: &'static str,
    pub birth: Birth,
}

/// Who makes a Secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Maker {
    /// `platform bootstrap` (every key generated, fixed or derived).
    Platform,
    /// A person, with `platform secrets set` (at least one key is supplied).
    Person,
}

/// Which environments need a Secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Needs {
    Always,
    /// PostgreSQL runs in the cluster (CloudNativePG).
    InClusterDatabase,
    /// The in-cluster database archives to an S3-compatible store with static keys (existing
    /// clusters; the clouds use workload identity instead).
    StaticBackupKeys,
    /// People sign in to Argo CD with this kind of single sign-on.
    Sso(SsoKind),
    /// The GitOps repository is private and Argo CD reads it this way.
    PrivateRepository(RepoAuth),
    /// The app's images need credentials to be pulled (`registry.private`).
    PrivateRegistry,
    /// external-dns updates an RFC 2136 server (`dns.records: rfc2136`).
    Rfc2136,
    /// cert-manager answers DNS-01 challenges through that server too (`dns.challenge: dns01`).
    Rfc2136Challenge,
}

/// One row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    pub name: &'static str,
    /// The component whose namespace the Secret lives in (where its readers run).
    pub home: Component,
    /// `Opaque`, or `kubernetes.io/basic-auth` where an operator requires that type.
    pub kind: &'static str,
    pub keys: &'static [Key],
    /// The keys instead where the database is the cloud's (`database.mode: managed`): nothing
    /// in the cluster knows its passwords, so a person supplies them.
    pub managed_database_keys: Option<&'static [Key]>,
    /// The workloads that read it, and how.
    pub readers: &'static str,
    pub needs: Needs,
    /// Labels the readers require (Argo CD resolves `$secret:key` only in Secrets labelled as its own).
    pub labels: &'static [(&'static str, &'static str)],
}

const fn random(name: &'static str, bytes: usize) -> Key {
    Key {
        name,
        birth: Birth::Random { bytes },
    }
}

const fn fixed(name: &'static str, value: &'static str) -> Key {
    Key {
        name,
        birth: Birth::Fixed { value },
    }
}

const fn derived(name: &'static str, template: &'static str) -> Key {
    Key {
        name,
        birth: Birth::Derived { template },
    }
}

const fn supplied(name: &'static str, what: &'static str) -> Key {
    Key {
        name,
        birth: Birth::Supplied { what },
    }
}

const OPAQUE: &str = "Opaque";
/// Argo CD reads `$<secret>:<key>` from argocd-cm only in Secrets carrying this label.
const PART_OF_ARGOCD: &[(&str, &str)] = &[("app.kubernetes.io/part-of", "argocd")];
/// Argo CD applies a credential template to every repository whose URL starts with its `url`.
const REPO_CREDS: &[(&str, &str)] = &[("argocd.argoproj.io/secret-type", "repo-creds")];
/// What every credential template of the GitOps repository says besides its credentials.
const REPO_TYPE: Key = fixed("type", "git");
const REPO_URL: Key = derived("url", "{gitops-repo}");
const BASIC_AUTH: &str = "kubernetes.io/basic-auth";
const DOCKER_CONFIG: &str = "kubernetes.io/dockerconfigjson";
/// What a pull secret holds, and how to write it.
const DOCKER_CONFIG_KEY: Key = supplied(
    ".dockerconfigjson",
    "a Docker config JSON with a read-only token for the registry, e.g. `kubectl create secret docker-registry x \
     --docker-server=HOST --docker-username=USER --docker-password=TOKEN --dry-run=client \
     -o jsonpath='{.data.\\.dockerconfigjson}' | base64 -d`",
);

/// The key of the Secrets holding an RFC 2136 server's TSIG key.
pub const TSIG_SECRET_KEY: &str = "tsig-secret";
const TSIG_KEY: Key = supplied(
    TSIG_SECRET_KEY,
    "the base64 secret of the TSIG key `dns.rfc2136.keyName`, as the DNS server's key file holds it (BIND: \
     `tsig-keygen -a hmac-sha256 NAME`)",
);

/// The app's role names in PostgreSQL: the owner migrates, the login serves (a member of
/// `app_runtime`, which the migrations grant the tables to).
pub const DATABASE_OWNER: &str = "app_owner";
pub const DATABASE_LOGIN: &str = "app";
/// The second login role, a member of `app_runtime` too: `platform secrets rotate` gives the
/// idle one of the two a new password, then moves the app to it, so the password the app holds
/// is never the one being changed.
pub const DATABASE_LOGIN_B: &str = "app_b";
/// The CloudNativePG Cluster holding the app's database (in the Postgres component's namespace).
pub const DATABASE_CLUSTER: &str = "postgres";

/// The app's two ACL users in Valkey, each with its own key of `valkey-users` and the same
/// permissions: `platform secrets rotate` gives the idle one a new password, then moves the app
/// to it, as with the database's login roles. The first is the one bootstrap hands the app.
pub const VALKEY_USERS: [&str; 2] = ["app", "app-b"];

/// The Deployments that read the rotatable Secrets, restarted so they read them again.
pub const APP_DEPLOYMENT: Workload<'static> = Workload {
    namespace: Component::App.spec().namespace,
    name: Component::App.spec().name,
};
/// The chart names the Deployment after the release, which is the component's name.
pub const VALKEY_DEPLOYMENT: Workload<'static> = Workload {
    namespace: Component::Valkey.spec().namespace,
    name: Component::Valkey.spec().name,
};
/// kube-prometheus-stack's Grafana subchart names its Deployment `<release>-grafana`.
pub const GRAFANA_DEPLOYMENT: Workload<'static> = Workload {
    namespace: Component::KubePrometheusStack.spec().namespace,
    name: "kube-prometheus-stack-grafana",
};

impl SecretId {
    /// The table: an exhaustive match, so a Secret without an entry does not compile.
    pub const fn spec(self) -> Spec {
        use SecretId as S;
        let mut managed_database_keys: Option<&'static [Key]> = None;
        let mut labels: &'static [(&'static str, &'static str)] = &[];
        let (name, home, kind, keys, readers, needs): (_, _, _, &'static [Key], _, _) = match self {
            S::AlertmanagerReceivers => (
                "alertmanager-receivers",
                Component::KubePrometheusStack,
                OPAQUE,
                const {
                    &[
                        supplied(
                            "pagerduty-routing-key",
                            "the integration key of a PagerDuty service's Events API v2 integration",
                        ),
                        supplied(
                            "slack-webhook-url",
                            "a Slack incoming webhook URL for the environment's #alerts channel",
                        ),
                    ]
                },
                "Alertmanager (`alertmanagerSpec.secrets`, mounted as files; the pod does not start without it)",
                Needs::Always,
            ),
            S::GrafanaAdmin => (
                "grafana-admin",
                Component::KubePrometheusStack,
                OPAQUE,
                const { &[fixed("admin-user", "admin"), random("admin-password", 24)] },
                "Grafana (`admin.existingSecret`)",
                Needs::Always,
            ),
            S::ValkeyUsers => (
                "valkey-users",
                Component::Valkey,
                OPAQUE,
                const {
                    &[
                        random("default", 32),
                        random(VALKEY_USERS[0], 32),
                        random(VALKEY_USERS[1], 32),
                    ]
                },
                "Valkey (`auth.usersExistingSecret`: the ACL users' passwords, read when its pod starts) and its metrics \
                 exporter (`default`)",
                Needs::Always,
            ),
            S::RedisAppCredentials => (
                "redis-app-credentials",
                Component::App,
                OPAQUE,
                const { &[derived("url", "rediss://app:{valkey-users.app}@{valkey-host}:6379")] },
                "the app Deployment (`APP_REDIS_URL`)",
                Needs::Always,
            ),
            S::AppJwt => (
                "app-jwt",
                Component::App,
                OPAQUE,
                const { &[random("secret", 48)] },
                "the app Deployment (`APP_JWT_SECRET`: signs and verifies guest tokens)",
                Needs::Always,
            ),
            S::AppAdmin => (
                "app-admin",
                Component::App,
                OPAQUE,
                const { &[random("token", 32)] },
                "the app Deployment (`APP_ADMIN_TOKEN`: the platform admin's credential)",
                Needs::Always,
            ),
            S::PostgresOwner => (
                "postgres-owner",
                Component::Postgres,
                BASIC_AUTH,
                const { &[fixed("username", DATABASE_OWNER), random("password", 32)] },
                "CloudNativePG (`bootstrap.initdb.secret`, then `managed.roles`: the owner of database `app`)",
                Needs::InClusterDatabase,
            ),
            S::PostgresAppLogin => (
                "postgres-app-login",
                Component::Postgres,
                BASIC_AUTH,
                const { &[fixed("username", DATABASE_LOGIN), random("password", 32)] },
                "CloudNativePG (`managed.roles`: the app's login role, a member of `app_runtime`)",
                Needs::InClusterDatabase,
            ),
            S::PostgresAppLoginB => (
                "postgres-app-login-b",
                Component::Postgres,
                BASIC_AUTH,
                const { &[fixed("username", DATABASE_LOGIN_B), random("password", 32)] },
                "CloudNativePG (`managed.roles`: the app's second login role, which rotation alternates with the first)",
                Needs::InClusterDatabase,
            ),
            S::AppDatabaseOwner => (
                "app-database-owner",
                Component::App,
                OPAQUE,
                {
                    managed_database_keys = Some(
                        const {
                            &[supplied(
                                "uri",
                                "postgresql://platform_owner:PASSWORD@ENDPOINT:5432/app?sslmode=require, with RDS's master \
                         password from the Secrets Manager secret Terraform outputs as `database_master_secret_arn` \
                         and ENDPOINT its `database_endpoint`",
                            )]
                        },
                    );
                    const {
                        &[derived(
                            "uri",
                            "postgresql://app_owner:{postgres-owner.password}@{postgres-host}:5432/app?sslmode=require",
                        )]
                    }
                },
                "the app chart's migrate Job (`DATABASE_OWNER_URL`, a PreSync hook)",
                Needs::Always,
            ),
            S::AppDatabase => (
                "app-database",
                Component::App,
                OPAQUE,
                {
                    managed_database_keys = Some(
                        const {
                            &[supplied(
                                "uri",
                                "postgresql://app:PASSWORD@ENDPOINT:5432/app?sslmode=require, for a login role `app` made \
                         a member of `app_runtime` on the RDS instance (docs/secrets.md)",
                            )]
                        },
                    );
                    const {
                        &[derived(
                            "uri",
                            "postgresql://app:{postgres-app-login.password}@{postgres-host}:5432/app?sslmode=require",
                        )]
                    }
                },
                "the app Deployment (`APP_DATABASE_URL`)",
                Needs::Always,
            ),
            S::PostgresBackupS3 => (
                "postgres-backup-s3",
                Component::Postgres,
                OPAQUE,
                const {
                    &[
                        supplied(
                            "ACCESS_KEY_ID",
                            "the access key id of a user that may write the backup bucket",
                        ),
                        supplied("ACCESS_SECRET_KEY", "that user's secret access key"),
                    ]
                },
                "the Barman Cloud ObjectStore (`s3Credentials`: WAL archive and base backups)",
                Needs::StaticBackupKeys,
            ),
            S::ArgocdDexGithub => (
                "argocd-dex-github",
                Component::ArgoCd,
                OPAQUE,
                {
                    labels = PART_OF_ARGOCD;
                    const {
                        &[
                            supplied(
                                "clientID",
                                "the Client ID of a GitHub OAuth App of the organization whose callback URL is \
                                 https://argocd.<domain>/api/dex/callback",
                            ),
                            supplied("clientSecret", "a client secret of that OAuth App"),
                        ]
                    }
                },
                "Argo CD's Dex (`dex.config` in argocd-cm: the GitHub connector)",
                Needs::Sso(SsoKind::Github),
            ),
            S::ArgocdOidc => (
                "argocd-oidc",
                Component::ArgoCd,
                OPAQUE,
                {
                    labels = PART_OF_ARGOCD;
                    const {
                        &[supplied(
                            "clientSecret",
                            "the secret of the client `gitops.sso.oidc.clientId` at the issuer, whose redirect URI is \
                             https://argocd.<domain>/auth/callback",
                        )]
                    }
                },
                "Argo CD's server (`oidc.config` in argocd-cm)",
                Needs::Sso(SsoKind::Oidc),
            ),
            S::ArgocdRepoGithubApp => (
                "argocd-repo-github-app",
                Component::ArgoCd,
                OPAQUE,
                {
                    labels = REPO_CREDS;
                    const {
                        &[
                            REPO_TYPE,
                            REPO_URL,
                            supplied(
                                "githubAppID",
                                "the App ID of a GitHub App with read access to the repository's contents",
                            ),
                            supplied(
                                "githubAppInstallationID",
                                "the id of its installation on the repository's owner (the number at the end of \
                                 the installation's settings URL)",
                            ),
                            supplied("githubAppPrivateKey", "a private key of the App, the whole PEM file"),
                        ]
                    }
                },
                "Argo CD's repo server and controller (a `repo-creds` template: reads the GitOps repository)",
                Needs::PrivateRepository(RepoAuth::GithubApp),
            ),
            S::ArgocdRepoPassword => (
                "argocd-repo-password",
                Component::ArgoCd,
                OPAQUE,
                {
                    labels = REPO_CREDS;
                    const {
                        &[
                            REPO_TYPE,
                            REPO_URL,
                            supplied("username", "a user that may read the repository"),
                            supplied("password", "that user's access token (read-only) or password"),
                        ]
                    }
                },
                "Argo CD's repo server and controller (a `repo-creds` template: reads the GitOps repository)",
                Needs::PrivateRepository(RepoAuth::Password),
            ),
            S::AppRegistryPull => (
                "app-registry-pull",
                Component::App,
                DOCKER_CONFIG,
                const { &[DOCKER_CONFIG_KEY] },
                "the kubelet, for the app's pods (`imagePullSecrets` of its Deployment and migrate Job)",
                Needs::PrivateRegistry,
            ),
            S::KyvernoRegistryPull => (
                "kyverno-registry-pull",
                Component::Kyverno,
                DOCKER_CONFIG,
                const { &[DOCKER_CONFIG_KEY] },
                "Kyverno (`imageRegistryCredentials` of verify-app-images: reads the signatures); the same value as app-registry-pull",
                Needs::PrivateRegistry,
            ),
            S::ExternalDnsTsig => (
                "external-dns-tsig",
                Component::ExternalDns,
                OPAQUE,
                const { &[TSIG_KEY] },
                "external-dns (`EXTERNAL_DNS_RFC2136_TSIG_SECRET`: signs its updates of the zone)",
                Needs::Rfc2136,
            ),
            S::CertManagerTsig => (
                "cert-manager-tsig",
                Component::CertManager,
                OPAQUE,
                const { &[TSIG_KEY] },
                "cert-manager (the letsencrypt ClusterIssuer's RFC 2136 solver: writes DNS-01 TXT records); the same \
                 value as external-dns-tsig",
                Needs::Rfc2136Challenge,
            ),
        };
        Spec {
            name,
            home,
            kind,
            keys,
            managed_database_keys,
            readers,
            needs,
            labels,
        }
    }

    /// Every Secret, in table order.
    pub fn all() -> impl Iterator<Item = SecretId> {
        Self::VARIANTS.iter().copied()
    }

    /// The Secret named `name`, if the table has it.
    pub fn by_name(name: &str) -> Option<SecretId> {
        Self::all().find(|s| s.spec().name == name)
    }

    /// The namespace the Secret lives in.
    pub const fn namespace(self) -> &'static str {
        self.spec().home.spec().namespace
    }

    /// Its keys in an environment like `runs`.
    pub fn keys(self, runs: &Runs) -> &'static [Key] {
        let spec = self.spec();
        match spec.managed_database_keys {
            Some(keys) if !runs.database_in_cluster => keys,
            _ => spec.keys,
        }
    }

    /// Who makes it in an environment like `runs`: a person when any key is supplied, else the
    /// platform.
    pub fn maker(self, runs: &Runs) -> Maker {
        maker_of(self.keys(runs))
    }

    /// Whether an environment like `runs` of `m` needs it.
    pub fn needed(self, runs: &Runs, m: &Manifest) -> bool {
        match self.spec().needs {
            Needs::Always => true,
            Needs::InClusterDatabase => runs.database_in_cluster,
            Needs::StaticBackupKeys => runs.database_in_cluster && runs.provider == Provider::Existing,
            Needs::Sso(kind) => m.sso_kind() == Some(kind),
            Needs::PrivateRepository(auth) => m.repo_auth() == Some(auth),
            Needs::PrivateRegistry => m.registry.private,
            Needs::Rfc2136 => runs.dns_records == DnsRecords::Rfc2136,
            Needs::Rfc2136Challenge => runs.dns_records == DnsRecords::Rfc2136 && runs.challenge == Challenge::Dns01,
        }
    }

    /// Whether it stays a Kubernetes Secret that `platform` writes even where the Secrets live in
    /// a secret store: Argo CD reads it to fetch the repository the ExternalSecrets are in, so
    /// it cannot come through one.
    pub const fn in_cluster_only(self) -> bool {
        matches!(self, SecretId::ArgocdRepoGithubApp | SecretId::ArgocdRepoPassword)
    }

    /// The key named `name` in an environment like `runs`.
    pub fn key(self, runs: &Runs, name: &str) -> Option<&'static Key> {
        self.keys(runs).iter().find(|k| k.name == name)
    }
}

/// How `platform secrets rotate` gives a generated Secret a new value (its kebab-case name is
/// how `platform secrets list --output json` says it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, IntoStaticStr)]
#[strum(serialize_all = "kebab-case")]
pub enum Rotation {
    /// A signing key ring ([`platform_contracts::signing_keys`]): the new key first only
    /// verifies, then signs with the old one verifying until what it signed has expired; the
    /// reader is restarted after each step.
    KeyRing { reader: Workload<'static> },
    /// A new value, then the reader restarted: nothing else holds the value (Grafana keeps no
    /// database across restarts, so its admin user is made afresh from the Secret).
    Replace { reader: Workload<'static> },
    /// The app's database login: the idle one of two login roles gets a new password, the app
    /// moves to it (restarted), then the role it left gets a password nobody holds.
    AlternateRoles { reader: Workload<'static> },
    /// The app's Valkey login, the same way with two ACL users ([`VALKEY_USERS`]): Valkey
    /// learns a user's password only when its pod starts, so it is restarted after each new
    /// password, and the user the app holds is never the one changed.
    AlternateUsers {
        server: Workload<'static>,
        reader: Workload<'static>,
    },
    /// The database owner, a role CloudNativePG manages: a new password, applied by
    /// CloudNativePG, then the URI the migrate Job reads at the next sync.
    OwnerRole,
    /// A person supplies it: a new value is a `platform secrets set`.
    Supplied,
}

impl Rotation {
    /// How docs/secrets.md's rotation table names it.
    pub const fn summary(self) -> &'static str {
        match self {
            Rotation::KeyRing { .. } => "a key ring",
            Rotation::Replace { .. } => "replaced",
            Rotation::AlternateRoles { .. } => "two login roles",
            Rotation::AlternateUsers { .. } => "two ACL users",
            Rotation::OwnerRole => "the owner role",
            Rotation::Supplied => "`platform secrets set`",
        }
    }

    /// The Deployments restarted, in order of first restart.
    pub fn restarts(self) -> Vec<Workload<'static>> {
        match self {
            Rotation::KeyRing { reader } | Rotation::Replace { reader } | Rotation::AlternateRoles { reader } => {
                vec![reader]
            }
            Rotation::AlternateUsers { server, reader } => vec![server, reader],
            Rotation::OwnerRole | Rotation::Supplied => Vec::new(),
        }
    }
}

impl SecretId {
    /// How a new value reaches its readers in an environment like `runs`.
    pub fn rotation(self, runs: &Runs) -> Rotation {
        use SecretId as S;
        if self.maker(runs) == Maker::Person {
            return Rotation::Supplied;
        }
        match self {
            S::AppJwt => Rotation::KeyRing { reader: APP_DEPLOYMENT },
            S::AppAdmin => Rotation::Replace { reader: APP_DEPLOYMENT },
            S::GrafanaAdmin => Rotation::Replace {
                reader: GRAFANA_DEPLOYMENT,
            },
            S::ValkeyUsers | S::RedisAppCredentials => Rotation::AlternateUsers {
                server: VALKEY_DEPLOYMENT,
                reader: APP_DEPLOYMENT,
            },
            S::PostgresAppLogin | S::PostgresAppLoginB | S::AppDatabase => {
                Rotation::AlternateRoles { reader: APP_DEPLOYMENT }
            }
            S::PostgresOwner | S::AppDatabaseOwner => Rotation::OwnerRole,
            S::AlertmanagerReceivers
            | S::PostgresBackupS3
            | S::ArgocdDexGithub
            | S::ArgocdOidc
            | S::ArgocdRepoGithubApp
            | S::ArgocdRepoPassword
            | S::AppRegistryPull
            | S::KyvernoRegistryPull
            | S::ExternalDnsTsig
            | S::CertManagerTsig => Rotation::Supplied,
        }
    }
}

/// The table as Markdown, the copy docs/secrets.md holds (a test keeps them equal).
pub fn markdown_table() -> String {
    let mut table = String::from(
        "| Secret | namespace | keys and how each is born | made by | read by | where |\n\
         | --- | --- | --- | --- | --- | --- |\n",
    );
    for s in SecretId::all() {
        let spec = s.spec();
        let mut keys = markdown_keys(spec.keys);
        let mut maker = markdown_maker(spec.keys).to_string();
        if let Some(managed) = spec.managed_database_keys {
            keys += &format!("<br>with `database.mode: managed`: {}", markdown_keys(managed));
            maker += &format!("; {} with `database.mode: managed`", markdown_maker(managed));
        }
        let needs = match spec.needs {
            Needs::Always => "every environment",
            Needs::InClusterDatabase => "`database.mode: in-cluster`",
            Needs::StaticBackupKeys => "`provider: existing` with `database.mode: in-cluster`",
            Needs::Sso(SsoKind::Github) => "`gitops.sso.github`, the default on a github.com repository",
            Needs::Sso(SsoKind::Oidc) => "`gitops.sso.oidc`",
            Needs::PrivateRepository(RepoAuth::GithubApp) => "`gitops.private` on github.com",
            Needs::PrivateRepository(RepoAuth::Password) => "`gitops.private` elsewhere",
            Needs::PrivateRegistry => "`registry.private`",
            Needs::Rfc2136 => "`dns.records: rfc2136`",
            Needs::Rfc2136Challenge => "`dns.records: rfc2136` with `dns.challenge: dns01`",
        };
        table += &format!(
            "| `{}` | {} | {keys} | {maker} | {} | {needs} |\n",
            spec.name,
            s.namespace(),
            spec.readers
        );
    }
    table
}

fn markdown_keys(keys: &[Key]) -> String {
    let keys: Vec<String> = keys
        .iter()
        .map(|k| {
            let birth = match k.birth {
                Birth::Random { bytes } => format!("{bytes} random bytes, base64url"),
                Birth::Fixed { value } => format!("`{value}`"),
                Birth::Derived { template } => format!("`{template}`"),
                Birth::Supplied { what } => format!("supplied: {what}"),
            };
            format!("`{}`: {birth}", k.name)
        })
        .collect();
    keys.join("<br>")
}

fn maker_of(keys: &[Key]) -> Maker {
    if keys.iter().any(|k| matches!(k.birth, Birth::Supplied { .. })) {
        Maker::Person
    } else {
        Maker::Platform
    }
}

fn markdown_maker(keys: &[Key]) -> &'static str {
    match maker_of(keys) {
        Maker::Person => "a person (`platform secrets set`)",
        Maker::Platform => "`platform bootstrap`",
    }
}

#[cfg(test)]
mod tests {
    use super::{Birth, SecretId};

    #[test]
    fn names_are_unique_and_match_the_ids() {
        let mut names: Vec<_> = SecretId::all().map(|s| s.spec().name).collect();
        for s in SecretId::all() {
            let id: &str = s.into();
            assert_eq!(id, s.spec().name, "the id reads as the Secret's name");
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), SecretId::all().count());
    }

    #[test]
    fn derived_keys_name_keys_that_exist() {
        for s in SecretId::all() {
            for k in s.spec().keys {
                let Birth::Derived { template } = k.birth else { continue };
                for part in template.split('{').skip(1) {
                    let field = part.split('}').next().unwrap_or_default();
                    if crate::secrets::values::ADDRESS_FIELDS.contains(&field) {
                        continue;
                    }
                    let (secret, key) = field.split_once('.').unwrap_or((field, ""));
                    let source = SecretId::by_name(secret).unwrap_or_else(|| panic!("{template}: no Secret {secret}"));
                    let found = source.spec().keys.iter().find(|k| k.name == key);
                    assert!(found.is_some(), "{template}: {secret} has no key {key}");
                    assert!(
                        matches!(found.map(|k| k.birth), Some(Birth::Random { .. })),
                        "{template}: derived from a generated key only, so bootstrap can make it"
                    );
                }
            }
        }
    }

    /// docs/secrets.md's rotation table is written by hand: each row must say of every Secret it
    /// names what [`SecretId::rotation`] does with it (in an environment with the database in
    /// the cluster, where the database rows are generated).
    #[test]
    fn docs_secrets_md_says_how_each_secret_rotates() {
        use super::Rotation;
        use crate::model::components::Runs;
        use crate::model::{Challenge, DnsRecords, Provider, SecretStore};
        let runs = Runs {
            provider: Provider::Eks,
            database_in_cluster: true,
            observability_in_cluster: true,
            metallb: false,
            dns_records: DnsRecords::Cloud,
            challenge: Challenge::Http01,
            secret_store: SecretStore::Kubernetes,
        };
        let docs = include_str!("../../../docs/secrets.md");
        let section = docs
            .split("## Rotation")
            .nth(1)
            .expect("docs/secrets.md has a Rotation section");
        let mut described = 0;
        for row in section.lines().filter(|l| l.starts_with("| `")) {
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            let (names, how) = (cells[1], cells[2]);
            for name in names.split(", ").map(|n| n.trim_matches('`')) {
                let id = SecretId::by_name(name).unwrap_or_else(|| panic!("docs/secrets.md names no Secret {name}"));
                let expected = id.rotation(&runs).summary();
                assert!(
                    how.starts_with(expected),
                    "docs/secrets.md says {name} rotates as {how:?}; the catalog: {expected}"
                );
                described += 1;
            }
        }
        let generated = SecretId::all()
            .filter(|id| !matches!(id.rotation(&runs), Rotation::Supplied))
            .count();
        assert_eq!(
            described, generated,
            "every generated Secret has a row in docs/secrets.md's rotation table"
        );
    }

    #[test]
    fn docs_secrets_md_holds_this_table() {
        let docs = include_str!("../../../docs/secrets.md");
        let (begin, end) = ("<!-- secrets:start -->\n", "<!-- secrets:end -->");
        let (Some(start), Some(stop)) = (docs.find(begin), docs.find(end)) else {
            panic!("docs/secrets.md lost its secrets markers");
        };
        assert_eq!(
            &docs[start + begin.len()..stop],
            super::markdown_table(),
            "regenerate the table in docs/secrets.md from secrets::catalog::markdown_table()"
        );
    }
}
