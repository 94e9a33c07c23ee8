//! Prometheus metrics (`GET /metrics`, the instructor's bearer token or session): HTTP latency
//! per route, checks and their latency, open WebSockets and event streams, sandboxes.
//!
//! One registry for the process, as Prometheus clients usually keep it: the places that count
//! (the check engine, the terminal socket, the HTTP layer) are far apart and need no handle
//! passed through. Sandbox counts are read at scrape time, so they are never stale.

use std::sync::LazyLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use futures::{Stream, StreamExt};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    pub method: String,
    /// The route as declared (`/labs/{id}`), never the raw path: bounded cardinality.
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CheckLabels {
    /// `passed` or `failed` (a check that timed out or could not run has failed).
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StreamLabels {
    /// `terminal` (WebSocket), `learner-events`, `dashboard-events`, `follow` (SSE).
    pub kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SandboxLabels {
    pub state: &'static str,
}

pub struct Metrics {
    registry: Registry,
    pub http: Family<HttpLabels, Histogram>,
    pub checks: Family<CheckLabels, Counter>,
    pub check_seconds: Histogram,
    pub streams: Family<StreamLabels, Gauge>,
    pub sandboxes: Family<SandboxLabels, Gauge>,
    /// SQLite's own heap (its page caches, above all), set at each scrape.
    pub sqlite_memory: Gauge,
    /// The terminals' scrollback, set at each scrape.
    pub scrollback: Gauge,
    /// The allocator's heap, set at each scrape: `in_use` is what the program holds in the arenas,
    /// `free` what malloc keeps there for reuse, `mapped` its big blocks (mappings of their own).
    /// RSS alone cannot tell a leak (in use grows) from fragmentation (free grows).
    pub heap: Family<HeapLabels, Gauge>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HeapLabels {
    pub state: &'static str,
}

fn latency() -> Histogram {
    // 0.5 ms to about 33 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 17))
}

pub static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let mut registry = Registry::with_prefix("stacklab");
    let http = Family::<HttpLabels, Histogram>::new_with_constructor(latency as fn() -> Histogram);
    registry.register("http_request_duration_seconds", "HTTP requests by route and status, until the response starts", http.clone());
    let checks = Family::<CheckLabels, Counter>::default();
    registry.register("checks", "Step checks run in learners' sandboxes", checks.clone());
    let check_seconds = latency();
    registry.register("check_duration_seconds", "Step checks, from start to result", check_seconds.clone());
    let streams = Family::<StreamLabels, Gauge>::default();
    registry.register("open_streams", "Open terminal WebSockets and event streams", streams.clone());
    let sandboxes = Family::<SandboxLabels, Gauge>::default();
    registry.register("sandboxes", "Learners' sandboxes this server holds", sandboxes.clone());
    let sqlite_memory = Gauge::default();
    registry.register(
        "sqlite_memory_bytes",
        "Memory SQLite holds in this process: its heap and its page caches (up to 512 KiB per pooled connection)",
        sqlite_memory.clone(),
    );
    let scrollback = Gauge::default();
    registry.register(
        "terminal_scrollback_bytes",
        "Memory the open terminals' scrollback holds (up to 256 KiB each, filled by their output)",
        scrollback.clone(),
    );
    let heap = Family::<HeapLabels, Gauge>::default();
    registry.register(
        "heap_bytes",
        "The allocator's heap: in use by the server, free but kept by malloc, and big blocks mapped on their own (resident where written)",
        heap.clone(),
    );
    Metrics { registry, http, checks, check_seconds, streams, sandboxes, sqlite_memory, scrollback, heap }
});

impl Metrics {
    /// The text exposition format.
    pub fn render(&self) -> String {
        // SAFETY: a read of SQLite's allocation counter, which it keeps for any thread.
        let allocated = unsafe { libsqlite3_sys::sqlite3_memory_used() };
        self.sqlite_memory.set(allocated + crate::store::page_cache::in_use());
        if let Some(heap) = crate::allocator::heap() {
            self.heap.get_or_create(&HeapLabels { state: "in_use" }).set(heap.in_use as i64);
            self.heap.get_or_create(&HeapLabels { state: "free" }).set(heap.free as i64);
            self.heap.get_or_create(&HeapLabels { state: "mapped" }).set(heap.mapped as i64);
        }
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }

    pub fn check_done(&self, passed: bool, started: Instant) {
        self.checks.get_or_create(&CheckLabels { outcome: if passed { "passed" } else { "failed" } }).inc();
        self.check_seconds.observe(started.elapsed().as_secs_f64());
    }

    /// Counts a stream open until the guard drops (the connection ended, however it ended).
    pub fn stream_open(&self, kind: &'static str) -> StreamGuard {
        self.streams.get_or_create(&StreamLabels { kind }).inc();
        StreamGuard { kind }
    }
}

/// `stream`, counted as an open stream of `kind` until it is dropped (the client left, the
/// server shut down).
pub fn counted<S: Stream>(kind: &'static str, stream: S) -> impl Stream<Item = S::Item> {
    let open = METRICS.stream_open(kind);
    stream.map(move |item| {
        let _counted = &open;
        item
    })
}

pub struct StreamGuard {
    kind: &'static str,
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        METRICS.streams.get_or_create(&StreamLabels { kind: self.kind }).dec();
    }
}

/// The HTTP layer: every request's latency under its declared route.
pub async fn track(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let route = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string()).unwrap_or_else(|| "(other)".into());
    let response = next.run(request).await;
    METRICS.http.get_or_create(&HttpLabels { method, route, status: response.status().as_u16() }).observe(started.elapsed().as_secs_f64());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_counted_while_open_and_the_text_format_names_everything() {
        let before = METRICS.streams.get_or_create(&StreamLabels { kind: "terminal" }).get();
        let guard = METRICS.stream_open("terminal");
        assert_eq!(METRICS.streams.get_or_create(&StreamLabels { kind: "terminal" }).get(), before + 1);
        drop(guard);
        assert_eq!(METRICS.streams.get_or_create(&StreamLabels { kind: "terminal" }).get(), before);
        METRICS.check_done(true, Instant::now());
        let text = METRICS.render();
        for name in ["stacklab_checks_total{outcome=\"passed\"}", "stacklab_check_duration_seconds_bucket", "stacklab_open_streams"] {
            assert!(text.contains(name), "{name} in:\n{text}");
        }
    }
}
