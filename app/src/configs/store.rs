//! This replica's copy of every org's configs. Each key holds an `Arc` swapped under its map
//! shard's lock, only ever for a higher version: events may arrive late, twice or shuffled,
//! and a slow fetch may finish after a faster, newer one, without moving a reader backwards.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use dashmap::DashMap;
use dashmap::mapref::entry::Entry;
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq)]
pub struct ConfigEntry {
    pub value: Value,
    pub version: i64,
    pub updated_by: String,
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The entry is now served.
    Swapped,
    /// The replica already serves this version or a newer one.
    Stale,
}

#[derive(Debug, Default)]
pub struct ConfigStore {
    entries: DashMap<(Uuid, String), Arc<ConfigEntry>>,
    loaded: AtomicBool,
}

impl ConfigStore {
    pub fn get(&self, org: Uuid, key: &str) -> Option<Arc<ConfigEntry>> {
        self.entries.get(&(org, key.to_owned())).map(|e| Arc::clone(e.value()))
    }

    /// The org's configs, by key.
    pub fn list(&self, org: Uuid) -> Vec<(String, Arc<ConfigEntry>)> {
        let mut all: Vec<_> = self
            .entries
            .iter()
            .filter(|e| e.key().0 == org)
            .map(|e| (e.key().1.clone(), Arc::clone(e.value())))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    pub fn version(&self, org: Uuid, key: &str) -> i64 {
        self.get(org, key).map_or(0, |e| e.version)
    }

    /// Serves `entry` unless this replica already serves that version or a newer one.
    pub fn apply(&self, org: Uuid, key: &str, entry: ConfigEntry) -> Applied {
        match self.entries.entry((org, key.to_owned())) {
            Entry::Occupied(mut current) if current.get().version < entry.version => {
                current.insert(Arc::new(entry));
                Applied::Swapped
            }
            Entry::Occupied(_) => Applied::Stale,
            Entry::Vacant(slot) => {
                slot.insert(Arc::new(entry));
                Applied::Swapped
            }
        }
    }

    /// Forgets a key the database no longer has (a failed org's compensated defaults).
    pub fn remove(&self, org: Uuid, key: &str) -> bool {
        self.entries.remove(&(org, key.to_owned())).is_some()
    }

    /// Every (org, key) served, for reconciliation.
    pub fn keys(&self) -> Vec<(Uuid, String)> {
        self.entries.iter().map(|e| e.key().clone()).collect()
    }

    /// Highest version served per key across orgs (the `app_config_version` gauge).
    pub fn max_versions(&self) -> Vec<(String, i64)> {
        let mut max: std::collections::BTreeMap<String, i64> = std::collections::BTreeMap::new();
        for e in &self.entries {
            let v = max.entry(e.key().1.clone()).or_default();
            *v = (*v).max(e.value().version);
        }
        max.into_iter().collect()
    }

    /// Whether the warm load has finished (readiness).
    pub fn is_loaded(&self) -> bool {
        self.loaded.load(Ordering::Acquire)
    }

    pub fn mark_loaded(&self) {
        self.loaded.store(true, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(version: i64) -> ConfigEntry {
        ConfigEntry {
            value: Value::from(version),
            version,
            updated_by: "t".to_owned(),
            updated_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn versions_only_move_forward_whatever_the_order() {
        let store = ConfigStore::default();
        let org = Uuid::new_v4();
        // Shuffled and duplicated deliveries of versions 1..=5.
        for v in [3, 1, 3, 5, 2, 4, 5, 1] {
            let before = store.version(org, "k");
            let applied = store.apply(org, "k", entry(v));
            assert_eq!(applied == Applied::Swapped, v > before, "v{v} over v{before}");
            assert!(store.version(org, "k") >= before);
        }
        assert_eq!(store.version(org, "k"), 5);
    }

    #[test]
    fn orgs_do_not_share_keys() {
        let store = ConfigStore::default();
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        store.apply(a, "k", entry(2));
        assert_eq!(store.version(b, "k"), 0);
        assert_eq!(store.list(a).len(), 1);
        assert!(store.list(b).is_empty());
    }
}
