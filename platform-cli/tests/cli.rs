//! The command line as users see it: exit codes, and the exact text of diagnostics.
//! Expected output lives beside each fixture (`*.stderr`); bless an intended change with
//! `UPDATE_GOLDEN=1 cargo test -p platform-cli --test cli` and review the diff.

use std::path::Path;

use assert_cmd::Command;

fn platform() -> Command {
    let mut cmd = Command::cargo_bin("platform").expect("binary built");
    cmd.env("NO_COLOR", "1");
    // Support windows are judged on a fixed day, so the expected output does not age.
    cmd.env("PLATFORM_TODAY", "2026-11-30");
    cmd
}

fn assert_output(actual: &str, expected_file: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(expected_file);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).expect("write expected output");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("{expected_file} missing"));
    assert_eq!(actual, expected, "output differs from {expected_file}");
}

fn invalid(fixture: &str) {
    let file = format!("tests/fixtures/invalid/{fixture}.yaml");
    let out = platform().args(["validate", "-f", &file]).output().expect("runs");
    assert_eq!(out.status.code(), Some(1), "invalid manifests exit 1");
    assert!(out.stdout.is_empty(), "diagnostics go to stderr");
    assert_output(
        &String::from_utf8_lossy(&out.stderr),
        &format!("tests/fixtures/invalid/{fixture}.stderr"),
    );
}

#[test]
fn cloud_limits_and_kubernetes_support_windows_are_enforced() {
    invalid("cloud-limits");
}

#[test]
fn node_pools_too_small_for_the_platform_are_refused_naming_the_shortfall() {
    invalid("node-fit");
}

#[test]
fn unknown_keys_wrong_types_and_enum_typos_are_all_reported() {
    invalid("typos");
}

#[test]
fn environments_named_after_hand_written_observability_folders_are_refused() {
    invalid("reserved-names");
}

#[test]
fn every_meaning_error_is_reported_in_one_run() {
    invalid("semantics");
}

#[test]
fn keyless_trust_naming_another_workflow_and_logins_for_another_registry_are_refused() {
    invalid("ci-keyless");
}

#[test]
fn a_private_key_the_workflow_cannot_reach_a_foreign_ghcr_namespace_and_images_it_does_not_push_are_refused() {
    invalid("ci-key");
}

#[test]
fn cloud_registries_need_a_github_repository_a_repository_path_and_a_real_kms_key() {
    invalid("ci-cloud");
}

#[test]
fn keyless_signing_outside_github_and_bad_secret_names_are_refused() {
    invalid("ci-other-registry");
}

#[test]
fn yaml_syntax_errors_point_at_the_line() {
    invalid("syntax");
}

#[test]
fn valid_manifests_validate() {
    let out = platform()
        .args(["validate", "-f", "../platform.yaml"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "../platform.yaml: valid (3 environments: dev, staging, prod)\n"
    );
}

#[test]
fn a_missing_manifest_says_how_to_pass_one() {
    let out = platform().args(["validate", "-f", "nope.yaml"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot read manifest nope.yaml"), "{err}");
    assert!(err.contains("pass the manifest with -f FILE"), "{err}");
}

#[test]
fn bad_flags_are_usage_errors() {
    let out = platform().args(["render", "--frobnicate"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn schema_prints_json() {
    let out = platform().arg("schema").output().expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(schema["title"], "Platform manifest");
}

#[test]
fn render_writes_only_inside_out_and_then_checks_clean() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("tree");
    let run = platform()
        .args(["render", "-f", "../examples/aks.yaml", "--out"])
        .arg(&out)
        .output()
        .expect("runs");
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    let summary = String::from_utf8_lossy(&run.stdout);
    assert!(summary.starts_with("rendered 1 environment into "), "{summary}");
    // Nothing but the tree was written.
    let top: Vec<_> = std::fs::read_dir(dir.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(top, vec![std::ffi::OsString::from("tree")]);
    // Self-contained: the modules the env root calls are there.
    assert!(out.join("terraform/modules/cluster-aks/main.tf").exists());
    assert!(out.join("terraform/envs/prod/main.tf").exists());

    let check = platform()
        .args(["render", "-f", "../examples/aks.yaml", "--check", "--out"])
        .arg(&out)
        .output()
        .expect("runs");
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert!(check.stdout.is_empty());
}

#[test]
fn check_reports_changed_missing_and_stale_files_with_a_diff() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path();
    let render = |extra: &[&str]| {
        platform()
            .args(["render", "-f", "../examples/gke-central-mimir.yaml", "--out"])
            .arg(out)
            .args(extra)
            .output()
            .expect("runs")
    };
    assert_eq!(render(&[]).status.code(), Some(0));
    let tfvars = out.join("terraform/envs/prod/terraform.tfvars");
    let edited = std::fs::read_to_string(&tfvars)
        .expect("read")
        .replace("nodes_max          = 9", "nodes_max          = 5");
    std::fs::write(&tfvars, edited).expect("write");
    std::fs::remove_file(out.join("argocd/staging/root.yaml")).expect("remove");
    let stale = out.join("argocd/old-env/root.yaml");
    std::fs::create_dir_all(stale.parent().expect("parent")).expect("mkdir");
    std::fs::write(
        &stale,
        "# Generated by platform from x.yaml (environment old-env); do not edit.\n",
    )
    .expect("write");
    let hand_written = out.join("argocd/staging/README.md");
    std::fs::write(&hand_written, "notes\n").expect("write");

    let check = render(&["--check"]);
    assert_eq!(check.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&check.stdout);
    assert!(
        stdout.contains("--- a/terraform/envs/prod/terraform.tfvars\n+++ b/terraform/envs/prod/terraform.tfvars"),
        "{stdout}"
    );
    assert!(
        stdout.contains("-nodes_max          = 5\n+nodes_max          = 9\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("--- a//dev/null\n+++ b/argocd/staging/root.yaml"),
        "{stdout}"
    );
    assert!(stdout.contains("extra file: argocd/old-env/root.yaml"), "{stdout}");
    assert!(
        !stdout.contains("README.md"),
        "hand-written files are not ours to judge"
    );
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert!(
        stderr.contains("error: 3 files differ from what ../examples/gke-central-mimir.yaml renders"),
        "{stderr}"
    );
    assert!(
        stderr.contains("help: run `platform render -f ../examples/gke-central-mimir.yaml --out"),
        "{stderr}"
    );

    // Rendering again repairs all of it and removes only the stale rendered file.
    let again = render(&[]);
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("2 written"),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );
    assert!(!stale.exists());
    assert!(hand_written.exists());
    assert_eq!(render(&["--check"]).status.code(), Some(0));
}

#[test]
fn env_selects_environments_and_unknown_ones_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ok = platform()
        .args([
            "render",
            "-f",
            "../examples/eks-three-envs.yaml",
            "--env",
            "staging",
            "--out",
        ])
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(ok.status.code(), Some(0));
    assert!(dir.path().join("argocd/staging/root.yaml").exists());
    assert!(!dir.path().join("argocd/prod").exists());

    let bad = platform()
        .args([
            "render",
            "-f",
            "../examples/eks-three-envs.yaml",
            "--env",
            "stagin",
            "--out",
        ])
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(bad.status.code(), Some(1));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("no environment named \"stagin\" in the manifest"), "{err}");
    assert!(
        err.contains("environments in the manifest: dev, staging, prod"),
        "{err}"
    );
}

#[test]
fn a_standalone_tree_checks_itself_as_its_workflow_does() {
    // The rendered platform workflow of an `--out` tree runs, at the tree's root,
    // `platform validate -f FILE` and `platform render -f FILE --out . --check`.
    let dir = tempfile::tempdir().expect("tempdir");
    let rendered = platform()
        .args(["render", "-f", "../examples/aks.yaml", "--out"])
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(rendered.status.code(), Some(0));
    let workflow = std::fs::read_to_string(dir.path().join(".github/workflows/platform.yaml")).expect("workflow");
    assert!(workflow.contains("render -f aks.yaml --out . --check"), "{workflow}");
    for args in [
        &["validate", "-f", "aks.yaml"][..],
        &["render", "-f", "aks.yaml", "--out", ".", "--check"][..],
    ] {
        let out = platform().current_dir(dir.path()).args(args).output().expect("runs");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn a_trusted_root_file_and_a_tuf_fetch_are_exclusive() {
    let out = platform()
        .args(["verify", "-f", "../platform.yaml", "--env", "dev"])
        .args(["--sigstore-tuf", "--trusted-root", "trusted_root.json"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("the argument '--sigstore-tuf' cannot be used with '--trusted-root <FILE>'")
    );
}

/// The subcommands a user sees in `--help`, completions and the man page.
const SUBCOMMANDS: [&str; 12] = [
    "init",
    "validate",
    "schema",
    "render",
    "diff",
    "promote",
    "bootstrap",
    "status",
    "verify",
    "verify-image",
    "completions",
    "man",
];

/// What real bash completes for the words of `line` (the last one being completed), with the
/// script `platform completions bash` prints loaded, in `dir`, asking the built binary.
fn bash_completes(dir: &Path, words: &[&str]) -> Vec<String> {
    let out = platform().args(["completions", "bash"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let script = dir.join("platform.bash");
    std::fs::write(&script, &out.stdout).expect("write");
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let current = words.last().copied().unwrap_or_default();
    let previous = words.len().checked_sub(2).map_or("", |i| words[i]);
    let probe = format!(
        "source {}; COMP_WORDS=({}); COMP_CWORD={}; COMP_TYPE=9; _clap_complete_platform platform '{current}' '{previous}'; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display(),
        quoted.join(" "),
        words.len() - 1,
    );
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_platform")).parent().expect("bin dir");
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let completed = std::process::Command::new("bash")
        .args(["--norc", "-c", &probe])
        .current_dir(dir)
        .env("PATH", path)
        .output()
        .expect("bash runs");
    assert!(
        completed.status.success(),
        "{}",
        String::from_utf8_lossy(&completed.stderr)
    );
    String::from_utf8_lossy(&completed.stdout)
        .lines()
        .map(|w| w.trim_end().to_string())
        .filter(|w| !w.is_empty())
        .collect()
}

#[test]
fn bash_completes_every_subcommand_with_the_script_it_prints() {
    let dir = tempfile::tempdir().expect("tempdir");
    let words = bash_completes(dir.path(), &["platform", ""]);
    for sub in SUBCOMMANDS {
        assert!(
            words.iter().any(|w| w == sub),
            "`platform <TAB>` lacks {sub}:\n{words:?}"
        );
    }
    assert_eq!(
        bash_completes(dir.path(), &["platform", "ver"]),
        ["verify", "verify-image"]
    );
}

#[test]
fn bash_completes_environment_names_from_the_manifest_in_the_folder() {
    let dir = tempfile::tempdir().expect("tempdir");
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/eks-three-envs.yaml");
    std::fs::copy(example, dir.path().join("platform.yaml")).expect("copy");
    assert_eq!(
        bash_completes(dir.path(), &["platform", "status", "--env", ""]),
        ["dev", "staging", "prod"]
    );
    assert_eq!(
        bash_completes(dir.path(), &["platform", "render", "--env", "st"]),
        ["staging"]
    );
    assert_eq!(
        bash_completes(dir.path(), &["platform", "promote", "--from", "dev", "--to", "p"]),
        ["prod"]
    );
    // No manifest here: nothing to offer, and no error on the terminal.
    let empty = tempfile::tempdir().expect("tempdir");
    assert!(bash_completes(empty.path(), &["platform", "verify", "--env", ""]).is_empty());
}

#[test]
fn an_unknown_shell_is_refused_with_the_ones_there_are() {
    let out = platform().args(["completions", "tcsh"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert_output(
        &String::from_utf8_lossy(&out.stderr),
        "tests/fixtures/cli/completions-unknown-shell.stderr",
    );
}

#[test]
fn the_man_page_renders_with_groff_and_names_every_subcommand() {
    let out = platform().arg("man").output().expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(page.contains(".TH platform 1"), "{page}");
    // What `man` shows: the roff through the real groff, as plain text.
    let mut groff = std::process::Command::new("groff")
        .args(["-man", "-Tutf8", "-P", "-c", "-w", "all"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("groff runs");
    std::io::Write::write_all(&mut groff.stdin.take().expect("stdin"), &out.stdout).expect("write");
    let shown = groff.wait_with_output().expect("groff finishes");
    assert!(shown.status.success());
    let text = String::from_utf8_lossy(&shown.stdout);
    assert!(
        shown.stderr.is_empty(),
        "groff warns: {}",
        String::from_utf8_lossy(&shown.stderr)
    );
    assert!(text.contains("Render, verify and promote"), "{text}");
    for sub in SUBCOMMANDS {
        assert!(text.contains(&format!("platform-{sub}(1)")), "{sub} missing:\n{text}");
    }
}

/// platform(1) refers to platform-<subcommand>(1): `--out-dir` writes each of those pages, and
/// `man` finds and formats them there.
#[test]
fn every_page_platform_1_refers_to_is_written_and_man_shows_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = platform()
        .args(["man", "--out-dir"])
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("wrote 13 man pages into {}\n", dir.path().display())
    );
    for page in std::iter::once("platform".to_string()).chain(SUBCOMMANDS.iter().map(|s| format!("platform-{s}"))) {
        let shown = std::process::Command::new("man")
            .arg("-l")
            .arg(dir.path().join(format!("{page}.1")))
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "100")
            .output()
            .expect("man runs");
        assert!(
            shown.status.success(),
            "{page}: {}",
            String::from_utf8_lossy(&shown.stderr)
        );
        let text = String::from_utf8_lossy(&shown.stdout);
        assert!(text.contains(&page), "{page} shows:\n{text}");
    }
}

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
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/validate-tree");
    let out = std::process::Command::new(script)
        .arg(repo)
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

/// `example` rendered with `--out` into a fresh folder: a tree as a repository commits it.
fn rendered_example(example: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../examples/{example}.yaml"));
    let out = platform()
        .args(["render", "-f"])
        .arg(&manifest)
        .arg("--out")
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let copied = dir.path().join(format!("{example}.yaml"));
    (dir, copied)
}

fn diff(manifest: &Path, args: &[&str]) -> std::process::Output {
    platform()
        .arg("diff")
        .arg("-f")
        .arg(manifest)
        .args(args)
        .output()
        .expect("runs")
}

#[test]
fn diff_explains_every_difference_between_the_examples_environments() {
    for (example, from, to, output, golden) in [
        ("eks-three-envs", "dev", "staging", "text", "txt"),
        ("eks-three-envs", "staging", "prod", "text", "txt"),
        ("eks-three-envs", "staging", "prod", "json", "json"),
        ("eks-three-envs", "staging", "prod", "markdown", "md"),
        ("gke-central-mimir", "staging", "prod", "text", "txt"),
    ] {
        let (_dir, manifest) = rendered_example(example);
        let out = diff(&manifest, &["--from", from, "--to", to, "--output", output]);
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        assert_output(
            &String::from_utf8_lossy(&out.stdout),
            &format!("tests/fixtures/diff/{example}.{from}-{to}.{golden}"),
        );
    }
}

#[test]
fn a_hand_edit_in_a_rendered_file_is_an_unexplained_difference() {
    let (dir, manifest) = rendered_example("eks-three-envs");
    let values = dir.path().join("helm/values/staging/app.yaml");
    let text = std::fs::read_to_string(&values).expect("values");
    let edited = text.replace("minReplicas: 2", "minReplicas: 7");
    assert_ne!(text, edited, "the planted edit applies");
    std::fs::write(&values, edited).expect("write");
    let out = diff(&manifest, &["--from", "dev", "--to", "staging"]);
    assert_eq!(out.status.code(), Some(1), "an unexplained difference fails");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        report.contains("    autoscaling.minReplicas: 1 → 7  [unexplained]\n"),
        "{report}"
    );
    assert!(
        report.ends_with("81 differences between dev and staging:\n  80 explained by manifest fields\n  0 pins not yet promoted\n  1 unexplained\n"),
        "{report}"
    );
}

#[test]
fn diff_of_a_tree_not_rendered_says_how_to_render_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = dir.path().join("platform.yaml");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/eks-three-envs.yaml"),
        &manifest,
    )
    .expect("copy");
    let out = platform()
        .current_dir(dir.path())
        .args(["diff", "--from", "dev", "--to", "staging"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert_output(
        &String::from_utf8_lossy(&out.stderr),
        "tests/fixtures/cli/diff-no-tree.stderr",
    );
}

#[test]
fn an_image_not_yet_promoted_is_a_pin_difference() {
    let dir = tempfile::tempdir().expect("tempdir");
    let example =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/eks-three-envs.yaml"))
            .expect("example");
    let newer = format!(
        "  - name: staging\n    promotedFrom: dev\n    app: {{ image: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/app@sha256:{} }}\n",
        "ab".repeat(32)
    );
    let text = example.replace("  - name: staging\n    promotedFrom: dev\n", &newer);
    assert_ne!(text, example);
    let manifest = dir.path().join("platform.yaml");
    std::fs::write(&manifest, text).expect("write");
    let out = platform()
        .args(["render", "-f"])
        .arg(&manifest)
        .arg("--out")
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let out = diff(&manifest, &["--from", "staging", "--to", "prod", "--output", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let pins: Vec<&serde_json::Value> = report["differences"]
        .as_array()
        .expect("differences")
        .iter()
        .filter(|d| d["class"] == "pin")
        .collect();
    assert_eq!(report["summary"]["pin"], pins.len());
    assert!(
        pins.iter().any(|d| d["object"]["file"] == "helm/values/app.yaml"
            && d["path"] == "image.digest"
            && d["from"] == format!("\"sha256:{}\"", "ab".repeat(32))),
        "{pins:#?}"
    );
    assert!(
        pins.iter().all(|d| d["fields"] == serde_json::json!(["app.image"])),
        "{pins:#?}"
    );
}

#[test]
fn diff_live_prints_text_or_json_only() {
    let out = platform()
        .args([
            "diff",
            "-f",
            "../platform.yaml",
            "--env",
            "dev",
            "--live",
            "--output",
            "markdown",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert_output(
        &String::from_utf8_lossy(&out.stderr),
        "tests/fixtures/cli/diff-live-markdown.stderr",
    );
}
