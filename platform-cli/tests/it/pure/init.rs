//! `platform init`: without a terminal (flags, examples, exact errors) and on a pseudo-terminal
//! through every prompt; the repository it writes renders and checks.

use std::path::{Path, PathBuf};

use platform_cli::model::components::{Component, Source};

use crate::support::cli::{assert_output, platform};

/// `platform init` with stdin not a terminal (assert_cmd gives it none), in a fresh folder.
fn init_in(dir: &Path, args: &[&str]) -> std::process::Output {
    platform()
        .current_dir(dir)
        .arg("init")
        .args(args)
        .output()
        .expect("runs")
}

const INIT_FLAGS: [&str; 12] = [
    "--name",
    "shop",
    "--repo-url",
    "https://github.com/shop/gitops.git",
    "--provider",
    "eks",
    "--region",
    "eu-west-1",
    "--domain",
    "shop.example.com",
    "--acme-email",
    "sre@shop.example.com",
];

#[test]
fn init_without_a_terminal_names_every_missing_flag_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = init_in(dir.path(), &["new", "--provider", "gke"]);
    assert_eq!(out.status.code(), Some(1));
    assert_output(
        &String::from_utf8_lossy(&out.stderr),
        "tests/fixtures/cli/init-missing-flags.stderr",
    );
    assert!(!dir.path().join("new").exists(), "nothing is written");
}

#[test]
fn init_refuses_answers_the_manifest_rules_refuse_naming_their_flags() {
    let dir = tempfile::tempdir().expect("tempdir");
    let args = [
        "--name",
        "Shop_1",
        "--repo-url",
        "https://github.com/shop/gitops.git",
        "--registry",
        "ghcr.io/someone-else",
        "--provider",
        "eks",
        "--region",
        "mars-1",
        "--environments",
        "dev,tests",
        "--domain",
        "localhost",
        "--acme-email",
        "nobody",
    ];
    let out = init_in(dir.path(), &args);
    assert_eq!(out.status.code(), Some(1));
    assert_output(
        &String::from_utf8_lossy(&out.stderr),
        "tests/fixtures/cli/init-invalid-answers.stderr",
    );
    assert!(
        std::fs::read_dir(dir.path()).expect("dir").next().is_none(),
        "nothing is written"
    );
}

#[test]
fn init_never_overwrites_a_manifest() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("platform.yaml"), "mine\n").expect("write");
    let out = init_in(dir.path(), &INIT_FLAGS);
    assert_eq!(out.status.code(), Some(1));
    assert_output(
        &String::from_utf8_lossy(&out.stderr),
        "tests/fixtures/cli/init-exists.stderr",
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("platform.yaml")).expect("read"),
        "mine\n"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).expect("dir").count(),
        1,
        "nothing else is written"
    );
}

#[test]
fn init_from_an_unknown_example_lists_the_bundled_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = init_in(dir.path(), &["--from-example", "eks"]);
    assert_eq!(out.status.code(), Some(2));
    assert_output(
        &String::from_utf8_lossy(&out.stderr),
        "tests/fixtures/cli/init-unknown-example.stderr",
    );
}

/// A new repository is in sync with its manifest: `validate` and `render --out . --check` pass
/// there, as its own CI workflow runs them.
fn assert_repository_renders(repo: &Path) {
    let validate = platform().current_dir(repo).arg("validate").output().expect("runs");
    assert_eq!(
        validate.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&validate.stderr)
    );
    let check = platform()
        .current_dir(repo)
        .args(["render", "--out", ".", "--check"])
        .output()
        .expect("runs");
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    for file in [
        "README.md",
        ".gitignore",
        "platform.schema.json",
        ".github/workflows/app.yaml",
    ] {
        assert!(repo.join(file).is_file(), "{file} missing");
    }
}

/// Under `scripts/test` (which sets PLATFORM_TOOLS_VENV) the real validators check the tree too.
fn validate_with_real_tools(repo: &Path) {
    if std::env::var_os("PLATFORM_TOOLS_VENV").is_none() {
        eprintln!(
            "PLATFORM_TOOLS_VENV unset: the real validators are not run over {}",
            repo.display()
        );
        return;
    }
    // ../shared/schemas lacks some of Kyverno's policies.kyverno.io kinds: those come from the
    // CRDs the pinned chart installs, as in scripts/validate-rendered.
    let scripts = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts");
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared");
    let schemas = tempfile::tempdir().expect("tempdir");
    let venv = PathBuf::from(std::env::var_os("PLATFORM_TOOLS_VENV").expect("checked above"));
    let Source::Chart { version, .. } = Component::Kyverno.spec().source else {
        panic!("Kyverno comes as a chart");
    };
    let made = std::process::Command::new(venv.join("bin/python"))
        .arg(scripts.join("chart-crd-schemas"))
        .arg(shared.join("schemas/crds"))
        .arg(shared.join(format!("upstream/kyverno/{version}/charts/kyverno-api/templates/crds")))
        .arg(schemas.path())
        .output()
        .expect("chart-crd-schemas runs");
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let out = std::process::Command::new(scripts.join("validate-tree"))
        .arg(repo)
        .env("PLATFORM_CRD_SCHEMAS", schemas.path())
        .output()
        .expect("validate-tree runs");
    assert!(
        out.status.success(),
        "validate-tree failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn init_from_flags_writes_a_repository_that_renders_and_says_what_to_do_next() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = init_in(dir.path(), &[&["shop"], &INIT_FLAGS[..]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_output(
        &String::from_utf8_lossy(&out.stdout),
        "tests/fixtures/cli/init-flags.stdout",
    );
    let repo = dir.path().join("shop");
    assert_output(
        &std::fs::read_to_string(repo.join("platform.yaml")).expect("manifest"),
        "tests/fixtures/cli/init-flags.platform.yaml",
    );
    assert_repository_renders(&repo);
}

#[test]
fn init_from_every_bundled_example_renders() {
    let dir = tempfile::tempdir().expect("tempdir");
    for example in ["aks", "eks-three-envs", "existing-cluster", "gke-central-mimir"] {
        let out = init_in(dir.path(), &[example, "--from-example", example]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{example}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let repo = dir.path().join(example);
        let manifest = std::fs::read_to_string(repo.join("platform.yaml")).expect("manifest");
        assert!(
            manifest.starts_with("# yaml-language-server: $schema=./platform.schema.json\n"),
            "{manifest}"
        );
        assert_repository_renders(&repo);
    }
}

/// A person at a terminal: every answer typed at the prompts (one refused and corrected),
/// choices picked with the arrow keys, defaults taken with Enter.
#[test]
fn init_on_a_terminal_asks_checks_each_answer_and_writes_a_repository_that_passes_the_validators() {
    use rexpect::session::spawn_command;

    let dir = tempfile::tempdir().expect("tempdir");
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_platform"));
    cmd.current_dir(dir.path())
        .args(["init", "shop"])
        .env("NO_COLOR", "1")
        .env("TERM", "xterm");
    let mut p = spawn_command(cmd, Some(20_000)).expect("spawns in a pty");
    const DOWN: &str = "\x1b[B";
    let mut step = |prompt: &str, keys: &str| {
        p.exp_string(prompt)
            .unwrap_or_else(|e| panic!("waiting for {prompt:?}: {e}"));
        p.send(keys).expect("types");
        p.flush().expect("flush");
    };
    step("Platform name", "Shop!\r");
    step("is not a DNS label", "");
    step("Platform name", "shop\r");
    step("Git remote", "https://github.com/shop/gitops.git\r");
    step("Registry for the app image", "\r");
    step("How does the app workflow sign", "\r");
    step("App image", "\r");
    step("Environments", "dev,prod\r");
    step("Which environment is production", "\r");
    step("Where does dev run", &format!("{DOWN}{DOWN}\r"));
    step("Region of dev", "\r");
    step("GCP project of dev", "shop-dev\r");
    step("Domain of dev", "dev.shop.example.com\r");
    step("Let's Encrypt contact of dev", "sre@shop.example.com\r");
    step("Where does prod run", "\r");
    step("Region of prod", "\r");
    step("GCP project of prod", "shop-prod\r");
    step("Domain of prod", "\r");
    step("Let's Encrypt contact of prod", "\r");
    p.exp_string("next:").expect("the next steps");
    p.exp_eof().expect("exits");
    let repo = dir.path().join("shop");
    let manifest = std::fs::read_to_string(repo.join("platform.yaml")).expect("manifest written");
    for expected in [
        "  name: shop\n",
        "  repoURL: https://github.com/shop/gitops.git\n",
        "  host: ghcr.io\n  namespace: shop\n",
        "  keyless: {}\n",
        "  - name: prod\n    promotedFrom: dev\n",
        "    production: true\n",
        "      provider: gke\n      region: europe-west1\n      gcpProject: shop-prod\n",
        "      gcpProject: shop-dev\n",
        "    domain: dev.shop.example.com\n",
        "    domain: shop.example.com\n",
    ] {
        assert!(manifest.contains(expected), "{expected:?} not in:\n{manifest}");
    }
    assert_repository_renders(&repo);
    validate_with_real_tools(&repo);
}
