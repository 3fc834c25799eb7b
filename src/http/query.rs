//! `GET /nearby`, `GET /at`, `GET /search`: the questions field staff and citizens ask.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use geo::InteriorPoint;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{collection, feature, layers, point, ApiError, AppState, FeatureList, Params};
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

/// A distance to a tenth of a metre, as a feature's extra property.
fn round1(v: f64) -> Value {
    Value::from((v * 10.0).round() / 10.0)
}

async fn nearby(
    State(s): State<AppState>,
    Params(p): Params<NearbyParams>,
) -> Result<Json<FeatureList<Value>>, ApiError> {
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

/// What is at a point: the features containing it, and the nearest heritage asset.
#[derive(Serialize)]
struct At {
    lon: f64,
    lat: f64,
    ward: Option<Value>,
    water_bodies: Vec<Value>,
    parks: Vec<Value>,
    heritage: Vec<Value>,
    /// With its `distance_m`.
    nearest_heritage: Option<Value>,
}

async fn at(State(s): State<AppState>, Params(p): Params<AtParams>) -> Result<Json<At>, ApiError> {
    let pt = point(p.lon, p.lat)?;
    let at = query::at(s.atlas.index(), pt);
    let many = |v: &[std::sync::Arc<crate::model::Asset>]| {
        v.iter().map(|a| feature(a, &[])).collect::<Vec<_>>()
    };
    Ok(Json(At {
        lon: p.lon,
        lat: p.lat,
        ward: at.ward.as_ref().map(|a| feature(a, &[])),
        water_bodies: many(&at.water_bodies),
        parks: many(&at.parks),
        heritage: many(&at.heritage),
        nearest_heritage: at
            .nearest_heritage
            .as_ref()
            .map(|n| feature(&n.asset, &[("distance_m", round1(n.distance_m))])),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchParams {
    q: String,
    limit: Option<usize>,
    layers: Option<String>,
}

/// A search hit: a GeoJSON Feature whose geometry is a point inside the asset, with the
/// asset's bbox.
#[derive(Serialize)]
struct Hit {
    #[serde(rename = "type")]
    kind: &'static str,
    id: i64,
    geometry: Option<geojson::Geometry>,
    properties: Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bbox: Option<[f64; 4]>,
}

/// Search results carry a point inside each asset (where to put a marker) and the
/// asset's `bbox` (where to fly the map), not its whole outline: as-you-type search must
/// stay small even when a hit is a 20,000-vertex wetland.
async fn search(
    State(s): State<AppState>,
    Params(p): Params<SearchParams>,
) -> Result<Json<FeatureList<Hit>>, ApiError> {
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
            Hit {
                kind: "Feature",
                id: a.id.0,
                geometry: a
                    .geometry
                    .interior_point()
                    .map(|p| geojson::Geometry::new(geojson::Value::Point(vec![p.x(), p.y()]))),
                properties: crate::schema::properties(a),
                bbox: crate::geom::bbox(&a.geometry)
                    .map(|b| [b.min().x, b.min().y, b.max().x, b.max().y]),
            }
        })
        .collect();
    Ok(Json(collection(features)))
}
