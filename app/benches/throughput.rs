//! Benchmarks (run with `cargo bench -p app --bench throughput`; not a test):
//!
//! 1. Hot write (create a project) and hot read (list projects) through the app, against
//!    `pgbench` running the identical SQL transaction (same `set_config`, same statements, same
//!    effective role) at the same concurrency; reported as a ratio. The app sends the tenant
//!    settings and `BEGIN` in one round trip; pgbench does the same with a pipeline.
//! 2. Config propagation: a change on one replica until all three serve it, p50/p99.
//!
//! Both sides are driven by C load generators on this machine: `wrk` for the app's HTTP API,
//! `pgbench` for PostgreSQL. Needs PostgreSQL and Redis on loopback, `wrk` and `pgbench` on
//! PATH. `BENCH_SECS` (default 10) sets each throughput run's length, `BENCH_CONCURRENCY`
//! (default 8) the clients of both sides, `BENCH_ROUNDS` (default 3) how many times the two
//! sides alternate.

use std::time::{Duration, Instant};

use serde_json::json;
use sqlx::{Connection, PgConnection};
use support::{Error, call, env_u64, org_with_admin, percentile, start_replica};
use tokio::process::Command;
use uuid::Uuid;

mod support;

/// wrk's requests per second for `url`, with `script` (Lua) shaping each request; an error if any failed.
async fn wrk(url: &str, script: &str, concurrency: u64, secs: u64) -> Result<f64, Error> {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("request.lua");
    std::fs::write(&file, script)?;
    let output = Command::new("wrk")
        .args([
            "-t",
            "2",
            "-c",
            &concurrency.to_string(),
            "-d",
            &format!("{secs}s"),
            "-s",
        ])
        .arg(&file)
        .arg(url)
        .output()
        .await?;
    let text = String::from_utf8_lossy(&output.stdout);
    let number = |prefix: &str| {
        text.lines().find_map(|l| {
            l.trim()
                .strip_prefix(prefix)
                .and_then(|r| r.split_whitespace().next())
                .and_then(|n| n.parse::<f64>().ok())
        })
    };
    // "  12345 requests in 10.00s, 4.2MB read"
    let total = text.lines().filter(|l| l.contains(" requests in ")).find_map(|l| {
        l.split(" requests in ")
            .next()
            .and_then(|n| n.trim().parse::<f64>().ok())
    });
    let (Some(rate), Some(total)) = (number("Requests/sec:"), total) else {
        return Err(format!("wrk said: {text}{}", String::from_utf8_lossy(&output.stderr)).into());
    };
    // A run with failed requests measures the failures, not the throughput.
    if let Some(failed) = number("Non-2xx or 3xx responses:") {
        return Err(format!(
            "{failed} of {total} requests failed (an access token lives 15 minutes: keep \
             BENCH_SECS × BENCH_ROUNDS well under that); wrk said: {text}"
        )
        .into());
    }
    Ok(rate)
}

/// pgbench's tps for `script` (the app's transaction, as the app's role).
async fn pgbench(
    database: &str,
    script: &str,
    vars: &[(&str, &str)],
    concurrency: u64,
    secs: u64,
) -> Result<f64, Error> {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("txn.sql");
    std::fs::write(&file, script)?;
    let mut command = Command::new("pgbench");
    command.args(["-n", "-M", "prepared", "-h", "127.0.0.1", "-U", "bench_login"]);
    command
        .args(["-c", &concurrency.to_string(), "-j", "2", "-T", &secs.to_string(), "-f"])
        .arg(&file);
    for (k, v) in vars {
        command.args(["-D", &format!("{k}={v}")]);
    }
    let output = command.arg(database).output().await?;
    let text = String::from_utf8_lossy(&output.stdout);
    text.lines()
        .find_map(|l| {
            l.strip_prefix("tps = ")
                .and_then(|r| r.split_whitespace().next())
                .and_then(|n| n.parse().ok())
        })
        .ok_or_else(|| format!("pgbench said: {text}{}", String::from_utf8_lossy(&output.stderr)).into())
}

/// What `app::db::begin` sends (the tenant settings, then `BEGIN`, in one round trip), as a
/// pgbench pipeline: the start of both transactions below.
const TENANT_BEGIN: &str = "\\startpipeline
SELECT set_config('app.org_id', :org, true), set_config('app.project_id', '', true);
BEGIN;
\\endpipeline
";

/// Alternating runs of the app and pgbench. This machine's speed drifts (a shared VM), so each
/// round's ratio compares two runs made one after the other, and the median ratio is reported.
#[derive(Debug, Default)]
struct Rounds {
    app: Vec<f64>,
    pgbench: Vec<f64>,
}

impl Rounds {
    fn row(&self) -> String {
        let median = |values: &[f64]| {
            let mut sorted = values.to_vec();
            sorted.sort_by(f64::total_cmp);
            percentile(&sorted, 50.0)
        };
        let mut ratios: Vec<f64> = self.app.iter().zip(&self.pgbench).map(|(a, p)| 100.0 * a / p).collect();
        ratios.sort_by(f64::total_cmp);
        format!(
            "{:.0} | {:.0} | {:.0}% ({:.0}–{:.0}%)",
            median(&self.app),
            median(&self.pgbench),
            percentile(&ratios, 50.0),
            ratios.first().copied().unwrap_or(f64::NAN),
            ratios.last().copied().unwrap_or(f64::NAN),
        )
    }
}

/// wrk's script for creating projects. Each wrk thread has its own Lua state: names carry the
/// round, the thread's number and a counter, so no run repeats an earlier run's names.
fn write_lua(token: &str, round: u64) -> String {
    format!(
        r#"wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer {token}"
wrk.headers["Content-Type"] = "application/json"
local threads = 0
function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end
local n = 0
request = function()
  n = n + 1
  return wrk.format(nil, nil, nil, string.format('{{"name": "p-{round}-%d-%d"}}', id, n))
end
"#
    )
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let secs = env_u64("BENCH_SECS", 10);
    let concurrency = env_u64("BENCH_CONCURRENCY", 8);
    let rounds = env_u64("BENCH_ROUNDS", 3).max(1);
    let database = format!("app_bench_{}", Uuid::new_v4().simple());
    let admin_url =
        std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let mut admin = PgConnection::connect(&admin_url).await?;
    sqlx::query(&format!("CREATE DATABASE {database}"))
        .execute(&mut admin)
        .await?;
    let owner = sqlx::PgPool::connect(&format!("postgres://postgres@127.0.0.1:5432/{database}")).await?;
    app::db::MIGRATOR.run(&owner).await?;
    // pgbench's login: its sessions run as app_runtime, as the app's do (after SET ROLE).
    for sql in [
        "DO $$ BEGIN CREATE ROLE bench_login LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$",
        "GRANT app_runtime TO bench_login",
        "ALTER ROLE bench_login SET role = 'app_runtime'",
    ] {
        sqlx::query(sql).execute(&owner).await?;
    }

    let replicas = [
        start_replica(&database, 16).await?,
        start_replica(&database, 16).await?,
        start_replica(&database, 16).await?,
    ];
    let http = reqwest::Client::new();
    let base = format!("http://{}", replicas[0].1);
    println!("concurrency {concurrency}, {rounds} rounds of {secs} s per side, database {database}\n");

    // Hot write: create a project (INSERT project + owner membership in one transaction).
    let (org, user, token) = org_with_admin(&http, &base, "bench-write").await?;
    let write_sql = format!(
        "\\set n random(1, 1000000000000)
{TENANT_BEGIN}INSERT INTO projects (org_id, name) VALUES (:org, 'pgb-' || :n) RETURNING id AS project_id, org_id, name, created_at \\gset
INSERT INTO project_members (org_id, project_id, user_id, role) VALUES (:org, :project_id, :user, 'owner');
COMMIT;
"
    );
    let mut write = Rounds::default();
    for round in 0..rounds {
        write.app.push(
            wrk(
                &format!("{base}/api/v1/orgs/{org}/projects"),
                &write_lua(&token, round),
                concurrency,
                secs,
            )
            .await?,
        );
        write.pgbench.push(
            pgbench(
                &database,
                &write_sql,
                &[("org", &org), ("user", &user)],
                concurrency,
                secs,
            )
            .await?,
        );
    }

    // Hot read: list an org's projects (20 of them).
    let (org, _, token) = org_with_admin(&http, &base, "bench-read").await?;
    for i in 0..20 {
        call(
            &http,
            reqwest::Method::POST,
            format!("{base}/api/v1/orgs/{org}/projects"),
            Some(&token),
            Some(json!({"name": format!("r{i}")})),
        )
        .await?;
    }
    let read_lua = format!("wrk.headers[\"Authorization\"] = \"Bearer {token}\"\n");
    let read_sql = format!(
        "{TENANT_BEGIN}SELECT id, org_id, name, created_at FROM projects ORDER BY created_at, id LIMIT 500;
COMMIT;
"
    );
    let mut read = Rounds::default();
    for _ in 0..rounds {
        read.app.push(
            wrk(
                &format!("{base}/api/v1/orgs/{org}/projects"),
                &read_lua,
                concurrency,
                secs,
            )
            .await?,
        );
        read.pgbench
            .push(pgbench(&database, &read_sql, &[("org", &org)], concurrency, secs).await?);
    }

    println!("| workload | app (req/s) | pgbench (tps) | app / pgbench, median (range) | target |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    println!("| hot write: create project | {} | ≥ 70% |", write.row());
    println!("| hot read: list projects | {} | ≥ 60% |", read.row());

    // Config propagation: PUT on replica 0; time until replicas 1 and 2 both serve it.
    let changes = env_u64("BENCH_CHANGES", 200);
    let (org, _, token) = org_with_admin(&http, &base, "bench-config").await?;
    let mut samples = Vec::new();
    for version in 1..=changes {
        let started = Instant::now();
        let response = http
            .put(format!("{base}/api/v1/orgs/{org}/configs/ui.banner"))
            .bearer_auth(&token)
            .header("If-Match", format!("\"{version}\""))
            .json(&json!({"value": format!("change {version}"), "reason": "benchmark"}))
            .send()
            .await?;
        if response.status() != 200 {
            return Err(format!("PUT v{version}: {}", response.status()).into());
        }
        for replica in &replicas[1..] {
            loop {
                let body = call(
                    &http,
                    reqwest::Method::GET,
                    format!("http://{}/api/v1/orgs/{org}/configs/ui.banner", replica.1),
                    Some(&token),
                    None,
                )
                .await?;
                if body["version"].as_u64().is_some_and(|v| v > version) {
                    break;
                }
                tokio::time::sleep(Duration::from_micros(250)).await;
            }
        }
        samples.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    samples.sort_by(f64::total_cmp);
    println!(
        "\nconfig change → served by all 3 replicas ({changes} changes, PUT included): p50 {:.1} ms, p99 {:.1} ms (target p99 ≤ 100 ms)",
        percentile(&samples, 50.0),
        percentile(&samples, 99.0)
    );

    for (mut child, _) in replicas {
        let _ = child.kill().await;
    }
    owner.close().await;
    sqlx::query(&format!("DROP DATABASE {database} WITH (FORCE)"))
        .execute(&mut admin)
        .await?;
    Ok(())
}
