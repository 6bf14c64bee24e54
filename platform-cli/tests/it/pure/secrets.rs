//! `platform bootstrap`'s and `platform secrets rotate`'s Secrets against a stand-in for the
//! Kubernetes API server: no API server runs on these machines. The stand-in keeps Namespaces,
//! Secrets and Deployments in memory and answers GET (404 `Status` when absent), server-side
//! apply PATCH of a Secret (creates it; an apply's `data` is the whole data, as for an object one
//! field manager owns: keys it no longer applies are gone) and a merge PATCH of a Deployment's
//! template (a rollout, which completes over the next GETs as the controller would report it).
//! It does not model managedFields or apply conflicts, so the tests count what the client writes
//! instead.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use http::{Request, Response, StatusCode};
use kube::client::Body;
use platform_cli::manifest::{self, resolve};
use platform_cli::secrets::EnvSecrets;
use platform_cli::secrets::catalog::SecretId;
use platform_cli::secrets::rotate;
use platform_cli::secrets::store::{self, FIELD_MANAGER};
use serde_json::{Value, json};

use crate::support::apiserver::reply;

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
        other => panic!("the stand-in serves no {other:?}"),
    };
    let mut cluster = state.lock().expect("lock");
    if key.1 == "Deployment" {
        return Ok(deployments(&mut cluster, &key, &method, &query, &bytes));
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
    let object = cluster.objects.entry(key).or_insert_with(|| {
        let mut o = body.clone();
        o["metadata"]["creationTimestamp"] = json!("2026-12-03T08:00:00Z");
        o
    });
    if body.get("data").is_some() {
        object["data"] = body["data"].clone();
    }
    Ok(reply(StatusCode::OK, object))
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
    let jwt = decoded(&cluster.objects[&("app".to_string(), "Secret", "app-jwt".to_string())]);
    cluster.rollouts.push(jwt);
    cluster.rollout_gets = 2;
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
    EnvSecrets::new(e, &resolved)
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
         app-database-owner, app-database, argocd-dex-github"
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
    assert_eq!(
        refusal("valkey-users"),
        "`platform secrets rotate` does not rotate valkey-users yet | Valkey builds its ACL file from one password \
         per user when its pod starts; rotating without refusing the app needs a second password set on the live \
         server (ACL SETUSER), which `platform` does not do yet"
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
    let run = |name: &str| {
        crate::support::cli::platform()
            .current_dir(&root)
            .env("KUBECONFIG", "/nonexistent/kubeconfig")
            .args(["secrets", "rotate", "--env", "dev", name])
            .output()
            .expect("runs")
    };
    for (name, expected) in [
        ("grafana-admin", "tests/fixtures/cli/secrets-rotate-not-yet.stderr"),
        (
            "alertmanager-receivers",
            "tests/fixtures/cli/secrets-rotate-supplied.stderr",
        ),
    ] {
        let out = run(name);
        assert_eq!(out.status.code(), Some(1), "{name}");
        crate::support::cli::assert_output(&String::from_utf8_lossy(&out.stderr), expected);
    }
}

/// A refusal as one line: its message, then its help.
fn message_and_help(e: &dyn miette::Diagnostic) -> String {
    let help = e.help().map(|h| h.to_string()).unwrap_or_default();
    format!("{e} | {help}")
}
