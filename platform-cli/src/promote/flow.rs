//! One promotion, start to finish. Nothing leaves the machine until every gate has passed:
//! the chain, the evidence from the source environment (`gates`), the edit's self-check, and
//! the signatures of what the target would deploy.

use std::path::{Path, PathBuf};

use similar::TextDiff;

use crate::manifest::{self, LoadedManifest};
use crate::render::{self, output};
use crate::supply_chain::{RegistryOptions, TrustPolicy, verify_image};

use super::gates::{self, GateName, Gates, Override, Prometheus};
use super::github::{self, PullRequest};
use super::pins::{Change, Pins, changes, effective};
use super::summary::{self, FileStat};
use super::{PromoteError, check_chain, edit, git};

/// What to promote, and how far to go.
#[derive(Debug, Clone)]
pub struct Request {
    pub manifest: PathBuf,
    /// Source environment; absent for a rollback.
    pub from: Option<String>,
    pub to: String,
    /// Rollback: re-promote the pins `to` had at this revision.
    pub revision: Option<String>,
    pub dry_run: bool,
    pub trusted_root: Option<PathBuf>,
    pub registry: RegistryOptions,
    /// GitHub API and token; required unless `dry_run`.
    pub github: Option<(String, String)>,
    pub gates: GateOptions,
}

/// How the gates reach the source environment, and what a person overrides.
#[derive(Debug, Clone, Default)]
pub struct GateOptions {
    pub overrides: Vec<GateName>,
    /// Why the overridden gates may be skipped; required with `overrides`.
    pub reason: Option<String>,
    /// The source's Prometheus query API, over the manifest's `promotion.prometheusUrl`.
    pub prometheus_url: Option<String>,
    pub cluster: SourceCluster,
}

/// The source environment's cluster: a kubeconfig context, or a client made elsewhere (tests).
#[derive(Clone, Default)]
pub enum SourceCluster {
    /// This context, else the source environment's `kubeconfigContext`, else the current one.
    #[default]
    Kubeconfig,
    Context(String),
    Client(kube::Client),
}

impl std::fmt::Debug for SourceCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Kubeconfig => f.write_str("Kubeconfig"),
            Self::Context(c) => write!(f, "Context({c})"),
            Self::Client(_) => f.write_str("Client"),
        }
    }
}

/// What a promotion did (or, in a dry run, would do).
#[derive(Debug)]
pub struct Outcome {
    pub changes: Vec<Change>,
    pub files: Vec<FileStat>,
    pub diff: String,
    pub verification: String,
    pub branch: String,
    pub title: String,
    pub body: String,
    /// The whole object comparison of the target before and after, in Markdown.
    pub report: String,
    /// What the gates found in the source; `None` where none apply (or a rollback).
    pub gates: Option<gates::Report>,
    pub pull_request: Option<PullRequest>,
}

impl Outcome {
    pub fn is_noop(&self) -> bool {
        self.changes.is_empty()
    }

    /// Nothing to change: no files, no pull request.
    pub(crate) fn noop(branch: String, title: String) -> Self {
        Self {
            changes: Vec::new(),
            files: vec![],
            diff: String::new(),
            verification: "not needed: nothing changes".into(),
            branch,
            title,
            body: String::new(),
            report: String::new(),
            gates: None,
            pull_request: None,
        }
    }
}

/// The manifest, its repository, and its path inside it.
pub(crate) fn locate(manifest_path: &Path) -> Result<(LoadedManifest, PathBuf, String), PromoteError> {
    let loaded = manifest::load(manifest_path).map_err(|e| PromoteError::Manifest(Box::new(e)))?;
    let dir = manifest_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let repo = git::toplevel(dir)?;
    let manifest_in_repo = std::fs::canonicalize(manifest_path)
        .ok()
        .and_then(|p| {
            p.strip_prefix(std::fs::canonicalize(&repo).ok()?)
                .ok()
                .map(Path::to_path_buf)
        })
        .ok_or_else(|| PromoteError::OutsideRepository {
            manifest: manifest_path.to_path_buf(),
            repository: repo.clone(),
        })?;
    let rel = manifest_in_repo.to_string_lossy().replace('\\', "/");
    Ok((loaded, repo, rel))
}

/// Only the gates of promoting `request.from` into `request.to`, as the rendered workflow
/// checks them on a promotion pull request: the report, or the refusal.
pub async fn gates_only(request: &Request) -> Result<Option<gates::Report>, PromoteError> {
    let (loaded, repo, rel) = locate(&request.manifest)?;
    let from = request.from.as_deref().ok_or(PromoteError::NoSource)?;
    check_chain(&loaded.manifest, from, &request.to)?;
    let pins = effective(&loaded.manifest, from).ok_or_else(|| unknown(&loaded, from))?;
    check_gates(request, &loaded, from, &pins, &repo, &rel).await
}

pub async fn promote(request: &Request) -> Result<Outcome, PromoteError> {
    let (loaded, repo, rel) = locate(&request.manifest)?;
    let to = request.to.as_str();
    let (label, source) = source_pins(request, &loaded, &repo, &rel)?;
    let target = effective(&loaded.manifest, to).ok_or_else(|| unknown(&loaded, to))?;
    let changes = changes(&source, &target);
    let branch = format!("promote/{to}");
    let title = summary::title(&label, to);
    if changes.is_empty() {
        return Ok(Outcome::noop(branch, title));
    }
    let gates = match &request.from {
        Some(from) => check_gates(request, &loaded, from, &source, &repo, &rel).await?,
        None => None,
    };
    let edited = edit::apply(&loaded, to, &changes, &source)?;
    let text = edited.source.text.as_str();
    let verification = verify_gate(&edited, &source, request).await?;

    let (tree, diff, files) = render_edited(&loaded, &edited, &repo, &rel)?;
    let comparison = compare_target(&loaded, &edited, to, &tree, &repo)?;
    let report_path = summary::report_path(to);
    let report = crate::diff::report::markdown(&comparison, usize::MAX, &report_path);
    let body = summary::body(&label, to, &changes, &files, &verification, gates.as_ref(), &comparison);
    let mut outcome = Outcome {
        changes,
        files,
        diff,
        verification,
        branch,
        title,
        body,
        report,
        gates,
        pull_request: None,
    };
    if request.dry_run {
        return Ok(outcome);
    }

    commit_and_push(
        &repo,
        &loaded.manifest.gitops.target_revision,
        &rel,
        text,
        &tree,
        &report_path,
        &outcome,
    )?;
    outcome.pull_request = Some(open_pull_request(request.github.as_ref(), &loaded, &outcome).await?);
    Ok(outcome)
}

/// Opens (or updates) the pull request of `outcome`'s pushed branch into the GitOps
/// repository's tracked revision.
pub(crate) async fn open_pull_request(
    github: Option<&(String, String)>,
    loaded: &LoadedManifest,
    outcome: &Outcome,
) -> Result<PullRequest, PromoteError> {
    let (api, token) = github.ok_or(PromoteError::GitHub(Box::new(github::GitHubError::NoToken)))?;
    let (owner, name) =
        github::owner_repo(&loaded.manifest.gitops.repo_url).map_err(|e| PromoteError::GitHub(Box::new(e)))?;
    github::upsert(
        api,
        token,
        &owner,
        &name,
        &outcome.branch,
        &loaded.manifest.gitops.target_revision,
        &outcome.title,
        &outcome.body,
    )
    .await
    .map_err(|e| PromoteError::GitHub(Box::new(e)))
}

/// The tree the target would have (the edited manifest, rendered in full), and how it and the
/// manifest differ from what the repository holds: one unified diff, and per-file counts.
pub(crate) fn render_edited(
    loaded: &LoadedManifest,
    edited: &LoadedManifest,
    repo: &Path,
    rel: &str,
) -> Result<(render::Tree, String, Vec<FileStat>), PromoteError> {
    let tree = render::render(edited, &[]).map_err(|e| PromoteError::Render(Box::new(e)))?;
    let mut diff = unified(&loaded.source.text, &edited.source.text, rel);
    let mut files = vec![summary::stat(rel, &diff)];
    for drift in output::check(&tree, repo).map_err(|e| PromoteError::Output(Box::new(e)))? {
        if let output::Drift::Changed { path, diff: d } | output::Drift::Missing { path, diff: d } = drift {
            files.push(summary::stat(&path, &d));
            diff.push_str(&d);
        }
    }
    Ok((tree, diff, files))
}

/// Commits the edited manifest, its rendered tree and the full comparison on the outcome's
/// branch in a temporary work tree based on `base` (the user's checkout is untouched), and
/// pushes it.
pub(crate) fn commit_and_push(
    repo: &Path,
    base: &str,
    rel: &str,
    manifest: &str,
    tree: &render::Tree,
    report_path: &str,
    outcome: &Outcome,
) -> Result<(), PromoteError> {
    let worktree = git::Worktree::create(repo, &outcome.branch, base)?;
    let manifest_file = worktree.path.join(rel);
    std::fs::write(&manifest_file, manifest).map_err(|source| PromoteError::Write {
        path: manifest_file.clone(),
        source,
    })?;
    output::write(tree, &worktree.path).map_err(|e| PromoteError::Output(Box::new(e)))?;
    // The full comparison, which the body may only summarise, travels with the branch.
    let report_file = worktree.path.join(report_path);
    std::fs::create_dir_all(report_file.parent().unwrap_or(&worktree.path))
        .and_then(|()| std::fs::write(&report_file, &outcome.report))
        .map_err(|source| PromoteError::Write {
            path: report_file.clone(),
            source,
        })?;
    git::git(&worktree.path, &["add", "--all"])?;
    git::git(
        &worktree.path,
        &[
            "commit",
            "--quiet",
            "-m",
            &outcome.title,
            "-m",
            &commit_message(&outcome.changes),
        ],
    )?;
    git::git(
        &worktree.path,
        &["push", "--quiet", "--force-with-lease", "origin", &outcome.branch],
    )?;
    Ok(())
}

/// The target environment as committed against the target after the promotion, object by
/// object, each difference explained (by the pins promoted, or not at all).
pub(crate) fn compare_target(
    loaded: &LoadedManifest,
    edited: &LoadedManifest,
    to: &str,
    tree: &render::Tree,
    repo: &Path,
) -> Result<crate::diff::Comparison, PromoteError> {
    let env = |m: &'_ LoadedManifest| m.manifest.environments.iter().find(|e| e.name == to).cloned();
    let (Some(before), Some(after)) = (env(loaded), env(edited)) else {
        return Err(unknown(loaded, to));
    };
    // A target never rendered before compares with nothing: every object is new.
    let committed = match crate::diff::tree::committed(repo, to) {
        Ok(objects) => objects,
        Err(crate::diff::tree::TreeError::Missing { .. }) => crate::diff::objects::Objects::default(),
        Err(e) => return Err(PromoteError::Tree(Box::new(e))),
    };
    let rendered: Vec<(String, &[u8])> = tree
        .files
        .iter()
        .filter_map(|(path, bytes)| Some((crate::diff::tree::relative(path, to)?, bytes.as_slice())))
        .collect();
    let renderer = render::EnvironmentRenderer::new().map_err(|e| PromoteError::Render(Box::new(e)))?;
    let now = crate::diff::Side {
        label: format!("{to} now"),
        manifest: &loaded.manifest,
        env: &before,
        objects: committed,
    };
    let promoted = crate::diff::Side {
        label: format!("{to} promoted"),
        manifest: &edited.manifest,
        env: &after,
        objects: crate::diff::objects::Objects::from_files(rendered.iter().map(|(p, b)| (p.as_str(), *b))),
    };
    crate::diff::compare(&renderer, &now, &promoted).map_err(|e| PromoteError::Render(Box::new(e)))
}

/// The gates of promoting `from` into the request's target, read from `from`; a refusal is
/// an error unless every refusing gate is overridden.
pub async fn check_gates(
    request: &Request,
    loaded: &LoadedManifest,
    from: &str,
    pins: &Pins,
    repo: &Path,
    rel: &str,
) -> Result<Option<gates::Report>, PromoteError> {
    let manifest = &loaded.manifest;
    let (source, target) = (manifest.environment(from)?, manifest.environment(&request.to)?);
    let gates = Gates::of(manifest, source, target).map_err(|e| PromoteError::Render(Box::new(e.into())))?;
    let Some(gates) = gates else {
        return Ok(None);
    };
    let options = &request.gates;
    let cluster = match &options.cluster {
        SourceCluster::Client(client) => Ok(client.clone()),
        SourceCluster::Kubeconfig | SourceCluster::Context(_) => {
            let context = match &options.cluster {
                SourceCluster::Context(c) => Some(c.as_str()),
                _ => source.cluster.kubeconfig_context.as_deref(),
            };
            crate::cluster::connect(context).await.map_err(|e| e.to_string())
        }
    };
    let prometheus = match options.prometheus_url.as_ref().or(gates.prometheus_url.as_ref()) {
        Some(url) => url::Url::parse(url)
            .map(|u| Prometheus::at(u, gates.tenant.clone()))
            .map_err(|e| format!("{url} is not a URL: {e}")),
        None => cluster.clone().map(Gates::in_cluster),
    };
    let pins_at = |revision: &str| {
        let text = git::show(repo, revision, rel).ok()?;
        let old = manifest::load_str(rel, &text).ok()?;
        effective(&old.manifest, from)
    };
    let overridden = (!options.overrides.is_empty()).then(|| Override {
        gates: options.overrides.clone(),
        reason: options.reason.clone().unwrap_or_default(),
        by: operator(repo),
    });
    let source = gates::Source {
        cluster,
        prometheus,
        pins,
        pins_at: &pins_at,
        now: time::OffsetDateTime::now_utc(),
    };
    let report = gates::evaluate(&gates, &source, overridden).await;
    if report.refusals().next().is_some() {
        return Err(PromoteError::GatesRefused(Box::new(report)));
    }
    Ok(Some(report))
}

/// Who runs the promotion: the GitHub Actions actor, else Git's user, else the login.
fn operator(repo: &Path) -> String {
    if let Some(actor) = std::env::var("GITHUB_ACTOR").ok().filter(|a| !a.is_empty()) {
        return format!("@{actor} (GitHub Actions)");
    }
    let config = |key: &str| git::git(repo, &["config", key]).ok().filter(|v| !v.is_empty());
    match (config("user.name"), config("user.email")) {
        (Some(name), Some(email)) => format!("{name} <{email}>"),
        (Some(name), None) => name,
        _ => std::env::var("USER").unwrap_or_else(|_| "an unknown user".into()),
    }
}

fn source_pins(
    request: &Request,
    loaded: &LoadedManifest,
    repo: &Path,
    rel: &str,
) -> Result<(String, Pins), PromoteError> {
    match (&request.revision, &request.from) {
        (Some(revision), _) => {
            let old = git::show(repo, revision, rel)?;
            let old = manifest::load_str(rel, &old)
                .map_err(|d| PromoteError::EditFailed(format!("{rel} at {revision}: {d}")))?;
            let pins = effective(&old.manifest, &request.to).ok_or_else(|| unknown(&old, &request.to))?;
            Ok((format!("{} at {revision}", request.to), pins))
        }
        (None, Some(from)) => {
            check_chain(&loaded.manifest, from, &request.to)?;
            let pins = effective(&loaded.manifest, from).ok_or_else(|| unknown(loaded, from))?;
            Ok((from.clone(), pins))
        }
        (None, None) => Err(PromoteError::NoSource),
    }
}

/// Every image the target would deploy must carry a signature the manifest trusts.
async fn verify_gate(edited: &LoadedManifest, source: &Pins, request: &Request) -> Result<String, PromoteError> {
    let policy = TrustPolicy::from_manifest(&edited.manifest, request.trusted_root.clone())
        .map_err(|e| PromoteError::Render(Box::new(e.into())))?;
    match verify_image(&source.app_image, &policy, &request.registry).await {
        Ok(v) => Ok(format!(
            "verified `{}` ({}, {} signature(s))",
            v.image, v.digest, v.signatures
        )),
        Err(e) => Err(PromoteError::Verification(Box::new(e))),
    }
}

fn unknown(loaded: &LoadedManifest, env: &str) -> PromoteError {
    loaded.manifest.unknown_environment(env).into()
}

fn unified(old: &str, new: &str, path: &str) -> String {
    TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string()
}

fn commit_message(changes: &[Change]) -> String {
    changes
        .iter()
        .map(|c| format!("{}: {} -> {}", c.field, c.from, c.to))
        .collect::<Vec<_>>()
        .join("\n")
}
