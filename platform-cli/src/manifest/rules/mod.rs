//! Meaning checks: everything a well-shaped manifest can still get wrong.
//!
//! Each rule names the field by JSON pointer; the pointer finds the position in the source.
//! Rules never stop at the first problem: the user fixes everything in one round.

mod cluster;
mod data;
mod dns;
mod gitops;
mod observability;
mod promotion;
mod registry;
mod signing;
pub mod text;

use std::collections::HashMap;
use std::str::FromStr;

use oci_spec::distribution::Reference;

use super::diagnostic::{Code, Diagnostic};
use super::source::{Source, SpanIndex};
use crate::model::cloud_limits;
use crate::model::components::Component;
use crate::model::{ComponentPins, Manifest, Provider, RESERVED_ENVIRONMENT_NAMES};
use cluster::{check_cluster, check_policy, check_replicas};
use data::{check_database_and_backup, check_secrets, check_state};
use dns::check_dns;
use gitops::check_gitops;
use observability::{check_observability, check_slo};
use promotion::{check_promotion_chain, check_promotion_gates};
use registry::check_registry;
use signing::check_signing;
use text::{is_dns_label, is_domain, is_email, is_sha256_digest, to_dns_label};

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
        self.at(
            Code::InvalidValue,
            pointer,
            message.into(),
            expected.into(),
            hint.into(),
        );
    }

    /// Like [`Self::invalid`], for a version past its support or outside what the platform is
    /// written for ([`Code::Unsupported`]).
    fn unsupported(
        &mut self,
        pointer: &str,
        message: impl Into<String>,
        expected: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.at(Code::Unsupported, pointer, message.into(), expected.into(), hint.into());
    }

    fn at(&mut self, code: Code, pointer: &str, message: String, expected: String, hint: String) {
        let position = self.spans.nearest(pointer).label();
        self.out
            .push(Diagnostic::at(code, self.source, position, pointer).build(message, expected, hint));
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

    /// A pin the component's values template was not written for: the chart would ignore or
    /// refuse what it does not know, in silence or at sync.
    fn chart_supported(&mut self, pointer: &str, component: Component, value: &str) {
        let (Some(range), Some(default)) = (component.supported(), component.default_version()) else {
            return;
        };
        let Ok(version) = semver::Version::parse(value.strip_prefix('v').unwrap_or(value)) else {
            return;
        };
        if !range.matches(&version) {
            let name = component.spec().name;
            self.unsupported(
                pointer,
                format!("{name} {value} is not a release the platform's {name} values are written for"),
                format!("a chart version of {name} in {range}"),
                format!(
                    "pin {default}, the nearest supported release (the one the upstream checks run on), or leave the \
                     pin out; `platform outdated` lists the newest release in {range}"
                ),
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

fn check_component_pins(c: &mut Checker<'_>, pointer: &str, pins: &ComponentPins) {
    for (component, pin) in pins.iter() {
        let pointer = format!("{pointer}/{}/chartVersion", component.key());
        c.chart_version(&pointer, &pin.chart_version);
        c.chart_supported(&pointer, component, &pin.chart_version);
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
