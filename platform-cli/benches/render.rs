//! Render throughput for generated manifests of 1, 10 and 100 environments.
//!
//! Run: `cargo bench -p platform-cli --bench render`. Reports wall time of load + validate +
//! resolve + render (no disk writes: those measure the file system, not the renderer), and
//! files per second; the figures in the README come from this.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use platform_cli::{manifest, render};

fn manifest_with(envs: usize) -> String {
    let mut text = String::from(
        "apiVersion: platform/v1alpha1\nkind: Platform\nmetadata:\n  name: bench\ngitops:\n  repoURL: https://github.com/bench/platform.git\nregistry:\n  host: ghcr.io\n  namespace: bench\nsigning:\n  keyless:\n    issuer: https://token.actions.githubusercontent.com\n    subject: https://github.com/bench/app/.github/workflows/release.yaml@refs/heads/main\napp:\n  image: ghcr.io/bench/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n  chartVersion: 0.1.0\nenvironments:\n",
    );
    let providers = ["eks", "aks", "gke", "existing"];
    for i in 0..envs {
        let provider = providers[i % providers.len()];
        let _ = writeln!(text, "  - name: env-{i}");
        if i > 0 {
            let _ = writeln!(text, "    promotedFrom: env-{}", i - 1);
        }
        let _ = writeln!(text, "    cluster:\n      provider: {provider}");
        match provider {
            "existing" => {
                let _ = writeln!(text, "      kubeconfigContext: ctx-{i}");
            }
            _ => {
                let _ = writeln!(text, "      region: region-{}\n      nodeSize: size-{i}", i % 3);
                let _ = writeln!(text, "      networkCidr: 10.{}.0.0/16", i % 250);
            }
        }
        if provider == "gke" {
            let _ = writeln!(text, "      gcpProject: bench-project-{i}");
        }
        let _ = writeln!(
            text,
            "    domain: env-{i}.bench.example\n    acmeEmail: team@bench.example"
        );
        if provider == "existing" {
            let _ = writeln!(text, "    backup: {{ s3Endpoint: https://minio.bench.example }}");
        }
    }
    text
}

fn main() {
    println!(
        "{:>6} {:>8} {:>12} {:>14}",
        "envs", "files", "wall time", "files/second"
    );
    for envs in [1, 10, 100] {
        let text = manifest_with(envs);
        let mut best = Duration::MAX;
        let mut files = 0;
        for _ in 0..5 {
            let start = Instant::now();
            let loaded = manifest::load_str("bench.yaml", &text).unwrap_or_else(|d| panic!("{d}"));
            let tree = render::render(&loaded, &[]).unwrap_or_else(|e| panic!("{e}"));
            best = best.min(start.elapsed());
            files = tree.files.len();
        }
        println!(
            "{envs:>6} {files:>8} {:>10.1}ms {:>14.0}",
            best.as_secs_f64() * 1000.0,
            files as f64 / best.as_secs_f64()
        );
    }
}
