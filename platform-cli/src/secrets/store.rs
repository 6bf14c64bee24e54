//! The table's Secrets in a cluster: read them (values stay in memory, never printed), make the
//! missing generated ones, set the supplied ones. Writes are server-side applies with the field
//! manager [`FIELD_MANAGER`], never forced: a value another manager wrote stays as it is.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::api::{Api, Patch, PatchParams};
use serde::Serialize;

use super::EnvSecrets;
use super::catalog::{Birth, SecretId};
use super::values::{self, Data};
use crate::cluster::{ClusterError, api_error};

/// The field manager of every Secret `platform` writes.
pub const FIELD_MANAGER: &str = "platform-secrets";

/// A Secret as the cluster holds it.
#[derive(Debug, Clone)]
pub struct Live {
    pub data: BTreeMap<String, Vec<u8>>,
    /// RFC 3339 creation time.
    pub created: Option<String>,
}

impl Live {
    /// The data as text (the table's values all are); a key that is not UTF-8 is left out.
    pub fn text(&self) -> Data {
        self.data
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), String::from_utf8(v.clone()).ok()?)))
            .collect()
    }
}

/// Reads `id` in its namespace; `None` when it does not exist.
pub async fn read(client: &kube::Client, id: SecretId) -> Result<Option<Live>, ClusterError> {
    let api: Api<Secret> = Api::namespaced(client.clone(), id.namespace());
    let secret = api
        .get_opt(id.spec().name)
        .await
        .map_err(|e| api_error(e, "get", &resource(id)))?;
    Ok(secret.map(|s| Live {
        data: s
            .data
            .unwrap_or_default()
            .into_iter()
            .map(|(k, ByteString(v))| (k, v))
            .collect(),
        created: s.metadata.creation_timestamp.map(|t| t.0.to_string()),
    }))
}

/// Applies `data` as the whole of `id`'s data owned by `platform`, making its namespace first
/// when it has none. Returns the Secret's new resourceVersion, which operators that follow it
/// report back (CloudNativePG's managed roles).
pub async fn write(
    client: &kube::Client,
    id: SecretId,
    data: &Data,
    dry_run: bool,
) -> Result<Option<String>, ClusterError> {
    ensure_namespace(client, id.namespace(), dry_run).await?;
    let spec = id.spec();
    let labels: BTreeMap<&str, &str> = std::iter::once(("app.kubernetes.io/managed-by", "platform"))
        .chain(spec.labels.iter().copied())
        .collect();
    let object = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": spec.name,
            "namespace": id.namespace(),
            "labels": labels,
        },
        "type": spec.kind,
        "data": data.iter().map(|(k, v)| (k.clone(), BASE64.encode(v))).collect::<BTreeMap<_, _>>(),
    });
    let mut params = PatchParams::apply(FIELD_MANAGER);
    params.dry_run = dry_run;
    let api: Api<Secret> = Api::namespaced(client.clone(), id.namespace());
    let written = api
        .patch(spec.name, &params, &Patch::Apply(&object))
        .await
        .map_err(|e| api_error(e, "apply", &resource(id)))?;
    Ok(written.metadata.resource_version)
}

pub async fn ensure_namespace(client: &kube::Client, name: &str, dry_run: bool) -> Result<(), ClusterError> {
    let api: Api<Namespace> = Api::all(client.clone());
    let what = format!("namespaces/{name}");
    if api
        .get_opt(name)
        .await
        .map_err(|e| api_error(e, "get", &what))?
        .is_some()
    {
        return Ok(());
    }
    // A bare namespace: its Argo CD Application (or the namespaces Application) adds its labels.
    let object = serde_json::json!({ "apiVersion": "v1", "kind": "Namespace", "metadata": { "name": name } });
    let mut params = PatchParams::apply(FIELD_MANAGER);
    params.dry_run = dry_run;
    api.patch(name, &params, &Patch::Apply(&object))
        .await
        .map_err(|e| api_error(e, "apply", &what))?;
    Ok(())
}

fn resource(id: SecretId) -> String {
    format!("secrets/{} in namespace {}", id.spec().name, id.namespace())
}

/// What [`ensure`] did and found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// Made now.
    pub created: Vec<SecretId>,
    /// There already, with keys added that it lacked.
    pub completed: Vec<SecretId>,
    /// There already and complete: left as it was.
    pub kept: Vec<SecretId>,
    /// A person's to set, with the keys still missing.
    pub missing: Vec<(SecretId, Vec<&'static str>)>,
}

/// Makes every missing generated Secret of the environment (and the missing generated keys of
/// one that exists), in table order so a derived value finds its source; never changes a value
/// that is there. Reports the supplied Secrets (or keys) still missing.
pub async fn ensure(client: &kube::Client, env: &EnvSecrets, dry_run: bool) -> Result<Outcome, ClusterError> {
    let mut outcome = Outcome::default();
    let mut known: BTreeMap<SecretId, Data> = BTreeMap::new();
    for &id in &env.secrets {
        let live = read(client, id).await?;
        let existing = live.as_ref().map(Live::text).unwrap_or_default();
        let filled = values::fill(id, &env.runs, &existing, &known, &env.hosts).map_err(|e| ClusterError::Api {
            verb: "generate".into(),
            resource: resource(id),
            message: e.to_string(),
            help: "run bootstrap again; report it if it persists".into(),
        })?;
        let missing = missing_supplied(id, env, &filled);
        if !missing.is_empty() {
            outcome.missing.push((id, missing));
        }
        if filled == existing {
            if live.is_some() {
                outcome.kept.push(id);
            }
        } else {
            write(client, id, &filled, dry_run).await?;
            if live.is_some() {
                outcome.completed.push(id);
            } else {
                outcome.created.push(id);
            }
        }
        known.insert(id, filled);
    }
    Ok(outcome)
}

fn missing_supplied(id: SecretId, env: &EnvSecrets, data: &Data) -> Vec<&'static str> {
    id.keys(&env.runs)
        .iter()
        .filter(|k| matches!(k.birth, Birth::Supplied { .. }) && !data.contains_key(k.name))
        .map(|k| k.name)
        .collect()
}
