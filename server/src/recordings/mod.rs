//! Every learner terminal recorded as asciicast v2 (`cast`), one gzip file per terminal session
//! (`recorder`), kept per learner within a quota and for a retention period set by the class
//! (`shelf`), with markers where a step's state changed (`marks`); cut to one step's part for
//! replay (`segment`).

pub mod cast;
mod marks;
mod recorder;
pub mod segment;
mod shelf;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use app::class::ClassSettings;

pub use marks::follow;
pub use recorder::Recorder;
use shelf::Shelf;
pub use shelf::Stored;

use crate::store::Store;

/// Recordings kept per learner at most, whatever their size (each terminal opened makes one).
const MAX_FILES: usize = 1000;
/// How often recordings past their class's retention are removed.
const EXPIRE_EVERY: Duration = Duration::from_secs(3600);

pub struct Recordings {
    dir: PathBuf,
    store: Arc<dyn Store>,
    shelves: Mutex<HashMap<String, Arc<Shelf>>>,
    /// Each learner's terminals being recorded (for markers).
    live: Mutex<HashMap<String, Vec<Weak<Recorder>>>>,
}

impl Recordings {
    pub fn new(dir: PathBuf, store: Arc<dyn Store>) -> Arc<Self> {
        Arc::new(Self { dir, store, shelves: Mutex::new(HashMap::new()), live: Mutex::new(HashMap::new()) })
    }

    fn shelf(&self, learner: &str) -> Arc<Shelf> {
        // Learner ids are the server's own; anything else is kept out of the path all the same.
        let name: String = learner.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect();
        let mut shelves = self.shelves.lock().unwrap_or_else(|p| p.into_inner());
        shelves.entry(learner.to_string()).or_insert_with(|| Shelf::new(self.dir.join(name))).clone()
    }

    /// The settings of the learner's class (a learner whose class is gone: the defaults).
    async fn settings(&self, learner: &str) -> ClassSettings {
        let Ok(Some(learner)) = self.store.learner(learner).await else { return ClassSettings::default() };
        match self.store.class(&learner.class_id).await {
            Ok(Some(class)) => class.settings,
            _ => ClassSettings::default(),
        }
    }

    /// Starts recording a terminal the learner just opened, unless their class records none.
    pub async fn start(&self, learner: &str, tab: u32, cols: u16, rows: u16) -> Option<Arc<Recorder>> {
        let settings = self.settings(learner).await;
        if settings.recording_off {
            return None;
        }
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        let shelf = self.shelf(learner);
        let pruning = shelf.clone();
        let _ = tokio::task::spawn_blocking(move || pruning.keep_at_most(MAX_FILES - 1)).await;
        let path = shelf.dir.join(format!("{}-{tab}.cast.gz", now.as_millis()));
        let header = cast::Header {
            version: 2,
            width: cols.max(1),
            height: rows.max(1),
            timestamp: now.as_secs() as i64,
            title: Some(format!("{learner}, terminal {tab}")),
            env: Some([("TERM".to_string(), "xterm-256color".to_string()), ("SHELL".to_string(), "/bin/bash".to_string())].into()),
        };
        let offset = f64::from(now.subsec_micros()) / 1e6;
        shelf.opened(path.clone());
        let recorder = Recorder::start(path, header, offset, shelf, settings.recording_quota_bytes());
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        let mine = live.entry(learner.to_string()).or_default();
        mine.retain(|r| r.strong_count() > 0);
        mine.push(Arc::downgrade(&recorder));
        Some(recorder)
    }

    /// Puts a marker in each of the learner's terminals being recorded.
    pub fn mark(&self, learner: &str, label: &str) {
        let recorders: Vec<Arc<Recorder>> = self
            .live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(learner)
            .map(|l| l.iter().filter_map(Weak::upgrade).collect())
            .unwrap_or_default();
        for recorder in recorders {
            recorder.mark(label);
        }
    }

    /// The learner's recordings, oldest first.
    pub fn list(&self, learner: &str) -> Vec<Stored> {
        self.shelf(learner).list()
    }

    /// What the learner's recordings take on disk.
    pub fn used(&self, learner: &str) -> u64 {
        self.shelf(learner).used()
    }

    /// One recording's file as stored (gzip), if it exists.
    pub async fn file(&self, learner: &str, id: &str) -> Option<Vec<u8>> {
        let path = self.shelf(learner).path_of(id)?;
        tokio::fs::read(path).await.ok()
    }

    /// One recording, read back (as far as it is written).
    pub async fn cast(&self, learner: &str, id: &str) -> Option<cast::Cast> {
        let bytes = self.file(learner, id).await?;
        let text = tokio::task::spawn_blocking(move || cast::decompress(&bytes)).await.ok()?;
        cast::Cast::parse(&text).ok()
    }

    /// Every recording of the learner that overlaps `[from, to]` (Unix seconds), read back.
    pub async fn casts_between(&self, learner: &str, from: f64, to: f64) -> Vec<cast::Cast> {
        let mut casts = Vec::new();
        let stored = self.list(learner);
        for (i, s) in stored.iter().enumerate() {
            let start = s.started_ms as f64 / 1000.0;
            // A recording ends where the next one of its tab starts, or now.
            if start > to {
                continue;
            }
            let next = stored[i + 1..].iter().find(|n| n.tab == s.tab).map(|n| n.started_ms as f64 / 1000.0);
            if next.is_some_and(|n| n < from) {
                continue;
            }
            if let Some(cast) = self.cast(learner, &s.id).await {
                casts.push(cast);
            }
        }
        casts
    }

    /// Removes recordings past their class's retention, now and every hour.
    pub async fn expire(self: Arc<Self>) {
        let mut tick = tokio::time::interval(EXPIRE_EVERY);
        loop {
            tick.tick().await;
            let Ok(entries) = std::fs::read_dir(&self.dir) else { continue };
            let learners: Vec<String> = entries.filter_map(|e| e.ok()?.file_name().into_string().ok()).collect();
            let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis() as i64;
            for learner in learners {
                let keep_ms = self.settings(&learner).await.recording_secs() * 1000;
                let shelf = self.shelf(&learner);
                let removed = tokio::task::spawn_blocking(move || shelf.expire(now_ms - keep_ms)).await.unwrap_or(0);
                if removed > 0 {
                    tracing::info!(%learner, removed, "recordings past their class's retention removed");
                }
            }
        }
    }
}
