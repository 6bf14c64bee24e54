//! `platform bootstrap` / `status` logic against a scripted stand-in for the Kubernetes API
//! server, built on `tower-test` as kube-rs tests itself: no API server can run on these
//! machines. Every response is shaped like the real API's (version info, server-side apply
//! results, `Status` objects for errors, Argo CD Application lists with their status).

use std::path::Path;
use std::time::Duration;

use http::{Response, StatusCode};
use kube::client::Body;
use platform_cli::cluster::applications::{self, AppStatus};
use platform_cli::cluster::bootstrap::{self, BootstrapObjects, Options};
use platform_cli::cluster::{ClusterError, FIELD_MANAGER};
use platform_cli::manifest;
use serde_json::{Value, json};

use test_support::apiserver::{self, Handle, reply};

fn client() -> (kube::Client, Handle) {
    apiserver::scripted()
}

fn objects() -> BootstrapObjects {
    let loaded = manifest::load(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/existing-cluster.yaml"
    )))
    .expect("example is valid");
    bootstrap::objects_for(&loaded, "lab").expect("rendered")
}

/// The next request must be `method path`; returns its query and JSON body.
async fn next(handle: &mut Handle, method: &str, path: &str, response: Response<Body>) -> (String, Value) {
    let (request, send) = handle.next_request().await.expect("the client sent a request");
    assert_eq!(request.method().as_str(), method, "{}", request.uri());
    assert_eq!(request.uri().path(), path);
    let query = request.uri().query().unwrap_or_default().to_string();
    let content_type = request
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap_or_default().to_string());
    let bytes = request.into_body().collect_bytes().await.expect("body");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).expect("json body")
    };
    if method == "PATCH" {
        assert_eq!(
            content_type.as_deref(),
            Some("application/apply-patch+yaml"),
            "server-side apply"
        );
    }
    send.send_response(response);
    (query, body)
}

fn version(minor: &str) -> Value {
    json!({ "major": "1", "minor": minor, "gitVersion": format!("v1.{minor}.0"), "gitCommit": "", "gitTreeState": "clean",
            "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.24", "compiler": "gc", "platform": "linux/amd64" })
}

fn application(name: &str, wave: i64, sync: &str, health: &str, conditions: &[&str]) -> Value {
    json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": { "name": name, "namespace": "argocd", "annotations": { "argocd.argoproj.io/sync-wave": wave.to_string() } },
        "spec": {},
        "status": {
            "sync": { "status": sync, "revision": "4f1c2a9e8b7d6c5b4a39281706f5e4d3c2b1a090" },
            "health": { "status": health },
            "conditions": conditions.iter().map(|m| json!({ "type": "SyncError", "message": m })).collect::<Vec<_>>(),
            "operationState": { "phase": "Succeeded", "finishedAt": "2026-11-26T10:00:00Z", "message": "" }
        }
    })
}

fn list(items: Vec<Value>) -> Value {
    json!({ "apiVersion": "argoproj.io/v1alpha1", "kind": "ApplicationList", "metadata": { "resourceVersion": "1" }, "items": items })
}

fn all(objects: &BootstrapObjects, sync: &str, health: &str) -> Vec<Value> {
    objects
        .expected
        .iter()
        .enumerate()
        .map(|(i, n)| application(n, i as i64 - 6, sync, health, &[]))
        .collect()
}

const PROJECT: &str = "/apis/argoproj.io/v1alpha1/namespaces/argocd/appprojects/platform";
const ROOT: &str = "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/root";
const APPS: &str = "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications";

fn fast(timeout_ms: u64) -> Options {
    Options {
        dry_run: false,
        wait: true,
        timeout: Duration::from_millis(timeout_ms),
        poll: Duration::from_millis(1),
    }
}

#[tokio::test]
async fn bootstrap_applies_project_and_root_then_waits_for_every_application() {
    let (client, mut handle) = client();
    let objects = objects();
    let expected = objects.clone();
    let server = tokio::spawn(async move {
        next(&mut handle, "GET", "/version", reply(StatusCode::OK, &version("31"))).await;
        let (query, body) = next(&mut handle, "PATCH", PROJECT, reply(StatusCode::OK, &expected.project)).await;
        assert!(
            query.contains(&format!("fieldManager={FIELD_MANAGER}")) && query.contains("force=true"),
            "{query}"
        );
        assert!(!query.contains("dryRun"));
        assert_eq!(body, expected.project, "the rendered AppProject, unchanged");
        let (_, body) = next(&mut handle, "PATCH", ROOT, reply(StatusCode::OK, &expected.root)).await;
        assert_eq!(body["spec"]["source"]["path"], "argocd/lab/apps");
        // First only the root's early waves exist and are progressing, then all are healthy.
        let early = vec![
            application("namespaces", -6, "Synced", "Healthy", &[]),
            application("argo-cd", -5, "OutOfSync", "Progressing", &[]),
        ];
        next(&mut handle, "GET", APPS, reply(StatusCode::OK, &list(early))).await;
        next(
            &mut handle,
            "GET",
            APPS,
            reply(StatusCode::OK, &list(all(&expected, "Synced", "Healthy"))),
        )
        .await;
    });
    let mut polls = Vec::new();
    let apps = bootstrap::bootstrap(&client, &objects, &fast(60_000), |a| polls.push(a.len()))
        .await
        .expect("healthy");
    server.await.expect("scenario ran to the end");
    assert_eq!(polls, vec![2, objects.expected.len()], "the live table saw each poll");
    assert_eq!(apps.len(), objects.expected.len());
    assert!(
        apps.windows(2).all(|w| w[0].sync_wave <= w[1].sync_wave),
        "sync-wave order"
    );
}

#[tokio::test]
async fn a_dry_run_is_a_server_side_dry_run_and_does_not_wait() {
    let (client, mut handle) = client();
    let objects = objects();
    let expected = objects.clone();
    let server = tokio::spawn(async move {
        next(&mut handle, "GET", "/version", reply(StatusCode::OK, &version("33"))).await;
        let (query, _) = next(&mut handle, "PATCH", PROJECT, reply(StatusCode::OK, &expected.project)).await;
        assert!(query.contains("dryRun=All"), "{query}");
        let (query, _) = next(&mut handle, "PATCH", ROOT, reply(StatusCode::OK, &expected.root)).await;
        assert!(query.contains("dryRun=All"), "{query}");
    });
    let options = Options {
        dry_run: true,
        ..fast(10)
    };
    let apps = bootstrap::bootstrap(&client, &objects, &options, |_| {})
        .await
        .expect("accepted");
    server.await.expect("scenario");
    assert!(apps.is_empty());
}

#[tokio::test]
async fn a_timeout_names_what_is_not_healthy_with_argo_cds_own_messages() {
    let (client, mut handle) = client();
    let objects = objects();
    let expected = objects.clone();
    let server = tokio::spawn(async move {
        next(&mut handle, "GET", "/version", reply(StatusCode::OK, &version("31"))).await;
        next(&mut handle, "PATCH", PROJECT, reply(StatusCode::OK, &expected.project)).await;
        next(&mut handle, "PATCH", ROOT, reply(StatusCode::OK, &expected.root)).await;
        let mut apps = all(&expected, "Synced", "Healthy");
        apps.retain(|a| a["metadata"]["name"] != "app");
        apps.push(application(
            "valkey",
            -1,
            "OutOfSync",
            "Degraded",
            &["secret \"valkey-users\" not found"],
        ));
        apps.retain(|a| a["metadata"]["name"] != "valkey" || a["status"]["health"]["status"] == "Degraded");
        // Keep answering the same picture until the client gives up.
        while let Some((request, send)) = handle.next_request().await {
            assert_eq!(request.uri().path(), APPS);
            send.send_response(reply(StatusCode::OK, &list(apps.clone())));
        }
    });
    let err = bootstrap::bootstrap(&client, &objects, &fast(50), |_| {})
        .await
        .expect_err("times out");
    drop(client);
    let _ = server.await;
    let ClusterError::Timeout { unhealthy, .. } = &err else {
        panic!("{err}")
    };
    assert!(
        unhealthy.contains(
            &"  valkey (wave -1) is OutOfSync/Degraded: SyncError: secret \"valkey-users\" not found".to_string()
        ),
        "{unhealthy:?}"
    );
    assert!(
        unhealthy.contains(&"  app was not created by the root application".to_string()),
        "{unhealthy:?}"
    );
}

#[tokio::test]
async fn rbac_denial_says_what_permission_is_missing() {
    let (client, mut handle) = client();
    let objects = objects();
    let server = tokio::spawn(async move {
        next(&mut handle, "GET", "/version", reply(StatusCode::OK, &version("31"))).await;
        let forbidden = json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "appprojects.argoproj.io \"platform\" is forbidden: User \"ci\" cannot patch resource \"appprojects\" in API group \"argoproj.io\" in the namespace \"argocd\"",
            "reason": "Forbidden", "details": { "name": "platform", "group": "argoproj.io", "kind": "appprojects" }, "code": 403
        });
        next(&mut handle, "PATCH", PROJECT, reply(StatusCode::FORBIDDEN, &forbidden)).await;
    });
    let err = bootstrap::bootstrap(&client, &objects, &fast(10), |_| {})
        .await
        .expect_err("forbidden");
    server.await.expect("scenario");
    assert!(matches!(err, ClusterError::Forbidden { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("not allowed to apply appprojects.argoproj.io/platform: "),
        "{err}"
    );
    assert!(err.to_string().contains("cannot patch resource \"appprojects\""));
}

#[tokio::test]
async fn an_unsupported_kubernetes_version_is_refused_before_anything_is_applied() {
    let (client, mut handle) = client();
    let objects = objects();
    let server = tokio::spawn(async move {
        next(&mut handle, "GET", "/version", reply(StatusCode::OK, &version("25"))).await;
        assert!(handle.next_request().await.is_none(), "nothing applied");
    });
    let err = bootstrap::bootstrap(&client, &objects, &fast(10), |_| {})
        .await
        .expect_err("too old");
    drop(client);
    server.await.expect("scenario");
    assert_eq!(err.to_string(), "Kubernetes 1.25 is not supported");
}

fn storage_class(name: &str, default: Option<&str>) -> Value {
    let annotations = default.map_or(
        json!({}),
        |d| json!({ "storageclass.kubernetes.io/is-default-class": d }),
    );
    json!({ "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": { "name": name, "annotations": annotations }, "provisioner": "rancher.io/local-path" })
}

/// kubeadm makes no StorageClass: bootstrap stops before writing anything and says why, naming
/// the classes there are; a class marked default (and only `"true"` marks it) lets it on.
#[tokio::test]
async fn a_cluster_without_a_default_storage_class_is_refused_naming_its_classes() {
    for (classes, expected) in [
        (
            vec![],
            Some(
                "the cluster has no default StorageClass (it has none at all): every PersistentVolumeClaim of the platform would stay Pending",
            ),
        ),
        (
            vec![storage_class("local-path", None), storage_class("nfs", Some("false"))],
            Some(
                "the cluster has no default StorageClass (it has local-path, nfs, none marked default): every PersistentVolumeClaim of the platform would stay Pending",
            ),
        ),
        (vec![storage_class("local-path", Some("true"))], None),
    ] {
        let (client, mut handle) = client();
        let server = tokio::spawn(async move {
            let (query, _) = next(
                &mut handle,
                "GET",
                "/apis/storage.k8s.io/v1/storageclasses",
                reply(
                    StatusCode::OK,
                    &json!({ "apiVersion": "storage.k8s.io/v1", "kind": "StorageClassList",
                             "metadata": { "resourceVersion": "7" }, "items": classes }),
                ),
            )
            .await;
            assert!(!query.contains("watch"), "{query}");
            assert!(
                handle.next_request().await.is_none(),
                "nothing else is asked or written"
            );
        });
        let result = bootstrap::check_storage_class(&client).await;
        drop(client);
        server.await.expect("scenario");
        match expected {
            Some(message) => assert_eq!(result.expect_err("refused").to_string(), message),
            None => result.expect("a default class"),
        }
    }
}

#[tokio::test]
async fn managed_clusters_report_minor_versions_with_a_plus() {
    let (client, mut handle) = client();
    let objects = objects();
    let expected = objects.clone();
    let server = tokio::spawn(async move {
        next(&mut handle, "GET", "/version", reply(StatusCode::OK, &version("31+"))).await;
        next(&mut handle, "PATCH", PROJECT, reply(StatusCode::OK, &expected.project)).await;
        next(&mut handle, "PATCH", ROOT, reply(StatusCode::OK, &expected.root)).await;
    });
    let options = Options {
        dry_run: true,
        ..fast(10)
    };
    bootstrap::bootstrap(&client, &objects, &options, |_| {})
        .await
        .expect("1.31+ is supported");
    server.await.expect("scenario");
}

#[tokio::test]
async fn status_reads_sync_health_revision_and_last_sync() {
    let (client, mut handle) = client();
    let server = tokio::spawn(async move {
        let items = vec![
            application("app", 0, "OutOfSync", "Degraded", &["Deployment app: ImagePullBackOff"]),
            application("namespaces", -6, "Synced", "Healthy", &[]),
        ];
        next(&mut handle, "GET", APPS, reply(StatusCode::OK, &list(items))).await;
    });
    let apps = applications::list(&client).await.expect("listed");
    server.await.expect("scenario");
    assert_eq!(
        apps[0],
        AppStatus {
            name: "namespaces".into(),
            sync_wave: -6,
            sync: "Synced".into(),
            health: "Healthy".into(),
            revision: "4f1c2a9e8b7d".into(),
            last_sync: "2026-11-26T10:00:00Z".into(),
            messages: vec![],
        }
    );
    assert!(!apps[1].healthy());
    assert_eq!(
        apps[1].messages,
        vec!["SyncError: Deployment app: ImagePullBackOff".to_string()]
    );
    assert_eq!(
        applications::table(&apps),
        "APPLICATION               WAVE SYNC       HEALTH       REVISION      LAST SYNC\n\
         namespaces                  -6 Synced     Healthy      4f1c2a9e8b7d  2026-11-26T10:00:00Z\n\
         app                          0 OutOfSync  Degraded     4f1c2a9e8b7d  2026-11-26T10:00:00Z\n"
    );
}

/// The Kubernetes objects of `env` in the rendered tree `root`, as the API server would hold
/// them after Argo CD applied them.
fn committed_objects(root: &Path, env: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for parent in ["argocd", "policies", "observability"] {
        for entry in walkdir::WalkDir::new(root.join(parent).join(env)) {
            let entry = entry.expect("walk");
            let path = entry.path().to_string_lossy().to_string();
            if !path.ends_with(".yaml") || path.contains("/tests/") {
                continue;
            }
            let text = std::fs::read_to_string(entry.path()).expect("read");
            for document in text.split("\n---\n") {
                let value: Value = yaml_serde::from_str(document).expect("yaml");
                if value["kind"].is_string()
                    && value["metadata"]["name"].is_string()
                    && value["kind"] != "Kustomization"
                {
                    out.push(value);
                }
            }
        }
    }
    out
}

/// What the server adds to every object it stores: none of it is drift.
fn as_stored(mut object: Value) -> Value {
    object["metadata"]["uid"] = json!("5b0c5f7e-8d44-4c8e-9d0c-3f1f0b6e2a11");
    object["metadata"]["resourceVersion"] = json!("48213");
    object["metadata"]["generation"] = json!(3);
    object["metadata"]["creationTimestamp"] = json!("2026-11-20T09:00:00Z");
    object["metadata"]["managedFields"] =
        json!([{ "manager": "argocd-controller", "operation": "Apply", "apiVersion": "v1" }]);
    object["metadata"]["labels"]["app.kubernetes.io/instance"] = json!("root");
    object["status"] = json!({ "observedGeneration": 3 });
    object
}

/// The resource name of a kind, as the API server's discovery names it.
fn plural_of(kind: &str) -> String {
    let singular = kind.to_ascii_lowercase();
    match singular
        .strip_suffix('y')
        .filter(|stem| !stem.ends_with(['a', 'e', 'i', 'o', 'u']))
    {
        Some(stem) => format!("{stem}ies"),
        None if singular.ends_with('s') => format!("{singular}es"),
        None => format!("{singular}s"),
    }
}

/// Serves GETs of `objects` by path (`/api/v1/namespaces/NS/PLURAL/NAME` or the `/apis/GROUP/...`
/// form), a `Status` 404 for anything else, until the client is dropped. Returns the paths asked.
async fn serve_objects(mut handle: Handle, objects: Vec<Value>) -> Vec<String> {
    let mut asked = Vec::new();
    while let Some((request, send)) = handle.next_request().await {
        assert_eq!(request.method().as_str(), "GET", "{}", request.uri());
        let path = request.uri().path().to_string();
        let segments: Vec<&str> = path.split('/').collect();
        let name = segments[segments.len() - 1];
        let plural = segments[segments.len() - 2];
        let namespace = segments
            .iter()
            .position(|s| *s == "namespaces")
            .filter(|i| *i + 4 == segments.len())
            .map(|i| segments[i + 1]);
        let found = objects.iter().find(|o| {
            o["metadata"]["name"] == name
                && o["metadata"]["namespace"].as_str() == namespace
                && plural_of(o["kind"].as_str().unwrap_or_default()) == plural
        });
        let response = match found {
            Some(object) => reply(StatusCode::OK, object),
            None => reply(
                StatusCode::NOT_FOUND,
                &json!({ "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                         "message": format!("{plural} \"{name}\" not found"), "reason": "NotFound", "code": 404 }),
            ),
        };
        asked.push(path);
        send.send_response(response);
    }
    asked
}

#[tokio::test]
async fn live_diff_reports_changed_and_missing_objects_but_not_what_the_server_adds() {
    use platform_cli::diff::{live, report, tree};

    let dir = tempfile::tempdir().expect("tempdir");
    let loaded = manifest::load(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/existing-cluster.yaml"
    )))
    .expect("example is valid");
    let rendered = platform_cli::render::render(&loaded, &[]).expect("rendered");
    platform_cli::render::output::write(&rendered, dir.path()).expect("written");
    // A Secret in the tree (none is rendered; a hand-added one must still never be printed).
    let secret = "apiVersion: v1\nkind: Secret\nmetadata: {name: backup-s3, namespace: database}\ndata: {password: Y29tbWl0dGVkLXNlY3JldA==}\n";
    std::fs::create_dir_all(dir.path().join("argocd/lab/manifests/extra")).expect("mkdir");
    std::fs::write(dir.path().join("argocd/lab/manifests/extra/secret.yaml"), secret).expect("write");

    let committed = committed_objects(dir.path(), "lab");
    let root_app = committed
        .iter()
        .position(|o| o["kind"] == "Application" && o["metadata"]["name"] == "root")
        .expect("root");
    let policy = committed
        .iter()
        .position(|o| o["kind"] == "ValidatingPolicy")
        .expect("a policy");
    let mut live_objects: Vec<Value> = Vec::new();
    for (i, object) in committed.iter().enumerate() {
        let mut stored = as_stored(object.clone());
        if i == policy {
            continue; // never applied
        }
        if i == root_app {
            stored["spec"]["source"]["targetRevision"] = json!("hotfix");
        }
        if stored["kind"] == "Secret" {
            stored["data"]["password"] = json!("bGl2ZS1zZWNyZXQ=");
        }
        live_objects.push(stored);
    }

    let (client, handle) = client();
    let server = tokio::spawn(serve_objects(handle, live_objects));
    let objects = tree::committed(dir.path(), "lab").expect("tree");
    let (compared, drifts) = live::drift(&client, &objects).await.expect("compared");
    drop(client);
    let asked = server.await.expect("server");
    assert_eq!(compared, committed.len(), "every applied object is read once");
    assert_eq!(asked.len(), committed.len());
    assert!(
        asked.contains(&"/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/root".to_string()),
        "{asked:#?}"
    );

    let text = report::live_text("lab", compared, &drifts);
    let policy_name = committed[policy]["metadata"]["name"].as_str().expect("name");
    assert!(
        text.contains(&format!("ValidatingPolicy {policy_name} (policies/")),
        "{text}"
    );
    assert!(text.contains("    not in the cluster\n"), "{text}");
    assert!(
        text.contains("Application argocd/root (argocd/root.yaml)\n    spec.source.targetRevision: committed \"main\", live \"hotfix\"\n"),
        "{text}"
    );
    assert!(text.contains("Secret database/backup-s3 (argocd/manifests/extra/secret.yaml)\n    data.password: committed (secret value), live (secret value)\n"), "{text}");
    assert!(
        text.ends_with(&format!(
            "3 of {compared} committed objects of lab drifted from the cluster (3 fields)\n"
        )),
        "{text}"
    );
    let json = report::live_json("lab", compared, &drifts);
    for shown in [text.as_str(), json.as_str()] {
        for secret in [
            "Y29tbWl0dGVkLXNlY3JldA",
            "bGl2ZS1zZWNyZXQ",
            "committed-secret",
            "live-secret",
        ] {
            assert!(!shown.contains(secret), "secret data shown:\n{shown}");
        }
    }
}
