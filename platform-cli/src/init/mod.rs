//! `platform init`: a new GitOps repository, from answers or a bundled example. It writes the
//! commented manifest, the JSON Schema its `$schema` line names, a README and `.gitignore`,
//! and the rendered tree (`platform render --out` of the new manifest).
//!
//! - [`answers`]: what is asked, and the manifest the answers make (checked by the real rules);
//! - [`draft`]: the answers given as flags;
//! - [`prompt`]: the questions on a terminal;
//! - [`examples`]: the bundled examples of `--from-example`.

pub mod answers;
pub mod draft;
pub mod examples;
pub mod prompt;
mod templates;

#[cfg(test)]
mod answer_space;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::manifest::{self, Diagnostics};
use crate::model::DnsRecords;
use crate::render::{self, Layout, RenderError, output};

use answers::Problem;

/// The manifest's file name in the new repository.
pub const MANIFEST_FILE: &str = "platform.yaml";
/// The schema file the manifest's `$schema` line names.
pub const SCHEMA_FILE: &str = "platform.schema.json";

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum InitError {
    #[error("{} already exists", .path.display())]
    #[diagnostic(
        code(init::exists),
        help(
            "init starts a new repository and never overwrites a manifest: edit it and run \
             `platform render --out .` there, or pass another DIR"
        )
    )]
    ManifestExists { path: PathBuf },

    #[error("{why}, so `platform init` cannot ask for: {}", .flags.join(", "))]
    #[diagnostic(
        code(init::missing_flags),
        help(
            "pass those flags (`platform init --help` describes each), or start from an example with --from-example NAME"
        )
    )]
    MissingFlags { why: &'static str, flags: Vec<String> },

    #[error("{} flag{} would make an invalid manifest; nothing was written", .problems.len(), if .problems.len() == 1 { "" } else { "s" })]
    #[diagnostic(
        code(init::invalid_answer),
        help("correct the flags listed below and run `platform init` again")
    )]
    InvalidAnswers {
        #[related]
        problems: Vec<FlagProblem>,
    },

    #[error("{message}")]
    #[diagnostic(code(init::invalid_answer), help("{help}"))]
    InvalidFlag { message: String, help: String },

    #[error("the defaults of `platform init` make an invalid manifest:\n{}", invalid_lines(.problems))]
    #[diagnostic(
        code(init::bug),
        help("this is a bug in platform init; please report it with the answers you gave")
    )]
    Defaults { problems: Vec<Problem> },

    #[error("the manifest `platform init` made does not validate:\n{0}")]
    #[diagnostic(
        code(init::bug),
        help("this is a bug in platform init; please report it with the answers you gave")
    )]
    Invalid(String),

    #[error("the question was not answered: {0}")]
    #[diagnostic(code(init::prompt), help("nothing was written; run `platform init` again"))]
    Prompt(#[source] std::io::Error),

    #[error("cannot write {}: {source}", .path.display())]
    #[diagnostic(
        code(init::io),
        help("check that the folder is writable; files already written are listed above")
    )]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(transparent)]
    #[diagnostic(transparent)]
    Render(#[from] RenderError),

    #[error(transparent)]
    #[diagnostic(transparent)]
    Output(#[from] output::OutputError),
}

impl From<dialoguer::Error> for InitError {
    fn from(error: dialoguer::Error) -> Self {
        let dialoguer::Error::IO(io) = error;
        InitError::Prompt(io)
    }
}

/// A flag's value the manifest rules refuse: the rule's message, what it expected, its hint.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{flag}: {message}")]
#[diagnostic(help("expected {expected}; {hint}"))]
pub struct FlagProblem {
    flag: String,
    message: String,
    expected: String,
    hint: String,
}

/// The problems as flags name them; a flag that answers for every environment is named once.
pub fn flag_problems(problems: &[Problem]) -> Vec<FlagProblem> {
    let mut out: Vec<FlagProblem> = Vec::new();
    for p in problems {
        let flag = p
            .question
            .map_or_else(|| p.diagnostic.field.clone(), answers::Question::flag);
        if out.iter().any(|f| f.flag == flag && f.message == p.diagnostic.message) {
            continue;
        }
        out.push(FlagProblem {
            flag,
            message: p.diagnostic.message.clone(),
            expected: p.diagnostic.expected.clone(),
            hint: p.diagnostic.hint.clone(),
        });
    }
    out
}

fn invalid_lines(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| {
            let flag = p
                .question
                .map_or_else(|| p.diagnostic.field.clone(), answers::Question::flag);
            format!("  {flag}: {} [{}]", p.explain(), p.diagnostic.field)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// What `create` wrote, for the summary and the next steps.
#[derive(Debug)]
pub struct Created {
    pub environments: Vec<String>,
    /// Files of the rendered tree besides the manifest (hand-written modules and charts included).
    pub rendered: usize,
    pub repo_url: String,
    /// Files that were there already and were kept (README.md, .gitignore).
    pub kept: Vec<&'static str>,
    /// Whether the tree has a `terraform/state` root (the state storage) to apply first.
    pub state_root: bool,
    /// Whether the tree has a `terraform/ci` root to apply before the environment.
    pub ci_root: bool,
    pub image_is_placeholder: bool,
    /// The first environment's DNS step: the zone to delegate to the name servers Terraform
    /// made (`dns.records: cloud`), else the domain whose records a person (or the RFC 2136
    /// server) holds.
    pub dns: FirstDns,
}

/// What the first environment's DNS needs after `terraform apply`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum FirstDns {
    /// Delegate this zone to the name servers of the `dns_name_servers` output.
    Delegate { zone: String },
    /// Nothing: external-dns updates the RFC 2136 server.
    Updated,
    /// Point `app.`, `argocd.` and `grafana.<domain>` at the Gateway.
    Manual { domain: String },
}

/// What the first environment's DNS needs from a person once Terraform ran.
fn first_dns(m: &crate::model::Manifest) -> FirstDns {
    m.environments
        .first()
        .map_or(FirstDns::Updated, |e| match e.dns_records() {
            DnsRecords::Cloud => FirstDns::Delegate {
                zone: e.dns.zone.clone().unwrap_or_else(|| e.domain.clone()),
            },
            DnsRecords::Rfc2136 => FirstDns::Updated,
            DnsRecords::Manual => FirstDns::Manual {
                domain: e.domain.clone(),
            },
        })
}

/// Writes the manifest at `path` only if nothing is there (`create_new`: a manifest that
/// appeared since the first check is not overwritten either).
fn write_new(path: &Path, text: &str) -> Result<(), InitError> {
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|source| match source.kind() {
            std::io::ErrorKind::AlreadyExists => InitError::ManifestExists {
                path: path.to_path_buf(),
            },
            _ => InitError::Write {
                path: path.to_path_buf(),
                source,
            },
        })
}

/// Writes each file into `dir` unless one is there already; the names of those kept.
fn write_unless_there(dir: &Path, files: [(&'static str, String); 2]) -> Result<Vec<&'static str>, InitError> {
    let mut kept = Vec::new();
    for (file, body) in files {
        let path = dir.join(file);
        if path.exists() {
            kept.push(file);
            continue;
        }
        fs::write(&path, body).map_err(|source| InitError::Write { path, source })?;
    }
    Ok(kept)
}

/// Creates the repository in `dir` from the manifest `text`: checked, then written (the
/// manifest first, never over an existing one), then rendered.
pub fn create(dir: &Path, text: &str) -> Result<Created, InitError> {
    let manifest_path = dir.join(MANIFEST_FILE);
    if manifest_path.exists() {
        return Err(InitError::ManifestExists { path: manifest_path });
    }
    let loaded =
        manifest::load_str(MANIFEST_FILE, text).map_err(|d: Diagnostics| InitError::Invalid(d.render(false)))?;
    let mut tree = render::render_as(&loaded, &[], Layout::Standalone)?;
    render::add_hand_written(&mut tree);
    render::add_manifest(&mut tree, &loaded);

    let ci_root = tree.files.keys().any(|p| p.starts_with("terraform/ci/"));
    let state_root = tree.files.keys().any(|p| p.starts_with("terraform/state/"));
    let image_is_placeholder = loaded
        .manifest
        .app
        .image
        .ends_with(&format!("@sha256:{}", "0".repeat(64)));
    let environments: Vec<String> = loaded.manifest.environments.iter().map(|e| e.name.clone()).collect();
    let dns = first_dns(&loaded.manifest);
    let readme = ReadmeView {
        name: &loaded.manifest.metadata.name,
        version: env!("CARGO_PKG_VERSION"),
        repo_url: &loaded.manifest.gitops.repo_url,
        environments: loaded
            .manifest
            .environments
            .iter()
            .map(|e| ReadmeEnv {
                name: &e.name,
                production: e.production,
                provider: e.cluster.provider.key(),
                region: e.cluster.region.as_deref(),
                domain: &e.domain,
            })
            .collect(),
        first_env: &environments[0],
        state_root,
        ci_root,
        terraform_apply: first_applies(state_root, ci_root, &environments[0]),
        image_is_placeholder,
        dns: &dns,
    };
    // Everything is rendered before the first write: a failure leaves nothing behind.
    let readme = templates::render("README.md", &readme).map_err(RenderError::template)?;
    let gitignore = templates::render("gitignore", &serde_json::json!({})).map_err(RenderError::template)?;
    let schema = serde_json::to_string_pretty(manifest::structure::schema()).map_err(std::io::Error::other);

    let write_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| InitError::Write { path, source }
    };
    fs::create_dir_all(dir).map_err(write_err(dir))?;
    write_new(&manifest_path, text)?;
    output::write(&tree, dir)?;

    let schema_path = dir.join(SCHEMA_FILE);
    schema
        .and_then(|s| fs::write(&schema_path, s + "\n"))
        .map_err(write_err(&schema_path))?;

    let kept = write_unless_there(dir, [("README.md", readme), (".gitignore", gitignore)])?;
    Ok(Created {
        dns,
        environments,
        rendered: tree.files.len() - 1,
        repo_url: loaded.manifest.gitops.repo_url.clone(),
        kept,
        state_root,
        ci_root,
        image_is_placeholder,
    })
}

/// The command that creates environment `env`'s cluster.
fn terraform_apply(env: &str) -> String {
    apply_root(&format!("terraform/envs/{env}"))
}

/// The Terraform roots to apply before the first environment is bootstrapped, in order: the
/// state storage every other root's backend needs, the CI root where there is one, the
/// environment.
pub fn first_applies(state_root: bool, ci_root: bool, env: &str) -> String {
    let mut roots: Vec<String> = Vec::new();
    if state_root {
        roots.push(apply_root("terraform/state"));
    }
    if ci_root {
        roots.push(apply_root("terraform/ci"));
    }
    roots.push(terraform_apply(env));
    roots.join(" && ")
}

fn apply_root(root: &str) -> String {
    format!("terraform -chdir={root} init && terraform -chdir={root} apply")
}

#[derive(Debug, Serialize)]
struct ReadmeView<'a> {
    name: &'a str,
    version: &'a str,
    repo_url: &'a str,
    environments: Vec<ReadmeEnv<'a>>,
    first_env: &'a str,
    state_root: bool,
    ci_root: bool,
    terraform_apply: String,
    image_is_placeholder: bool,
    dns: &'a FirstDns,
}

#[derive(Debug, Serialize)]
struct ReadmeEnv<'a> {
    name: &'a str,
    production: bool,
    provider: &'a str,
    region: Option<&'a str>,
    domain: &'a str,
}
