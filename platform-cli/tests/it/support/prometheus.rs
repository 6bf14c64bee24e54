//! A real Prometheus (Debian's package) serving a history written as OpenMetrics and loaded with
//! `promtool tsdb create-blocks-from openmetrics`, with rule files loaded as a cluster's
//! Prometheus Operator would load an environment's PrometheusRules.

use std::fmt::Write as _;
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command as Process, Stdio};
use std::time::{Duration, Instant};

use test_support::free_port;

/// A Prometheus process over a temporary TSDB; stopped on drop.
pub struct PrometheusServer {
    child: Child,
    pub url: String,
    _dir: tempfile::TempDir,
}

impl Drop for PrometheusServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// OpenMetrics samples, one series at a time, each in time order (as promtool wants them).
#[derive(Default)]
pub struct History {
    text: String,
}

impl History {
    /// One sample per minute of `series` (`name{labels}`) from `minutes` ago to a minute ago,
    /// `value(minutes_ago)` each.
    pub fn series(&mut self, series: &str, now: i64, minutes: i64, value: impl Fn(i64) -> f64) -> &mut Self {
        for ago in (1..=minutes).rev() {
            let _ = writeln!(self.text, "{series} {} {}", value(ago), now - ago * 60);
        }
        self
    }

    /// The app's request counters and latency histogram for `minutes` up to now: `per_minute`
    /// requests a minute, `errors(minutes_ago)` of them 5xx and `slow(minutes_ago)` slower than
    /// the 300 ms SLO threshold.
    pub fn app_traffic(
        &mut self,
        now: i64,
        minutes: i64,
        per_minute: f64,
        errors: impl Fn(i64) -> f64,
        slow: impl Fn(i64) -> f64,
    ) -> &mut Self {
        // Counters: the sum of every earlier minute.
        let total = |f: &dyn Fn(i64) -> f64, ago: i64| -> f64 { ((ago + 1)..=minutes).map(f).sum::<f64>() };
        let all = |_: i64| per_minute;
        self.series("app_http_requests_total{status=\"200\"}", now, minutes, |ago| {
            total(&|a| per_minute - errors(a), ago)
        });
        self.series("app_http_requests_total{status=\"500\"}", now, minutes, |ago| {
            total(&errors, ago)
        });
        self.series(
            "app_http_request_duration_seconds_bucket{le=\"0.3\"}",
            now,
            minutes,
            |ago| total(&|a| per_minute - slow(a), ago),
        );
        self.series("app_http_request_duration_seconds_count", now, minutes, |ago| {
            total(&all, ago)
        })
    }

    /// `alert` firing (the `ALERTS` series its rule writes) for the last `minutes`.
    pub fn firing(&mut self, alert: &str, labels: &str, now: i64, minutes: i64) -> &mut Self {
        self.series(
            &format!("ALERTS{{alertname=\"{alert}\",alertstate=\"firing\",{labels}}}"),
            now,
            minutes,
            |_| 1.0,
        )
    }

    /// Backfills the history into a fresh TSDB and serves it, with `rules` (rule files' YAML).
    pub fn serve(&self, rules: &[String]) -> PrometheusServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let input = dir.path().join("history.om");
        std::fs::write(&input, format!("{}# EOF\n", self.text)).expect("write history");
        let data = dir.path().join("data");
        run(Process::new("promtool")
            .args(["tsdb", "create-blocks-from", "openmetrics", "--quiet"])
            .arg(&input)
            .arg(&data));
        let mut files = Vec::new();
        for (i, rule) in rules.iter().enumerate() {
            let path = dir.path().join(format!("rules-{i}.yaml"));
            std::fs::write(&path, rule).expect("write rules");
            files.push(format!("  - {}", path.display()));
        }
        let config = dir.path().join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  evaluation_interval: 1s\nrule_files:\n{}\n",
                files.join("\n")
            ),
        )
        .expect("write config");
        run(Process::new("promtool").arg("check").arg("config").arg(&config));
        let port = free_port();
        let child = Process::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", data.display()))
            .arg("--storage.tsdb.retention.time=30d")
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("prometheus runs (Debian's prometheus package; scripts/setup installs it)");
        let server = PrometheusServer {
            child,
            url: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        };
        wait_ready(port);
        server
    }
}

fn run(command: &mut Process) {
    let out = command.output().expect("promtool runs");
    assert!(
        out.status.success(),
        "{command:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Waits until `/-/ready` answers 200 (the TSDB and its blocks are loaded).
fn wait_ready(port: u16) {
    use std::io::{Read, Write};
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = stream.write_all(b"GET /-/ready HTTP/1.0\r\nHost: localhost\r\n\r\n");
            let mut answer = String::new();
            let _ = stream.read_to_string(&mut answer);
            if answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200") {
                return;
            }
        }
        assert!(Instant::now() < deadline, "prometheus did not become ready on {port}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The rule groups (`spec`) of each rendered PrometheusRule in `dir`, as rule files.
pub fn rule_files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("rules folder") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("read rules");
        let rule: serde_json::Value = yaml_serde::from_str(&text).expect("yaml");
        out.push(serde_json::to_string(&rule["spec"]).expect("json"));
    }
    out
}
