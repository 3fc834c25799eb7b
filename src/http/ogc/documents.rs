//! The OGC documents that describe rather than serve data: the landing page (or the web
//! app, by `Accept`), `/conformance`, `/collections`, `/collections/{id}` with its extent,
//! and `/collections/{id}/queryables`.

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use super::links::Link;
use super::params::{collection_of, only_f, pairs, wants_json};
use super::{FGB, GEOJSON};
use crate::features::crs;
use crate::features::{self, Collection, Item, Selection};
use crate::http::openapi::OPENAPI;
use crate::http::{ordered_map, ApiError, AppState, BaseUrl};

const JSON: &str = "application/json";

const TITLE: &str = "heritage-atlas: Kolkata Environment & Heritage register";
const DESCRIPTION: &str = "Heritage buildings, statues, structures and monuments, water bodies, parks, wards and citizens' complaints of the Kolkata Municipal Corporation, as OGC API - Features, vector tiles and Open311.";

/// The landing page as JSON.
#[derive(Serialize)]
struct Landing {
    title: &'static str,
    description: &'static str,
    links: Vec<Link>,
}

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
    Ok(vary(
        Json(Landing {
            title: TITLE,
            description: DESCRIPTION,
            links: vec![
                Link::titled(format!("{b}/?f=json"), "self", JSON, "This document"),
                Link::titled(format!("{b}/"), "alternate", "text/html", "The map"),
                Link::titled(
                    format!("{b}/api"),
                    "service-desc",
                    OPENAPI,
                    "OpenAPI 3.0 definition",
                ),
                Link::titled(
                    format!("{b}/api.html"),
                    "service-doc",
                    "text/html",
                    "API documentation",
                ),
                Link::titled(
                    format!("{b}/conformance"),
                    "conformance",
                    JSON,
                    "Conformance classes",
                ),
                Link::titled(format!("{b}/collections"), "data", JSON, "Collections"),
            ],
        })
        .into_response(),
    ))
}

pub const CONFORMANCE: [&str; 16] = [
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
    // Part 4 (Create, Replace, Update and Delete), on the asset collections.
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/optimistic-locking-etags",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/features",
];

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Conformance {
    conforms_to: &'static [&'static str],
}

pub(super) async fn conformance(RawQuery(q): RawQuery) -> Result<Json<Conformance>, ApiError> {
    only_f(&pairs(&q)?)?;
    Ok(Json(Conformance {
        conforms_to: &CONFORMANCE,
    }))
}

/// A time interval, either end open.
type Interval = (Option<String>, Option<String>);

const GREGORIAN: &str = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian";

/// Where and when a collection's items are.
#[derive(Serialize)]
struct Extent {
    spatial: Spatial,
    temporal: Temporal,
}

#[derive(Serialize)]
struct Spatial {
    /// One box: the whole collection.
    bbox: [[f64; 4]; 1],
    crs: &'static str,
}

#[derive(Serialize)]
struct Temporal {
    /// One interval, either end open (`null`).
    interval: [[Option<String>; 2]; 1],
    trs: &'static str,
}

/// Spatial and temporal extent of a collection, from the index.
fn extent(s: &AppState, c: Collection) -> Extent {
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
    Extent {
        spatial: Spatial {
            bbox: [bbox],
            crs: crs::CRS84,
        },
        temporal: Temporal {
            interval: [[times.0, times.1]],
            trs: GREGORIAN,
        },
    }
}

/// `/collections/{id}`, and each entry of `/collections`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct CollectionDoc {
    id: &'static str,
    title: &'static str,
    item_type: &'static str,
    extent: Extent,
    crs: Vec<String>,
    storage_crs: &'static str,
    links: Vec<Link>,
}

fn collection_doc(s: &AppState, c: Collection, b: &str) -> CollectionDoc {
    let id = c.id();
    let tiles = match c {
        Collection::Assets(l) => l.as_str(),
        Collection::Complaints => "complaints",
    };
    let items = format!("{b}/collections/{id}/items");
    CollectionDoc {
        id,
        title: c.title(),
        item_type: "feature",
        extent: extent(s, c),
        crs: crs::supported(),
        storage_crs: crs::CRS84,
        links: vec![
            Link::titled(format!("{b}/collections/{id}"), "self", JSON, c.title()),
            Link::titled(items.clone(), "items", GEOJSON, "Items as GeoJSON"),
            Link::titled(
                format!("{items}?f=fgb"),
                "items",
                FGB,
                "All items as FlatGeobuf",
            ),
            Link::titled(
                format!("{items}?f=csv"),
                "items",
                "text/csv",
                "All items as CSV",
            ),
            Link::titled(
                format!("{b}/collections/{id}/queryables"),
                "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                SCHEMA_JSON,
                "Queryables",
            ),
            Link::titled(
                format!("{b}/tiles/{tiles}.json"),
                "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector",
                JSON,
                "Vector tiles (TileJSON)",
            ),
        ],
    }
}

#[derive(Serialize)]
pub(super) struct Collections {
    links: [Link; 1],
    crs: Vec<String>,
    collections: Vec<CollectionDoc>,
}

pub(super) async fn collections(
    State(s): State<AppState>,
    BaseUrl(base): BaseUrl,
    RawQuery(q): RawQuery,
) -> Result<Json<Collections>, ApiError> {
    only_f(&pairs(&q)?)?;
    let b = base;
    Ok(Json(Collections {
        links: [Link::new(format!("{b}/collections"), "self", JSON)],
        crs: crs::supported(),
        collections: Collection::ALL
            .iter()
            .map(|c| collection_doc(&s, *c, &b))
            .collect(),
    }))
}

pub(super) async fn collection(
    State(s): State<AppState>,
    Path(id): Path<String>,
    BaseUrl(base): BaseUrl,
    RawQuery(q): RawQuery,
) -> Result<Json<CollectionDoc>, ApiError> {
    only_f(&pairs(&q)?)?;
    let c = collection_of(&id)?;
    Ok(Json(collection_doc(&s, c, &base)))
}

const SCHEMA_JSON: &str = "application/schema+json";

/// `/collections/{id}/queryables`: a JSON Schema of what a filter may name.
#[derive(Serialize)]
struct Queryables {
    #[serde(rename = "$schema")]
    schema: &'static str,
    #[serde(rename = "$id")]
    id: String,
    #[serde(rename = "type")]
    kind: &'static str,
    title: &'static str,
    /// By name, in the collection's property order, the geometry first.
    #[serde(serialize_with = "ordered_map")]
    properties: Vec<(&'static str, Queryable)>,
}

/// The schema of one queryable: the geometry by reference, a property by its type.
#[derive(Serialize)]
#[serde(untagged)]
enum Queryable {
    Ref {
        #[serde(rename = "$ref")]
        reference: &'static str,
    },
    Typed {
        #[serde(rename = "type")]
        ty: &'static str,
    },
}

pub(super) async fn queryables(
    Path(id): Path<String>,
    BaseUrl(base): BaseUrl,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    only_f(&pairs(&q)?)?;
    let c = collection_of(&id)?;
    let geometry = Queryable::Ref {
        reference: "https://geojson.org/schema/Geometry.json",
    };
    let properties = std::iter::once(("geometry", geometry))
        .chain(
            c.properties()
                .into_iter()
                .map(|(n, ty)| (n, Queryable::Typed { ty })),
        )
        .collect();
    let b = base;
    let body = Queryables {
        schema: "https://json-schema.org/draft/2019-09/schema",
        id: format!("{b}/collections/{}/queryables", c.id()),
        kind: "object",
        title: c.title(),
        properties,
    };
    let body = serde_json::to_string(&body).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(([(header::CONTENT_TYPE, SCHEMA_JSON)], body).into_response())
}
