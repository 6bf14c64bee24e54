//! `platform outdated` and `platform update` against real sources on loopback: Helm repositories served by a real
//! HTTP server (Python's `http.server`) from the vendored charts of `../shared/upstream` with
//! their real metadata and archives, charts pushed as OCI artifacts to the real registry
//! (`docker-registry`), and two stand-ins, each serving only the one endpoint it plays: the
//! Terraform registry's version lists and GitHub's tag list (in the shape of the OpenAPI
//! description's example). Every source of the manifest is mirrored to them, so nothing
//! leaves the machine.

use std::collections::BTreeMap;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use oci_client::client::{Config, ImageLayer};
use oci_client::secrets::RegistryAuth;
use platform_cli::model::components::{Component, Source};
use regex::Regex;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use test_support::free_port;

use crate::support::charts::{chart_yaml, package, upstream};
use crate::support::cli::platform;
use crate::support::github::{GitHubStandIn, Prism, openapi_description};
use crate::support::{Registry, client, git, runtime, start_registry};

/// Releases that are not vendored but published in the test's sources: (chart, version, date).
const NEWER_CHARTS: [(&str, &str, &str); 3] = [
    ("argo-cd", "10.4.0", "2026-10-02"),
    ("argo-cd", "11.0.0", "2026-11-20"),
    ("nginx-gateway-fabric", "2.7.1", "2026-10-15"),
];

/// What the sources may get wrong.
#[derive(Debug, Default, Clone, Copy)]
struct Faults {
    /// argo-cd's repository serves an HTML page as its index.
    malformed_index: bool,
    /// kyverno's repository lists no charts.
    missing_chart: bool,
    /// GitHub and the Terraform registry refuse for the rate limit.
    rate_limited: bool,
    /// argo-cd 10.5.0 is published with its `dex` values renamed `dexServer`.
    renamed_key: bool,
}

/// A release that renamed a top-level key: (chart, version, date, old key, new key).
const RENAMED: (&str, &str, &str, &str, &str) = ("argo-cd", "10.5.0", "2026-11-02", "dex", "dexServer");

/// The sources, on loopback, and the flags that point `platform outdated` at them.
struct World {
    helm: Option<Child>,
    registry: Option<Registry>,
    stand_ins: Option<tokio::runtime::Runtime>,
    mirrors: Vec<String>,
    github: String,
    cache: tempfile::TempDir,
    _repos: tempfile::TempDir,
}

impl Drop for World {
    fn drop(&mut self) {
        self.stop();
    }
}

impl World {
    fn start(faults: Faults) -> Self {
        let repos = tempfile::tempdir().expect("temp dir");
        let registry = start_registry();
        let mut mirrors = Vec::new();
        let helm_port = free_port();
        // Each Helm repository of the table gets a folder, `repoN`, with its index and archives.
        let mut http_repositories: BTreeMap<&str, (String, Vec<Value>)> = BTreeMap::new();
        for component in Component::pinnable() {
            let Source::Chart {
                repository,
                chart,
                version,
                ..
            } = component.spec().source
            else {
                continue;
            };
            let mut releases = vec![(version.to_string(), released(chart, version))];
            releases.extend(
                NEWER_CHARTS
                    .iter()
                    .filter(|(c, ..)| *c == chart)
                    .map(|(_, v, d)| (v.to_string(), d.to_string())),
            );
            if faults.renamed_key && chart == RENAMED.0 {
                releases.push((RENAMED.1.to_string(), RENAMED.2.to_string()));
            }
            if repository.contains("://") {
                let count = http_repositories.len();
                let (folder, entries) = http_repositories.entry(repository).or_insert_with(|| {
                    let folder = format!("repo{count}");
                    mirrors.push(format!(
                        "{}=http://127.0.0.1:{helm_port}/{folder}",
                        repository.trim_end_matches('/')
                    ));
                    (folder, Vec::new())
                });
                let folder = repos.path().join(folder);
                std::fs::create_dir_all(&folder).expect("repository folder");
                for (v, date) in releases {
                    let archive = package(chart, version, &v, &folder, |copy| renamed(chart, &v, copy));
                    let mut entry = chart_yaml(chart, version);
                    entry["version"] = json!(v);
                    entry["created"] = json!(format!("{date}T00:00:00Z"));
                    entry["urls"] = json!([archive]);
                    entries.push(entry);
                }
            } else {
                // An OCI repository (`ghcr.io/nginx/charts`): the chart under its name there.
                let path = repository.split_once('/').map_or("", |(_, p)| p);
                mirrors.push(format!("oci://{repository}=http://127.0.0.1:{}/{path}", registry.port));
                for (v, _) in releases {
                    let archive = package(chart, version, &v, repos.path(), |copy| renamed(chart, &v, copy));
                    push_chart(
                        &registry,
                        &format!("{path}/{chart}:{v}"),
                        chart,
                        version,
                        &v,
                        &repos.path().join(archive),
                    );
                }
            }
        }
        for (folder, entries) in http_repositories.values() {
            let mut charts: BTreeMap<String, Vec<Value>> = BTreeMap::new();
            for entry in entries {
                charts
                    .entry(entry["name"].as_str().unwrap_or_default().to_string())
                    .or_default()
                    .push(entry.clone());
            }
            let index = json!({ "apiVersion": "v1", "entries": charts, "generated": "2026-12-01T00:00:00Z" });
            let mut text = yaml_serde::to_string(&index).expect("index.yaml");
            if faults.malformed_index && charts.contains_key("argo-cd") {
                text = "<!doctype html><title>Moved</title>".into();
            }
            if faults.missing_chart && charts.contains_key("kyverno") {
                text = "apiVersion: v1\nentries: {}\n".into();
            }
            std::fs::write(repos.path().join(folder).join("index.yaml"), text).expect("write index.yaml");
        }
        let helm = Process::new("python3")
            .args([
                "-m",
                "http.server",
                "--bind",
                "127.0.0.1",
                &helm_port.to_string(),
                "--directory",
            ])
            .arg(repos.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("python3 serves the repositories");
        wait_for(helm_port);
        let (stand_ins, terraform, github) = stand_ins(faults.rate_limited);
        mirrors.push(format!("https://registry.terraform.io={terraform}"));
        Self {
            helm: Some(helm),
            registry: Some(registry),
            stand_ins: Some(stand_ins),
            mirrors,
            github,
            cache: tempfile::tempdir().expect("temp dir"),
            _repos: repos,
        }
    }

    /// No source at all: every one mirrored to a closed loopback port.
    fn closed() -> Self {
        let closed = "http://127.0.0.1:9";
        Self {
            helm: None,
            registry: None,
            stand_ins: None,
            mirrors: Component::pinnable()
                .filter_map(|c| match c.spec().source {
                    Source::Chart { repository, .. } if repository.contains("://") => {
                        Some(format!("{}={closed}", repository.trim_end_matches('/')))
                    }
                    Source::Chart { repository, .. } => Some(format!("oci://{repository}={closed}")),
                    _ => None,
                })
                .chain([format!("https://registry.terraform.io={closed}")])
                .collect(),
            github: closed.into(),
            cache: tempfile::tempdir().expect("temp dir"),
            _repos: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// Stops every source; what the cache holds stays.
    fn stop(&mut self) {
        if let Some(mut helm) = self.helm.take() {
            let _ = helm.kill();
            let _ = helm.wait();
        }
        self.registry = None;
        if let Some(runtime) = self.stand_ins.take() {
            runtime.shutdown_background();
        }
    }

    /// `platform outdated` on `manifest` with `args`: (exit code, stdout, stderr).
    fn outdated(&self, manifest: &Path, args: &[&str]) -> (i32, String, String) {
        let mut cmd = platform();
        cmd.env("PLATFORM_TODAY", "2026-12-04")
            .env("PLATFORM_CACHE_DIR", self.cache.path())
            .env_remove("GITHUB_TOKEN")
            .args(["outdated", "-f"])
            .arg(manifest)
            .args(["--github-api-url", &self.github]);
        for mirror in &self.mirrors {
            cmd.args(["--mirror", mirror]);
        }
        let out = cmd.args(args).output().expect("runs");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

fn wait_for(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on 127.0.0.1:{port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The release date `../shared/upstream/index.json` records for a vendored chart.
fn released(chart: &str, version: &str) -> String {
    let index: Value =
        serde_json::from_slice(&std::fs::read(upstream().join("index.json")).expect("index.json")).expect("json");
    index["charts"]
        .as_array()
        .and_then(|charts| charts.iter().find(|c| c["path"] == format!("{chart}/{version}")))
        .and_then(|c| c["released"].as_str())
        .unwrap_or_else(|| panic!("{chart} {version} is not in ../shared/upstream/index.json"))
        .to_string()
}

/// The release [`RENAMED`] names gets its key renamed.
fn renamed(chart: &str, version: &str, copy: &Path) {
    if (chart, version) == (RENAMED.0, RENAMED.1) {
        rename_key(copy, RENAMED.3, RENAMED.4);
    }
}

/// Renames the top-level values key `from` to `to` in a chart folder: in values.yaml and in
/// every template that reads it, as a release that renamed it would.
fn rename_key(chart: &Path, from: &str, to: &str) {
    let values = chart.join("values.yaml");
    let text = std::fs::read_to_string(&values).expect("values.yaml");
    let renamed = text.replace(&format!("\n{from}:"), &format!("\n{to}:"));
    assert_ne!(text, renamed, "values.yaml declares {from}");
    std::fs::write(&values, renamed).expect("write values.yaml");
    for entry in walkdir::WalkDir::new(chart.join("templates")) {
        let entry = entry.expect("entry");
        if entry.file_type().is_file() {
            let text = std::fs::read_to_string(entry.path()).expect("template");
            let renamed = Regex::new(&format!(r"\.Values\.{from}\b"))
                .expect("pattern")
                .replace_all(&text, format!(".Values.{to}").as_str())
                .into_owned();
            std::fs::write(entry.path(), renamed).expect("write template");
        }
    }
}

/// Pushes a chart archive as Helm pushes one to an OCI registry: its Chart.yaml as the config
/// (`application/vnd.cncf.helm.config.v1+json`) and the archive as the one layer.
fn push_chart(registry: &Registry, reference: &str, chart: &str, vendored: &str, version: &str, archive: &Path) {
    let mut meta = chart_yaml(chart, vendored);
    meta["version"] = json!(version);
    let reference: oci_client::Reference = format!("127.0.0.1:{}/{reference}", registry.port)
        .parse()
        .expect("reference");
    let layer = ImageLayer::new(
        std::fs::read(archive).expect("archive"),
        "application/vnd.cncf.helm.chart.content.v1.tar+gzip".into(),
        None,
    );
    let config = Config::new(
        serde_json::to_vec(&meta).expect("json"),
        "application/vnd.cncf.helm.config.v1+json".into(),
        None,
    );
    runtime()
        .block_on(client().push(&reference, &[layer], config, &RegistryAuth::Anonymous, None))
        .expect("push the chart");
}

/// Tags each action's repository has in the GitHub stand-in, newest first as GitHub lists them.
fn action_tags() -> BTreeMap<String, Vec<String>> {
    BTreeMap::from([
        (
            "actions/checkout".to_string(),
            ["v5.0.0", "v4.3.0", "v4.2.2", "v4"].map(String::from).to_vec(),
        ),
        ("docker/login-action".to_string(), vec!["v3.4.0".to_string()]),
    ])
}

/// Version lists the Terraform registry stand-in serves: the modules' vendored releases with
/// newer ones, and each provider's.
fn terraform_versions() -> BTreeMap<String, Vec<&'static str>> {
    BTreeMap::from([
        (
            "modules/terraform-aws-modules/eks/aws".into(),
            vec!["21.19.0", "21.30.0", "22.0.0"],
        ),
        ("modules/terraform-aws-modules/vpc/aws".into(), vec!["6.6.0"]),
        ("modules/terraform-aws-modules/rds/aws".into(), vec!["7.2.0"]),
        (
            "modules/terraform-aws-modules/eks-pod-identity/aws".into(),
            vec!["2.8.0"],
        ),
        (
            "providers/hashicorp/aws".into(),
            vec!["6.28.0", "6.40.1", "7.2.0", "7.3.0-beta1"],
        ),
        ("providers/hashicorp/helm".into(), vec!["3.0.2", "3.1.0"]),
        ("providers/hashicorp/kubernetes".into(), vec!["3.1.0"]),
        ("providers/hashicorp/vault".into(), vec!["5.0.0", "5.4.0"]),
    ])
}

#[derive(Clone)]
struct StandIn {
    rate_limited: bool,
    tag_example: Arc<Value>,
    requests: Arc<Mutex<Vec<String>>>,
}

/// The Terraform registry's version endpoints and GitHub's tag list, on loopback: (runtime,
/// registry URL, GitHub API URL). Documented stand-ins: neither service runs here.
fn stand_ins(rate_limited: bool) -> (tokio::runtime::Runtime, String, String) {
    let spec: Value =
        serde_json::from_slice(&std::fs::read(openapi_description()).expect("GitHub's OpenAPI description"))
            .expect("json");
    let tag_example = spec["components"]["examples"]["tag-items"]["value"][0].clone();
    let state = StandIn {
        rate_limited,
        tag_example: Arc::new(tag_example),
        requests: Arc::default(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let mut urls = Vec::new();
    for app in [
        Router::new()
            .route("/v1/modules/{ns}/{name}/{provider}/versions", get(module_versions))
            .route("/v1/providers/{ns}/{kind}/versions", get(provider_versions))
            .with_state(state.clone()),
        Router::new()
            .route("/repos/{owner}/{repo}/tags", get(tags))
            .with_state(state.clone()),
    ] {
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        urls.push(format!("http://{}", listener.local_addr().expect("addr")));
        runtime.spawn(async move { axum::serve(listener, app).await });
    }
    (runtime, urls.remove(0), urls.remove(0))
}

fn limited(state: &StandIn) -> Option<(StatusCode, HeaderMap, String)> {
    state.rate_limited.then(|| {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", "30".parse().expect("header"));
        (StatusCode::TOO_MANY_REQUESTS, headers, "slow down".to_string())
    })
}

fn versions_of(key: &str) -> Option<Vec<Value>> {
    terraform_versions().get(key).map(|vs| {
        vs.iter()
            .map(|v| json!({ "version": v, "protocols": ["5.0"] }))
            .collect()
    })
}

async fn module_versions(
    State(state): State<StandIn>,
    UrlPath((ns, name, provider)): UrlPath<(String, String, String)>,
) -> (StatusCode, HeaderMap, String) {
    if let Some(refused) = limited(&state) {
        return refused;
    }
    match versions_of(&format!("modules/{ns}/{name}/{provider}")) {
        Some(versions) => (
            StatusCode::OK,
            HeaderMap::new(),
            json!({ "modules": [{ "source": format!("{ns}/{name}/{provider}"), "versions": versions }] }).to_string(),
        ),
        None => (
            StatusCode::NOT_FOUND,
            HeaderMap::new(),
            r#"{"errors":["Not Found"]}"#.into(),
        ),
    }
}

async fn provider_versions(
    State(state): State<StandIn>,
    UrlPath((ns, kind)): UrlPath<(String, String)>,
) -> (StatusCode, HeaderMap, String) {
    if let Some(refused) = limited(&state) {
        return refused;
    }
    match versions_of(&format!("providers/{ns}/{kind}")) {
        Some(versions) => (
            StatusCode::OK,
            HeaderMap::new(),
            json!({ "id": format!("{ns}/{kind}"), "versions": versions }).to_string(),
        ),
        None => (
            StatusCode::NOT_FOUND,
            HeaderMap::new(),
            r#"{"errors":["Not Found"]}"#.into(),
        ),
    }
}

async fn tags(
    State(state): State<StandIn>,
    UrlPath((owner, repo)): UrlPath<(String, String)>,
) -> (StatusCode, HeaderMap, String) {
    state.requests.lock().expect("lock").push(format!("{owner}/{repo}"));
    if state.rate_limited {
        let mut headers = HeaderMap::new();
        headers.insert("x-ratelimit-remaining", "0".parse().expect("header"));
        let body = json!({
            "message": "API rate limit exceeded for 127.0.0.1.",
            "documentation_url": "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"
        });
        return (StatusCode::FORBIDDEN, headers, body.to_string());
    }
    let names = action_tags().remove(&format!("{owner}/{repo}")).unwrap_or_default();
    let items: Vec<Value> = names
        .iter()
        .map(|name| {
            let mut tag = (*state.tag_example).clone();
            tag["name"] = json!(name);
            tag
        })
        .collect();
    (StatusCode::OK, HeaderMap::new(), Value::Array(items).to_string())
}

fn manifest() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../platform.yaml")
}

fn rows(json_out: &str) -> BTreeMap<String, Value> {
    let rows: Vec<Value> = serde_json::from_str(json_out).unwrap_or_else(|e| panic!("{e}: {json_out}"));
    rows.into_iter()
        .map(|r| (r["what"].as_str().unwrap_or_default().to_string(), r))
        .collect()
}

#[test]
fn each_pin_is_reported_with_the_newest_release_in_its_range_and_at_all_and_reruns_read_the_cache() {
    let mut world = World::start(Faults::default());
    let (code, out, err) = world.outdated(&manifest(), &["--output", "json"]);
    assert_eq!(code, 0, "{out}{err}");
    let rows = rows(&out);
    let tag = |what: &str, field: &str| {
        rows.get(what).unwrap_or_else(|| panic!("no row {what}: {out}"))[field]["tag"]
            .as_str()
            .map(String::from)
    };
    // A Helm repository: the vendored release pinned, a newer minor and a new major published.
    assert_eq!(rows["chart argo-cd"]["pinned"], "10.1.1");
    assert_eq!(
        rows["chart argo-cd"]["newest_in_range"],
        json!({ "tag": "10.4.0", "date": "2026-10-02" })
    );
    assert_eq!(
        rows["chart argo-cd"]["newest"],
        json!({ "tag": "11.0.0", "date": "2026-11-20" })
    );
    assert_eq!(rows["chart argo-cd"]["range"], ">=10.1.1, <11.0.0");
    assert_eq!(rows["chart argo-cd"]["support"], json!({ "status": "supported" }));
    assert_eq!(rows["chart argo-cd"]["used_by"], json!(["dev", "staging", "prod"]));
    // Current: the newest is what is pinned, with the release date the repository says.
    assert_eq!(
        rows["chart kyverno"]["newest"],
        json!({ "tag": "3.9.0", "date": "2026-08-20" })
    );
    // OCI registries: the tags of the pushed chart artifacts.
    assert_eq!(tag("chart nginx-gateway-fabric", "newest").as_deref(), Some("2.7.1"));
    assert_eq!(tag("chart karpenter", "newest").as_deref(), Some("1.14.1"));
    // The Terraform registry: a pre-release is not the newest.
    assert_eq!(
        tag("provider hashicorp/aws", "newest_in_range").as_deref(),
        Some("6.40.1")
    );
    assert_eq!(tag("provider hashicorp/aws", "newest").as_deref(), Some("7.2.0"));
    assert_eq!(
        tag("module terraform-aws-modules/eks/aws", "newest_in_range").as_deref(),
        Some("21.30.0")
    );
    assert_eq!(
        tag("module terraform-aws-modules/eks/aws", "newest").as_deref(),
        Some("22.0.0")
    );
    // GitHub's tags; a tag that is not a version (`v4`) is not a release.
    assert_eq!(
        tag("action actions/checkout", "newest_in_range").as_deref(),
        Some("v4.3.0")
    );
    assert_eq!(tag("action actions/checkout", "newest").as_deref(), Some("v5.0.0"));
    // No network for these: the provider's calendar, and the chart this binary ships.
    assert_eq!(
        rows["kubernetes (eks)"]["support"],
        json!({ "status": "supported", "until": "2028-03-27" })
    );
    assert_eq!(tag("kubernetes (eks)", "newest").as_deref(), Some("1.35"));
    assert!(rows.values().all(|r| r.get("error").is_none()), "{out}");

    let (code, text, _) = world.outdated(&manifest(), &["--output", "text"]);
    assert_eq!(code, 0);
    let argo = text
        .lines()
        .find(|l| l.starts_with("chart argo-cd "))
        .expect("argo-cd's line");
    assert!(
        argo.contains("10.4.0 (2026-10-02) [>=10.1.1, <11.0.0]") && argo.contains("11.0.0 (2026-11-20) *"),
        "{argo}"
    );
    assert!(text.starts_with("WHAT "), "{text}");
    let (code, markdown, _) = world.outdated(&manifest(), &["--output", "markdown", "--env", "prod"]);
    assert_eq!(code, 0);
    assert!(
        markdown.starts_with("| what | pinned | newest in range | newest | support | used by |\n| --- |"),
        "{markdown}"
    );
    assert!(markdown.contains("| chart argo-cd | 10.1.1 |"), "{markdown}");

    // Every source stopped: within the cache's time the same report comes from the cache.
    world.stop();
    let (code, cached, err) = world.outdated(&manifest(), &["--output", "json"]);
    assert_eq!((code, cached.as_str()), (0, out.as_str()), "{err}");
    // Read again, nothing answers: each row says so, the run exits 2, the cache keeps its
    // last good answers.
    let (code, unread, _) = world.outdated(&manifest(), &["--output", "text", "--cache-minutes", "0"]);
    assert_eq!(code, 2, "{unread}");
    let argo_repo = world
        .mirrors
        .iter()
        .find(|m| m.starts_with("https://argoproj"))
        .expect("argo's mirror");
    let argo_index = format!("{}/index.yaml", argo_repo.split_once('=').map_or("", |(_, to)| to));
    assert!(
        unread.contains(&format!("not read: chart argo-cd: {argo_index}: unreachable (")),
        "{unread}"
    );
    let (code, again, _) = world.outdated(&manifest(), &["--output", "json"]);
    assert_eq!((code, again.as_str()), (0, out.as_str()));
}

#[test]
fn a_malformed_index_a_missing_chart_and_rate_limits_are_named_and_exit_2() {
    let world = World::start(Faults {
        malformed_index: true,
        missing_chart: true,
        rate_limited: true,
        renamed_key: false,
    });
    let (code, out, err) = world.outdated(&manifest(), &["--output", "text"]);
    assert_eq!(code, 2, "{out}{err}");
    let mirror_of = |from: &str| {
        world
            .mirrors
            .iter()
            .find(|m| m.starts_with(from))
            .and_then(|m| m.split_once('='))
            .map(|(_, to)| to.to_string())
            .expect("a mirror")
    };
    for expected in [
        format!(
            "not read: chart argo-cd: {}/index.yaml: not a Helm repository index (",
            mirror_of("https://argoproj")
        ),
        format!(
            "not read: chart kyverno: {}/index.yaml: no chart named kyverno (the repository has no charts)",
            mirror_of("https://kyverno")
        ),
        format!(
            "not read: provider hashicorp/aws: {}/v1/providers/hashicorp/aws/versions: rate limited (retry after 30 s)",
            mirror_of("https://registry.terraform.io")
        ),
        format!(
            "not read: action actions/checkout: {}/repos/actions/checkout/tags: rate limited",
            world.github
        ),
    ] {
        assert!(out.contains(&expected), "{expected}\n{out}");
    }
    // An answer that did not parse is never kept; a good one is (an index without the chart
    // is a good answer).
    let kept = |url: String| {
        let name: String = Sha256::digest(url.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        world.cache.path().join("outdated").join(name).exists()
    };
    assert!(!kept(format!("{}/index.yaml", mirror_of("https://argoproj"))));
    assert!(kept(format!("{}/index.yaml", mirror_of("https://charts.jetstack.io"))));
}

#[test]
fn a_pin_past_its_support_is_reported_where_validate_refuses_it_and_exits_1() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = std::fs::read_to_string(manifest()).expect("platform.yaml").replacen(
        "kubernetesVersion: \"1.35\"",
        "kubernetesVersion: \"1.31\"",
        1,
    );
    let file = dir.path().join("platform.yaml");
    std::fs::write(&file, text).expect("write");
    let validate = platform()
        .env("PLATFORM_TODAY", "2026-12-04")
        .args(["validate", "-f"])
        .arg(&file)
        .output()
        .expect("runs");
    assert_eq!(validate.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&validate.stderr).contains("manifest::unsupported"));
    // Only dev pins 1.31.
    let world = World::closed();
    let (code, out, err) = world.outdated(&file, &["--env", "dev", "--output", "json"]);
    assert_eq!(code, 1, "{out}{err}");
    let rows = rows(&out);
    assert_eq!(
        rows["kubernetes (eks)"]["support"],
        json!({ "status": "ended", "ended": "2026-11-26" })
    );
    assert_eq!(rows["kubernetes (eks)"]["used_by"], json!(["dev"]));
    let (_, _, err) = world.outdated(&file, &["--env", "qa"]);
    assert!(err.contains("no environment named \"qa\""), "{err}");
}

#[test]
fn the_tags_request_follows_githubs_api_contract() {
    let prism = Prism::start();
    let mut world = World::closed();
    world.github = format!("http://127.0.0.1:{}", prism.port);
    let (_, out, err) = world.outdated(&manifest(), &["--output", "json"]);
    let rows = rows(&out);
    // Prism answers GitHub's example, a tag `v0.1` that is no version: no release, no error.
    let checkout = &rows["action actions/checkout"];
    assert_eq!(
        (checkout.get("error"), &checkout["newest"]),
        (None, &Value::Null),
        "{out}{err}"
    );
    let log = std::fs::read_to_string(&prism.log).expect("prism log");
    let actions = rows.keys().filter(|w| w.starts_with("action ")).count();
    let passed = log
        .lines()
        .filter(|l| l.contains("The request passed the validation rules"))
        .count();
    let refused: Vec<&str> = log.lines().filter(|l| l.contains("Violation: request")).collect();
    assert!(
        passed >= actions && actions > 0,
        "{passed} of {actions} tag requests validated:\n{log}"
    );
    assert!(refused.is_empty(), "{refused:#?}");
}

const TOKEN: &str = "ghp_update_tests";

/// A GitOps repository holding `platform.yaml` and its rendered tree, pushed to a bare `origin`.
fn gitops_repo(work: &Path) -> (PathBuf, PathBuf) {
    let origin = work.join("origin.git");
    let repo = work.join("repo");
    git(
        work,
        &["init", "--quiet", "--bare", "-b", "main", &origin.to_string_lossy()],
    );
    git(work, &["init", "--quiet", "-b", "main", &repo.to_string_lossy()]);
    git(&repo, &["config", "user.email", "platform@example.com"]);
    git(&repo, &["config", "user.name", "platform tests"]);
    git(&repo, &["remote", "add", "origin", &origin.to_string_lossy()]);
    std::fs::copy(manifest(), repo.join("platform.yaml")).expect("copy platform.yaml");
    let render = platform()
        .current_dir(&repo)
        .args(["render", "-f", "platform.yaml"])
        .output()
        .expect("render");
    assert!(render.status.success(), "{}", String::from_utf8_lossy(&render.stderr));
    git(&repo, &["add", "--all"]);
    git(&repo, &["commit", "--quiet", "-m", "platform"]);
    git(&repo, &["push", "--quiet", "origin", "main"]);
    (repo, origin)
}

impl World {
    /// `platform update` in `repo`, with the sources mirrored: (exit code, stdout, stderr).
    fn update(&self, repo: &Path, api: &str, token: Option<&str>, args: &[&str]) -> (i32, String, String) {
        let mut cmd = platform();
        cmd.current_dir(repo)
            .env("PLATFORM_TODAY", "2026-12-04")
            .env("PLATFORM_CACHE_DIR", self.cache.path())
            .env_remove("GITHUB_TOKEN")
            .env_remove("GITHUB_API_URL")
            .args(["update", "-f", "platform.yaml", "--github-api-url", api]);
        if let Some(token) = token {
            cmd.env("GITHUB_TOKEN", token);
        }
        for mirror in &self.mirrors {
            cmd.args(["--mirror", mirror]);
        }
        let out = cmd.args(args).output().expect("runs");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

fn remote_branches(origin: &Path) -> String {
    git(origin, &["branch", "--list"])
}

#[test]
fn an_update_whose_new_chart_renamed_a_key_the_values_use_is_refused_naming_the_key() {
    let world = World::start(Faults {
        renamed_key: true,
        ..Faults::default()
    });
    let work = tempfile::tempdir().expect("temp dir");
    let (repo, origin) = gitops_repo(work.path());
    let github = GitHubStandIn::start(TOKEN);
    let (code, out, err) = world.update(&repo, &github.url, Some(TOKEN), &["argoCd@10.5.0"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("refusing argo-cd 10.5.0 for dev: the new chart would ignore or refuse 1 of its values:"),
        "{err}"
    );
    assert!(
        err.contains("dex: neither the chart's values.yaml declares it nor a template reads it: Helm ignores it"),
        "{err}"
    );
    assert!(
        err.contains("move the values template (templates/helm/argo-cd.yaml.tera) to what 10.5.0 reads"),
        "{err}"
    );
    // Without a version, the newest in the range is that same release: refused alike.
    let (code, _, err) = world.update(&repo, &github.url, Some(TOKEN), &["argoCd", "--dry-run"]);
    assert_eq!(code, 1);
    assert!(err.contains("refusing argo-cd 10.5.0 for dev"), "{err}");
    // A release past the range, and one that does not exist.
    let (code, _, err) = world.update(&repo, &github.url, Some(TOKEN), &["argoCd@11.0.0"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("argo-cd 11.0.0 is outside the range the platform's values are written for (>=10.1.1, <11.0.0)"),
        "{err}"
    );
    let (code, _, err) = world.update(&repo, &github.url, Some(TOKEN), &["argoCd@10.9.9"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("argo-cd has no release 10.9.9 at https://argoproj.github.io/argo-helm"),
        "{err}"
    );
    let (code, _, err) = world.update(&repo, &github.url, Some(TOKEN), &["argoCdd"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("\"argoCdd\" is not a component with a chart; one of: externalSecrets, argoCd,"),
        "{err}"
    );
    // Nothing changed: no commit, no branch, no pull request, the checkout untouched.
    assert_eq!(git(&repo, &["status", "--porcelain"]), "");
    assert_eq!(remote_branches(&origin), "* main");
    assert!(github.prs.lock().expect("lock").is_empty());
}

#[test]
fn a_clean_update_opens_a_pull_request_that_explains_every_rendered_difference_by_the_pin() {
    let mut world = World::start(Faults::default());
    let work = tempfile::tempdir().expect("temp dir");
    let (repo, origin) = gitops_repo(work.path());
    let github = GitHubStandIn::start(TOKEN);

    // A dry run of every component: argo-cd (a Helm repository) and nginx-gateway-fabric (an
    // OCI registry) have newer releases in their ranges; the rest are current.
    let (code, out, err) = world.update(&repo, &github.url, None, &["--dry-run"]);
    assert_eq!(code, 0, "{out}{err}");
    let titles: Vec<&str> = out.lines().filter(|l| l.starts_with("Update ")).collect();
    assert_eq!(
        titles,
        [
            "Update argo-cd 10.1.1 → 10.4.0 in dev",
            "Update nginx-gateway-fabric 2.6.7 → 2.7.1 in dev"
        ],
        "{out}"
    );
    assert!(github.prs.lock().expect("lock").is_empty());

    let (code, out, err) = world.update(&repo, &github.url, Some(TOKEN), &["argoCd@10.4.0"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("pull request #1"), "{out}");
    let prs = github.prs.lock().expect("lock").clone();
    assert_eq!(prs.len(), 1);
    let pr = &prs[0];
    assert_eq!((pr.head.as_str(), pr.base.as_str()), ("update/dev/argoCd", "main"));
    assert_eq!(pr.title, "Update argo-cd 10.1.1 → 10.4.0 in dev");
    for expected in [
        "| `components/argoCd/chartVersion` | `10.1.1` | `10.4.0` |",
        // The release's own changelog (its Chart.yaml's artifacthub.io/changes).
        "- fixed: Apply applicationSet NetworkPolicy webhook rule for httproute",
        "### Checks\n\n`helm/values/dev/argo-cd.yaml` checked against argo-cd 10.4.0: every key is one the chart declares or a template reads",
        "0 unexplained",
    ] {
        assert!(pr.body.contains(expected), "{expected}\n{}", pr.body);
    }
    assert!(
        !pr.body.contains("0 pins not yet promoted"),
        "the pin explains the differences:\n{}",
        pr.body
    );
    // The branch holds the pin and the tree rendered from it; the checkout is untouched.
    let pushed = git(&origin, &["show", "update/dev/argoCd:platform.yaml"]);
    let dev = &pushed[pushed.find("- name: dev").expect("dev")..pushed.find("- name: staging").expect("staging")];
    assert!(dev.contains("chartVersion: 10.4.0"), "{dev}");
    let application = git(&origin, &["show", "update/dev/argoCd:argocd/dev/apps/argo-cd.yaml"]);
    assert!(application.contains("targetRevision: \"10.4.0\""), "{application}");
    assert_eq!(git(&repo, &["status", "--porcelain"]), "");

    // An unreachable repository: a clear error, nothing pushed.
    world.stop();
    let (code, _, err) = world.update(&repo, &github.url, Some(TOKEN), &["argoCd@10.4.0", "--env", "staging"]);
    assert_eq!(code, 1);
    assert!(
        err.contains(".tgz: unreachable ("),
        "the index is cached, the archive is not: {err}"
    );
    assert_eq!(remote_branches(&origin), "* main\n  update/dev/argoCd");
}
