//! `platform outdated`: for every pin, the version pinned, the newest release inside the range
//! the platform is written for, the newest release at all, and its support status.
//!
//! - [`inventory`]: every pin, gathered from where it is written.
//! - [`releases`]: where each is published, and reading it ([`cache`] in front).
//! - [`report`]: the rows as text, JSON or Markdown.

pub mod cache;
pub mod inventory;
pub mod releases;
pub mod report;

use std::collections::BTreeMap;

use futures_util::StreamExt;
use serde::Serialize;
use time::Date;

use crate::model::Manifest;
use crate::model::kubernetes_support::{self, Unsupported};
use crate::render::embedded;
use inventory::{Pinned, Subject};
use releases::{FetchError, Fetched, Fetcher, Key, Release};

/// How many sources are read at once.
const AT_ONCE: usize = 8;

/// Where a pin stands against its support window, from the tables `platform validate` uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Support {
    /// Supported; until `until` where a calendar says.
    Supported {
        #[serde(skip_serializing_if = "Option::is_none", serialize_with = "some_day")]
        until: Option<Date>,
    },
    /// Its support ended on `ended`.
    Ended {
        #[serde(serialize_with = "day")]
        ended: Date,
    },
    /// Outside the releases the platform is written for.
    OutsideRange { range: String },
    /// Not in its provider's calendar (never offered, or newer than the table).
    Unknown,
    /// No support window is published for it.
    NotJudged,
}

/// A date as JSON says it to people and programs alike: `2026-11-26`.
fn day<S: serde::Serializer>(date: &Date, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&date)
}

fn some_day<S: serde::Serializer>(date: &Option<Date>, serializer: S) -> Result<S::Ok, S::Error> {
    match date {
        Some(date) => serializer.collect_str(date),
        None => serializer.serialize_none(),
    }
}

impl Support {
    /// Past its support: what makes `outdated` exit 1.
    pub fn is_past(&self) -> bool {
        matches!(self, Self::Ended { .. } | Self::OutsideRange { .. } | Self::Unknown)
    }
}

/// One pin, checked.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub what: String,
    pub pinned: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range: Option<String>,
    pub newest_in_range: Option<Release>,
    pub newest: Option<Release>,
    pub support: Support,
    pub used_by: Vec<String>,
    /// Why the releases could not be read, if they could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Row {
    /// Whether a newer release than the pin exists: for a version pin, any newer one; for a
    /// constraint (`~> 6.28`, which takes the newest inside it anyway), one outside it.
    pub fn behind(&self) -> bool {
        let Some(newest) = &self.newest else {
            return false;
        };
        match pinned_version(&self.pinned) {
            Some(pinned) => newest.version > pinned,
            None => self
                .range
                .as_deref()
                .and_then(|r| semver::VersionReq::parse(r).ok())
                .is_some_and(|range| !range.matches(&newest.version)),
        }
    }
}

/// The exit status: 1 when anything is past its support window (a CI gate), 2 when some
/// release could not be read, 0 otherwise.
pub fn exit_code(rows: &[Row]) -> u8 {
    if rows.iter().any(|r| r.support.is_past()) {
        1
    } else if rows.iter().any(|r| r.error.is_some()) {
        2
    } else {
        0
    }
}

/// Checks every pin of `envs` (all environments when empty) on `today`, reading each source once;
/// `progress` is told of each source read.
pub async fn check(
    manifest: &Manifest,
    envs: &[String],
    fetcher: &Fetcher,
    today: Date,
    progress: impl Fn(usize, usize),
) -> Vec<Row> {
    let pins = inventory::gather(manifest, envs);
    let mut keys: Vec<Key> = pins.iter().filter_map(|p| fetcher.key(&p.subject)).collect();
    keys.sort();
    keys.dedup();
    let total = keys.len();
    progress(0, total);
    let mut done = 0;
    let mut fetched: BTreeMap<Key, Result<Fetched, String>> = BTreeMap::new();
    let mut reads = futures_util::stream::iter(keys)
        .map(|key| async move {
            let result = fetcher.fetch(&key).await.map_err(|e| e.to_string());
            (key, result)
        })
        .buffer_unordered(AT_ONCE);
    while let Some((key, result)) = reads.next().await {
        done += 1;
        progress(done, total);
        fetched.insert(key, result);
    }
    pins.into_iter()
        .map(|pin| {
            let found = fetcher.key(&pin.subject).map(|key| match fetched.get(&key) {
                Some(Ok(content)) => content
                    .releases_of(&key, &pin.subject)
                    .map_err(|e: FetchError| e.to_string()),
                Some(Err(e)) => Err(e.clone()),
                None => Err(format!("{key:?} was not read")),
            });
            row(pin, found, today)
        })
        .collect()
}

/// A pin's row from its releases (`None`: it needs none).
fn row(pin: Pinned, found: Option<Result<Vec<Release>, String>>, today: Date) -> Row {
    let mut row = Row {
        what: pin.subject.name(),
        pinned: pin.version.clone(),
        range: pin.range.as_ref().map(ToString::to_string),
        newest_in_range: None,
        newest: None,
        support: Support::NotJudged,
        used_by: pin.used_by,
        error: None,
    };
    match &pin.subject {
        Subject::Kubernetes { provider } => {
            let calendar = kubernetes_support::calendar(*provider);
            row.newest = calendar
                .releases
                .iter()
                .filter(|r| r.ends >= today)
                .max_by_key(|r| r.minor)
                .map(|r| Release {
                    tag: format!("1.{}", r.minor),
                    version: semver::Version::new(1, u64::from(r.minor), 0),
                    date: None,
                });
            row.support = match kubernetes_support::check(*provider, &pin.version, today) {
                Ok(release) => Support::Supported {
                    until: Some(release.ends),
                },
                Err(Unsupported::Ended { ended, .. }) => Support::Ended { ended },
                Err(Unsupported::Unknown { .. } | Unsupported::Malformed) => Support::Unknown,
            };
        }
        Subject::AppChart => {
            let shipped = embedded::app_chart_version();
            row.newest = semver::Version::parse(shipped).ok().map(|version| Release {
                tag: shipped.to_string(),
                version,
                date: None,
            });
        }
        _ => {}
    }
    if let Some(range) = &pin.range
        && let Some(pinned) = pinned_version(&pin.version)
        && matches!(pin.subject, Subject::Chart { .. })
    {
        row.support = if range.matches(&pinned) {
            Support::Supported { until: None }
        } else {
            Support::OutsideRange {
                range: range.to_string(),
            }
        };
    }
    match found {
        None => {}
        Some(Err(e)) => row.error = Some(e),
        Some(Ok(releases)) => {
            // A pre-release is newest only to a pin that is one.
            let stable = |r: &&Release| r.version.pre.is_empty();
            row.newest = releases.iter().find(stable).cloned();
            row.newest_in_range = pin.range.as_ref().and_then(|range| {
                releases
                    .iter()
                    .filter(stable)
                    .find(|r| range.matches(&r.version))
                    .cloned()
            });
        }
    }
    row
}

/// A pin as a version, where it is one (`v1.21.1`, `1.35`); a constraint (`~> 6.28`) is not.
fn pinned_version(pin: &str) -> Option<semver::Version> {
    let bare = pin.strip_prefix('v').unwrap_or(pin);
    semver::Version::parse(bare)
        .ok()
        .or_else(|| semver::Version::parse(&format!("{bare}.0")).ok())
}
