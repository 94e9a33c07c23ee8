//! Learners' terminals: shells in their sandboxes that outlive the WebSocket. Each terminal keeps
//! a bounded scrollback and fans its output out to every attached browser tab.
//!
//! Backpressure: output is read from the PTY only as fast as the attached browsers take it
//! (each gets a small bounded queue), so `yes` or a 100 MB `cat` stalls in the kernel's PTY
//! buffer instead of in server memory; Ctrl-C still goes through at once because input has its
//! own path. A browser that takes nothing for `STALL` (30 s) is dropped (it reconnects and gets the
//! scrollback). With nobody attached, output is still read, at a trickle.

mod budget;
pub mod integration;
mod protocol;
mod saved;
mod scrollback;
#[cfg(test)]
mod socket_tests;
pub mod ws;

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sandbox::{PtySize, Shell, ShellControl, ShellRequest};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::recordings::{Recorder, Recordings};
use crate::sandboxes::{Sandboxes, Status};
pub use protocol::{ClientMessage, ServerMessage};
pub use saved::SavedScreens;
use scrollback::Scrollback;

/// Terminals (tabs) a learner may have at once.
pub const MAX_TABS: u32 = 8;
const SCROLLBACK: usize = 256 * 1024;
/// Chunks queued per browser before the PTY reader waits for it.
const QUEUE: usize = 16;
/// A browser that accepts nothing for this long is dropped (generous: a slow link or a busy
/// machine must not lose its terminal; a dead one is also caught by the keep-alive).
const STALL: Duration = Duration::from_secs(30);
/// Reading speed with nobody attached (bytes per second).
const UNATTENDED_RATE: f64 = 256.0 * 1024.0;

/// Who typed into a terminal: its learner, or the instructor after taking over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Typist {
    Learner,
    Instructor,
}

/// Where the commands a terminal sees finish go (the check engine), with who typed each.
pub trait CommandSink: Send + Sync {
    fn command(self: Arc<Self>, learner: &str, record: crate::store::CommandRecord, typist: Typist);
}

pub enum Event {
    Output(Arc<[u8]>),
    Resize(PtySize),
    Exit(i32),
}

struct Shared {
    scrollback: Scrollback,
    subscribers: Vec<mpsc::Sender<Event>>,
    exit: Option<i32>,
    size: PtySize,
    /// Output not yet on disk (see `saved`), when the screen is kept there.
    unsaved: Vec<u8>,
    /// More came than `unsaved` holds: the saved copy is rewritten from the scrollback.
    unsaved_overflowed: bool,
    saving: bool,
}

pub struct Terminal {
    pub learner: String,
    pub tab: u32,
    input: tokio::sync::Mutex<Pin<Box<dyn AsyncWrite + Send + Sync>>>,
    control: Box<dyn ShellControl>,
    shared: Mutex<Shared>,
    /// Whether the instructor typed last (the commands that starts are theirs).
    instructor_typed_last: std::sync::atomic::AtomicBool,
    /// Cancelled when the shell has ended.
    ended: tokio_util::sync::CancellationToken,
    /// Where this terminal session is recorded, if it is.
    recorder: Option<Arc<Recorder>>,
}

/// What is kept of a terminal beyond its scrollback: its screen on disk (the path, and what
/// this tab showed before the server's last end), and its recording.
struct Kept {
    saved: Option<(std::path::PathBuf, Option<Vec<u8>>)>,
    recorder: Option<Arc<Recorder>>,
}

/// What one attaching browser gets: the scrollback so far, then events.
pub struct Attachment {
    pub terminal: Arc<Terminal>,
    pub replay: Vec<u8>,
    /// The PTY's size when attaching.
    pub size: PtySize,
    pub events: mpsc::Receiver<Event>,
}

#[derive(Debug, thiserror::Error)]
pub enum AttachError {
    #[error("the sandbox is not running")]
    Stopped,
    #[error("terminal {0} does not exist: use 1 to {MAX_TABS}")]
    NoSuchTab(u32),
    #[error("{0}")]
    Sandbox(#[from] sandbox::Error),
}

impl AttachError {
    /// What the browser is told: a sandbox's own error as a plain sentence, its host details
    /// only in [`AttachError::report`].
    pub fn for_browser(&self) -> String {
        match self {
            AttachError::Sandbox(e) => crate::sandboxes::said(e),
            other => other.to_string(),
        }
    }

    /// The whole error, for the server's log.
    pub fn report(&self) -> String {
        match self {
            AttachError::Sandbox(e) => e.report(),
            other => other.to_string(),
        }
    }
}

impl Terminal {
    /// Starts copying `shell`'s output, keeping it as `kept` says.
    fn start(
        learner: String,
        tab: u32,
        size: PtySize,
        shell: Shell,
        sink: Option<Arc<dyn CommandSink>>,
        kept: Kept,
        on_end: impl FnOnce() + Send + 'static,
    ) -> Arc<Self> {
        let Kept { saved, recorder } = kept;
        let Shell { output, input, control } = shell;
        let mut scrollback = Scrollback::new(SCROLLBACK);
        if let Some((_, Some(restored))) = &saved {
            scrollback.push(restored);
        }
        let shared = Shared {
            scrollback,
            subscribers: Vec::new(),
            exit: None,
            size,
            unsaved: Vec::new(),
            unsaved_overflowed: false,
            saving: saved.is_some(),
        };
        let terminal = Arc::new(Self {
            learner,
            tab,
            input: tokio::sync::Mutex::new(input),
            control,
            shared: Mutex::new(shared),
            instructor_typed_last: std::sync::atomic::AtomicBool::new(false),
            ended: tokio_util::sync::CancellationToken::new(),
            recorder,
        });
        if let Some((path, _)) = saved {
            tokio::spawn(saved::keep(Arc::downgrade(&terminal), terminal.ended.clone(), path, SCROLLBACK));
        }
        tokio::spawn(pump(terminal.clone(), output, sink, on_end));
        terminal
    }

    fn subscribe(self: &Arc<Self>) -> Attachment {
        let (tx, rx) = mpsc::channel(QUEUE);
        let mut shared = self.shared.lock().unwrap_or_else(|p| p.into_inner());
        // Under the same lock as the reader appends: nothing is missed or sent twice.
        let replay = shared.scrollback.contents();
        if let Some(code) = shared.exit {
            let _ = tx.try_send(Event::Exit(code));
        } else {
            shared.subscribers.push(tx);
        }
        Attachment { terminal: self.clone(), replay, size: shared.size, events: rx }
    }

    pub async fn write(&self, bytes: &[u8], typist: Typist) -> std::io::Result<()> {
        self.instructor_typed_last.store(typist == Typist::Instructor, std::sync::atomic::Ordering::Relaxed);
        // A password typed with echo off is not recorded; nor is anything where the backend
        // cannot tell.
        if let Some(recorder) = &self.recorder
            && self.control.input_hidden() == Some(false)
        {
            recorder.input(bytes);
        }
        let mut input = self.input.lock().await;
        input.write_all(bytes).await?;
        input.flush().await
    }

    /// Resizes the PTY and tells every attached browser (watchers draw at this size).
    pub fn resize(&self, size: PtySize) -> std::io::Result<()> {
        self.control.resize(size)?;
        let mut shared = self.shared.lock().unwrap_or_else(|p| p.into_inner());
        if shared.size != size {
            shared.size = size;
            if let Some(recorder) = &self.recorder {
                recorder.resize(size.cols, size.rows);
            }
            for tx in &shared.subscribers {
                // A browser too busy to take this gets the size at its next attach.
                let _ = tx.try_send(Event::Resize(size));
            }
        }
        Ok(())
    }

    fn typist(&self) -> Typist {
        if self.instructor_typed_last.load(std::sync::atomic::Ordering::Relaxed) { Typist::Instructor } else { Typist::Learner }
    }

    fn ended(&self) -> bool {
        self.shared.lock().unwrap_or_else(|p| p.into_inner()).exit.is_some()
    }

    pub fn kill(&self) {
        self.control.kill();
    }
}

/// Copies the shell's output to the scrollback and the attached browsers until it ends.
async fn pump(
    terminal: Arc<Terminal>,
    mut output: Pin<Box<dyn AsyncRead + Send + Sync>>,
    sink: Option<Arc<dyn CommandSink>>,
    on_end: impl FnOnce(),
) {
    let mut buf = vec![0u8; 16 * 1024];
    let mut integration = integration::Integration::default();
    let mut budget = budget::CommandBudget::new(std::time::Instant::now());
    let mut said_dropped = std::time::Instant::now();
    loop {
        let n = match output.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if let Some(recorder) = &terminal.recorder {
            recorder.output(&buf[..n]);
        }
        if let Some(sink) = &sink {
            let typist = terminal.typist();
            let finished = integration.feed(&buf[..n], typist);
            // Each command a marker where it starts: what a replay's search finds.
            for command in integration.take_started() {
                if let Some(recorder) = &terminal.recorder {
                    recorder.mark(&format!("$ {}", budget::capped(command)));
                }
            }
            for (mut record, typist) in finished {
                let now = std::time::Instant::now();
                if budget.take(now) {
                    record.command = budget::capped(record.command);
                    sink.clone().command(&terminal.learner, record, typist);
                } else if now.duration_since(said_dropped) > Duration::from_secs(60) {
                    said_dropped = now;
                    tracing::warn!(learner = %terminal.learner, dropped = budget.dropped, "a terminal reports commands faster than anyone types: the excess is not recorded");
                    budget.dropped = 0;
                }
            }
        }
        let chunk: Arc<[u8]> = Arc::from(&buf[..n]);
        let subscribers = {
            let mut shared = terminal.shared.lock().unwrap_or_else(|p| p.into_inner());
            shared.scrollback.push(&chunk);
            if shared.saving {
                if shared.unsaved.len() + chunk.len() > SCROLLBACK {
                    shared.unsaved.clear();
                    shared.unsaved_overflowed = true;
                } else {
                    shared.unsaved.extend_from_slice(&chunk);
                }
            }
            shared.subscribers.clone()
        };
        if subscribers.is_empty() {
            tokio::time::sleep(Duration::from_secs_f64(n as f64 / UNATTENDED_RATE)).await;
            continue;
        }
        let mut gone = Vec::new();
        for (i, tx) in subscribers.iter().enumerate() {
            match tokio::time::timeout(STALL, tx.send(Event::Output(chunk.clone()))).await {
                Ok(Ok(())) => {}
                _ => gone.push(i),
            }
        }
        if !gone.is_empty() {
            let mut shared = terminal.shared.lock().unwrap_or_else(|p| p.into_inner());
            shared.subscribers.retain(|s| !gone.iter().any(|&i| subscribers[i].same_channel(s)));
        }
    }
    // The shell ended: its exit code to everyone, then the registry forgets the terminal.
    let code = terminal.control.wait().await;
    let subscribers = {
        let mut shared = terminal.shared.lock().unwrap_or_else(|p| p.into_inner());
        shared.exit = Some(code);
        std::mem::take(&mut shared.subscribers)
    };
    for tx in subscribers {
        let _ = tx.try_send(Event::Exit(code));
    }
    terminal.ended.cancel();
    on_end();
}

/// Every learner's terminals.
pub struct Terminals {
    sandboxes: Arc<Sandboxes>,
    sink: Option<Arc<dyn CommandSink>>,
    saved: Option<SavedScreens>,
    recordings: Option<Arc<Recordings>>,
    map: Arc<Mutex<TerminalMap>>,
}

/// Open terminals by (learner, tab).
type TerminalMap = HashMap<(String, u32), Arc<Terminal>>;

impl Terminals {
    /// `saved`: where screens are kept across a server's end (none: they are not).
    pub fn new(sandboxes: Arc<Sandboxes>, sink: Option<Arc<dyn CommandSink>>, saved: Option<SavedScreens>) -> Self {
        Self { sandboxes, sink, saved, recordings: None, map: Arc::new(Mutex::new(HashMap::new())) }
    }

    /// Records every terminal opened from now on (as its learner's class says).
    pub fn recorded(mut self, recordings: Arc<Recordings>) -> Self {
        self.recordings = Some(recordings);
        self
    }

    pub fn sandboxes(&self) -> &Arc<Sandboxes> {
        &self.sandboxes
    }

    /// Memory the open terminals' scrollback holds (for /metrics): each grows with its output
    /// up to its bound, so a class's server grows until every terminal has that much output.
    pub fn scrollback_bytes(&self) -> usize {
        let terminals: Vec<Arc<Terminal>> = self.map.lock().unwrap_or_else(|p| p.into_inner()).values().cloned().collect();
        terminals.iter().map(|t| t.shared.lock().unwrap_or_else(|p| p.into_inner()).scrollback.len()).sum()
    }

    /// Attaches to the learner's terminal `tab`, opening a shell if it has none. A stopped
    /// sandbox is started only when `start` is set (a reconnect must not quietly restart an
    /// expired sandbox: the learner is told and chooses).
    pub async fn attach(&self, learner: &str, tab: u32, size: PtySize, start: bool) -> Result<Attachment, AttachError> {
        if tab == 0 || tab > MAX_TABS {
            return Err(AttachError::NoSuchTab(tab));
        }
        let key = (learner.to_string(), tab);
        let existing = self.map.lock().unwrap_or_else(|p| p.into_inner()).get(&key).cloned();
        if let Some(terminal) = existing.filter(|t| !t.ended()) {
            return Ok(terminal.subscribe());
        }
        if !start && matches!(self.sandboxes.status(learner), Status::Stopped) {
            return Err(AttachError::Stopped);
        }
        let shell = self.sandboxes.open_shell(learner, ShellRequest { size, ..Default::default() }).await?;
        let map = self.map.clone();
        let forget = key.clone();
        let saved = self.saved.as_ref().map(|s| (s.path(learner, tab), s.restore(learner, tab, SCROLLBACK)));
        let recorder = match &self.recordings {
            Some(recordings) => recordings.start(learner, tab, size.cols, size.rows).await,
            None => None,
        };
        let terminal = Terminal::start(learner.to_string(), tab, size, shell, self.sink.clone(), Kept { saved, recorder }, move || {
            let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
            if map.get(&forget).is_some_and(|t| t.ended()) {
                map.remove(&forget);
            }
        });
        let attachment = terminal.subscribe();
        // Two browsers racing to open the same tab: keep the first shell, end the second.
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(&key) {
            Some(first) if !first.ended() => {
                terminal.kill();
                Ok(first.subscribe())
            }
            _ => {
                map.insert(key, terminal);
                Ok(attachment)
            }
        }
    }

    /// Attaches to the learner's terminal `tab` if it is open (the instructor watching: this
    /// never opens a shell or starts a sandbox).
    pub fn watch(&self, learner: &str, tab: u32) -> Option<Attachment> {
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&(learner.to_string(), tab)).filter(|t| !t.ended()).map(|t| t.subscribe())
    }

    /// The learner's open terminals.
    pub fn tabs(&self, learner: &str) -> Vec<u32> {
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        let mut tabs: Vec<u32> = map.keys().filter(|(l, _)| l == learner).map(|(_, t)| *t).collect();
        tabs.sort();
        tabs
    }
}
