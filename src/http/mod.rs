//! The HTTP surface (axum): one file per resource, each with `fn router()`, merged here.

mod assets;
mod assets_static;
mod audit;
pub mod auth;
pub mod complaints;
pub mod error;
mod health;
pub mod metrics;
mod ogc;
mod open311;
mod openapi;
mod query;
mod records;
mod tiles;

use std::sync::Arc;

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::Router;
use geo_types::Point;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::cors::CorsLayer;
use tower_http::trace::TraceLayer;

use crate::atlas::Atlas;
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
    /// Slows down repeated failed logins.
    pub throttle: Arc<crate::auth::Throttle>,
    /// Take the client address from `X-Forwarded-For` (behind a reverse proxy only).
    pub trust_proxy: bool,
    /// Request counts and latencies for `/metrics`.
    pub metrics: Arc<metrics::Metrics>,
}

impl AppState {
    /// Defaults: tiles 300 s, complaints tiles 10 s, 10 complaints a minute per client.
    pub fn new(atlas: Arc<Atlas>) -> Self {
        AppState {
            atlas,
            tile_max_age: 300,
            complaints_max_age: 10,
            limiter: Arc::new(auth::RateLimiter::new(10)),
            throttle: Arc::default(),
            trust_proxy: false,
            metrics: Arc::default(),
        }
    }

    /// Sets the per-client complaint limit (0: none).
    pub fn with_rate_limit(mut self, per_minute: u32) -> Self {
        self.limiter = Arc::new(auth::RateLimiter::new(per_minute));
        self
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
        .merge(records::router())
        .merge(audit::router())
        .merge(auth::router())
        .merge(complaints::router())
        .merge(open311::router())
        .merge(ogc::router())
        .merge(metrics::router())
        // Styles are rewritten per request; glyphs pass through already compressed.
        .merge(assets_static::router())
        .layer(CompressionLayer::new().quality(CompressionLevel::Precise(4)));
    Router::new()
        .merge(compressed)
        .merge(tiles::router())
        .fallback(assets_static::web_or_not_found)
        // Counted after routing, so requests are grouped by their route's pattern.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(CorsLayer::permissive())
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

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

pub use crate::export::feature;

/// A FeatureCollection of already-built features.
pub fn collection(features: Vec<Value>) -> Value {
    json!({
        "type": "FeatureCollection",
        "numberReturned": features.len(),
        "features": features,
    })
}
