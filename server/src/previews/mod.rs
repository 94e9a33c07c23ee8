//! Web previews: a learner's service listening on a port inside their sandbox, opened in a
//! browser tab. Each (learner, port) gets a listener of its own on the host, so each preview is
//! an origin of its own (origins differ by port): a learner's page can neither read another
//! preview's nor Stacklab's responses, and Stacklab's API refuses its cross-origin requests
//! (web/guard.rs). Cookies do not tell ports apart, which is how the session reaches the preview
//! listener to say who is looking; the proxy takes Stacklab's cookie out before the learner's
//! service sees the request (proxy.rs), and the session cookie is HttpOnly, so no script reads it.
//!
//! This module keeps the listeners: it opens them on demand from the configured port range,
//! closes the ones nobody used for [`PreviewSettings::idle`], and bounds how many there are.
//! What a listener serves is the web layer's (web/preview.rs).

pub mod ports;
pub mod proxy;
pub mod shares;

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Previews one learner may have open at once: opening another closes their least recently
/// used one (a browser tab on it gets "not open" and reopens it from the workbook).
pub const PER_LEARNER: usize = 8;

/// How long a preview nobody uses stays open.
pub const IDLE: Duration = Duration::from_secs(30 * 60);

#[derive(Clone, Debug)]
pub struct PreviewSettings {
    /// The address the listeners bind (the main listener's).
    pub bind: IpAddr,
    /// Where preview ports come from: a fixed range (for a firewall) or any free port.
    pub ports: PortRange,
    /// A preview nobody used for this long is closed.
    pub idle: Duration,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortRange {
    /// Any port the kernel gives.
    Any,
    Fixed(RangeInclusive<u16>),
    /// Previews are switched off.
    Off,
}

impl std::str::FromStr for PortRange {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "any" => Ok(Self::Any),
            "off" => Ok(Self::Off),
            range => {
                let bad = || format!("{range:?} is not a port range: write FIRST-LAST (e.g. 20000-20099), \"any\" or \"off\"");
                let (first, last) = range.split_once('-').ok_or_else(bad)?;
                let (first, last): (u16, u16) = (first.trim().parse().map_err(|_| bad())?, last.trim().parse().map_err(|_| bad())?);
                if first == 0 || first > last {
                    return Err(bad());
                }
                Ok(Self::Fixed(first..=last))
            }
        }
    }
}

/// When a listener was last used, and how many of its connections are still open (a
/// WebSocket keeps a preview open however long it stays quiet).
#[derive(Debug)]
pub struct Activity {
    last: Mutex<Instant>,
    open: AtomicUsize,
}

impl Activity {
    fn new() -> Self {
        Self { last: Mutex::new(Instant::now()), open: AtomicUsize::new(0) }
    }

    pub fn touch(&self) {
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
    }

    /// Counts a connection open until the guard drops.
    pub fn hold(self: &Arc<Self>) -> Held {
        self.open.fetch_add(1, Ordering::Relaxed);
        Held(self.clone())
    }

    fn idle_for(&self) -> Option<Duration> {
        (self.open.load(Ordering::Relaxed) == 0).then(|| self.last.lock().unwrap_or_else(|p| p.into_inner()).elapsed())
    }
}

pub struct Held(Arc<Activity>);

impl Drop for Held {
    fn drop(&mut self) {
        self.0.touch();
        self.0.open.fetch_sub(1, Ordering::Relaxed);
    }
}

struct Open {
    port: u16,
    activity: Arc<Activity>,
    stop: CancellationToken,
}

#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    #[error("web previews are switched off on this server")]
    Off,
    #[error("every preview port ({0}) is in use")]
    NoPort(String),
    #[error("opening a preview listener: {0}")]
    Listen(std::io::Error),
}

pub struct Previews {
    /// The learners' share links (see `shares`).
    pub shares: shares::Shares,
    settings: PreviewSettings,
    open: Mutex<HashMap<(String, u16), Open>>,
    shutdown: CancellationToken,
}

impl Previews {
    pub fn new(settings: PreviewSettings, shutdown: CancellationToken) -> Arc<Self> {
        let previews = Arc::new(Self { shares: shares::Shares::default(), settings, open: Mutex::default(), shutdown: shutdown.clone() });
        let sweeping = Arc::downgrade(&previews);
        crate::periodic::spawn_every(Duration::from_secs(30), shutdown, move || {
            let previews = sweeping.upgrade();
            async move {
                if let Some(previews) = previews {
                    previews.close_idle();
                }
            }
        });
        previews
    }

    pub fn enabled(&self) -> bool {
        self.settings.ports != PortRange::Off
    }

    /// The host port of `learner`'s preview of their sandbox's `port`: the open one, or a new
    /// listener handed to `serve` (which serves until its token is cancelled).
    pub async fn open<F, Fut>(&self, learner: &str, port: u16, serve: F) -> Result<u16, PreviewError>
    where
        F: FnOnce(TcpListener, Arc<Activity>, CancellationToken) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let key = (learner.to_string(), port);
        if let Some(open) = self.locked().get(&key) {
            open.activity.touch();
            return Ok(open.port);
        }
        let listener = self.bind().await?;
        let host_port = listener.local_addr().map_err(PreviewError::Listen)?.port();
        let activity = Arc::new(Activity::new());
        let stop = self.shutdown.child_token();
        let mut open = self.locked();
        if let Some(raced) = open.get(&key) {
            // Another request opened it meanwhile: theirs stays, this listener closes.
            return Ok(raced.port);
        }
        let theirs: Vec<_> = open.iter().filter(|((owner, _), _)| owner == learner).map(|(k, o)| (k.clone(), o.activity.last())).collect();
        if theirs.len() >= PER_LEARNER
            && let Some((oldest, _)) = theirs.into_iter().min_by_key(|(_, last)| *last)
            && let Some(closed) = open.remove(&oldest)
        {
            closed.stop.cancel();
        }
        tokio::spawn(serve(listener, activity.clone(), stop.clone()));
        open.insert(key, Open { port: host_port, activity, stop });
        tracing::info!(%learner, port, host_port, "preview opened");
        Ok(host_port)
    }

    /// The sandbox port `host_port` previews, and whose it is.
    pub fn previewing(&self, host_port: u16) -> Option<(String, u16)> {
        self.locked().iter().find(|(_, o)| o.port == host_port).map(|(k, _)| k.clone())
    }

    /// The learner's open previews: (sandbox port, host port).
    pub fn of(&self, learner: &str) -> Vec<(u16, u16)> {
        let mut ports: Vec<_> = self.locked().iter().filter(|((owner, _), _)| owner == learner).map(|((_, p), o)| (*p, o.port)).collect();
        ports.sort_unstable();
        ports
    }

    /// Closes every preview of the learner's (their sandbox stopped or was reset).
    pub fn close_all(&self, learner: &str) {
        self.locked().retain(|(owner, _), open| {
            let keep = owner != learner;
            if !keep {
                open.stop.cancel();
            }
            keep
        });
    }

    fn close_idle(&self) {
        let idle = self.settings.idle;
        self.locked().retain(|(learner, port), open| {
            let keep = open.activity.idle_for().is_none_or(|quiet| quiet < idle);
            if !keep {
                tracing::info!(%learner, port, "preview closed: idle");
                open.stop.cancel();
            }
            keep
        });
    }

    async fn bind(&self) -> Result<TcpListener, PreviewError> {
        let ip = self.settings.bind;
        match &self.settings.ports {
            PortRange::Off => Err(PreviewError::Off),
            PortRange::Any => TcpListener::bind(SocketAddr::new(ip, 0)).await.map_err(PreviewError::Listen),
            PortRange::Fixed(range) => {
                let taken: Vec<u16> = self.locked().values().map(|o| o.port).collect();
                for port in range.clone().filter(|p| !taken.contains(p)) {
                    match TcpListener::bind(SocketAddr::new(ip, port)).await {
                        Ok(listener) => return Ok(listener),
                        // Another program has it: the next one.
                        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => continue,
                        Err(e) => return Err(PreviewError::Listen(e)),
                    }
                }
                Err(PreviewError::NoPort(format!("{}-{}", range.start(), range.end())))
            }
        }
    }

    fn locked(&self) -> std::sync::MutexGuard<'_, HashMap<(String, u16), Open>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Activity {
    fn last(&self) -> Instant {
        *self.last.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests;
