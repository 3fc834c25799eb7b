//! The HTTP surface (axum): one file per resource, each with `fn router()`, merged here.

mod applications;
mod assets;
mod assets_static;
mod audit;
pub mod auth;
pub mod body;
mod cases;
pub mod complaints;
mod documents;
pub mod door;
pub mod error;
mod feed;
pub mod guard;
mod hcc;
mod health;
mod history;
pub mod hot;
mod idempotency;
mod locks;
pub mod metrics;
mod moderation;
mod notify;
mod ogc;
mod open311;
mod openapi;
mod proposals;
mod query;
mod screening;
pub mod serve;
mod stats;
mod tiles;
mod versions;
mod watch;

use std::sync::Arc;

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::Router;
use geo_types::Point;
use serde::de::DeserializeOwned;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::cors::CorsLayer;
use tower_http::trace::TraceLayer;

use std::time::Duration;

use crate::atlas::Atlas;
use crate::config::{defaults, ServeArgs};
use crate::model::Layer;
pub use assets_static::warm as warm_static_files;
pub use error::ApiError;

/// What every handler can reach.
#[derive(Clone, Debug)]
pub struct AppState {
    pub atlas: Arc<Atlas>,
    /// `Cache-Control: max-age` of asset-layer tiles, seconds.
    pub tile_max_age: u32,
    /// `Cache-Control: max-age` of tiles holding the complaints layer (it changes with
    /// every report), seconds. A tile of several layers gets the shortest.
    pub complaints_max_age: u32,
    /// Complaints (and supports) per client per minute.
    pub limiter: Arc<auth::RateLimiter>,
    /// Behind a reverse proxy (`--trust-proxy`): the proxies whose `X-Forwarded-*`
    /// headers are believed. `None`: no header names the client or our address.
    pub proxies: Option<Arc<guard::Proxies>>,
    /// The origin our own links are written with (`--public-url`), never a client's
    /// `Host` header, so a shared cache cannot be fed links to elsewhere.
    pub public_url: Arc<str>,
    /// Bytes of uploads per anonymous client per hour.
    pub uploads: Arc<guard::UploadBudget>,
    /// Password checks (argon2, 19 MiB each) that may run at once: a flood of logins
    /// waits here instead of allocating without bound.
    pub hashers: Arc<tokio::sync::Semaphore>,
    /// Request deadlines.
    pub limits: guard::Limits,
    /// MiB of uploads being received at once, all clients together.
    pub uploads_in_flight: Arc<tokio::sync::Semaphore>,
    /// Request counts and latencies for `/metrics`.
    pub metrics: Arc<metrics::Metrics>,
    /// The share of its first recorded area a water body may lose before the watch
    /// flags it (0.02: 2 %).
    pub watch_area_loss: f64,
    /// The SHA-256 of each stamped copy made, by (original, address in the stamp): a
    /// stamped copy sent for verification is checked against it without stamping again
    /// (a forged marker would otherwise cost a stamp per request).
    pub stamped: moka::sync::Cache<(String, String), String>,
    /// Months between inspections, per grade (`--inspection-months`).
    pub intervals: crate::stats::Intervals,
    /// PMTiles archives served by name: the basemap (`--basemap`) and `--archive`s.
    pub archives: Arc<std::collections::BTreeMap<String, Arc<crate::tiles::archive::Archive>>>,
}

impl AppState {
    /// The state `serve` runs with, from its arguments (the defaults: [`ServeArgs::default`])
    /// and the origin links are written with. Fails only on a bad `--trusted-proxies`.
    pub fn from_args(
        atlas: Arc<Atlas>,
        args: &ServeArgs,
        public_url: &str,
    ) -> Result<AppState, guard::BadProxy> {
        let proxies = Arc::new(guard::Proxies::parse(&args.trusted_proxies)?);
        Ok(AppState {
            atlas,
            tile_max_age: args.tile_max_age,
            complaints_max_age: args.complaints_max_age,
            limiter: Arc::new(auth::RateLimiter::new(args.complaints_per_minute)),
            proxies: args.trust_proxy.then_some(proxies),
            public_url: public_url.trim_end_matches('/').into(),
            uploads: Arc::new(guard::UploadBudget::new(args.upload_mb_per_hour << 20)),
            hashers: Arc::new(tokio::sync::Semaphore::new(crate::auth::PARALLEL_HASHES)),
            limits: guard::Limits {
                request_timeout: Duration::from_secs(args.request_timeout.max(1)),
                upload_timeout: Duration::from_secs(args.upload_timeout.max(1)),
                ..guard::Limits::default()
            },
            uploads_in_flight: Arc::new(tokio::sync::Semaphore::new(
                guard::UPLOADS_IN_FLIGHT_MB as usize,
            )),
            metrics: Arc::default(),
            watch_area_loss: args.watch_area_loss / 100.0,
            stamped: moka::sync::Cache::new(10_000),
            intervals: args.inspection_months,
            archives: Arc::default(),
        })
    }

    /// The default state (as `serve` with no options), links to the default address.
    pub fn new(atlas: Arc<Atlas>) -> Self {
        let url = format!("http://{}", defaults::BIND);
        Self::from_args(atlas, &ServeArgs::default(), &url).expect("the default proxies parse")
    }

    /// Sets the origin written into links (TileJSON, styles, OGC, Open311), e.g.
    /// `https://heritage.kmcgov.in`; a trailing `/` is dropped.
    pub fn with_public_url(mut self, url: &str) -> Self {
        self.public_url = url.trim_end_matches('/').into();
        self
    }

    /// The origin for links in an answer to a request with these headers: the public URL,
    /// or behind a trusted proxy the one it names in `X-Forwarded-Proto` and
    /// `X-Forwarded-Host` (else `Host`).
    pub fn base_url(
        &self,
        headers: &axum::http::HeaderMap,
        peer: Option<std::net::IpAddr>,
    ) -> String {
        let from_proxy = match (&self.proxies, peer) {
            (Some(p), Some(ip)) => p.trusts(ip),
            _ => false,
        };
        if !from_proxy {
            return self.public_url.to_string();
        }
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let host = header("x-forwarded-host")
            .or_else(|| header("host"))
            .filter(|h| valid_host(h));
        let Some(host) = host else {
            return self.public_url.to_string();
        };
        let proto = match header("x-forwarded-proto") {
            Some(p) if p.eq_ignore_ascii_case("https") => "https",
            Some(_) => "http",
            None => self.public_url.split("://").next().unwrap_or("http"),
        };
        format!("{proto}://{host}")
    }

    /// Serves `archive` under its name (the basemap's is [`archive::BASEMAP`]).
    ///
    /// [`archive::BASEMAP`]: crate::tiles::archive::BASEMAP
    pub fn with_archive(mut self, archive: crate::tiles::archive::Archive) -> Self {
        Arc::make_mut(&mut self.archives).insert(archive.name.clone(), Arc::new(archive));
        self
    }

    /// Whether a street basemap is served.
    pub fn has_basemap(&self) -> bool {
        self.archives.contains_key(crate::tiles::archive::BASEMAP)
    }

    /// Sets the per-client complaint limit (0: none).
    pub fn with_rate_limit(mut self, per_minute: u32) -> Self {
        self.limiter = Arc::new(auth::RateLimiter::new(per_minute));
        self
    }
}

/// A `host[:port]` as a proxy may name it: letters, digits, `.-:[]` only, so nothing a
/// header holds can break out of the URL it is written into.
fn valid_host(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 255
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

/// The origin for links, from the request (see [`AppState::base_url`]).
pub struct BaseUrl(pub String);

impl FromRequestParts<AppState> for BaseUrl {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(BaseUrl(s.base_url(&parts.headers, peer)))
    }
}

/// The whole application, ready to serve (tests drive this same router).
pub fn app(state: AppState) -> Router {
    // JSON, CSV, FlatGeobuf and HTML answers, compressed for clients that take gzip or
    // brotli. Tiles and the web app's files keep their own compressed forms and stay out
    // of this layer (it would cost the cached-tile path for nothing).
    let compressed = Router::new()
        .merge(health::router())
        .merge(query::router())
        .merge(assets::router())
        .merge(locks::router())
        .merge(history::router())
        .merge(documents::router())
        .merge(versions::router())
        .merge(proposals::router())
        .merge(watch::router())
        .merge(audit::router())
        .merge(auth::router())
        .merge(applications::router())
        .merge(cases::router())
        .merge(hcc::router())
        .merge(screening::router())
        .merge(stats::router())
        .merge(complaints::router())
        .merge(moderation::router())
        .merge(notify::router())
        .merge(feed::router())
        .merge(open311::router())
        .merge(ogc::router())
        .merge(openapi::router())
        .merge(metrics::router())
        // Styles are rewritten per request; glyphs pass through already compressed.
        .merge(assets_static::router())
        .layer(CompressionLayer::new().quality(CompressionLevel::Precise(4)));
    Router::new()
        .merge(compressed)
        .merge(tiles::router())
        .fallback(assets_static::web_or_not_found)
        // A POST sent again with its Idempotency-Key gets its first answer again.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            idempotency::idempotency,
        ))
        // Router layers run after routing: limits know the route's pattern (uploads).
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::limits,
        ))
        // Counted after routing, so requests are grouped by their route's pattern; what
        // the limits refuse is counted too.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(CorsLayer::permissive())
        // A handler's panic is a 500 for that request, not a dropped connection.
        .layer(CatchPanicLayer::new())
        .layer(axum::middleware::from_fn(guard::answer))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// The application as `serve` runs it: the cached-tile hot path ([`hot`]) in front of
/// the routed [`app`].
pub fn front(state: AppState) -> hot::Front<Router> {
    hot::Front::new(state.clone(), app(state))
}

/// No query parameters: for resources that take none, so `?anything` is a 400 rather
/// than silently ignored (and cached as a separate URL).
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

/// Query-string extractor whose rejection is our JSON error (and which, with
/// `#[serde(deny_unknown_fields)]` on `T`, refuses unknown parameters).
pub struct Params<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Query(v) = Query::<T>::from_request_parts(parts, state).await?;
        Ok(Params(v))
    }
}

/// A WGS84 point from client input: finite and in range, or a 400 naming the problem.
pub fn point(lon: f64, lat: f64) -> Result<Point<f64>, ApiError> {
    if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
        return Err(ApiError::param(format!(
            "lon must be a number from -180 to 180, not {lon}"
        )));
    }
    if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
        return Err(ApiError::param(format!(
            "lat must be a number from -90 to 90, not {lat}"
        )));
    }
    Ok(Point::new(lon, lat))
}

/// Parses a comma-separated layer list; `None` gives `default`.
pub fn layers(param: Option<&str>, default: &[Layer]) -> Result<Vec<Layer>, ApiError> {
    let Some(s) = param.filter(|s| !s.trim().is_empty()) else {
        return Ok(default.to_vec());
    };
    let mut out = Vec::new();
    for part in s.split(',') {
        let l: Layer = part
            .parse()
            .map_err(|e: crate::model::UnknownValue| ApiError::param(format!("layers: {e}")))?;
        if !out.contains(&l) {
            out.push(l);
        }
    }
    Ok(out)
}

pub use crate::features::feature;

/// Writes `(name, value)` pairs as one JSON object, in their order: for a typed answer
/// whose keys are data (layer names, property names), with `#[serde(serialize_with)]`.
pub(crate) fn ordered_map<S, K, V>(pairs: &[(K, V)], s: S) -> Result<S::Ok, S::Error>
where
    S: serde::Serializer,
    K: serde::Serialize,
    V: serde::Serialize,
{
    s.collect_map(pairs.iter().map(|(k, v)| (k, v)))
}

/// A CSV download of `rows` (the first is the header) as `name.csv`.
pub(crate) fn csv_table(
    name: &str,
    rows: &[Vec<String>],
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.write_record(r)
            .map_err(|e| ApiError::Internal(e.to_string()))?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/csv; charset=utf-8".to_string(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.csv\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// A GeoJSON FeatureCollection of already-built features, with their count.
#[derive(serde::Serialize)]
pub struct FeatureList<F> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(rename = "numberReturned")]
    number_returned: usize,
    features: Vec<F>,
}

pub fn collection<F>(features: Vec<F>) -> FeatureList<F> {
    FeatureList {
        kind: "FeatureCollection",
        number_returned: features.len(),
        features,
    }
}
