//! The Kubernetes isolation gate against a scripted stand-in for the Kubernetes API server,
//! built on `tower-test` as kube-rs tests itself: no API server can run on these machines.
//! Every response is shaped like the real API's (Namespace and NetworkPolicy objects, `Status`
//! objects for 404 and 403). The saga around the gate runs against the real PostgreSQL.

use std::time::Duration;

use app::domain::Slug;
use app::orgs::gate::IsolationGate;
use app::orgs::idempotency::{self, Begin};
use app::orgs::kubernetes::{self, KubernetesGate};
use app::orgs::saga::{NoProbe, Saga};
use http::{Response, StatusCode};
use kube::client::Body;
use serde_json::{Value, json};
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use test_support::apiserver::{self, Handle, reply, status};
use uuid::Uuid;

fn gate(timeout: Duration) -> (KubernetesGate, Handle) {
    let (client, handle) = apiserver::scripted();
    (KubernetesGate::new(client, timeout, Duration::from_millis(10)), handle)
}

fn not_found(kind: &str, name: &str) -> Response<Body> {
    status(404, "NotFound", &format!("{kind} \"{name}\" not found"))
}

fn namespace(name: &str, org: Uuid, labels: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace",
           "metadata": {"name": name, "uid": "3f1a-uid", "resourceVersion": "42", "labels": labels,
                        "annotations": {"platform/org-id": org.to_string()}},
           "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})
}

fn default_deny(namespace: &str) -> Value {
    json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
           "metadata": {"name": "default-deny", "namespace": namespace,
                        "labels": {"generate.kyverno.io/policy-name": "tenant-network-isolation"}},
           "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}})
}

/// The next request must be `method path`; answers it and returns its query and JSON body.
async fn next(handle: &mut Handle, method: &str, path: &str, response: Response<Body>) -> (String, Value) {
    let (request, send) = handle.next_request().await.expect("the gate sent a request");
    assert_eq!((request.method().as_str(), request.uri().path()), (method, path));
    let query = request.uri().query().unwrap_or_default().to_owned();
    let bytes = request.into_body().collect_bytes().await.expect("body");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).expect("json")
    };
    send.send_response(response);
    (query, body)
}

const NS: &str = "/api/v1/namespaces/org-acme";
const NP: &str = "/apis/networking.k8s.io/v1/namespaces/org-acme/networkpolicies/default-deny";

fn acme() -> Slug {
    Slug::try_from("acme".to_owned()).expect("slug")
}

#[tokio::test]
async fn the_namespace_is_labelled_ready_once_the_default_deny_policy_exists() {
    let (gate, mut api) = gate(Duration::from_secs(5));
    let org = Uuid::new_v4();
    let slug = acme();
    let run = tokio::spawn(async move { gate.isolate(org, &slug).await });

    next(&mut api, "GET", NS, not_found("namespaces", "org-acme")).await;
    let labels = json!({"platform/tenant": "true", "platform/org": "acme"});
    let (query, body) = next(
        &mut api,
        "PATCH",
        NS,
        reply(StatusCode::CREATED, &namespace("org-acme", org, labels.clone())),
    )
    .await;
    assert_eq!(query, "&force=true&fieldManager=app-isolation-gate");
    assert_eq!(body["metadata"]["labels"], labels);
    assert_eq!(body["metadata"]["annotations"]["platform/org-id"], org.to_string());
    // Kyverno has not generated the policy yet, then it has.
    next(
        &mut api,
        "GET",
        NP,
        not_found("networkpolicies.networking.k8s.io", "default-deny"),
    )
    .await;
    next(&mut api, "GET", NP, reply(StatusCode::OK, &default_deny("org-acme"))).await;
    let ready = json!({"platform/tenant": "true", "platform/org": "acme", "isolation-ready": "true"});
    let (_, body) = next(
        &mut api,
        "PATCH",
        NS,
        reply(StatusCode::OK, &namespace("org-acme", org, ready.clone())),
    )
    .await;
    assert_eq!(body["metadata"]["labels"], ready);
    run.await.expect("task").expect("isolated");
}

#[tokio::test]
async fn no_policy_in_time_is_a_failure_that_says_what_to_check() {
    let (gate, mut api) = gate(Duration::from_millis(100));
    let org = Uuid::new_v4();
    let slug = acme();
    let run = tokio::spawn(async move { gate.isolate(org, &slug).await });
    next(&mut api, "GET", NS, not_found("namespaces", "org-acme")).await;
    next(
        &mut api,
        "PATCH",
        NS,
        reply(StatusCode::CREATED, &namespace("org-acme", org, json!({}))),
    )
    .await;
    let answer = tokio::spawn(async move {
        // A policy that exists but selects only some pods is not the default deny.
        let partial = json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "default-deny", "namespace": "org-acme"},
            "spec": {"podSelector": {"matchLabels": {"app": "x"}}, "policyTypes": ["Ingress", "Egress"]}});
        while let Some((request, send)) = api.next_request().await {
            assert_eq!(request.uri().path(), NP, "only polls for the policy");
            send.send_response(reply(StatusCode::OK, &partial));
        }
    });
    let error = run.await.expect("task").expect_err("times out");
    assert_eq!(
        error.to_string(),
        "isolation gate: the default-deny NetworkPolicy did not appear in namespace org-acme within 100ms; check that \
         Kyverno runs the tenant-network-isolation policy"
    );
    answer.abort();
}

#[tokio::test]
async fn rbac_denial_names_the_missing_permission() {
    let (gate, mut api) = gate(Duration::from_secs(5));
    let org = Uuid::new_v4();
    let slug = acme();
    let run = tokio::spawn(async move { gate.isolate(org, &slug).await });
    next(&mut api, "GET", NS, not_found("namespaces", "org-acme")).await;
    let message = "namespaces \"org-acme\" is forbidden: User \"system:serviceaccount:app:app\" cannot patch resource \
                   \"namespaces\" in API group \"\" at the cluster scope";
    next(&mut api, "PATCH", NS, status(403, "Forbidden", message)).await;
    let error = run.await.expect("task").expect_err("refused");
    assert_eq!(
        error.to_string(),
        format!(
            "isolation gate: the app's ServiceAccount may not create namespaces: {message}; grant it in the chart's \
             RBAC (helm/charts/app/templates/rbac.yaml)"
        )
    );
}

#[tokio::test]
async fn another_orgs_namespace_is_neither_adopted_nor_deleted() {
    let (gate, mut api) = gate(Duration::from_secs(5));
    let (org, other) = (Uuid::new_v4(), Uuid::new_v4());
    let slug = acme();
    let run = tokio::spawn(async move {
        let isolated = gate.isolate(org, &slug).await;
        let released = gate.release(org, &slug).await;
        (isolated, released)
    });
    let theirs = namespace(
        "org-acme",
        other,
        json!({"platform/tenant": "true", "platform/org": "acme"}),
    );
    next(&mut api, "GET", NS, reply(StatusCode::OK, &theirs)).await;
    // Compensation looks, sees it is not this org's, and leaves it.
    next(&mut api, "GET", NS, reply(StatusCode::OK, &theirs)).await;
    let (isolated, released) = run.await.expect("task");
    assert!(
        isolated
            .expect_err("refused")
            .to_string()
            .contains("already exists and does not belong to this org")
    );
    released.expect("nothing to release");
}

#[tokio::test]
async fn release_deletes_only_the_namespace_it_created() {
    let (gate, mut api) = gate(Duration::from_secs(5));
    let org = Uuid::new_v4();
    let slug = acme();
    let run = tokio::spawn(async move { gate.release(org, &slug).await });
    next(
        &mut api,
        "GET",
        NS,
        reply(StatusCode::OK, &namespace("org-acme", org, json!({}))),
    )
    .await;
    let (_, body) = next(
        &mut api,
        "DELETE",
        NS,
        reply(StatusCode::OK, &namespace("org-acme", org, json!({}))),
    )
    .await;
    assert_eq!(
        body["preconditions"]["uid"], "3f1a-uid",
        "deletes exactly the namespace it looked at"
    );
    assert_eq!(body["propagationPolicy"], "Background");
    run.await.expect("task").expect("released");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_gate_timeout_fails_the_org_and_deletes_its_namespace(_: PgPoolOptions, options: PgConnectOptions) {
    let (gate, mut api) = gate(Duration::from_millis(50));
    let pool = app::db::runtime_pool(options.clone(), 4).await.expect("pool");
    let owner = PgPool::connect_with(options.clone()).await.expect("owner");
    let redis = redis::aio::ConnectionManager::new(redis::Client::open(crate::support::redis_url()).expect("url"))
        .await
        .expect("redis");
    let id = Uuid::new_v4();
    let script = tokio::spawn(async move {
        next(&mut api, "GET", NS, not_found("namespaces", "org-acme")).await;
        next(
            &mut api,
            "PATCH",
            NS,
            reply(StatusCode::CREATED, &namespace("org-acme", id, json!({}))),
        )
        .await;
        loop {
            let (request, send) = api.next_request().await.expect("request");
            let path = request.uri().path().to_owned();
            if path == NP {
                send.send_response(not_found("networkpolicies.networking.k8s.io", "default-deny"));
                continue;
            }
            // Compensation: look, then delete.
            assert_eq!((request.method().as_str(), path.as_str()), ("GET", NS));
            send.send_response(reply(StatusCode::OK, &namespace("org-acme", id, json!({}))));
            next(
                &mut api,
                "DELETE",
                NS,
                reply(StatusCode::OK, &namespace("org-acme", id, json!({}))),
            )
            .await;
            return;
        }
    });
    let saga = Saga {
        db: &pool,
        redis: &redis,
        gate: &gate,
        probe: &NoProbe,
        lease: Duration::from_secs(60),
    };
    let Begin::Claimed(claimed) = idempotency::begin(&pool, "k8s", vec![3; 32]).await.expect("begin") else {
        panic!("new key");
    };
    let org = saga.create(id, &acme(), "Acme", &claimed).await.expect("created");
    let org = saga.drive(org).await.expect("ends");
    script.await.expect("the gate asked for the namespace's deletion");
    assert_eq!(org.status, app::orgs::org::OrgStatus::Failed);
    let configs: i64 = sqlx::query_scalar("SELECT count(*) FROM service_configs")
        .fetch_one(&owner)
        .await
        .expect("count");
    assert_eq!(configs, 0, "defaults compensated");
    assert_eq!(kubernetes::namespace_of(&acme()), "org-acme");
}
