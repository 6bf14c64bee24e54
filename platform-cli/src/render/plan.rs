//! Which template renders which file: the whole map from resolved environment to paths.

use crate::manifest::ResolvedEnvironment;
use crate::manifest::resolve::ResolvedPlatform;
use crate::model::components::Source;

/// One file to render: a template, its output path, and the component it is for (if any).
#[derive(Debug, Clone)]
pub struct Planned {
    pub template: String,
    pub path: String,
    pub component: Option<usize>,
}

impl Planned {
    fn new(template: impl Into<String>, path: impl Into<String>) -> Self {
        Self {
            template: template.into(),
            path: path.into(),
            component: None,
        }
    }

    fn for_component(template: impl Into<String>, path: impl Into<String>, index: usize) -> Self {
        Self {
            component: Some(index),
            ..Self::new(template, path)
        }
    }
}

/// Folders whose files belong to an environment's rendered tree.
pub fn owned_dirs(env: &str) -> Vec<String> {
    vec![
        format!("terraform/envs/{env}"),
        format!("helm/values/{env}"),
        format!("argocd/{env}"),
        format!("policies/{env}"),
        format!("observability/{env}"),
    ]
}

/// Parents of the per-environment folders: a sub-folder for an environment that is no longer
/// in the manifest is stale.
pub const ENV_PARENTS: [&str; 5] = ["terraform/envs", "helm/values", "argocd", "policies", "observability"];

pub fn plan(r: &ResolvedEnvironment) -> Vec<Planned> {
    let env = &r.env.name;
    let mut files = Vec::new();

    // Terraform root: terraform/envs/<env>/
    for name in [
        "versions.tf",
        "providers.tf",
        "main.tf",
        "variables.tf",
        "outputs.tf",
        "terraform.tfvars",
    ] {
        files.push(Planned::new(
            format!("terraform/env/{name}.tera"),
            format!("terraform/envs/{env}/{name}"),
        ));
    }

    // Helm values and Argo CD Applications, one per component.
    for (i, c) in r.components.iter().enumerate() {
        if let Some(values) = &c.values_file {
            files.push(Planned::for_component(
                format!("helm/{}.yaml.tera", c.name),
                values.clone(),
                i,
            ));
        }
        files.push(Planned::for_component(
            "argocd/application.yaml.tera",
            format!("argocd/{env}/apps/{}.yaml", c.name),
            i,
        ));
        if let Source::Manifests {
            templates,
            files: manifests,
            ..
        } = c.component.spec().source
        {
            for manifest in manifests.iter().filter(|f| f.needs.holds(&r.runs)) {
                files.push(Planned::for_component(
                    format!("{templates}/{}.tera", manifest.path),
                    format!("{}/{}", c.path, manifest.path),
                    i,
                ));
            }
        }
    }
    files.push(Planned::new(
        "argocd/project.yaml.tera",
        format!("argocd/{env}/project.yaml"),
    ));
    files.push(Planned::new("argocd/root.yaml.tera", format!("argocd/{env}/root.yaml")));
    files
}

/// Files rendered once for the whole repository (not per environment): the CI workflows, the
/// Terraform root of the state storage, and the one of what the workflows log in to where the
/// registry is a cloud's.
pub fn repository_files(platform: &ResolvedPlatform) -> Vec<Planned> {
    let mut files = vec![
        // The keyless signing identity names this path (`manifest::ci`): one constant for both.
        Planned::new("github/app.yaml.tera", crate::manifest::ci::APP_WORKFLOW),
        Planned::new("github/platform.yaml.tera", ".github/workflows/platform.yaml"),
    ];
    if !platform.state_storages.is_empty() {
        for name in ["versions.tf", "providers.tf", "main.tf"] {
            files.push(Planned::new(
                format!("terraform/state/{name}.tera"),
                format!("terraform/state/{name}"),
            ));
        }
    }
    if platform.ci_infra.is_some() {
        for name in ["versions.tf", "main.tf", "outputs.tf"] {
            files.push(Planned::new(
                format!("terraform/ci/{name}.tera"),
                format!("terraform/ci/{name}"),
            ));
        }
    }
    files
}

/// Folders holding repository-wide rendered files.
pub const REPOSITORY_DIRS: [&str; 3] = [".github/workflows", "terraform/state", "terraform/ci"];
