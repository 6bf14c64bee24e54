//! Meaning checks: everything a well-shaped manifest can still get wrong.
//!
//! Each rule names the field by JSON pointer; the pointer finds the position in the source.
//! Rules never stop at the first problem: the user fixes everything in one round.

use std::collections::HashMap;
use std::str::FromStr;

use ipnet::Ipv4Net;
use oci_spec::distribution::Reference;
use platform_contracts::metrics::LATENCY_BUCKETS_MS;

use super::ci;
use super::cloud_limits;
use super::diagnostic::{Code, Diagnostic};
use super::model::{
    Challenge, ComponentPins, DatabaseMode, DnsRecords, Manifest, ObservabilityMode, PolicyMode, Promotion, Provider,
    SecretStore, limits,
};
use super::source::{Source, SpanIndex};
use super::suggest::closest;

/// Names an environment may not have: `observability/<env>/` would be a hand-written folder
/// (`render::embedded` keeps this list equal to the hand-written trees there).
pub const RESERVED_ENVIRONMENT_NAMES: [&str; 2] = ["dashboards", "tests"];

const DNS_LABEL: &str = "a DNS label: lowercase letters, digits and '-', starting with a letter, at most 63 characters";

struct Checker<'a> {
    source: &'a Source,
    spans: &'a SpanIndex,
    out: Vec<Diagnostic>,
}

impl Checker<'_> {
    fn invalid(
        &mut self,
        pointer: &str,
        message: impl Into<String>,
        expected: impl Into<String>,
        hint: impl Into<String>,
    ) {
        let position = self.spans.nearest(pointer).label();
        self.out
            .push(Diagnostic::at(Code::InvalidValue, self.source, position, pointer).build(message, expected, hint));
    }

    fn missing(&mut self, pointer: &str, field: &str, expected: impl Into<String>, hint: impl Into<String>) {
        let position = self.spans.nearest(pointer).label();
        let child = format!("{pointer}/{field}");
        self.out
            .push(Diagnostic::at(Code::MissingField, self.source, position, &child).build(
                format!("missing field `{field}`"),
                expected,
                hint,
            ));
    }

    fn dns_label(&mut self, pointer: &str, value: &str) {
        if !is_dns_label(value) {
            let fixed = to_dns_label(value);
            let hint = if fixed.is_empty() || fixed == value {
                "use lowercase letters, digits and '-'".to_string()
            } else {
                format!("use \"{fixed}\"")
            };
            self.invalid(pointer, format!("\"{value}\" is not a DNS label"), DNS_LABEL, hint);
        }
    }

    fn chart_version(&mut self, pointer: &str, value: &str) {
        if semver::Version::parse(value.strip_prefix('v').unwrap_or(value)).is_err() {
            self.invalid(
                pointer,
                format!("\"{value}\" is not a semantic version"),
                "a chart version such as 1.2.3 (a leading 'v' is allowed)",
                "pin an exact chart version: ranges and 'latest' make renders non-reproducible",
            );
        }
    }

    fn image(&mut self, pointer: &str, value: &str, require_digest: bool) {
        match Reference::from_str(value) {
            Err(e) => self.invalid(
                pointer,
                format!("\"{value}\" is not an image reference ({e})"),
                "an OCI image reference such as ghcr.io/acme/app@sha256:<64 hex digits>",
                "check for spaces, upper-case letters in the repository, or a stray ':'",
            ),
            Ok(reference) => {
                let pinned = reference.digest().is_some_and(is_sha256_digest);
                if require_digest && !pinned {
                    self.invalid(
                        pointer,
                        format!("\"{value}\" is not pinned by digest"),
                        "an image pinned by digest: <repository>@sha256:<64 hex digits>",
                        "resolve the tag with `skopeo inspect docker://<image>` (or `crane digest`) and use the digest; \
                         set `app.requireDigest: false` only for local experiments",
                    );
                } else if reference.tag() == Some("latest") {
                    self.invalid(
                        pointer,
                        format!("\"{value}\" uses the `latest` tag"),
                        "an immutable tag or a digest",
                        "pin a release tag or, better, a digest",
                    );
                }
            }
        }
    }

    /// The app image must be one the rendered workflow pushes and signs: anything else is an
    /// image nothing here builds, and Kyverno's policy would guard another repository.
    fn pushed_image(&mut self, pointer: &str, value: &str, m: &Manifest) {
        let pushed = format!("{}/{}/app", m.registry.host, m.registry.namespace);
        let Ok(reference) = Reference::from_str(value) else {
            return; // reported by `image`
        };
        let repository = format!("{}/{}", reference.registry(), reference.repository());
        if repository != pushed {
            self.invalid(
                pointer,
                format!("\"{repository}\" is not the repository the app workflow pushes to"),
                format!("an image of {pushed} (`registry.host`/`registry.namespace`/app)"),
                "pin a digest the app workflow built and signed, or fix `registry`",
            );
        }
    }

    fn https_url(&mut self, pointer: &str, value: &str, what: &str) {
        match url::Url::parse(value) {
            Ok(u) if u.scheme() == "https" && u.host_str().is_some() => {}
            Ok(u) => self.invalid(
                pointer,
                format!("\"{value}\" uses `{}`, not https", u.scheme()),
                format!("an https:// URL of {what}"),
                "use https: credentials and metrics must not travel in clear text",
            ),
            Err(e) => self.invalid(
                pointer,
                format!("\"{value}\" is not a URL ({e})"),
                format!("an https:// URL of {what}"),
                "write the full URL including the scheme, e.g. https://example.com/path",
            ),
        }
    }

    /// A GitHub Actions secret name, as GitHub accepts it.
    fn secret_name(&mut self, pointer: &str, value: &str) {
        let valid = value
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
            && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && !value.to_ascii_uppercase().starts_with("GITHUB_");
        if !valid {
            // The value is not echoed: if it is not a name, it may be the secret itself.
            self.invalid(
                pointer,
                "not a GitHub Actions secret name",
                "letters, digits and '_', not starting with a digit or GITHUB_",
                "name the secret, never paste its value into the manifest",
            );
        }
    }

    fn range(&mut self, pointer: &str, value: u32, min: u32, max: u32, hint: &str) {
        if !(min..=max).contains(&value) {
            self.invalid(
                pointer,
                format!("{value} is out of range"),
                format!("a number from {min} to {max}"),
                hint,
            );
        }
    }
}

/// Every meaning error in a well-shaped manifest.
pub fn check(manifest: &Manifest, source: &Source, spans: &SpanIndex) -> Vec<Diagnostic> {
    let mut c = Checker {
        source,
        spans,
        out: Vec::new(),
    };
    c.dns_label("/metadata/name", &manifest.metadata.name);
    check_gitops(&mut c, manifest);
    check_registry(&mut c, manifest);
    check_signing(&mut c, manifest);
    c.image("/app/image", &manifest.app.image, manifest.app.require_digest);
    c.pushed_image("/app/image", &manifest.app.image, manifest);
    c.chart_version("/app/chartVersion", &manifest.app.chart_version);
    check_slo(&mut c, &manifest.app.slo);
    check_component_pins(&mut c, "/components", &manifest.components);
    check_environments(&mut c, manifest);
    check_built_names(&mut c, manifest);
    c.out.sort_by_key(|d| (d.position.offset, d.field.clone()));
    c.out
}

fn check_gitops(c: &mut Checker<'_>, m: &Manifest) {
    let url = &m.gitops.repo_url;
    if !url.starts_with("git@") {
        c.https_url("/gitops/repoURL", url, "the GitOps repository");
    }
    if m.gitops.target_revision.trim().is_empty() {
        c.invalid(
            "/gitops/targetRevision",
            "the branch is empty",
            "a branch name such as main",
            "use the branch Argo CD should track",
        );
    }
    if let Some(sso) = &m.gitops.sso {
        check_sso(c, sso);
    }
}

/// `gitops.sso`: exactly one way in, and names Argo CD's configuration can hold as they are
/// (Dex's YAML, Casbin's CSV policy).
fn check_sso(c: &mut Checker<'_>, sso: &super::model::Sso) {
    let p = "/gitops/sso";
    match (&sso.github, &sso.oidc) {
        (Some(_), Some(_)) | (None, None) => c.invalid(
            p,
            "`sso` needs exactly one of `github` and `oidc`",
            "`github: { organization: ... }` or `oidc: { issuer: ..., clientId: ... }`",
            "leave `sso` out on a github.com repository to sign in with GitHub as the repository's owner",
        ),
        _ => {}
    }
    let github_name = regex::Regex::new("^[A-Za-z0-9](?:-?[A-Za-z0-9]){0,38}$").ok();
    if let Some(g) = &sso.github {
        if !github_name.as_ref().is_some_and(|re| re.is_match(&g.organization)) {
            c.invalid(
                &format!("{p}/github/organization"),
                format!("\"{}\" is not a GitHub organization name", g.organization),
                "1-39 letters, digits and single hyphens, not at either end",
                "the organization's login, as in https://github.com/<organization>",
            );
        }
        if let Some(team) = &g.admin_team
            && (team.is_empty()
                || !team
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'))
        {
            c.invalid(
                &format!("{p}/github/adminTeam"),
                format!("\"{team}\" is not a team slug"),
                "the team's slug: lowercase letters, digits, '-' and '_'",
                "the last part of https://github.com/orgs/<organization>/teams/<slug>",
            );
        }
    }
    if let Some(o) = &sso.oidc {
        c.https_url(&format!("{p}/oidc/issuer"), &o.issuer, "the OpenID Connect issuer");
        if o.client_id.is_empty() || o.client_id.chars().any(|ch| ch.is_whitespace() || ch.is_control()) {
            c.invalid(
                &format!("{p}/oidc/clientId"),
                format!("\"{}\" is not a client id", o.client_id),
                "the client id the issuer registered for Argo CD, without spaces",
                "copy it from the issuer's application registration",
            );
        }
        if let Some(group) = &o.admin_group
            && (group.is_empty() || group.chars().any(|ch| ch == ',' || ch == '"' || ch.is_control()))
        {
            c.invalid(
                &format!("{p}/oidc/adminGroup"),
                format!("\"{group}\" cannot be written into Argo CD's RBAC policy"),
                "a value of the `groups` claim without commas, quotes or line breaks",
                "Argo CD's policy is CSV: use the group's id or name as the issuer sends it",
            );
        }
    }
}

fn check_registry(c: &mut Checker<'_>, m: &Manifest) {
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
fn check_registry_login(c: &mut Checker<'_>, m: &Manifest) {
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
        match key {
            "awsRoleArn" => {
                let account = match &kind {
                    ci::RegistryKind::Ecr { account, .. } => account.as_str(),
                    _ => "",
                };
                let role = value.strip_prefix(&format!("arn:aws:iam::{account}:role/"));
                if !role.is_some_and(|r| !r.is_empty() && r.len() <= 64) {
                    c.invalid(
                        &pointer,
                        format!("\"{value}\" is not an IAM role of account {account}"),
                        format!("arn:aws:iam::{account}:role/NAME (the registry's account)"),
                        login_hint(key),
                    );
                }
            }
            "azureClientId" | "azureTenantId" | "azureSubscriptionId" => {
                if !is_guid(value) {
                    c.invalid(
                        &pointer,
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
                        &pointer,
                        format!("\"{value}\" is not a workload identity provider"),
                        "projects/NUMBER/locations/global/workloadIdentityPools/POOL/providers/PROVIDER",
                        login_hint(key),
                    );
                }
            }
            "gcpServiceAccount" => {
                if !(is_email(value) && value.ends_with(".iam.gserviceaccount.com")) {
                    c.invalid(
                        &pointer,
                        format!("\"{value}\" is not a service account"),
                        "NAME@PROJECT.iam.gserviceaccount.com",
                        login_hint(key),
                    );
                }
            }
            _ => c.secret_name(&pointer, value),
        }
    }
    if kind.federated() && ci::github_repository(&m.gitops.repo_url).is_none() {
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
        && let Some(repo) = ci::github_repository(&m.gitops.repo_url)
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

fn login_what(key: &str) -> &'static str {
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

fn login_hint(key: &str) -> &'static str {
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
fn is_guid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn check_signing(c: &mut Checker<'_>, m: &Manifest) {
    match (&m.signing.public_key, &m.signing.keyless) {
        (Some(_), Some(_)) => c.invalid(
            "/signing",
            "both `publicKey` and `keyless` are set",
            "exactly one of `publicKey` or `keyless`",
            "keep the identity your CI actually signs with and remove the other",
        ),
        (None, None) => c.invalid(
            "/signing",
            "no signing identity",
            "exactly one of `publicKey` or `keyless`",
            "add `keyless: {}` (the rendered GitHub workflow signs with its own identity) or `publicKey:` with a cosign PEM key",
        ),
        (Some(key), None) => {
            let key = key.trim();
            if !(key.starts_with("-----BEGIN PUBLIC KEY-----") && key.ends_with("-----END PUBLIC KEY-----")) {
                c.invalid(
                    "/signing/publicKey",
                    "not a PEM public key",
                    "a PEM block from -----BEGIN PUBLIC KEY----- to -----END PUBLIC KEY-----",
                    "paste the content of cosign.pub as a YAML block scalar (`publicKey: |`)",
                );
            }
            if let Some(private) = &m.signing.private_key {
                check_private_key(c, m, private);
            }
        }
        (None, Some(keyless)) => {
            if m.signing.private_key.is_some() {
                c.invalid(
                    "/signing/privateKey",
                    "`privateKey` is set for keyless signing",
                    "`privateKey` only next to `publicKey`",
                    "keyless signing has no key to keep: remove `privateKey`",
                );
            }
            check_keyless(c, m, keyless);
        }
    }
}

/// The keyless identity must be the one the rendered workflow gets from GitHub: anything else
/// renders a Kyverno policy that refuses every image the workflow signs.
fn check_keyless(c: &mut Checker<'_>, m: &Manifest, keyless: &super::model::Keyless) {
    if keyless.issuer != ci::GITHUB_ACTIONS_ISSUER {
        c.invalid(
            "/signing/keyless/issuer",
            format!("\"{}\" is not the issuer of the rendered workflow", keyless.issuer),
            format!("\"{}\"", ci::GITHUB_ACTIONS_ISSUER),
            "the app is signed by a GitHub Actions workflow, whose OIDC tokens GitHub issues; leave `issuer` out",
        );
    }
    let Some(derived) = ci::workflow_identity(m) else {
        c.invalid(
            "/signing/keyless",
            "keyless signing needs the GitOps repository on github.com",
            "a `gitops.repoURL` of https://github.com/OWNER/REPO, whose workflow signs the app",
            "sign with a key instead: `publicKey:` with `privateKey: { kms: ... }` or `{ secret: ... }`",
        );
        return;
    };
    if let Some(subject) = &keyless.subject
        && *subject != derived.subject
    {
        c.invalid(
            "/signing/keyless/subject",
            format!("\"{subject}\" is not the identity the rendered workflow signs with"),
            format!("\"{}\"", derived.subject),
            format!(
                "the app is built and signed by {} of {} on `{}`; use that subject or leave `subject` out",
                ci::APP_WORKFLOW,
                derived.repository,
                m.gitops.target_revision
            ),
        );
    }
    if let Some(repo) = &keyless.workflow_repository
        && *repo != derived.repository
    {
        c.invalid(
            "/signing/keyless/workflowRepository",
            format!("\"{repo}\" is not the repository the rendered workflow runs in"),
            format!("\"{}\" (from `gitops.repoURL`)", derived.repository),
            "leave `workflowRepository` out: it defaults to the GitOps repository",
        );
    }
}

fn check_private_key(c: &mut Checker<'_>, m: &Manifest, private: &super::model::PrivateKeyRef) {
    let kind = ci::RegistryKind::of(&m.registry.host);
    match (&private.kms, &private.secret) {
        (Some(_), Some(_)) | (None, None) => c.invalid(
            "/signing/privateKey",
            "`privateKey` must name exactly one of `kms` and `secret`",
            "`kms: <cosign KMS URI>` or `secret: <GitHub Actions secret name>`",
            "a KMS key never leaves the KMS; a secret holds the key that `cosign generate-key-pair` encrypted",
        ),
        (Some(uri), None) => match kind.kms_scheme() {
            Some("awskms://") if uri.strip_prefix("awskms:///alias/").is_none_or(str::is_empty) => c.invalid(
                "/signing/privateKey/kms",
                format!("\"{uri}\" is not a KMS alias"),
                "awskms:///alias/NAME",
                "terraform/ci creates the signing key under this alias and lets the workflow's role sign with it",
            ),
            Some("gcpkms://") if uri.strip_prefix("gcpkms://").and_then(ci::gcp_kms_key).is_none() => c.invalid(
                "/signing/privateKey/kms",
                format!("\"{uri}\" is not a Cloud KMS key"),
                "gcpkms://projects/P/locations/L/keyRings/R/cryptoKeys/K",
                "terraform/ci creates that key ring and key and lets the workflow's service account sign with it",
            ),
            Some(scheme) if uri.starts_with(scheme) && uri.len() > scheme.len() => {}
            Some(scheme) => c.invalid(
                "/signing/privateKey/kms",
                format!("\"{uri}\" is not a key the workflow can reach"),
                format!(
                    "a `{scheme}` URI: the workflow is logged in to {} only",
                    kind.describe()
                ),
                "keep the signing key in the registry's cloud, or use `secret:` instead",
            ),
            None => c.invalid(
                "/signing/privateKey/kms",
                format!("\"{uri}\": the workflow logs in to no cloud KMS"),
                format!("`secret:` for {}", kind.describe()),
                "store the encrypted cosign key as a GitHub Actions secret and name it here",
            ),
        },
        (None, Some(name)) => c.secret_name("/signing/privateKey/secret", name),
    }
}
fn check_component_pins(c: &mut Checker<'_>, pointer: &str, pins: &ComponentPins) {
    for (component, pin) in pins.iter() {
        c.chart_version(
            &format!("{pointer}/{}/chartVersion", component.key()),
            &pin.chart_version,
        );
    }
}

fn check_environments(c: &mut Checker<'_>, m: &Manifest) {
    if m.environments.is_empty() {
        c.invalid(
            "/environments",
            "no environments",
            "at least one environment",
            "add an environment such as `- name: dev` with its cluster and domain",
        );
    }
    let mut first_seen: HashMap<&str, usize> = HashMap::new();
    for (i, env) in m.environments.iter().enumerate() {
        let p = format!("/environments/{i}");
        c.dns_label(&format!("{p}/name"), &env.name);
        if RESERVED_ENVIRONMENT_NAMES.contains(&env.name.as_str()) {
            c.invalid(
                &format!("{p}/name"),
                format!("environment name \"{}\" is reserved", env.name),
                "a name other than dashboards or tests",
                format!(
                    "observability/{}/ is a hand-written folder shared by every environment, and this \
                     environment's rules would be written into it; name it e.g. \"test\" or \"qa\"",
                    env.name
                ),
            );
        }
        if let Some(first) = first_seen.get(env.name.as_str()) {
            let line = c.spans.nearest(&format!("/environments/{first}/name")).label().line;
            c.invalid(
                &format!("{p}/name"),
                format!("duplicate environment name \"{}\"", env.name),
                "a name no other environment uses",
                format!("environments[{first}] (line {line}) already uses it; rename one of them"),
            );
        } else {
            first_seen.insert(&env.name, i);
        }
        check_cluster(c, &p, env);
        for misfit in super::fit::misfits(env) {
            c.invalid(
                &format!("{p}/cluster/{}/min", misfit.field),
                misfit.message,
                misfit.expected,
                misfit.hint,
            );
        }
        if !is_domain(&env.domain) || env.domain.split('.').count() < 2 {
            c.invalid(
                &format!("{p}/domain"),
                format!("\"{}\" is not a domain name", env.domain),
                "a lowercase domain with at least two labels, e.g. dev.example.com",
                "leave out the scheme and any path; the app is served at app.<domain>",
            );
        }
        if !is_email(&env.acme_email) {
            c.invalid(
                &format!("{p}/acmeEmail"),
                format!("\"{}\" is not an e-mail address", env.acme_email),
                "an address for Let's Encrypt expiry notices, e.g. platform-team@example.com",
                "use a team mailbox, never a person's address",
            );
        }
        check_replicas(c, &p, env.replicas.min, env.replicas.max);
        check_observability(c, &p, env);
        check_policy(c, &p, env);
        check_database_and_backup(c, &p, env);
        check_dns(c, &p, env);
        check_secrets(c, &p, env);
        check_state(c, &p, env);
        check_promotion_gates(c, &p, env);
        if let Some(image) = &env.app.image {
            c.image(&format!("{p}/app/image"), image, m.app.require_digest);
            c.pushed_image(&format!("{p}/app/image"), image, m);
        }
        if let Some(version) = &env.app.chart_version {
            c.chart_version(&format!("{p}/app/chartVersion"), version);
        }
        check_component_pins(c, &format!("{p}/components"), &env.components);
    }
    check_promotion_chain(c, m);
}

fn check_cluster(c: &mut Checker<'_>, p: &str, env: &super::model::Environment) {
    let cl = &env.cluster;
    let p = format!("{p}/cluster");
    let managed = cl.provider != Provider::Existing;
    let provider = cl.provider.in_prose();
    if managed {
        match &cl.region {
            None => c.missing(&p, "region", format!("the {provider} region"), region_hint(cl.provider)),
            Some(region) if !cloud_limits::is_region(cl.provider, region) => c.invalid(
                &format!("{p}/region"),
                format!("\"{region}\" is not a region name"),
                format!("the {provider} region"),
                region_hint(cl.provider),
            ),
            Some(_) => {}
        }
        match cl.node_size.as_deref() {
            None => c.missing(
                &p,
                "nodeSize",
                format!("the {provider} worker node size"),
                node_size_hint(cl.provider),
            ),
            Some(size) if !cloud_limits::is_node_size(cl.provider, size) => c.invalid(
                &format!("{p}/nodeSize"),
                format!("\"{size}\" is not a node size on {provider}"),
                format!("the {provider} worker node size"),
                node_size_hint(cl.provider),
            ),
            Some(size) if cl.provider == Provider::Gke && cloud_limits::is_gke_arm_machine_type(size) => c.invalid(
                &format!("{p}/nodeSize"),
                format!("\"{size}\" is an ARM machine type, which GKE taints kubernetes.io/arch=arm64:NoSchedule"),
                "an x86 GCE machine type",
                "the platform's components do not tolerate that taint; use e.g. e2-standard-4 or n2d-standard-4",
            ),
            Some(_) => {}
        }
        if cl.kubeconfig_context.is_some() {
            c.invalid(
                &format!("{p}/kubeconfigContext"),
                format!("`kubeconfigContext` has no effect on {provider}"),
                "kubeconfigContext only with provider: existing",
                "remove it: Terraform creates the cluster and its credentials",
            );
        }
        if !cl.load_balancer_addresses.is_empty() {
            c.invalid(
                &format!("{p}/loadBalancerAddresses"),
                format!("`loadBalancerAddresses` has no effect on {provider}"),
                "loadBalancerAddresses only with provider: existing",
                format!("remove it: {provider} provides load balancers"),
            );
        }
        if cl.control_plane_metrics {
            c.invalid(
                &format!("{p}/controlPlaneMetrics"),
                format!("`controlPlaneMetrics` has no effect on {provider}"),
                "controlPlaneMetrics only with provider: existing",
                format!("remove it: {provider} runs the control plane where Prometheus cannot scrape it"),
            );
        }
    } else {
        if cl.kubeconfig_context.as_deref().is_none_or(|s| s.trim().is_empty()) {
            c.missing(
                &p,
                "kubeconfigContext",
                "the kubeconfig context of the existing cluster",
                "run `kubectl config get-contexts` and use the NAME column",
            );
        }
        let nodes_network = cl.network_cidr.parse::<ipnet::IpNet>().ok();
        for (i, addresses) in cl.load_balancer_addresses.iter().enumerate() {
            let pointer = format!("{p}/loadBalancerAddresses/{i}");
            match cloud_limits::parse_address_range(addresses) {
                Err(why) => c.invalid(
                    &pointer,
                    format!("\"{addresses}\" is not an address range: {why}"),
                    "a CIDR (192.168.1.240/28) or a range first-last (192.168.1.240-192.168.1.250)",
                    "use free addresses of the nodes' network that no DHCP server hands out",
                ),
                Ok((first, last)) => {
                    if let Some(net) = nodes_network.filter(|n| !(n.contains(&first) && n.contains(&last))) {
                        c.invalid(
                            &pointer,
                            format!("\"{addresses}\" is outside the nodes' network {net}"),
                            format!("addresses inside {net}"),
                            "MetalLB announces them over layer 2, which only reaches the nodes' own network",
                        );
                    }
                }
            }
        }
        for (field, set) in [("region", cl.region.is_some()), ("nodeSize", cl.node_size.is_some())] {
            if set {
                c.invalid(
                    &format!("{p}/{field}"),
                    format!("`{field}` has no effect on an existing cluster"),
                    format!("{field} only with provider eks, aks or gke"),
                    "remove it: the cluster already exists",
                );
            }
        }
    }
    match (cl.provider, &cl.gcp_project) {
        (Provider::Gke, None) => c.missing(&p, "gcpProject", "the GCP project id", "e.g. acme-platform-prod"),
        (Provider::Gke, Some(project)) if !is_gcp_project(project) => c.invalid(
            &format!("{p}/gcpProject"),
            format!("\"{project}\" is not a GCP project id"),
            "6-30 lowercase letters, digits and '-', starting with a letter",
            "use the project ID, not its display name",
        ),
        (Provider::Gke, Some(_)) | (_, None) => {}
        (_, Some(_)) => c.invalid(
            &format!("{p}/gcpProject"),
            format!("`gcpProject` has no effect on {provider}"),
            "gcpProject only with provider: gke",
            "remove it",
        ),
    }
    check_kubernetes_version(c, &p, cl);
    if cl.nodes.min == 0 || cl.nodes.min > cl.nodes.max {
        c.invalid(
            &format!("{p}/nodes"),
            format!(
                "node bounds min {} / max {} are inconsistent",
                cl.nodes.min, cl.nodes.max
            ),
            "1 ≤ min ≤ max",
            "the autoscaler keeps between min and max nodes; min must be at least 1",
        );
    }
    c.range(
        &format!("{p}/nodes/max"),
        cl.nodes.max,
        1,
        limits::NODES_MAX,
        "at most 1000 nodes",
    );
    match Ipv4Net::from_str(&cl.network_cidr) {
        Err(_) => c.invalid(
            &format!("{p}/networkCidr"),
            format!("\"{}\" is not an IPv4 CIDR", cl.network_cidr),
            "an IPv4 network in CIDR notation, e.g. 10.20.0.0/16",
            "write the network address and the prefix length",
        ),
        Ok(net) if net.network() != net.addr() => c.invalid(
            &format!("{p}/networkCidr"),
            format!("\"{}\" has host bits set", cl.network_cidr),
            "the network address of the CIDR",
            format!("use \"{}\"", net.trunc()),
        ),
        Ok(net) if !net.addr().is_private() => c.invalid(
            &format!("{p}/networkCidr"),
            format!("\"{}\" is not a private range", cl.network_cidr),
            "a private (RFC 1918) range: 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16",
            "pick a range that does not overlap your other networks, e.g. 10.20.0.0/16",
        ),
        Ok(net) => check_network_size(c, &p, cl, &net),
    }
}

fn check_network_size(c: &mut Checker<'_>, p: &str, cl: &super::model::Cluster, net: &Ipv4Net) {
    let provider = cl.provider.in_prose();
    let pointer = format!("{p}/networkCidr");
    let cidr = &cl.network_cidr;
    if let Some((min, max, why)) = cloud_limits::network_prefixes(cl.provider)
        && !(min..=max).contains(&net.prefix_len())
    {
        c.invalid(
            &pointer,
            format!("{provider} cannot use a /{} network", net.prefix_len()),
            format!("a prefix from /{min} to /{max}: {why}"),
            format!("use a /{min} or longer, e.g. 10.20.0.0/16"),
        );
        return;
    }
    if let Some((nodes, why)) = cloud_limits::node_capacity(cl.provider, net)
        && u64::from(cl.nodes.max) > nodes
    {
        c.invalid(
            &pointer,
            format!(
                "\"{cidr}\" holds at most {nodes} nodes on {provider}, fewer than nodes.max {}",
                cl.nodes.max
            ),
            format!("a network with room for {} nodes: {why}", cl.nodes.max),
            "use a shorter prefix (a larger network) or lower nodes.max",
        );
    }
    for (reserved, what) in cloud_limits::reserved_ranges(cl.provider) {
        if reserved.contains(&net.network()) || net.contains(&reserved.network()) {
            c.invalid(
                &pointer,
                format!("\"{cidr}\" overlaps {what} {reserved}"),
                format!("a network outside {reserved}"),
                "pick a range that does not overlap it, e.g. 10.20.0.0/16",
            );
        }
    }
}

fn check_kubernetes_version(c: &mut Checker<'_>, p: &str, cl: &super::model::Cluster) {
    use super::kubernetes_support::{self, Unsupported};
    let version = &cl.kubernetes_version;
    let calendar = kubernetes_support::calendar(cl.provider);
    let provider = calendar.name;
    let checked = kubernetes_support::CHECKED;
    let listed = |supported: Vec<String>| {
        if supported.is_empty() {
            format!("none is left in the {provider} table (checked {checked})")
        } else {
            format!("a supported minor version: {}", supported.join(", "))
        }
    };
    let pointer = format!("{p}/kubernetesVersion");
    match kubernetes_support::check(cl.provider, version, kubernetes_support::today()) {
        Ok(_) => {}
        Err(Unsupported::Malformed) => c.invalid(
            &pointer,
            format!("\"{version}\" is not a Kubernetes minor version"),
            "\"1.MINOR\", quoted, e.g. \"1.35\"",
            "quote it: an unquoted 1.30 is the number 1.3",
        ),
        Err(Unsupported::Ended { ended, supported }) => c.invalid(
            &pointer,
            format!("Kubernetes {version} reached the end of {provider} support on {ended}"),
            listed(supported),
            format!(
                "upgrade one minor version at a time; support ends at the {} ({})",
                calendar.window, calendar.source
            ),
        ),
        Err(Unsupported::Unknown { supported }) => c.invalid(
            &pointer,
            format!("Kubernetes {version} is not in the {provider} support table (checked {checked})"),
            listed(supported),
            if version.len() <= 3 {
                "quote it: an unquoted 1.30 is the number 1.3".to_string()
            } else {
                format!(
                    "use a listed version; a release newer than the table needs its end date from {}",
                    calendar.source
                )
            },
        ),
    }
}

fn check_replicas(c: &mut Checker<'_>, p: &str, min: u32, max: u32) {
    if min == 0 || min > max {
        c.invalid(
            &format!("{p}/replicas"),
            format!("replica bounds min {min} / max {max} are inconsistent"),
            "1 ≤ min ≤ max",
            "the HPA scales the app between min and max; min must be at least 1",
        );
    }
    c.range(
        &format!("{p}/replicas/max"),
        max,
        1,
        limits::REPLICAS_MAX,
        "more than 100 replicas is almost surely a typo",
    );
}

fn check_observability(c: &mut Checker<'_>, p: &str, env: &super::model::Environment) {
    let o = &env.observability;
    let p = format!("{p}/observability");
    let central = [
        (
            "mimirUrl",
            &o.mimir_url,
            "the remote_write URL of the central Mimir",
            "e.g. https://mimir.example.com/api/v1/push",
        ),
        (
            "lokiUrl",
            &o.loki_url,
            "the push URL of the central Loki",
            "e.g. https://loki.example.com/loki/api/v1/push",
        ),
        (
            "tempoUrl",
            &o.tempo_url,
            "the OTLP endpoint of the central Tempo",
            "e.g. https://tempo.example.com:4317",
        ),
    ];
    for (field, value, what, example) in central {
        match (o.mode, value) {
            (ObservabilityMode::Central, None) => {
                c.missing(&p, field, what, format!("{example}, or use mode: in-cluster"));
            }
            (ObservabilityMode::Central, Some(url)) => c.https_url(&format!("{p}/{field}"), url, what),
            (ObservabilityMode::InCluster, Some(_)) => c.invalid(
                &format!("{p}/{field}"),
                format!("`{field}` is set but mode is in-cluster"),
                format!("{field} only with mode: central"),
                "set `mode: central` to ship signals to the central backends, or remove it",
            ),
            (ObservabilityMode::InCluster, None) => {}
        }
    }
    if let Some(tenant) = &o.tenant {
        if o.mode == ObservabilityMode::InCluster {
            c.invalid(
                &format!("{p}/tenant"),
                "`tenant` is set but mode is in-cluster",
                "tenant only with mode: central",
                "the tenant header is sent to the central backends only",
            );
        } else if !is_dns_label(tenant) {
            c.dns_label(&format!("{p}/tenant"), tenant);
        }
    }
    let r = &o.retention;
    c.range(
        &format!("{p}/retention/metricsDays"),
        r.metrics_days,
        1,
        limits::METRICS_DAYS_MAX,
        "days of metrics kept in-cluster",
    );
    c.range(
        &format!("{p}/retention/logsDays"),
        r.logs_days,
        1,
        limits::LOGS_DAYS_MAX,
        "days of logs kept in-cluster",
    );
    c.range(
        &format!("{p}/retention/tracesDays"),
        r.traces_days,
        1,
        limits::TRACES_DAYS_MAX,
        "days of traces kept in-cluster",
    );
}

fn check_policy(c: &mut Checker<'_>, p: &str, env: &super::model::Environment) {
    if env.production && env.policy.mode == Some(PolicyMode::Audit) {
        c.invalid(
            &format!("{p}/policy/mode"),
            "a production environment only audits its admission policies",
            "mode: enforce in production",
            "remove `mode: audit`: production blocks unsigned images and unsafe pods",
        );
    }
}

fn check_slo(c: &mut Checker<'_>, slo: &super::model::Slo) {
    for (pointer, value) in [
        ("/app/slo/availability", slo.availability),
        ("/app/slo/latency/target", slo.latency.target),
    ] {
        let (low, high) = limits::OBJECTIVE;
        if !(low..=high).contains(&value) {
            c.invalid(
                pointer,
                format!("{value} is not a usable objective"),
                format!("a percentage from {low} to {high}"),
                "write it as a percentage: 99.9 means 0.1% of requests may fail",
            );
        }
    }
    if !LATENCY_BUCKETS_MS.contains(&slo.latency.threshold_ms) {
        let buckets: Vec<String> = LATENCY_BUCKETS_MS.iter().map(u32::to_string).collect();
        c.invalid(
            "/app/slo/latency/thresholdMs",
            format!(
                "{} ms is not a bucket boundary of the app's latency histogram",
                slo.latency.threshold_ms
            ),
            format!("one of: {}", buckets.join(", ")),
            "the alert counts requests below a bucket boundary (docs/metrics.md); pick the nearest one",
        );
    }
}

fn check_database_and_backup(c: &mut Checker<'_>, p: &str, env: &super::model::Environment) {
    let db = &env.database;
    if db.mode == DatabaseMode::Managed && env.cluster.provider != Provider::Eks {
        c.invalid(
            &format!("{p}/database/mode"),
            format!("no managed PostgreSQL module for {}", env.cluster.provider.in_prose()),
            "mode: managed only with provider: eks (Amazon RDS)",
            "use `mode: in-cluster` (CloudNativePG with WAL archiving), which runs on every provider",
        );
    }
    c.range(
        &format!("{p}/database/instances"),
        db.instances,
        1,
        limits::DB_INSTANCES_MAX,
        "1 primary plus up to 8 replicas",
    );
    if env.production && db.mode == DatabaseMode::InCluster && db.instances < 2 {
        c.invalid(
            &format!("{p}/database/instances"),
            "a production database with a single instance",
            "at least 2 instances in production",
            "a replica lets CloudNativePG fail over without restoring from backup",
        );
    }
    c.range(
        &format!("{p}/database/storageGib"),
        db.storage_gib,
        1,
        limits::DB_STORAGE_GIB_MAX,
        "a volume size in GiB",
    );
    let b = &env.backup;
    c.range(
        &format!("{p}/backup/rpoMinutes"),
        b.rpo_minutes,
        1,
        limits::RPO_MINUTES_MAX,
        "the RPO sets how often WAL is archived; the design targets 5 minutes",
    );
    c.range(
        &format!("{p}/backup/retentionDays"),
        b.retention_days,
        1,
        limits::BACKUP_RETENTION_DAYS_MAX,
        "keep backups at least a day",
    );
    let needs_endpoint = env.cluster.provider == Provider::Existing;
    match (&b.s3_endpoint, needs_endpoint) {
        (None, true) => c.missing(
            &format!("{p}/backup"),
            "s3Endpoint",
            "the S3-compatible endpoint that stores backups of an existing cluster",
            "e.g. https://minio.example.com; credentials come from the Secret `postgres-backup-s3`",
        ),
        (Some(url), true) => c.https_url(&format!("{p}/backup/s3Endpoint"), url, "the backup object store"),
        (Some(_), false) => c.invalid(
            &format!("{p}/backup/s3Endpoint"),
            format!("`s3Endpoint` has no effect on {}", env.cluster.provider.in_prose()),
            "s3Endpoint only with provider: existing",
            "remove it: backups go to the bucket Terraform creates",
        ),
        (None, false) => {}
    }
}

/// Every hostname of the Gateway needs a record maker and a certificate path that can succeed
/// where the environment is reachable from.
fn check_dns(c: &mut Checker<'_>, p: &str, env: &super::model::Environment) {
    let dns = &env.dns;
    let env_pointer = p;
    let p = format!("{p}/dns");
    let provider = env.cluster.provider.in_prose();
    let records = super::resolve::dns_records(env);
    if let Some(zone) = &dns.zone
        && !(is_domain(zone) && (env.domain == *zone || env.domain.ends_with(&format!(".{zone}"))))
    {
        c.invalid(
            &format!("{p}/zone"),
            format!("zone \"{zone}\" does not hold the domain {}", env.domain),
            format!("{} or one of its parent domains", env.domain),
            "the records app., argocd. and grafana.<domain> go to this zone; leave it out to use the domain itself",
        );
    }
    match (records, env.cluster.provider) {
        (DnsRecords::Cloud, Provider::Existing) => c.invalid(
            &format!("{p}/records"),
            "an existing cluster has no cloud DNS",
            "records: rfc2136 or manual on provider: existing",
            "use `rfc2136` with the `rfc2136` server external-dns updates, or `manual` to make the records yourself",
        ),
        (DnsRecords::Rfc2136, _) if dns.rfc2136.is_none() => c.missing(
            &p,
            "rfc2136",
            "the DNS server external-dns updates",
            "e.g. `rfc2136: { server: 192.168.1.53, keyName: external-dns }`; the key's secret is the Secret \
             external-dns-tsig (`platform secrets set`)",
        ),
        _ => {}
    }
    if dns.rfc2136.is_some() && records != DnsRecords::Rfc2136 {
        c.invalid(
            &format!("{p}/rfc2136"),
            "`rfc2136` has no effect without `records: rfc2136`",
            "rfc2136 only with records: rfc2136",
            "set `records: rfc2136`, or remove the server",
        );
    }
    if let Some(server) = &dns.rfc2136 {
        if server.server.trim().is_empty() || server.server.contains(char::is_whitespace) {
            c.invalid(
                &format!("{p}/rfc2136/server"),
                format!("\"{}\" is not a server address", server.server),
                "an IP address or a host name the cluster's pods resolve",
                "the primary name server of the zone, which must accept updates signed with the key",
            );
        }
        if !is_domain(server.key_name.trim_end_matches('.')) {
            c.invalid(
                &format!("{p}/rfc2136/keyName"),
                format!("\"{}\" is not a TSIG key name", server.key_name),
                "the key's name as the server's configuration spells it, e.g. external-dns",
                "BIND: the name after `key` in named.conf",
            );
        }
    }
    if !dns.create_zone && records != DnsRecords::Cloud {
        c.invalid(
            &format!("{p}/createZone"),
            "`createZone` has no effect without `records: cloud`",
            "createZone only with records: cloud",
            "remove it: only the cloud's zone is made or looked up by Terraform",
        );
    }
    match dns.challenge {
        Challenge::Dns01 if records == DnsRecords::Manual => c.invalid(
            &format!("{p}/challenge"),
            "DNS-01 needs a DNS that cert-manager can write",
            "challenge: dns01 with records: cloud or rfc2136",
            "cert-manager writes each challenge's TXT record through the same DNS as external-dns: set `records`, \
             or use `challenge: http01`",
        ),
        Challenge::Dns01 if env.cluster.provider == Provider::Aks => c.invalid(
            &format!("{p}/challenge"),
            format!("DNS-01 is not offered on {provider}"),
            "challenge: http01 on provider: aks",
            "cert-manager's Azure DNS solver needs the subscription and the identity's client id in the \
             ClusterIssuer, which exist only after Terraform ran; AKS's load balancer is public, so HTTP-01 works",
        ),
        Challenge::Http01
            if env.cluster.provider == Provider::Existing
                && !reachable_from_internet(&env.cluster.load_balancer_addresses) =>
        {
            c.invalid(
                &format!("{env_pointer}/cluster/loadBalancerAddresses"),
                "every address is private: Let's Encrypt cannot reach the Gateway for HTTP-01",
                "dns.challenge: dns01 where every loadBalancerAddresses range is private",
                "MetalLB gives the Gateway a private address, which Let's Encrypt's HTTP-01 check cannot reach: set \
             `dns.challenge: dns01` with `dns.records: rfc2136`",
            );
        }
        Challenge::Http01 | Challenge::Dns01 => {}
    }
}

/// A cloud's secret store only on that cloud's clusters (the controller reads it with the
/// cluster's workload identity), and a Vault server exactly where Vault is the store.
fn check_secrets(c: &mut Checker<'_>, p: &str, env: &super::model::Environment) {
    let secrets = &env.secrets;
    let p = format!("{p}/secrets");
    let provider = env.cluster.provider;
    let home = match secrets.store {
        SecretStore::AwsSecretsManager => Some(Provider::Eks),
        SecretStore::AzureKeyVault => Some(Provider::Aks),
        SecretStore::GcpSecretManager => Some(Provider::Gke),
        SecretStore::Kubernetes | SecretStore::Vault => None,
    };
    if let Some(home) = home
        && home != provider
    {
        c.invalid(
            &format!("{p}/store"),
            format!("{} cannot reach {}", provider.in_prose(), secrets.store.key()),
            format!("store: kubernetes or vault on provider: {}", provider.key()),
            format!(
                "External Secrets Operator reads this store with the workload identity of {}: use `vault`, or `kubernetes` (the Secrets live in the cluster only)",
                home.in_prose()
            ),
        );
    }
    match (&secrets.vault, secrets.store) {
        (None, SecretStore::Vault) => c.missing(
            &p,
            "vault",
            "the Vault server External Secrets Operator reads and writes",
            "e.g. `vault: { server: https://vault.example.com:8200 }`; Terraform makes its Kubernetes auth role and policy (docs/secrets.md)",
        ),
        (Some(vault), SecretStore::Vault) => {
            c.https_url(&format!("{p}/vault/server"), &vault.server, "the Vault server");
            for (field, value) in [("mount", &vault.mount), ("authMount", &vault.auth_mount)] {
                if value.is_empty() || value.starts_with('/') || value.ends_with('/') || value.contains("//") {
                    c.invalid(
                        &format!("{p}/vault/{field}"),
                        format!("\"{value}\" is not a mount path"),
                        "a path like `secret` or `kubernetes/prod`, without leading or trailing /",
                        "the path after `vault secrets enable -path=` (or `vault auth enable -path=`)",
                    );
                }
            }
        }
        (Some(_), _) => c.invalid(
            &format!("{p}/vault"),
            "`vault` has no effect without `store: vault`",
            "vault only with store: vault",
            "set `store: vault`, or remove the server",
        ),
        (None, _) => {}
    }
}

/// Whether a Gateway with an address from `ranges` can be reached from the internet: no ranges
/// (the cluster's own load balancers, assumed public) or any range of public addresses.
fn reachable_from_internet(ranges: &[String]) -> bool {
    let public = |ip: std::net::IpAddr| match ip {
        std::net::IpAddr::V4(v4) => {
            let shared =
                ipnet::Ipv4Net::new(std::net::Ipv4Addr::new(100, 64, 0, 0), 10).is_ok_and(|net| net.contains(&v4));
            !(v4.is_private() || v4.is_loopback() || v4.is_link_local() || v4.is_documentation() || shared)
        }
        std::net::IpAddr::V6(v6) => !(v6.is_loopback() || v6.is_unique_local() || v6.is_unicast_link_local()),
    };
    ranges.is_empty()
        || ranges
            .iter()
            .filter_map(|r| cloud_limits::parse_address_range(r).ok())
            .any(|(first, _)| public(first))
}

fn check_state(c: &mut Checker<'_>, p: &str, env: &super::model::Environment) {
    let s = &env.terraform_state;
    let p = format!("{p}/terraformState");
    let provider = env.cluster.provider;
    let allowed: &[&str] = match provider {
        Provider::Eks | Provider::Gke => &["bucket"],
        Provider::Aks => &["resourceGroup", "storageAccount"],
        Provider::Existing => &[],
    };
    for (field, set) in [
        ("bucket", s.bucket.is_some()),
        ("resourceGroup", s.resource_group.is_some()),
        ("storageAccount", s.storage_account.is_some()),
    ] {
        if set && !allowed.contains(&field) {
            let hint = if provider == Provider::Existing {
                "remove it: an existing cluster keeps state in a Kubernetes Secret".to_string()
            } else {
                format!("{} uses: {}", provider.in_prose(), allowed.join(", "))
            };
            c.invalid(
                &format!("{p}/{field}"),
                format!("`{field}` has no effect on {}", provider.in_prose()),
                format!("one of: {}", allowed.join(", ")),
                hint,
            );
        }
    }
    if let Some(bucket) = &s.bucket {
        let ok = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
            && !bucket.starts_with(['-', '.'])
            && !bucket.ends_with(['-', '.']);
        if !ok {
            c.invalid(
                &format!("{p}/bucket"),
                format!("\"{bucket}\" is not a bucket name"),
                "3-63 lowercase letters, digits, '-' and '.'",
                "bucket names are global: prefix it with your organization",
            );
        }
    }
    if let Some(account) = &s.storage_account
        && !((3..=24).contains(&account.len()) && account.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
    {
        c.invalid(
            &format!("{p}/storageAccount"),
            format!("\"{account}\" is not a storage account name"),
            "3-24 lowercase letters and digits",
            "Azure storage account names allow no '-'",
        );
    }
}

/// The cloud's limits on the names Terraform builds from the platform and environment names:
/// the tightest one each environment's cluster name breaks, at the environment's name; and the
/// default state bucket, `<platform>-tfstate`, at the platform's name.
fn check_built_names(c: &mut Checker<'_>, m: &Manifest) {
    let platform = &m.metadata.name;
    for (i, env) in m.environments.iter().enumerate() {
        let provider = env.cluster.provider;
        let cluster = super::resolve::cluster_name(platform, &env.name);
        let broken = cloud_limits::built_names(provider)
            .iter()
            .filter(|b| cluster.len() + b.suffix.len() > b.max)
            .min_by_key(|b| b.max - b.suffix.len());
        if let Some(b) = broken {
            let built = format!("{cluster}{}", b.suffix);
            c.invalid(
                &format!("/environments/{i}/name"),
                format!(
                    "{} would be \"{built}\", {} characters: {} allows {}",
                    b.what,
                    built.len(),
                    cloud_limits::cloud_name(provider),
                    b.max
                ),
                format!(
                    "a cluster name `<metadata.name>-<environment>` of at most {} characters (\"{cluster}\" has {})",
                    b.max - b.suffix.len(),
                    cluster.len()
                ),
                format!(
                    "Terraform builds it as `{}` in terraform/modules/{}; shorten the environment's name or metadata.name",
                    b.expression, b.module
                ),
            );
        }
    }
    let state_bucket = format!("{platform}-tfstate");
    let uses_default = m
        .environments
        .iter()
        .any(|e| matches!(e.cluster.provider, Provider::Eks | Provider::Gke) && e.terraform_state.bucket.is_none());
    if uses_default && state_bucket.len() > 63 {
        c.invalid(
            "/metadata/name",
            format!(
                "the default Terraform state bucket \"{state_bucket}\" would be {} characters: bucket names allow 63",
                state_bucket.len()
            ),
            "a platform name of at most 55 characters",
            "or set terraformState.bucket in each EKS and GKE environment (bucket names are global: prefix it with your organization)",
        );
    }
}

fn check_promotion_gates(c: &mut Checker<'_>, p: &str, env: &super::model::Environment) {
    let gates = &env.promotion;
    let p = format!("{p}/promotion");
    if env.promoted_from.is_none() && *gates != Promotion::default() {
        c.invalid(
            &p,
            format!(
                "gates of promotions into \"{}\", which nothing is promoted into",
                env.name
            ),
            "promotion only under an environment with promotedFrom",
            "set promotedFrom to the environment before this one, or remove `promotion`",
        );
    }
    let soak = gates.soak.as_deref().map(|text| (text, Promotion::parse_soak(text)));
    if let Some((text, None)) = soak {
        c.invalid(
            &format!("{p}/soak"),
            format!("\"{text}\" is not a soak time"),
            "a whole number and one unit: m, h, d or w, e.g. 24h",
            "write it as Prometheus does; 0m turns the soak gate off",
        );
    }
    if let Some(rate) = gates.max_burn_rate {
        if !(rate.is_finite() && rate > 0.0) {
            c.invalid(
                &format!("{p}/maxBurnRate"),
                format!("{rate} is not a usable burn-rate ceiling"),
                "a number above 0; 1 spends the error budget exactly as fast as it accrues",
                "e.g. 1 in production, 2 before it",
            );
        } else if matches!(soak, Some((_, Some(d))) if d.is_zero()) {
            c.invalid(
                &format!("{p}/maxBurnRate"),
                "a burn-rate ceiling with the soak gate off",
                "a soak above 0m: the burn rate is measured over the soak window",
                "set `soak`, e.g. 24h, or remove maxBurnRate",
            );
        }
    }
    if let Some(alerts) = &gates.blocking_alerts {
        for (i, name) in alerts.names.iter().enumerate() {
            let valid = name
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !valid {
                c.invalid(
                    &format!("{p}/blockingAlerts/names/{i}"),
                    format!("\"{name}\" is not an alert name"),
                    "a Prometheus alert name: letters, digits and '_', not starting with a digit",
                    "copy the `alert:` name of the rule, e.g. AppAvailabilityBudgetBurnFast",
                );
            }
        }
        for (i, severity) in alerts.severities.iter().enumerate() {
            if severity.is_empty()
                || !severity
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            {
                c.invalid(
                    &format!("{p}/blockingAlerts/severities/{i}"),
                    format!("\"{severity}\" is not a severity"),
                    "a `severity` label value: letters, digits, '_' and '-'",
                    "e.g. critical",
                );
            }
        }
    }
    if let Some(url) = &gates.prometheus_url {
        c.https_url(&format!("{p}/prometheusUrl"), url, "the source's Prometheus query API");
    }
}

fn check_promotion_chain(c: &mut Checker<'_>, m: &Manifest) {
    let names: Vec<&str> = m.environments.iter().map(|e| e.name.as_str()).collect();
    let index: HashMap<&str, usize> = names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    for (i, env) in m.environments.iter().enumerate() {
        let Some(from) = &env.promoted_from else { continue };
        let pointer = format!("/environments/{i}/promotedFrom");
        if from == &env.name {
            c.invalid(
                &pointer,
                format!("\"{from}\" is promoted from itself"),
                "another environment",
                "point it at the environment before it",
            );
            continue;
        }
        if !index.contains_key(from.as_str()) {
            let hint = match closest(from, names.iter().copied()) {
                Some(best) => format!("did you mean \"{best}\"?"),
                None => format!("known environments: {}", names.join(", ")),
            };
            c.invalid(
                &pointer,
                format!("no environment named \"{from}\""),
                "the name of another environment",
                hint,
            );
            continue;
        }
        // Walk the chain upstream; coming back here is a cycle.
        let mut seen = vec![env.name.as_str()];
        let mut current = from.as_str();
        while let Some(&j) = index.get(current) {
            if seen.contains(&current) {
                if current == env.name {
                    seen.push(current);
                    c.invalid(
                        &pointer,
                        format!("promotion cycle: {}", seen.join(" ← ")),
                        "a chain that starts at an environment with no promotedFrom",
                        "remove promotedFrom from the first environment of the chain",
                    );
                }
                break;
            }
            seen.push(current);
            match &m.environments[j].promoted_from {
                Some(next) => current = next,
                None => break,
            }
        }
    }
}

fn region_hint(p: Provider) -> &'static str {
    match p {
        Provider::Eks => "e.g. eu-west-1",
        Provider::Aks => "e.g. westeurope",
        _ => "e.g. europe-west1",
    }
}

fn node_size_hint(p: Provider) -> &'static str {
    match p {
        Provider::Eks => "an EC2 instance type, e.g. m6i.large",
        Provider::Aks => "an Azure VM size, e.g. Standard_D4s_v5",
        _ => "a GCE machine type, e.g. e2-standard-4",
    }
}

fn is_sha256_digest(d: &str) -> bool {
    d.strip_prefix("sha256:")
        .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
}

pub fn is_dns_label(s: &str) -> bool {
    (1..=63).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && s.as_bytes()[0].is_ascii_lowercase()
        && !s.ends_with('-')
}

fn to_dns_label(s: &str) -> String {
    let lowered: String = s
        .to_ascii_lowercase()
        .chars()
        .map(|ch| if ch.is_ascii_alphanumeric() { ch } else { '-' })
        .collect();
    lowered.trim_matches('-').chars().take(63).collect()
}

fn is_domain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(|l| !l.starts_with('-') && is_hostname_label(l))
}

fn is_hostname_label(l: &str) -> bool {
    (1..=63).contains(&l.len())
        && l.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !l.ends_with('-')
}

fn is_gcp_project(s: &str) -> bool {
    (6..=30).contains(&s.len()) && is_dns_label(s)
}

fn is_email(s: &str) -> bool {
    s.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && !local.contains(char::is_whitespace) && is_domain(domain) && domain.contains('.')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_labels() {
        assert!(is_dns_label("prod-eu1"));
        assert!(!is_dns_label("Prod"));
        assert!(!is_dns_label("1prod"));
        assert!(!is_dns_label("prod-"));
        assert!(!is_dns_label(&"a".repeat(64)));
        assert_eq!(to_dns_label("Prod EU"), "prod-eu");
    }

    #[test]
    fn digests() {
        assert!(is_sha256_digest(&format!("sha256:{}", "a".repeat(64))));
        assert!(!is_sha256_digest(&format!("sha256:{}", "A".repeat(64))));
        assert!(!is_sha256_digest("sha256:abc"));
    }
}
