//! One terminal's recording. The terminal appends events to a buffer under a short lock, never
//! waiting and never waking anyone (the keystroke path pays a copy and a push); a task of its own
//! takes the buffer once a second and appends it to the file as one gzip member, so a crash loses
//! at most the last second and a slow or full disk costs the recording only.

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use super::cast::{Code, Event, Header, Utf8Stream};
use super::shelf::Shelf;

/// How often what came is written.
const EVERY: Duration = Duration::from_secs(1);
/// Bytes buffered between two writes at most: a flood of output (`yes`, a 100 MB `cat`) is cut
/// from the recording, not from the screen, and the buffer stays small.
const MAX_PER_WRITE: usize = 512 * 1024;

struct Entry {
    at: f64,
    code: Code,
    data: Vec<u8>,
}

#[derive(Default)]
struct Pending {
    entries: Vec<Entry>,
    bytes: usize,
}

/// What the terminal and the writer task share.
struct Shared {
    pending: Mutex<Pending>,
    /// The terminal is gone (write what is left and finish), or the recording ended.
    closed: AtomicBool,
    wake: Notify,
    /// Events left out because the buffer was full.
    dropped: AtomicU64,
}

/// The terminal's end: cheap to call from the PTY reader and the input path.
pub struct Recorder {
    shared: Arc<Shared>,
    started: Instant,
    /// Seconds past the header's whole-second timestamp at `started`.
    offset: f64,
}

impl Recorder {
    /// Starts recording to `path` (its header says `header`), a file of `shelf`'s.
    pub(super) fn start(path: PathBuf, header: Header, offset: f64, shelf: Arc<Shelf>, quota: u64) -> Arc<Self> {
        let shared = Arc::new(Shared {
            pending: Mutex::new(Pending::default()),
            closed: AtomicBool::new(false),
            wake: Notify::new(),
            dropped: AtomicU64::new(0),
        });
        tokio::spawn(write(shared.clone(), path, header, shelf, quota));
        Arc::new(Self { shared, started: Instant::now(), offset })
    }

    pub fn output(&self, bytes: &[u8]) {
        self.push(Code::Output, bytes);
    }

    pub fn input(&self, bytes: &[u8]) {
        self.push(Code::Input, bytes);
    }

    pub fn resize(&self, cols: u16, rows: u16) {
        self.push(Code::Resize, format!("{cols}x{rows}").as_bytes());
    }

    pub fn mark(&self, label: &str) {
        self.push(Code::Marker, label.as_bytes());
    }

    fn push(&self, code: Code, data: &[u8]) {
        // The recording ended (quota, disk): nothing more is kept.
        if self.shared.closed.load(Ordering::Relaxed) {
            return;
        }
        let at = self.offset + self.started.elapsed().as_secs_f64();
        let mut pending = self.shared.pending.lock().unwrap_or_else(|p| p.into_inner());
        if pending.bytes + data.len() > MAX_PER_WRITE {
            self.shared.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        pending.bytes += data.len();
        pending.entries.push(Entry { at, code, data: data.to_vec() });
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.shared.closed.store(true, Ordering::Relaxed);
        self.shared.wake.notify_one();
    }
}

/// Turns events into asciicast lines: output and input may cut a character in two, and their
/// stamps may cross by microseconds (two tasks), while a recording's times never go back.
struct Lines {
    last: f64,
    output: Utf8Stream,
    input: Utf8Stream,
}

impl Lines {
    fn text(&mut self, entries: Vec<Entry>, text: &mut String) {
        for entry in entries {
            let data = match entry.code {
                Code::Output => self.output.feed(&entry.data),
                Code::Input => self.input.feed(&entry.data),
                Code::Resize | Code::Marker => String::from_utf8_lossy(&entry.data).into_owned(),
            };
            if data.is_empty() {
                continue;
            }
            self.last = self.last.max(entry.at);
            text.push_str(&Event { time: self.last, code: entry.code, data }.line());
        }
    }
}

async fn write(shared: Arc<Shared>, path: PathBuf, header: Header, shelf: Arc<Shelf>, quota: u64) {
    let mut lines = Lines { last: 0.0, output: Utf8Stream::default(), input: Utf8Stream::default() };
    let mut text = header.line();
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut file = RecordingFile { path: path.clone(), created: false };
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = shared.wake.notified() => {}
        }
        let closed = shared.closed.load(Ordering::Relaxed);
        let entries = std::mem::take(&mut *shared.pending.lock().unwrap_or_else(|p| p.into_inner())).entries;
        lines.text(entries, &mut text);
        if !text.is_empty() {
            let batch = std::mem::take(&mut text);
            let Ok((returned, written)) = tokio::task::spawn_blocking(move || {
                let written = file.append(&batch);
                (file, written)
            })
            .await
            else {
                break;
            };
            file = returned;
            match written {
                Ok(bytes) => {
                    if !shelf.add(bytes, quota, &file.path).await {
                        tracing::warn!(path = %file.path.display(), "a learner's recordings reached their quota: this terminal is no longer recorded");
                        break;
                    }
                }
                Err(e) => {
                    // A full disk: the terminal goes on, its recording ends here.
                    tracing::warn!(path = %file.path.display(), "recording a terminal: {e}; this terminal is no longer recorded");
                    break;
                }
            }
        }
        if closed {
            break;
        }
    }
    // Whatever comes later is not kept.
    shared.closed.store(true, Ordering::Relaxed);
    *shared.pending.lock().unwrap_or_else(|p| p.into_inner()) = Pending::default();
    let dropped = shared.dropped.load(Ordering::Relaxed);
    if dropped > 0 {
        tracing::debug!(path = %path.display(), dropped, "output came faster than a recording keeps: some was left out");
    }
    shelf.closed(&path);
}

struct RecordingFile {
    path: PathBuf,
    created: bool,
}

impl RecordingFile {
    /// Appends `text` as one gzip member; the bytes the file grew by.
    fn append(&mut self, text: &str) -> std::io::Result<u64> {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(text.as_bytes())?;
        let member = gz.finish()?;
        if !self.created
            && let Some(dir) = self.path.parent()
        {
            std::fs::create_dir_all(dir)?;
        }
        let mut options = std::fs::OpenOptions::new();
        options.append(true).create(!self.created);
        let mut out = options.open(&self.path)?;
        self.created = true;
        out.write_all(&member)?;
        Ok(member.len() as u64)
    }
}
