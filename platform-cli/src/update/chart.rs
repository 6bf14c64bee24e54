//! A chart release as Helm installs it: its archive, fetched from where it is published (the
//! `urls` of its Helm repository index entry, or the one layer of its OCI artifact), and read
//! in memory: its default values, values schema, templates, dependencies and changelog.

use std::collections::BTreeMap;
use std::io::Read;

use serde_json::Value;

use crate::outdated::releases::{FetchError, Fetcher};

/// What an archive may hold at most: a chart is kilobytes to a few megabytes; anything larger
/// is not one.
const ARCHIVE_LIMIT: u64 = 64 * 1024 * 1024;

/// The media type Helm gives a chart's content in an OCI artifact.
pub const HELM_CHART_LAYER: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";

/// One chart (or one of its dependencies), read from its archive.
#[derive(Debug, Clone, Default)]
pub struct Chart {
    pub name: String,
    pub version: String,
    /// `values.yaml`, as JSON.
    pub values: Value,
    /// `values.schema.json`, where the chart has one.
    pub schema: Option<Value>,
    /// Every template's text (`templates/**`), with its path.
    pub templates: Vec<(String, String)>,
    /// Its dependencies by the key their values live under (the alias, else the name).
    pub dependencies: BTreeMap<String, Chart>,
    /// The values paths Helm reads to enable a dependency (`redis-ha.enabled`).
    pub conditions: std::collections::BTreeSet<String>,
    /// The `artifacthub.io/changes` annotation: what the release changed, as its authors say.
    pub changes: Option<String>,
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ChartError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Fetch(#[from] FetchError),
    #[error("{url}: no release {version} of {chart} in the index")]
    #[diagnostic(help("`platform outdated` lists the releases the repository has"))]
    NoRelease {
        url: String,
        chart: String,
        version: String,
    },
    #[error("{url}: not a chart archive ({reason})")]
    #[diagnostic(help("the repository serves something else at the chart's address"))]
    NotAnArchive { url: String, reason: String },
}

/// The release `version` of `chart` from `repository` (a Helm repository URL, or an OCI
/// repository `host/path`), through `fetcher`'s mirrors.
pub async fn fetch(fetcher: &Fetcher, repository: &str, chart: &str, version: &str) -> Result<Chart, ChartError> {
    let (url, archive) = if repository.contains("://") {
        let index_url = fetcher.mirrored(&format!("{}/index.yaml", repository.trim_end_matches('/')));
        let index = fetcher.text(&index_url).await?;
        let address = archive_url(&index_url, &index, chart, version)?;
        let bytes = fetcher.bytes(&address, ARCHIVE_LIMIT).await?;
        (address, bytes)
    } else {
        let address = fetcher.mirrored(&format!("oci://{repository}/{chart}"));
        let bytes = fetcher
            .oci_layer(&address, version, HELM_CHART_LAYER, ARCHIVE_LIMIT)
            .await?;
        (format!("{address}:{version}"), bytes)
    };
    read(&archive).map_err(|reason| ChartError::NotAnArchive { url, reason })
}

/// Where the index says the release's archive is, resolved against the index's own address.
fn archive_url(index_url: &str, index: &str, chart: &str, version: &str) -> Result<String, ChartError> {
    let no_release = || ChartError::NoRelease {
        url: index_url.to_string(),
        chart: chart.to_string(),
        version: version.to_string(),
    };
    let index: Value = yaml_serde::from_str(index).map_err(|e| FetchError::Malformed {
        url: index_url.to_string(),
        what: "a Helm repository index",
        reason: e.to_string(),
    })?;
    let entry = index["entries"][chart]
        .as_array()
        .and_then(|entries| entries.iter().find(|e| e["version"].as_str() == Some(version)))
        .ok_or_else(no_release)?;
    let first = entry["urls"][0].as_str().ok_or_else(no_release)?;
    let base = url::Url::parse(index_url).map_err(|e| FetchError::Malformed {
        url: index_url.to_string(),
        what: "a URL",
        reason: e.to_string(),
    })?;
    base.join(first)
        .map(|u| u.to_string())
        .map_err(|e| ChartError::NotAnArchive {
            url: first.to_string(),
            reason: e.to_string(),
        })
}

/// Reads a chart archive (`<chart>/Chart.yaml`, `<chart>/values.yaml` …, dependencies under
/// `<chart>/charts/` as folders or archives of their own).
pub fn read(archive: &[u8]) -> Result<Chart, String> {
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(archive));
    for entry in tar.entries().map_err(|e| e.to_string())? {
        let mut entry = entry.map_err(|e| e.to_string())?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry.path().map_err(|e| e.to_string())?.to_string_lossy().into_owned();
        let mut bytes = Vec::new();
        entry
            .by_ref()
            .take(ARCHIVE_LIMIT)
            .read_to_end(&mut bytes)
            .map_err(|e| e.to_string())?;
        files.insert(path, bytes);
    }
    let root = files
        .keys()
        .find_map(|p| p.strip_suffix("/Chart.yaml").filter(|r| !r.contains('/')))
        .ok_or("no <chart>/Chart.yaml in it")?
        .to_string();
    from_files(&files, &root)
}

/// The chart at `root` (a folder of `files`), with its dependencies.
fn from_files(files: &BTreeMap<String, Vec<u8>>, root: &str) -> Result<Chart, String> {
    let text = |name: &str| {
        files
            .get(&format!("{root}/{name}"))
            .map(|b| String::from_utf8_lossy(b).into_owned())
    };
    let meta: Value =
        yaml_serde::from_str(&text("Chart.yaml").ok_or("no Chart.yaml")?).map_err(|e| format!("Chart.yaml: {e}"))?;
    let values = match text("values.yaml") {
        Some(t) if !t.trim().is_empty() => {
            yaml_serde::from_str::<Value>(&t).map_err(|e| format!("values.yaml: {e}"))?
        }
        _ => Value::Object(Default::default()),
    };
    let schema = match text("values.schema.json") {
        Some(t) => Some(serde_json::from_str(&t).map_err(|e| format!("values.schema.json: {e}"))?),
        None => None,
    };
    let templates = files
        .iter()
        .filter_map(|(path, bytes)| {
            let rel = path.strip_prefix(&format!("{root}/templates/"))?;
            Some((format!("templates/{rel}"), String::from_utf8_lossy(bytes).into_owned()))
        })
        .collect();
    let mut dependencies = BTreeMap::new();
    let mut conditions = std::collections::BTreeSet::new();
    for dep in meta["dependencies"].as_array().into_iter().flatten() {
        let Some(name) = dep["name"].as_str() else { continue };
        conditions.extend(
            dep["condition"]
                .as_str()
                .into_iter()
                .flat_map(|c| c.split(','))
                .map(|c| c.trim().to_string()),
        );
        let key = dep["alias"].as_str().unwrap_or(name).to_string();
        let folder = format!("{root}/charts/{name}");
        let chart = if files.contains_key(&format!("{folder}/Chart.yaml")) {
            from_files(files, &folder)?
        } else if let Some((_, bytes)) = files.iter().find(|(p, _)| {
            p.strip_prefix(&format!("{root}/charts/{name}-"))
                .is_some_and(|rest| rest.ends_with(".tgz") && !rest.contains('/'))
        }) {
            read(bytes).map_err(|e| format!("charts/{name}: {e}"))?
        } else {
            // A dependency the archive does not carry is fetched by Helm at install; its values
            // cannot be checked here.
            continue;
        };
        dependencies.insert(key, chart);
    }
    Ok(Chart {
        name: meta["name"].as_str().unwrap_or_default().to_string(),
        version: meta["version"].as_str().unwrap_or_default().to_string(),
        values,
        schema,
        templates,
        dependencies,
        conditions,
        changes: meta["annotations"]["artifacthub.io/changes"]
            .as_str()
            .map(str::to_string),
    })
}
