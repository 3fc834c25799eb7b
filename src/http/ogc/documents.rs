//! The OGC documents that describe rather than serve data: the landing page (or the web
//! app, by `Accept`), `/conformance`, `/collections`, `/collections/{id}` with its extent,
//! and `/collections/{id}/queryables`.

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::params::{collection_of, only_f, pairs, wants_json};
use super::{FGB, GEOJSON};
use crate::features::crs;
use crate::features::{self, Collection, Item, Selection};
use crate::http::openapi::OPENAPI;
use crate::http::{ApiError, AppState, BaseUrl};

pub(super) async fn landing(
    BaseUrl(base): BaseUrl,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let q = pairs(&q)?;
    only_f(&q)?;
    // The same URL answers a page or JSON by `Accept`: caches must keep them apart.
    let vary = |mut r: Response| {
        r.headers_mut()
            .append(header::VARY, axum::http::HeaderValue::from_static("accept"));
        r
    };
    if !wants_json(&headers, &q)? {
        return Ok(vary(crate::http::assets_static::index(&headers).await));
    }
    let b = base;
    Ok(vary(Json(json!({
        "title": "heritage-atlas: Kolkata Environment & Heritage register",
        "description": "Heritage buildings, statues, structures and monuments, water bodies, parks, wards and citizens' complaints of the Kolkata Municipal Corporation, as OGC API - Features, vector tiles and Open311.",
        "links": [
            {"href": format!("{b}/?f=json"), "rel": "self", "type": "application/json", "title": "This document"},
            {"href": format!("{b}/"), "rel": "alternate", "type": "text/html", "title": "The map"},
            {"href": format!("{b}/api"), "rel": "service-desc", "type": OPENAPI, "title": "OpenAPI 3.0 definition"},
            {"href": format!("{b}/api.html"), "rel": "service-doc", "type": "text/html", "title": "API documentation"},
            {"href": format!("{b}/conformance"), "rel": "conformance", "type": "application/json", "title": "Conformance classes"},
            {"href": format!("{b}/collections"), "rel": "data", "type": "application/json", "title": "Collections"},
        ],
    }))
    .into_response()))
}

pub const CONFORMANCE: [&str; 12] = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
];

pub(super) async fn conformance(RawQuery(q): RawQuery) -> Result<Json<Value>, ApiError> {
    only_f(&pairs(&q)?)?;
    Ok(Json(json!({ "conformsTo": CONFORMANCE })))
}

/// A time interval, either end open.
type Interval = (Option<String>, Option<String>);

/// Spatial and temporal extent of a collection, from the index.
fn extent(s: &AppState, c: Collection) -> Value {
    let index = s.atlas.index();
    let (bbox, times): (Option<[f64; 4]>, Interval) = match c {
        Collection::Assets(l) => {
            let li = index.read(l);
            let (lo, hi) = li.updated_range().unzip();
            (li.extent(), (lo, hi))
        }
        Collection::Complaints => {
            let all = features::select(index, c, &Selection::default());
            let mut b: Option<[f64; 4]> = None;
            let mut lo: Option<String> = None;
            let mut hi: Option<String> = None;
            for it in &all {
                if let Item::Complaint(p, _) = it {
                    let e = b.get_or_insert([p.lon, p.lat, p.lon, p.lat]);
                    *e = [
                        e[0].min(p.lon),
                        e[1].min(p.lat),
                        e[2].max(p.lon),
                        e[3].max(p.lat),
                    ];
                    if lo.as_ref().is_none_or(|t| p.updated_at < *t) {
                        lo = Some(p.updated_at.clone());
                    }
                    if hi.as_ref().is_none_or(|t| p.updated_at > *t) {
                        hi = Some(p.updated_at.clone());
                    }
                }
            }
            (b, (lo, hi))
        }
    };
    let bbox = bbox.unwrap_or(crate::model::KMC_BOUNDS);
    json!({
        "spatial": {"bbox": [bbox], "crs": crs::CRS84},
        "temporal": {"interval": [[times.0, times.1]], "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"},
    })
}

fn collection_doc(s: &AppState, c: Collection, b: &str) -> Value {
    let id = c.id();
    let tiles = match c {
        Collection::Assets(l) => l.as_str(),
        Collection::Complaints => "complaints",
    };
    json!({
        "id": id,
        "title": c.title(),
        "itemType": "feature",
        "extent": extent(s, c),
        "crs": crs::supported(),
        "storageCrs": crs::CRS84,
        "links": [
            {"href": format!("{b}/collections/{id}"), "rel": "self", "type": "application/json", "title": c.title()},
            {"href": format!("{b}/collections/{id}/items"), "rel": "items", "type": GEOJSON, "title": "Items as GeoJSON"},
            {"href": format!("{b}/collections/{id}/items?f=fgb"), "rel": "items", "type": FGB, "title": "All items as FlatGeobuf"},
            {"href": format!("{b}/collections/{id}/items?f=csv"), "rel": "items", "type": "text/csv", "title": "All items as CSV"},
            {"href": format!("{b}/collections/{id}/queryables"), "rel": "http://www.opengis.net/def/rel/ogc/1.0/queryables", "type": "application/schema+json", "title": "Queryables"},
            {"href": format!("{b}/tiles/{tiles}.json"), "rel": "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector", "type": "application/json", "title": "Vector tiles (TileJSON)"},
        ],
    })
}

pub(super) async fn collections(
    State(s): State<AppState>,
    BaseUrl(base): BaseUrl,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, ApiError> {
    only_f(&pairs(&q)?)?;
    let b = base;
    let all: Vec<Value> = Collection::ALL
        .iter()
        .map(|c| collection_doc(&s, *c, &b))
        .collect();
    Ok(Json(json!({
        "links": [{"href": format!("{b}/collections"), "rel": "self", "type": "application/json"}],
        "crs": crs::supported(),
        "collections": all,
    })))
}

pub(super) async fn collection(
    State(s): State<AppState>,
    Path(id): Path<String>,
    BaseUrl(base): BaseUrl,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, ApiError> {
    only_f(&pairs(&q)?)?;
    let c = collection_of(&id)?;
    Ok(Json(collection_doc(&s, c, &base)))
}

pub(super) async fn queryables(
    Path(id): Path<String>,
    BaseUrl(base): BaseUrl,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    only_f(&pairs(&q)?)?;
    let c = collection_of(&id)?;
    let mut props = serde_json::Map::new();
    props.insert(
        "geometry".into(),
        json!({"$ref": "https://geojson.org/schema/Geometry.json"}),
    );
    for (n, t) in c.properties() {
        props.insert((*n).into(), json!({"type": t}));
    }
    let b = base;
    let body = json!({
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$id": format!("{b}/collections/{}/queryables", c.id()),
        "type": "object",
        "title": c.title(),
        "properties": props,
    });
    Ok((
        [(header::CONTENT_TYPE, "application/schema+json")],
        body.to_string(),
    )
        .into_response())
}
