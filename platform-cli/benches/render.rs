//! Render throughput for generated manifests of 1, 10 and 100 environments, then writing the
//! 100-environment tree the way `render --out DIR` does, beside `cp -r` of the same finished tree.
//!
//! Run: `cargo bench -p platform-cli --bench render`. Reports wall time of load + validate +
//! resolve + render (no disk writes), files per second, and for the write the median of
//! alternating rounds (each into a fresh folder) of `output::write` and of `cp -r`; the figures
//! in the README come from this.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use platform_cli::render::{Layout, output};
use platform_cli::{manifest, render};

fn manifest_with(envs: usize) -> String {
    let mut text = String::from(
        "apiVersion: platform/v1alpha1\nkind: Platform\nmetadata:\n  name: bench\ngitops:\n  repoURL: https://github.com/bench/platform.git\nregistry:\n  host: ghcr.io\n  namespace: bench\nsigning:\n  keyless: {}\napp:\n  image: ghcr.io/bench/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n  chartVersion: 0.1.0\nenvironments:\n",
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
                let (region, size) = match provider {
                    "eks" => ("eu-west-1", "m6i.xlarge"),
                    "aks" => ("westeurope", "Standard_D4s_v5"),
                    _ => ("europe-west1", "e2-standard-4"),
                };
                let _ = writeln!(text, "      region: {region}\n      nodeSize: {size}");
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
        "{:>6} {:>8} {:>12} {:>12} {:>12} {:>14}",
        "envs", "files", "load+check", "render", "wall time", "files/second"
    );
    for envs in [1, 10, 100] {
        let text = manifest_with(envs);
        let (mut load, mut rendering) = (Duration::MAX, Duration::MAX);
        let mut best = Duration::MAX;
        let mut files = 0;
        for _ in 0..5 {
            let start = Instant::now();
            let loaded = manifest::load_str("bench.yaml", &text).unwrap_or_else(|d| panic!("{d}"));
            let loaded_at = start.elapsed();
            let tree = render::render(&loaded, &[]).unwrap_or_else(|e| panic!("{e}"));
            let total = start.elapsed();
            if total < best {
                (best, load, rendering) = (total, loaded_at, total - loaded_at);
            }
            files = tree.files.len();
        }
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "{envs:>6} {files:>8} {:>10.1}ms {:>10.1}ms {:>10.1}ms {:>14.0}",
            ms(load),
            ms(rendering),
            ms(best),
            files as f64 / best.as_secs_f64()
        );
    }
    write_beside_cp(&manifest_with(100));
}

/// `render --out` into an empty folder against `cp -r` of the finished tree, alternating.
fn write_beside_cp(text: &str) {
    let loaded = manifest::load_str("bench.yaml", text).unwrap_or_else(|d| panic!("{d}"));
    let mut tree = render::render_as(&loaded, &[], Layout::Standalone).unwrap_or_else(|e| panic!("{e}"));
    render::add_hand_written(&mut tree);
    render::add_manifest(&mut tree, &loaded);
    let bytes: usize = tree.files.values().map(Vec::len).sum();
    let scratch = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let finished = scratch.path().join("finished");
    output::write(&tree, &finished).unwrap_or_else(|e| panic!("{e}"));
    let (mut ours, mut cp) = (Vec::new(), Vec::new());
    for round in 0..7 {
        let into = scratch.path().join(format!("write-{round}"));
        let start = Instant::now();
        output::write(&tree, &into).unwrap_or_else(|e| panic!("{e}"));
        ours.push(start.elapsed());
        let copy = scratch.path().join(format!("cp-{round}"));
        let start = Instant::now();
        let status = std::process::Command::new("cp")
            .arg("-r")
            .arg(&finished)
            .arg(&copy)
            .status()
            .unwrap_or_else(|e| panic!("cp: {e}"));
        cp.push(start.elapsed());
        assert!(status.success(), "cp -r failed");
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let (ours, cp) = (median(&mut ours), median(&mut cp));
    println!(
        "\nwrite 100 environments ({} files, {:.1} MB) into an empty folder, median of 7 alternating rounds:\n  render --out: {:>7.1} ms\n  cp -r:        {:>7.1} ms\n  ratio:        {:>7.2}",
        tree.files.len(),
        bytes as f64 / 1e6,
        ours.as_secs_f64() * 1000.0,
        cp.as_secs_f64() * 1000.0,
        ours.as_secs_f64() / cp.as_secs_f64()
    );
}
