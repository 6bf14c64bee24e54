//! Every pin the platform carries, gathered from where it is written: the component charts and
//! the app chart (the manifest's effective pins per environment), each environment's Kubernetes
//! version, the Terraform providers (`model::terraform`), the registry modules the hand-written
//! `terraform/modules/` call, and the GitHub Actions of the rendered workflows.

use std::collections::BTreeMap;

use regex::Regex;
use semver::VersionReq;

use crate::manifest::pins;
use crate::model::components::{Component, Source};
use crate::model::{Manifest, Provider, SecretStore, terraform};
use crate::render::embedded;

/// What a pin names, and where its releases are published.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Subject {
    /// A component's chart in a Helm repository (`https://…`) or an OCI registry (`host/path`).
    Chart {
        component: Component,
        repository: String,
        chart: String,
    },
    /// The app's chart, which this repository holds (`helm/charts/app`).
    AppChart,
    /// A cluster's Kubernetes minor, judged by its provider's calendar.
    Kubernetes { provider: Provider },
    /// A Terraform provider (`hashicorp/aws`).
    TerraformProvider { source: String },
    /// A Terraform registry module (`terraform-aws-modules/eks/aws`).
    TerraformModule { source: String },
    /// A GitHub Action (`actions/checkout`), pinned by commit with its tag beside it.
    Action { repository: String },
}

impl Subject {
    /// How the report names it.
    pub fn name(&self) -> String {
        match self {
            Self::Chart { chart, .. } => format!("chart {chart}"),
            Self::AppChart => "chart app".into(),
            Self::Kubernetes { provider } => format!("kubernetes ({})", provider.key()),
            Self::TerraformProvider { source } => format!("provider {source}"),
            Self::TerraformModule { source } => format!("module {source}"),
            Self::Action { repository } => format!("action {repository}"),
        }
    }
}

/// One pinned version of a subject, with who uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pinned {
    pub subject: Subject,
    /// As written: `10.1.1`, `1.35`, `~> 6.28`, `v4.2.2`.
    pub version: String,
    /// The releases the platform is written for, where it says (a chart's supported range, a
    /// Terraform constraint, an action's major).
    pub range: Option<VersionReq>,
    /// The environments, or the files, that use this pin.
    pub used_by: Vec<String>,
}

/// Every pin of the environments named in `envs` (all when empty), in report order.
pub fn gather(manifest: &Manifest, envs: &[String]) -> Vec<Pinned> {
    let environments: Vec<_> = manifest
        .environments
        .iter()
        .filter(|e| envs.is_empty() || envs.contains(&e.name))
        .collect();
    let mut by_pin: BTreeMap<(Subject, String), Pinned> = BTreeMap::new();
    let mut add = |subject: Subject, version: &str, range: Option<VersionReq>, user: &str| {
        let entry = by_pin
            .entry((subject.clone(), version.to_string()))
            .or_insert_with(|| Pinned {
                subject,
                version: version.to_string(),
                range,
                used_by: Vec::new(),
            });
        if !entry.used_by.iter().any(|u| u == user) {
            entry.used_by.push(user.to_string());
        }
    };
    let mut providers = Vec::new();
    let mut vault = false;
    for env in &environments {
        vault |= env.secrets.store == SecretStore::Vault;
        let runs = env.runs();
        let pins = pins::of(manifest, env);
        for (component, version) in &pins.components {
            if !component.needed(&runs) {
                continue;
            }
            if let Source::Chart { repository, chart, .. } = component.spec().source {
                let subject = Subject::Chart {
                    component: *component,
                    repository: repository.to_string(),
                    chart: chart.to_string(),
                };
                add(subject, version, component.supported(), &env.name);
            }
        }
        add(Subject::AppChart, &pins.app_chart_version, None, &env.name);
        let provider = env.cluster.provider;
        add(
            Subject::Kubernetes { provider },
            &env.cluster.kubernetes_version,
            None,
            &env.name,
        );
        providers.push(provider);
    }
    for pin in terraform::PROVIDERS {
        let used = match pin.name {
            "aws" => providers.contains(&Provider::Eks),
            "azurerm" | "azuread" => providers.contains(&Provider::Aks),
            "google" => providers.contains(&Provider::Gke),
            "vault" => vault,
            _ => !providers.is_empty(),
        };
        if used {
            let subject = Subject::TerraformProvider {
                source: pin.source.to_string(),
            };
            add(subject, pin.version, pessimistic(pin.version), "terraform roots");
        }
    }
    for (file, source, version) in registry_modules() {
        let folder = file.split('/').nth(2).unwrap_or_default();
        let for_provider = [Provider::Eks, Provider::Aks, Provider::Gke]
            .into_iter()
            .find(|p| folder.ends_with(&format!("-{}", p.key())));
        if for_provider.is_none_or(|p| providers.contains(&p)) {
            add(
                Subject::TerraformModule { source },
                &version,
                pessimistic(&version),
                &file,
            );
        }
    }
    if !environments.is_empty() {
        for (file, repository, version) in actions() {
            // The same major (of a 0.x action, the same minor): what the workflow's inputs were written for.
            let range = VersionReq::parse(&format!("^{}", version.trim_start_matches('v'))).ok();
            add(Subject::Action { repository }, &version, range, &file);
        }
    }
    by_pin.into_values().collect()
}

/// A Terraform version constraint as a semver requirement: `~> 6.28` is `>=6.28.0, <7.0.0`,
/// `~> 0.8.1` is `>=0.8.1, <0.9.0` (the rightmost part may grow).
pub fn pessimistic(constraint: &str) -> Option<VersionReq> {
    let version = constraint.trim().strip_prefix("~>")?.trim();
    let parts: Vec<u64> = version.split('.').map(str::parse).collect::<Result<_, _>>().ok()?;
    let (lower, upper) = match parts.as_slice() {
        [major, minor] => (format!("{major}.{minor}.0"), format!("{}.0.0", major + 1)),
        [major, minor, patch] => (format!("{major}.{minor}.{patch}"), format!("{major}.{}.0", minor + 1)),
        _ => return None,
    };
    VersionReq::parse(&format!(">={lower}, <{upper}")).ok()
}

/// The registry modules the embedded `terraform/modules/` call: (file, `ns/name/provider`,
/// version constraint). Local sources (`./`, `../`) have no releases.
fn registry_modules() -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for (path, bytes) in embedded::hand_written_files() {
        if !path.starts_with("terraform/modules/") || !path.ends_with(".tf") {
            continue;
        }
        let Ok(body) = std::str::from_utf8(bytes)
            .map_err(|_| ())
            .and_then(|t| hcl::parse(t).map_err(|_| ()))
        else {
            continue;
        };
        for block in body.blocks().filter(|b| b.identifier() == "module") {
            let attribute = |name: &str| {
                block
                    .body()
                    .attributes()
                    .find(|a| a.key() == name)
                    .and_then(|a| match a.expr() {
                        hcl::Expression::String(s) => Some(s.clone()),
                        _ => None,
                    })
            };
            let (Some(source), Some(version)) = (attribute("source"), attribute("version")) else {
                continue;
            };
            if source.starts_with('.') {
                continue;
            }
            let address = source.split("//").next().unwrap_or(&source).to_string();
            out.push((path.clone(), address, version));
        }
    }
    out
}

/// The actions the rendered workflows use: (workflow, `owner/repo`, the tag in the comment
/// beside the commit they are pinned to).
fn actions() -> Vec<(String, String, String)> {
    let uses = Regex::new(r"uses:\s*([\w.-]+/[\w.-]+)[^@\s]*@[0-9a-f]{40}\s*#\s*(\S+)").expect("a valid pattern");
    let mut out = Vec::new();
    let Some(github) = embedded::TEMPLATES.get_dir("github") else {
        return out;
    };
    for file in github.files() {
        // The workflow the template renders; a partial's steps go into several.
        let template = file.path().file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let path = match template {
            "app.yaml.tera" => crate::manifest::ci::APP_WORKFLOW.to_string(),
            t if t.starts_with('_') => "the rendered workflows".to_string(),
            t => format!(".github/workflows/{}", t.trim_end_matches(".tera")),
        };
        for caps in uses.captures_iter(file.contents_utf8().unwrap_or_default()) {
            out.push((path.clone(), caps[1].to_string(), caps[2].to_string()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terraform_constraints_read_as_semver_ranges() {
        let range = |c: &str| pessimistic(c).map(|r| r.to_string());
        assert_eq!(range("~> 6.28").as_deref(), Some(">=6.28.0, <7.0.0"));
        assert_eq!(range("~> 0.8.1").as_deref(), Some(">=0.8.1, <0.9.0"));
        assert_eq!(range(">= 1.0"), None);
    }

    #[test]
    fn the_embedded_modules_and_workflows_yield_their_pins() {
        let modules = registry_modules();
        assert!(
            modules
                .iter()
                .any(|(f, s, v)| f == "terraform/modules/cluster-eks/main.tf"
                    && s == "terraform-aws-modules/eks/aws"
                    && v == "~> 21.19"),
            "{modules:?}"
        );
        let actions = actions();
        assert!(
            actions.iter().any(|(_, r, v)| r == "actions/checkout" && v == "v4.2.2"),
            "{actions:?}"
        );
    }
}
