//! The values of the platform-made Secrets: random keys drawn fresh, fixed keys as the table
//! says, derived keys filled in from the Secrets they come from. Nothing here talks to a cluster
//! or prints a value.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use super::catalog::{Birth, SecretId};
use crate::model::components::Runs;

/// A Secret's data: key → value.
pub type Data = BTreeMap<String, String>;

/// The addresses derived values point at: the in-cluster services, and the GitOps repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hosts {
    pub valkey: String,
    pub postgres: String,
    pub gitops_repo: String,
}

/// The fields of a derived template that are addresses, not `{secret.key}`.
pub const ADDRESS_FIELDS: [&str; 3] = ["valkey-host", "postgres-host", "gitops-repo"];

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ValueError {
    #[error("the operating system's random number generator failed: {0}")]
    #[diagnostic(
        code(secrets::random),
        help("retry; if it persists, check the machine's entropy source")
    )]
    Random(String),
    #[error("{secret}.{key} is derived from {source_secret}.{source_key}, which has no value")]
    #[diagnostic(
        code(secrets::derive),
        help("make {source_secret} first (`platform bootstrap` makes the table's Secrets in order)")
    )]
    MissingSource {
        secret: &'static str,
        key: &'static str,
        source_secret: String,
        source_key: String,
    },
}

/// `bytes` random bytes as base64url without padding.
pub fn random(bytes: usize) -> Result<String, ValueError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| ValueError::Random(e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(buf))
}

/// The data a new `id` gets: keys already in `existing` are kept as they are, every other
/// generated, fixed or derived key is made (derived ones from `known`, the other Secrets'
/// data). Supplied keys are never made here.
pub fn fill(
    id: SecretId,
    runs: &Runs,
    existing: &Data,
    known: &BTreeMap<SecretId, Data>,
    hosts: &Hosts,
) -> Result<Data, ValueError> {
    let mut data = existing.clone();
    for key in id.keys(runs) {
        if data.contains_key(key.name) {
            continue;
        }
        let value = match key.birth {
            Birth::Random { bytes } => random(bytes)?,
            Birth::Fixed { value } => value.to_string(),
            Birth::Derived { template } => derive(id, key.name, template, known, hosts)?,
            Birth::Supplied { .. } => continue,
        };
        data.insert(key.name.to_string(), value);
    }
    Ok(data)
}

/// A piece of a derived key's template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part<'a> {
    Text(&'a str),
    /// An address the environment knows (one of [`ADDRESS_FIELDS`]).
    Address(&'a str),
    /// `{secret.key}`: that key's value.
    Source {
        secret: &'a str,
        key: &'a str,
    },
}

/// Splits a derived key's template into its literal text and its `{…}` fields.
pub fn parts(template: &str) -> Vec<Part<'_>> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push(Part::Text(&rest[..open]));
        let after = &rest[open + 1..];
        let close = after.find('}').unwrap_or(after.len());
        let field = &after[..close];
        out.push(if ADDRESS_FIELDS.contains(&field) {
            Part::Address(field)
        } else {
            let (secret, key) = field.split_once('.').unwrap_or((field, ""));
            Part::Source { secret, key }
        });
        rest = after.get(close + 1..).unwrap_or_default();
    }
    out.push(Part::Text(rest));
    out
}

impl Hosts {
    /// The address an [`ADDRESS_FIELDS`] field stands for.
    pub fn address(&self, field: &str) -> &str {
        match field {
            "valkey-host" => &self.valkey,
            "postgres-host" => &self.postgres,
            _ => &self.gitops_repo,
        }
    }
}

/// Fills `template`'s `{secret.key}` fields and its [`ADDRESS_FIELDS`].
pub fn derive(
    id: SecretId,
    key: &'static str,
    template: &str,
    known: &BTreeMap<SecretId, Data>,
    hosts: &Hosts,
) -> Result<String, ValueError> {
    let mut out = String::new();
    for part in parts(template) {
        match part {
            Part::Text(text) => out.push_str(text),
            Part::Address(field) => out.push_str(hosts.address(field)),
            Part::Source {
                secret,
                key: source_key,
            } => {
                let missing = || ValueError::MissingSource {
                    secret: id.spec().name,
                    key,
                    source_secret: secret.to_string(),
                    source_key: source_key.to_string(),
                };
                let value = SecretId::by_name(secret)
                    .and_then(|s| known.get(&s))
                    .and_then(|d| d.get(source_key))
                    .ok_or_else(missing)?;
                out.push_str(value);
            }
        }
    }
    Ok(out)
}

/// What `secrets list --live` shows of a value: its length and the first 8 hex digits of its
/// SHA-256, enough to tell two values apart and nothing to recover one.
pub fn digest(value: &[u8]) -> String {
    let hash = Sha256::digest(value);
    format!("sha256:{}", &hex(&hash)[..8])
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::{Data, Hosts, SecretId, fill};
    use crate::model::components::Runs;
    use crate::model::{Challenge, DnsRecords, Provider, SecretStore};

    fn runs(database_in_cluster: bool) -> Runs {
        Runs {
            provider: Provider::Eks,
            database_in_cluster,
            observability_in_cluster: true,
            metallb: false,
            dns_records: DnsRecords::Cloud,
            challenge: Challenge::Http01,
            secret_store: SecretStore::Kubernetes,
        }
    }

    fn hosts() -> Hosts {
        Hosts {
            valkey: "valkey.data.svc".into(),
            postgres: "postgres-rw.data.svc".into(),
            gitops_repo: "https://github.com/acme/platform.git".into(),
        }
    }

    #[test]
    fn generated_keys_are_fresh_and_long_enough_for_their_readers() -> Result<(), super::ValueError> {
        let a = fill(SecretId::AppJwt, &runs(true), &Data::new(), &BTreeMap::new(), &hosts())?;
        let b = fill(SecretId::AppJwt, &runs(true), &Data::new(), &BTreeMap::new(), &hosts())?;
        assert_ne!(a["secret"], b["secret"]);
        // The app refuses a JWT key under 32 bytes and an admin token under 24 characters.
        assert_eq!(a["secret"].len(), 64);
        let admin = fill(
            SecretId::AppAdmin,
            &runs(true),
            &Data::new(),
            &BTreeMap::new(),
            &hosts(),
        )?;
        assert!(admin["token"].len() >= 24);
        assert!(
            a["secret"]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
            "safe in a URL"
        );
        Ok(())
    }

    #[test]
    fn existing_keys_are_kept_and_derived_ones_follow_their_source() -> Result<(), super::ValueError> {
        let users = fill(
            SecretId::ValkeyUsers,
            &runs(true),
            &Data::new(),
            &BTreeMap::new(),
            &hosts(),
        )?;
        let known = BTreeMap::from([(SecretId::ValkeyUsers, users.clone())]);
        let creds = fill(
            SecretId::RedisAppCredentials,
            &runs(true),
            &Data::new(),
            &known,
            &hosts(),
        )?;
        assert_eq!(
            creds["url"],
            format!("rediss://app:{}@valkey.data.svc:6379", users["app"])
        );
        let kept = fill(SecretId::ValkeyUsers, &runs(true), &users, &BTreeMap::new(), &hosts())?;
        assert_eq!(kept, users);
        Ok(())
    }

    #[test]
    fn a_derived_key_without_its_source_is_an_error() {
        let err = fill(
            SecretId::AppDatabase,
            &runs(true),
            &Data::new(),
            &BTreeMap::new(),
            &hosts(),
        )
        .err()
        .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("app-database.uri is derived from postgres-app-login.password, which has no value")
        );
    }

    #[test]
    fn supplied_keys_are_never_made() -> Result<(), super::ValueError> {
        let db = fill(
            SecretId::AppDatabase,
            &runs(false),
            &Data::new(),
            &BTreeMap::new(),
            &hosts(),
        )?;
        assert!(db.is_empty(), "a managed database's URI is a person's to set");
        Ok(())
    }
}
