//! What sources answered, kept on disk for a while so that repeated runs read nothing again: one
//! file per address, named by its SHA-256, holding when it was read and the answer. The cache
//! is an aid, never a source of truth: a file it cannot read or write is a miss, and a failed
//! read of a source is never kept.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

#[derive(Debug, Clone)]
pub struct Cache {
    dir: Option<PathBuf>,
    ttl: Duration,
}

impl Cache {
    /// A cache in `dir` whose entries count for `ttl`; `None` keeps nothing.
    pub fn new(dir: Option<PathBuf>, ttl: Duration) -> Self {
        Self { dir, ttl }
    }

    /// `$PLATFORM_CACHE_DIR`, else `$XDG_CACHE_HOME/platform`, else `~/.cache/platform`; with
    /// `outdated/` below it.
    pub fn default_dir() -> Option<PathBuf> {
        let base = std::env::var_os("PLATFORM_CACHE_DIR")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("platform")))
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/platform")))?;
        Some(base.join("outdated"))
    }

    fn path(&self, key: &str) -> Option<PathBuf> {
        let digest = Sha256::digest(key.as_bytes());
        let name: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        Some(self.dir.as_ref()?.join(name))
    }

    /// The answer kept for `key`, if it was read less than the time to live ago.
    pub fn get(&self, key: &str) -> Option<String> {
        let text = std::fs::read_to_string(self.path(key)?).ok()?;
        let (read_at, body) = text.split_once('\n')?;
        let read_at = UNIX_EPOCH + Duration::from_secs(read_at.parse().ok()?);
        let age = SystemTime::now().duration_since(read_at).ok()?;
        (age < self.ttl).then(|| body.to_string())
    }

    /// Keeps `body` as the answer for `key`, written whole or not at all.
    pub fn put(&self, key: &str, body: &str) {
        let (Some(path), Some(dir)) = (self.path(key), self.dir.as_ref()) else {
            return;
        };
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let written = std::fs::create_dir_all(dir)
            .and_then(|()| tempfile::NamedTempFile::new_in(dir))
            .and_then(|mut file| {
                write!(file, "{now}\n{body}")?;
                file.persist(&path).map(|_| ()).map_err(|e| e.error)
            });
        if let Err(e) = written {
            warn_unkept(&path, &e);
        }
    }
}

/// The cache is an aid: a write that fails is said once on stderr and the run goes on.
fn warn_unkept(path: &std::path::Path, e: &std::io::Error) {
    eprintln!(
        "warning: cannot keep {} in the cache ({e}); the next run reads it again",
        path.display()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_counts_until_its_time_to_live_and_a_missing_dir_is_a_miss() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cache = Cache::new(Some(dir.path().join("outdated")), Duration::from_secs(3600));
        assert_eq!(cache.get("https://a.example/index.yaml"), None);
        cache.put("https://a.example/index.yaml", "apiVersion: v1\nentries: {}\n");
        assert_eq!(
            cache.get("https://a.example/index.yaml").as_deref(),
            Some("apiVersion: v1\nentries: {}\n")
        );
        let expired = Cache::new(Some(dir.path().join("outdated")), Duration::ZERO);
        assert_eq!(expired.get("https://a.example/index.yaml"), None);
        assert_eq!(Cache::new(None, Duration::from_secs(60)).get("x"), None);
    }
}
