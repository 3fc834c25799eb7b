//! Heritage-impact screening for planners (issue 18): `POST /screening` with a proposed
//! work — a GeoJSON geometry, Feature or FeatureCollection (a road widening, a metro
//! alignment, a plot) — and a distance; the answer is every heritage asset, water body and
//! park within that distance, with its ground distance, grade, condition and protection,
//! graded heritage first (Grade I, IIA, IIB, III) then by distance. As JSON (`f=json`, the
//! default), GeoJSON (`f=geojson`, which GDAL reads) or CSV (`f=csv`).
//!
//! Bounded: the body (16 MB), the vertices (200,000), the work's extent (2° a side) and
//! the distance (5 km).

use axum::extract::{Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use geo::{BoundingRect, CoordsIter};
use geo_types::Geometry;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{ApiError, AppState, Params};
use crate::model::Layer;
use crate::query::{self, Near, MAX_SCREENING_M};

/// Vertices a proposed work may have.
pub const MAX_VERTICES: usize = 200_000;
/// Largest side of a proposed work's box, in degrees (about 200 km).
pub const MAX_SPAN_DEG: f64 = 2.0;

pub fn router() -> Router<AppState> {
    Router::new().route("/screening", post(screen))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScreenParams {
    f: Option<String>,
    /// With a file as the body: the distance, the layers and the file's CRS (when it does
    /// not declare one) are given here.
    distance_m: Option<String>,
    layers: Option<String>,
    crs: Option<String>,
}

/// The importer that reads a body of this media type, if one does.
fn file_format(content_type: &str) -> Option<crate::import::Format> {
    use crate::import::Format;
    let mime = content_type.split(';').next().unwrap_or("").trim();
    match mime.to_ascii_lowercase().as_str() {
        "application/geo+json" | "application/vnd.geo+json" => Some(Format::Geojson),
        "application/flatgeobuf" | "application/x-flatgeobuf" => Some(Format::Fgb),
        "text/csv" => Some(Format::Csv),
        _ => None,
    }
}

fn distance_of(d: Option<f64>) -> Result<f64, ApiError> {
    match d {
        Some(d) if d.is_finite() && (0.0..=MAX_SCREENING_M).contains(&d) => Ok(d),
        Some(_) => Err(ApiError::field(
            "distance_m",
            format!("metres from the work, 0 to {MAX_SCREENING_M}"),
        )),
        None => Err(ApiError::field(
            "distance_m",
            format!("required: metres from the work, 0 to {MAX_SCREENING_M}"),
        )),
    }
}

/// A work read from a file (GeoJSON with any CRS, FlatGeobuf, CSV) by the importers.
async fn work_from_file(
    format: crate::import::Format,
    body: Vec<u8>,
    crs: Option<String>,
) -> Result<Geometry<f64>, ApiError> {
    let parts = tokio::task::spawn_blocking(move || {
        crate::import::read_geometries(format, body, crs.as_deref(), MAX_VERTICES)
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
    .map_err(|e| ApiError::BadRequest(format!("the file: {e}")))?;
    let g = match parts.len() {
        0 => return Err(ApiError::BadRequest("the file holds no geometry".into())),
        1 => parts
            .into_iter()
            .next()
            .unwrap_or(Geometry::GeometryCollection(Default::default())),
        _ => Geometry::GeometryCollection(geo_types::GeometryCollection(parts)),
    };
    check_work(g)
}

/// The work's geometry from a GeoJSON geometry, Feature or FeatureCollection.
fn work_geometry(v: Value) -> Result<Geometry<f64>, ApiError> {
    let gj: geojson::GeoJson = serde_json::from_value(v)
        .map_err(|e| ApiError::field("geometry", format!("not GeoJSON: {e}")))?;
    let mut parts: Vec<Geometry<f64>> = Vec::new();
    let mut take = |g: Option<geojson::Geometry>| -> Result<(), ApiError> {
        let g = g.ok_or_else(|| ApiError::field("geometry", "a feature without a geometry"))?;
        let g: Geometry<f64> = g
            .try_into()
            .map_err(|e: geojson::Error| ApiError::field("geometry", e.to_string()))?;
        parts.push(g);
        Ok(())
    };
    match gj {
        geojson::GeoJson::Geometry(g) => take(Some(g))?,
        geojson::GeoJson::Feature(f) => take(f.geometry)?,
        geojson::GeoJson::FeatureCollection(fc) => {
            for f in fc.features {
                take(f.geometry)?;
            }
        }
    }
    let g = match parts.len() {
        0 => return Err(ApiError::field("geometry", "no geometry given")),
        1 => parts
            .pop()
            .unwrap_or(Geometry::GeometryCollection(Default::default())),
        _ => Geometry::GeometryCollection(geo_types::GeometryCollection(parts)),
    };
    check_work(g)
}

/// A work within the bounds: vertices, degrees, extent.
fn check_work(g: Geometry<f64>) -> Result<Geometry<f64>, ApiError> {
    let n = g.coords_count();
    if n > MAX_VERTICES {
        return Err(ApiError::TooLarge(format!(
            "the work has {n} vertices; at most {MAX_VERTICES}"
        )));
    }
    for c in g.coords_iter() {
        if !c.x.is_finite() || !c.y.is_finite() || c.x.abs() > 180.0 || c.y.abs() > 90.0 {
            return Err(ApiError::field(
                "geometry",
                format!(
                    "position ({}, {}) is not longitude, latitude in degrees (WGS84)",
                    c.x, c.y
                ),
            ));
        }
    }
    let r = g
        .bounding_rect()
        .ok_or_else(|| ApiError::field("geometry", "an empty geometry"))?;
    if r.width() > MAX_SPAN_DEG || r.height() > MAX_SPAN_DEG {
        return Err(ApiError::field(
            "geometry",
            format!("the work spans more than {MAX_SPAN_DEG}° a side: screen it in parts"),
        ));
    }
    Ok(g)
}

fn row(n: &Near) -> Value {
    let a = &n.asset;
    json!({
        "code": a.code,
        "layer": a.layer,
        "kind": a.kind,
        "name": a.attrs.name,
        "name_bn": a.attrs.name_bn,
        "ward": a.attrs.ward,
        "grade": a.attrs.grade,
        "condition": a.attrs.condition,
        "protected": a.attrs.protected,
        "status": a.attrs.status,
        "heritage_lock": match (&a.lock, a.attrs.grade) {
            (_, None) => None,
            (Some(l), Some(_)) => Some(l.state),
            (None, Some(_)) => Some("locked"),
        },
        "distance_m": (n.distance_m * 10.0).round() / 10.0,
    })
}

async fn screen(
    State(s): State<AppState>,
    Params(p): Params<ScreenParams>,
    req: Request,
) -> Result<Response, ApiError> {
    let format = p.f.unwrap_or_else(|| "json".into());
    if !matches!(format.as_str(), "json" | "geojson" | "csv") {
        return Err(ApiError::param(format!(
            "f: json, geojson or csv, not {format:?}"
        )));
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = super::body::read(req.into_body(), super::ogc::edits::FEATURE_BODY).await?;
    let (g, distance, layers) = if let Some(format) = file_format(&content_type) {
        // A file: the distance and layers in the query.
        let distance = distance_of(match p.distance_m.as_deref() {
            None => None,
            Some(d) => Some(
                d.trim()
                    .parse::<f64>()
                    .map_err(|_| ApiError::param(format!("distance_m: metres, not {d:?}")))?,
            ),
        })?;
        let layers = super::layers(
            p.layers.as_deref(),
            &[Layer::Heritage, Layer::WaterBodies, Layer::Parks],
        )?;
        (
            work_from_file(format, body.to_vec(), p.crs).await?,
            distance,
            layers,
        )
    } else {
        if p.distance_m.is_some() || p.layers.is_some() || p.crs.is_some() {
            return Err(ApiError::param(
                "distance_m, layers, crs: in the query only with a file as the body \
                 (application/geo+json, application/flatgeobuf, text/csv); in a JSON body, give them there",
            ));
        }
        let mut v: Value = super::body::parse(&body)?;
        let obj = v
            .as_object_mut()
            .ok_or_else(|| ApiError::BadRequest("the body must be a JSON object".into()))?;
        let distance = distance_of(match obj.remove("distance_m") {
            Some(Value::Number(n)) => Some(n.as_f64().unwrap_or(f64::NAN)),
            None | Some(Value::Null) => None,
            Some(_) => Some(f64::NAN),
        })?;
        let layers = match obj.remove("layers") {
            None | Some(Value::Null) => None,
            Some(Value::String(l)) => Some(l),
            Some(_) => return Err(ApiError::field("layers", "a comma-separated list")),
        };
        let layers = super::layers(
            layers.as_deref(),
            &[Layer::Heritage, Layer::WaterBodies, Layer::Parks],
        )?;
        let geometry = obj.remove("geometry").ok_or_else(|| {
            ApiError::field("geometry", "required: the proposed work, as GeoJSON")
        })?;
        if let Some(k) = obj.keys().next() {
            return Err(ApiError::field(
                k.clone(),
                "unknown field (geometry, distance_m, layers)",
            ));
        }
        (work_geometry(geometry)?, distance, layers)
    };
    // The work as read (a file reprojected to WGS84), for the map and the report.
    let work = geojson::Geometry::new(geojson::Value::from(&g));
    let atlas = s.atlas.clone();
    let found =
        tokio::task::spawn_blocking(move || query::screening(atlas.index(), &g, distance, &layers))
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?;
    match format.as_str() {
        "geojson" => {
            let features: Vec<Value> = found
                .iter()
                .map(|n| {
                    json!({
                        "type": "Feature",
                        "id": n.asset.id.0,
                        "geometry": geojson::Geometry::new(geojson::Value::from(&n.asset.geometry)),
                        "properties": row(n),
                    })
                })
                .collect();
            Ok((
                [(header::CONTENT_TYPE, "application/geo+json")],
                json!({
                    "type": "FeatureCollection",
                    "numberReturned": features.len(),
                    "distance_m": distance,
                    "work": work,
                    "features": features,
                })
                .to_string(),
            )
                .into_response())
        }
        "csv" => {
            let cols = [
                "code",
                "layer",
                "kind",
                "name",
                "name_bn",
                "ward",
                "grade",
                "condition",
                "protected",
                "status",
                "heritage_lock",
                "distance_m",
            ];
            let mut rows = vec![cols.map(String::from).to_vec()];
            rows.extend(found.iter().map(|n| {
                let r = row(n);
                cols.iter()
                    .map(|c| match &r[*c] {
                        Value::Null => String::new(),
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect()
            }));
            super::csv_table("screening", &rows)
        }
        _ => Ok(Json(json!({
            "distance_m": distance,
            "work": work,
            "numberReturned": found.len(),
            "items": found.iter().map(row).collect::<Vec<_>>(),
        }))
        .into_response()),
    }
}
