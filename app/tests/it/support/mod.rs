//! Test harness: real PostgreSQL (a fresh database per test, from `#[sqlx::test]`) and the
//! real Redis; each app instance is the real server on a loopback port.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use app::orgs::gate::{IsolationGate, NoGate};
use app::server::Application;
use app::settings::Settings;
use app::state::AppState;
use figment::Figment;
use figment::providers::Serialized;
use reqwest::{Method, StatusCode};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use sqlx::postgres::PgConnectOptions;
use tokio::sync::oneshot;
use uuid::Uuid;

pub mod proxy;
pub mod servers;

pub const JWT_SECRET: &str = "test-secret-of-at-least-thirty-two-bytes!";
pub const ADMIN_TOKEN: &str = "platform-admin-credential-for-tests";

/// Waits (up to 5 s) until `url` answers at all.
pub async fn wait_until_up(url: &str) {
    for _ in 0..250 {
        if reqwest::get(url).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{url} never answered");
}

pub fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// The URL of the database `#[sqlx::test]` made (trust auth on loopback).
pub fn database_url(options: &PgConnectOptions) -> String {
    format!(
        "postgres://{}@{}:{}/{}",
        options.get_username(),
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or("postgres")
    )
}

/// The test's own platform-admin credential (both replicas of a test share its database, so
/// they share it too): wrong guesses spend a bucket named after the credential, and one test's
/// guesses must not lock out another test running beside it, nor the same test run again
/// within the minute (a test's database name is the same in every run, hence the run's own id).
pub fn admin_credential(options: &PgConnectOptions) -> String {
    static RUN: std::sync::LazyLock<Uuid> = std::sync::LazyLock::new(Uuid::new_v4);
    format!(
        "{ADMIN_TOKEN}-{}-{}",
        options.get_database().unwrap_or("postgres"),
        RUN.simple()
    )
}

pub fn settings(options: &PgConnectOptions, overrides: Value) -> Settings {
    let mut base = json!({
        "listen": "127.0.0.1:0",
        "metrics_listen": "127.0.0.1:0",
        "database_url": database_url(options),
        "database_max_connections": 8,
        "redis_url": redis_url(),
        "jwt_secret": JWT_SECRET,
        "admin_token": admin_credential(options),
        "saga_recovery_secs": 3600,
        // Tests stop their apps at once; the drain has tests of its own.
        "shutdown_drain_secs": 0,
        "shutdown_grace_secs": 5,
    });
    if let (Some(base), Some(overrides)) = (base.as_object_mut(), overrides.as_object()) {
        for (k, v) in overrides {
            base.insert(k.clone(), v.clone());
        }
    }
    Settings::from_figment(Figment::from(Serialized::defaults(base))).expect("test settings")
}

/// One running app.
pub struct TestApp {
    pub addr: SocketAddr,
    /// The metrics listener (`/metrics` is not on `addr`).
    pub metrics_addr: SocketAddr,
    pub state: AppState,
    pub http: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl TestApp {
    pub async fn spawn(options: &PgConnectOptions) -> Self {
        Self::spawn_with(settings(options, json!({})), Arc::new(NoGate)).await
    }

    pub async fn spawn_with(settings: Settings, gate: Arc<dyn IsolationGate>) -> Self {
        let app = Application::build_with_gate(&settings, gate).await.expect("app builds");
        let addr = app.local_addr();
        let metrics_addr = app.metrics_addr();
        let state = app.state();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            app.run_until(async {
                let _ = stopped.await;
            })
            .await
            .expect("app runs");
        });
        let test = Self {
            addr,
            metrics_addr,
            state,
            http: reqwest::Client::new(),
            stop: Some(stop),
            task: Some(task),
        };
        test.wait_ready().await;
        test
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn wait_ready(&self) {
        for _ in 0..200 {
            if let Ok(r) = self.http.get(self.url("/readyz")).send().await
                && r.status() == StatusCode::OK
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("app at {} never became ready", self.addr);
    }

    /// What SIGTERM does to the binary: the app starts shutting down; `stop` then waits for it.
    pub fn signal_stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("app task");
        }
    }

    /// Sends a request; returns status and JSON body (Null when empty).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.http.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status();
        let text = response.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// The credential this app accepts for the platform admin.
    pub fn admin_credential(&self) -> String {
        self.state.admin_token.expose_secret().to_owned()
    }

    pub async fn admin_token(&self) -> String {
        let (status, body) = self
            .call(
                Method::POST,
                "/api/v1/auth/admin",
                None,
                Some(json!({"credential": self.admin_credential()})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["token"].as_str().expect("token").to_owned()
    }

    /// Creates a committed org; returns its id.
    pub async fn create_org(&self, admin: &str, slug: &str) -> Uuid {
        let response = self
            .http
            .post(self.url("/api/v1/orgs"))
            .bearer_auth(admin)
            .header("Idempotency-Key", Uuid::new_v4().to_string())
            .json(&json!({"slug": slug, "name": format!("{slug} inc")}))
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: Value = response.json().await.expect("json");
        body["id"].as_str().and_then(|s| s.parse().ok()).expect("org id")
    }

    /// The text of `/metrics`, from the metrics listener.
    pub async fn metrics_text(&self) -> String {
        let url = format!("http://{}/metrics", self.metrics_addr);
        let response = self.http.get(url).send().await.expect("metrics");
        response.text().await.expect("text")
    }

    /// Creates a project as an org admin; returns its id.
    pub async fn create_project(&self, admin: &str, org: Uuid, name: &str) -> Uuid {
        let (status, body) = self
            .call(
                Method::POST,
                &format!("/api/v1/orgs/{org}/projects"),
                Some(admin),
                Some(json!({"name": name})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().and_then(|s| s.parse().ok()).expect("project id")
    }

    /// Adds the guest `key` to the project as a member.
    pub async fn add_member(&self, manager: &str, org: Uuid, project: Uuid, key: &str) {
        let path = format!("/api/v1/orgs/{org}/projects/{project}/members/{key}");
        let (status, body) = self
            .call(Method::PUT, &path, Some(manager), Some(json!({"role": "member"})))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    /// Mints an invite as `minter` and signs in with it; returns the guest's token and body.
    pub async fn guest(&self, minter: &str, org: Uuid, role: &str) -> (String, Value) {
        let (status, invite) = self
            .call(
                Method::POST,
                &format!("/api/v1/orgs/{org}/invites"),
                Some(minter),
                Some(json!({"role": role})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{invite}");
        let (status, body) = self.redeem(&invite["code"]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        (body["token"].as_str().expect("token").to_owned(), body)
    }

    /// Signs a guest in with an invite code: the answer as it comes.
    pub async fn redeem(&self, code: impl serde::Serialize) -> (StatusCode, Value) {
        self.call(
            Method::POST,
            "/api/v1/auth/guest",
            None,
            Some(json!({ "invite_code": code })),
        )
        .await
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
