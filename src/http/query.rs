//! `GET /nearby`, `GET /at`, `GET /search`: the questions field staff and citizens ask.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use geo::InteriorPoint;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{collection, feature, layers, point, ApiError, AppState, Params};
use crate::model::Layer;
use crate::query;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/nearby", get(nearby))
        .route("/at", get(at))
        .route("/search", get(search))
}

/// Layers `/nearby` and `/search` look in unless told otherwise: the assets people walk
/// to, not the ward grid (every point is inside some ward).
const ASSET_LAYERS: [Layer; 3] = [Layer::Heritage, Layer::WaterBodies, Layer::Parks];

const DEFAULT_RADIUS_M: f64 = 1_000.0;
const DEFAULT_LIMIT: usize = 10;
const MAX_NEARBY_LIMIT: usize = 500;
const MAX_SEARCH_LIMIT: usize = 100;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NearbyParams {
    lon: f64,
    lat: f64,
    radius_m: Option<f64>,
    limit: Option<usize>,
    layers: Option<String>,
}

fn round1(v: f64) -> Value {
    json!((v * 10.0).round() / 10.0)
}

async fn nearby(
    State(s): State<AppState>,
    Params(p): Params<NearbyParams>,
) -> Result<Json<Value>, ApiError> {
    let pt = point(p.lon, p.lat)?;
    let radius = p.radius_m.unwrap_or(DEFAULT_RADIUS_M);
    if !(0.0..=query::MAX_RADIUS_M).contains(&radius) {
        return Err(ApiError::param(format!(
            "radius_m must be from 0 to {}, not {radius}",
            query::MAX_RADIUS_M
        )));
    }
    let limit = p.limit.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_NEARBY_LIMIT {
        return Err(ApiError::param(format!(
            "limit must be from 1 to {MAX_NEARBY_LIMIT}, not {limit}"
        )));
    }
    let layers = layers(p.layers.as_deref(), &ASSET_LAYERS)?;
    let found = query::nearby(s.atlas.index(), pt, radius, limit, &layers);
    let features = found
        .iter()
        .map(|n| feature(&n.asset, &[("distance_m", round1(n.distance_m))]))
        .collect();
    Ok(Json(collection(features)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AtParams {
    lon: f64,
    lat: f64,
}

async fn at(
    State(s): State<AppState>,
    Params(p): Params<AtParams>,
) -> Result<Json<Value>, ApiError> {
    let pt = point(p.lon, p.lat)?;
    let at = query::at(s.atlas.index(), pt);
    let many = |v: &[std::sync::Arc<crate::model::Asset>]| {
        v.iter().map(|a| feature(a, &[])).collect::<Vec<_>>()
    };
    Ok(Json(json!({
        "lon": p.lon,
        "lat": p.lat,
        "ward": at.ward.as_ref().map(|a| feature(a, &[])),
        "water_bodies": many(&at.water_bodies),
        "parks": many(&at.parks),
        "heritage": many(&at.heritage),
        "nearest_heritage": at.nearest_heritage.as_ref().map(|n| feature(&n.asset, &[("distance_m", round1(n.distance_m))])),
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchParams {
    q: String,
    limit: Option<usize>,
    layers: Option<String>,
}

/// Search results carry a point inside each asset (where to put a marker) and the
/// asset's `bbox` (where to fly the map), not its whole outline: as-you-type search must
/// stay small even when a hit is a 20,000-vertex wetland.
async fn search(
    State(s): State<AppState>,
    Params(p): Params<SearchParams>,
) -> Result<Json<Value>, ApiError> {
    let q = p.q.trim();
    if q.is_empty() || q.chars().count() > 200 {
        return Err(ApiError::param("q must be 1 to 200 characters"));
    }
    let limit = p.limit.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_SEARCH_LIMIT {
        return Err(ApiError::param(format!(
            "limit must be from 1 to {MAX_SEARCH_LIMIT}, not {limit}"
        )));
    }
    let layers = layers(p.layers.as_deref(), &ASSET_LAYERS)?;
    let hits = query::search(s.atlas.index(), q, limit, &layers);
    let features = hits
        .iter()
        .map(|h| {
            let a = &h.asset;
            let mut f = json!({
                "type": "Feature",
                "id": a.id.0,
                "geometry": a.geometry.interior_point().map(|p| json!({"type": "Point", "coordinates": [p.x(), p.y()]})),
                "properties": crate::schema::properties(a),
            });
            if let Some(b) = crate::geom::bbox(&a.geometry) {
                f["bbox"] = json!([b.min().x, b.min().y, b.max().x, b.max().y]);
            }
            f
        })
        .collect();
    Ok(Json(collection(features)))
}
