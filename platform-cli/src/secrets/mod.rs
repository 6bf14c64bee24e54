//! The Secrets the platform's workloads read: which there are ([`catalog`]), how their values
//! are made ([`values`]) and how they reach a cluster ([`store`]). Values never enter Git or the
//! rendered tree, and no command prints one.

pub mod catalog;
pub mod external;
pub mod push;
pub mod rotate;
pub mod store;
pub mod values;

use crate::components::Runs;
use crate::manifest::model::{Environment, SecretStore};
use crate::manifest::resolve::{self, ResolvedEnvironment};
use catalog::{Birth, SecretId};
use values::Hosts;

/// One environment's Secrets and the facts their values depend on.
#[derive(Debug, Clone)]
pub struct EnvSecrets {
    pub environment: String,
    pub runs: Runs,
    pub hosts: Hosts,
    /// The Secrets the environment needs, in table order.
    pub secrets: Vec<SecretId>,
    /// Where they live (`secrets.store`).
    pub store: SecretStore,
    /// What every name in a secret store starts with: the cluster's name.
    pub prefix: String,
}

impl EnvSecrets {
    pub fn new(e: &Environment, resolved: &ResolvedEnvironment) -> Self {
        let runs = resolve::runs(e);
        EnvSecrets {
            environment: e.name.clone(),
            runs,
            hosts: Hosts {
                valkey: resolved.valkey.host.clone(),
                postgres: format!(
                    "{}-rw.{}.svc",
                    resolved.database.cluster_name, resolved.database.namespace
                ),
                gitops_repo: resolved.gitops.repo_url.clone(),
            },
            secrets: SecretId::all()
                .filter(|s| s.needed(&runs, &resolved.gitops, &resolved.app))
                .collect(),
            store: e.secrets.store,
            prefix: resolved.cluster.name.clone(),
        }
    }

    /// Parses `NAME` or `NAME.KEY` as a person would type it for `platform secrets set`, and
    /// checks it names a supplied key of this environment.
    pub fn supplied_target(&self, target: &str) -> Result<(SecretId, &'static str), SetError> {
        let (name, key) = match target.split_once('.') {
            Some((name, key)) => (name, Some(key)),
            None => (target, None),
        };
        let id = self.find(name)?;
        let supplied: Vec<&'static str> = id
            .keys(&self.runs)
            .iter()
            .filter(|k| matches!(k.birth, Birth::Supplied { .. }))
            .map(|k| k.name)
            .collect();
        if supplied.is_empty() {
            return Err(SetError::Generated {
                name: name.to_string(),
                supplied: self.names_of(|s| s.maker(&self.runs) == catalog::Maker::Person),
            });
        }
        match key {
            Some(key) => supplied
                .iter()
                .find(|k| **k == key)
                .map(|k| (id, *k))
                .ok_or_else(|| SetError::UnknownKey {
                    name: name.to_string(),
                    key: key.to_string(),
                    keys: supplied.join(", "),
                }),
            None if supplied.len() == 1 => Ok((id, supplied[0])),
            None => Err(SetError::WhichKey {
                name: name.to_string(),
                keys: supplied
                    .iter()
                    .map(|k| format!("{name}.{k}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }

    /// The environment's Secret named `name`.
    pub fn find(&self, name: &str) -> Result<SecretId, SetError> {
        self.secrets
            .iter()
            .copied()
            .find(|s| s.spec().name == name)
            .ok_or_else(|| SetError::UnknownSecret {
                name: name.to_string(),
                environment: self.environment.clone(),
                known: self.names_of(|_| true),
            })
    }

    fn names_of(&self, keep: impl Fn(SecretId) -> bool) -> String {
        let names: Vec<&str> = self
            .secrets
            .iter()
            .copied()
            .filter(|s| keep(*s))
            .map(|s| s.spec().name)
            .collect();
        names.join(", ")
    }

    /// The exact command a person runs to set `id.key`.
    pub fn set_command(&self, manifest: &str, id: SecretId, key: &str) -> String {
        let file = if manifest == "platform.yaml" {
            String::new()
        } else {
            format!("-f {manifest} ")
        };
        format!(
            "platform secrets set {file}--env {} {}.{key} --from-file <file>",
            self.environment,
            id.spec().name
        )
    }
}

/// Why a `platform secrets set` target or value is refused.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum SetError {
    #[error("no Secret named \"{name}\" in environment {environment}")]
    #[diagnostic(code(secrets::unknown), help("the environment's Secrets: {known}"))]
    UnknownSecret {
        name: String,
        environment: String,
        known: String,
    },
    #[error("{name} is generated by `platform bootstrap`; a person does not set it")]
    #[diagnostic(code(secrets::generated), help("a person sets only these: {supplied}"))]
    Generated { name: String, supplied: String },
    #[error("{name} has no key \"{key}\" a person sets")]
    #[diagnostic(code(secrets::key), help("its keys: {keys}"))]
    UnknownKey { name: String, key: String, keys: String },
    #[error("{name} has several keys; say which")]
    #[diagnostic(code(secrets::which_key), help("one of: {keys}"))]
    WhichKey { name: String, keys: String },
    #[error("the value for {target} is empty")]
    #[diagnostic(
        code(secrets::empty),
        help(
            "pass the value with --from-file FILE, --from-env VAR or on standard input; a trailing newline is dropped"
        )
    )]
    Empty { target: String },
    #[error("the value for {target} is not UTF-8 text")]
    #[diagnostic(
        code(secrets::encoding),
        help("every key of the table is text: a key, a URL or a token")
    )]
    NotText { target: String },
}
