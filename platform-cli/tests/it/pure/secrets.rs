//! `platform bootstrap`'s and `platform secrets rotate`'s Secrets against a stand-in for the
//! Kubernetes API server: no API server runs on these machines. The stand-in keeps Namespaces,
//! Secrets and Deployments in memory and answers GET (404 `Status` when absent), server-side
//! apply PATCH of a Secret (creates it; an apply's `data` is the whole data, as for an object one
//! field manager owns: keys it no longer applies are gone) and a merge PATCH of a Deployment's
//! template (a rollout, which completes over the next GETs as the controller would report it).
//! It does not model managedFields or apply conflicts, so the tests count what the client writes
//! instead.
//!
//! With a secret store it also plays External Secrets Operator (which cannot run here) and the
//! store behind it: a PushSecret, at its first GET, writes each matched key of its source Secret
//! to `store` as its `updatePolicy` says (`IfNotExists` keeps a name that holds a value) and
//! reports Ready, or not Ready with the store's refusal for a name in `refused`; PushSecrets and
//! Secrets can be deleted; the ClusterSecretStore is Ready unless `store_down`; an
//! ExternalSecret takes a merge patch of its annotations once Argo CD made it.
//!
//! CloudNativePG's Cluster `postgres` applies a managed role's Secret at the second GET after it
//! changed (reporting the Secret's resourceVersion in `managedRolesStatus`, as it does), and the
//! stand-in checks at that moment that no running app pod logs in as that role.
//!
//! Valkey reads `valkey-users` when its pod starts, as the chart's init script does: a restart
//! of its Deployment loads the Secret's passwords, and the stand-in checks at every restart of
//! Valkey or the app that the Valkey running accepts every login the app's pods hold.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use http::{Request, Response, StatusCode};
use kube::client::Body;
use platform_cli::manifest::{self, resolve};
use platform_cli::model::SecretStore;
use platform_cli::secrets::EnvSecrets;
use platform_cli::secrets::catalog::{Birth, SecretId};
use platform_cli::secrets::store::{self, FIELD_MANAGER};
use platform_cli::secrets::{push, rotate};
use serde_json::{Value, json};

use test_support::apiserver::reply;

#[derive(Debug, Default)]
struct Cluster {
    /// (namespace or "", kind, name) → object.
    objects: BTreeMap<(String, &'static str, String), Value>,
    /// Every PATCH, as "kind namespace/name".
    writes: Vec<String>,
    /// Each rollout of the app Deployment: the app-jwt data its new pods started with (the old
    /// pods keep theirs until the rollout ends).
    rollouts: Vec<BTreeMap<String, String>>,
    /// GETs of a Deployment left before its rollout reports done.
    rollout_gets: u32,
    /// Its new pods never become ready: the rollout never completes.
    stuck: bool,
    /// The secret store: name → value (the `value` field, as in Vault's KV engine).
    store: BTreeMap<String, String>,
    /// Names the store refuses to write (no permission).
    refused: Vec<String>,
    /// The ClusterSecretStore is not Ready: the controller cannot reach the store.
    store_down: bool,
    /// External Secrets Operator is not installed: its kinds are not served.
    no_operator: bool,
    /// Each Secret write's resourceVersion.
    version: u64,
    /// CloudNativePG: role → (resourceVersion, password) it applied.
    applied: BTreeMap<String, (String, String)>,
    /// GETs of the Cluster until a changed Secret is applied.
    cnpg_gets: u32,
    /// The database URIs the app's running pods hold (two during a rollout).
    held: Vec<String>,
    /// Each rollout of the app: the URI its new pods start with.
    db_rollouts: Vec<String>,
    /// The ACL users' passwords of the Valkey running (loaded from valkey-users at its start).
    valkey_acl: BTreeMap<String, String>,
    /// The Valkey URLs the app's running pods hold (two during a rollout).
    redis_held: Vec<String>,
    /// Each restart of Valkey, then of the app, in order: "valkey" or "app".
    restarts: Vec<&'static str>,
}

/// The managed roles of the Cluster and their Secrets.
const ROLES: [(&str, &str); 3] = [
    ("app", "postgres-app-login"),
    ("app_b", "postgres-app-login-b"),
    ("app_owner", "postgres-owner"),
];

/// Whether the Valkey running lets in every login the app's pods hold.
fn valkey_accepts_the_app(cluster: &Cluster) {
    for held in &cluster.redis_held {
        let url = url::Url::parse(held).expect("a URL");
        assert_eq!(
            cluster.valkey_acl.get(url.username()).map(String::as_str),
            url.password(),
            "Valkey refuses the app's user {}",
            url.username()
        );
    }
}

/// What CloudNativePG reports of the Cluster, applying each role whose Secret changed (at the
/// second GET after the change): a role's new password must not be one a running pod uses.
fn cnpg(cluster: &mut Cluster) -> Value {
    let mut changed = false;
    for (role, secret) in ROLES {
        let Some(object) = cluster.objects.get(&("data".to_string(), "Secret", secret.to_string())) else {
            continue;
        };
        let version = object["metadata"]["resourceVersion"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if cluster.applied.get(role).map(|(v, _)| v) == Some(&version) {
            continue;
        }
        if cluster.cnpg_gets < 1 {
            changed = true;
            continue;
        }
        let password = decoded(object)["password"].clone();
        for uri in &cluster.held {
            let url = url::Url::parse(uri).expect("a URI");
            assert_ne!(url.username(), role, "{role}'s password changed under a running pod");
        }
        cluster.applied.insert(role.to_string(), (version, password));
    }
    cluster.cnpg_gets = if changed { cluster.cnpg_gets + 1 } else { 0 };
    let status: serde_json::Map<String, Value> = cluster
        .applied
        .iter()
        .map(|(role, (version, _))| (role.clone(), json!({ "resourceVersion": version, "transactionID": 1 })))
        .collect();
    json!({ "apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster", "metadata": { "name": "postgres", "namespace": "data" },
            "status": { "managedRolesStatus": { "passwordStatus": status } } })
}

/// The Deployment `name` with `replicas` replicas, its last rollout done.
fn deployment(name: &str, namespace: &str, replicas: i32) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": { "name": name, "namespace": namespace, "generation": 1 },
        "spec": { "replicas": replicas, "selector": {}, "template": {} },
        "status": { "observedGeneration": 1, "replicas": replicas, "updatedReplicas": replicas, "availableReplicas": replicas },
    })
}

/// What a GET of a Deployment shows while its rollout is under way, `gets_left` GETs before it
/// is done: first the controller has not seen the template, then one new pod beside the old
/// ones, then done.
fn progress(object: &mut Value, gets_left: u32) {
    let generation = object["metadata"]["generation"].clone();
    let replicas = object["spec"]["replicas"].as_i64().unwrap_or(1);
    object["status"] = match gets_left {
        0 => {
            json!({ "observedGeneration": generation, "replicas": replicas, "updatedReplicas": replicas, "availableReplicas": replicas })
        }
        1 => {
            json!({ "observedGeneration": generation, "replicas": replicas + 1, "updatedReplicas": 1, "availableReplicas": replicas })
        }
        _ => {
            json!({ "observedGeneration": generation.as_i64().unwrap_or(1) - 1, "replicas": replicas, "updatedReplicas": replicas, "availableReplicas": replicas })
        }
    };
}

fn not_found(name: &str) -> Response<Body> {
    reply(
        StatusCode::NOT_FOUND,
        &json!({ "kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404,
                 "message": format!("\"{name}\" not found") }),
    )
}

/// Routes `/api/v1/namespaces/{ns}` and `/api/v1/namespaces/{ns}/secrets/{name}`.
async fn serve(state: Arc<Mutex<Cluster>>, request: Request<Body>) -> Result<Response<Body>, std::convert::Infallible> {
    let path: Vec<String> = request.uri().path().split('/').skip(1).map(str::to_string).collect();
    let query = request.uri().query().unwrap_or_default().to_string();
    let method = request.method().clone();
    let bytes = request.into_body().collect_bytes().await.expect("body");
    let key = match path.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["api", "v1", "namespaces", ns] => (String::new(), "Namespace", (*ns).to_string()),
        ["api", "v1", "namespaces", ns, "secrets", name] => ((*ns).to_string(), "Secret", (*name).to_string()),
        ["apis", "apps", "v1", "namespaces", ns, "deployments", name] => {
            ((*ns).to_string(), "Deployment", (*name).to_string())
        }
        [
            "apis",
            "external-secrets.io",
            "v1alpha1",
            "namespaces",
            ns,
            "pushsecrets",
            name,
        ] => ((*ns).to_string(), "PushSecret", (*name).to_string()),
        [
            "apis",
            "external-secrets.io",
            "v1",
            "namespaces",
            ns,
            "externalsecrets",
            name,
        ] => ((*ns).to_string(), "ExternalSecret", (*name).to_string()),
        ["apis", "external-secrets.io", "v1", "clustersecretstores", name] => {
            (String::new(), "ClusterSecretStore", (*name).to_string())
        }
        ["apis", "postgresql.cnpg.io", "v1", "namespaces", ns, "clusters", name] => {
            ((*ns).to_string(), "Cluster", (*name).to_string())
        }
        other => panic!("the stand-in serves no {other:?}"),
    };
    let mut cluster = state.lock().expect("lock");
    if key.1 == "Deployment" {
        return Ok(deployments(&mut cluster, &key, &method, &query, &bytes));
    }
    if key.1 == "Cluster" {
        assert_eq!(method, http::Method::GET, "the Cluster is only read");
        return Ok(reply(StatusCode::OK, &cnpg(&mut cluster)));
    }
    if method == http::Method::DELETE {
        cluster.writes.push(format!("delete {} {}/{}", key.1, key.0, key.2));
        return Ok(match cluster.objects.remove(&key) {
            Some(object) => reply(StatusCode::OK, &object),
            None => not_found(&key.2),
        });
    }
    if key.1 == "ClusterSecretStore" {
        let ready = if cluster.store_down { "False" } else { "True" };
        return Ok(reply(
            StatusCode::OK,
            &json!({ "apiVersion": "external-secrets.io/v1", "kind": "ClusterSecretStore", "metadata": { "name": key.2 },
                     "status": { "conditions": [{ "type": "Ready", "status": ready, "message": "unable to log in to the store" }] } }),
        ));
    }
    if key.1 == "ExternalSecret" {
        assert_eq!(method, http::Method::PATCH, "only the force-sync annotation");
        cluster
            .writes
            .push(format!("annotate ExternalSecret {}/{}", key.0, key.2));
        return Ok(match cluster.objects.get(&key) {
            Some(object) => reply(StatusCode::OK, object),
            None => not_found(&key.2),
        });
    }
    if key.1 == "PushSecret" && cluster.no_operator {
        return Ok(reply(
            StatusCode::NOT_FOUND,
            &json!({ "kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404,
                     "message": "the server could not find the requested resource" }),
        ));
    }
    if key.1 == "PushSecret" && method == http::Method::GET {
        let Some(object) = cluster.objects.get(&key).cloned() else {
            return Ok(not_found(&key.2));
        };
        let synced = sync_push(&mut cluster, &key.0, &object);
        let object = cluster.objects.get_mut(&key).expect("there");
        object["status"] = json!({ "conditions": [match synced {
            Ok(()) => json!({ "type": "Ready", "status": "True", "reason": "Synced" }),
            Err(message) => json!({ "type": "Ready", "status": "False", "reason": "Errored", "message": message }),
        }] });
        return Ok(reply(StatusCode::OK, object));
    }
    if method == http::Method::GET {
        return Ok(match cluster.objects.get(&key) {
            Some(object) => reply(StatusCode::OK, object),
            None => not_found(&key.2),
        });
    }
    assert_eq!(method, http::Method::PATCH, "only GET and server-side apply");
    assert!(query.contains(&format!("fieldManager={FIELD_MANAGER}")), "{query}");
    assert!(
        !query.contains("force=true"),
        "never forced: a value another manager wrote stays"
    );
    if key.1 == "Secret" {
        assert!(
            cluster
                .objects
                .contains_key(&(String::new(), "Namespace", key.0.clone())),
            "a Secret is applied only into a namespace that exists"
        );
    }
    let body: Value = serde_json::from_slice(&bytes).expect("apply body");
    cluster.writes.push(format!("{} {}/{}", key.1, key.0, key.2));
    let object = cluster.objects.entry(key.clone()).or_insert_with(|| {
        let mut o = body.clone();
        o["metadata"]["creationTimestamp"] = json!("2026-12-03T08:00:00Z");
        o
    });
    if body.get("data").is_some() {
        object["data"] = body["data"].clone();
    }
    cluster.version += 1;
    let version = cluster.version.to_string();
    let object = cluster.objects.get_mut(&key).expect("there");
    object["metadata"]["resourceVersion"] = json!(version);
    Ok(reply(StatusCode::OK, object))
}

/// What External Secrets Operator does with a PushSecret: each match's key of the source Secret
/// to its remote name, as the update policy says.
fn sync_push(cluster: &mut Cluster, namespace: &str, push: &Value) -> Result<(), String> {
    let spec = &push["spec"];
    assert_eq!(spec["deletionPolicy"], "None", "a push's values outlive the PushSecret");
    assert_eq!(spec["secretStoreRefs"][0]["kind"], "ClusterSecretStore");
    let source = spec["selector"]["secret"]["name"].as_str().expect("a source Secret");
    let data = decoded(&cluster.objects[&(namespace.to_string(), "Secret", source.to_string())]);
    for m in spec["data"].as_array().expect("data") {
        let key = m["match"]["secretKey"].as_str().expect("secretKey");
        let remote = m["match"]["remoteRef"]["remoteKey"].as_str().expect("remoteKey");
        assert_eq!(
            m["match"]["remoteRef"]["property"], "value",
            "Vault keeps a value under a field"
        );
        if cluster.refused.iter().any(|r| r == remote) {
            return Err(format!("permission denied writing {remote}"));
        }
        if spec["updatePolicy"] == "IfNotExists" && cluster.store.contains_key(remote) {
            continue;
        }
        cluster.store.insert(remote.to_string(), data[key].clone());
    }
    Ok(())
}

/// GET and restart of a Deployment; a restart records the app-jwt data its new pods read.
fn deployments(
    cluster: &mut Cluster,
    key: &(String, &'static str, String),
    method: &http::Method,
    query: &str,
    bytes: &[u8],
) -> Response<Body> {
    // Stuck: one new pod that never becomes available.
    let gets_left = if cluster.stuck { 1 } else { cluster.rollout_gets };
    let Some(object) = cluster.objects.get_mut(key) else {
        return not_found(&key.2);
    };
    if method == http::Method::GET {
        if object["status"]["observedGeneration"] != object["metadata"]["generation"]
            || object["status"]["updatedReplicas"] != object["spec"]["replicas"]
            || object["status"]["replicas"] != object["spec"]["replicas"]
        {
            progress(object, gets_left);
            cluster.rollout_gets = cluster.rollout_gets.saturating_sub(1);
            if gets_left == 0 {
                // The old pods are gone: only the new URIs are held.
                for held in [&mut cluster.held, &mut cluster.redis_held] {
                    if held.len() > 1 {
                        held.drain(..held.len() - 1);
                    }
                }
            }
        }
        return reply(StatusCode::OK, object);
    }
    assert_eq!(method, http::Method::PATCH, "only GET and restart");
    assert!(query.contains(&format!("fieldManager={FIELD_MANAGER}")), "{query}");
    let patch: Value = serde_json::from_slice(bytes).expect("patch body");
    let at = &patch["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"];
    assert!(
        at.is_string(),
        "a restart stamps the template, as kubectl does: {patch}"
    );
    object["spec"]["template"] = patch["spec"]["template"].clone();
    object["metadata"]["generation"] = json!(object["metadata"]["generation"].as_i64().unwrap_or(1) + 1);
    progress(object, 2);
    let reply = reply(StatusCode::OK, object);
    cluster.writes.push(format!("Deployment {}/{}", key.0, key.2));
    cluster.rollout_gets = 2;
    let secret = |cluster: &Cluster, namespace: &str, name: &str| {
        cluster
            .objects
            .get(&(namespace.to_string(), "Secret", name.to_string()))
            .map(decoded)
    };
    if key.2 == "valkey" {
        // Recreate: the old server is gone before the new one starts with the Secret's users.
        cluster.valkey_acl = secret(cluster, "data", "valkey-users").expect("valkey-users");
        cluster.restarts.push("valkey");
        valkey_accepts_the_app(cluster);
        return reply;
    }
    if key.2 != "app" {
        return reply;
    }
    cluster.restarts.push("app");
    if let Some(redis) = secret(cluster, "app", "redis-app-credentials") {
        cluster.redis_held.push(redis["url"].clone());
        if !cluster.valkey_acl.is_empty() {
            valkey_accepts_the_app(cluster);
        }
    }
    let jwt = decoded(&cluster.objects[&("app".to_string(), "Secret", "app-jwt".to_string())]);
    cluster.rollouts.push(jwt);
    if let Some(db) = cluster
        .objects
        .get(&("app".to_string(), "Secret", "app-database".to_string()))
    {
        let uri = decoded(db)["uri"].clone();
        cluster.held.push(uri.clone());
        cluster.db_rollouts.push(uri);
    }
    reply
}

fn decoded(secret: &Value) -> BTreeMap<String, String> {
    secret["data"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| {
            let bytes = BASE64.decode(v.as_str().expect("base64")).expect("base64");
            (k.clone(), String::from_utf8(bytes).expect("text"))
        })
        .collect()
}

fn standin(state: &Arc<Mutex<Cluster>>) -> kube::Client {
    let state = state.clone();
    let service = tower::service_fn(move |request| serve(state.clone(), request));
    kube::Client::new(service, "default")
}

fn environment(example: &str, env: &str) -> EnvSecrets {
    let loaded = manifest::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(example)).expect("valid");
    let e = loaded
        .manifest
        .environments
        .iter()
        .find(|e| e.name == env)
        .expect("environment");
    let resolved = resolve::resolve_environment(&loaded.manifest, e).expect("resolves");
    resolved.secret_table(&loaded.manifest, e)
}

fn data_of(state: &Arc<Mutex<Cluster>>, id: SecretId) -> BTreeMap<String, String> {
    let cluster = state.lock().expect("lock");
    decoded(&cluster.objects[&(id.namespace().to_string(), "Secret", id.spec().name.to_string())])
}

#[tokio::test]
async fn bootstrap_makes_each_generated_secret_once_and_nothing_the_second_time() {
    let state = Arc::new(Mutex::new(Cluster::default()));
    let client = standin(&state);
    let env = environment("platform.yaml", "dev");

    let first = store::ensure(&client, &env, false).await.expect("first run");
    let generated: Vec<SecretId> = env
        .secrets
        .iter()
        .copied()
        .filter(|s| s.maker(&env.runs) == platform_cli::secrets::catalog::Maker::Platform)
        .collect();
    assert_eq!(first.created, generated);
    assert_eq!(
        first.missing,
        vec![
            (
                SecretId::AlertmanagerReceivers,
                vec!["pagerduty-routing-key", "slack-webhook-url"]
            ),
            (SecretId::ArgocdDexGithub, vec!["clientID", "clientSecret"])
        ],
        "the person's Secrets are named, not made"
    );
    let writes = state.lock().expect("lock").writes.clone();
    assert_eq!(
        writes.iter().filter(|w| w.starts_with("Secret ")).count(),
        generated.len(),
        "{writes:?}"
    );
    assert_eq!(
        writes.iter().filter(|w| w.starts_with("Namespace ")).count(),
        3,
        "monitoring, data and app, once each: {writes:?}"
    );

    // Derived values follow their sources.
    let users = data_of(&state, SecretId::ValkeyUsers);
    assert_eq!(
        data_of(&state, SecretId::RedisAppCredentials)["url"],
        format!("rediss://app:{}@valkey.data.svc:6379", users["app"])
    );
    let login = data_of(&state, SecretId::PostgresAppLogin);
    assert_eq!(login["username"], "app");
    assert_eq!(
        data_of(&state, SecretId::AppDatabase)["uri"],
        format!(
            "postgresql://app:{}@postgres-rw.data.svc:5432/app?sslmode=require",
            login["password"]
        )
    );

    let before: Vec<_> = generated.iter().map(|&s| data_of(&state, s)).collect();
    let second = store::ensure(&client, &env, false).await.expect("second run");
    assert!(second.created.is_empty() && second.completed.is_empty());
    assert_eq!(second.kept, generated);
    assert_eq!(
        state.lock().expect("lock").writes.len(),
        writes.len(),
        "the second run writes nothing"
    );
    let after: Vec<_> = generated.iter().map(|&s| data_of(&state, s)).collect();
    assert_eq!(before, after);
}

/// A cluster whose External Secrets Operator runs (its namespace exists) for the existing
/// cluster example, whose store is Vault.
fn with_store() -> (Arc<Mutex<Cluster>>, kube::Client, EnvSecrets, push::Target) {
    let state = Arc::new(Mutex::new(Cluster::default()));
    state.lock().expect("lock").objects.insert(
        (String::new(), "Namespace", "external-secrets".into()),
        json!({ "metadata": { "name": "external-secrets" } }),
    );
    let client = standin(&state);
    let env = environment("examples/existing-cluster.yaml", "lab");
    let target = push::Target {
        store: env.store,
        prefix: env.prefix.clone(),
        timeout: Duration::from_millis(50),
        poll: Duration::from_millis(5),
    };
    (state, client, env, target)
}

/// Nothing of a push stays in the cluster: its PushSecret and the Secret it read are gone.
fn no_push_left(state: &Arc<Mutex<Cluster>>) {
    let cluster = state.lock().expect("lock");
    let left: Vec<_> = cluster
        .objects
        .keys()
        .filter(|(ns, kind, _)| ns == "external-secrets" && *kind != "Namespace")
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[tokio::test]
async fn with_a_store_bootstrap_pushes_each_generated_value_once_and_the_store_keeps_the_first() {
    let (state, client, env, target) = with_store();
    assert_eq!(env.store, SecretStore::Vault);
    push::make_namespaces(&client, &env, false).await.expect("namespaces");
    let namespaces: Vec<String> = state
        .lock()
        .expect("lock")
        .objects
        .keys()
        .filter(|(_, kind, _)| *kind == "Namespace")
        .map(|(_, _, name)| name.clone())
        .collect();
    assert_eq!(
        namespaces,
        [
            "app",
            "argocd",
            "cert-manager",
            "data",
            "external-dns",
            "external-secrets",
            "kyverno",
            "monitoring"
        ],
        "every namespace an ExternalSecret writes to, before the Applications that own them sync"
    );
    push::wait_for_store(&client, &target)
        .await
        .expect("the store is ready");

    let first = push::ensure(&client, &env, &target).await.expect("first run");
    let generated: Vec<SecretId> = env
        .secrets
        .iter()
        .copied()
        .filter(|s| s.maker(&env.runs) == platform_cli::secrets::catalog::Maker::Platform)
        .collect();
    // Secrets of derived keys only (redis-app-credentials, the database URIs) store nothing.
    let drawn: Vec<SecretId> = generated
        .iter()
        .copied()
        .filter(|s| {
            s.keys(&env.runs)
                .iter()
                .any(|k| matches!(k.birth, Birth::Random { .. }))
        })
        .collect();
    assert_eq!(first.created, drawn);
    assert!(drawn.len() >= 5 && drawn.len() < generated.len(), "{drawn:?}");
    assert!(
        first
            .missing
            .iter()
            .any(|(id, _)| *id == SecretId::AlertmanagerReceivers),
        "{:?}",
        first.missing
    );
    no_push_left(&state);
    // Only random keys are stored, each under its own name; derived ones are the template's.
    let stored = state.lock().expect("lock").store.clone();
    let names: Vec<&String> = stored.keys().collect();
    assert!(
        names.contains(&&"homelab-lab-valkey-users-app".to_string()),
        "{names:?}"
    );
    assert!(
        !names.iter().any(|n| n.contains("redis-app-credentials")),
        "derived: {names:?}"
    );
    assert!(stored.values().all(|v| v.len() >= 32), "random values are long");

    // Argo CD has not synced the ExternalSecrets yet, so the cluster has no copy: the second
    // run draws again, and the store keeps what it has.
    push::ensure(&client, &env, &target).await.expect("second run");
    assert_eq!(
        state.lock().expect("lock").store,
        stored,
        "the store keeps the first values"
    );

    // Once External Secrets Operator copied the store into the cluster, nothing is pushed.
    {
        let mut cluster = state.lock().expect("lock");
        for &id in &generated {
            let data: serde_json::Map<String, Value> = id
                .keys(&env.runs)
                .iter()
                .map(|k| (k.name.to_string(), json!(BASE64.encode("copied"))))
                .collect();
            cluster.objects.insert(
                (id.namespace().into(), "Secret", id.spec().name.into()),
                json!({ "metadata": { "name": id.spec().name }, "data": data }),
            );
        }
        cluster.writes.clear();
    }
    let third = push::ensure(&client, &env, &target).await.expect("third run");
    assert!(third.created.is_empty());
    assert_eq!(third.kept, generated);
    assert!(state.lock().expect("lock").writes.is_empty());
}

#[tokio::test]
async fn with_a_store_set_replaces_one_key_and_a_refusal_leaves_nothing_behind() {
    let (state, client, env, target) = with_store();
    let (id, key) = env
        .supplied_target("alertmanager-receivers.slack-webhook-url")
        .expect("a supplied key");
    let value = |v: &str| BTreeMap::from([(key.to_string(), v.to_string())]);
    for url in ["https://hooks.slack.invalid/a", "https://hooks.slack.invalid/b"] {
        push::push(&client, &target, id, &value(url), push::Policy::Replace)
            .await
            .expect("pushed");
    }
    let remote = "homelab-lab-alertmanager-receivers-slack-webhook-url";
    assert_eq!(
        state.lock().expect("lock").store,
        BTreeMap::from([(remote.to_string(), "https://hooks.slack.invalid/b".to_string())]),
        "one name, the last value; the other key of the Secret untouched"
    );
    assert!(
        state
            .lock()
            .expect("lock")
            .writes
            .contains(&"annotate ExternalSecret monitoring/alertmanager-receivers".to_string()),
        "the copy is refreshed now"
    );
    no_push_left(&state);

    state.lock().expect("lock").refused.push(remote.to_string());
    let err = push::push(&client, &target, id, &value("c"), push::Policy::Replace)
        .await
        .expect_err("refused");
    assert_eq!(
        message_and_help(&err),
        "External Secrets Operator could not write alertmanager-receivers to the store: permission denied writing \
         homelab-lab-alertmanager-receivers-slack-webhook-url | \
         the controller's identity needs write access to the name (Terraform's module.secrets grants it); \
         `kubectl -n external-secrets logs deploy/external-secrets` says more. Nothing else was changed"
    );
    no_push_left(&state);
    assert_eq!(
        state.lock().expect("lock").store[remote],
        "https://hooks.slack.invalid/b"
    );
}

#[tokio::test]
async fn with_a_store_that_is_not_ready_nothing_is_pushed() {
    let (state, client, _env, target) = with_store();
    state.lock().expect("lock").store_down = true;
    let err = push::wait_for_store(&client, &target).await.expect_err("not ready");
    assert!(
        err.to_string()
            .starts_with("the secret store is not ready after 0s: unable to log in to the store"),
        "{err}"
    );
    assert!(state.lock().expect("lock").writes.is_empty());
}

/// Argo CD reads the private repository with these credentials before anything syncs, so they
/// cannot come from the store through an ExternalSecret the repository holds.
#[tokio::test]
async fn with_a_store_argo_cds_repository_credentials_stay_in_the_cluster_and_come_first() {
    // eks-three-envs' prod keeps its Secrets in AWS Secrets Manager; its repository is private.
    let (state, client, _, _) = with_store();
    let env = environment("examples/eks-three-envs.yaml", "prod");
    let target = push::Target {
        store: env.store,
        prefix: env.prefix.clone(),
        timeout: Duration::from_millis(50),
        poll: Duration::from_millis(5),
    };
    let repo = env
        .secrets
        .iter()
        .copied()
        .find(|id| id.in_cluster_only())
        .expect("the example's repository is private");
    let loaded =
        manifest::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/eks-three-envs.yaml")).expect("valid");
    let prod = loaded
        .manifest
        .environments
        .iter()
        .find(|e| e.name == "prod")
        .expect("prod");
    let resolved = resolve::resolve_environment(&loaded.manifest, prod).expect("resolves");
    assert!(
        !resolved
            .secrets
            .external_secrets
            .iter()
            .any(|s| s.name == repo.spec().name),
        "no ExternalSecret for {repo:?}"
    );
    assert!(
        !resolved
            .secrets
            .remote_names
            .iter()
            .any(|n| n.contains(repo.spec().name)),
        "nothing of it in the store"
    );
    let missing = push::missing_before_sync(&client, &env).await.expect("read");
    assert_eq!(missing.len(), 1);
    assert_eq!(missing[0].0, repo);

    // Before Argo CD installed the operator, a push says what to run first and leaves nothing.
    state.lock().expect("lock").no_operator = true;
    let (id, key) = env
        .supplied_target("alertmanager-receivers.slack-webhook-url")
        .expect("a supplied key");
    let err = push::push(
        &client,
        &target,
        id,
        &BTreeMap::from([(key.to_string(), "https://hooks.slack.invalid/a".to_string())]),
        push::Policy::Replace,
    )
    .await
    .expect_err("no operator");
    assert!(
        err.to_string().ends_with(
            "External Secrets Operator's CRDs are not installed yet: run `platform bootstrap` first, then set this value"
        ),
        "{err}"
    );
    no_push_left(&state);
}

#[test]
fn with_a_store_rotation_is_refused_until_it_is_built_on_pushes() {
    let env = environment("examples/existing-cluster.yaml", "lab");
    let err = rotate::plan(&env, SecretId::AppJwt, "platform.yaml").expect_err("refused");
    assert_eq!(
        message_and_help(&err),
        "`platform secrets rotate` does not rotate app-jwt through a secret store (vault) yet | \
         the Secret is External Secrets Operator's copy of the store: a new value written here would be \
         overwritten at its next refresh, and the key ring's rollouts are not built on pushes yet"
    );
}

#[tokio::test]
async fn a_value_a_person_set_is_never_replaced() {
    let state = Arc::new(Mutex::new(Cluster::default()));
    let client = standin(&state);
    let env = environment("platform.yaml", "dev");
    // Someone made grafana-admin by hand, without its user key, set both receivers and the
    // GitHub OAuth App's credentials.
    for (ns, name, data) in [
        (
            "monitoring",
            "grafana-admin",
            json!({ "admin-password": BASE64.encode("chosen-by-a-person") }),
        ),
        (
            "monitoring",
            "alertmanager-receivers",
            json!({ "pagerduty-routing-key": BASE64.encode("pd"), "slack-webhook-url": BASE64.encode("https://hooks.slack.invalid/x") }),
        ),
        (
            "argocd",
            "argocd-dex-github",
            json!({ "clientID": BASE64.encode("Iv1.0123"), "clientSecret": BASE64.encode("oauth-secret") }),
        ),
    ] {
        let mut cluster = state.lock().expect("lock");
        cluster.objects.insert(
            (String::new(), "Namespace", ns.into()),
            json!({ "metadata": { "name": ns } }),
        );
        cluster.objects.insert(
            (ns.into(), "Secret", name.into()),
            json!({ "apiVersion": "v1", "kind": "Secret", "metadata": { "name": name, "namespace": ns }, "data": data }),
        );
    }
    let outcome = store::ensure(&client, &env, false).await.expect("runs");
    assert!(outcome.missing.is_empty(), "every supplied Secret is there");
    assert_eq!(
        outcome.completed,
        vec![SecretId::GrafanaAdmin],
        "only the missing key is added"
    );
    let grafana = data_of(&state, SecretId::GrafanaAdmin);
    assert_eq!(grafana["admin-password"], "chosen-by-a-person");
    assert_eq!(grafana["admin-user"], "admin");
    assert_eq!(
        data_of(&state, SecretId::AlertmanagerReceivers)["pagerduty-routing-key"],
        "pd"
    );
}

#[test]
fn set_refuses_unknown_names_keys_and_generated_secrets_with_a_hint() {
    let env = environment("platform.yaml", "dev");
    let err = |target: &str| -> String {
        match env.supplied_target(target) {
            Ok(found) => panic!("{target} was accepted as {found:?}"),
            Err(e) => message_and_help(&e),
        }
    };
    assert_eq!(
        err("grafana-admn"),
        "no Secret named \"grafana-admn\" in environment dev | the environment's Secrets: alertmanager-receivers, \
         grafana-admin, valkey-users, redis-app-credentials, app-jwt, app-admin, postgres-owner, postgres-app-login, \
         postgres-app-login-b, app-database-owner, app-database, argocd-dex-github"
    );
    assert_eq!(
        err("app-jwt"),
        "app-jwt is generated by `platform bootstrap`; a person does not set it | a person sets only these: \
         alertmanager-receivers, argocd-dex-github"
    );
    assert_eq!(
        err("alertmanager-receivers"),
        "alertmanager-receivers has several keys; say which | one of: alertmanager-receivers.pagerduty-routing-key, \
         alertmanager-receivers.slack-webhook-url"
    );
    assert_eq!(
        err("alertmanager-receivers.slack"),
        "alertmanager-receivers has no key \"slack\" a person sets | its keys: pagerduty-routing-key, slack-webhook-url"
    );
    assert!(matches!(
        env.supplied_target("alertmanager-receivers.slack-webhook-url"),
        Ok((SecretId::AlertmanagerReceivers, "slack-webhook-url"))
    ));
    // On a managed database the URIs are a person's.
    let managed = environment("examples/eks-three-envs.yaml", "prod");
    assert!(matches!(
        managed.supplied_target("app-database"),
        Ok((SecretId::AppDatabase, "uri"))
    ));
}

/// Argo CD resolves `$argocd-dex-github:clientSecret` only in a Secret labelled as its own:
/// what `platform secrets set` writes carries the label, beside the platform's own.
#[tokio::test]
async fn a_secret_argo_cd_reads_from_its_settings_is_labelled_as_argo_cds() {
    let state = Arc::new(Mutex::new(Cluster::default()));
    let client = standin(&state);
    let data = BTreeMap::from([("clientID".to_string(), "Iv1.0123".to_string())]);
    store::write(&client, SecretId::ArgocdDexGithub, &data, false)
        .await
        .expect("written");
    let cluster = state.lock().expect("lock");
    let secret = &cluster.objects[&("argocd".to_string(), "Secret", "argocd-dex-github".to_string())];
    assert_eq!(
        secret["metadata"]["labels"],
        json!({ "app.kubernetes.io/managed-by": "platform", "app.kubernetes.io/part-of": "argocd" })
    );
}

/// A private repository on github.com: bootstrap makes Argo CD's credential template with what
/// it knows (the type, the repository's URL, the label that makes it one) and names the GitHub
/// App's keys a person must set.
#[tokio::test]
async fn a_private_github_repository_gets_a_repo_creds_template_waiting_for_the_app_keys() {
    let state = Arc::new(Mutex::new(Cluster::default()));
    let client = standin(&state);
    let env = environment("examples/eks-three-envs.yaml", "dev");
    assert!(env.secrets.contains(&SecretId::ArgocdRepoGithubApp));
    assert!(!env.secrets.contains(&SecretId::ArgocdRepoPassword));
    let outcome = store::ensure(&client, &env, false).await.expect("runs");
    assert!(outcome.missing.contains(&(
        SecretId::ArgocdRepoGithubApp,
        vec!["githubAppID", "githubAppInstallationID", "githubAppPrivateKey"]
    )));
    let data = data_of(&state, SecretId::ArgocdRepoGithubApp);
    assert_eq!(data["type"], "git");
    assert_eq!(data["url"], "https://github.com/shop/gitops.git");
    let cluster = state.lock().expect("lock");
    let secret = &cluster.objects[&("argocd".to_string(), "Secret", "argocd-repo-github-app".to_string())];
    assert_eq!(
        secret["metadata"]["labels"]["argocd.argoproj.io/secret-type"],
        "repo-creds"
    );
}

fn rotate_options(timeout_ms: u64) -> rotate::Options {
    rotate::Options {
        timeout: Duration::from_millis(timeout_ms),
        poll: Duration::from_millis(1),
    }
}

/// The keys a replica started with `ring` signs with, and verifies with now.
fn signs_and_verifies(ring: &BTreeMap<String, String>) -> (String, Vec<String>) {
    let open = ring
        .get("previous-until")
        .and_then(|u| time::OffsetDateTime::parse(u, &time::format_description::well_known::Rfc3339).ok())
        .is_some_and(|until| time::OffsetDateTime::now_utc() < until);
    let verifies = ["secret", "next", "previous"]
        .into_iter()
        .filter(|k| *k != "previous" || open)
        .filter_map(|k| ring.get(k).cloned())
        .collect();
    (ring["secret"].clone(), verifies)
}

/// A bootstrapped dev environment whose app Deployment runs 3 replicas.
async fn bootstrapped(state: &Arc<Mutex<Cluster>>) -> (kube::Client, EnvSecrets) {
    let client = standin(state);
    let env = environment("platform.yaml", "dev");
    store::ensure(&client, &env, false).await.expect("bootstrap");
    state
        .lock()
        .expect("lock")
        .objects
        .insert(("app".into(), "Deployment", "app".into()), deployment("app", "app", 3));
    (client, env)
}

#[tokio::test]
async fn rotating_the_signing_key_never_leaves_a_replica_refusing_what_another_signed() {
    let state = Arc::new(Mutex::new(Cluster::default()));
    let (client, env) = bootstrapped(&state).await;
    let before = data_of(&state, SecretId::AppJwt);
    let plan = rotate::plan(&env, SecretId::AppJwt, "platform.yaml").expect("rotatable");
    let started = time::OffsetDateTime::now_utc();
    let report = rotate::rotate(&client, &env, SecretId::AppJwt, plan, rotate_options(5_000))
        .await
        .expect("rotated");
    assert_eq!(report.steps.len(), 4, "{:?}", report.steps);
    assert_eq!(
        report.steps[1],
        "deployments/app in namespace app: every replica restarted and available"
    );

    // Two rollouts; during each, the replicas of either side accept what the other signs.
    let mut generations = vec![before.clone()];
    generations.extend(state.lock().expect("lock").rollouts.clone());
    assert_eq!(generations.len(), 3, "two rollouts");
    for pair in generations.windows(2) {
        let (old_signs, old_verifies) = signs_and_verifies(&pair[0]);
        let (new_signs, new_verifies) = signs_and_verifies(&pair[1]);
        assert!(
            new_verifies.contains(&old_signs),
            "a new replica refuses an old one's token"
        );
        assert!(
            old_verifies.contains(&new_signs),
            "an old replica refuses a new one's token"
        );
    }
    let after = data_of(&state, SecretId::AppJwt);
    assert_eq!(
        generations[1]["secret"], before["secret"],
        "the first rollout signs as before"
    );
    assert_eq!(generations[1]["next"], after["secret"]);
    assert_ne!(after["secret"], before["secret"]);
    assert_eq!(after["secret"].len(), before["secret"].len());
    assert_eq!(after["previous"], before["secret"]);
    assert!(!after.contains_key("next"), "{after:?}");
    let until = time::OffsetDateTime::parse(&after["previous-until"], &time::format_description::well_known::Rfc3339)
        .expect("RFC 3339");
    let window = time::Duration::try_from(rotate::retirement(Duration::from_secs(5))).expect("fits");
    assert!(
        until >= started + window - time::Duration::seconds(1) && until <= time::OffsetDateTime::now_utc() + window
    );

    // Again at once: the old key still verifies live tokens, so nothing is written.
    let writes = state.lock().expect("lock").writes.len();
    let again = rotate::rotate(&client, &env, SecretId::AppJwt, plan, rotate_options(5_000))
        .await
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        again,
        Some(format!(
            "app-jwt was rotated less than 16 minutes ago: its previous key verifies tokens until {}",
            after["previous-until"]
        ))
    );
    assert_eq!(state.lock().expect("lock").writes.len(), writes);
}

#[tokio::test]
async fn an_interrupted_rotation_resumes_with_the_key_the_replicas_already_know() {
    let state = Arc::new(Mutex::new(Cluster::default()));
    let (client, env) = bootstrapped(&state).await;
    let before = data_of(&state, SecretId::AppJwt);
    state.lock().expect("lock").stuck = true;
    let plan = rotate::plan(&env, SecretId::AppJwt, "platform.yaml").expect("rotatable");
    let err = rotate::rotate(&client, &env, SecretId::AppJwt, plan, rotate_options(1_000))
        .await
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        err.as_deref(),
        Some(
            "timed out after 1s waiting for deployments/app in namespace app to roll out: 1 of 3 replicas updated, 4 pods in all, 3 available"
        )
    );
    let halfway = data_of(&state, SecretId::AppJwt);
    assert_eq!(
        halfway["secret"], before["secret"],
        "nothing signs with the new key yet"
    );
    let next = halfway["next"].clone();

    state.lock().expect("lock").stuck = false;
    rotate::rotate(&client, &env, SecretId::AppJwt, plan, rotate_options(5_000))
        .await
        .expect("resumed");
    let after = data_of(&state, SecretId::AppJwt);
    assert_eq!(
        after["secret"], next,
        "the key every replica learnt is the one that signs"
    );
    assert_eq!(after["previous"], before["secret"]);
}

#[tokio::test]
async fn the_admin_token_is_replaced_and_then_the_app_restarted() {
    let state = Arc::new(Mutex::new(Cluster::default()));
    let (client, env) = bootstrapped(&state).await;
    let before = data_of(&state, SecretId::AppAdmin);
    let writes = state.lock().expect("lock").writes.len();
    let plan = rotate::plan(&env, SecretId::AppAdmin, "platform.yaml").expect("rotatable");
    rotate::rotate(&client, &env, SecretId::AppAdmin, plan, rotate_options(5_000))
        .await
        .expect("rotated");
    let after = data_of(&state, SecretId::AppAdmin);
    assert_ne!(after["token"], before["token"]);
    assert_eq!(after["token"].len(), before["token"].len());
    assert_eq!(
        state.lock().expect("lock").writes[writes..],
        ["Secret app/app-admin".to_string(), "Deployment app/app".to_string()],
        "the value first, then its reader"
    );
}

#[tokio::test]
async fn before_the_app_is_deployed_a_rotation_only_writes_the_secret() {
    let state = Arc::new(Mutex::new(Cluster::default()));
    let client = standin(&state);
    let env = environment("platform.yaml", "dev");
    let plan = rotate::plan(&env, SecretId::AppJwt, "platform.yaml").expect("rotatable");
    let missing = rotate::rotate(&client, &env, SecretId::AppJwt, plan, rotate_options(1_000))
        .await
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        missing.as_deref(),
        Some("app-jwt is not in the cluster, or lacks its key `secret`: there is nothing to rotate")
    );
    store::ensure(&client, &env, false).await.expect("bootstrap");
    let report = rotate::rotate(&client, &env, SecretId::AppJwt, plan, rotate_options(1_000))
        .await
        .expect("rotated");
    assert_eq!(
        report.steps[1],
        "deployments/app in namespace app: not deployed yet, nothing to restart"
    );
    assert!(state.lock().expect("lock").rollouts.is_empty());
}

#[tokio::test]
async fn rotating_the_database_login_moves_the_app_to_the_idle_role_and_never_changes_a_held_password() {
    let state = Arc::new(Mutex::new(Cluster::default()));
    let (client, env) = bootstrapped(&state).await;
    let first = data_of(&state, SecretId::AppDatabase)["uri"].clone();
    let old_app = data_of(&state, SecretId::PostgresAppLogin)["password"].clone();
    {
        // CloudNativePG applied both roles at bootstrap; the app's pods run with the first URI.
        let mut cluster = state.lock().expect("lock");
        for _ in 0..3 {
            cnpg(&mut cluster);
        }
        assert_eq!(cluster.applied["app"].1, old_app);
        cluster.held = vec![first.clone()];
    }
    let plan = rotate::plan(&env, SecretId::AppDatabase, "platform.yaml").expect("rotatable");
    let report = rotate::rotate(&client, &env, SecretId::AppDatabase, plan, rotate_options(5_000))
        .await
        .expect("rotated");
    assert_eq!(
        report.steps,
        [
            "postgres-app-login-b: a new password, applied by CloudNativePG to the idle role app_b",
            "app-database: the app logs in as app_b",
            "deployments/app in namespace app: every replica restarted and available",
            "postgres-app-login: a password nobody holds for app, which the app left",
        ]
    );
    let (db_rollouts, applied) = {
        let cluster = state.lock().expect("lock");
        (cluster.db_rollouts.clone(), cluster.applied.clone())
    };
    assert_eq!(db_rollouts.len(), 1, "one rollout");
    let moved = url::Url::parse(&db_rollouts[0]).expect("a URI");
    assert_eq!(moved.username(), "app_b");
    assert_eq!(
        moved.password(),
        Some(applied["app_b"].1.as_str()),
        "the new pods hold the password PostgreSQL has"
    );
    assert_eq!(
        (moved.host_str(), moved.path(), moved.query()),
        (Some("postgres-rw.data.svc"), "/app", Some("sslmode=require")),
        "only the login changed"
    );
    assert_ne!(applied["app"].1, old_app, "the password the app left no longer logs in");

    // The next rotation moves the app back to `app`.
    let plan = rotate::plan(&env, SecretId::PostgresAppLogin, "platform.yaml").expect("rotatable");
    rotate::rotate(&client, &env, SecretId::PostgresAppLogin, plan, rotate_options(5_000))
        .await
        .expect("rotated again");
    let back = data_of(&state, SecretId::AppDatabase)["uri"].clone();
    assert_eq!(url::Url::parse(&back).expect("a URI").username(), "app");
}

#[tokio::test]
async fn a_role_password_cloudnative_pg_does_not_apply_stops_the_rotation_before_the_app_moves() {
    let state = Arc::new(Mutex::new(Cluster::default()));
    let (client, env) = bootstrapped(&state).await;
    let before = data_of(&state, SecretId::AppDatabase);
    // CloudNativePG has not applied app_b's new Secret by the time the wait (none) is over.
    let err = {
        let plan = rotate::plan(&env, SecretId::AppDatabase, "platform.yaml").expect("rotatable");
        let options = rotate::Options {
            timeout: Duration::ZERO,
            poll: Duration::from_millis(1),
        };
        rotate::rotate(&client, &env, SecretId::AppDatabase, plan, options)
            .await
            .expect_err("not applied")
    };
    assert_eq!(
        message_and_help(&err),
        "CloudNativePG did not apply the new password of app_b within 0s: it has not reported the new password \
         yet | the app still logs in with its old role, which was not changed: nothing was refused. Look at \
         `kubectl -n data get cluster postgres -o yaml` (status.managedRolesStatus), then run the same command \
         again"
    );
    assert_eq!(data_of(&state, SecretId::AppDatabase), before, "the app was not moved");
    assert!(state.lock().expect("lock").db_rollouts.is_empty());
}

#[tokio::test]
async fn grafanas_admin_password_is_replaced_and_grafana_restarted() {
    let state = Arc::new(Mutex::new(Cluster::default()));
    let (client, env) = bootstrapped(&state).await;
    state.lock().expect("lock").objects.insert(
        (
            "monitoring".into(),
            "Deployment",
            "kube-prometheus-stack-grafana".into(),
        ),
        deployment("kube-prometheus-stack-grafana", "monitoring", 1),
    );
    let before = data_of(&state, SecretId::GrafanaAdmin);
    let writes = state.lock().expect("lock").writes.len();
    let plan = rotate::plan(&env, SecretId::GrafanaAdmin, "platform.yaml").expect("rotatable");
    let report = rotate::rotate(&client, &env, SecretId::GrafanaAdmin, plan, rotate_options(5_000))
        .await
        .expect("rotated");
    assert_eq!(
        report.steps,
        [
            "grafana-admin: a new value",
            "deployments/kube-prometheus-stack-grafana in namespace monitoring: every replica restarted and available",
        ]
    );
    let after = data_of(&state, SecretId::GrafanaAdmin);
    assert_eq!(after["admin-user"], "admin");
    assert_ne!(after["admin-password"], before["admin-password"]);
    assert_eq!(
        state.lock().expect("lock").writes[writes..],
        [
            "Secret monitoring/grafana-admin".to_string(),
            "Deployment monitoring/kube-prometheus-stack-grafana".to_string()
        ],
        "the value first, then Grafana, which makes its admin user from it at start"
    );
}

/// A bootstrapped dev environment whose Valkey runs with the Secret's users and whose app
/// pods log in with the URL bootstrap made.
async fn valkey_running(state: &Arc<Mutex<Cluster>>) -> (kube::Client, EnvSecrets) {
    let (client, env) = bootstrapped(state).await;
    let users = data_of(state, SecretId::ValkeyUsers);
    let url = data_of(state, SecretId::RedisAppCredentials)["url"].clone();
    let mut cluster = state.lock().expect("lock");
    cluster.objects.insert(
        ("data".into(), "Deployment", "valkey".into()),
        deployment("valkey", "data", 1),
    );
    cluster.valkey_acl = users;
    cluster.redis_held = vec![url];
    drop(cluster);
    (client, env)
}

#[tokio::test]
async fn rotating_valkeys_passwords_moves_the_app_to_the_idle_user_and_valkey_always_accepts_it() {
    let state = Arc::new(Mutex::new(Cluster::default()));
    let (client, env) = valkey_running(&state).await;
    let before = data_of(&state, SecretId::ValkeyUsers);
    let first = url::Url::parse(&data_of(&state, SecretId::RedisAppCredentials)["url"]).expect("a URL");
    assert_eq!(first.username(), "app", "bootstrap hands the app the first user");
    let plan = rotate::plan(&env, SecretId::ValkeyUsers, "platform.yaml").expect("rotatable");
    let report = rotate::rotate(&client, &env, SecretId::ValkeyUsers, plan, rotate_options(5_000))
        .await
        .expect("rotated");
    assert_eq!(
        report.steps,
        [
            "valkey-users: new passwords for the idle user app-b and for default",
            "deployments/valkey in namespace data: every replica restarted and available",
            "redis-app-credentials: the app logs in as app-b",
            "deployments/app in namespace app: every replica restarted and available",
            "valkey-users: a password nobody holds for app, which the app left",
            "deployments/valkey in namespace data: every replica restarted and available",
        ]
    );
    let (restarts, acl) = {
        let cluster = state.lock().expect("lock");
        (cluster.restarts.clone(), cluster.valkey_acl.clone())
    };
    assert_eq!(restarts, ["valkey", "app", "valkey"]);
    let moved = url::Url::parse(&data_of(&state, SecretId::RedisAppCredentials)["url"]).expect("a URL");
    assert_eq!(moved.username(), "app-b");
    assert_eq!(moved.password(), Some(acl["app-b"].as_str()));
    assert_eq!(
        (moved.scheme(), moved.host_str(), moved.port()),
        (first.scheme(), first.host_str(), first.port()),
        "only the login changed"
    );
    for user in ["default", "app", "app-b"] {
        assert_ne!(acl[user], before[user], "{user}'s password is new on the server");
        assert_eq!(acl[user].len(), before[user].len());
    }
    assert_eq!(
        acl,
        data_of(&state, SecretId::ValkeyUsers),
        "the server runs the Secret"
    );

    // The next rotation, asked for by the app's Secret, moves the app back to `app`.
    let plan = rotate::plan(&env, SecretId::RedisAppCredentials, "platform.yaml").expect("rotatable");
    rotate::rotate(
        &client,
        &env,
        SecretId::RedisAppCredentials,
        plan,
        rotate_options(5_000),
    )
    .await
    .expect("rotated again");
    let back = url::Url::parse(&data_of(&state, SecretId::RedisAppCredentials)["url"]).expect("a URL");
    assert_eq!(back.username(), "app");
}

#[tokio::test]
async fn a_valkey_restart_that_does_not_finish_leaves_the_app_on_its_user() {
    let state = Arc::new(Mutex::new(Cluster::default()));
    let (client, env) = valkey_running(&state).await;
    let before = data_of(&state, SecretId::RedisAppCredentials);
    state.lock().expect("lock").stuck = true;
    let plan = rotate::plan(&env, SecretId::ValkeyUsers, "platform.yaml").expect("rotatable");
    let err = rotate::rotate(&client, &env, SecretId::ValkeyUsers, plan, rotate_options(1_000))
        .await
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        err.as_deref(),
        Some(
            "timed out after 1s waiting for deployments/valkey in namespace data to roll out: 1 of 1 replicas \
             updated, 2 pods in all, 1 available"
        )
    );
    assert_eq!(
        data_of(&state, SecretId::RedisAppCredentials),
        before,
        "the app was not moved"
    );
    assert_eq!(state.lock().expect("lock").restarts, ["valkey"]);
}

#[tokio::test]
async fn rotating_the_owner_applies_its_password_before_the_migrate_jobs_uri_names_it() {
    let state = Arc::new(Mutex::new(Cluster::default()));
    let (client, env) = bootstrapped(&state).await;
    let before = url::Url::parse(&data_of(&state, SecretId::AppDatabaseOwner)["uri"]).expect("a URI");
    let writes = state.lock().expect("lock").writes.len();
    let plan = rotate::plan(&env, SecretId::AppDatabaseOwner, "platform.yaml").expect("rotatable");
    let report = rotate::rotate(&client, &env, SecretId::AppDatabaseOwner, plan, rotate_options(5_000))
        .await
        .expect("rotated");
    assert_eq!(
        report.steps,
        [
            "postgres-owner: a new password, applied by CloudNativePG to app_owner",
            "app-database-owner: the migrate Job logs in with it from the next sync",
        ]
    );
    let applied = state.lock().expect("lock").applied["app_owner"].1.clone();
    let after = url::Url::parse(&data_of(&state, SecretId::AppDatabaseOwner)["uri"]).expect("a URI");
    assert_eq!(after.username(), "app_owner");
    assert_eq!(
        after.password(),
        Some(applied.as_str()),
        "the Job holds what PostgreSQL has"
    );
    assert_ne!(after.password(), before.password());
    assert_eq!(
        (after.host_str(), after.path(), after.query()),
        (before.host_str(), before.path(), before.query())
    );
    assert_eq!(
        state.lock().expect("lock").writes[writes..],
        [
            "Secret data/postgres-owner".to_string(),
            "Secret app/app-database-owner".to_string()
        ],
        "no Deployment restarted: only the migrate Job reads it"
    );
}

#[test]
fn rotate_refuses_what_a_person_supplies_and_what_it_cannot_roll_yet_with_a_hint() {
    let env = environment("platform.yaml", "dev");
    let refusal = |name: &str| -> String {
        let id = match env.find(name) {
            Ok(id) => id,
            Err(e) => return e.to_string(),
        };
        match rotate::plan(&env, id, "platform.yaml") {
            Ok(plan) => panic!("{name} was accepted as {plan:?}"),
            Err(e) => message_and_help(&e),
        }
    };
    assert_eq!(
        refusal("alertmanager-receivers"),
        "alertmanager-receivers is supplied by a person; a new value is a `platform secrets set` | \
         platform secrets set --env dev alertmanager-receivers.pagerduty-routing-key --from-file <file>"
    );
    assert_eq!(refusal("app-jwt-x"), "no Secret named \"app-jwt-x\" in environment dev");
    // On a managed database a person supplies the URIs.
    let managed = environment("examples/eks-three-envs.yaml", "prod");
    assert!(matches!(
        rotate::plan(&managed, SecretId::AppDatabase, "examples/eks-three-envs.yaml"),
        Err(rotate::RotateError::Supplied { .. })
    ));
}

/// A refused rotation says why and what to do, before any kubeconfig is read: there is none.
#[test]
fn the_cli_refuses_a_rotation_it_cannot_do_without_touching_a_cluster() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let run = |file: &str, env: &str, name: &str| {
        crate::support::cli::platform()
            .current_dir(&root)
            .env("KUBECONFIG", "/nonexistent/kubeconfig")
            .args(["secrets", "rotate", "-f", file, "--env", env, name])
            .output()
            .expect("runs")
    };
    for (file, env, name, expected) in [
        (
            "examples/eks-three-envs.yaml",
            "prod",
            "app-jwt",
            "tests/fixtures/cli/secrets-rotate-in-store.stderr",
        ),
        (
            "platform.yaml",
            "dev",
            "alertmanager-receivers",
            "tests/fixtures/cli/secrets-rotate-supplied.stderr",
        ),
    ] {
        let out = run(file, env, name);
        assert_eq!(out.status.code(), Some(1), "{name}");
        crate::support::cli::assert_output(&String::from_utf8_lossy(&out.stderr), expected);
    }
}

/// A refusal as one line: its message, then its help.
fn message_and_help(e: &dyn miette::Diagnostic) -> String {
    let help = e.help().map(|h| h.to_string()).unwrap_or_default();
    format!("{e} | {help}")
}
