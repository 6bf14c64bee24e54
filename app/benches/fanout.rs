//! Chat fan-out benchmark (run with `cargo bench -p app --bench fanout`; not a test).
//!
//! Many WebSocket clients across two app replicas watch one project; frames are published on
//! Redis as a replica publishing a counter update does. The same load then runs against a real
//! peer: two nginx instances with the nchan module and a Redis backend (Debian `nginx` and
//! `libnginx-mod-nchan`), frames published through nchan's HTTP publisher. The publish rate
//! doubles until the clients no longer all keep up (the publisher fell short, a client dropped,
//! or under 99% delivered); the last rate that held is the peak. Reported per side: delivered
//! frames per second and per server CPU-second at the peak (the replicas' or nginx's own CPU
//! time, from /proc), latency p50/p99 at half of the peak rate and at half of the lower of the
//! two peaks (both sides at one rate), the servers' preemptions per 1,000 frames delivered at
//! that common rate (how often the kernel took a core from a server thread that could still
//! run), and resident memory per idle connection. Latency is publish → delivery (the client
//! kernel's receive stamp, see `support::stamped`) and publish → read (when the client's task
//! read the frame, which adds the bench's own queue).
//!
//! Every size of `BENCH_CONNECTIONS` (comma-separated, default `10,100,1000,10000`; a size the
//! open-file limit cannot hold is left out, saying so) runs in each of `BENCH_ROUNDS` rounds
//! (default 3), each side on fresh servers, the side that goes first alternating by round; a
//! table per size gives the median of every figure and each round's ratio. `BENCH_SECS`
//! (default 4) is the length of one load step.
//!
//! Needs PostgreSQL and Redis on loopback and nginx with nchan installed.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use redis::AsyncCommands;
use serde_json::json;
use sqlx::{Connection, PgConnection};
use tokio::process::{Child, Command};
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use uuid::Uuid;

mod support;

use support::stamped::Stamped;
use support::{Error, Tool, call, env_u64, percentile, start_replica};
use test_support::free_port;

fn now_us() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp_nanos() as i64 / 1_000
}

/// CPU seconds (user + system) a process has used, from /proc.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// How often the kernel took a core from a process's threads while they could still run
/// (nonvoluntary context switches, from /proc): for a server, a fan-out interrupted.
fn preemptions(pid: u32) -> u64 {
    let Ok(threads) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    threads
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("status")).ok())
        .filter_map(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("nonvoluntary_ctxt_switches:"))?
                .trim()
                .parse::<u64>()
                .ok()
        })
        .sum()
}

/// Resident memory in KiB, from /proc.
fn rss_kib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// What every client measures: frames received and, per frame, its publish → delivery latency
/// (the kernel's receive stamp) and its publish → read latency (when the client's task read it).
#[derive(Default)]
struct Received {
    frames: AtomicU64,
    /// Clients still connected (a dropped slow consumer ends its task).
    alive: AtomicU64,
    latencies: Mutex<Vec<(f64, f64)>>,
}

/// Where a client connects, and the subprotocols it offers (the app's carry its token).
struct Endpoint {
    url: String,
    protocols: Option<String>,
}

/// Opens `n` WebSocket clients on `endpoints` (round robin), each counting frames that carry
/// `sent_at_us`.
async fn clients(
    endpoints: &[Endpoint],
    n: u64,
    received: &Arc<Received>,
) -> Result<Vec<tokio::task::JoinHandle<()>>, Error> {
    let mut tasks = Vec::new();
    for i in 0..n {
        let endpoint = &endpoints[(i as usize) % endpoints.len()];
        let mut request = endpoint.url.as_str().into_client_request()?;
        if let Some(protocols) = &endpoint.protocols {
            request
                .headers_mut()
                .insert("sec-websocket-protocol", protocols.parse()?);
        }
        let authority = request.uri().authority().ok_or("a WebSocket URL without a host")?;
        let stream = Stamped::new(tokio::net::TcpStream::connect(authority.as_str()).await?)?;
        let delivered_us = stream.delivered_us();
        let (socket, _) = tokio_tungstenite::client_async(request, stream).await?;
        let received = Arc::clone(received);
        received.alive.fetch_add(1, Ordering::Relaxed);
        tasks.push(tokio::spawn(async move {
            let (_, mut read) = socket.split();
            let mut local = Vec::new();
            while let Some(Ok(message)) = read.next().await {
                let Message::Text(text) = message else { continue };
                if let Some(at) = text.rfind("\"sent_at_us\":")
                    && let Ok(sent) = text[at + 13..].trim_end_matches('}').trim().parse::<i64>()
                {
                    received.frames.fetch_add(1, Ordering::Relaxed);
                    if local.len() < 20_000 {
                        // No stamp yet (0) is recorded as NaN, and `latency` refuses to report.
                        let delivered = match delivered_us.load(Ordering::Relaxed) {
                            0 => f64::NAN,
                            at => (at - sent) as f64 / 1000.0,
                        };
                        local.push((delivered, (now_us() - sent) as f64 / 1000.0));
                    }
                }
                if local.len() >= 16 {
                    received.latencies.lock().await.append(&mut local);
                }
            }
            received.latencies.lock().await.append(&mut local);
            received.alive.fetch_sub(1, Ordering::Relaxed);
        }));
    }
    Ok(tasks)
}

/// One side under test: how to publish a frame, and the server processes to meter.
trait Side {
    fn pids(&self) -> Vec<u32>;
    async fn publish(&mut self, payload: String) -> Result<(), Error>;
}

struct App {
    replicas: Vec<Child>,
    redis: redis::aio::MultiplexedConnection,
    channel: String,
}

impl Side for App {
    fn pids(&self) -> Vec<u32> {
        self.replicas.iter().filter_map(Child::id).collect()
    }
    async fn publish(&mut self, payload: String) -> Result<(), Error> {
        // As for nchan below: the publisher does not wait for Redis's answer, or a loaded Redis,
        // not the servers, sets the rate.
        let (mut redis, channel) = (self.redis.clone(), self.channel.clone());
        tokio::spawn(async move {
            if let Err(e) = redis.publish::<_, _, i64>(channel, payload).await {
                eprintln!("redis publish: {e}");
            }
        });
        Ok(())
    }
}

struct Nchan {
    servers: Vec<Nginx>,
    http: reqwest::Client,
    publish_url: String,
}

impl Side for Nchan {
    fn pids(&self) -> Vec<u32> {
        // The workers do the work; their master forks them, so meter the whole process group.
        self.servers
            .iter()
            .filter_map(|nginx| nginx.master.id())
            .flat_map(|master| {
                let children =
                    std::fs::read_to_string(format!("/proc/{master}/task/{master}/children")).unwrap_or_default();
                std::iter::once(master).chain(
                    children
                        .split_whitespace()
                        .filter_map(|p| p.parse().ok())
                        .collect::<Vec<_>>(),
                )
            })
            .collect()
    }
    async fn publish(&mut self, payload: String) -> Result<(), Error> {
        // nchan answers a publish after storing it in Redis; publishing must not wait for that,
        // or the publisher, not the server, sets the rate.
        let request = self.http.post(&self.publish_url).body(payload);
        tokio::spawn(async move {
            if let Err(e) = request.send().await {
                eprintln!("nchan publish: {e}");
            }
        });
        Ok(())
    }
}

struct Figures {
    peak_rate: f64,
    per_core: f64,
    /// At half of this side's peak.
    latency: Latency,
    kib_per_conn: f64,
}

/// p50 and p99 in ms, of publish → delivery (the kernel's receive stamp on the client socket)
/// and of publish → read (when the bench's client task read the frame).
#[derive(Clone, Copy)]
struct Latency {
    delivered: (f64, f64),
    read: (f64, f64),
    /// Times the servers were preempted, per 1,000 frames delivered.
    preempted_per_1000: f64,
}

/// One load step's outcome.
struct Step {
    delivered_per_s: f64,
    per_cpu_second: f64,
    /// Times the servers were preempted, per 1,000 frames delivered.
    preempted_per_1000: f64,
    /// Every client still connected and at least 99% of the frames delivered.
    kept_up: bool,
    /// Why not, when not.
    shortfall: String,
}

/// Publishes `rate` frames a second for `secs` and meters the servers.
async fn run_load<S: Side>(
    side: &mut S,
    rate: f64,
    secs: u64,
    n: u64,
    received: &Arc<Received>,
) -> Result<Step, Error> {
    let pids = side.pids();
    let cpu_before: f64 = pids.iter().map(|p| cpu_seconds(*p)).sum();
    let preempted_before: u64 = pids.iter().map(|p| preemptions(*p)).sum();
    let frames_before = received.frames.load(Ordering::Relaxed);
    received.latencies.lock().await.clear();
    let started = Instant::now();
    let mut sent = 0u64;
    let pad = "x".repeat(64);
    while started.elapsed() < Duration::from_secs(secs) {
        let due = started + Duration::from_secs_f64(sent as f64 / rate);
        tokio::time::sleep_until(due.into()).await;
        let frame = format!(
            r#"{{"type":"counter","seq":{sent},"metric":"ready","value":{sent},"pad":"{pad}","sent_at_us":{}}}"#,
            now_us()
        );
        side.publish(frame).await?;
        sent += 1;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let delivered = (received.frames.load(Ordering::Relaxed) - frames_before) as f64;
    let cpu: f64 = pids.iter().map(|p| cpu_seconds(*p)).sum::<f64>() - cpu_before;
    // A thread that ended meanwhile (a blocking-pool thread) takes its count with it.
    let preempted = pids
        .iter()
        .map(|p| preemptions(*p))
        .sum::<u64>()
        .saturating_sub(preempted_before);
    // Kept up: the publisher held the rate (on a loaded machine it may not), no client was
    // dropped, and 99% of the frames arrived.
    let alive = received.alive.load(Ordering::Relaxed);
    let mut shortfall = Vec::new();
    if (sent as f64) < 0.95 * rate * secs as f64 {
        shortfall.push(format!("the publisher sent only {sent}"));
    }
    if alive < n {
        shortfall.push(format!("{} clients dropped", n - alive));
    }
    if delivered < 0.99 * (sent * n) as f64 {
        shortfall.push(format!("{:.1}% delivered", 100.0 * delivered / (sent * n) as f64));
    }
    Ok(Step {
        delivered_per_s: delivered / secs as f64,
        per_cpu_second: delivered / cpu.max(1e-6),
        preempted_per_1000: 1000.0 * preempted as f64 / delivered.max(1.0),
        kept_up: shortfall.is_empty(),
        shortfall: shortfall.join(", "),
    })
}

/// Publish rates tried, in frames a second to the whole project.
const RATES: [f64; 10] = [5.0, 10.0, 20.0, 40.0, 80.0, 160.0, 320.0, 640.0, 1280.0, 2560.0];

async fn measure<S: Side>(side: &mut S, endpoints: &[Endpoint], n: u64, secs: u64) -> Result<Figures, Error> {
    let rss_before: f64 = side.pids().iter().map(|p| rss_kib(*p)).sum();
    let received = Arc::new(Received::default());
    let tasks = clients(endpoints, n, &received).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_after: f64 = side.pids().iter().map(|p| rss_kib(*p)).sum();
    // Ramp up until the clients no longer all keep up; the last rate that held is the peak.
    let mut peak = None;
    for rate in RATES {
        let step = run_load(side, rate, secs, n, &received).await?;
        eprintln!(
            "  {rate} frames/s: {:.0} delivered/s, {:.0} per server CPU-second, {:.1} server preemptions per 1,000, {}",
            step.delivered_per_s,
            step.per_cpu_second,
            step.preempted_per_1000,
            if step.kept_up { "kept up" } else { &step.shortfall }
        );
        if !step.kept_up {
            break;
        }
        peak = Some((rate, step));
    }
    let (peak_rate, step) = peak.ok_or("not even the lowest rate was kept up with")?;
    for task in tasks {
        task.abort();
    }
    let latency = latency(side, endpoints, n, secs, peak_rate / 2.0).await?;
    Ok(Figures {
        peak_rate,
        per_core: step.per_cpu_second,
        latency,
        kib_per_conn: (rss_after - rss_before) / n as f64,
    })
}

/// Publish → delivery and publish → read latency at `rate`, with a fresh set of clients (a failed
/// step dropped some).
async fn latency<S: Side>(
    side: &mut S,
    endpoints: &[Endpoint],
    n: u64,
    secs: u64,
    rate: f64,
) -> Result<Latency, Error> {
    let received = Arc::new(Received::default());
    let tasks = clients(endpoints, n, &received).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let step = run_load(side, rate, secs, n, &received).await?;
    let (mut delivered, mut read): (Vec<f64>, Vec<f64>) = received.latencies.lock().await.iter().copied().unzip();
    for task in tasks {
        task.abort();
    }
    if delivered.iter().any(|d| d.is_nan()) {
        return Err("a frame arrived without the kernel's receive stamp (SO_TIMESTAMPNS)".into());
    }
    delivered.sort_by(f64::total_cmp);
    read.sort_by(f64::total_cmp);
    let p50_p99 = |sorted: &[f64]| (percentile(sorted, 50.0), percentile(sorted, 99.0));
    Ok(Latency {
        delivered: p50_p99(&delivered),
        read: p50_p99(&read),
        preempted_per_1000: step.preempted_per_1000,
    })
}

/// An nginx master and its workers, in a process group of their own so they stop together: a
/// worker outlives a master killed outright, holding its sockets. Dropping this (at the end, on
/// an error, or when the bench is interrupted) stops the whole group.
struct Nginx {
    master: Child,
}

impl Nginx {
    fn group(&self) -> Option<u32> {
        self.master.id()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        if let Some(group) = self.group() {
            stop_group(group);
        }
    }
}

/// Processes whose process group is `group`, from /proc.
fn group_members(group: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            // After the `(comm)` field: state, ppid, pgrp. A zombie holds nothing; its parent
            // (this process) reaps it.
            let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
            let fields: Vec<&str> = rest.split_whitespace().take(3).collect();
            fields.first() != Some(&"Z") && fields.get(2).and_then(|p| p.parse::<u32>().ok()) == Some(group)
        })
        .collect()
}

/// SIGTERM to the group (nginx's fast shutdown: the master stops its workers), then SIGKILL to
/// whatever is left after 3 s.
fn stop_group(group: u32) {
    let signal = |sig: &str| {
        let _ = std::process::Command::new("kill")
            .args([sig, "--", &format!("-{group}")])
            .stderr(std::process::Stdio::null())
            .status();
    };
    signal("-TERM");
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline && !group_members(group).is_empty() {
        std::thread::sleep(Duration::from_millis(20));
    }
    signal("-KILL");
}

/// The nchan module as Debian's `libnginx-mod-nchan` installs it.
const NCHAN_MODULE: &str = "/usr/lib/nginx/modules/ngx_nchan_module.so";

async fn start_nginx(dir: &std::path::Path, name: &str) -> Result<(Nginx, u16), Error> {
    let port = free_port();
    let conf = dir.join(format!("{name}.conf"));
    std::fs::create_dir_all(dir.join(name))?;
    std::fs::write(
        &conf,
        format!(
            r#"load_module {NCHAN_MODULE};
daemon off;
master_process on;
worker_processes 1;
pid {dir}/{name}/nginx.pid;
error_log {dir}/{name}/error.log error;
events {{ worker_connections 16384; }}
http {{
  access_log off;
  # nchan's shared memory (32 MiB by default) runs out near 5,000 subscribers an instance,
  # and it then answers 503.
  nchan_max_reserved_memory 512M;
  client_body_temp_path {dir}/{name};
  upstream redis_server {{ nchan_redis_server "redis://127.0.0.1:6379"; }}
  server {{
    listen 127.0.0.1:{port};
    location ~ ^/sub/(\w+)$ {{ nchan_subscriber websocket; nchan_channel_id $1; nchan_redis_pass redis_server; }}
    location ~ ^/pub/(\w+)$ {{ nchan_publisher; nchan_channel_id $1; nchan_redis_pass redis_server; nchan_message_buffer_length 16; }}
  }}
}}
"#,
            dir = dir.display()
        ),
    )?;
    let master = Command::new("nginx")
        .arg("-c")
        .arg(&conf)
        .arg("-p")
        .arg(dir)
        .process_group(0)
        .spawn()?;
    let nginx = Nginx { master };
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return Ok((nginx, port));
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    Err(format!("nginx {name} did not start; see {}/{name}/error.log", dir.display()).into())
}

/// Runs the bench until it ends, fails, or the process is told to stop (Ctrl-C, SIGTERM): in
/// every case its futures, and so the servers they own, are dropped, which stops them.
#[tokio::main]
async fn main() -> Result<(), Error> {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let groups = Arc::new(std::sync::Mutex::new(Vec::new()));
    let outcome = tokio::select! {
        outcome = bench(groups.clone()) => outcome,
        _ = tokio::signal::ctrl_c() => Err("interrupted".into()),
        _ = terminate.recv() => Err("terminated".into()),
    };
    // Whatever happened, nothing the bench started may outlive it.
    let groups = groups.lock().map(|g| g.clone()).unwrap_or_default();
    let left: Vec<u32> = groups.iter().flat_map(|g| group_members(*g)).collect();
    if !left.is_empty() {
        return Err(format!("nginx processes left behind: {left:?}").into());
    }
    outcome
}

async fn bench(groups: Arc<std::sync::Mutex<Vec<u32>>>) -> Result<(), Error> {
    support::require(&[
        Tool {
            name: "nginx",
            path: "nginx",
            package: "nginx",
        },
        Tool {
            name: "nchan",
            path: NCHAN_MODULE,
            package: "libnginx-mod-nchan",
        },
    ])?;
    let sizes = fitting_sizes(&env_list("BENCH_CONNECTIONS", &[10, 100, 1000, 10_000]))?;
    let secs = env_u64("BENCH_SECS", 4);
    let rounds = env_u64("BENCH_ROUNDS", 3).max(1);
    let database = format!("app_fanout_{}", Uuid::new_v4().simple());
    let admin_url =
        std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let mut admin_db = PgConnection::connect(&admin_url).await?;
    sqlx::query(&format!("CREATE DATABASE {database}"))
        .execute(&mut admin_db)
        .await?;
    let owner = sqlx::PgPool::connect(&format!("postgres://postgres@127.0.0.1:5432/{database}")).await?;
    app::db::MIGRATOR.run(&owner).await?;
    let dir = tempfile::tempdir()?;

    // Every size in every round, each on fresh servers (so each memory figure starts from an
    // idle process); the side that goes first alternates by round, as this machine's speed drifts.
    let mut results: Vec<(u64, Vec<Round>)> = sizes.iter().map(|n| (*n, Vec::new())).collect();
    for round in 0..rounds {
        for (n, rounds_of_size) in &mut results {
            eprintln!("round {} of {rounds}, {n} clients", round + 1);
            let tag = format!("r{round}n{n}");
            let (mut app_side, app_endpoints) = App::start(&database, &tag).await?;
            let (mut nchan_side, nchan_endpoints) = Nchan::start(dir.path(), &tag, &groups).await?;
            let (app, nchan) = if round % 2 == 0 {
                eprintln!(" app");
                let app = measure(&mut app_side, &app_endpoints, *n, secs).await?;
                eprintln!(" nginx + nchan");
                (app, measure(&mut nchan_side, &nchan_endpoints, *n, secs).await?)
            } else {
                eprintln!(" nginx + nchan");
                let nchan = measure(&mut nchan_side, &nchan_endpoints, *n, secs).await?;
                eprintln!(" app");
                (measure(&mut app_side, &app_endpoints, *n, secs).await?, nchan)
            };
            // Both sides again at one rate, half of the lower peak: each side's own half peak
            // loads the machine differently, so only this compares latency.
            let common = app.peak_rate.min(nchan.peak_rate) / 2.0;
            let app_common = if app.peak_rate / 2.0 == common {
                app.latency
            } else {
                latency(&mut app_side, &app_endpoints, *n, secs, common).await?
            };
            let nchan_common = if nchan.peak_rate / 2.0 == common {
                nchan.latency
            } else {
                latency(&mut nchan_side, &nchan_endpoints, *n, secs, common).await?
            };
            rounds_of_size.push(Round {
                app,
                nchan,
                common,
                app_common,
                nchan_common,
            });
        }
    }
    for (n, rounds_of_size) in &results {
        report(*n, secs, rounds_of_size);
    }

    owner.close().await;
    sqlx::query(&format!("DROP DATABASE {database} WITH (FORCE)"))
        .execute(&mut admin_db)
        .await?;
    Ok(())
}

/// A comma-separated list of numbers from the environment, or `default`.
fn env_list(name: &str, default: &[u64]) -> Vec<u64> {
    std::env::var(name)
        .ok()
        .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect::<Vec<u64>>())
        .filter(|sizes| !sizes.is_empty())
        .unwrap_or_else(|| default.to_vec())
}

/// The sizes this process can open sockets for: its open-file limit is raised to the hard
/// limit (the replicas and nginx inherit it), and a size that would still not fit, with room for
/// the bench's own files, is left out with a line that says so.
fn fitting_sizes(sizes: &[u64]) -> Result<Vec<u64>, Error> {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE)?;
    setrlimit(Resource::RLIMIT_NOFILE, hard, hard)?;
    let fitting: Vec<u64> = sizes.iter().copied().filter(|n| n + 1024 <= hard).collect();
    for n in sizes.iter().filter(|n| !fitting.contains(n)) {
        eprintln!(
            "{n} clients left out: this process may open {hard} files (`ulimit -Hn`), and the clients need {n} \
             sockets besides its own files; raise the hard limit (as root: `ulimit -n {}`) to run it",
            n + 1024
        );
    }
    if fitting.is_empty() {
        return Err("no size fits under the open-file limit".into());
    }
    Ok(fitting)
}

/// The org, project and chat session the app's clients watch, and their token, made through the
/// API for each pair of replicas: a token lives 15 minutes, shorter than a whole run.
struct Tenant {
    org: String,
    project: String,
    session: String,
    token: String,
}

impl Tenant {
    async fn make(addr: &str, slug: &str) -> Result<Self, Error> {
        let http = reqwest::Client::new();
        let base = format!("http://{addr}");
        let admin = support::admin_token(&http, &base).await?;
        let (org, _, token) = support::org_with_admin(&http, &base, &admin, slug).await?;
        let project = call(
            &http,
            reqwest::Method::POST,
            format!("{base}/api/v1/orgs/{org}/projects"),
            Some(&token),
            Some(json!({"name": "fanout"})),
        )
        .await?;
        let project = project["id"].as_str().ok_or("project")?.to_owned();
        let session = call(
            &http,
            reqwest::Method::POST,
            format!("{base}/api/v1/orgs/{org}/projects/{project}/chats"),
            Some(&token),
            None,
        )
        .await?;
        let session = session["id"].as_str().ok_or("session")?.to_owned();
        Ok(Self {
            org,
            project,
            session,
            token,
        })
    }
}

impl App {
    /// Two fresh replicas and a fresh tenant (`tag` names its org); the clients split between
    /// the replicas.
    async fn start(database: &str, tag: &str) -> Result<(Self, Vec<Endpoint>), Error> {
        let (one, one_addr) = start_replica(database, 8).await?;
        let (two, two_addr) = start_replica(database, 8).await?;
        let Tenant {
            org,
            project,
            session,
            token,
        } = Tenant::make(&one_addr, &format!("fanout-{tag}")).await?;
        let endpoints = [&one_addr, &two_addr]
            .iter()
            .map(|addr| Endpoint {
                url: format!("ws://{addr}/api/v1/orgs/{org}/projects/{project}/chats/{session}/ws"),
                protocols: Some(format!("chat.v1, access_token.{token}")),
            })
            .collect();
        let redis = redis::Client::open("redis://127.0.0.1:6379")?
            .get_multiplexed_async_connection()
            .await?;
        let app = Self {
            replicas: vec![one, two],
            redis,
            channel: format!("chat:p:{project}"),
        };
        Ok((app, endpoints))
    }
}

impl Nchan {
    /// Two fresh nginx + nchan instances sharing Redis, on a channel of their own.
    async fn start(
        dir: &std::path::Path,
        tag: &str,
        groups: &std::sync::Mutex<Vec<u32>>,
    ) -> Result<(Self, Vec<Endpoint>), Error> {
        let (a, a_port) = start_nginx(dir, &format!("{tag}-a")).await?;
        let (b, b_port) = start_nginx(dir, &format!("{tag}-b")).await?;
        if let Ok(mut groups) = groups.lock() {
            groups.extend(a.group().into_iter().chain(b.group()));
        }
        let channel = format!("fanout{}", Uuid::new_v4().simple());
        let endpoints = [a_port, b_port]
            .iter()
            .map(|p| Endpoint {
                url: format!("ws://127.0.0.1:{p}/sub/{channel}"),
                protocols: None,
            })
            .collect();
        let nchan = Self {
            servers: vec![a, b],
            http: reqwest::Client::new(),
            publish_url: format!("http://127.0.0.1:{a_port}/pub/{channel}"),
        };
        Ok((nchan, endpoints))
    }
}

/// Both sides' figures at one size in one round.
struct Round {
    app: Figures,
    nchan: Figures,
    /// Half of the lower of the two peaks, frames/s.
    common: f64,
    app_common: Latency,
    nchan_common: Latency,
}

/// The middle value (the mean of the two middle ones for an even count).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    }
}

/// One size's table: the median of each figure over the rounds, with each round's ratio.
fn report(n: u64, secs: u64, rounds: &[Round]) {
    let of = |f: &dyn Fn(&Round) -> f64| median(rounds.iter().map(f).collect());
    let each = |f: &dyn Fn(&Round) -> f64| {
        rounds
            .iter()
            .map(|r| format!("{:.2}", f(r)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let ms = |p50: f64, p99: f64| format!("{p50:.1} / {p99:.1}");
    println!(
        "\n{n} WebSocket clients over 2 server instances, {secs} s per phase, median of {} rounds\n",
        rounds.len()
    );
    println!("| median | app | nginx + nchan | app / nchan, median (each round) |");
    println!("| --- | ---: | ---: | ---: |");
    let ratio_row = |what: &str, app: &dyn Fn(&Round) -> f64, nchan: &dyn Fn(&Round) -> f64, digits: usize| {
        println!(
            "| {what} | {:.digits$} | {:.digits$} | {:.2} ({}) |",
            of(app),
            of(nchan),
            of(&|r| app(r) / nchan(r)),
            each(&|r| app(r) / nchan(r)),
        );
    };
    ratio_row(
        "highest publish rate every client kept up with (frames/s)",
        &|r| r.app.peak_rate,
        &|r| r.nchan.peak_rate,
        0,
    );
    ratio_row(
        "delivered frames per server CPU-second, at that rate",
        &|r| r.app.per_core,
        &|r| r.nchan.per_core,
        0,
    );
    ratio_row(
        "server preemptions per 1,000 frames delivered, at the common rate",
        &|r| r.app_common.preempted_per_1000,
        &|r| r.nchan_common.preempted_per_1000,
        1,
    );
    for (what, app, nchan) in [
        (
            "publish → delivery at the common rate, p50 / p99 (ms)",
            &(|r: &Round| r.app_common.delivered) as &dyn Fn(&Round) -> (f64, f64),
            &(|r: &Round| r.nchan_common.delivered) as &dyn Fn(&Round) -> (f64, f64),
        ),
        (
            "publish → read at the common rate, p50 / p99 (ms)",
            &|r: &Round| r.app_common.read,
            &|r: &Round| r.nchan_common.read,
        ),
        (
            "publish → delivery at each side's half peak, p50 / p99 (ms)",
            &|r: &Round| r.app.latency.delivered,
            &|r: &Round| r.nchan.latency.delivered,
        ),
    ] {
        println!(
            "| {what} | {} | {} | p99: {:.2} ({}) |",
            ms(of(&|r| app(r).0), of(&|r| app(r).1)),
            ms(of(&|r| nchan(r).0), of(&|r| nchan(r).1)),
            of(&|r| app(r).1 / nchan(r).1),
            each(&|r| app(r).1 / nchan(r).1),
        );
    }
    // Below a thousand sockets the allocator's own movements outweigh what the sockets hold.
    if n >= 1000 {
        println!(
            "| resident memory per idle connection (KiB) | {:.1} | {:.1} | |",
            of(&|r| r.app.kib_per_conn),
            of(&|r| r.nchan.kib_per_conn)
        );
    }
    println!("\n| round | peak, app / nchan | common rate | delivery p50 / p99 there, app / nchan (ms) |");
    println!("| ---: | ---: | ---: | ---: |");
    for (i, r) in rounds.iter().enumerate() {
        println!(
            "| {} | {:.0} / {:.0} | {:.1} | {} against {} |",
            i + 1,
            r.app.peak_rate,
            r.nchan.peak_rate,
            r.common,
            ms(r.app_common.delivered.0, r.app_common.delivered.1),
            ms(r.nchan_common.delivered.0, r.nchan_common.delivered.1),
        );
    }
}
