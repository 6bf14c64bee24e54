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

use test_support::free_port;

const JWT_SECRET: &str = "process-test-secret-of-32-bytes-or-more";
const ADMIN_TOKEN: &str = "process-test-admin-credential-xyz";
const DB_PASSWORD: &str = "never-logged-password";

/// Whether the app on `port` answers `/readyz` with 200 within 10 s.
async fn became_ready(port: u16) -> bool {
    let http = reqwest::Client::new();
    for _ in 0..200 {
        if http
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// A minimal OTLP/HTTP receiver: counts non-empty protobuf trace exports.
async fn otlp_receiver() -> (u16, Arc<AtomicUsize>) {
    let exports = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&exports);
    let app = Router::new().route(
        "/v1/traces",
        post(move |headers: http::HeaderMap, body: axum::body::Bytes| {
            let counter = Arc::clone(&counter);
            async move {
                if headers
                    .get("content-type")
                    .is_some_and(|v| v == "application/x-protobuf")
                    && !body.is_empty()
                {
                    counter.fetch_add(1, Ordering::SeqCst);
                }
                http::StatusCode::OK
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
        .env("APP_SHUTDOWN_DRAIN_SECS", "2")
        .env("APP_SHUTDOWN_GRACE_SECS", "6")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("app starts");

    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    assert!(became_ready(port).await, "the app became ready");
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
    let signalled = std::time::Instant::now();
    // The drain: not ready any more, and still serving, so nothing in flight to it is refused.
    let mut said_not_ready = false;
    while signalled.elapsed() < Duration::from_millis(1500) {
        let ready = http.get(format!("{base}/readyz")).send().await.expect("still serving");
        if ready.status() == reqwest::StatusCode::SERVICE_UNAVAILABLE {
            said_not_ready = ready.json::<Value>().await.expect("json")["draining"] == true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(said_not_ready, "/readyz turns 503 at SIGTERM");
    let me = http.get(format!("{base}/api/v1/me")).bearer_auth(&token).send().await;
    assert_eq!(me.expect("served while draining").status(), reqwest::StatusCode::OK);
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("exits")
        .expect("status");
    assert!(status.success(), "clean exit on SIGTERM: {status}");
    let took = signalled.elapsed();
    assert!(
        (Duration::from_secs(2)..Duration::from_secs(6)).contains(&took),
        "exits after the 2 s drain and within the 6 s grace: {took:?}"
    );

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

/// A TLS-only Redis (no plaintext port) whose certificate a private CA signs, as Valkey runs in
/// the cluster; made with the real openssl and redis-server. Killed when dropped.
struct TlsRedis {
    port: u16,
    ca: std::path::PathBuf,
    _dir: tempfile::TempDir,
    _server: tokio::process::Child,
}

async fn tls_redis() -> TlsRedis {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = |name: &str| dir.path().join(name);
    let openssl = |args: &[&str]| {
        let status = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir.path())
            .stderr(Stdio::null())
            .status()
            .expect("openssl runs");
        assert!(status.success(), "openssl {args:?}");
    };
    openssl(&["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca.key"]);
    openssl(&[
        "req",
        "-x509",
        "-new",
        "-key",
        "ca.key",
        "-subj",
        "/CN=test platform CA",
        "-days",
        "1",
        "-out",
        "ca.crt",
    ]);
    openssl(&[
        "ecparam",
        "-name",
        "prime256v1",
        "-genkey",
        "-noout",
        "-out",
        "server.key",
    ]);
    openssl(&[
        "req",
        "-new",
        "-key",
        "server.key",
        "-subj",
        "/CN=localhost",
        "-out",
        "server.csr",
    ]);
    std::fs::write(path("san.ext"), "subjectAltName=DNS:localhost\n").expect("write");
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        "san.ext",
        "-out",
        "server.crt",
    ]);
    let port = free_port();
    let server = tokio::process::Command::new("redis-server")
        .args(["--port", "0", "--tls-port", &port.to_string(), "--bind", "127.0.0.1"])
        .arg("--tls-cert-file")
        .arg(path("server.crt"))
        .arg("--tls-key-file")
        .arg(path("server.key"))
        .arg("--tls-ca-cert-file")
        .arg(path("ca.crt"))
        .args(["--tls-auth-clients", "no", "--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("redis-server starts");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    TlsRedis {
        port,
        ca: path("ca.crt"),
        _dir: dir,
        _server: server,
    }
}

/// The app against `redis_url`, with `APP_REDIS_CA_FILE` set where `ca` is given.
fn app_against(
    options: &PgConnectOptions,
    port: u16,
    redis_url: &str,
    ca: Option<&std::path::Path>,
) -> tokio::process::Child {
    let database_url = format!(
        "postgres://{}@{}:{}/{}",
        options.get_username(),
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or("postgres")
    );
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_app"));
    command
        .arg("serve")
        .env("APP_LISTEN", format!("127.0.0.1:{port}"))
        .env("APP_METRICS_LISTEN", "127.0.0.1:0")
        .env("APP_DATABASE_URL", database_url)
        .env("APP_REDIS_URL", redis_url)
        .env("APP_JWT_SECRET", JWT_SECRET)
        .env("APP_ADMIN_TOKEN", ADMIN_TOKEN)
        .env_remove("APP_REDIS_CA_FILE")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(ca) = ca {
        command.env("APP_REDIS_CA_FILE", ca);
    }
    command.spawn().expect("app starts")
}

async fn output_of_failed_start(child: tokio::process::Child) -> String {
    let output = tokio::time::timeout(Duration::from_secs(20), child.wait_with_output())
        .await
        .expect("the app gives up in time")
        .expect("output");
    assert!(!output.status.success(), "the app must not start");
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn the_app_reaches_a_tls_only_redis_signed_by_the_ca_it_is_given(_: PgPoolOptions, options: PgConnectOptions) {
    let redis = tls_redis().await;
    let url = format!("rediss://localhost:{}", redis.port);

    // With the CA: ready, which needs a Redis round trip.
    let port = free_port();
    let _app = app_against(&options, port, &url, Some(&redis.ca));
    assert!(
        became_ready(port).await,
        "the app became ready over TLS with the given CA"
    );

    // Without it the system trust store does not know the server: no start, and it says why.
    let without = output_of_failed_start(app_against(&options, free_port(), &url, None)).await;
    assert!(without.contains("cannot connect to Redis"), "{without}");

    // A CA file that is not there is named.
    let missing = std::path::Path::new("/nonexistent/platform-ca.crt");
    let named = output_of_failed_start(app_against(&options, free_port(), &url, Some(missing))).await;
    assert!(
        named.contains("cannot read APP_REDIS_CA_FILE /nonexistent/platform-ca.crt"),
        "{named}"
    );
}

/// The chart's stop sequence, read from its Deployment template: the preStop sleep, the app's
/// drain and grace, and the kubelet's termination grace period, which must outlast both.
#[test]
fn the_charts_stop_sequence_fits_inside_its_termination_grace_period() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../helm/charts/app/templates/deployment.yaml"
    );
    let template = std::fs::read_to_string(path).expect("the chart's Deployment");
    let lines: Vec<&str> = template.lines().map(str::trim).collect();
    let number_after = |anchor: &str| -> u64 {
        let at = lines
            .iter()
            .position(|l| l.starts_with(anchor))
            .unwrap_or_else(|| panic!("{anchor} in {path}"));
        lines[at..]
            .iter()
            .find_map(|l| {
                let digits: String = l.chars().filter(char::is_ascii_digit).collect();
                (l.contains("value:") || l.contains("seconds") || l.contains("GracePeriod"))
                    .then(|| digits.parse().ok())
                    .flatten()
            })
            .unwrap_or_else(|| panic!("a number after {anchor}"))
    };
    let termination = number_after("terminationGracePeriodSeconds:");
    let pre_stop = number_after("sleep:");
    let drain = number_after("- name: APP_SHUTDOWN_DRAIN_SECS");
    let grace = number_after("- name: APP_SHUTDOWN_GRACE_SECS");
    assert!(drain < grace, "the drain ({drain} s) is part of the grace ({grace} s)");
    assert!(
        pre_stop + grace < termination,
        "preStop {pre_stop} s + grace {grace} s must end before SIGKILL at {termination} s"
    );
}
