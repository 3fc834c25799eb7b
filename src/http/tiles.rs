//! `GET /tiles/{layers}/{z}/{x}/{y}.mvt` and `GET /tiles/{layers}.json` (TileJSON 3.0).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tilejson::{Bounds, Center, TileJSON, VectorLayer};

use super::{ApiError, AppState};
use crate::tiles::cache::{CachedTile, Coding, TileKey};
use crate::tiles::{self, LayerSet, TileCoord, MAX_ZOOM};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tiles/{layers}/{z}/{x}/{y}", get(tile))
        .route("/tiles/{tilejson}", get(tilejson))
}

const MVT: &str = "application/vnd.mapbox-vector-tile";

fn layer_set(s: &str) -> Result<LayerSet, ApiError> {
    LayerSet::parse(s).map_err(|e| ApiError::NotFound(format!("no such tile layer: {e}")))
}

/// The query parameters a tile takes: `v`, any value, which clients add to ask past
/// their HTTP cache after a change (the web app does after a report or an inspection),
/// and `as_of`, the register as it stood then. Anything else is refused, as everywhere.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TileParams {
    #[allow(dead_code)]
    v: Option<String>,
    as_of: Option<String>,
}

async fn tile(
    State(s): State<AppState>,
    Path((layers, z, x, y)): Path<(String, String, String, String)>,
    super::Params(p): super::Params<TileParams>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let layers = layer_set(&layers)?;
    let as_of = p
        .as_of
        .as_deref()
        .map(|v| {
            if layers.has_complaints() {
                return Err(ApiError::param(
                    "as_of: complaints are not versioned; ask for the asset layers only",
                ));
            }
            crate::model::as_of_instant(v).map_err(|e| ApiError::param(e.to_string()))
        })
        .transpose()?;
    let y = y
        .strip_suffix(".mvt")
        .or_else(|| y.strip_suffix(".pbf"))
        .unwrap_or(&y);
    let bad = || {
        ApiError::BadRequest(format!(
            "no tile {z}/{x}/{y}: zoom must be 0–{MAX_ZOOM} and x, y below 2^zoom"
        ))
    };
    let (zn, xn, yn) = (
        z.parse::<u8>().map_err(|_| bad())?,
        x.parse::<u32>().map_err(|_| bad())?,
        y.parse::<u32>().map_err(|_| bad())?,
    );
    let coord = TileCoord::new_checked(zn, xn, yn).ok_or_else(bad)?;
    let key = TileKey {
        layers,
        tile: coord,
    };

    let coding = negotiate(
        headers
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .unwrap_or(""),
    );
    let atlas = s.atlas.clone();
    let past = match &as_of {
        Some(t) => {
            let wanted: Vec<_> = layers.layers().collect();
            atlas.register_at(t, &wanted).await?
        }
        None => None,
    };
    let is_past = past.is_some();
    let cached = match (past, atlas.tiles().get(&key)) {
        // A past register: drawn for this request (the cache holds today's tiles).
        (Some(index), _) => tokio::task::spawn_blocking(move || {
            let t = Arc::new(CachedTile::new(tiles::render(&index, layers, coord)));
            t.encoded(coding);
            t
        })
        .await
        .map_err(|e| ApiError::Internal(format!("tile render failed: {e}")))?,
        (None, Some(t)) => t,
        (None, None) => {
            let epoch = atlas.tiles().epoch();
            let a = atlas.clone();
            // Drawing (and compressing, for the coding this client asked) is CPU work:
            // keep it off the async workers.
            let drawn = tokio::task::spawn_blocking(move || {
                let t = Arc::new(CachedTile::new(tiles::render(a.index(), layers, coord)));
                t.encoded(coding);
                t
            })
            .await
            .map_err(|e| ApiError::Internal(format!("tile render failed: {e}")))?;
            atlas.tiles().insert(key, drawn.clone(), epoch);
            drawn
        }
    };

    let mut h = HeaderMap::new();
    let max_age = if layers.has_complaints() {
        s.complaints_max_age.min(s.tile_max_age)
    } else {
        s.tile_max_age
    };
    // The past does not change (an `as_of` not yet past is today's register).
    let cc = if is_past {
        "public, max-age=31536000, immutable".to_string()
    } else {
        format!("public, max-age={max_age}")
    };
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_str(&cc).unwrap_or(HeaderValue::from_static("no-cache")),
    );
    h.insert(
        header::ETAG,
        HeaderValue::from_str(&cached.etag).unwrap_or(HeaderValue::from_static("\"\"")),
    );
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if cached.dropped > 0 {
        h.insert("x-features-dropped", HeaderValue::from(cached.dropped));
    }
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim() == cached.etag || t.trim() == "*")
        });
    if matches {
        return Ok((StatusCode::NOT_MODIFIED, h).into_response());
    }
    if cached.is_empty() {
        return Ok((StatusCode::NO_CONTENT, h).into_response());
    }
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(MVT));
    let body = match cached.ready(coding) {
        Some(b) => b,
        None => {
            let t = cached.clone();
            tokio::task::spawn_blocking(move || t.encoded(coding))
                .await
                .map_err(|e| ApiError::Internal(format!("tile compression failed: {e}")))?
        }
    };
    match coding {
        Coding::Brotli => h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("br")),
        Coding::Gzip => h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip")),
        Coding::Identity => None,
    };
    Ok((StatusCode::OK, h, body).into_response())
}

/// Picks brotli, then gzip, then identity, by what `Accept-Encoding` allows (`q=0` refuses).
pub(super) fn negotiate(accept: &str) -> Coding {
    let a = Accepted::from(accept);
    if a.br {
        Coding::Brotli
    } else if a.gzip {
        Coding::Gzip
    } else {
        Coding::Identity
    }
}

/// The compressed codings an `Accept-Encoding` header allows (identity always is).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Accepted {
    pub br: bool,
    pub gzip: bool,
}

impl From<&str> for Accepted {
    fn from(accept: &str) -> Accepted {
        let mut a = Accepted::default();
        for item in accept.split(',') {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if q <= 0.0 {
                continue;
            }
            match name.as_str() {
                "br" => a.br = true,
                "gzip" | "x-gzip" => a.gzip = true,
                _ => {}
            }
        }
        a
    }
}

async fn tilejson(
    State(s): State<AppState>,
    Path(file): Path<String>,
    super::BaseUrl(base): super::BaseUrl,
    super::Params(_): super::Params<TileParams>,
) -> Result<Json<TileJSON>, ApiError> {
    let name = file
        .strip_suffix(".json")
        .ok_or_else(|| ApiError::NotFound(format!("no such resource: /tiles/{file}")))?;
    let layers = layer_set(name)?;
    let index = s.atlas.index();
    let mut bounds: Option<[f64; 4]> = None;
    let vector_layer = |id: &str, description: &str, fields: Vec<(&str, &str)>| {
        let fields = fields
            .into_iter()
            .map(|(k, t)| (k.to_string(), t.to_string()))
            .collect();
        VectorLayer {
            description: Some(description.to_string()),
            minzoom: Some(0),
            maxzoom: Some(MAX_ZOOM),
            ..VectorLayer::new(id.to_string(), fields)
        }
    };
    let mut vector_layers = Vec::new();
    for layer in layers.layers() {
        if let Some(env) = index.read(layer).extent() {
            let b = bounds.get_or_insert([180.0, 90.0, -180.0, -90.0]);
            *b = [
                b[0].min(env[0]),
                b[1].min(env[1]),
                b[2].max(env[2]),
                b[3].max(env[3]),
            ];
        }
        vector_layers.push(vector_layer(
            layer.as_str(),
            layer.title(),
            tiles::fields(layer),
        ));
    }
    if layers.layers().next().is_some() {
        vector_layers.push(vector_layer(
            tiles::LABELS,
            "One point per named area (and per ward) where its label goes, in the tile holding it: an area cut by tile edges is labelled once",
            tiles::label_fields(),
        ));
    }
    if layers.has_complaints() {
        vector_layers.push(vector_layer(
            "complaints",
            "Citizens' complaints (public fields only)",
            tiles::complaint_fields(),
        ));
    }
    let [w, so, e, n] = bounds.unwrap_or(crate::model::KMC_BOUNDS);
    Ok(Json(tilejson::tilejson! {
        tiles: vec![format!("{base}/tiles/{}/{{z}}/{{x}}/{{y}}.mvt", layers.name())],
        name: format!("heritage-atlas: {}", layers.name()),
        description: format!(
            "Kolkata Environment & Heritage register. Polygons smaller than {} px become points; below z{} points are thinned to one per pixel; features are dropped smallest-first to keep any tile under {} KB (the X-Features-Dropped header counts them).",
            tiles::COLLAPSE_UNITS / 8.0, tiles::THIN_BELOW_ZOOM, tiles::MAX_TILE_BYTES / 1024),
        attribution: "Kolkata Municipal Corporation — Environment & Heritage (positions approximate)".to_string(),
        scheme: "xyz".to_string(),
        minzoom: 0,
        maxzoom: MAX_ZOOM,
        bounds: Bounds::new(w, so, e, n),
        center: Center::new((w + e) / 2.0, (so + n) / 2.0, 12),
        vector_layers: vector_layers,
    }))
}
