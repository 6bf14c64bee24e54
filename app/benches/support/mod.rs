//! What the benchmarks share: app replicas as processes, and API calls to set them up.

#![allow(dead_code)]

pub mod stamped;

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::process::{Child, Command};
use uuid::Uuid;

pub type Error = Box<dyn std::error::Error + Send + Sync>;

pub const ADMIN: &str = "bench-admin-credential-0123456789";
pub const SECRET: &str = "bench-jwt-secret-of-at-least-32-bytes!!";

pub fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Starts an `app serve` (release build) on a free loopback port; returns it and its address.
pub async fn start_replica(database: &str, max_connections: u32) -> Result<(Child, String), Error> {
    let port = test_support::free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_app"))
        .arg("serve")
        .env("APP_LISTEN", format!("127.0.0.1:{port}"))
        .env("APP_METRICS_LISTEN", "127.0.0.1:0")
        // The fan-out benchmark's clients are all one user.
        .env("APP_CHAT_MAX_SOCKETS_PER_USER", "100000")
        .env(
            "APP_DATABASE_URL",
            format!("postgres://postgres@127.0.0.1:5432/{database}"),
        )
        .env("APP_DATABASE_MAX_CONNECTIONS", max_connections.to_string())
        .env("APP_REDIS_URL", "redis://127.0.0.1:6379")
        .env("APP_JWT_SECRET", SECRET)
        .env("APP_ADMIN_TOKEN", ADMIN)
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let addr = format!("127.0.0.1:{port}");
    let http = reqwest::Client::new();
    for _ in 0..400 {
        if http
            .get(format!("http://{addr}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            return Ok((child, addr));
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    Err("replica never became ready".into())
}

/// One API call; a non-2xx answer is an error with its body.
pub async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: Option<&str>,
    body: Option<Value>,
) -> Result<Value, Error> {
    let mut request = http.request(method, url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request
            .header("Idempotency-Key", Uuid::new_v4().to_string())
            .json(&body);
    }
    let response = request.send().await?;
    let status = response.status();
    let body: Value = response.json().await?;
    if !status.is_success() {
        return Err(format!("{status}: {body}").into());
    }
    Ok(body)
}

/// The platform admin's token. Its sign-in is rate limited: take one and reuse it.
pub async fn admin_token(http: &reqwest::Client, base: &str) -> Result<String, Error> {
    let admin = call(
        http,
        reqwest::Method::POST,
        format!("{base}/api/v1/auth/admin"),
        None,
        Some(serde_json::json!({"credential": ADMIN})),
    )
    .await?;
    Ok(admin["token"].as_str().ok_or("token")?.to_owned())
}

/// An org with an admin guest, made by the platform admin (`admin`, its token): (org id,
/// admin user id, token).
pub async fn org_with_admin(
    http: &reqwest::Client,
    base: &str,
    admin: &str,
    slug: &str,
) -> Result<(String, String, String), Error> {
    let post = reqwest::Method::POST;
    let org = call(
        http,
        post.clone(),
        format!("{base}/api/v1/orgs"),
        Some(admin),
        Some(serde_json::json!({"slug": slug, "name": slug})),
    )
    .await?;
    let org = org["id"].as_str().ok_or("org")?.to_owned();
    let invite = call(
        http,
        post.clone(),
        format!("{base}/api/v1/orgs/{org}/invites"),
        Some(admin),
        Some(serde_json::json!({"role": "admin"})),
    )
    .await?;
    let guest = call(
        http,
        post,
        format!("{base}/api/v1/auth/guest"),
        None,
        Some(serde_json::json!({"invite_code": invite["code"]})),
    )
    .await?;
    Ok((
        org,
        guest["me"]["user"].as_str().ok_or("user")?.to_owned(),
        guest["token"].as_str().ok_or("token")?.to_owned(),
    ))
}

fn percentile_rank(len: usize, p: f64) -> usize {
    (((p / 100.0) * len as f64).ceil() as usize).clamp(1, len) - 1
}

/// The p-th percentile of sorted samples (NaN when there are none).
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        f64::NAN
    } else {
        sorted[percentile_rank(sorted.len(), p)]
    }
}

/// Something a bench runs that this crate does not build: a program on PATH or a file a
/// package installs, with the package that brings it.
pub struct Tool {
    pub name: &'static str,
    /// A program looked up on PATH, or an absolute path to a file.
    pub path: &'static str,
    pub package: &'static str,
}

/// Fails, before any database or server is made, naming each missing tool and the command
/// that installs all of them (the packages scripts/test installs the same way).
pub fn require(tools: &[Tool]) -> Result<(), Error> {
    let present = |path: &str| {
        if path.starts_with('/') {
            std::path::Path::new(path).exists()
        } else {
            std::env::var_os("PATH")
                .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(path).is_file()))
        }
    };
    let missing: Vec<&Tool> = tools.iter().filter(|t| !present(t.path)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = missing
        .iter()
        .map(|t| {
            if t.name == t.path {
                t.name.to_owned()
            } else {
                format!("{} ({})", t.name, t.path)
            }
        })
        .collect();
    let mut packages: Vec<&str> = missing.iter().map(|t| t.package).collect();
    packages.dedup();
    Err(format!(
        "this bench needs {} and cannot find {}; install with: apt-get install -y {}",
        names.join(", "),
        if missing.len() == 1 { "it" } else { "them" },
        packages.join(" ")
    )
    .into())
}
