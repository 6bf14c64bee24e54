//! Config hot reload across three app instances on loopback ports, sharing the real
//! PostgreSQL and Redis.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::TestApp;
use crate::support::proxy::Proxy;
use app::orgs::gate::NoGate;
use redis::AsyncCommands;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use uuid::Uuid;

const KEY: &str = "ui.banner";

async fn put_banner(app: &TestApp, token: &str, org: Uuid, version: i64, text: &str) {
    let response = app
        .http
        .put(app.url(&format!("/api/v1/orgs/{org}/configs/{KEY}")))
        .bearer_auth(token)
        .header("If-Match", format!("\"{version}\""))
        .json(&json!({"value": text, "reason": "hot reload test"}))
        .send()
        .await
        .expect("put");
    assert_eq!(response.status(), StatusCode::OK);
}

/// Waits until `app` serves at least `version` of the banner; returns how long that took.
async fn until_served(app: &TestApp, org: Uuid, version: i64) -> Duration {
    let started = Instant::now();
    while app.state.configs.version(org, KEY) < version {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{} never served v{version}",
            app.addr
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    started.elapsed()
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_change_on_one_replica_is_served_by_all_and_survives_a_lost_connection(
    _: PgPoolOptions,
    options: PgConnectOptions,
) {
    let proxy = Proxy::start("127.0.0.1:6379".parse().expect("addr")).await;
    let a = TestApp::spawn(&options).await;
    let b = TestApp::spawn(&options).await;
    // Replica c reaches Redis through a proxy the test can cut. Its reconcile timer is the
    // default five minutes, so only the resubscription can heal it within this test.
    let c = TestApp::spawn_with(
        crate::support::settings(&options, json!({"redis_url": proxy.url()})),
        Arc::new(NoGate),
    )
    .await;
    let admin = a.admin_token().await;
    let org = a.create_org(&admin, "acme").await;
    let (owner, _) = a.guest(&admin, org, "admin").await;
    for app in [&a, &b, &c] {
        until_served(app, org, 1).await;
    }

    put_banner(&a, &owner, org, 1, "hello").await;
    for app in [&b, &c] {
        until_served(app, org, 2).await;
        let (status, body) = app
            .call(
                Method::GET,
                &format!("/api/v1/orgs/{org}/configs/{KEY}"),
                Some(&owner),
                None,
            )
            .await;
        assert_eq!(
            (status, body["value"].clone(), body["version"].clone()),
            (StatusCode::OK, json!("hello"), json!(2))
        );
    }

    // Cut c off from Redis, change the config (c misses the event), then restore.
    proxy.cut();
    put_banner(&a, &owner, org, 2, "while c was away").await;
    until_served(&b, org, 3).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(c.state.configs.version(org, KEY), 2, "c cannot have heard of v3");
    proxy.restore();
    until_served(&c, org, 3).await;
    // c's request connection to Redis (the revocation check) reconnects on its own too.
    let mut body = Value::Null;
    for _ in 0..100 {
        let (status, reply) = c
            .call(
                Method::GET,
                &format!("/api/v1/orgs/{org}/configs/{KEY}"),
                Some(&owner),
                None,
            )
            .await;
        if status == StatusCode::OK {
            body = reply;
            break;
        }
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{reply}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(body["value"], "while c was away");

    // A replica started now warm-loads before it says ready.
    let d = TestApp::spawn(&options).await;
    assert_eq!(d.state.configs.version(org, KEY), 3);
    for app in [a, b, c, d] {
        app.stop().await;
    }
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn shuffled_and_duplicated_events_never_move_a_replica_backwards(_: PgPoolOptions, options: PgConnectOptions) {
    let a = TestApp::spawn(&options).await;
    let b = TestApp::spawn(&options).await;
    let admin = a.admin_token().await;
    let org = a.create_org(&admin, "acme").await;
    let (owner, _) = a.guest(&admin, org, "admin").await;
    for version in 1..=5 {
        put_banner(&a, &owner, org, version, &format!("v{}", version + 1)).await;
    }
    until_served(&b, org, 6).await;

    // Watch b's served version while stale, duplicated and out-of-order events arrive, along
    // with one that claims a version the database does not have.
    let watcher = {
        let state = b.state.clone();
        tokio::spawn(async move {
            let mut seen = Vec::new();
            for _ in 0..400 {
                seen.push(state.configs.version(org, KEY));
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            seen
        })
    };
    let client = redis::Client::open(crate::support::redis_url()).expect("url");
    let mut conn = client.get_multiplexed_async_connection().await.expect("redis");
    let channel = app::configs::sync::channel(org, KEY);
    for version in [3, 1, 6, 6, 2, 5, 99, 4, 1, 6] {
        let _: i64 = conn
            .publish(&channel, format!("version={version}"))
            .await
            .expect("publish");
    }
    let seen = watcher.await.expect("watcher");
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "never backwards: {seen:?}");
    assert_eq!(b.state.configs.version(org, KEY), 6);
    let (_, body): (StatusCode, Value) = b
        .call(
            Method::GET,
            &format!("/api/v1/orgs/{org}/configs/{KEY}"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(
        (body["value"].clone(), body["version"].clone()),
        (json!("v6"), json!(6))
    );
    a.stop().await;
    b.stop().await;
}
