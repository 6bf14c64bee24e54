//! Phase 2: the table's Secrets kept in a secret store (`secrets.store`) and copied into the
//! cluster by External Secrets Operator. The store holds each random or supplied key as a
//! secret of its own ([`remote_name`]); fixed and derived keys are never stored, each
//! ExternalSecret's template makes them from the stored ones, so a derived value can never
//! disagree with its source. Only the plain, one-value form of every provider is used: no JSON
//! properties, which not every provider reads and writes alike.

use std::collections::BTreeMap;

use serde::Serialize;

use super::EnvSecrets;
use super::catalog::{Birth, Key, SecretId};
use super::values::{Hosts, Part, parts};
use crate::model::SecretStore;
use crate::model::components::{Component, Runs};

/// The ClusterSecretStore every ExternalSecret reads and every push writes.
pub const STORE: &str = "platform";

/// External Secrets Operator's controller: the service account the cloud identity is bound to.
pub const CONTROLLER_ACCOUNT: &str = "external-secrets";

/// The namespace External Secrets Operator runs in, where pushes are made.
pub const fn namespace() -> &'static str {
    Component::ExternalSecrets.spec().namespace
}

/// The field a value is kept under in `store`: Vault's KV secrets are maps of fields; the
/// clouds' secrets are the value itself.
pub fn property(store: SecretStore) -> Option<&'static str> {
    (store == SecretStore::Vault).then_some("value")
}

/// Whether the store keeps `key`: what is drawn at random or supplied by a person.
pub fn stored(key: &Key) -> bool {
    matches!(key.birth, Birth::Random { .. } | Birth::Supplied { .. })
}

/// The name of `id.key`'s secret in the store: `<prefix>-<secret>-<key>`, in the characters
/// every store accepts in a name (Azure Key Vault allows only letters, digits and `-`).
pub fn remote_name(prefix: &str, id: SecretId, key: &str) -> String {
    let key: String = key
        .trim_start_matches('.')
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("{prefix}-{}-{key}", id.spec().name)
}

/// One stored key an ExternalSecret reads: `secret_key` names it in the template's data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemoteRef {
    pub secret_key: String,
    pub remote: String,
}

/// One ExternalSecret: the Secret it makes, what it reads and the template of each key.
#[derive(Debug, Clone, Serialize)]
pub struct ExternalSecretView {
    pub name: &'static str,
    pub namespace: &'static str,
    /// The Secret's `type`.
    pub kind: &'static str,
    pub labels: BTreeMap<&'static str, &'static str>,
    /// Its own stored keys, then those of the Secrets its derived keys come from.
    pub data: Vec<RemoteRef>,
    /// Key → Go template (External Secrets Operator's engine v2).
    pub template: BTreeMap<&'static str, String>,
}

/// The ExternalSecret of each Secret of the environment, in table order.
/// Argo CD's repository credentials are not among them ([`SecretId::in_cluster_only`]).
pub fn external_secrets(prefix: &str, env: &EnvSecrets) -> Vec<ExternalSecretView> {
    env.secrets
        .iter()
        .filter(|id| !id.in_cluster_only())
        .map(|&id| external_secret(prefix, id, &env.runs, &env.hosts))
        .collect()
}

fn external_secret(prefix: &str, id: SecretId, runs: &Runs, hosts: &Hosts) -> ExternalSecretView {
    let spec = id.spec();
    let mut data: Vec<RemoteRef> = Vec::new();
    let mut read = |source: SecretId, key: &str| {
        let secret_key = format!("{}.{key}", source.spec().name);
        if !data.iter().any(|d| d.secret_key == secret_key) {
            data.push(RemoteRef {
                remote: remote_name(prefix, source, key),
                secret_key,
            });
        }
        format!("{{{{ index . {} }}}}", quoted(&format!("{}.{key}", source.spec().name)))
    };
    let mut template = BTreeMap::new();
    for key in id.keys(runs) {
        let text = match key.birth {
            Birth::Random { .. } | Birth::Supplied { .. } => read(id, key.name),
            Birth::Fixed { value } => value.to_string(),
            Birth::Derived { template } => go_template(template, hosts, &mut read),
        };
        template.insert(key.name, text);
    }
    ExternalSecretView {
        name: spec.name,
        namespace: id.namespace(),
        kind: spec.kind,
        labels: std::iter::once(("app.kubernetes.io/managed-by", "platform"))
            .chain(spec.labels.iter().copied())
            .collect(),
        data,
        template,
    }
}

/// A derived key's template (`{secret.key}` and address fields) as a Go template: addresses
/// are written in, each `{secret.key}` reads that stored key.
fn go_template(template: &str, hosts: &Hosts, read: &mut impl FnMut(SecretId, &str) -> String) -> String {
    let mut out = String::new();
    for part in parts(template) {
        match part {
            Part::Text(text) => out.push_str(text),
            Part::Address(field) => out.push_str(hosts.address(field)),
            // The catalog's tests hold every field to a random key of a Secret of the table.
            Part::Source { secret, key } => {
                if let Some(source) = SecretId::by_name(secret) {
                    out.push_str(&read(source, key));
                }
            }
        }
    }
    out
}

/// A Go string literal: the key names of the table hold no `"` or `\`, but a literal is a
/// literal.
fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Every name the store holds for the environment: what Terraform makes as empty containers
/// (where the store has them) and grants the controller on.
pub fn remote_names(prefix: &str, env: &EnvSecrets) -> Vec<String> {
    env.secrets
        .iter()
        .filter(|id| !id.in_cluster_only())
        .flat_map(|&id| {
            id.keys(&env.runs)
                .iter()
                .filter(|k| stored(k))
                .map(move |k| remote_name(prefix, id, k.name))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{Hosts, SecretId, go_template, remote_name};

    #[test]
    fn remote_names_use_only_letters_digits_and_dashes() {
        assert_eq!(
            remote_name("acme-prod", SecretId::AppRegistryPull, ".dockerconfigjson"),
            "acme-prod-app-registry-pull-dockerconfigjson"
        );
        assert_eq!(
            remote_name("acme-prod", SecretId::ArgocdRepoGithubApp, "githubAppPrivateKey"),
            "acme-prod-argocd-repo-github-app-githubAppPrivateKey"
        );
    }

    /// Azure Key Vault names are case-insensitive and at most 127 characters; two keys must never
    /// share a name in any store.
    #[test]
    fn every_stored_key_has_a_name_of_its_own_that_every_store_accepts() {
        use crate::model::components::Runs;
        use crate::model::{Challenge, DnsRecords, Provider, SecretStore};
        let prefix = "a-forty-character-platform-name-and-env";
        for database_in_cluster in [true, false] {
            let runs = Runs {
                provider: Provider::Existing,
                database_in_cluster,
                observability_in_cluster: true,
                metallb: false,
                dns_records: DnsRecords::Rfc2136,
                challenge: Challenge::Dns01,
                secret_store: SecretStore::Vault,
            };
            let mut seen = std::collections::BTreeSet::new();
            for id in SecretId::all() {
                for key in id.keys(&runs).iter().filter(|k| super::stored(k)) {
                    let name = remote_name(prefix, id, key.name);
                    assert!(name.len() <= 127, "{name}");
                    assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'), "{name}");
                    assert!(seen.insert(name.to_lowercase()), "{name} twice");
                }
            }
        }
    }

    #[test]
    fn a_derived_key_reads_its_source_and_writes_addresses_in() {
        let hosts = Hosts {
            valkey: "valkey.data.svc".into(),
            postgres: "postgres-rw.data.svc".into(),
            gitops_repo: "https://github.com/acme/platform.git".into(),
        };
        let mut read = Vec::new();
        let text = go_template(
            "rediss://app:{valkey-users.app}@{valkey-host}:6379",
            &hosts,
            &mut |id: SecretId, key: &str| {
                read.push(remote_name("p", id, key));
                format!("<{}.{key}>", id.spec().name)
            },
        );
        assert_eq!(text, "rediss://app:<valkey-users.app>@valkey.data.svc:6379");
        assert_eq!(read, ["p-valkey-users-app"]);
    }
}
