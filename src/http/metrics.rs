//! `GET /metrics`: Prometheus text exposition of what operators watch — requests and
//! their latency per route and status class, the tile cache, the register's size and the
//! documents' text backlog.
//! Counted by a middleware on every request; routes are axum's matched paths (a bounded
//! set), never raw URLs.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::{AppState, NoParams, Params};
use crate::counter::PerThread;
use crate::model::Layer;

/// Upper bounds of the latency buckets, seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

#[derive(Debug, Default)]
struct Series {
    count: AtomicU64,
    /// Sum of durations in microseconds.
    sum_us: AtomicU64,
    buckets: [AtomicU64; BUCKETS.len()],
}

/// A series' figures summed over the threads' stripes.
#[derive(Debug, Default)]
struct Totals {
    count: u64,
    sum_us: u64,
    buckets: [u64; BUCKETS.len()],
}

const METHODS: [&str; 8] = [
    "GET", "POST", "PATCH", "HEAD", "PUT", "DELETE", "OPTIONS", "other",
];
const CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// One route's series, by method and status class, one set per thread stripe
/// ([`PerThread`]): every request adds to three counters, and on a shared cache line that
/// showed in the cached-tile profile.
#[derive(Debug, Default)]
struct Route {
    stripes: PerThread<[[Series; CLASSES.len()]; METHODS.len()], 4>,
}

impl Route {
    fn observe(&self, method: usize, class: usize, seconds: f64) {
        self.stripes.mine()[method][class].observe(seconds);
    }

    fn totals(&self, method: usize, class: usize) -> Totals {
        let mut t = Totals::default();
        for s in self.stripes.all() {
            let s = &s[method][class];
            t.count += s.count.load(Ordering::Relaxed);
            t.sum_us += s.sum_us.load(Ordering::Relaxed);
            for (b, v) in t.buckets.iter_mut().zip(&s.buckets) {
                *b += v.load(Ordering::Relaxed);
            }
        }
        t
    }
}

/// Request counters and latency histograms per route pattern, method and status class.
/// Looked up by the route's text under a read lock: no allocation per request.
#[derive(Debug)]
pub struct Metrics {
    routes: RwLock<HashMap<String, Arc<Route>>>,
    started: Instant,
    /// Tiles answered at the front door ([`super::door`]), counted under the tile route too.
    door: crate::counter::Striped,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            routes: Default::default(),
            started: Instant::now(),
            door: Default::default(),
        }
    }
}

impl Metrics {
    /// Counts a tile answered at the front door.
    pub fn door_answered(&self) {
        self.door.add(1);
    }
}

fn method_index(m: &axum::http::Method) -> usize {
    use axum::http::Method;
    match *m {
        Method::GET => 0,
        Method::POST => 1,
        Method::PATCH => 2,
        Method::HEAD => 3,
        Method::PUT => 4,
        Method::DELETE => 5,
        Method::OPTIONS => 6,
        _ => 7,
    }
}

fn class_index(status: u16) -> usize {
    usize::from((status / 100).clamp(1, 5)) - 1
}

impl Metrics {
    fn route(&self, path: &str) -> Arc<Route> {
        if let Some(r) = self
            .routes
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(path)
        {
            return r.clone();
        }
        self.routes
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .entry(path.to_string())
            .or_default()
            .clone()
    }
}

/// One route's series, looked up once: for a path that answers before routing
/// ([`super::hot`]) and must be counted as the route would have been.
#[derive(Debug, Clone)]
pub struct RouteMetrics(Arc<Route>);

impl Metrics {
    /// The series of the route with this pattern (as axum's `MatchedPath` writes it).
    pub fn for_route(&self, pattern: &str) -> RouteMetrics {
        RouteMetrics(self.route(pattern))
    }
}

impl RouteMetrics {
    /// Counts one answer of `status` to `method`, begun at `started`.
    pub fn observe(&self, method: &axum::http::Method, status: u16, started: Instant) {
        self.0.observe(
            method_index(method),
            class_index(status),
            started.elapsed().as_secs_f64(),
        );
    }
}

impl Series {
    fn observe(&self, seconds: f64) {
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_us
            .fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
        if let Some(i) = BUCKETS.iter().position(|b| seconds <= *b) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Requests no route matched: the web app's files, and 404s.
const FALLBACK: &str = "(web app files and not found)";

/// The middleware: times the request and counts it under its matched route.
pub async fn track(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = req.extensions().get::<MatchedPath>().cloned();
    let method = method_index(req.method());
    let res = next.run(req).await;
    let r = s
        .metrics
        .route(route.as_ref().map_or(FALLBACK, |p| p.as_str()));
    r.observe(
        method,
        class_index(res.status().as_u16()),
        started.elapsed().as_secs_f64(),
    );
    res
}

pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

async fn metrics(State(s): State<AppState>, Params(NoParams {}): Params<NoParams>) -> Response {
    let mut out = String::new();
    let routes: Vec<(String, Arc<Route>)> = {
        let map = s.metrics.routes.read().unwrap_or_else(|e| e.into_inner());
        let mut v: Vec<_> = map.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    };
    let series: Vec<(String, Totals)> = routes
        .iter()
        .flat_map(|(route, r)| {
            METHODS.iter().enumerate().flat_map(move |(m, method)| {
                CLASSES.iter().enumerate().map(move |(c, class)| {
                    (
                        format!(
                            "route=\"{}\",method=\"{method}\",status=\"{class}\"",
                            escape(route)
                        ),
                        r.totals(m, c),
                    )
                })
            })
        })
        .filter(|(_, t)| t.count > 0)
        .collect();
    let _ = writeln!(out, "# HELP heritage_atlas_http_requests_total Requests answered, by route, method and status class.");
    let _ = writeln!(out, "# TYPE heritage_atlas_http_requests_total counter");
    for (labels, v) in &series {
        let _ = writeln!(
            out,
            "heritage_atlas_http_requests_total{{{labels}}} {}",
            v.count
        );
    }
    let _ = writeln!(
        out,
        "# HELP heritage_atlas_http_request_duration_seconds Time to answer, by route and method."
    );
    let _ = writeln!(
        out,
        "# TYPE heritage_atlas_http_request_duration_seconds histogram"
    );
    for (labels, v) in &series {
        let mut cumulative = 0;
        for (i, b) in BUCKETS.iter().enumerate() {
            cumulative += v.buckets[i];
            let _ = writeln!(
                out,
                "heritage_atlas_http_request_duration_seconds_bucket{{{labels},le=\"{b}\"}} {cumulative}"
            );
        }
        let count = v.count;
        let _ = writeln!(
            out,
            "heritage_atlas_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            out,
            "heritage_atlas_http_request_duration_seconds_sum{{{labels}}} {}",
            v.sum_us as f64 / 1e6
        );
        let _ = writeln!(
            out,
            "heritage_atlas_http_request_duration_seconds_count{{{labels}}} {count}"
        );
    }
    let c = s.atlas.tiles().stats();
    for (name, kind, help, value) in [
        (
            "tile_door_answers_total",
            "counter",
            "Tiles answered from the cache at the front door, before hyper (also counted under the tile route).",
            s.metrics.door.sum(),
        ),
        (
            "tile_cache_hits_total",
            "counter",
            "Tile requests answered from the cache.",
            c.hits,
        ),
        (
            "tile_cache_misses_total",
            "counter",
            "Tile requests that had to draw the tile.",
            c.misses,
        ),
        (
            "tile_cache_invalidations_total",
            "counter",
            "Writes that dropped cached tiles.",
            c.invalidations,
        ),
        (
            "tile_cache_entries",
            "gauge",
            "Tiles in the cache.",
            c.entries,
        ),
        (
            "tile_cache_bytes",
            "gauge",
            "Weighted bytes held by the tile cache.",
            c.weighted_bytes,
        ),
        (
            "tile_sendfile_files",
            "gauge",
            "Big cached tiles also kept in memory files, sent with sendfile (each a file descriptor).",
            c.sendfile_files,
        ),
        (
            "tile_sendfile_bytes",
            "gauge",
            "Bytes of those memory files (beside the tile cache's, at most a quarter of its size).",
            c.sendfile_bytes,
        ),
    ] {
        let _ = writeln!(out, "# HELP heritage_atlas_{name} {help}");
        let _ = writeln!(out, "# TYPE heritage_atlas_{name} {kind}");
        let _ = writeln!(out, "heritage_atlas_{name} {value}");
    }
    let _ = writeln!(
        out,
        "# HELP heritage_atlas_assets Assets in the register, by layer."
    );
    let _ = writeln!(out, "# TYPE heritage_atlas_assets gauge");
    for l in Layer::ALL {
        let _ = writeln!(
            out,
            "heritage_atlas_assets{{layer=\"{l}\"}} {}",
            s.atlas.index().read(*l).len()
        );
    }
    let mut by_status: std::collections::BTreeMap<&'static str, u64> = Default::default();
    for st in crate::complaints::Status::ALL {
        by_status.insert(st.as_str(), 0);
    }
    for p in s.atlas.index().complaints().pins() {
        *by_status.entry(p.status.as_str()).or_default() += 1;
    }
    let _ = writeln!(
        out,
        "# HELP heritage_atlas_complaints Complaints on record, by status."
    );
    let _ = writeln!(out, "# TYPE heritage_atlas_complaints gauge");
    for (status, n) in by_status {
        let _ = writeln!(out, "heritage_atlas_complaints{{status=\"{status}\"}} {n}");
    }
    // Documents waiting for their text (OCR backlog), by state: one small GROUP BY.
    if let Ok(jobs) = s.atlas.store().text_job_counts().await {
        let _ = writeln!(
            out,
            "# HELP heritage_atlas_document_text_jobs Documents' text jobs, by state (queued and running: the OCR backlog)."
        );
        let _ = writeln!(out, "# TYPE heritage_atlas_document_text_jobs gauge");
        for state in ["queued", "running", "done", "failed"] {
            let n = jobs.iter().find(|(s, _)| s == state).map_or(0, |(_, n)| *n);
            let _ = writeln!(
                out,
                "heritage_atlas_document_text_jobs{{state=\"{state}\"}} {n}"
            );
        }
    }
    // Messages to reporters, by state: `uncertain` and `failed` want a person.
    if let Ok(counts) = s.atlas.store().notification_counts().await {
        let _ = writeln!(
            out,
            "# HELP heritage_atlas_notifications Messages to reporters in the outbox, by state (uncertain and failed need staff)."
        );
        let _ = writeln!(out, "# TYPE heritage_atlas_notifications gauge");
        for state in crate::store::NOTIFICATION_STATES {
            let n = counts
                .iter()
                .find(|(s, _)| s == state)
                .map_or(0, |(_, n)| *n);
            let _ = writeln!(out, "heritage_atlas_notifications{{state=\"{state}\"}} {n}");
        }
    }
    let uptime = s.metrics.started.elapsed().as_secs_f64();
    let _ = writeln!(
        out,
        "# HELP heritage_atlas_uptime_seconds Seconds since the server started."
    );
    let _ = writeln!(out, "# TYPE heritage_atlas_uptime_seconds gauge");
    let _ = writeln!(out, "heritage_atlas_uptime_seconds {uptime:.3}");
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response()
}
