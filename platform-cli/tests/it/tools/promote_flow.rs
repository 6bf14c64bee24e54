//! `platform promote` end to end: a local Git repository with a bare repository as `origin`,
//! images keyless-signed in a real registry (Debian's docker-registry on loopback, with the
//! Fulcio/Rekor stand-in of `crate::support::keyless`), and GitHub served locally: a stateful stand-in
//! (`crate::support::github`) for flows that need memory, and Prism with GitHub's own OpenAPI
//! description to validate every request against the real API contract.

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use crate::support::github::{GitHubStandIn, Prism};
use crate::support::keyless::{IDENTITY, ISSUER, LocalSigstore, REPOSITORY, local_sigstore, push_keyless_signed};
use crate::support::{Pushed, Registry, git, start_registry};
use assert_cmd::Command;

const TOKEN: &str = "ghp_test_token";

/// A registry with two signed app images and one unsigned, and the trust to check them.
struct World {
    registry: Registry,
    sigstore: LocalSigstore,
    signed_v1: Pushed,
    signed_v2: Pushed,
    unsigned: Pushed,
    work: tempfile::TempDir,
}

fn world() -> World {
    let registry = start_registry();
    let sigstore = local_sigstore(registry.work(), "sigstore");
    let signed_v1 = push_keyless_signed(&registry, &sigstore, "1.0", b"version one");
    let signed_v2 = push_keyless_signed(&registry, &sigstore, "2.0", b"version two");
    let unsigned = registry.push_app("3.0", b"nobody signed me");
    World {
        registry,
        sigstore,
        signed_v1,
        signed_v2,
        unsigned,
        work: tempfile::tempdir().expect("tempdir"),
    }
}

impl World {
    fn image(&self, pushed: &Pushed) -> String {
        format!("{}@{}", pushed.repository, pushed.digest)
    }

    /// platform.yaml with dev pinned to `dev_image` and optional staging pins.
    fn manifest(&self, dev_image: &str, staging_image: Option<&str>) -> String {
        let staging_pins = staging_image
            .map(|i| format!("    app:\n      image: {i}\n"))
            .unwrap_or_default();
        format!(
            "# The platform of the promotion tests.\napiVersion: platform/v1alpha1\nkind: Platform\nmetadata:\n  name: acme\ngitops:\n  repoURL: https://github.com/acme/platform.git\nregistry:\n  host: 127.0.0.1:{port}\n  namespace: acme\nsigning:\n  keyless:\n    issuer: {ISSUER}\n    subject: {IDENTITY}\n    workflowRepository: {REPOSITORY}\napp:\n  image: {base}\n  chartVersion: 0.1.0\nenvironments:\n  - name: dev\n    cluster: {{ provider: existing, kubeconfigContext: dev }}\n    domain: dev.acme.example\n    acmeEmail: team@acme.example\n    backup: {{ s3Endpoint: https://minio.acme.example }}\n    app:\n      image: {dev_image}  # what CI built last\n  - name: staging\n    promotedFrom: dev\n    cluster: {{ provider: existing, kubeconfigContext: staging }}\n    domain: staging.acme.example\n    acmeEmail: team@acme.example\n    backup: {{ s3Endpoint: https://minio.acme.example }}\n{staging_pins}  - name: prod\n    promotedFrom: staging\n    production: true\n    cluster: {{ provider: existing, kubeconfigContext: prod }}\n    domain: acme.example\n    acmeEmail: team@acme.example\n    database: {{ instances: 2 }}\n    backup: {{ s3Endpoint: https://minio.acme.example }}\n",
            port = self.registry.port,
            base = self.image(&self.signed_v1),
        )
    }

    /// A repository whose `origin` is a bare repository, with `manifest` rendered and pushed.
    fn repo(&self, manifest: &str) -> (PathBuf, PathBuf) {
        let origin = self.work.path().join("origin.git");
        let repo = self.work.path().join("repo");
        git(
            self.work.path(),
            &["init", "--quiet", "--bare", "-b", "main", &origin.to_string_lossy()],
        );
        git(
            self.work.path(),
            &["init", "--quiet", "-b", "main", &repo.to_string_lossy()],
        );
        git(&repo, &["config", "user.email", "platform@example.com"]);
        git(&repo, &["config", "user.name", "platform tests"]);
        git(&repo, &["remote", "add", "origin", &origin.to_string_lossy()]);
        self.commit(&repo, manifest, "initial platform");
        git(&repo, &["push", "--quiet", "origin", "main"]);
        (repo, origin)
    }

    fn commit(&self, repo: &Path, manifest: &str, message: &str) -> String {
        std::fs::write(repo.join("platform.yaml"), manifest).expect("write manifest");
        let render = Command::cargo_bin("platform")
            .expect("binary")
            .current_dir(repo)
            .args(["render", "-f", "platform.yaml"])
            .output()
            .expect("render");
        assert!(render.status.success(), "{}", String::from_utf8_lossy(&render.stderr));
        git(repo, &["add", "--all"]);
        git(repo, &["commit", "--quiet", "-m", message]);
        git(repo, &["rev-parse", "HEAD"])
    }

    fn promote(&self, repo: &Path, api: &str, token: Option<&str>, args: &[&str]) -> (i32, String, String) {
        let mut cmd = Command::cargo_bin("platform").expect("binary");
        cmd.current_dir(repo)
            .args([
                "promote",
                "-f",
                "platform.yaml",
                "--allow-http-registry",
                "--github-api-url",
                api,
            ])
            .args(["--trusted-root", &self.sigstore.trusted_root.to_string_lossy()])
            .args(args)
            .env_remove("GITHUB_TOKEN")
            .env_remove("GITHUB_API_URL")
            .env_remove("GITHUB_ACTOR")
            // No cluster is reachable from the tests: gates that need one must say so.
            .env("KUBECONFIG", "/nonexistent/kubeconfig");
        if let Some(token) = token {
            cmd.env("GITHUB_TOKEN", token);
        }
        let out = cmd.output().expect("runs");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

fn remote_branch(origin: &Path, branch: &str) -> Option<String> {
    let out = Process::new("git")
        .arg("-C")
        .arg(origin)
        .args(["rev-parse", "--verify", "--quiet", &format!("refs/heads/{branch}")])
        .output()
        .expect("git");
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[test]
fn first_promotion_opens_a_pull_request_and_the_second_updates_it() {
    let w = world();
    let (repo, origin) = w.repo(&w.manifest(&w.image(&w.signed_v2), None));
    let github = GitHubStandIn::start(TOKEN);

    let (code, out, err) = w.promote(&repo, &github.url, Some(TOKEN), &["--from", "dev", "--to", "staging"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Promote dev → staging"), "{out}");
    assert!(
        out.contains(&format!(
            "app/image: {} -> {}",
            w.image(&w.signed_v1),
            w.image(&w.signed_v2)
        )),
        "{out}"
    );
    assert!(out.contains("opened pull request #1"), "{out}");
    let branch = remote_branch(&origin, "promote/staging").expect("branch pushed");
    let promoted = git(&origin, &["show", &format!("{branch}:platform.yaml")]);
    let pinned = format!("    app:\n      image: {}\n  - name: prod", w.image(&w.signed_v2));
    assert!(promoted.contains(&pinned), "staging carries dev's image:\n{promoted}");
    assert!(promoted.contains("# what CI built last"), "comments survive");
    // The rendered tree on the branch carries the new digest for staging.
    let values = git(&origin, &["show", &format!("{branch}:helm/values/staging/app.yaml")]);
    assert!(values.contains(&w.signed_v2.digest), "{values}");
    {
        let prs = github.prs.lock().expect("lock");
        assert_eq!(prs.len(), 1);
        assert_eq!(
            (prs[0].head.as_str(), prs[0].base.as_str()),
            ("promote/staging", "main")
        );
        assert!(prs[0].body.contains("| `app/image` |"), "{}", prs[0].body);
        assert!(prs[0].body.contains("**Signatures**: verified"), "{}", prs[0].body);
        // The target's objects before and after, every difference the promoted pin's doing.
        let body = &prs[0].body;
        assert!(body.contains("### What changes in staging"), "{body}");
        assert!(body.contains("\n- 0 explained by manifest fields\n"), "{body}");
        assert!(body.contains(" pins not yet promoted\n- 0 unexplained\n"), "{body}");
        assert!(
            body.contains(&format!(
                "| `helm/values/app.yaml` | `image.digest` | `\"{}\"` | `\"{}\"` | `pin app.image` |",
                w.signed_v1.digest, w.signed_v2.digest
            )),
            "{body}"
        );
    }
    // The whole comparison travels with the branch.
    let report = git(&origin, &["show", &format!("{branch}:promotions/staging.md")]);
    assert!(report.contains(&w.signed_v2.digest), "{report}");
    // The main branch moves on (dev gets a new chart); promoting again updates the same PR.
    let mut next = w.manifest(&w.image(&w.signed_v2), None);
    next = next.replace("      image: ", "      chartVersion: 0.2.0\n      image: ");
    w.commit(&repo, &next, "dev: chart 0.2.0");
    let (code, out, err) = w.promote(&repo, &github.url, Some(TOKEN), &["--from", "dev", "--to", "staging"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("updated pull request #1"), "{out}");
    let prs = github.prs.lock().expect("lock");
    assert_eq!(prs.len(), 1, "one open promotion PR per environment");
    assert!(prs[0].body.contains("| `app/chartVersion` |"));
}

#[test]
fn nothing_to_change_is_a_no_op() {
    let w = world();
    let v2 = w.image(&w.signed_v2);
    let (repo, origin) = w.repo(&w.manifest(&v2, Some(&v2)));
    let github = GitHubStandIn::start(TOKEN);
    let (code, out, _) = w.promote(&repo, &github.url, Some(TOKEN), &["--from", "dev", "--to", "staging"]);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "nothing to promote: staging already runs these pins; no branch, no pull request\n"
    );
    assert!(remote_branch(&origin, "promote/staging").is_none());
    assert!(github.prs.lock().expect("lock").is_empty());
}

#[test]
fn an_unsigned_image_is_never_promoted() {
    let w = world();
    let (repo, origin) = w.repo(&w.manifest(&w.image(&w.unsigned), None));
    let github = GitHubStandIn::start(TOKEN);
    let (code, _, err) = w.promote(&repo, &github.url, Some(TOKEN), &["--from", "dev", "--to", "staging"]);
    assert_eq!(code, 1);
    assert!(err.contains("refusing to promote"), "{err}");
    assert!(err.contains("no signatures for"), "{err}");
    assert!(err.contains(&w.unsigned.digest), "{err}");
    assert!(remote_branch(&origin, "promote/staging").is_none(), "nothing pushed");
    assert!(github.prs.lock().expect("lock").is_empty());
}

#[test]
fn a_promotion_that_skips_a_step_of_the_chain_pushes_nothing() {
    let w = world();
    let (repo, origin) = w.repo(&w.manifest(&w.image(&w.signed_v2), None));
    let github = GitHubStandIn::start(TOKEN);
    let (code, _, err) = w.promote(&repo, &github.url, Some(TOKEN), &["--from", "dev", "--to", "prod"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("\"prod\" is promoted from \"staging\", not from \"dev\""),
        "{err}"
    );
    assert!(remote_branch(&origin, "promote/prod").is_none());
}

#[test]
fn a_dry_run_shows_the_summary_and_diff_and_pushes_nothing() {
    let w = world();
    let (repo, origin) = w.repo(&w.manifest(&w.image(&w.signed_v2), None));
    let (code, out, err) = w.promote(
        &repo,
        "http://127.0.0.1:9",
        None,
        &["--from", "dev", "--to", "staging", "--dry-run"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("--- a/platform.yaml\n+++ b/platform.yaml"), "{out}");
    assert!(out.contains("+++ b/helm/values/staging/app.yaml"), "{out}");
    assert!(out.ends_with("dry run: nothing pushed\n"), "{out}");
    assert!(remote_branch(&origin, "promote/staging").is_none());
    assert_eq!(git(&repo, &["status", "--porcelain"]), "", "the checkout is untouched");
}

#[test]
fn rollback_repromotes_the_pins_an_environment_had_at_a_revision() {
    let w = world();
    let v1 = w.image(&w.signed_v1);
    let v2 = w.image(&w.signed_v2);
    let (repo, origin) = w.repo(&w.manifest(&v2, Some(&v1)));
    let good = git(&repo, &["rev-parse", "HEAD"]);
    w.commit(&repo, &w.manifest(&v2, Some(&v2)), "staging: v2");
    let github = GitHubStandIn::start(TOKEN);
    let (code, out, err) = w.promote(
        &repo,
        &github.url,
        Some(TOKEN),
        &["--to", "staging", "--revision", &good],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(&format!("Promote staging at {good} → staging")), "{out}");
    assert!(out.contains(&format!("app/image: {v2} -> {v1}")), "{out}");
    let branch = remote_branch(&origin, "promote/staging").expect("pushed");
    let manifest = git(&origin, &["show", &format!("{branch}:platform.yaml")]);
    assert!(
        manifest.contains(&format!("    app:\n      image: {v1}\n  - name: prod")),
        "{manifest}"
    );
}

#[test]
fn auth_failures_and_missing_tokens_are_clear() {
    let w = world();
    let (repo, _) = w.repo(&w.manifest(&w.image(&w.signed_v2), None));
    let github = GitHubStandIn::start(TOKEN);
    let (code, _, err) = w.promote(&repo, &github.url, None, &["--from", "dev", "--to", "staging"]);
    assert_eq!(code, 1);
    assert!(err.contains("GITHUB_TOKEN is not set"), "{err}");
    let (code, _, err) = w.promote(&repo, &github.url, Some("wrong"), &["--from", "dev", "--to", "staging"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("GitHub refused the request (401): Bad credentials"),
        "{err}"
    );
    assert!(err.contains("the token was refused"), "{err}");
}

#[test]
fn a_missing_remote_is_explained() {
    let w = world();
    let (repo, _) = w.repo(&w.manifest(&w.image(&w.signed_v2), None));
    git(&repo, &["remote", "remove", "origin"]);
    let github = GitHubStandIn::start(TOKEN);
    let (code, _, err) = w.promote(&repo, &github.url, Some(TOKEN), &["--from", "dev", "--to", "staging"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("add the GitOps repository as the remote `origin`"),
        "{err}"
    );
}

#[test]
fn every_github_request_follows_githubs_api_contract() {
    let w = world();
    let (repo, origin) = w.repo(&w.manifest(&w.image(&w.signed_v2), None));
    let prism = Prism::start();
    let api = format!("http://127.0.0.1:{}", prism.port);
    let (code, out, err) = w.promote(&repo, &api, Some(TOKEN), &["--from", "dev", "--to", "staging"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("pull request #"), "{out}");
    assert!(remote_branch(&origin, "promote/staging").is_some());
    let log = std::fs::read_to_string(&prism.log).expect("prism log");
    // Our requests, not GitHub's own example responses (which miss some schema fields).
    let passed = log
        .lines()
        .filter(|l| l.contains("The request passed the validation rules"))
        .count();
    let refused: Vec<&str> = log.lines().filter(|l| l.contains("Violation: request")).collect();
    assert!(passed >= 2, "list and create or update were validated:\n{log}");
    assert!(refused.is_empty(), "{refused:#?}");
}

#[test]
fn a_promotion_into_production_waits_for_its_gates_and_an_override_goes_on_the_record() {
    let w = world();
    let staging = w.image(&w.signed_v2);
    let (repo, origin) = w.repo(&w.manifest(&staging, Some(&staging)));
    let github = GitHubStandIn::start(TOKEN);
    let promote = ["--from", "staging", "--to", "prod"];

    // Staging's cluster cannot be read: every gate refuses, nothing leaves the machine.
    let (code, out, err) = w.promote(&repo, &github.url, Some(TOKEN), &promote);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("refusing to promote staging into prod:"), "{err}");
    for gate in [
        "healthy",
        "soak",
        "burn-rate (availability)",
        "burn-rate (latency)",
        "alerts",
    ] {
        assert!(
            err.contains(&format!("gate {gate}: cannot load the kubeconfig (context staging)")),
            "{gate}: {err}"
        );
    }
    assert!(err.contains("--override-gate NAME --reason TEXT"), "{err}");
    assert!(remote_branch(&origin, "promote/prod").is_none());
    assert!(github.prs.lock().expect("lock").is_empty());

    // An override needs a reason.
    let (code, _, err) = w.promote(
        &repo,
        &github.url,
        Some(TOKEN),
        &[&promote[..], &["--override-gate", "soak"]].concat(),
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--reason <TEXT>"), "{err}");

    // A person overrides every gate: the promotion proceeds, and the pull request says who and why.
    let overrides = [
        "--override-gate",
        "healthy",
        "--override-gate",
        "soak",
        "--override-gate",
        "burn-rate",
        "--override-gate",
        "alerts",
        "--reason",
        "staging's cluster is being rebuilt; prod needs the fix now",
    ];
    let prism = Prism::start();
    let api = format!("http://127.0.0.1:{}", prism.port);
    let (code, out, err) = w.promote(&repo, &api, Some(TOKEN), &[&promote[..], &overrides[..]].concat());
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("gate soak: no answer (overridden: cannot load the kubeconfig"),
        "{out}"
    );
    let log = std::fs::read_to_string(&prism.log).expect("prism log");
    let refused: Vec<&str> = log.lines().filter(|l| l.contains("Violation: request")).collect();
    assert!(
        refused.is_empty(),
        "GitHub's contract holds with the gates in the body: {refused:#?}"
    );

    let (code, out, err) = w.promote(
        &repo,
        &github.url,
        Some(TOKEN),
        &[&promote[..], &overrides[..]].concat(),
    );
    assert_eq!(code, 0, "{out}{err}");
    let prs = github.prs.lock().expect("lock");
    let body = &prs[0].body;
    assert!(
        body.contains(
            "**Gates overridden** (healthy, soak, burn-rate, alerts) by platform tests <platform@example.com>: \
             staging's cluster is being rebuilt; prod needs the fix now"
        ),
        "{body}"
    );
    assert!(
        body.contains("### Gates: evidence from staging (Prometheus: none)"),
        "{body}"
    );
    assert!(body.contains("| soak | `Argo CD Applications' sync history"), "{body}");
    assert!(
        body.contains("**overridden: cannot load the kubeconfig (context staging)"),
        "{body}"
    );
    assert!(remote_branch(&origin, "promote/prod").is_some());
}

#[test]
fn the_workflow_check_of_a_promotion_pull_request_reads_only_the_gates() {
    let w = world();
    let staging = w.image(&w.signed_v2);
    let (repo, origin) = w.repo(&w.manifest(&staging, Some(&staging)));
    // No token needed: nothing is pushed or opened.
    let (code, out, err) = w.promote(
        &repo,
        "http://127.0.0.1:9",
        None,
        &["--from", "dev", "--to", "staging", "--gates-only"],
    );
    assert_eq!(
        (code, out.as_str()),
        (0, "no gates: nothing is checked before promoting into staging\n"),
        "{err}"
    );
    let (code, _, err) = w.promote(
        &repo,
        "http://127.0.0.1:9",
        None,
        &["--from", "staging", "--to", "prod", "--gates-only"],
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("refusing to promote staging into prod:"), "{err}");
    assert!(
        err.contains("gate healthy: cannot load the kubeconfig (context staging)"),
        "{err}"
    );
    let (code, _, err) = w.promote(&repo, "http://127.0.0.1:9", None, &["--to", "prod", "--gates-only"]);
    assert_eq!(code, 2, "--gates-only needs --from: {err}");
    assert!(remote_branch(&origin, "promote/prod").is_none());
    assert!(remote_branch(&origin, "promote/staging").is_none());
}

#[test]
fn a_protected_branch_is_explained() {
    let w = world();
    let (repo, origin) = w.repo(&w.manifest(&w.image(&w.signed_v2), None));
    // The bare origin rejects the push the way GitHub rejects a protected branch.
    let hook = origin.join("hooks/pre-receive");
    std::fs::write(&hook, "#!/bin/sh\necho 'remote: error: GH006: Protected branch update failed for refs/heads/promote/staging.' >&2\nexit 1\n")
        .expect("hook");
    Process::new("chmod").arg("+x").arg(&hook).status().expect("chmod");
    let github = GitHubStandIn::start(TOKEN);
    let (code, _, err) = w.promote(&repo, &github.url, Some(TOKEN), &["--from", "dev", "--to", "staging"]);
    assert_eq!(code, 1);
    assert!(err.contains("GH006"), "{err}");
    assert!(err.contains("the branch is protected"), "{err}");
    assert!(
        github.prs.lock().expect("lock").is_empty(),
        "no PR for a branch that was not pushed"
    );
}

#[test]
fn a_manifest_that_links_outside_the_repository_is_refused_as_such() {
    let w = world();
    let manifest = w.manifest(&w.image(&w.signed_v2), None);
    let (repo, _origin) = w.repo(&manifest);
    let outside = w.work.path().join("elsewhere.yaml");
    std::fs::write(&outside, &manifest).expect("write");
    std::fs::remove_file(repo.join("platform.yaml")).expect("remove");
    std::os::unix::fs::symlink(&outside, repo.join("platform.yaml")).expect("symlink");
    let github = GitHubStandIn::start(TOKEN);
    let (code, out, err) = w.promote(
        &repo,
        &github.url,
        Some(TOKEN),
        &["--from", "dev", "--to", "staging", "--dry-run"],
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("promote::outside_repository"), "{err}");
    assert!(err.contains("is not inside the Git repository"), "{err}");
    assert!(!err.contains("a bug in platform's manifest editing"), "{err}");
}
