//! One terminal's recording: the terminal hands events over without waiting (a full queue drops
//! the event, never the keystroke), and a task of its own writes them once a second as a gzip
//! member appended to the file, so a crash loses at most the last second and a slow or full disk
//! costs the recording only.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::cast::{Code, Event, Header, Utf8Stream};
use super::shelf::Shelf;

/// How often what came is written.
const EVERY: Duration = Duration::from_secs(1);
/// Events waiting for the writer task (it takes them as they come; this only fills when the
/// server is starved).
const QUEUE: usize = 256;
/// Text written per second at most: a flood of output (`yes`, a 100 MB `cat`) is cut from the
/// recording, not from the screen.
const MAX_PER_FLUSH: usize = 512 * 1024;

struct Entry {
    at: f64,
    code: Code,
    data: Vec<u8>,
}

/// The terminal's end: cheap to call from the PTY reader and the input path.
pub struct Recorder {
    tx: mpsc::Sender<Entry>,
    started: Instant,
    /// Seconds past the header's whole-second timestamp at `started`.
    offset: f64,
    dropped: AtomicU64,
}

impl Recorder {
    /// Starts recording to `path` (its header says `header`), a file of `shelf`'s.
    pub(super) fn start(path: PathBuf, header: Header, offset: f64, shelf: Arc<Shelf>, quota: u64) -> Arc<Self> {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(write(rx, path, header, shelf, quota));
        Arc::new(Self { tx, started: Instant::now(), offset, dropped: AtomicU64::new(0) })
    }

    pub fn output(&self, bytes: &[u8]) {
        self.send(Code::Output, bytes.to_vec());
    }

    pub fn input(&self, bytes: &[u8]) {
        self.send(Code::Input, bytes.to_vec());
    }

    pub fn resize(&self, cols: u16, rows: u16) {
        self.send(Code::Resize, format!("{cols}x{rows}").into_bytes());
    }

    pub fn mark(&self, label: &str) {
        self.send(Code::Marker, label.as_bytes().to_vec());
    }

    /// Events the queue had no room for.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    fn send(&self, code: Code, data: Vec<u8>) {
        let at = self.offset + self.started.elapsed().as_secs_f64();
        if self.tx.try_send(Entry { at, code, data }).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// What has come since the last write, as asciicast lines.
struct Batch {
    text: String,
    last: f64,
    output: Utf8Stream,
    input: Utf8Stream,
    skipped: u64,
}

impl Batch {
    fn add(&mut self, entry: Entry) {
        if self.text.len() >= MAX_PER_FLUSH {
            self.skipped += 1;
            return;
        }
        let data = match entry.code {
            Code::Output => self.output.feed(&entry.data),
            Code::Input => self.input.feed(&entry.data),
            Code::Resize | Code::Marker => String::from_utf8_lossy(&entry.data).into_owned(),
        };
        if data.is_empty() {
            return;
        }
        // Input and output come from different tasks: their stamps may cross by microseconds,
        // and a recording's times never go back.
        self.last = self.last.max(entry.at);
        self.text.push_str(&Event { time: self.last, code: entry.code, data }.line());
    }
}

async fn write(mut rx: mpsc::Receiver<Entry>, path: PathBuf, header: Header, shelf: Arc<Shelf>, quota: u64) {
    let mut batch = Batch { text: header.line(), last: 0.0, output: Utf8Stream::default(), input: Utf8Stream::default(), skipped: 0 };
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut file = RecordingFile { path, created: false };
    loop {
        let open = tokio::select! {
            entry = rx.recv() => match entry {
                Some(entry) => { batch.add(entry); continue; }
                None => false,
            },
            _ = tick.tick() => true,
        };
        if !batch.text.is_empty() {
            let text = std::mem::take(&mut batch.text);
            let (returned, written) = match tokio::task::spawn_blocking(move || {
                let written = file.append(&text);
                (file, written)
            })
            .await
            {
                Ok(done) => done,
                Err(_) => return,
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
            if batch.skipped > 0 {
                tracing::debug!(path = %file.path.display(), skipped = batch.skipped, "output faster than a recording keeps");
                batch.skipped = 0;
            }
        }
        if !open {
            break;
        }
    }
    shelf.closed(&file.path);
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
