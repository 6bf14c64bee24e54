//! `platform update`: bump a component's chart pin in one environment (the first of the
//! promotion chain unless one is named), proven before anything is written: the new release is
//! fetched from where it is published, the environment's rendered values are checked against
//! it ([`check`]), the tree is rendered and the change explained as `platform diff` explains
//! one. A bump the new chart would ignore or refuse is refused, naming each key. Otherwise one
//! pull request per bump, through the same branch-and-PR flow as `platform promote`; later
//! environments get the pin by promotion.
//!
//! - [`chart`]: a release's archive, fetched and read in memory.
//! - [`check`]: the rendered values against it.

pub mod chart;
pub mod check;

use std::path::PathBuf;

use crate::manifest::LoadedManifest;
use crate::model::components::{Component, Source};
use crate::outdated::inventory::Subject;
use crate::outdated::releases::{FetchError, Fetcher, Release};
use crate::promote::flow::{Outcome, commit_and_push, compare_target, locate, open_pull_request, render_edited};
use crate::promote::pins::{Change, effective};
use crate::promote::{PromoteError, edit};

/// One bump: a component, to the newest release in its supported range or to `version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bump {
    pub component: Component,
    pub version: Option<String>,
}

impl std::str::FromStr for Bump {
    type Err = String;
    /// `argoCd` or `argoCd@10.4.0`, by the component's key under `components:`.
    fn from_str(s: &str) -> Result<Self, String> {
        let (key, version) = match s.split_once('@') {
            Some((key, version)) => (key, Some(version.to_string())),
            None => (s, None),
        };
        let component = Component::pinnable().find(|c| c.key() == key).ok_or_else(|| {
            let keys: Vec<&str> = Component::pinnable().map(Component::key).collect();
            format!("{key:?} is not a component with a chart; one of: {}", keys.join(", "))
        })?;
        Ok(Self { component, version })
    }
}

/// What to bump, where, and how far to go.
#[derive(Debug)]
pub struct Request {
    pub manifest: PathBuf,
    /// The environment; default: the first of the promotion chain.
    pub env: Option<String>,
    /// Each component to bump; none: every component the environment runs that has a newer
    /// release in its range.
    pub bumps: Vec<Bump>,
    pub dry_run: bool,
    /// GitHub API and token; required unless `dry_run`.
    pub github: Option<(String, String)>,
    pub fetcher: Fetcher,
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum UpdateError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Promote(#[from] Box<PromoteError>),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Chart(#[from] Box<chart::ChartError>),
    #[error("{component} does not run in {env}")]
    #[diagnostic(help("name a component the environment runs (`platform outdated --env {env}` lists them)"))]
    NotRun { component: &'static str, env: String },
    #[error("{chart} {version} is outside the range the platform's values are written for ({range})")]
    #[diagnostic(help(
        "pick a release in {range}; a release past it needs the values template (templates/helm) and the range (model/components.rs) moved first"
    ))]
    OutsideRange {
        chart: &'static str,
        version: String,
        range: String,
    },
    #[error("{chart} has no release {version} at {source_url}")]
    #[diagnostic(help("`platform outdated` lists the newest releases"))]
    NoRelease {
        chart: &'static str,
        version: String,
        source_url: String,
    },
    #[error("refusing {chart} {version} for {env}: the new chart would ignore or refuse {} of its values:\n{}", problems.len(), problems.iter().map(|p| format!("  {}: {}", p.key, p.why)).collect::<Vec<_>>().join("\n"))]
    #[diagnostic(help(
        "move the values template (templates/helm/{chart}.yaml.tera) to what {version} reads, then update again"
    ))]
    Refused {
        chart: &'static str,
        version: String,
        env: String,
        problems: Vec<check::Problem>,
    },
    #[error("{env}: the rendered values of {chart} ({path}) are not YAML: {reason}")]
    Values {
        chart: &'static str,
        env: String,
        path: String,
        reason: String,
    },
}

impl From<PromoteError> for UpdateError {
    fn from(e: PromoteError) -> Self {
        Self::Promote(Box::new(e))
    }
}

impl From<chart::ChartError> for UpdateError {
    fn from(e: chart::ChartError) -> Self {
        Self::Chart(Box::new(e))
    }
}

impl From<FetchError> for UpdateError {
    fn from(e: FetchError) -> Self {
        Self::Chart(Box::new(e.into()))
    }
}

/// One bump, proven: what it changes, and the pull request it opened (none in a dry run, or
/// when the pin is already there).
#[derive(Debug)]
pub struct Updated {
    pub component: Component,
    pub outcome: Outcome,
}

/// Runs every bump of `request`, one pull request each; stops at the first that is refused.
pub async fn update(request: &Request) -> Result<Vec<Updated>, UpdateError> {
    let (loaded, repo, rel) = locate(&request.manifest)?;
    let env = match &request.env {
        Some(env) => loaded
            .manifest
            .environment(env)
            .map_err(PromoteError::from)?
            .name
            .clone(),
        None => first_of_chain(&loaded),
    };
    let runs = loaded.manifest.environment(&env).map_err(PromoteError::from)?.runs();
    let bumps: Vec<Bump> = if request.bumps.is_empty() {
        Component::pinnable()
            .filter(|c| c.needed(&runs))
            .map(|component| Bump {
                component,
                version: None,
            })
            .collect()
    } else {
        request.bumps.clone()
    };
    let mut done = Vec::new();
    for bump in bumps {
        if !bump.component.needed(&runs) {
            return Err(UpdateError::NotRun {
                component: bump.component.spec().name,
                env,
            });
        }
        let named = bump.version.is_some();
        let outcome = one(request, &loaded, &repo, &rel, &env, &bump).await?;
        // Asked for all, a component already at its newest is no pull request.
        if named || !outcome.is_noop() {
            done.push(Updated {
                component: bump.component,
                outcome,
            });
        }
    }
    Ok(done)
}

/// The first environment of the promotion chain: the first that is promoted from none.
fn first_of_chain(loaded: &LoadedManifest) -> String {
    let envs = &loaded.manifest.environments;
    envs.iter()
        .find(|e| e.promoted_from.is_none())
        .or(envs.first())
        .map(|e| e.name.clone())
        .unwrap_or_default()
}

/// One bump of `env`, from release lookup to pull request.
async fn one(
    request: &Request,
    loaded: &LoadedManifest,
    repo: &std::path::Path,
    rel: &str,
    env: &str,
    bump: &Bump,
) -> Result<Outcome, UpdateError> {
    let component = bump.component;
    let spec = component.spec();
    let Source::Chart { repository, chart, .. } = spec.source else {
        return Err(UpdateError::NotRun {
            component: spec.name,
            env: env.to_string(),
        });
    };
    let range = component.supported();
    let current =
        effective(&loaded.manifest, env).ok_or_else(|| PromoteError::from(loaded.manifest.unknown_environment(env)))?;
    let pinned = current.components.get(&component).cloned().unwrap_or_default();
    let version = release(request, component, repository, chart, bump, range.as_ref()).await?;
    let mut bumped = current.clone();
    bumped.components.insert(component, version.clone());
    let changes = crate::promote::pins::changes(&bumped, &current);
    let branch = format!("update/{env}/{}", component.key());
    let title = format!("Update {chart} {pinned} → {version} in {env}");
    if changes.is_empty() {
        return Ok(Outcome::noop(branch, title));
    }

    let release = chart::fetch(&request.fetcher, repository, chart, &version).await?;
    let edited = edit::apply(loaded, env, &changes, &bumped)?;
    let values_path = format!("helm/values/{env}/{}.yaml", spec.name);
    // Rendered once: the values checked here are the ones the pull request would carry.
    let (tree, diff, files) = render_edited(loaded, &edited, repo, rel)?;
    let values = tree
        .files
        .get(&values_path)
        .map(|bytes| yaml_serde::from_slice::<serde_json::Value>(bytes))
        .transpose()
        .map_err(|e| UpdateError::Values {
            chart,
            env: env.to_string(),
            path: values_path.clone(),
            reason: e.to_string(),
        })?
        .unwrap_or_else(|| serde_json::json!({}));
    let problems = check::check(&release, &values);
    if !problems.is_empty() {
        return Err(UpdateError::Refused {
            chart,
            version,
            env: env.to_string(),
            problems,
        });
    }

    let comparison = compare_target(loaded, &edited, env, &tree, repo)?;
    let report_path = format!("updates/{env}/{}.md", component.key());
    let report = crate::diff::report::markdown(&comparison, usize::MAX, &report_path);
    let checks = format!(
        "`{values_path}` checked against {chart} {version}: every key is one the chart declares or a template reads, \
         no kind differs from the chart's default, {}, and no image comes from docker.io/bitnami",
        if release.schema.is_some() {
            "the merged values pass its values.schema.json"
        } else {
            "(the chart has no values.schema.json)"
        }
    );
    let body = body(
        chart,
        &pinned,
        &version,
        env,
        &changes,
        &release,
        &checks,
        &comparison,
        &report_path,
    );
    let mut outcome = Outcome {
        changes,
        files,
        diff,
        verification: checks,
        branch,
        title,
        body,
        report,
        gates: None,
        pull_request: None,
    };
    if request.dry_run {
        return Ok(outcome);
    }
    commit_and_push(
        repo,
        &loaded.manifest.gitops.target_revision,
        rel,
        &edited.source.text,
        &tree,
        &report_path,
        &outcome,
    )?;
    outcome.pull_request = Some(open_pull_request(request.github.as_ref(), loaded, &outcome).await?);
    Ok(outcome)
}

/// The release to bump to: the one named (it must be published and in the range), else the
/// newest published in the range.
async fn release(
    request: &Request,
    component: Component,
    repository: &str,
    chart: &'static str,
    bump: &Bump,
    range: Option<&semver::VersionReq>,
) -> Result<String, UpdateError> {
    let subject = Subject::Chart {
        component,
        repository: repository.to_string(),
        chart: chart.to_string(),
    };
    let key = request.fetcher.key(&subject).ok_or_else(|| UpdateError::NoRelease {
        chart,
        version: bump.version.clone().unwrap_or_default(),
        source_url: repository.to_string(),
    })?;
    let releases: Vec<Release> = request.fetcher.fetch(&key).await?.releases_of(&key, &subject)?;
    let in_range = |r: &Release| range.is_none_or(|range| range.matches(&r.version));
    match &bump.version {
        Some(named) => {
            let found = releases
                .iter()
                .find(|r| r.tag == *named || r.tag.trim_start_matches('v') == named.trim_start_matches('v'))
                .ok_or_else(|| UpdateError::NoRelease {
                    chart,
                    version: named.clone(),
                    source_url: repository.to_string(),
                })?;
            if !in_range(found) {
                return Err(UpdateError::OutsideRange {
                    chart,
                    version: named.clone(),
                    range: range.map(ToString::to_string).unwrap_or_default(),
                });
            }
            Ok(found.tag.clone())
        }
        None => releases
            .iter()
            .filter(|r| r.version.pre.is_empty())
            .find(|r| in_range(r))
            .map(|r| r.tag.clone())
            .ok_or_else(|| UpdateError::NoRelease {
                chart,
                version: range.map(|r| format!("in {r}")).unwrap_or_default(),
                source_url: repository.to_string(),
            }),
    }
}

/// The pull request's body: the pin, the release's own changelog, the checks that passed and
/// the rendered change explained, within GitHub's limit.
#[allow(clippy::too_many_arguments)]
fn body(
    chart: &str,
    pinned: &str,
    version: &str,
    env: &str,
    changes: &[Change],
    release: &chart::Chart,
    checks: &str,
    comparison: &crate::diff::Comparison,
    report_path: &str,
) -> String {
    let mut head = format!(
        "Updates **{chart}** from `{pinned}` to `{version}` in **{env}**.\n\n| pin | {env} now | update |\n| --- | --- | --- |\n"
    );
    for c in changes {
        head.push_str(&format!("| `{}` | `{}` | `{}` |\n", c.field, c.from, c.to));
    }
    head.push_str(&format!("\n### What {chart} {version} changes\n\n"));
    match &release.changes {
        Some(changes) => head.push_str(&changelog(changes)),
        None => head.push_str("The chart publishes no changelog (`artifacthub.io/changes`); read its release notes.\n"),
    }
    head.push_str(&format!(
        "\n### Checks\n\n{checks}.\n\nLater environments get the pin through `platform promote`. Generated by `platform update`.\n\n### What changes in {env}\n\n"
    ));
    let room = crate::promote::summary::BODY_LIMIT.saturating_sub(head.chars().count());
    head + &crate::diff::report::markdown(comparison, room, &format!("`{report_path}` on this branch"))
}

/// `artifacthub.io/changes` as a list: a YAML list of `{kind, description}` or of strings.
fn changelog(annotation: &str) -> String {
    let items: Vec<String> = match yaml_serde::from_str::<serde_json::Value>(annotation) {
        Ok(serde_json::Value::Array(items)) => items
            .iter()
            .map(
                |item| match (item["kind"].as_str(), item["description"].as_str(), item.as_str()) {
                    (Some(kind), Some(description), _) => format!("- {kind}: {description}"),
                    (_, Some(description), _) => format!("- {description}"),
                    (_, _, Some(text)) => format!("- {text}"),
                    _ => format!("- {item}"),
                },
            )
            .collect(),
        _ => annotation
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| format!("- {}", l.trim().trim_start_matches("- ")))
            .collect(),
    };
    items.join("\n") + "\n"
}
