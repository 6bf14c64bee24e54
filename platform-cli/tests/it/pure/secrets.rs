//! `platform bootstrap`'s Secrets against a stand-in for the Kubernetes API server: no API server
//! runs on these machines. The stand-in keeps Namespaces and Secrets in memory and answers GET
//! (404 `Status` when absent) and server-side apply PATCH (creates, or merges `data` into, the
//! object) as the real API does; it does not model managedFields or apply conflicts, so the tests
//! count what the client writes instead.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use http::{Request, Response, StatusCode};
use kube::client::Body;
use platform_cli::manifest::{self, resolve};
use platform_cli::secrets::EnvSecrets;
use platform_cli::secrets::catalog::SecretId;
use platform_cli::secrets::store::{self, FIELD_MANAGER};
use serde_json::{Value, json};

use crate::support::apiserver::reply;

#[derive(Debug, Default)]
struct Cluster {
    /// (namespace or "", kind, name) → object.
    objects: BTreeMap<(String, &'static str, String), Value>,
    /// Every PATCH, as "kind namespace/name".
    writes: Vec<String>,
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
        other => panic!("the stand-in serves no {other:?}"),
    };
    let mut cluster = state.lock().expect("lock");
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
    if let Some(data) = body["data"].as_object() {
        for (k, v) in data {
            object["data"][k] = v.clone();
        }
    }
    Ok(reply(StatusCode::OK, object))
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
    let object = &cluster.objects[&(id.namespace().to_string(), "Secret", id.spec().name.to_string())];
    object["data"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| {
            let bytes = BASE64.decode(v.as_str().expect("base64")).expect("base64");
            (k.clone(), String::from_utf8(bytes).expect("text"))
        })
        .collect()
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
            Err(e) => {
                let help = miette::Diagnostic::help(&e).map(|h| h.to_string()).unwrap_or_default();
                format!("{e} | {help}")
            }
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
