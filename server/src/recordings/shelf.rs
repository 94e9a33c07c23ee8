//! One learner's recordings on disk: `<dir>/<learner>/<started-ms>-<tab>.cast.gz`, what they
//! take in all, and which are being written. The oldest finished recording goes first when the
//! learner's quota is reached.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

pub struct Shelf {
    pub dir: PathBuf,
    used: AtomicU64,
    /// Recordings being written.
    open: Mutex<Vec<PathBuf>>,
}

/// One recording file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    /// `<started-ms>-<tab>`.
    pub id: String,
    pub started_ms: i64,
    pub tab: u32,
    pub bytes: u64,
    pub path: PathBuf,
}

/// A recording's id is its file's name without `.cast.gz`: digits, a dash, digits.
pub fn parse_id(id: &str) -> Option<(i64, u32)> {
    let (ms, tab) = id.split_once('-')?;
    if ms.is_empty() || tab.is_empty() || !ms.bytes().chain(tab.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((ms.parse().ok()?, tab.parse().ok()?))
}

impl Shelf {
    pub fn new(dir: PathBuf) -> Arc<Self> {
        let used = list(&dir).iter().map(|s| s.bytes).sum();
        Arc::new(Self { dir, used: AtomicU64::new(used), open: Mutex::new(Vec::new()) })
    }

    pub fn used(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }

    pub fn path_of(&self, id: &str) -> Option<PathBuf> {
        parse_id(id).map(|_| self.dir.join(format!("{id}.cast.gz")))
    }

    pub fn opened(&self, path: PathBuf) {
        self.open.lock().unwrap_or_else(|p| p.into_inner()).push(path);
    }

    pub fn closed(&self, path: &Path) {
        self.open.lock().unwrap_or_else(|p| p.into_inner()).retain(|p| p != path);
    }

    pub fn is_open(&self, path: &Path) -> bool {
        self.open.lock().unwrap_or_else(|p| p.into_inner()).iter().any(|p| p == path)
    }

    /// Counts `bytes` more written to `writing`; over `quota`, drops the oldest finished
    /// recordings. False when even that leaves the learner over it (`writing` must stop).
    pub async fn add(self: &Arc<Self>, bytes: u64, quota: u64, writing: &Path) -> bool {
        let used = self.used.fetch_add(bytes, Ordering::Relaxed) + bytes;
        if used <= quota {
            return true;
        }
        let shelf = self.clone();
        let writing = writing.to_path_buf();
        tokio::task::spawn_blocking(move || shelf.make_room(quota, &writing)).await.unwrap_or(false)
    }

    fn make_room(&self, quota: u64, writing: &Path) -> bool {
        let mut stored = list(&self.dir);
        stored.sort_by_key(|s| s.started_ms);
        for old in stored {
            if self.used() <= quota {
                break;
            }
            if old.path == writing || self.is_open(&old.path) {
                continue;
            }
            if std::fs::remove_file(&old.path).is_ok() {
                self.used.fetch_sub(old.bytes.min(self.used()), Ordering::Relaxed);
            }
        }
        self.used() <= quota
    }

    /// Keeps at most `most` finished recordings, dropping the oldest: a learner opening and
    /// closing terminals in a loop makes files faster than bytes.
    pub fn keep_at_most(&self, most: usize) {
        let mut stored = self.list();
        stored.retain(|s| !self.is_open(&s.path));
        let excess = stored.len().saturating_sub(most);
        for old in &stored[..excess] {
            if std::fs::remove_file(&old.path).is_ok() {
                self.used.fetch_sub(old.bytes.min(self.used()), Ordering::Relaxed);
            }
        }
    }

    /// Removes the finished recordings that started before `before_ms`.
    pub fn expire(&self, before_ms: i64) -> usize {
        let mut removed = 0;
        for old in list(&self.dir) {
            if old.started_ms < before_ms && !self.is_open(&old.path) && std::fs::remove_file(&old.path).is_ok() {
                self.used.fetch_sub(old.bytes.min(self.used()), Ordering::Relaxed);
                removed += 1;
            }
        }
        removed
    }

    /// The learner's recordings, oldest first.
    pub fn list(&self) -> Vec<Stored> {
        let mut stored = list(&self.dir);
        stored.sort_by_key(|s| (s.started_ms, s.tab));
        stored
    }
}

fn list(dir: &Path) -> Vec<Stored> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let id = name.strip_suffix(".cast.gz")?.to_string();
            let (started_ms, tab) = parse_id(&id)?;
            let bytes = e.metadata().ok()?.len();
            Some(Stored { id, started_ms, tab, bytes, path: e.path() })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_only_the_servers_own() {
        assert_eq!(parse_id("1700000000000-2"), Some((1_700_000_000_000, 2)));
        for bad in ["", "-", "1-", "-1", "../1-1", "1-1/..", "1-1.cast", "a-1"] {
            assert_eq!(parse_id(bad), None, "{bad:?}");
        }
    }

    #[tokio::test]
    async fn the_oldest_finished_recording_makes_room() {
        let dir = tempfile::tempdir().unwrap();
        for (id, size) in [("1000-1", 400), ("2000-1", 400), ("3000-2", 400)] {
            std::fs::write(dir.path().join(format!("{id}.cast.gz")), vec![0u8; size]).unwrap();
        }
        let shelf = Shelf::new(dir.path().to_path_buf());
        assert_eq!(shelf.used(), 1200);
        let writing = dir.path().join("3000-2.cast.gz");
        // 100 more over a quota of 1000: the oldest goes.
        assert!(shelf.add(100, 1000, &writing).await);
        let left: Vec<String> = shelf.list().into_iter().map(|s| s.id).collect();
        assert_eq!(left, ["2000-1", "3000-2"]);
        // The one being written is never removed: over quota with nothing else, it must stop.
        assert!(!shelf.add(0, 300, &writing).await);
        assert_eq!(shelf.list().len(), 1);
        assert_eq!(shelf.expire(4000), 1);
        assert!(shelf.list().is_empty());
    }

    #[test]
    fn only_so_many_files_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        for i in 1..=5 {
            std::fs::write(dir.path().join(format!("{i}000-1.cast.gz")), b"x").unwrap();
        }
        let shelf = Shelf::new(dir.path().to_path_buf());
        shelf.keep_at_most(2);
        let left: Vec<String> = shelf.list().into_iter().map(|s| s.id).collect();
        assert_eq!(left, ["4000-1", "5000-1"]);
        assert_eq!(shelf.used(), 2);
    }
}
