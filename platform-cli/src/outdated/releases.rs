//! Where each pin's releases are published, read as their publishers serve them: a Helm
//! repository's `index.yaml`, an OCI registry's tag list (charts pushed as OCI artifacts), the
//! Terraform registry's version lists, and GitHub's tags of an action. Each source is read once
//! per run and kept in [`super::cache`] for a while; a failed read is never kept.

use std::collections::BTreeMap;
use std::time::Duration;

use semver::Version;
use serde::Deserialize;

use super::cache::Cache;
use super::inventory::Subject;

/// One published release.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Release {
    /// As published (`v1.21.1`).
    pub tag: String,
    #[serde(skip)]
    pub version: Version,
    /// When it was published, where the source says (`2026-08-20`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
}

/// Why a source's releases could not be read.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum FetchError {
    #[error("{url}: unreachable ({reason})")]
    #[diagnostic(help("check the address and the network; with a mirror, pass --mirror FROM=TO"))]
    Unreachable { url: String, reason: String },
    #[error("{url}: rate limited{}", retry_after.as_ref().map(|r| format!(" (retry after {r})")).unwrap_or_default())]
    #[diagnostic(help("wait and run again (what was read is cached); for GitHub, set GITHUB_TOKEN"))]
    RateLimited { url: String, retry_after: Option<String> },
    #[error("{url}: HTTP {status}")]
    #[diagnostic(help("the source refused the request; check the repository address"))]
    Status { url: String, status: u16 },
    #[error("{url}: not {what} ({reason})")]
    #[diagnostic(help("the source answered with something else; check the repository address"))]
    Malformed {
        url: String,
        what: &'static str,
        reason: String,
    },
    #[error("{url}: no chart named {chart} (the repository has {listed})")]
    #[diagnostic(help("the chart may have moved to another repository: check its documentation"))]
    NoChart { url: String, chart: String, listed: String },
}

/// Where to read a source instead of where it is published: a mirror, or a test's server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mirror {
    pub from: String,
    pub to: String,
}

impl std::str::FromStr for Mirror {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (from, to) = s
            .split_once('=')
            .filter(|(f, t)| !f.is_empty() && !t.is_empty())
            .ok_or_else(|| {
                format!("{s:?} is not FROM=TO, e.g. https://charts.jetstack.io=https://mirror.example/jetstack")
            })?;
        Ok(Self {
            from: from.into(),
            to: to.into(),
        })
    }
}

/// What to read for one subject: pins that share a source read it once.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Key {
    HelmIndex(String),
    OciTags(String),
    TerraformModule(String),
    TerraformProvider(String),
    GitHubTags { owner: String, repo: String },
}

/// The public Terraform registry (its module and provider version lists, `/v1/...`).
pub const TERRAFORM_REGISTRY: &str = "https://registry.terraform.io";

/// Reads sources, with mirrors applied and a cache in front.
#[derive(Debug)]
pub struct Fetcher {
    http: reqwest::Client,
    mirrors: Vec<Mirror>,
    cache: Cache,
    github_api: String,
    github_token: Option<String>,
}

impl Fetcher {
    pub fn new(mirrors: Vec<Mirror>, cache: Cache, github_api: String, github_token: Option<String>) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .user_agent(concat!("platform/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Self {
            http,
            mirrors,
            cache,
            github_api,
            github_token,
        }
    }

    /// `url` with the first mirror whose FROM it starts with applied.
    pub fn mirrored(&self, url: &str) -> String {
        self.mirrors
            .iter()
            .find_map(|m| url.strip_prefix(&m.from).map(|rest| format!("{}{rest}", m.to)))
            .unwrap_or_else(|| url.to_string())
    }

    /// What to read for `subject`; `None` for what needs no network (Kubernetes, the app chart).
    pub fn key(&self, subject: &Subject) -> Option<Key> {
        Some(match subject {
            Subject::Chart { repository, chart, .. } if repository.contains("://") => {
                Key::HelmIndex(self.mirrored(&format!("{}/index.yaml", repository.trim_end_matches('/'))))
            }
            Subject::Chart { repository, chart, .. } => {
                Key::OciTags(self.mirrored(&format!("oci://{repository}/{chart}")))
            }
            Subject::TerraformModule { source } => {
                Key::TerraformModule(self.mirrored(&format!("{TERRAFORM_REGISTRY}/v1/modules/{source}/versions")))
            }
            Subject::TerraformProvider { source } => {
                Key::TerraformProvider(self.mirrored(&format!("{TERRAFORM_REGISTRY}/v1/providers/{source}/versions")))
            }
            Subject::Action { repository } => {
                let (owner, repo) = repository.split_once('/')?;
                Key::GitHubTags {
                    owner: owner.into(),
                    repo: repo.into(),
                }
            }
            Subject::AppChart | Subject::Kubernetes { .. } => return None,
        })
    }

    /// The source's content: releases by chart for a Helm index, else one list. An answer is
    /// kept in the cache only once it parsed.
    pub async fn fetch(&self, key: &Key) -> Result<Fetched, FetchError> {
        match key {
            Key::HelmIndex(url) => {
                let (body, fresh) = self.get(url).await?;
                let fetched = helm_index(url, &body)?;
                self.keep(url, &body, fresh);
                Ok(fetched)
            }
            Key::OciTags(url) => Ok(Fetched::One(releases(self.oci_tags(url).await?))),
            Key::TerraformModule(url) => {
                let (body, fresh) = self.get(url).await?;
                let list: ModuleVersions = parse_json(url, &body, "a Terraform registry module version list")?;
                self.keep(url, &body, fresh);
                let versions = list
                    .modules
                    .into_iter()
                    .flat_map(|m| m.versions)
                    .map(|v| (v.version, None));
                Ok(Fetched::One(releases(versions)))
            }
            Key::TerraformProvider(url) => {
                let (body, fresh) = self.get(url).await?;
                let list: ProviderVersions = parse_json(url, &body, "a Terraform registry provider version list")?;
                self.keep(url, &body, fresh);
                Ok(Fetched::One(releases(
                    list.versions.into_iter().map(|v| (v.version, None)),
                )))
            }
            Key::GitHubTags { owner, repo } => Ok(Fetched::One(releases(
                self.github_tags(owner, repo).await?.into_iter().map(|t| (t, None)),
            ))),
        }
    }

    /// A Helm repository's index as text, kept in the cache once it parsed.
    pub async fn text(&self, index_url: &str) -> Result<String, FetchError> {
        let (body, fresh) = self.get(index_url).await?;
        helm_index(index_url, &body)?;
        self.keep(index_url, &body, fresh);
        Ok(body)
    }

    /// The bytes at `url` (a chart archive), at most `limit` of them; never cached.
    pub async fn bytes(&self, url: &str, limit: u64) -> Result<Vec<u8>, FetchError> {
        let response = self.response(url).await?;
        if response.content_length().is_some_and(|l| l > limit) {
            return Err(FetchError::Malformed {
                url: url.to_string(),
                what: "a chart archive",
                reason: format!("larger than {limit} bytes"),
            });
        }
        let bytes = response.bytes().await.map_err(|e| FetchError::Unreachable {
            url: url.to_string(),
            reason: error_chain(&e),
        })?;
        Ok(bytes.to_vec())
    }

    /// The one layer of type `media_type` of the OCI artifact `url:tag` (`oci://host/path`, or
    /// `http://host/path` for a registry served without TLS).
    pub async fn oci_layer(&self, url: &str, tag: &str, media_type: &str, limit: u64) -> Result<Vec<u8>, FetchError> {
        let (client, reference) = oci_client_for(url, tag)?;
        let image = client
            .pull(
                &reference,
                &oci_client::secrets::RegistryAuth::Anonymous,
                vec![media_type],
            )
            .await
            .map_err(|e| oci_error(url, &e))?;
        image
            .layers
            .into_iter()
            .find(|l| l.media_type == media_type && (l.data.len() as u64) <= limit)
            .map(|l| l.data.to_vec())
            .ok_or_else(|| FetchError::Malformed {
                url: format!("{url}:{tag}"),
                what: "a Helm chart artifact",
                reason: format!("no {media_type} layer"),
            })
    }

    /// Keeps a freshly read answer that parsed.
    fn keep(&self, url: &str, body: &str, fresh: bool) {
        if fresh {
            self.cache.put(url, body);
        }
    }

    /// GET `url` as text, from the cache while it is fresh; `true` when read afresh.
    async fn get(&self, url: &str) -> Result<(String, bool), FetchError> {
        if let Some(body) = self.cache.get(url) {
            return Ok((body, false));
        }
        let response = self.response(url).await?;
        let unreachable = |e: reqwest::Error| FetchError::Unreachable {
            url: url.to_string(),
            reason: error_chain(&e),
        };
        let body = response.text().await.map_err(unreachable)?;
        Ok((body, true))
    }

    /// A successful answer to GET `url`; a refusal as its error.
    async fn response(&self, url: &str) -> Result<reqwest::Response, FetchError> {
        let response = self.http.get(url).send().await.map_err(|e| FetchError::Unreachable {
            url: url.to_string(),
            // reqwest's own first line only repeats the address.
            reason: error_chain(&e).replace(&format!("error sending request for url ({url}): "), ""),
        })?;
        let status = response.status();
        if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .map(|v| format!("{v} s"));
            return Err(FetchError::RateLimited {
                url: url.to_string(),
                retry_after,
            });
        }
        if !status.is_success() {
            return Err(FetchError::Status {
                url: url.to_string(),
                status: status.as_u16(),
            });
        }
        Ok(response)
    }

    /// Every tag of an OCI repository (`oci://host/path`, or `http://host/path` for a registry
    /// served without TLS), through the registry's anonymous token flow where it asks for one.
    async fn oci_tags(&self, url: &str) -> Result<Vec<(String, Option<String>)>, FetchError> {
        if let Some(body) = self.cache.get(url) {
            return Ok(serde_json::from_str::<Vec<String>>(&body)
                .unwrap_or_default()
                .into_iter()
                .map(|t| (t, None))
                .collect());
        }
        let (client, reference) = oci_client_for(url, "latest")?;
        let mut tags = Vec::new();
        let mut last: Option<String> = None;
        const PAGE: usize = 1000;
        loop {
            let page = client
                .list_tags(
                    &reference,
                    &oci_client::secrets::RegistryAuth::Anonymous,
                    Some(PAGE),
                    last.as_deref(),
                )
                .await
                .map_err(|e| oci_error(url, &e))?;
            let count = page.tags.len();
            last = page.tags.last().cloned();
            tags.extend(page.tags);
            if count < PAGE {
                break;
            }
        }
        self.cache.put(url, &serde_json::to_string(&tags).unwrap_or_default());
        Ok(tags.into_iter().map(|t| (t, None)).collect())
    }

    /// The tags of a GitHub repository (its newest hundred).
    async fn github_tags(&self, owner: &str, repo: &str) -> Result<Vec<String>, FetchError> {
        let url = format!("{}/repos/{owner}/{repo}/tags", self.github_api.trim_end_matches('/'));
        if let Some(body) = self.cache.get(&url) {
            return Ok(serde_json::from_str(&body).unwrap_or_default());
        }
        let unreachable = |reason: String| FetchError::Unreachable {
            url: url.clone(),
            reason,
        };
        let mut builder = octocrab::Octocrab::builder()
            .base_uri(self.github_api.as_str())
            .map_err(|e| unreachable(e.to_string()))?;
        if let Some(token) = &self.github_token {
            builder = builder.personal_token(token.clone());
        }
        let client = builder.build().map_err(|e| unreachable(e.to_string()))?;
        let page = client
            .repos(owner, repo)
            .list_tags()
            .per_page(100)
            .send()
            .await
            .map_err(|e| github_error(&url, e))?;
        let tags: Vec<String> = page.items.into_iter().map(|t| t.name).collect();
        self.cache.put(&url, &serde_json::to_string(&tags).unwrap_or_default());
        Ok(tags)
    }
}

/// A client for the OCI repository `url` (`oci://host/path`, or `http://host/path` for a
/// registry served without TLS), and the reference of its tag `tag`.
fn oci_client_for(url: &str, tag: &str) -> Result<(oci_client::Client, oci_client::Reference), FetchError> {
    let (plain_http, rest) = match url.split_once("://") {
        Some(("http", rest)) => (true, rest),
        Some((_, rest)) => (false, rest),
        None => (false, url),
    };
    let reference: oci_client::Reference = format!("{rest}:{tag}").parse().map_err(|e| FetchError::Malformed {
        url: url.to_string(),
        what: "an OCI repository",
        reason: format!("{e}"),
    })?;
    let protocol = if plain_http {
        oci_client::client::ClientProtocol::HttpsExcept(vec![reference.registry().to_string()])
    } else {
        oci_client::client::ClientProtocol::Https
    };
    let client = oci_client::Client::new(oci_client::client::ClientConfig {
        protocol,
        ..Default::default()
    });
    Ok((client, reference))
}

/// What a source holds.
#[derive(Debug, Clone)]
pub enum Fetched {
    /// A Helm repository: releases by chart name.
    Charts(BTreeMap<String, Vec<Release>>),
    /// One subject's releases.
    One(Vec<Release>),
}

impl Fetched {
    /// The releases of `subject` in what was read.
    pub fn releases_of(&self, key: &Key, subject: &Subject) -> Result<Vec<Release>, FetchError> {
        match (self, subject) {
            (Self::Charts(charts), Subject::Chart { chart, .. }) => charts.get(chart).cloned().ok_or_else(|| {
                let url = match key {
                    Key::HelmIndex(url) => url.clone(),
                    _ => String::new(),
                };
                let mut names: Vec<&str> = charts.keys().map(String::as_str).collect();
                let more = names.len().saturating_sub(10);
                names.truncate(10);
                FetchError::NoChart {
                    url,
                    chart: chart.clone(),
                    listed: if names.is_empty() {
                        "no charts".into()
                    } else if more > 0 {
                        format!("{} and {more} more", names.join(", "))
                    } else {
                        names.join(", ")
                    },
                }
            }),
            (Self::Charts(_), _) => Ok(Vec::new()),
            (Self::One(releases), _) => Ok(releases.clone()),
        }
    }
}

#[derive(Deserialize)]
struct HelmIndex {
    #[serde(rename = "apiVersion")]
    api_version: String,
    #[serde(default)]
    entries: BTreeMap<String, Vec<HelmEntry>>,
}

#[derive(Deserialize)]
struct HelmEntry {
    version: String,
    #[serde(default)]
    created: Option<String>,
}

fn helm_index(url: &str, body: &str) -> Result<Fetched, FetchError> {
    let malformed = |reason: String| FetchError::Malformed {
        url: url.to_string(),
        what: "a Helm repository index",
        reason,
    };
    let index: HelmIndex = yaml_serde::from_str(body).map_err(|e| malformed(e.to_string()))?;
    if index.api_version != "v1" {
        return Err(malformed(format!("apiVersion {:?}, not \"v1\"", index.api_version)));
    }
    Ok(Fetched::Charts(
        index
            .entries
            .into_iter()
            .map(|(chart, entries)| {
                let dated = entries
                    .into_iter()
                    .map(|e| (e.version, e.created.map(|c| c.chars().take(10).collect())));
                (chart, releases(dated))
            })
            .collect(),
    ))
}

#[derive(Deserialize)]
struct ModuleVersions {
    modules: Vec<ModuleEntry>,
}

#[derive(Deserialize)]
struct ModuleEntry {
    versions: Vec<VersionEntry>,
}

#[derive(Deserialize)]
struct ProviderVersions {
    versions: Vec<VersionEntry>,
}

#[derive(Deserialize)]
struct VersionEntry {
    version: String,
}

fn parse_json<T: serde::de::DeserializeOwned>(url: &str, body: &str, what: &'static str) -> Result<T, FetchError> {
    serde_json::from_str(body).map_err(|e| FetchError::Malformed {
        url: url.to_string(),
        what,
        reason: e.to_string(),
    })
}

/// The published versions that are semantic versions (`v` allowed), newest first; tags like
/// `latest` or `main` are not releases.
fn releases(published: impl IntoIterator<Item = (String, Option<String>)>) -> Vec<Release> {
    let mut out: Vec<Release> = published
        .into_iter()
        .filter_map(|(tag, date)| {
            let version = Version::parse(tag.strip_prefix('v').unwrap_or(&tag)).ok()?;
            Some(Release { tag, version, date })
        })
        .collect();
    out.sort_by(|a, b| b.version.cmp(&a.version));
    out.dedup_by(|a, b| a.version == b.version);
    out
}

fn oci_error(url: &str, e: &oci_client::errors::OciDistributionError) -> FetchError {
    use oci_client::errors::OciDistributionError as E;
    match e {
        E::ServerError { code: 429, .. } => FetchError::RateLimited {
            url: url.to_string(),
            retry_after: None,
        },
        E::ServerError { code, .. } => FetchError::Status {
            url: url.to_string(),
            status: *code,
        },
        other => FetchError::Unreachable {
            url: url.to_string(),
            reason: error_chain(other),
        },
    }
}

fn github_error(url: &str, e: octocrab::Error) -> FetchError {
    match &e {
        octocrab::Error::GitHub { source, .. }
            if source.status_code.as_u16() == 429
                || (source.status_code.as_u16() == 403 && source.message.to_lowercase().contains("rate limit")) =>
        {
            FetchError::RateLimited {
                url: url.to_string(),
                retry_after: None,
            }
        }
        octocrab::Error::GitHub { source, .. } => FetchError::Status {
            url: url.to_string(),
            status: source.status_code.as_u16(),
        },
        _ => FetchError::Unreachable {
            url: url.to_string(),
            reason: error_chain(&e),
        },
    }
}

/// An error and its causes, as one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let line = cause.to_string();
        if !text.contains(&line) {
            text = format!("{text}: {line}");
        }
        source = cause.source();
    }
    text
}
