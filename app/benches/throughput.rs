//! Benchmarks (run with `cargo bench -p app --bench throughput`; not a test):
//!
//! 1. Hot write (create a project) and hot read (list projects) through the app, against
//!    `pgbench` running the identical SQL transaction (same `set_config`, same statements, same
//!    effective role) at the same concurrency; reported as a ratio. The app sends the tenant
//!    settings and `BEGIN` in one round trip; pgbench does the same with a pipeline. Creates
//!    meet the project quota (100 an org) as tenants do: each org of a pool takes at most 100,
//!    the pool sized for `BENCH_CREATE_RATE_CAP` creates a second (default 5,000); a run that
//!    outgrows it stops at the first refused request.
//! 2. Config propagation: a change on one replica until all three serve it, p50/p99.
//!
//! Both sides are driven by C load generators on this machine: `wrk` for the app's HTTP API,
//! `pgbench` for PostgreSQL. Needs PostgreSQL and Redis on loopback, `wrk` and `pgbench` on
//! PATH. `BENCH_SECS` (default 10) sets each throughput run's length, `BENCH_CONCURRENCY`
//! (default 8) the clients of both sides, `BENCH_ROUNDS` (default 3) how many times the two
//! sides alternate.

use std::time::{Duration, Instant};

use futures_util::{StreamExt, TryStreamExt, stream};
use serde_json::json;
use sqlx::{Connection, PgConnection};
use support::{Error, Tool, admin_token, call, env_u64, org_with_admin, percentile, start_replica};
use tokio::process::Command;
use uuid::Uuid;

mod support;

/// wrk's threads (each with its own Lua state) on both sides' two cores.
const WRK_THREADS: u64 = 2;

/// The projects an org may hold without a `quotas` config (`configs::quotas`).
const PROJECTS_PER_ORG: u64 = 100;

/// Ends wrk at the first answer that is not a success, with its status and body, so that a
/// run never measures refusals.
const STOP_AT_REFUSAL: &str = r#"
response = function(status, headers, body)
  if status < 200 or status > 299 then
    io.stderr:write(string.format("refused: %d %s\n", status, body))
    os.exit(1)
  end
end
"#;

/// wrk's requests per second for `url`, with `script` (Lua) shaping each request; an error if any failed.
async fn wrk(url: &str, script: &str, concurrency: u64, secs: u64) -> Result<f64, Error> {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("request.lua");
    std::fs::write(&file, format!("{script}{STOP_AT_REFUSAL}"))?;
    let output = Command::new("wrk")
        .args([
            "-t",
            &WRK_THREADS.to_string(),
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

/// wrk's script for creating projects in a pool of orgs, `(org id, admin token)`. Each wrk
/// thread has its own Lua state: thread `t` takes every `WRK_THREADS`-th org from `t`, each for
/// `PROJECTS_PER_ORG` creates, so no org is asked for more than its quota; names carry a
/// counter, so none repeats.
fn write_lua(pool: &[(String, String)]) -> String {
    let orgs: Vec<String> = pool
        .iter()
        .map(|(org, token)| format!("{{\"{org}\", \"Bearer {token}\"}}"))
        .collect();
    format!(
        r#"local orgs = {{ {orgs} }}
local threads = 0
function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end
local n = 0
request = function()
  local org = orgs[id + 1 + {WRK_THREADS} * math.floor(n / {PROJECTS_PER_ORG})] or orgs[1]
  n = n + 1
  local headers = {{["Authorization"] = org[2], ["Content-Type"] = "application/json"}}
  return wrk.format("POST", "/api/v1/orgs/" .. org[1] .. "/projects", headers,
    string.format('{{"name": "p-%d-%d"}}', id, n))
end
"#,
        orgs = orgs.join(",\n")
    )
}

/// `rounds` pools of orgs, each with room for `capacity` creates, made through the API with
/// `concurrency` calls at a time.
async fn org_pools(
    http: &reqwest::Client,
    base: &str,
    rounds: u64,
    capacity: u64,
    concurrency: usize,
) -> Result<Vec<Vec<(String, String, String)>>, Error> {
    let admin = admin_token(http, base).await?;
    let per_round = capacity.div_ceil(PROJECTS_PER_ORG) + WRK_THREADS;
    let made: Vec<(String, String, String)> = stream::iter(0..rounds * per_round)
        .map(|i| {
            let admin = admin.clone();
            async move { org_with_admin(http, base, &admin, &format!("bench-write-{i}")).await }
        })
        .buffered(concurrency)
        .try_collect()
        .await?;
    Ok(made.chunks(per_round as usize).map(<[_]>::to_vec).collect())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    support::require(&[
        Tool {
            name: "wrk",
            path: "wrk",
            package: "wrk",
        },
        Tool {
            name: "pgbench",
            path: "pgbench",
            package: "postgresql-client",
        },
    ])?;
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
    // The database goes whatever the bench's outcome; its replicas stop when it returns.
    let outcome = bench(&database, &owner, secs, concurrency, rounds).await;
    owner.close().await;
    sqlx::query(&format!("DROP DATABASE {database} WITH (FORCE)"))
        .execute(&mut admin)
        .await?;
    outcome
}

async fn bench(database: &str, owner: &sqlx::PgPool, secs: u64, concurrency: u64, rounds: u64) -> Result<(), Error> {
    let replicas = [
        start_replica(database, 16).await?,
        start_replica(database, 16).await?,
        start_replica(database, 16).await?,
    ];
    let http = reqwest::Client::new();
    let base = format!("http://{}", replicas[0].1);
    println!("concurrency {concurrency}, {rounds} rounds of {secs} s per side, database {database}\n");

    // Hot write: create a project (the quota check, INSERT project + owner membership in one
    // transaction), spread over pools of orgs as tenants meet the quota.
    let cap = env_u64("BENCH_CREATE_RATE_CAP", 5000);
    let started = Instant::now();
    // As many at once as a replica lets guests sign in.
    let pools = org_pools(&http, &base, rounds, secs * cap, app::limits::GUEST_SIGN_INS_AT_ONCE).await?;
    println!(
        "{} orgs made in {:.1} s: room for {} creates a second in each round\n",
        pools.iter().map(Vec::len).sum::<usize>(),
        started.elapsed().as_secs_f64(),
        cap
    );
    // pgbench's side draws each transaction's org from the same round's pool; the tenant
    // setting reads it from this table in the statement that sets it.
    sqlx::query("CREATE TABLE bench_orgs (k int PRIMARY KEY, org uuid NOT NULL, owner uuid NOT NULL)")
        .execute(owner)
        .await?;
    sqlx::query("GRANT SELECT ON bench_orgs TO app_runtime")
        .execute(owner)
        .await?;
    for (k, (org, user, _)) in pools.iter().flatten().enumerate() {
        sqlx::query("INSERT INTO bench_orgs VALUES ($1, $2::uuid, $3::uuid)")
            .bind(i32::try_from(k)?)
            .bind(org)
            .bind(user)
            .execute(owner)
            .await?;
    }
    let write_sql = "\\set k :base + random(0, :pool - 1)
\\set n random(1, 1000000000000)
\\startpipeline
SELECT set_config('app.org_id', (SELECT org::text FROM bench_orgs WHERE k = :k), true), set_config('app.project_id', '', true);
BEGIN;
\\endpipeline
SELECT pg_advisory_xact_lock(hashtextextended('quota/projects/' || current_setting('app.org_id'), 0));
SELECT count(*) FROM projects;
INSERT INTO projects (org_id, name) VALUES (current_setting('app.org_id')::uuid, 'pgb-' || :n) RETURNING id AS project_id, org_id, name, created_at \\gset
INSERT INTO project_members (org_id, project_id, user_id, role) SELECT org, :project_id, owner, 'owner' FROM bench_orgs WHERE k = :k;
COMMIT;
";
    let mut write = Rounds::default();
    for (round, pool) in (0..).zip(&pools) {
        let orgs: Vec<(String, String)> = pool
            .iter()
            .map(|(org, _, token)| (org.clone(), token.clone()))
            .collect();
        let created = wrk(&format!("{base}/"), &write_lua(&orgs), concurrency, secs)
            .await
            .map_err(|e| match e.to_string() {
                refused if refused.contains("quotas.projects") => {
                    format!("{refused}\nthe round outran its pool of orgs: raise BENCH_CREATE_RATE_CAP (now {cap})")
                        .into()
                }
                _ => e,
            })?;
        write.app.push(created);
        let (first, size) = ((round * pool.len()).to_string(), pool.len().to_string());
        write.pgbench.push(
            pgbench(
                database,
                write_sql,
                &[("base", &first), ("pool", &size)],
                concurrency,
                secs,
            )
            .await?,
        );
    }

    // Hot read: list an org's projects (20 of them).
    let admin_api = admin_token(&http, &base).await?;
    let (org, _, token) = org_with_admin(&http, &base, &admin_api, "bench-read").await?;
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
            .push(pgbench(database, &read_sql, &[("org", &org)], concurrency, secs).await?);
    }

    println!("| workload | app (req/s) | pgbench (tps) | app / pgbench, median (range) | target |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    println!("| hot write: create project | {} | ≥ 70% |", write.row());
    println!("| hot read: list projects | {} | ≥ 60% |", read.row());

    // Config propagation: PUT on replica 0; time until replicas 1 and 2 both serve it.
    let changes = env_u64("BENCH_CHANGES", 200);
    let (org, _, token) = org_with_admin(&http, &base, &admin_api, "bench-config").await?;
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
    Ok(())
}
