//! The rendered CI workflows, read as GitHub would run them: every action pinned by commit SHA,
//! least permissions, every path a workflow references present in the tree it is rendered into
//! (this repository, and a standalone `--out` tree), a registry login per registry kind, and a
//! signing step that produces exactly what the rendered Kyverno ImageValidatingPolicy admits.

use std::collections::BTreeMap;

use platform_cli::render::{self, Layout, STANDALONE_TOOLKIT_DIR};
use platform_cli::{manifest, manifest::LoadedManifest};
use serde_json::Value;
use test_support::repository_root;

const EXAMPLES: [&str; 5] = [
    "platform.yaml",
    "examples/aks.yaml",
    "examples/eks-three-envs.yaml",
    "examples/existing-cluster.yaml",
    "examples/gke-central-mimir.yaml",
];

fn load(example: &str) -> LoadedManifest {
    manifest::load(&repository_root().join(example)).expect("valid")
}

fn rendered(loaded: &LoadedManifest, layout: Layout) -> BTreeMap<String, Vec<u8>> {
    let mut tree = render::render_as(loaded, &[], layout).expect("renders");
    if layout == Layout::Standalone {
        render::add_hand_written(&mut tree);
        render::add_manifest(&mut tree, loaded);
    }
    tree.files
}

/// The workflows of a rendered tree, parsed.
fn workflows(files: &BTreeMap<String, Vec<u8>>) -> Vec<(String, Value)> {
    files
        .iter()
        .filter(|(p, _)| p.starts_with(".github/workflows/"))
        .map(|(p, bytes)| {
            let text = std::str::from_utf8(bytes).expect("utf-8");
            (p.clone(), yaml_serde::from_str(text).expect("yaml"))
        })
        .collect()
}

fn steps(job: &Value) -> &Vec<Value> {
    job["steps"].as_array().expect("steps")
}

#[test]
fn every_action_is_pinned_by_commit_sha() {
    for example in EXAMPLES {
        for layout in [Layout::Repository, Layout::Standalone] {
            let all = workflows(&rendered(&load(example), layout));
            assert_eq!(all.len(), 2);
            for (path, doc) in &all {
                for (_, job) in doc["jobs"].as_object().expect("jobs") {
                    for step in steps(job) {
                        if let Some(uses) = step["uses"].as_str() {
                            let (_, sha) = uses.split_once('@').expect("@ref");
                            assert!(
                                sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit()),
                                "{example}: {path}: {uses} is not pinned by commit SHA"
                            );
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn permissions_are_least_and_an_oidc_token_goes_only_where_a_login_or_signature_needs_it() {
    // (example, the image job federates to a cloud or signs keyless, the registry is a cloud's,
    // it is ghcr.io)
    for (example, image_oidc, cloud, ghcr) in [
        ("platform.yaml", true, false, true),
        ("examples/aks.yaml", true, true, false),
        ("examples/eks-three-envs.yaml", true, true, false),
        ("examples/existing-cluster.yaml", false, false, false),
        ("examples/gke-central-mimir.yaml", true, true, false),
    ] {
        for (path, doc) in workflows(&rendered(&load(example), Layout::Repository)) {
            assert!(
                doc.get("permissions").is_some(),
                "{path}: top-level permissions are set"
            );
            for (name, job) in doc["jobs"].as_object().expect("jobs") {
                let token = job["permissions"]["id-token"].as_str();
                let packages = job["permissions"]["packages"].as_str();
                let (want_token, want_packages) = match (path.ends_with("app.yaml"), name.as_str()) {
                    (true, "image") => (image_oidc, ghcr.then_some("write")),
                    // Verifying reads the registry with the same login as the push.
                    (false, "verify") => (cloud, ghcr.then_some("read")),
                    _ => (false, None),
                };
                assert_eq!(token, want_token.then_some("write"), "{example}: {path}/{name}");
                assert_eq!(packages, want_packages, "{example}: {path}/{name}");
            }
        }
    }
}

#[test]
fn verify_logs_in_as_the_image_job_does() {
    for example in EXAMPLES {
        let files = rendered(&load(example), Layout::Repository);
        let docs: BTreeMap<String, Value> = workflows(&files).into_iter().collect();
        let logins = |job: &Value| -> Vec<Value> {
            steps(job)
                .iter()
                .filter(|s| {
                    let name = s["name"].as_str().unwrap_or_default();
                    name.starts_with("Log in") || name.contains("credentials") || name.contains("login")
                })
                .cloned()
                .collect()
        };
        let image = logins(&docs[".github/workflows/app.yaml"]["jobs"]["image"]);
        let verify = logins(&docs[".github/workflows/platform.yaml"]["jobs"]["verify"]);
        assert!(!image.is_empty(), "{example}");
        assert_eq!(image, verify, "{example}");
    }
}

#[test]
fn verify_runs_for_every_environment_and_expressions_survive_tera() {
    for example in EXAMPLES {
        let loaded = load(example);
        let envs: Vec<Value> = loaded
            .manifest
            .environments
            .iter()
            .map(|e| Value::String(e.name.clone()))
            .collect();
        for (path, doc) in workflows(&rendered(&loaded, Layout::Repository)) {
            let text = serde_json::to_string(&doc).expect("json");
            if path.ends_with("platform.yaml") {
                assert_eq!(
                    doc["jobs"]["verify"]["strategy"]["matrix"]["environment"],
                    Value::Array(envs.clone())
                );
                let verify = run_of(&doc["jobs"]["verify"], "platform verify");
                assert!(verify.contains("--env ${{ matrix.environment }}"), "{verify}");
                assert!(verify.contains("--sigstore-tuf"), "{verify}: a trusted root it can get");
            } else {
                assert!(text.contains("${{ env.IMAGE }}:${{ github.sha }}"));
                assert!(text.contains(r#"-a \"sha=${{ github.sha }}\""#));
                assert!(text.contains(r#"\"${IMAGE}@${DIGEST}\""#), "signs by digest");
            }
        }
    }
}

#[test]
fn selecting_environments_leaves_the_repository_wide_workflows_alone() {
    let tree = render::render(&load("platform.yaml"), &["dev".to_string()]).expect("renders");
    assert!(tree.files.keys().all(|p| !p.starts_with(".github/")));
}

/// The `run` script of the step of `job` whose name starts with `name`.
fn run_of<'a>(job: &'a Value, name: &str) -> &'a str {
    steps(job)
        .iter()
        .find(|s| s["name"].as_str().is_some_and(|n| n.starts_with(name)))
        .and_then(|s| s["run"].as_str())
        .unwrap_or_else(|| panic!("a step named {name}…"))
}

// ---- Paths: every path a workflow references exists where the workflow runs ----

/// A path a workflow reads, and where it says so.
#[derive(Debug, PartialEq, Eq)]
struct Missing {
    workflow: String,
    place: String,
    path: String,
}

/// Where a workflow's paths resolve: the checked-out tree, and (in a standalone tree) the
/// toolkit source the workflow checks out beside it, which is this repository at this version.
struct Workspace<'a> {
    tree: &'a dyn Fn(&str) -> bool,
    toolkit: &'a dyn Fn(&str) -> bool,
}

/// Every path `doc` references (push `paths:` filters, `working-directory`, docker build
/// `context`/`file`, and path-shaped words of `run` scripts) that does not exist. Folders the
/// workflow creates (checkouts of other repositories, cargo's `target/`) are not checked, but a
/// path into the toolkit checkout is checked against the toolkit source.
fn missing_paths(workflow: &str, doc: &Value, ws: &Workspace<'_>) -> Vec<Missing> {
    let mut missing = Vec::new();
    let mut need = |place: String, path: &str| {
        let path = path.trim_start_matches("./").trim_end_matches('/');
        if path.is_empty() || path == "." {
            return;
        }
        let exists = match path.split_once('/') {
            Some((STANDALONE_TOOLKIT_DIR, rest)) => (ws.toolkit)(rest),
            _ if path == STANDALONE_TOOLKIT_DIR => true,
            _ => (ws.tree)(path),
        };
        if !exists {
            missing.push(Missing {
                workflow: workflow.to_string(),
                place,
                path: path.to_string(),
            });
        }
    };
    for trigger in ["push", "pull_request"] {
        for pattern in doc["on"][trigger]["paths"].as_array().into_iter().flatten() {
            let pattern = pattern.as_str().unwrap_or_default();
            let literal = pattern.split(['*', '?', '[']).next().unwrap_or_default();
            need(format!("on.{trigger}.paths {pattern}"), literal);
        }
    }
    for (name, job) in doc["jobs"].as_object().into_iter().flatten() {
        let external: Vec<String> = steps(job)
            .iter()
            .filter(|s| s["uses"].as_str().is_some_and(|u| u.starts_with("actions/checkout@")))
            .filter_map(|s| s["with"]["path"].as_str())
            .filter(|p| *p != STANDALONE_TOOLKIT_DIR)
            .map(str::to_string)
            .collect();
        for (i, step) in steps(job).iter().enumerate() {
            let place = format!("jobs.{name}.steps[{i}]");
            let dir = step["working-directory"].as_str().unwrap_or(".");
            need(format!("{place}.working-directory"), dir);
            for key in ["context", "file"] {
                if let Some(path) = step["with"][key].as_str() {
                    need(format!("{place}.with.{key}"), path);
                }
            }
            for word in step["run"].as_str().map(path_words).into_iter().flatten() {
                let path = if dir == "." {
                    word.clone()
                } else {
                    format!("{dir}/{word}")
                };
                let built = path.split('/').any(|part| part == "target");
                let elsewhere = external.iter().any(|e| path.starts_with(&format!("{e}/")));
                if !built && !elsewhere {
                    need(format!("{place}.run"), &path);
                }
            }
        }
    }
    missing
}

/// Words of a shell script that name a relative file or folder: slash-separated, or a file name
/// with an extension a workflow reads. Variables, flags, URLs and assignments are not paths.
fn path_words(script: &str) -> Vec<String> {
    const FILE_TYPES: [&str; 7] = [".yaml", ".yml", ".json", ".toml", ".lock", ".sh", ".md"];
    script
        .split(|c: char| c.is_whitespace() || "|;&()<>\"'`\\".contains(c))
        .filter(|w| !w.is_empty() && !w.starts_with(['-', '/', '$', '~']))
        .filter(|w| !w.contains(['$', '=', '@', '{', '}']) && !w.contains("://"))
        .filter(|w| w.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-/".contains(&b)))
        .filter(|w| w.contains('/') || FILE_TYPES.iter().any(|t| w.ends_with(t)))
        .map(str::to_string)
        .collect()
}

/// Whether `path` is a file of `files` or a folder holding one.
fn in_files(files: &BTreeMap<String, Vec<u8>>, path: &str) -> bool {
    files.contains_key(path) || files.keys().any(|f| f.starts_with(&format!("{path}/")))
}

#[test]
fn every_path_the_repository_workflows_reference_exists_in_this_repository() {
    let root = repository_root();
    let on_disk = |p: &str| root.join(p).exists();
    // The repository's own manifest, rendered as committed (render --check keeps them equal).
    let files = rendered(&load("platform.yaml"), Layout::Repository);
    let tree = |p: &str| in_files(&files, p) || on_disk(p);
    let ws = Workspace {
        tree: &tree,
        toolkit: &on_disk,
    };
    for (path, doc) in workflows(&files) {
        assert_eq!(missing_paths(&path, &doc, &ws), [], "{path}");
    }
}

#[test]
fn every_path_a_standalone_trees_workflows_reference_exists_there_or_in_the_toolkit() {
    let root = repository_root();
    let toolkit = |p: &str| root.join(p).exists();
    for example in EXAMPLES {
        let files = rendered(&load(example), Layout::Standalone);
        let tree = |p: &str| in_files(&files, p);
        let ws = Workspace {
            tree: &tree,
            toolkit: &toolkit,
        };
        for (path, doc) in workflows(&files) {
            assert_eq!(missing_paths(&path, &doc, &ws), [], "{example}: {path}");
        }
    }
}

#[test]
fn the_path_check_finds_what_a_workflow_would_not() {
    // The mistakes the rendered workflows once made: a Dockerfile at the root, a schemas folder
    // nobody creates, a CLI built from sources a standalone tree does not have.
    let doc: Value = yaml_serde::from_str(
        r#"
on: { push: { paths: ["app/**", "Dockerfile"] } }
jobs:
  build:
    steps:
      - uses: actions/checkout@0000000000000000000000000000000000000000
        with: { repository: datreeio/CRDs-catalog, path: .schemas }
      - run: cargo build --release -p platform-cli && target/release/platform validate -f platform.yaml
      - run: scripts/validate-tree . && check .schemas/x.json && toolkit/scripts/nope
      - uses: docker/build-push-action@0000000000000000000000000000000000000000
        with: { context: ., file: Dockerfile }
      - working-directory: platform-cli
        run: cat README.md
"#,
    )
    .expect("yaml");
    let files = ["app/Cargo.toml", "platform.yaml", "scripts/validate-tree"];
    let tree = |p: &str| files.iter().any(|f| *f == p || f.starts_with(&format!("{p}/")));
    let toolkit = |p: &str| p == "scripts/validate-tree";
    let missing: Vec<(String, String)> = missing_paths(
        "w.yaml",
        &doc,
        &Workspace {
            tree: &tree,
            toolkit: &toolkit,
        },
    )
    .into_iter()
    .map(|m| (m.place, m.path))
    .collect();
    assert_eq!(
        missing,
        [
            ("on.push.paths Dockerfile".into(), "Dockerfile".into()),
            ("jobs.build.steps[2].run".into(), "toolkit/scripts/nope".into()),
            ("jobs.build.steps[3].with.file".into(), "Dockerfile".into()),
            ("jobs.build.steps[4].working-directory".into(), "platform-cli".into()),
            ("jobs.build.steps[4].run".into(), "platform-cli/README.md".into()),
        ]
    );
}

// ---- Registry logins and signing, per registry kind and trust mode ----

const PUBLIC_KEY: &str = "-----BEGIN PUBLIC KEY-----\n    MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE7L3pQmcT2vXz0lYb1O5sWq2f9Hn4\n    kD8Jx6RZt3aUe1yVwMfQ0sN5cG7hLrPiK2jTqX9oBvAeDfCgHuIkJlMnOp==\n    -----END PUBLIC KEY-----";

/// A one-environment manifest pushing to `host` with `login`, signed as `signing` says.
fn manifest_with(host: &str, namespace: &str, login: &str, signing: &str) -> LoadedManifest {
    let text = format!(
        "apiVersion: platform/v1alpha1
kind: Platform
metadata: {{ name: acme }}
gitops: {{ repoURL: https://github.com/acme/platform.git, targetRevision: release }}
registry:
  host: {host}
  namespace: {namespace}
{login}
signing:
{signing}
app:
  image: {host}/{namespace}/app@sha256:{digest}
  chartVersion: 0.1.0
environments:
  - name: prod
    production: true
    cluster: {{ provider: existing, kubeconfigContext: prod }}
    backup: {{ s3Endpoint: https://minio.acme.example }}
    domain: acme.example
    acmeEmail: ops@acme.example
",
        digest = "ab".repeat(32)
    );
    manifest::load_str("platform.yaml", &text).unwrap_or_else(|d| panic!("{}", d.render(false)))
}

/// The steps of the image job, and the rendered ImageValidatingPolicy's images and attestor.
fn image_job_and_attestor(loaded: &LoadedManifest) -> (Value, Value, Value) {
    let files = rendered(loaded, Layout::Repository);
    let app: Value =
        yaml_serde::from_str(std::str::from_utf8(&files[".github/workflows/app.yaml"]).expect("utf-8")).expect("yaml");
    let policy: Value =
        yaml_serde::from_str(std::str::from_utf8(&files["policies/prod/verify-app-images.yaml"]).expect("utf-8"))
            .expect("yaml");
    let spec = &policy["spec"];
    (
        app.clone(),
        app["jobs"]["image"].clone(),
        serde_json::json!({
            "images": spec["matchImageReferences"],
            "attestor": spec["attestors"][0]["cosign"],
        }),
    )
}

/// The step that uses an action `name@…`.
fn uses<'a>(job: &'a Value, name: &str) -> Option<&'a Value> {
    steps(job)
        .iter()
        .find(|s| s["uses"].as_str().is_some_and(|u| u.starts_with(&format!("{name}@"))))
}

fn sign_script(job: &Value) -> String {
    run_of(job, "Sign by digest").to_string()
}

#[test]
fn keyless_signing_signs_as_the_identity_kyverno_admits() {
    for (host, namespace, login) in [
        ("ghcr.io", "acme", ""),
        (
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
            "acme",
            "  login: { awsRoleArn: 'arn:aws:iam::123456789012:role/acme-ci' }",
        ),
    ] {
        let loaded = manifest_with(host, namespace, login, "  keyless: {}");
        let (app, job, verify) = image_job_and_attestor(&loaded);
        // What Fulcio will certify: this workflow's file, in this repository, on the branch its
        // push trigger runs on.
        let branch = app["on"]["push"]["branches"][0].as_str().expect("branch");
        let certified = format!("https://github.com/acme/platform/.github/workflows/app.yaml@refs/heads/{branch}");
        let identity = &verify["attestor"]["keyless"]["identities"][0];
        assert_eq!(identity["subject"], certified.as_str(), "{host}");
        assert_eq!(identity["issuer"], "https://token.actions.githubusercontent.com");
        assert_eq!(job["permissions"]["id-token"], "write", "Fulcio needs the OIDC token");
        let script = sign_script(&job);
        assert!(
            script.contains("cosign sign --yes") && !script.contains("--key"),
            "{script}"
        );
        assert_eq!(verify["images"][0]["glob"], format!("{host}/{namespace}/app*").as_str());
        assert_eq!(app["env"]["IMAGE"], format!("{host}/{namespace}/app").as_str());
    }
}

#[test]
fn key_signing_signs_with_the_private_half_of_the_key_kyverno_admits() {
    // (registry, login, privateKey, the --key cosign gets, the secrets the step reads)
    for (host, login, private, key_ref, secrets) in [
        (
            "registry.example.org:5000",
            "",
            "",
            "env://COSIGN_PRIVATE_KEY",
            vec!["COSIGN_PRIVATE_KEY", "COSIGN_PASSWORD"],
        ),
        (
            "ghcr.io",
            "",
            "  privateKey: { secret: SIGNING_KEY }",
            "env://SIGNING_KEY",
            vec!["SIGNING_KEY", "COSIGN_PASSWORD"],
        ),
        (
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
            "  login: { awsRoleArn: 'arn:aws:iam::123456789012:role/acme-ci' }",
            "  privateKey: { kms: 'awskms:///alias/acme-cosign' }",
            "awskms:///alias/acme-cosign",
            vec![],
        ),
    ] {
        let signing = format!("  publicKey: |\n    {PUBLIC_KEY}\n{private}");
        let loaded = manifest_with(host, "acme", login, &signing);
        let (_, job, verify) = image_job_and_attestor(&loaded);
        let trusted = verify["attestor"]["key"]["data"].as_str().expect("a key attestor");
        let manifest_key = loaded.manifest.signing.public_key.as_deref().expect("key").trim();
        assert_eq!(trusted.trim(), manifest_key, "{host}");
        let script = sign_script(&job);
        assert!(script.contains(&format!("--key \"{key_ref}\"")), "{host}: {script}");
        let step = steps(&job)
            .iter()
            .find(|s| s["name"].as_str().is_some_and(|n| n.starts_with("Sign by digest")))
            .expect("sign step");
        for secret in &secrets {
            assert_eq!(
                step["env"][secret],
                format!("${{{{ secrets.{secret} }}}}").as_str(),
                "{host}"
            );
        }
        let env_keys = step["env"].as_object().expect("env").len();
        assert_eq!(env_keys, 1 + secrets.len(), "{host}: DIGEST and the key's secrets only");
        // Only the cloud login federates; a key signature needs no OIDC token.
        let federates = host.contains("amazonaws");
        assert_eq!(
            job["permissions"]["id-token"].as_str(),
            federates.then_some("write"),
            "{host}"
        );
    }
}

#[test]
fn each_registry_kind_logs_in_its_own_way() {
    let keyless = "  keyless: {}";
    // ghcr.io: the workflow's own token.
    let (_, job, _) = image_job_and_attestor(&manifest_with("ghcr.io", "acme", "", keyless));
    let login = uses(&job, "docker/login-action").expect("docker login");
    assert_eq!(login["with"]["registry"], "ghcr.io");
    assert_eq!(login["with"]["password"], "${{ secrets.GITHUB_TOKEN }}");

    // ECR: the role from the manifest through OIDC, then ECR's own login.
    let ecr = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";
    let (_, job, _) = image_job_and_attestor(&manifest_with(
        ecr,
        "acme",
        "  login: { awsRoleArn: 'arn:aws:iam::123456789012:role/acme-ci' }",
        keyless,
    ));
    let aws = uses(&job, "aws-actions/configure-aws-credentials").expect("aws credentials");
    assert_eq!(aws["with"]["role-to-assume"], "arn:aws:iam::123456789012:role/acme-ci");
    assert_eq!(aws["with"]["aws-region"], "eu-west-1");
    assert!(aws["with"]["aws-secret-access-key"].is_null(), "no stored key");
    let script = run_of(&job, "Log in to Amazon ECR");
    assert!(script.contains(&format!("--password-stdin {ecr}")), "{script}");
    assert!(uses(&job, "docker/login-action").is_none());

    // ACR: the Entra ID app's federated credential, then `az acr login`.
    let (_, job, _) = image_job_and_attestor(&manifest_with(
        "contoso.azurecr.io",
        "acme",
        "  login: { azureClientId: 5f0c2b8e-6a7d-4e1f-9b3c-2d4e6f8a0b1c, azureTenantId: 72f988bf-86f1-41af-91ab-2d7cd011db47, azureSubscriptionId: 0b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e }",
        keyless,
    ));
    let azure = uses(&job, "azure/login").expect("azure login");
    assert_eq!(azure["with"]["client-id"], "5f0c2b8e-6a7d-4e1f-9b3c-2d4e6f8a0b1c");
    assert!(azure["with"]["creds"].is_null(), "no stored secret");
    assert_eq!(
        run_of(&job, "Log in to Azure Container Registry"),
        "az acr login --name contoso"
    );

    // Artifact Registry: workload identity federation, then the short-lived access token.
    let (_, job, _) = image_job_and_attestor(&manifest_with(
        "europe-docker.pkg.dev",
        "acme/apps",
        "  login: { gcpWorkloadIdentityProvider: projects/1/locations/global/workloadIdentityPools/github/providers/github, gcpServiceAccount: ci@acme.iam.gserviceaccount.com }",
        keyless,
    ));
    let google = uses(&job, "google-github-actions/auth").expect("google auth");
    assert_eq!(google["with"]["token_format"], "access_token");
    assert_eq!(google["with"]["service_account"], "ci@acme.iam.gserviceaccount.com");
    let login = uses(&job, "docker/login-action").expect("docker login");
    assert_eq!(login["with"]["username"], "oauth2accesstoken");
    assert_eq!(
        login["with"]["password"],
        format!(
            "${{{{ steps.{}.outputs.access_token }}}}",
            google["id"].as_str().expect("id")
        )
        .as_str()
    );

    // Anything else: a user and password from named secrets.
    let (_, job, _) = image_job_and_attestor(&manifest_with(
        "registry.example.org:5000",
        "acme",
        "  login: { usernameSecret: HARBOR_USER }",
        &format!("  publicKey: |\n    {PUBLIC_KEY}"),
    ));
    let login = uses(&job, "docker/login-action").expect("docker login");
    assert_eq!(login["with"]["registry"], "registry.example.org:5000");
    assert_eq!(login["with"]["username"], "${{ secrets.HARBOR_USER }}");
    assert_eq!(login["with"]["password"], "${{ secrets.REGISTRY_PASSWORD }}");
}

#[test]
fn the_app_tests_get_their_database_and_redis_as_service_containers() {
    let files = rendered(&load("platform.yaml"), Layout::Repository);
    let app: Value =
        yaml_serde::from_str(std::str::from_utf8(&files[".github/workflows/app.yaml"]).expect("utf-8")).expect("yaml");
    let test = &app["jobs"]["test"];
    let services = test["services"].as_object().expect("services");
    assert!(
        services["postgres"]["image"]
            .as_str()
            .is_some_and(|i| i.starts_with("postgres:"))
    );
    assert!(
        services["valkey"]["image"]
            .as_str()
            .is_some_and(|i| i.starts_with("valkey/valkey:"))
    );
    assert_eq!(
        test["env"]["DATABASE_URL"],
        "postgres://postgres@127.0.0.1:5432/postgres"
    );
    assert_eq!(test["env"]["REDIS_URL"], "redis://127.0.0.1:6379");
    assert!(run_of(test, "Test").contains("cargo test -p app --locked"));
    assert_eq!(app["jobs"]["image"]["needs"], "test", "no image from untested code");
}

// ---- The CI Terraform root creates what the workflow logs in with ----

/// `key = "value"` arguments of `module "ci"` in a rendered `terraform/ci/main.tf`.
fn ci_module_arguments(main_tf: &str) -> BTreeMap<String, String> {
    let block = main_tf
        .split("module \"ci\" {")
        .nth(1)
        .and_then(|rest| rest.split("\n}").next())
        .expect("a module \"ci\" block");
    block
        .lines()
        .filter_map(|line| line.split_once(" = "))
        .map(|(k, v)| (k.trim().to_string(), v.trim().trim_matches('"').to_string()))
        .collect()
}

/// Variables a hand-written module declares, with whether each has a default.
fn module_variables(module: &str) -> BTreeMap<String, bool> {
    let text = std::fs::read_to_string(
        repository_root()
            .join("terraform/modules")
            .join(module)
            .join("variables.tf"),
    )
    .expect("variables.tf");
    text.split("variable \"")
        .skip(1)
        .map(|block| {
            let name = block.split('"').next().unwrap_or_default().to_string();
            let body = block.split("\n}").next().unwrap_or_default();
            (name, body.contains("\n  default "))
        })
        .collect()
}

#[test]
fn the_ci_terraform_creates_the_identity_the_workflow_logs_in_with() {
    for (example, module) in [
        ("examples/eks-three-envs.yaml", "ci-ecr"),
        ("examples/aks.yaml", "ci-acr"),
        ("examples/gke-central-mimir.yaml", "ci-artifact-registry"),
    ] {
        let files = rendered(&load(example), Layout::Repository);
        let main_tf = std::str::from_utf8(&files["terraform/ci/main.tf"]).expect("utf-8");
        let args = ci_module_arguments(main_tf);
        assert_eq!(args["source"], format!("../modules/{module}"), "{example}");
        // The call passes exactly what the module declares, and every variable it requires.
        let declared = module_variables(module);
        for name in args.keys().filter(|k| *k != "source") {
            assert!(declared.contains_key(name), "{example}: {module} declares no `{name}`");
        }
        for (name, has_default) in &declared {
            assert!(
                *has_default || args.contains_key(name),
                "{example}: {module} needs `{name}`"
            );
        }

        let app: Value =
            yaml_serde::from_str(std::str::from_utf8(&files[".github/workflows/app.yaml"]).expect("utf-8"))
                .expect("yaml");
        let job = &app["jobs"]["image"];
        // The identity trusts the repository the workflow runs in, on the branch it runs on.
        let repo = load(example).manifest.gitops.repo_url.clone();
        assert!(
            repo.contains(&format!(
                "github.com/{}/{}",
                args["github_owner"], args["github_repository"]
            )),
            "{example}"
        );
        assert_eq!(app["on"]["push"]["branches"][0], args["branch"].as_str(), "{example}");
        match module {
            "ci-ecr" => {
                let account = main_tf
                    .split("allowed_account_ids = [\"")
                    .nth(1)
                    .and_then(|r| r.split('"').next())
                    .expect("allowed account");
                let aws = uses(job, "aws-actions/configure-aws-credentials").expect("aws login");
                assert_eq!(
                    aws["with"]["role-to-assume"],
                    format!("arn:aws:iam::{account}:role/{}", args["role_name"]).as_str()
                );
                assert!(
                    sign_script(job).contains(&format!("--key \"awskms:///alias/{}\"", args["kms_alias"])),
                    "{example}: signs with the key the root creates"
                );
            }
            "ci-acr" => {
                let azure = uses(job, "azure/login").expect("azure login");
                let client = azure["with"]["client-id"].as_str().expect("client id");
                assert!(
                    main_tf.contains(&format!("module.ci.client_id == \"{client}\"")),
                    "{main_tf}"
                );
                assert_eq!(
                    run_of(job, "Log in to Azure Container Registry"),
                    format!("az acr login --name {}", args["name"])
                );
            }
            _ => {
                let google = uses(job, "google-github-actions/auth").expect("google auth");
                let provider = google["with"]["workload_identity_provider"].as_str().expect("provider");
                assert!(
                    main_tf.contains(&format!("module.ci.workload_identity_provider == \"{provider}\"")),
                    "{main_tf}"
                );
                assert!(provider.ends_with(&format!(
                    "/workloadIdentityPools/{}/providers/{}",
                    args["pool"], args["provider_id"]
                )));
                assert_eq!(
                    google["with"]["service_account"],
                    format!(
                        "{}@{}.iam.gserviceaccount.com",
                        args["service_account_id"], args["service_account_project"]
                    )
                    .as_str()
                );
            }
        }
    }
    // Nothing to create for ghcr.io (the workflow's token) or a registry of one's own.
    for example in ["platform.yaml", "examples/existing-cluster.yaml"] {
        let files = rendered(&load(example), Layout::Repository);
        assert!(files.keys().all(|p| !p.starts_with("terraform/ci/")), "{example}");
    }
}
