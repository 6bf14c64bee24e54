//! The answers given up front (as flags): each applies to every environment it concerns.
//! Without a terminal they must be complete; on one, the prompts ask for the rest.

use std::collections::BTreeMap;

use crate::manifest::ci;
use crate::model::Provider;

use super::answers::{self, Answers, EnvAnswers, PrivateKey, Question, Signing};

/// How the app image is signed, as chosen before the key (if any) is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigningMode {
    Keyless,
    Key,
}

#[derive(Debug, Clone, Default)]
pub struct Draft {
    pub name: Option<String>,
    pub repo_url: Option<String>,
    pub registry: Option<String>,
    pub registry_login: BTreeMap<String, String>,
    pub signing: Option<SigningMode>,
    /// The PEM text of the public key.
    pub public_key: Option<String>,
    pub private_key: Option<PrivateKey>,
    pub app_image: Option<String>,
    pub environments: Option<Vec<String>>,
    /// `Some(None)`: no environment is production.
    pub production: Option<Option<String>>,
    pub provider: Option<Provider>,
    pub region: Option<String>,
    pub gcp_project: Option<String>,
    pub kube_context: Option<String>,
    pub backup_endpoint: Option<String>,
    /// The base domain: production serves it, every other environment `<env>.<base>`.
    pub domain: Option<String>,
    pub acme_email: Option<String>,
}

/// Environments when none are named.
pub const DEFAULT_ENVIRONMENTS: [&str; 3] = ["dev", "staging", "prod"];

impl Draft {
    /// The answers, where every one the manifest needs was given or has a default; else the
    /// questions left unanswered, in the order they would be asked.
    pub fn complete(&self) -> Result<Answers, Vec<Question>> {
        let mut missing = Vec::new();
        let answers = self.answers(&mut missing);
        missing.sort();
        if missing.is_empty() { Ok(answers) } else { Err(missing) }
    }

    /// The answers so far, with stand-ins for the missing ones: what a prompt validates an
    /// answer against before the later questions are asked.
    pub fn provisional(&self) -> Answers {
        self.answers(&mut Vec::new())
    }

    /// Long as a table is: one line per question, each with its stand-in.
    fn answers(&self, missing: &mut Vec<Question>) -> Answers {
        let mut need =
            |q: Question, value: Option<String>, stand_in: &str| required(missing, q, value, stand_in.to_string());
        let name = need(Question::Name, self.name.clone(), "platform");
        let repo_url = need(
            Question::RepoUrl,
            self.repo_url.clone(),
            "https://github.com/example/platform.git",
        );
        let registry = need(
            Question::Registry,
            self.registry.clone().or_else(|| answers::default_registry(&repo_url)),
            "ghcr.io/example",
        );
        let mut registry_login = BTreeMap::new();
        for (key, needed) in ci::RegistryKind::of(answers::registry_host(&registry)).login_fields() {
            let given = self.registry_login.get(*key).cloned();
            if *needed {
                registry_login.insert((*key).to_string(), need(Question::RegistryLogin(key), given, ""));
            } else if let Some(value) = given {
                registry_login.insert((*key).to_string(), value);
            }
        }
        let github = crate::model::github_repository(&repo_url).is_some();
        let mode = self
            .signing
            .unwrap_or(if github { SigningMode::Keyless } else { SigningMode::Key });
        let signing = match mode {
            SigningMode::Keyless => Signing::Keyless,
            SigningMode::Key => Signing::Key {
                public_key: need(Question::PublicKey, self.public_key.clone(), STAND_IN_KEY),
                private_key: self.private_key.clone().unwrap_or(PrivateKey::DefaultSecret),
            },
        };
        let names = self.environment_names();
        let production = match &self.production {
            None => names.len().checked_sub(1),
            Some(None) => None,
            // An unknown name is reported against --production by `production_problem`.
            Some(Some(p)) => names.iter().position(|n| n == p),
        };
        let provider = required(missing, Question::Provider(0), self.provider, Provider::Eks);
        let mut need =
            |q: Question, value: Option<String>, stand_in: &str| required(missing, q, value, stand_in.to_string());
        let base = need(Question::Domain(0), self.domain.clone(), "example.com");
        let acme_email = need(Question::AcmeEmail(0), self.acme_email.clone(), "platform@example.com");
        let mut environments = Vec::new();
        for (i, env) in names.iter().enumerate() {
            let mut e = EnvAnswers {
                name: env.clone(),
                provider,
                region: None,
                gcp_project: None,
                kube_context: None,
                backup_endpoint: None,
                domain: answers::env_domain(&base, env, production == Some(i)),
                acme_email: acme_email.clone(),
            };
            for q in answers::env_questions(0, provider) {
                let value = match q {
                    Question::Region(_) => &mut e.region,
                    Question::GcpProject(_) => &mut e.gcp_project,
                    Question::KubeContext(_) => &mut e.kube_context,
                    Question::BackupEndpoint(_) => &mut e.backup_endpoint,
                    _ => continue,
                };
                let (given, stand_in) = match q {
                    Question::Region(_) => (&self.region, answers::default_region(provider).unwrap_or_default()),
                    Question::GcpProject(_) => (&self.gcp_project, "example-project"),
                    Question::KubeContext(_) => (&self.kube_context, "default"),
                    _ => (&self.backup_endpoint, "https://s3.example.com"),
                };
                *value = Some(need(q, given.clone(), stand_in));
            }
            environments.push(e);
        }
        Answers {
            name,
            repo_url,
            registry,
            registry_login,
            signing,
            app_image: self.app_image.clone(),
            environments,
            production,
        }
    }

    /// The environments given, else the default ones.
    fn environment_names(&self) -> Vec<String> {
        self.environments
            .clone()
            .unwrap_or_else(|| DEFAULT_ENVIRONMENTS.map(String::from).to_vec())
    }

    /// `--production NAME` must name one of the environments.
    pub fn production_problem(&self) -> Option<String> {
        let Some(Some(name)) = &self.production else {
            return None;
        };
        let names = self.environment_names();
        (!names.contains(name)).then(|| {
            format!(
                "--production {name}: no such environment (environments: {}; or `none`)",
                names.join(", ")
            )
        })
    }
}

/// `value`, or `stand_in` with `q` noted as missing.
fn required<T>(missing: &mut Vec<Question>, q: Question, value: Option<T>, stand_in: T) -> T {
    value.unwrap_or_else(|| {
        if !missing.contains(&q) {
            missing.push(q);
        }
        stand_in
    })
}

/// A well-formed PEM block standing in for a key not yet given (never written).
const STAND_IN_KEY: &str = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----";

impl Draft {
    /// Whether a flag answered `q` (for every environment), so it is not asked.
    pub fn gives(&self, q: Question) -> bool {
        match q {
            Question::Name => self.name.is_some(),
            Question::RepoUrl => self.repo_url.is_some(),
            Question::Registry => self.registry.is_some(),
            Question::RegistryLogin(key) => self.registry_login.contains_key(key),
            Question::Signing => self.signing.is_some(),
            Question::PublicKey => self.public_key.is_some(),
            Question::PrivateKey => self.private_key.is_some(),
            Question::AppImage => self.app_image.is_some(),
            Question::Environments => self.environments.is_some(),
            Question::Production => self.production.is_some(),
            Question::Provider(_) => self.provider.is_some(),
            Question::Region(_) => self.region.is_some(),
            Question::GcpProject(_) => self.gcp_project.is_some(),
            Question::KubeContext(_) => self.kube_context.is_some(),
            Question::BackupEndpoint(_) => self.backup_endpoint.is_some(),
            Question::Domain(_) => self.domain.is_some(),
            Question::AcmeEmail(_) => self.acme_email.is_some(),
        }
    }
}
