//! Writing values to the secret store (`secrets.store`) through External Secrets Operator, so
//! `platform` needs no credentials of the store and the values travel only from this process to
//! the cluster and from the controller to the store. A write is a Secret and a PushSecret in the
//! controller's namespace, made, waited for and deleted again (the PushSecret's
//! `deletionPolicy: None` leaves what it wrote); then the ExternalSecret that reads it back is
//! told to refresh now.

use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, Patch, PatchParams};
use serde_json::{Value, json};

use super::EnvSecrets;
use super::catalog::Birth;
use super::catalog::SecretId;
use super::external::{self, STORE, remote_name};
use super::store::FIELD_MANAGER;
use super::store::{self, Outcome};
use super::values::{self, Data, ValueError};
use crate::cluster::{ClusterError, api_error};
use crate::model::SecretStore;

/// What the store does with a name that already holds a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Keep it: a generated value is made once, and the store's copy wins over a new draw
    /// (a cluster rebuilt from the same store gets the same values).
    IfNotExists,
    /// Overwrite it: what a person sets with `platform secrets set`.
    Replace,
}

/// Where pushes go: the store, and the names in it.
#[derive(Debug, Clone)]
pub struct Target {
    pub store: SecretStore,
    /// What every name in the store starts with (the cluster's name).
    pub prefix: String,
    pub timeout: Duration,
    pub poll: Duration,
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum StoreError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Cluster(#[from] ClusterError),
    #[error("the secret store is not ready after {seconds}s: {reason}")]
    #[diagnostic(
        code(secrets::store_not_ready),
        help(
            "External Secrets Operator syncs first (Applications external-secrets and secret-store); check `kubectl \
             get clustersecretstore {STORE} -o yaml`, and that Terraform's module.secrets was applied. Run the same \
             command again once it is Ready: nothing was written to the store"
        )
    )]
    NotReady { seconds: u64, reason: String },
    #[error("External Secrets Operator could not write {target} to the store: {reason}")]
    #[diagnostic(
        code(secrets::push),
        help(
            "the controller's identity needs write access to the name (Terraform's module.secrets grants it); \
             `kubectl -n external-secrets logs deploy/external-secrets` says more. Nothing else was changed"
        )
    )]
    Refused { target: String, reason: String },
    #[error(transparent)]
    #[diagnostic(transparent)]
    Value(#[from] ValueError),
}

fn resource(kind: &str, version: &str) -> ApiResource {
    ApiResource::from_gvk(&GroupVersionKind::gvk("external-secrets.io", version, kind))
}

/// The API of PushSecrets (still `v1alpha1` in External Secrets Operator 2.x).
fn push_secrets(client: &kube::Client) -> Api<DynamicObject> {
    Api::namespaced_with(
        client.clone(),
        external::namespace(),
        &resource("PushSecret", "v1alpha1"),
    )
}

/// The `Ready` condition of an External Secrets object: `Some((true, _))` when ready,
/// `Some((false, message))` when it says why not, `None` before the controller looked at it.
fn ready(object: &Value) -> Option<(bool, String)> {
    object["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == "Ready")
        .map(|c| {
            (
                c["status"] == "True",
                c["message"].as_str().unwrap_or_default().to_string(),
            )
        })
}

/// Waits until the ClusterSecretStore is Ready: the controller runs, its CRDs are served and it
/// reached the store with its identity.
pub async fn wait_for_store(client: &kube::Client, target: &Target) -> Result<(), StoreError> {
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &resource("ClusterSecretStore", "v1"));
    let started = Instant::now();
    loop {
        let reason = match api.get_opt(STORE).await {
            Ok(Some(store)) => match ready(&serde_json::to_value(&store).unwrap_or_default()) {
                Some((true, _)) => return Ok(()),
                Some((false, message)) => message,
                None => "the controller has not checked it yet".to_string(),
            },
            Ok(None) => format!("ClusterSecretStore {STORE} does not exist yet"),
            // Before the chart's CRDs are there, the kind is not served.
            Err(kube::Error::Api(status)) if status.code == 404 => {
                "External Secrets Operator's CRDs are not installed yet".to_string()
            }
            Err(e) => return Err(api_error(e, "get", &format!("clustersecretstores/{STORE}")).into()),
        };
        if started.elapsed() >= target.timeout {
            return Err(StoreError::NotReady {
                seconds: target.timeout.as_secs(),
                reason,
            });
        }
        tokio::time::sleep(target.poll).await;
    }
}

/// Makes the namespaces the ExternalSecrets write to, bare (their Applications add the labels):
/// most belong to Applications of later waves than the ExternalSecrets', and Argo CD makes only
/// an Application's own destination namespace.
pub async fn make_namespaces(client: &kube::Client, env: &EnvSecrets, dry_run: bool) -> Result<(), ClusterError> {
    let mut namespaces: Vec<&str> = env.secrets.iter().map(|id| id.namespace()).collect();
    namespaces.sort_unstable();
    namespaces.dedup();
    for ns in namespaces {
        store::ensure_namespace(client, ns, dry_run).await?;
    }
    Ok(())
}

/// What must be set before anything syncs with a secret store: the supplied keys of the
/// Secrets that stay in the cluster ([`SecretId::in_cluster_only`]), without which Argo CD
/// cannot read the repository that installs External Secrets Operator.
pub async fn missing_before_sync(
    client: &kube::Client,
    env: &EnvSecrets,
) -> Result<Vec<(SecretId, Vec<&'static str>)>, ClusterError> {
    let mut missing = Vec::new();
    for &id in env.secrets.iter().filter(|id| id.in_cluster_only()) {
        let copy = store::read(client, id).await?.map(|l| l.text()).unwrap_or_default();
        let keys: Vec<&'static str> = id
            .keys(&env.runs)
            .iter()
            .filter(|k| matches!(k.birth, Birth::Supplied { .. }) && !copy.contains_key(k.name))
            .map(|k| k.name)
            .collect();
        if !keys.is_empty() {
            missing.push((id, keys));
        }
    }
    Ok(missing)
}

/// `platform bootstrap` with a secret store: draws each random key the cluster's copy lacks
/// and pushes it with [`Policy::IfNotExists`], so a value the store already has stays (the
/// cluster's copy may only lag behind it). Reports the supplied keys the copy lacks.
pub async fn ensure(client: &kube::Client, env: &EnvSecrets, target: &Target) -> Result<Outcome, StoreError> {
    let mut outcome = Outcome::default();
    for &id in env.secrets.iter().filter(|id| !id.in_cluster_only()) {
        let live = store::read(client, id).await?;
        let copy = live.as_ref().map(store::Live::text).unwrap_or_default();
        let mut fresh = Data::new();
        let mut missing = Vec::new();
        for key in id.keys(&env.runs) {
            if copy.contains_key(key.name) {
                continue;
            }
            match key.birth {
                Birth::Random { bytes } => {
                    fresh.insert(key.name.to_string(), values::random(bytes)?);
                }
                Birth::Supplied { .. } => missing.push(key.name),
                Birth::Fixed { .. } | Birth::Derived { .. } => {}
            }
        }
        if !missing.is_empty() {
            outcome.missing.push((id, missing));
        }
        if !fresh.is_empty() {
            push(client, target, id, &fresh, Policy::IfNotExists).await?;
            outcome.created.push(id);
        } else if live.is_some() {
            outcome.kept.push(id);
        }
    }
    Ok(outcome)
}

/// Writes `data` (key → value of `id`) to the store under [`remote_name`]s, with `policy`,
/// and asks the ExternalSecret of `id` to read it back now.
pub async fn push(
    client: &kube::Client,
    target: &Target,
    id: SecretId,
    data: &Data,
    policy: Policy,
) -> Result<(), StoreError> {
    let name = format!("platform-push-{}", id.spec().name);
    let namespace = external::namespace();
    let what = format!("pushsecrets/{name} in namespace {namespace}");
    let pushes = push_secrets(client);
    let secrets: Api<Secret> = Api::namespaced(client.clone(), namespace);
    // What an interrupted run left would report the old push as done.
    delete(&pushes, &name, &what).await?;
    let params = PatchParams::apply(FIELD_MANAGER);
    let source = json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": { "name": name, "namespace": namespace, "labels": { "app.kubernetes.io/managed-by": "platform" } },
        "type": "Opaque",
        "data": data.iter().map(|(k, v)| (k.clone(), json!(BASE64.encode(v)))).collect::<serde_json::Map<_, _>>(),
    });
    secrets
        .patch(&name, &params, &Patch::Apply(&source))
        .await
        .map_err(|e| api_error(e, "apply", &format!("secrets/{name} in namespace {namespace}")))?;
    let property = external::property(target.store);
    let matches: Vec<Value> = data
        .keys()
        .map(|key| {
            let mut remote = json!({ "remoteKey": remote_name(&target.prefix, id, key) });
            if let Some(property) = property {
                remote["property"] = json!(property);
            }
            json!({ "match": { "secretKey": key, "remoteRef": remote } })
        })
        .collect();
    let push = json!({
        "apiVersion": "external-secrets.io/v1alpha1",
        "kind": "PushSecret",
        "metadata": { "name": name, "namespace": namespace, "labels": { "app.kubernetes.io/managed-by": "platform" } },
        "spec": {
            "updatePolicy": match policy { Policy::IfNotExists => "IfNotExists", Policy::Replace => "Replace" },
            "deletionPolicy": "None",
            "refreshInterval": "1h",
            "secretStoreRefs": [{ "kind": "ClusterSecretStore", "name": STORE }],
            "selector": { "secret": { "name": name } },
            "data": matches,
        },
    });
    match pushes.patch(&name, &params, &Patch::Apply(&push)).await {
        Ok(_) => {}
        // The kind is not served: Argo CD has not installed the operator yet.
        Err(kube::Error::Api(status)) if status.code == 404 => {
            delete(&secrets, &name, &format!("secrets/{name} in namespace {namespace}")).await?;
            return Err(StoreError::NotReady {
                seconds: 0,
                reason: "External Secrets Operator's CRDs are not installed yet: run `platform bootstrap` first, \
                         then set this value"
                    .into(),
            });
        }
        Err(e) => return Err(api_error(e, "apply", &what).into()),
    }
    let outcome = wait_for_push(&pushes, &name, &what, target).await;
    // Whether it worked or not, the value leaves the cluster's copy of the push.
    delete(&pushes, &name, &what).await?;
    delete(&secrets, &name, &format!("secrets/{name} in namespace {namespace}")).await?;
    outcome?;
    refresh(client, id).await
}

async fn wait_for_push(pushes: &Api<DynamicObject>, name: &str, what: &str, target: &Target) -> Result<(), StoreError> {
    let started = Instant::now();
    loop {
        let object = pushes.get(name).await.map_err(|e| api_error(e, "get", what))?;
        match ready(&serde_json::to_value(&object).unwrap_or_default()) {
            Some((true, _)) => return Ok(()),
            Some((false, reason)) if !reason.is_empty() => {
                return Err(StoreError::Refused {
                    target: name.trim_start_matches("platform-push-").to_string(),
                    reason,
                });
            }
            _ => {}
        }
        if started.elapsed() >= target.timeout {
            return Err(StoreError::NotReady {
                seconds: target.timeout.as_secs(),
                reason: format!("PushSecret {name} was not synced"),
            });
        }
        tokio::time::sleep(target.poll).await;
    }
}

async fn delete<K>(api: &Api<K>, name: &str, what: &str) -> Result<(), ClusterError>
where
    K: Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    match api.delete(name, &DeleteParams::default()).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
        Err(e) => Err(api_error(e, "delete", what)),
    }
}

/// External Secrets Operator refreshes an ExternalSecret whose `force-sync` annotation changed.
async fn refresh(client: &kube::Client, id: SecretId) -> Result<(), StoreError> {
    let api: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), id.namespace(), &resource("ExternalSecret", "v1"));
    let now = super::rotate::rfc3339(time::OffsetDateTime::now_utc());
    let patch = json!({ "metadata": { "annotations": { "force-sync": now } } });
    let name = id.spec().name;
    match api.patch(name, &PatchParams::default(), &Patch::Merge(&patch)).await {
        Ok(_) => Ok(()),
        // Not synced by Argo CD yet: it reads the store when it is made.
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
        Err(e) => Err(api_error(
            e,
            "annotate",
            &format!("externalsecrets/{name} in namespace {}", id.namespace()),
        )
        .into()),
    }
}
