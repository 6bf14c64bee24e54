//! What `platform init` asks, and the manifest the answers make.
//!
//! Answers are checked by the same rules as `platform validate`: the manifest the answers would
//! write is rendered in memory and validated, and each problem is handed back to the question
//! (and flag) whose answer it is about. So a question never accepts an answer the manifest
//! would refuse, and no rule is written twice.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::manifest::{self, Diagnostic, ci};
use crate::model::{Provider, cloud_limits};

/// Everything a new manifest is made from; what is not here gets a default.
#[derive(Debug, Clone, PartialEq)]
pub struct Answers {
    pub name: String,
    pub repo_url: String,
    /// `HOST/NAMESPACE`, e.g. `ghcr.io/acme`.
    pub registry: String,
    /// `registry.login` fields, by manifest key.
    pub registry_login: BTreeMap<String, String>,
    pub signing: Signing,
    /// The app image; `None` until the app workflow has built one (a placeholder is written).
    pub app_image: Option<String>,
    pub environments: Vec<EnvAnswers>,
    /// Index of the production environment, if any.
    pub production: Option<usize>,
}

/// How the app workflow signs the image.
#[derive(Debug, Clone, PartialEq)]
pub enum Signing {
    /// GitHub Actions' OIDC identity of the app workflow (needs the repository on github.com).
    Keyless,
    /// A cosign key pair: the PEM public key, and where the workflow finds the private key.
    Key {
        public_key: String,
        private_key: PrivateKey,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum PrivateKey {
    /// The GitHub Actions secret `COSIGN_PRIVATE_KEY` (the manifest's default).
    DefaultSecret,
    Secret(String),
    Kms(String),
}

/// One environment's answers.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvAnswers {
    pub name: String,
    pub provider: Provider,
    /// Region (eks, aks, gke).
    pub region: Option<String>,
    /// GCP project (gke).
    pub gcp_project: Option<String>,
    /// kubeconfig context (existing).
    pub kube_context: Option<String>,
    /// S3-compatible backup endpoint (existing).
    pub backup_endpoint: Option<String>,
    pub domain: String,
    pub acme_email: String,
}

/// One thing `init` asks; `usize` is the environment's index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Question {
    Name,
    RepoUrl,
    Registry,
    RegistryLogin(&'static str),
    Signing,
    PublicKey,
    PrivateKey,
    AppImage,
    Environments,
    Production,
    Provider(usize),
    Region(usize),
    GcpProject(usize),
    KubeContext(usize),
    BackupEndpoint(usize),
    Domain(usize),
    AcmeEmail(usize),
}

impl Question {
    /// The flag of `platform init` that answers this question without asking.
    pub fn flag(self) -> String {
        match self {
            Question::Name => "--name".into(),
            Question::RepoUrl => "--repo-url".into(),
            Question::Registry => "--registry".into(),
            Question::RegistryLogin(key) => format!("--registry-login {key}=..."),
            Question::Signing => "--signing".into(),
            Question::PublicKey => "--public-key".into(),
            Question::PrivateKey => "--private-key-kms / --private-key-secret".into(),
            Question::AppImage => "--app-image".into(),
            Question::Environments => "--environments".into(),
            Question::Production => "--production".into(),
            Question::Provider(_) => "--provider".into(),
            Question::Region(_) => "--region".into(),
            Question::GcpProject(_) => "--gcp-project".into(),
            Question::KubeContext(_) => "--kube-context".into(),
            Question::BackupEndpoint(_) => "--backup-endpoint".into(),
            Question::Domain(_) => "--domain".into(),
            Question::AcmeEmail(_) => "--acme-email".into(),
        }
    }

    /// Whether a diagnostic on `field` (dotted, as diagnostics name fields) is about this answer.
    fn owns(self, field: &str) -> bool {
        let env = |i: usize, rest: &str| format!("environments[{i}].{rest}");
        let under = |prefix: &str| field == prefix || field.starts_with(&format!("{prefix}."));
        match self {
            Question::Name => field == "metadata.name",
            Question::RepoUrl => under("gitops"),
            Question::Registry => field == "registry.host" || field == "registry.namespace",
            Question::RegistryLogin(key) => field == format!("registry.login.{key}"),
            Question::Signing => field == "signing" || under("signing.keyless"),
            Question::PublicKey => field == "signing.publicKey",
            Question::PrivateKey => under("signing.privateKey"),
            Question::AppImage => field == "app.image",
            Question::Environments => {
                field == "environments"
                    || (field.starts_with("environments[")
                        && (field.ends_with("].name") || field.ends_with("].promotedFrom")))
            }
            Question::Production => field.ends_with("].production"),
            Question::Provider(i) => field == env(i, "cluster.provider"),
            Question::Region(i) => field == env(i, "cluster.region"),
            Question::GcpProject(i) => field == env(i, "cluster.gcpProject"),
            Question::KubeContext(i) => field == env(i, "cluster.kubeconfigContext"),
            Question::BackupEndpoint(i) => field == env(i, "backup.s3Endpoint"),
            Question::Domain(i) => field == env(i, "domain"),
            Question::AcmeEmail(i) => field == env(i, "acmeEmail"),
        }
    }
}

/// A problem with the answers, tied to the question it is about (`None`: a default of `init`
/// itself, which is a bug).
#[derive(Debug, Clone)]
pub struct Problem {
    pub question: Option<Question>,
    pub diagnostic: Diagnostic,
}

impl Problem {
    /// One line for a prompt or an error list: what is wrong, what was expected, the hint.
    pub fn explain(&self) -> String {
        let d = &self.diagnostic;
        format!("{} (expected {}; {})", d.message, d.expected, d.hint)
    }
}

/// The questions whose answers a manifest of `answers` needs, in the order they are asked.
pub fn questions(answers: &Answers) -> Vec<Question> {
    let mut out = vec![Question::Name, Question::RepoUrl, Question::Registry];
    for (key, required) in ci::RegistryKind::of(registry_host(&answers.registry)).login_fields() {
        if *required {
            out.push(Question::RegistryLogin(key));
        }
    }
    out.push(Question::Signing);
    if matches!(answers.signing, Signing::Key { .. }) {
        out.extend([Question::PublicKey, Question::PrivateKey]);
    }
    out.extend([Question::AppImage, Question::Environments, Question::Production]);
    for (i, env) in answers.environments.iter().enumerate() {
        out.push(Question::Provider(i));
        out.extend(env_questions(i, env.provider));
        out.extend([Question::Domain(i), Question::AcmeEmail(i)]);
    }
    out
}

/// The provider-specific questions of environment `i`.
pub fn env_questions(i: usize, provider: Provider) -> Vec<Question> {
    match provider {
        Provider::Eks | Provider::Aks => vec![Question::Region(i)],
        Provider::Gke => vec![Question::Region(i), Question::GcpProject(i)],
        Provider::Existing => vec![Question::KubeContext(i), Question::BackupEndpoint(i)],
    }
}

pub fn registry_host(registry: &str) -> &str {
    registry.split_once('/').map_or(registry, |(host, _)| host)
}

/// The registry a GitHub repository's workflow pushes to without any login: GHCR of its owner.
pub fn default_registry(repo_url: &str) -> Option<String> {
    let repo = crate::model::github_repository(repo_url)?;
    let owner = repo.split('/').next()?;
    Some(format!("ghcr.io/{}", owner.to_ascii_lowercase()))
}

/// A region to offer for each provider.
pub fn default_region(provider: Provider) -> Option<&'static str> {
    match provider {
        Provider::Eks => Some("eu-west-1"),
        Provider::Aks => Some("westeurope"),
        Provider::Gke => Some("europe-west1"),
        Provider::Existing => None,
    }
}

/// The domain of environment `name` when the platform's base domain is `base`: production
/// serves the base domain itself, every other environment a subdomain named after it.
pub fn env_domain(base: &str, name: &str, production: bool) -> String {
    if production {
        base.to_string()
    } else {
        format!("{name}.{base}")
    }
}

/// Node size and node count bounds for a provider: enough for the platform's components in
/// every environment, more in production (`platform validate` checks the fit).
fn sizing(provider: Provider, production: bool) -> Option<(&'static str, u32, u32)> {
    match (provider, production) {
        (Provider::Eks, false) => Some(("t3.large", 2, 4)),
        (Provider::Eks, true) => Some(("m6i.xlarge", 3, 9)),
        (Provider::Aks, false) => Some(("Standard_D4s_v5", 2, 4)),
        (Provider::Aks, true) => Some(("Standard_D4s_v5", 3, 9)),
        (Provider::Gke, false) => Some(("e2-standard-4", 2, 4)),
        (Provider::Gke, true) => Some(("e2-standard-8", 3, 9)),
        (Provider::Existing, _) => None,
    }
}

/// The image the manifest holds until the app workflow has pushed and signed one: the app's
/// repository at an all-zero digest, which no registry serves (the commented manifest says so).
pub fn placeholder_image(registry: &str) -> String {
    format!("{registry}/app@sha256:{}", "0".repeat(64))
}

/// What the manifest template is rendered from.
#[derive(Debug, Serialize)]
struct ManifestView<'a> {
    name: &'a str,
    repo_url: &'a str,
    registry_host: &'a str,
    registry_namespace: &'a str,
    registry_login: &'a BTreeMap<String, String>,
    keyless: bool,
    public_key_lines: Vec<&'a str>,
    private_key_kms: Option<&'a str>,
    private_key_secret: Option<&'a str>,
    image: String,
    image_is_placeholder: bool,
    chart_version: &'a str,
    environments: Vec<EnvView<'a>>,
}

#[derive(Debug, Serialize)]
struct EnvView<'a> {
    name: &'a str,
    promoted_from: Option<&'a str>,
    production: bool,
    provider: &'static str,
    region: Option<&'a str>,
    gcp_project: Option<&'a str>,
    kube_context: Option<&'a str>,
    backup_endpoint: Option<&'a str>,
    node_size: Option<&'static str>,
    nodes_min: u32,
    nodes_max: u32,
    network_cidr: String,
    domain: &'a str,
    acme_email: &'a str,
}

impl Answers {
    /// The commented `platform.yaml` these answers make.
    pub fn manifest(&self) -> Result<String, tera::Error> {
        let (host, namespace) = self.registry.split_once('/').unwrap_or((&self.registry, ""));
        let (public_key_lines, kms, secret) = match &self.signing {
            Signing::Keyless => (Vec::new(), None, None),
            Signing::Key {
                public_key,
                private_key,
            } => {
                let (kms, secret) = match private_key {
                    PrivateKey::DefaultSecret => (None, None),
                    PrivateKey::Secret(s) => (None, Some(s.as_str())),
                    PrivateKey::Kms(k) => (Some(k.as_str()), None),
                };
                (public_key.trim().lines().map(str::trim).collect(), kms, secret)
            }
        };
        let environments = self
            .environments
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let production = self.production == Some(i);
                let (node_size, nodes_min, nodes_max) =
                    sizing(e.provider, production).map_or((None, 0, 0), |(s, a, b)| (Some(s), a, b));
                EnvView {
                    name: &e.name,
                    promoted_from: i.checked_sub(1).map(|p| self.environments[p].name.as_str()),
                    production,
                    provider: e.provider.key(),
                    region: e.region.as_deref(),
                    gcp_project: e.gcp_project.as_deref(),
                    kube_context: e.kube_context.as_deref(),
                    backup_endpoint: e.backup_endpoint.as_deref(),
                    node_size,
                    nodes_min,
                    nodes_max,
                    // One /16 per environment, so their networks never overlap if ever peered.
                    network_cidr: format!("10.{}.0.0/16", i % 256),
                    domain: &e.domain,
                    acme_email: &e.acme_email,
                }
            })
            .collect();
        let view = ManifestView {
            name: &self.name,
            repo_url: &self.repo_url,
            registry_host: host,
            registry_namespace: namespace,
            registry_login: &self.registry_login,
            keyless: self.signing == Signing::Keyless,
            public_key_lines,
            private_key_kms: kms,
            private_key_secret: secret,
            image: self
                .app_image
                .clone()
                .unwrap_or_else(|| placeholder_image(&self.registry)),
            image_is_placeholder: self.app_image.is_none(),
            chart_version: crate::render::embedded::app_chart_version(),
            environments,
        };
        super::templates::render("platform.yaml", &view)
    }

    /// Takes the answer to `question` as typed (a choice by its key: `eks`, `keyless`, `none` ...).
    /// Only a value that cannot be an answer at all is refused here (an unknown choice, a public
    /// key that is not PEM); what the manifest rules refuse, [`Answers::problems_with`] reports.
    /// Long as a table is: one arm per question.
    pub fn set(&mut self, question: Question, value: &str) -> Result<(), String> {
        let value = value.trim();
        let text = value.to_string();
        match question {
            Question::Name => self.name = text,
            Question::RepoUrl => self.repo_url = text,
            Question::Registry => {
                self.registry = text;
                let fields = ci::RegistryKind::of(registry_host(&self.registry)).login_fields();
                self.registry_login.retain(|k, _| fields.iter().any(|(f, _)| f == k));
                for (key, required) in fields {
                    if *required {
                        self.registry_login.entry((*key).to_string()).or_default();
                    }
                }
            }
            Question::RegistryLogin(key) => {
                self.registry_login.insert(key.to_string(), text);
            }
            Question::Signing => {
                self.signing = match value {
                    "keyless" => Signing::Keyless,
                    "key" => match &self.signing {
                        key @ Signing::Key { .. } => key.clone(),
                        Signing::Keyless => Signing::Key {
                            public_key: String::new(),
                            private_key: PrivateKey::DefaultSecret,
                        },
                    },
                    other => return Err(format!("\"{other}\" is not a signing mode: keyless or key")),
                }
            }
            Question::PublicKey => {
                if !is_pem_public_key(value) {
                    return Err(
                        "not a PEM public key (expected the content of cosign.pub, from -----BEGIN PUBLIC KEY----- \
                         to -----END PUBLIC KEY-----)"
                            .into(),
                    );
                }
                if let Signing::Key { public_key, .. } = &mut self.signing {
                    *public_key = text;
                }
            }
            Question::PrivateKey => {
                let private = match value.split_once(':') {
                    _ if value.is_empty() || value == ci::DEFAULT_KEY_SECRET => PrivateKey::DefaultSecret,
                    Some((scheme, _)) if scheme.ends_with("kms") => PrivateKey::Kms(text),
                    _ => PrivateKey::Secret(text),
                };
                if let Signing::Key { private_key, .. } = &mut self.signing {
                    *private_key = private;
                }
            }
            Question::AppImage => self.app_image = (!value.is_empty()).then_some(text),
            Question::Environments => {
                let names: Vec<String> = value
                    .split(',')
                    .map(|n| n.trim().to_string())
                    .filter(|n| !n.is_empty())
                    .collect();
                if names.is_empty() {
                    return Err("name at least one environment, e.g. dev,staging,prod".into());
                }
                let template = self.environments.last().cloned();
                self.environments = names
                    .into_iter()
                    .enumerate()
                    .filter_map(|(i, name)| {
                        let mut env = self.environments.get(i).or(template.as_ref())?.clone();
                        env.name = name;
                        Some(env)
                    })
                    .collect();
                self.production = self.environments.len().checked_sub(1);
            }
            Question::Production => {
                self.production = match value {
                    "none" => None,
                    name => Some(
                        self.environments
                            .iter()
                            .position(|e| e.name == name)
                            .ok_or_else(|| format!("no environment named \"{name}\" (or `none`)"))?,
                    ),
                };
            }
            Question::Provider(i) => {
                let provider = match value {
                    "eks" => Provider::Eks,
                    "aks" => Provider::Aks,
                    "gke" => Provider::Gke,
                    "existing" => Provider::Existing,
                    other => return Err(format!("\"{other}\" is not a provider: eks, aks, gke or existing")),
                };
                let env = self.env(i)?;
                if env.provider != provider {
                    env.provider = provider;
                    env.region = default_region(provider).map(String::from);
                    env.gcp_project = (provider == Provider::Gke).then(String::new);
                    env.kube_context = (provider == Provider::Existing).then(String::new);
                    env.backup_endpoint = (provider == Provider::Existing).then(String::new);
                }
            }
            Question::Region(i) => self.env(i)?.region = Some(text),
            Question::GcpProject(i) => self.env(i)?.gcp_project = Some(text),
            Question::KubeContext(i) => self.env(i)?.kube_context = Some(text),
            Question::BackupEndpoint(i) => self.env(i)?.backup_endpoint = Some(text),
            Question::Domain(i) => self.env(i)?.domain = text,
            Question::AcmeEmail(i) => self.env(i)?.acme_email = text,
        }
        Ok(())
    }

    fn env(&mut self, i: usize) -> Result<&mut EnvAnswers, String> {
        self.environments
            .get_mut(i)
            .ok_or_else(|| format!("no environment number {}", i + 1))
    }

    /// Every problem `platform validate` would find in the manifest of these answers.
    pub fn problems(&self) -> Vec<Problem> {
        let text = match self.manifest() {
            Ok(text) => text,
            Err(e) => return vec![template_problem(&e)],
        };
        let mut problems = self.name_problem(&text).into_iter().collect::<Vec<_>>();
        let Err(diagnostics) = manifest::load_str(super::MANIFEST_FILE, &text) else {
            return problems;
        };
        let asked = questions(self);
        problems.extend(diagnostics.0.into_iter().map(|diagnostic| Problem {
            question: asked.iter().copied().find(|q| q.owns(&diagnostic.field)),
            diagnostic,
        }));
        problems
    }

    /// `init`'s own limit on the platform's name, asked before the environments: the cloud names
    /// built from both (`cloud_limits::built_names`) must still fit the suggested `staging` on
    /// EKS, the tightest, so that the suggestion remains an answer.
    fn name_problem(&self, text: &str) -> Option<Problem> {
        let cluster_max = cloud_limits::longest_cluster_name(Provider::Eks);
        let max = cluster_max.saturating_sub("-staging".len());
        (self.name.len() > max).then(|| {
            let source = manifest::Source::new(super::MANIFEST_FILE, text);
            let position = manifest::source::Position::START;
            let diagnostic = Diagnostic::at(manifest::diagnostic::Code::InvalidValue, &source, position, "/metadata/name")
                .build(
                    format!("\"{}\" is {} characters, more than the {max} `platform init` takes", self.name, self.name.len()),
                    format!("a name of at most {max} characters"),
                    format!(
                        "cloud resource names are built from it and each environment's name: on EKS `<name>-<environment>` has at most {cluster_max} characters"
                    ),
                );
            Problem {
                question: Some(Question::Name),
                diagnostic,
            }
        })
    }

    /// The problems with one answer: what a prompt shows before asking again.
    pub fn problems_with(&self, question: Question) -> Vec<Problem> {
        self.problems()
            .into_iter()
            .filter(|p| p.question == Some(question))
            .collect()
    }
}

/// A PEM block of the characters a PEM public key holds, so it can be written as a YAML block.
pub fn is_pem_public_key(text: &str) -> bool {
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    lines.len() >= 3
        && lines.first() == Some(&"-----BEGIN PUBLIC KEY-----")
        && lines.last() == Some(&"-----END PUBLIC KEY-----")
        && lines[1..lines.len() - 1]
            .iter()
            .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b)))
}

fn template_problem(error: &tera::Error) -> Problem {
    let source = manifest::Source::new(super::MANIFEST_FILE, "");
    let diagnostic = Diagnostic::at(
        manifest::diagnostic::Code::Syntax,
        &source,
        manifest::source::Position::START,
        "",
    )
    .build(
        format!("the manifest template of `platform init` failed: {error:?}"),
        "a template that renders",
        "this is a bug in platform init; please report it",
    );
    Problem {
        question: None,
        diagnostic,
    }
}

/// Groups problems by question, in the order the questions are asked.
pub fn by_question(problems: Vec<Problem>) -> Vec<(Option<Question>, Vec<Problem>)> {
    let mut groups: HashMap<Option<Question>, Vec<Problem>> = HashMap::new();
    for p in problems {
        groups.entry(p.question).or_default().push(p);
    }
    let mut out: Vec<_> = groups.into_iter().collect();
    out.sort_by_key(|(q, _)| *q);
    out
}
