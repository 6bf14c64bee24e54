//! A stateful local stand-in for the three GitHub pull-request endpoints promotion uses
//! (list open, create, update), for flows that need memory: no GitHub is reachable here, and
//! [`Prism`] (which validates requests against GitHub's real contract) keeps no state. Responses are GitHub's own pull-request example from @octokit/openapi, with the
//! fields that matter filled in.

use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command as Process};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, patch};
use axum::{Json, Router};
use serde_json::{Value, json};
use test_support::free_port;

/// Where scripts/test installs GitHub's OpenAPI description (npm @octokit/openapi).
pub fn openapi_description() -> PathBuf {
    std::env::var_os("PLATFORM_GITHUB_OPENAPI")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var("HOME").expect("HOME"))
                .join(".cache/platform-tools/prism/node_modules/@octokit/openapi/generated/api.github.com.json")
        })
}

#[derive(Debug, Clone)]
pub struct Pr {
    pub number: u64,
    pub title: String,
    pub body: String,
    pub head: String,
    pub base: String,
}

#[derive(Clone)]
struct Shared {
    token: String,
    example: Arc<Value>,
    prs: Arc<Mutex<Vec<Pr>>>,
    addr: SocketAddr,
}

pub struct GitHubStandIn {
    pub url: String,
    pub prs: Arc<Mutex<Vec<Pr>>>,
    _runtime: tokio::runtime::Runtime,
}

impl GitHubStandIn {
    /// Serves on a loopback port, accepting only `token`.
    pub fn start(token: &str) -> Self {
        let spec: Value = serde_json::from_slice(
            &std::fs::read(openapi_description())
                .expect("GitHub's OpenAPI description (npm @octokit/openapi; scripts/test installs it)"),
        )
        .expect("json");
        let example = spec["components"]["examples"]["pull-request"]["value"].clone();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("rt");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let prs = Arc::new(Mutex::new(Vec::new()));
        let shared = Shared {
            token: token.into(),
            example: Arc::new(example),
            prs: prs.clone(),
            addr,
        };
        let app = Router::new()
            .route("/repos/{owner}/{repo}/pulls", get(list).post(create))
            .route("/repos/{owner}/{repo}/pulls/{number}", patch(update))
            .with_state(shared);
        runtime.spawn(async move { axum::serve(listener, app).await });
        Self {
            url: format!("http://{addr}"),
            prs,
            _runtime: runtime,
        }
    }
}

fn authorized(shared: &Shared, headers: &HeaderMap) -> Result<(), (StatusCode, Json<Value>)> {
    let expected = format!("Bearer {}", shared.token);
    if headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(expected.as_str()) {
        Ok(())
    } else {
        Err((
            StatusCode::UNAUTHORIZED,
            Json(
                json!({ "message": "Bad credentials", "documentation_url": "https://docs.github.com/rest", "status": "401" }),
            ),
        ))
    }
}

fn render(shared: &Shared, owner: &str, repo: &str, pr: &Pr) -> Value {
    let mut v = (*shared.example).clone();
    v["number"] = json!(pr.number);
    v["title"] = json!(pr.title);
    v["body"] = json!(pr.body);
    v["state"] = json!("open");
    v["html_url"] = json!(format!("http://{}/{owner}/{repo}/pull/{}", shared.addr, pr.number));
    v["head"]["ref"] = json!(pr.head);
    v["base"]["ref"] = json!(pr.base);
    v
}

type Reply = Result<Json<Value>, (StatusCode, Json<Value>)>;

async fn list(
    State(shared): State<Shared>,
    Path((owner, repo)): Path<(String, String)>,
    Query(query): Query<std::collections::HashMap<String, String>>,
    headers: HeaderMap,
) -> Reply {
    authorized(&shared, &headers)?;
    let head = query.get("head").cloned().unwrap_or_default();
    let prs = shared.prs.lock().expect("lock").clone();
    let matching: Vec<Value> = prs
        .iter()
        .filter(|pr| head.is_empty() || head == format!("{owner}:{}", pr.head))
        .map(|pr| render(&shared, &owner, &repo, pr))
        .collect();
    Ok(Json(Value::Array(matching)))
}

async fn create(
    State(shared): State<Shared>,
    Path((owner, repo)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<(StatusCode, Json<Value>), (StatusCode, Json<Value>)> {
    authorized(&shared, &headers)?;
    let pr = {
        let mut prs = shared.prs.lock().expect("lock");
        let pr = Pr {
            number: prs.len() as u64 + 1,
            title: body["title"].as_str().unwrap_or_default().into(),
            body: body["body"].as_str().unwrap_or_default().into(),
            head: body["head"].as_str().unwrap_or_default().into(),
            base: body["base"].as_str().unwrap_or_default().into(),
        };
        prs.push(pr.clone());
        pr
    };
    Ok((StatusCode::CREATED, Json(render(&shared, &owner, &repo, &pr))))
}

async fn update(
    State(shared): State<Shared>,
    Path((owner, repo, number)): Path<(String, String, u64)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Reply {
    authorized(&shared, &headers)?;
    let mut prs = shared.prs.lock().expect("lock");
    let pr = prs.iter_mut().find(|p| p.number == number).ok_or((
        StatusCode::NOT_FOUND,
        Json(json!({ "message": "Not Found", "documentation_url": "https://docs.github.com/rest", "status": "404" })),
    ))?;
    if let Some(title) = body["title"].as_str() {
        pr.title = title.into();
    }
    if let Some(text) = body["body"].as_str() {
        pr.body = text.into();
    }
    Ok(Json(render(&shared, &owner, &repo, pr)))
}

/// Prism serving GitHub's OpenAPI description: it validates every request against the
/// contract (an invalid one gets an error status, so the promotion would fail) and logs its
/// verdict, which the test reads. (Not `--errors`: GitHub's own examples do not always match
/// GitHub's response schemas, and that flag fails those responses too.)
pub struct Prism {
    child: Child,
    pub port: u16,
    /// Its log: each request's validation verdict.
    pub log: PathBuf,
}

impl Drop for Prism {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The paths of GitHub's API the toolkit calls: promotion's pull requests and `outdated`'s tags.
const PATHS_CALLED: [&str; 3] = [
    "/repos/{owner}/{repo}/pulls",
    "/repos/{owner}/{repo}/pulls/{pull_number}",
    "/repos/{owner}/{repo}/tags",
];

/// GitHub's OpenAPI description cut to [`PATHS_CALLED`] and every component they reference,
/// written once per test process (in target/tmp). Prism checks a request against the same operation either
/// way; reading the whole 13 MB description took it about 30 s each start. A call to any other
/// path gets Prism's 404, so a new endpoint fails the tests until it is listed here.
fn description_of_paths_called() -> &'static std::path::Path {
    static CUT: std::sync::LazyLock<PathBuf> = std::sync::LazyLock::new(|| {
        let whole: Value = serde_json::from_slice(&std::fs::read(openapi_description()).expect("GitHub's description"))
            .expect("GitHub's description is JSON");
        let mut paths = serde_json::Map::new();
        for path in PATHS_CALLED {
            paths.insert(path.into(), whole["paths"][path].clone());
        }
        // Every component reachable from those paths, following `$ref`s to a fixed point.
        let mut components = json!({});
        let mut pending: Vec<Value> = paths.values().cloned().collect();
        while let Some(node) = pending.pop() {
            match node {
                Value::Object(map) => {
                    if let Some(Value::String(target)) = map.get("$ref")
                        && let Some(["components", kind, name]) = target
                            .strip_prefix("#/")
                            .map(|t| t.split('/').collect::<Vec<_>>())
                            .as_deref()
                        && components[kind].get(name).is_none()
                    {
                        let component = whole["components"][kind][name].clone();
                        assert!(!component.is_null(), "{target} is in GitHub's description");
                        components[kind][name] = component.clone();
                        pending.push(component);
                    }
                    pending.extend(map.into_values());
                }
                Value::Array(items) => pending.extend(items),
                _ => {}
            }
        }
        let cut = json!({
            "openapi": whole["openapi"],
            "info": whole["info"],
            "servers": whole["servers"],
            "paths": paths,
            "components": components,
        });
        // Written aside and renamed: another test process may be reading the last one.
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        let aside = dir.join(format!("github-paths-called.{}", std::process::id()));
        std::fs::write(&aside, serde_json::to_vec(&cut).expect("JSON")).expect("write the description");
        let file = dir.join("github-paths-called.json");
        std::fs::rename(&aside, &file).expect("rename the description");
        file
    });
    &CUT
}

impl Prism {
    pub fn start() -> Self {
        let spec = openapi_description();
        let prism = spec
            .ancestors()
            .find(|p| p.ends_with("node_modules"))
            .map(|p| p.join(".bin/prism"))
            .expect("prism next to @octokit/openapi (scripts/test installs both)");
        let port = free_port();
        let log_path = std::env::temp_dir().join(format!("prism-{port}.log"));
        let log = std::fs::File::create(&log_path).expect("log");
        let child = Process::new(prism)
            .args(["mock", "-h", "127.0.0.1", "-p", &port.to_string()])
            .arg(description_of_paths_called())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("prism runs");
        let deadline = Instant::now() + Duration::from_secs(120);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "prism did not listen on {port}");
            std::thread::sleep(Duration::from_millis(200));
        }
        Self {
            child,
            port,
            log: log_path,
        }
    }
}
