//! The org creation saga and its Idempotency-Key, against the real PostgreSQL and Redis.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::TestApp;
use app::domain::Slug;
use app::orgs::gate::{GateError, GateFuture, IsolationGate};
use app::orgs::idempotency::{self, Begin};
use app::orgs::org::Step;
use app::orgs::saga::{Injected, Saga, SagaError, SagaProbe};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use uuid::Uuid;

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_hundred_identical_posts_create_one_org(_: PgPoolOptions, options: PgConnectOptions) {
    let app = TestApp::spawn(&options).await;
    let admin = app.admin_token().await;
    let key = Uuid::new_v4().to_string();
    let body = json!({"slug": "acme", "name": "Acme"});
    let send = |body: Value, key: Option<String>| {
        let mut request = app.http.post(app.url("/api/v1/orgs")).bearer_auth(&admin).json(&body);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        async move {
            let response = request.send().await.expect("sent");
            let status = response.status();
            let replayed = response.headers().contains_key("idempotent-replayed");
            (status, replayed, response.json::<Value>().await.expect("json"))
        }
    };
    let replies = futures_util::future::join_all((0..100).map(|_| send(body.clone(), Some(key.clone())))).await;
    let created: Vec<&Value> = replies
        .iter()
        .filter(|(s, _, _)| *s == StatusCode::CREATED)
        .map(|(_, _, b)| b)
        .collect();
    assert!(!created.is_empty(), "at least the first request completes");
    assert!(
        created.iter().all(|b| *b == created[0]),
        "every success is the same org"
    );
    for (status, _, reply) in &replies {
        assert!(
            *status == StatusCode::CREATED || *status == StatusCode::CONFLICT,
            "{status}: {reply}"
        );
    }
    let owner = PgPool::connect_with(options.clone()).await.expect("owner");
    let orgs: i64 = sqlx::query_scalar("SELECT count(*) FROM organizations")
        .fetch_one(&owner)
        .await
        .expect("count");
    assert_eq!(orgs, 1, "exactly one org");

    // After completion: the first response, replayed.
    let (status, replayed, reply) = send(body.clone(), Some(key.clone())).await;
    assert_eq!((status, replayed), (StatusCode::CREATED, true));
    assert_eq!(&reply, created[0]);
    // Same key, another body.
    let (status, _, reply) = send(json!({"slug": "acme", "name": "Other"}), Some(key.clone())).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        reply["detail"],
        "this Idempotency-Key was already used with a different body; use a new key for a new org"
    );
    // No key.
    let (status, _, reply) = send(body.clone(), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply["detail"],
        "send an Idempotency-Key header (e.g. a fresh UUID) so that a retried request cannot create the org twice"
    );
    // A new key for a live slug: 409, and the key stays free for a corrected retry.
    let fresh = Uuid::new_v4().to_string();
    let (status, _, reply) = send(body.clone(), Some(fresh.clone())).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        reply["detail"],
        "the slug \"acme\" is taken by another org; choose another slug"
    );
    let (status, _, reply) = send(json!({"slug": "acme-2", "name": "Acme"}), Some(fresh)).await;
    assert_eq!((status, reply["slug"].clone()), (StatusCode::CREATED, json!("acme-2")));
    app.stop().await;
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_retry_while_the_first_request_runs_gets_409(_: PgPoolOptions, options: PgConnectOptions) {
    let pool = app::db::runtime_pool(options.clone(), 2).await.expect("pool");
    let fingerprint = idempotency::fingerprint(&json!({"slug": "a", "name": "a"}));
    let Begin::Claimed(_first) = idempotency::begin(&pool, "k1", fingerprint.clone())
        .await
        .expect("begin")
    else {
        panic!("a new key is claimed");
    };
    assert!(matches!(
        idempotency::begin(&pool, "k1", fingerprint).await.expect("begin"),
        Begin::InFlight
    ));
}

/// A gate that records what it isolated, and can be told to fail.
#[derive(Debug, Default)]
struct RecordingGate {
    isolated: Mutex<HashSet<Uuid>>,
    fail: bool,
}

impl IsolationGate for RecordingGate {
    fn isolate<'a>(&'a self, org: Uuid, _slug: &'a Slug) -> GateFuture<'a> {
        Box::pin(async move {
            if self.fail {
                return Err(GateError("default-deny NetworkPolicy never appeared".to_owned()));
            }
            self.isolated.lock().expect("lock").insert(org);
            Ok(())
        })
    }

    fn release<'a>(&'a self, org: Uuid, _slug: &'a Slug) -> GateFuture<'a> {
        Box::pin(async move {
            self.isolated.lock().expect("lock").remove(&org);
            Ok(())
        })
    }
}

/// Injects `what` right after `step`, once.
struct Inject {
    step: Step,
    what: Injected,
    fired: Mutex<bool>,
}

impl SagaProbe for Inject {
    fn after(&self, _org: Uuid, step: Step) -> Option<Injected> {
        let mut fired = self.fired.lock().expect("lock");
        (step == self.step && !*fired).then(|| {
            *fired = true;
            self.what
        })
    }
}

struct Fixture {
    pool: PgPool,
    owner: PgPool,
    redis: redis::aio::ConnectionManager,
}

async fn fixture(options: &PgConnectOptions) -> Fixture {
    let client = redis::Client::open(crate::support::redis_url()).expect("redis url");
    Fixture {
        pool: app::db::runtime_pool(options.clone(), 4).await.expect("pool"),
        owner: PgPool::connect_with(options.clone()).await.expect("owner"),
        redis: redis::aio::ConnectionManager::new(client).await.expect("redis"),
    }
}

/// The org's status, and how many configs it has.
/// A committed org has a config for every key of the catalog.
fn every_key() -> i64 {
    app::configs::catalog::KEYS.len() as i64
}

async fn org_state(owner: &PgPool, org: Uuid) -> (String, i64) {
    sqlx::query_as(
        "SELECT status, (SELECT count(*) FROM service_configs WHERE org_id = $1) FROM organizations WHERE id = $1",
    )
    .bind(org)
    .fetch_one(owner)
    .await
    .expect("org")
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_failure_after_any_step_ends_committed_or_compensated(_: PgPoolOptions, options: PgConnectOptions) {
    let f = fixture(&options).await;
    for (i, step) in [Step::Created, Step::DefaultsApplied, Step::Isolated, Step::Committed]
        .into_iter()
        .enumerate()
    {
        let gate = RecordingGate::default();
        let probe = Inject {
            step,
            what: Injected::Fail,
            fired: Mutex::new(false),
        };
        let saga = Saga {
            db: &f.pool,
            redis: &f.redis,
            gate: &gate,
            probe: &probe,
            lease: Duration::from_secs(60),
        };
        let slug = Slug::try_from(format!("fail-{i}")).expect("slug");
        let key = format!("fail-{i}");
        let Begin::Claimed(claimed) = idempotency::begin(&f.pool, &key, vec![0; 32]).await.expect("begin") else {
            panic!("new key");
        };
        let org = match saga.create(Uuid::new_v4(), &slug, "x", &claimed).await {
            Ok(org) => saga.drive(org).await.expect("saga ends"),
            Err(e) => panic!("{step:?}: {e}"),
        };
        let (status, configs) = org_state(&f.owner, org.id).await;
        let isolated = gate.isolated.lock().expect("lock").contains(&org.id);
        if step == Step::Committed {
            assert_eq!(
                (status.as_str(), configs, isolated),
                ("COMMITTED", every_key(), true),
                "{step:?}"
            );
        } else {
            // Compensated: nothing of the org is left behind but its FAILED row.
            assert_eq!((status.as_str(), configs, isolated), ("FAILED", 0, false), "{step:?}");
            assert_eq!(
                org.failure.as_deref(),
                Some(format!("injected failure after {step:?}").as_str())
            );
        }
    }
    // A FAILED org gives its slug back.
    let gate = RecordingGate::default();
    let saga = Saga {
        db: &f.pool,
        redis: &f.redis,
        gate: &gate,
        probe: &app::orgs::saga::NoProbe,
        lease: Duration::from_secs(60),
    };
    let Begin::Claimed(claimed) = idempotency::begin(&f.pool, "again", vec![1; 32]).await.expect("begin") else {
        panic!("new key");
    };
    let org = saga
        .create(
            Uuid::new_v4(),
            &Slug::try_from("fail-0".to_owned()).expect("slug"),
            "x",
            &claimed,
        )
        .await;
    assert_eq!(
        saga.drive(org.expect("created")).await.expect("ends").status,
        app::orgs::org::OrgStatus::Committed
    );
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_crash_after_any_step_is_recovered(_: PgPoolOptions, options: PgConnectOptions) {
    let f = fixture(&options).await;
    let gate = RecordingGate::default();
    for (i, step) in [Step::Created, Step::DefaultsApplied, Step::Isolated, Step::Committed]
        .into_iter()
        .enumerate()
    {
        let probe = Inject {
            step,
            what: Injected::Crash,
            fired: Mutex::new(false),
        };
        // A zero lease: the crashed driver's claim runs out at once.
        let saga = Saga {
            db: &f.pool,
            redis: &f.redis,
            gate: &gate,
            probe: &probe,
            lease: Duration::ZERO,
        };
        let slug = Slug::try_from(format!("crash-{i}")).expect("slug");
        let key = format!("crash-{i}");
        let Begin::Claimed(claimed) = idempotency::begin(&f.pool, &key, vec![2; 32]).await.expect("begin") else {
            panic!("new key");
        };
        let crashed = match saga.create(Uuid::new_v4(), &slug, "x", &claimed).await {
            Ok(org) => saga.drive(org).await,
            Err(e) => Err(e),
        };
        assert!(matches!(crashed, Err(SagaError::Crashed(s)) if s == step), "{step:?}");
        let org: Uuid = sqlx::query_scalar("SELECT id FROM organizations WHERE slug = $1")
            .bind(slug.as_str())
            .fetch_one(&f.owner)
            .await
            .expect("org row");
        let expected_before = if step == Step::Committed {
            "COMMITTED"
        } else {
            "PENDING"
        };
        assert_eq!(org_state(&f.owner, org).await.0, expected_before, "{step:?}");
        // The first request's retry is told to wait.
        assert!(matches!(
            idempotency::begin(&f.pool, &key, vec![2; 32]).await.expect("begin"),
            Begin::InFlight
        ));

        let recovered = saga.recover_once().await.expect("recovery runs");
        assert_eq!(recovered, usize::from(step != Step::Committed), "{step:?}");
        assert_eq!(
            org_state(&f.owner, org).await,
            ("COMMITTED".to_owned(), every_key()),
            "{step:?}"
        );
        assert!(gate.isolated.lock().expect("lock").contains(&org));
        // The retry now gets the final response.
        match idempotency::begin(&f.pool, &key, vec![2; 32]).await.expect("begin") {
            Begin::Replay(status, body) => {
                assert_eq!(status, StatusCode::CREATED);
                assert_eq!(body["status"], "COMMITTED");
            }
            other => panic!("{step:?}: {other:?}"),
        }
    }
    let pending: i64 = sqlx::query_scalar("SELECT count(*) FROM organizations WHERE status = 'PENDING'")
        .fetch_one(&f.owner)
        .await
        .expect("count");
    assert_eq!(pending, 0);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_failing_gate_fails_the_org_and_the_response_says_why(_: PgPoolOptions, options: PgConnectOptions) {
    let gate = Arc::new(RecordingGate {
        fail: true,
        ..RecordingGate::default()
    });
    let app = TestApp::spawn_with(crate::support::settings(&options, json!({})), gate.clone()).await;
    let admin = app.admin_token().await;
    let key = Uuid::new_v4().to_string();
    let post = || {
        app.http
            .post(app.url("/api/v1/orgs"))
            .bearer_auth(&admin)
            .header("Idempotency-Key", &key)
            .json(&json!({"slug": "acme", "name": "Acme"}))
            .send()
    };
    let response = post().await.expect("sent");
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    let first: Value = response.json().await.expect("json");
    assert_eq!(
        first["detail"],
        "org creation failed and was rolled back: isolation gate: default-deny NetworkPolicy never appeared; \
         fix the cause and retry with a new Idempotency-Key"
    );
    let response = post().await.expect("sent");
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(response.json::<Value>().await.expect("json"), first, "replayed");
    let owner = PgPool::connect_with(options.clone()).await.expect("owner");
    let (status, configs): (String, i64) =
        sqlx::query_as("SELECT status, (SELECT count(*) FROM service_configs) FROM organizations WHERE slug = 'acme'")
            .fetch_one(&owner)
            .await
            .expect("org");
    assert_eq!((status.as_str(), configs), ("FAILED", 0));
    assert!(gate.isolated.lock().expect("lock").is_empty());
    app.stop().await;
}
