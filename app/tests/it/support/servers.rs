//! Servers of a test's own, so a fault test can stop and restart them without touching the
//! shared PostgreSQL and Redis other tests run against: a PostgreSQL cluster made with
//! Debian's `pg_createcluster` (as root, as the test command runs) and a `redis-server`; and
//! Debian's nginx as a balancer in front of replicas.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

fn run(program: &str, args: &[&str]) {
    let output = Command::new(program).args(args).output().unwrap_or_else(|e| {
        panic!("{program} cannot run ({e}); the fault tests need Debian's postgresql-common and redis-server")
    });
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

static SEQ: AtomicU32 = AtomicU32::new(0);

/// A PostgreSQL cluster on a loopback port of its own, trust auth, dropped with the value.
pub struct PgCluster {
    version: String,
    name: String,
    pub port: u16,
}

impl PgCluster {
    pub fn create() -> Self {
        let version = std::fs::read_dir("/etc/postgresql")
            .expect("/etc/postgresql: Debian's PostgreSQL packages")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .max_by_key(|v| v.parse::<u32>().unwrap_or(0))
            .expect("a PostgreSQL version");
        // A port free when picked can be taken before the cluster starts (the fault tests make
        // clusters in parallel, and pg_createcluster refuses a port another cluster is set to):
        // drop the half-made cluster and try another port.
        let mut failures = Vec::new();
        for _ in 0..5 {
            let name = format!("faults{}x{}", std::process::id(), SEQ.fetch_add(1, Ordering::Relaxed));
            let port = test_support::free_port();
            let output = Command::new("pg_createcluster")
                .args([
                    &version,
                    &name,
                    "-p",
                    &port.to_string(),
                    "--start",
                    "--",
                    "--auth=trust",
                    "--no-sync",
                ])
                .output()
                .unwrap_or_else(|e| {
                    panic!("pg_createcluster cannot run ({e}); the fault tests need Debian's postgresql-common")
                });
            if output.status.success() {
                return Self { version, name, port };
            }
            failures.push(format!(
                "port {port}: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ));
            let _ = Command::new("pg_dropcluster")
                .args(["--stop", &version, &name])
                .output();
        }
        panic!("pg_createcluster failed five times:\n{}", failures.join("\n"));
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// `pg_ctl restart -m fast`: every session is terminated (57P01) and the server comes back.
    pub fn restart_fast(&self) {
        run("pg_ctlcluster", &[&self.version, &self.name, "restart", "-m", "fast"]);
    }

    /// Stops it (`-m fast`) until [`PgCluster::start`].
    pub fn stop(&self) {
        run("pg_ctlcluster", &[&self.version, &self.name, "stop", "-m", "fast"]);
    }

    pub fn start(&self) {
        run("pg_ctlcluster", &[&self.version, &self.name, "start"]);
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let _ = Command::new("pg_dropcluster")
            .args(["--stop", &self.version, &self.name])
            .output();
    }
}

/// A `redis-server` on a loopback port of its own; with `persistent`, it keeps an append-only
/// file (fsync always) in a directory of its own, so a restart keeps its data unless the test
/// deletes it.
pub struct OwnRedis {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl OwnRedis {
    pub fn start() -> Self {
        let mut redis = Self {
            port: test_support::free_port(),
            dir: tempfile::tempdir().expect("a directory"),
            child: None,
        };
        redis.launch();
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn launch(&mut self) {
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string(), "--save", ""])
            .args(["--appendonly", "yes", "--appendfsync", "always", "--dir"])
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        for _ in 0..250 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("redis-server on port {} never answered", self.port);
    }

    /// SIGKILL: what a crashed or evicted pod does.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again; `keep_data: false` is a new pod without a volume.
    pub fn restart(&mut self, keep_data: bool) {
        self.kill();
        if !keep_data {
            let files: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
                .expect("its directory")
                .filter_map(|e| Some(e.ok()?.path()))
                .collect();
            for file in files {
                let _ = std::fs::remove_dir_all(&file).or_else(|_| std::fs::remove_file(&file));
            }
        }
        self.launch();
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Debian's nginx balancing requests round-robin over replicas, as a load balancer in front of
/// the app does: one process (`master_process off`), so stopping it leaves nothing behind.
pub struct Balancer {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
}

impl Balancer {
    pub fn start(replicas: &[std::net::SocketAddr]) -> Self {
        let dir = tempfile::tempdir().expect("balancer folder");
        let port = test_support::free_port();
        let servers: String = replicas.iter().map(|r| format!("server {r}; ")).collect();
        let root = dir.path().display();
        let conf = format!(
            "daemon off; master_process off; pid {root}/nginx.pid; error_log {root}/error.log;
             events {{ worker_connections 256; }}
             http {{
               access_log off;
               client_body_temp_path {root}/body; proxy_temp_path {root}/proxy;
               fastcgi_temp_path {root}/fastcgi; uwsgi_temp_path {root}/uwsgi; scgi_temp_path {root}/scgi;
               upstream replicas {{ {servers} }}
               server {{
                 listen 127.0.0.1:{port};
                 location / {{ proxy_pass http://replicas; proxy_http_version 1.1; proxy_set_header Connection \"\"; proxy_set_header Host $host; }}
               }}
             }}"
        );
        let path = dir.path().join("nginx.conf");
        std::fs::write(&path, conf).expect("nginx.conf");
        let child = Command::new("nginx")
            .arg("-c")
            .arg(&path)
            .arg("-p")
            .arg(dir.path())
            .stdout(Stdio::null())
            .spawn()
            .expect("nginx starts (apt-get install nginx)");
        // Owned from here on: dropped (and so stopped) however this returns.
        let balancer = Self { child, port, dir };
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return balancer;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        let log = std::fs::read_to_string(balancer.dir.path().join("error.log")).unwrap_or_default();
        panic!("nginx did not start: {log}");
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
