//! The image registry and how CI logs in to it (`registry`).

use super::Checker;
use super::text::is_domain;
use super::text::is_email;
use crate::manifest::ci;
use crate::model::Manifest;

pub(super) fn check_registry(c: &mut Checker<'_>, m: &Manifest) {
    let host = m.registry.host.split(':').next().unwrap_or_default();
    if !is_domain(host) && host != "localhost" {
        c.invalid(
            "/registry/host",
            format!("\"{}\" is not a registry host", m.registry.host),
            "a host name with an optional port, e.g. ghcr.io or registry.example.com:5000",
            "leave out the scheme (https://) and any path",
        );
    }
    let ns = &m.registry.namespace;
    let valid_ns = !ns.is_empty()
        && ns.split('/').all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b))
        });
    if !valid_ns {
        c.invalid(
            "/registry/namespace",
            format!("\"{ns}\" is not a repository namespace"),
            "lowercase path segments separated by '/', e.g. acme or acme/platform",
            "OCI repository names are lowercase",
        );
    }
    if m.registry.private && ci::RegistryKind::of(&m.registry.host).provider().is_some() {
        c.invalid(
            "/registry/private",
            format!("{} is a cloud registry: a pull secret does not apply", m.registry.host),
            "`private` only for ghcr.io and registries of your own",
            "remove it; a cloud registry is read with the cluster's cloud identity (grant the nodes read access to it)",
        );
    }
    check_registry_login(c, m);
}

/// The login fields must fit the registry the workflow pushes to, and name real identities.
pub(super) fn check_registry_login(c: &mut Checker<'_>, m: &Manifest) {
    let kind = ci::RegistryKind::of(&m.registry.host);
    let fields = kind.login_fields();
    for (key, value) in m.registry.login.entries() {
        let pointer = format!("/registry/login/{key}");
        let Some(value) = value else {
            if fields.contains(&(key, true)) {
                c.missing(
                    "/registry/login",
                    key,
                    format!("the {} the app workflow logs in with", login_what(key)),
                    format!("{} logins use OIDC federation: {}", kind.describe(), login_hint(key)),
                );
            }
            continue;
        };
        if !fields.iter().any(|(k, _)| *k == key) {
            let applies: Vec<&str> = fields.iter().map(|(k, _)| *k).collect();
            c.invalid(
                &pointer,
                format!("`{key}` does not apply to {} ({})", kind.describe(), m.registry.host),
                if applies.is_empty() {
                    "no `login` fields: the workflow pushes with its own GITHUB_TOKEN".to_string()
                } else {
                    format!("only {}", applies.join(", "))
                },
                "remove it, or check `registry.host`",
            );
            continue;
        }
        check_login_value(c, &kind, &pointer, key, value);
    }
    if kind.federated() && crate::model::github_repository(&m.gitops.repo_url).is_none() {
        c.invalid(
            "/registry/host",
            format!(
                "the app workflow cannot log in to {} ({})",
                kind.describe(),
                m.registry.host
            ),
            "a GitOps repository on github.com, whose workflow federates by GitHub OIDC",
            "host the GitOps repository on GitHub, or push to a registry that takes a user and password",
        );
    }
    if kind == ci::RegistryKind::ArtifactRegistry && !m.registry.namespace.contains('/') {
        c.invalid(
            "/registry/namespace",
            format!("\"{}\" names no Artifact Registry repository", m.registry.namespace),
            "PROJECT/REPOSITORY, e.g. globex-prod/apps",
            "Artifact Registry images live at LOCATION-docker.pkg.dev/PROJECT/REPOSITORY/IMAGE",
        );
    }
    if kind == ci::RegistryKind::Ghcr
        && let Some(repo) = crate::model::github_repository(&m.gitops.repo_url)
    {
        let owner = repo.split('/').next().unwrap_or_default();
        let namespace_owner = m.registry.namespace.split('/').next().unwrap_or_default();
        if !owner.eq_ignore_ascii_case(namespace_owner) {
            c.invalid(
                "/registry/namespace",
                format!("the workflow of {repo} cannot push to ghcr.io/{}", m.registry.namespace),
                format!(
                    "a namespace under `{}`, the owner of `gitops.repoURL`",
                    owner.to_ascii_lowercase()
                ),
                "a workflow's GITHUB_TOKEN writes only packages of its own repository's owner",
            );
        }
    }
}

/// One login field's value: an identity of the registry's cloud, or a secret's name.
fn check_login_value(c: &mut Checker<'_>, kind: &ci::RegistryKind, pointer: &str, key: &str, value: &str) {
    match key {
        "awsRoleArn" => {
            let account = match kind {
                ci::RegistryKind::Ecr { account, .. } => account.as_str(),
                _ => "",
            };
            let role = value.strip_prefix(&format!("arn:aws:iam::{account}:role/"));
            if !role.is_some_and(|r| !r.is_empty() && r.len() <= 64) {
                c.invalid(
                    pointer,
                    format!("\"{value}\" is not an IAM role of account {account}"),
                    format!("arn:aws:iam::{account}:role/NAME (the registry's account)"),
                    login_hint(key),
                );
            }
        }
        "azureClientId" | "azureTenantId" | "azureSubscriptionId" => {
            if !is_guid(value) {
                c.invalid(
                    pointer,
                    format!("\"{value}\" is not an Azure id"),
                    "a GUID such as 00000000-0000-0000-0000-000000000000",
                    login_hint(key),
                );
            }
        }
        "gcpWorkloadIdentityProvider" => {
            let parts: Vec<&str> = value.split('/').collect();
            let ok = matches!(
                parts[..],
                ["projects", number, "locations", "global", "workloadIdentityPools", pool, "providers", provider]
                    if !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit())
                        && !pool.is_empty() && !provider.is_empty()
            );
            if !ok {
                c.invalid(
                    pointer,
                    format!("\"{value}\" is not a workload identity provider"),
                    "projects/NUMBER/locations/global/workloadIdentityPools/POOL/providers/PROVIDER",
                    login_hint(key),
                );
            }
        }
        "gcpServiceAccount" => {
            if !(is_email(value) && value.ends_with(".iam.gserviceaccount.com")) {
                c.invalid(
                    pointer,
                    format!("\"{value}\" is not a service account"),
                    "NAME@PROJECT.iam.gserviceaccount.com",
                    login_hint(key),
                );
            }
        }
        _ => c.secret_name(pointer, value),
    }
}

pub(super) fn login_what(key: &str) -> &'static str {
    match key {
        "awsRoleArn" => "IAM role",
        "azureClientId" => "Entra ID client id",
        "azureTenantId" => "Entra ID tenant id",
        "azureSubscriptionId" => "subscription id",
        "gcpWorkloadIdentityProvider" => "workload identity provider",
        "gcpServiceAccount" => "service account",
        _ => "secret",
    }
}

pub(super) fn login_hint(key: &str) -> &'static str {
    match key {
        "awsRoleArn" => {
            "a role trusting token.actions.githubusercontent.com for this repository, allowed to push to ECR (docs/ci.md)"
        }
        "azureClientId" | "azureTenantId" | "azureSubscriptionId" => {
            "an Entra ID app with a federated credential for this repository and AcrPush on the registry (docs/ci.md)"
        }
        _ => {
            "a workload identity pool trusting this repository and a service account with Artifact Registry Writer (docs/ci.md)"
        }
    }
}

/// The 8-4-4-4-12 hex form Azure ids take.
pub(super) fn is_guid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()))
}
