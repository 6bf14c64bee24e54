//! The `app` binary as a process: settings from the environment, JSON logs with request ids
//! and no secrets, OpenTelemetry traces to an OTLP endpoint, and a clean exit on SIGTERM.

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::routing::post;
use serde_json::Value;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tokio::io::AsyncReadExt;

const JWT_SECRET: &str = "process-test-secret-of-32-bytes-or-more";
const ADMIN_TOKEN: &str = "process-test-admin-credential-xyz";
const DB_PASSWORD: &str = "never-logged-password";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port")
}

/// A minimal OTLP/HTTP receiver: counts non-empty protobuf trace exports.
async fn otlp_receiver() -> (u16, Arc<AtomicUsize>) {
    let exports = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&exports);
    let app = Router::new().route(
        "/v1/traces",
        post(move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
            let counter = Arc::clone(&counter);
            async move {
                if headers
                    .get("content-type")
                    .is_some_and(|v| v == "application/x-protobuf")
                    && !body.is_empty()
                {
                    counter.fetch_add(1, Ordering::SeqCst);
                }
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (port, exports)
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn the_binary_logs_json_exports_traces_and_stops_on_sigterm(_: PgPoolOptions, options: PgConnectOptions) {
    let (otlp_port, exports) = otlp_receiver().await;
    let port = free_port();
    let database_url = format!(
        "postgres://{}:{DB_PASSWORD}@{}:{}/{}",
        options.get_username(),
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or("postgres")
    );
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_app"))
        .arg("serve")
        .env("APP_LISTEN", format!("127.0.0.1:{port}"))
        .env("APP_METRICS_LISTEN", "127.0.0.1:0")
        .env("APP_DATABASE_URL", &database_url)
        .env(
            "APP_REDIS_URL",
            std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned()),
        )
        .env("APP_JWT_SECRET", JWT_SECRET)
        .env("APP_ADMIN_TOKEN", ADMIN_TOKEN)
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://127.0.0.1:{otlp_port}"))
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("app starts");

    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let mut ready = false;
    for _ in 0..200 {
        if http
            .get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ready, "the app became ready");
    let response = http
        .post(format!("{base}/api/v1/auth/admin"))
        .header("x-request-id", "req-under-test")
        .json(&serde_json::json!({"credential": ADMIN_TOKEN}))
        .send()
        .await
        .expect("sign in");
    // The replica's own id, answered and logged: a client cannot choose what the logs say.
    let request_id = response.headers()["x-request-id"].to_str().expect("ascii").to_owned();
    assert_ne!(request_id, "req-under-test");
    assert!(uuid::Uuid::parse_str(&request_id).is_ok(), "{request_id}");
    let token = response.json::<Value>().await.expect("json")["token"]
        .as_str()
        .expect("token")
        .to_owned();

    let pid = child.id().expect("pid").to_string();
    let killed = tokio::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .expect("kill");
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("exits")
        .expect("status");
    assert!(status.success(), "clean exit on SIGTERM: {status}");

    let mut stdout = String::new();
    let mut stderr = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut stdout)
        .await
        .expect("read");
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .await
        .expect("read");
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON log line ({e}): {l}")))
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l["span"]["request_id"] == request_id.as_str() && l["status"] == 200),
        "a response line carries the request id:\n{stdout}"
    );
    assert!(lines.iter().any(|l| l["message"] == "stopped"), "{stdout}");
    for secret in [JWT_SECRET, ADMIN_TOKEN, DB_PASSWORD, token.as_str()] {
        assert!(
            !stdout.contains(secret) && !stderr.contains(secret),
            "a secret leaked into the logs"
        );
    }
    assert!(
        exports.load(Ordering::SeqCst) > 0,
        "traces were exported over OTLP/HTTP; stderr:\n{stderr}"
    );
}
