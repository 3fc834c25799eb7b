//! OGC API - Features (Part 1 Core, Part 2 CRS, Part 3 CQL2 text filters): the landing
//! page, `/conformance`, `/api` (OpenAPI 3.0), `/collections`, `/collections/{id}`,
//! `/collections/{id}/queryables`, `/collections/{id}/items` (GeoJSON pages, or whole
//! downloads as GeoJSON, FlatGeobuf or CSV, streamed) and `/collections/{id}/items/{fid}`.

use std::io::Write;

use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::openapi::OPENAPI;
use super::{ApiError, AppState};
use crate::features::cql2::{self, Value as V};
use crate::features::crs::{self, Crs};
use crate::features::{self, write, Collection, Item, Selection, MAX_LIMIT};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(landing))
        .route("/conformance", get(conformance))
        .route("/collections", get(collections))
        .route("/collections/{id}", get(collection))
        .route("/collections/{id}/queryables", get(queryables))
        .route("/collections/{id}/items", get(items))
        .route("/collections/{id}/items/{fid}", get(one))
}

const GEOJSON: &str = "application/geo+json";
const FGB: &str = "application/flatgeobuf";

fn pairs(q: &Option<String>) -> Result<Vec<(String, String)>, ApiError> {
    match q {
        None => Ok(Vec::new()),
        Some(q) => serde_urlencoded::from_str(q)
            .map_err(|e| ApiError::param(format!("malformed query string: {e}"))),
    }
}

fn wants_json(headers: &HeaderMap, q: &[(String, String)]) -> Result<bool, ApiError> {
    if let Some((_, f)) = q.iter().find(|(k, _)| k == "f") {
        return match f.as_str() {
            "json" => Ok(true),
            "html" => Ok(false),
            other => Err(ApiError::param(format!(
                "f must be json or html here, not {other:?}"
            ))),
        };
    }
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    Ok(!prefers_html(accept))
}

/// Whether `Accept` prefers an HTML page over JSON: only when `text/html` (or `text/*`)
/// is asked for by name with a higher quality than JSON gets. Browsers ask that way;
/// `*/*` alone (curl, Python's requests, OWSLib) or no header at all gets JSON, the
/// landing page OGC clients expect.
fn prefers_html(accept: &str) -> bool {
    // Each media range as (type, subtype, q).
    let ranges: Vec<(String, String, f32)> = accept
        .split(',')
        .filter_map(|r| {
            let mut parts = r.split(';');
            let (t, st) = parts.next()?.trim().split_once('/')?;
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            Some((
                t.trim().to_ascii_lowercase(),
                st.trim().to_ascii_lowercase(),
                q,
            ))
        })
        .collect();
    // The most specific range that matches decides a type's quality (RFC 9110 12.5.1).
    let quality = |t: &str, st: &str| -> (f32, u8) {
        ranges
            .iter()
            .filter_map(|(rt, rst, q)| match (rt.as_str(), rst.as_str()) {
                (a, b) if a == t && b == st => Some((*q, 2)),
                (a, "*") if a == t => Some((*q, 1)),
                ("*", "*") => Some((*q, 0)),
                _ => None,
            })
            .max_by_key(|(_, specificity)| *specificity)
            .unwrap_or((0.0, 0))
    };
    let (html, html_named) = quality("text", "html");
    let (json, _) = quality("application", "json");
    html_named > 0 && html > json
}

fn only_f(q: &[(String, String)]) -> Result<(), ApiError> {
    match q.iter().find(|(k, _)| k != "f") {
        Some((k, _)) => Err(ApiError::param(format!("unknown parameter {k:?}"))),
        None => Ok(()),
    }
}

async fn landing(
    super::BaseUrl(base): super::BaseUrl,
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
        return Ok(vary(super::assets_static::index(&headers).await));
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

async fn conformance(RawQuery(q): RawQuery) -> Result<Json<Value>, ApiError> {
    only_f(&pairs(&q)?)?;
    Ok(Json(json!({ "conformsTo": CONFORMANCE })))
}

fn collection_of(id: &str) -> Result<Collection, ApiError> {
    Collection::parse(id).ok_or_else(|| {
        ApiError::NotFound(format!(
            "no collection {id:?} (collections: heritage, water_bodies, parks, wards, complaints)"
        ))
    })
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

async fn collections(
    State(s): State<AppState>,
    super::BaseUrl(base): super::BaseUrl,
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

async fn collection(
    State(s): State<AppState>,
    Path(id): Path<String>,
    super::BaseUrl(base): super::BaseUrl,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, ApiError> {
    only_f(&pairs(&q)?)?;
    let c = collection_of(&id)?;
    Ok(Json(collection_doc(&s, c, &base)))
}

async fn queryables(
    Path(id): Path<String>,
    super::BaseUrl(base): super::BaseUrl,
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

/// Output format of an items request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Fgb,
    Csv,
}

/// Parsed items parameters.
struct ItemsRequest {
    sel: Selection,
    limit: Option<usize>,
    offset: usize,
    crs: Crs,
    format: Format,
    download: bool,
}

fn parse_datetime(s: &str) -> Result<(Option<String>, Option<String>), ApiError> {
    let bad = || {
        ApiError::param(format!(
            "datetime must be an RFC 3339 instant or interval (start/end, `..` for open), not {s:?}"
        ))
    };
    let one = |t: &str, end: bool| -> Result<Option<String>, ApiError> {
        let t = t.trim();
        if t.is_empty() || t == ".." {
            return Ok(None);
        }
        let fmt = &time::format_description::well_known::Rfc3339;
        if let Ok(v) = time::OffsetDateTime::parse(t, fmt) {
            return Ok(Some(crate::model::rfc3339(v)));
        }
        // A date alone: the whole day.
        let d = time::Date::parse(t, time::macros::format_description!("[year]-[month]-[day]"))
            .map_err(|_| bad())?;
        let at = if end {
            d.with_hms(23, 59, 59)
        } else {
            d.with_hms(0, 0, 0)
        }
        .map_err(|_| bad())?
        .assume_utc();
        Ok(Some(at.format(fmt).map_err(|_| bad())?))
    };
    match s.split_once('/') {
        Some((a, b)) => {
            let (a, b) = (one(a, false)?, one(b, true)?);
            if let (Some(x), Some(y)) = (&a, &b) {
                if x > y {
                    return Err(ApiError::param(
                        "datetime: the interval ends before it starts",
                    ));
                }
            }
            Ok((a, b))
        }
        None => {
            if s.trim() == ".." {
                return Err(bad());
            }
            Ok((one(s, false)?, one(s, true)?))
        }
    }
}

fn parse_items(c: Collection, q: &[(String, String)]) -> Result<ItemsRequest, ApiError> {
    let mut r = ItemsRequest {
        sel: Selection::default(),
        limit: None,
        offset: 0,
        crs: Crs::crs84(),
        format: Format::Json,
        download: false,
    };
    let mut bbox: Option<Vec<f64>> = None;
    let mut bbox_crs: Option<Crs> = None;
    let mut filter: Option<String> = None;
    let mut seen = std::collections::HashSet::new();
    for (k, v) in q {
        if !seen.insert(k.as_str()) {
            return Err(ApiError::param(format!("{k} given twice")));
        }
        match k.as_str() {
            "bbox" => {
                let n: Result<Vec<f64>, _> =
                    v.split(',').map(|x| x.trim().parse::<f64>()).collect();
                let n = n.map_err(|_| {
                    ApiError::param(format!("bbox must be 4 (or 6) numbers, not {v:?}"))
                })?;
                if !(n.len() == 4 || n.len() == 6) || n.iter().any(|x| !x.is_finite()) {
                    return Err(ApiError::param(format!(
                        "bbox must be 4 (or 6) finite numbers, not {v:?}"
                    )));
                }
                bbox = Some(if n.len() == 6 {
                    vec![n[0], n[1], n[3], n[4]]
                } else {
                    n
                });
            }
            "bbox-crs" => {
                bbox_crs =
                    Some(Crs::parse(v).map_err(|e| ApiError::param(format!("bbox-crs: {e}")))?)
            }
            "crs" => r.crs = Crs::parse(v).map_err(|e| ApiError::param(format!("crs: {e}")))?,
            "limit" => {
                let n: i64 = v.trim().parse().map_err(|_| {
                    ApiError::param(format!("limit must be a whole number, not {v:?}"))
                })?;
                if n < 0 {
                    return Err(ApiError::param("limit must not be negative"));
                }
                r.limit = Some(n as usize);
            }
            "offset" => {
                let n: i64 = v.trim().parse().map_err(|_| {
                    ApiError::param(format!("offset must be a whole number, not {v:?}"))
                })?;
                if n < 0 {
                    return Err(ApiError::param("offset must not be negative"));
                }
                r.offset = n as usize;
            }
            "datetime" => r.sel.datetime = Some(parse_datetime(v)?),
            "filter" => filter = Some(v.clone()),
            "filter-lang" => {
                if v != "cql2-text" {
                    return Err(ApiError::param(format!(
                        "filter-lang: only cql2-text is supported, not {v:?}"
                    )));
                }
            }
            "filter-crs" => {
                if !Crs::parse(v).map(|c| c.is_crs84()).unwrap_or(false) {
                    return Err(ApiError::param("filter-crs: only CRS84 is supported"));
                }
            }
            "f" => {
                r.format = match v.as_str() {
                    "json" | "geojson" => Format::Json,
                    "fgb" | "flatgeobuf" => Format::Fgb,
                    "csv" => Format::Csv,
                    other => {
                        return Err(ApiError::param(format!(
                            "f must be json, fgb or csv, not {other:?}"
                        )))
                    }
                }
            }
            "download" => {
                r.download = match v.as_str() {
                    "true" | "1" => true,
                    "false" | "0" => false,
                    _ => return Err(ApiError::param("download must be true or false")),
                }
            }
            name => {
                let Some(ty) = c.property_type(name) else {
                    return Err(ApiError::param(format!(
                        "unknown parameter {name:?} (expected bbox, bbox-crs, limit, offset, datetime, crs, filter, filter-lang, f, download, or a property of {}: {})",
                        c.id(),
                        c.properties().iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                    )));
                };
                let value = match ty {
                    "integer" | "number" => V::Num(
                        v.trim()
                            .parse::<f64>()
                            .ok()
                            .filter(|x| x.is_finite())
                            .ok_or_else(|| {
                                ApiError::param(format!("{name} must be a number, not {v:?}"))
                            })?,
                    ),
                    "boolean" => V::Bool(match v.as_str() {
                        "true" => true,
                        "false" => false,
                        _ => return Err(ApiError::param(format!("{name} must be true or false"))),
                    }),
                    _ => V::Str(v.clone()),
                };
                r.sel.equals.push((name.to_string(), value));
            }
        }
    }
    if let Some(b) = bbox {
        let crs = bbox_crs.unwrap_or_else(Crs::crs84);
        if crs.is_crs84() && (b[0] < -180.0 || b[2] > 180.0 || b[1] < -90.0 || b[3] > 90.0) {
            return Err(ApiError::param("bbox is out of range for lon/lat"));
        }
        if b[1] > b[3] {
            return Err(ApiError::param(
                "bbox: the south edge is north of the north edge",
            ));
        }
        let rect = crs
            .bbox_to_lonlat([b[0], b[1], b[2], b[3]])
            .map_err(|e| ApiError::param(format!("bbox: {e}")))?;
        r.sel.bbox = Some(rect);
    } else if bbox_crs.is_some() {
        return Err(ApiError::param("bbox-crs without bbox"));
    }
    if let Some(f) = filter {
        r.sel.filter = Some(cql2::parse(&f, &c).map_err(|e| ApiError::param(e.to_string()))?);
    }
    r.download |= r.format != Format::Json;
    Ok(r)
}

fn page_url(
    b: &str,
    id: &str,
    q: &[(String, String)],
    offset: usize,
    limit: usize,
    f: Option<&str>,
) -> String {
    let mut pairs: Vec<(String, String)> = q
        .iter()
        .filter(|(k, _)| k != "offset" && k != "limit" && k != "f" && k != "download")
        .cloned()
        .collect();
    pairs.push(("limit".into(), limit.to_string()));
    if offset > 0 {
        pairs.push(("offset".into(), offset.to_string()));
    }
    if let Some(f) = f {
        pairs.push(("f".into(), f.into()));
    }
    let qs = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    format!("{b}/collections/{id}/items?{qs}")
}

fn now() -> String {
    crate::model::now_rfc3339()
}

async fn items(
    State(s): State<AppState>,
    Path(id): Path<String>,
    super::BaseUrl(base): super::BaseUrl,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let c = collection_of(&id)?;
    let q = pairs(&q)?;
    let req = parse_items(c, &q)?;
    let b = base;
    let atlas = s.atlas.clone();
    let sel = req.sel.clone();
    // Selecting scans the layer (or the R-tree under a bbox): a national layer is CPU
    // work, kept off the async workers.
    let all = tokio::task::spawn_blocking(move || features::select(atlas.index(), c, &sel))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let matched = all.len();

    if req.download {
        let start = req.offset.min(matched);
        let end = req
            .limit
            .map_or(matched, |l| start.saturating_add(l).min(matched));
        let name = download_name(c.id(), &q, time::OffsetDateTime::now_utc());
        return Ok(download(c, all, start, end, req.crs, req.format, &name));
    }

    let limit = req.limit.unwrap_or(10).min(MAX_LIMIT);
    let start = req.offset.min(matched);
    let end = start.saturating_add(limit).min(matched);
    let crs = req.crs;
    let page: Vec<Value> = all[start..end]
        .iter()
        .map(|it| write::feature(it, &crs))
        .collect();
    let mut links = vec![
        json!({"href": page_url(&b, c.id(), &q, req.offset, limit, None), "rel": "self", "type": GEOJSON, "title": "This page"}),
        json!({"href": page_url(&b, c.id(), &q, req.offset, limit, Some("fgb")), "rel": "alternate", "type": FGB, "title": "This page as FlatGeobuf"}),
        json!({"href": page_url(&b, c.id(), &q, req.offset, limit, Some("csv")), "rel": "alternate", "type": "text/csv", "title": "This page as CSV"}),
        json!({"href": format!("{b}/collections/{}", c.id()), "rel": "collection", "type": "application/json", "title": c.title()}),
    ];
    // No next page when a page holds nothing (limit=0) or the last one has been given.
    if end < matched && limit > 0 {
        links.push(json!({"href": page_url(&b, c.id(), &q, end, limit, None), "rel": "next", "type": GEOJSON, "title": "Next page"}));
    }
    if req.offset > 0 && limit > 0 {
        let prev = req.offset.min(matched).saturating_sub(limit);
        links.push(json!({"href": page_url(&b, c.id(), &q, prev, limit, None), "rel": "prev", "type": GEOJSON, "title": "Previous page"}));
    }
    let body = json!({
        "type": "FeatureCollection",
        "timeStamp": now(),
        "numberMatched": matched,
        "numberReturned": page.len(),
        "features": page,
        "links": links,
    });
    let mut h = HeaderMap::new();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(GEOJSON));
    if let Ok(v) = HeaderValue::from_str(&crs.header()) {
        h.insert("content-crs", v);
    }
    Ok((StatusCode::OK, h, body.to_string()).into_response())
}

/// A `Write` that hands its bytes to an HTTP body in 64 KB chunks, so a download of
/// millions of features streams instead of being built in memory.
struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
    buf: Vec<u8>,
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= 64 * 1024 {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::take(&mut self.buf));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client went away"))
    }
}

fn download(
    c: Collection,
    all: Vec<Item>,
    start: usize,
    end: usize,
    crs: Crs,
    format: Format,
    name: &str,
) -> Response {
    let content_crs = crs.header();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(8);
    tokio::task::spawn_blocking(move || {
        let items = &all[start..end];
        let mut w = ChannelWriter {
            tx: tx.clone(),
            buf: Vec::with_capacity(64 * 1024),
        };
        let r = match format {
            Format::Json => write::geojson(items, &crs, c.id(), &mut w),
            Format::Csv => write::csv(c, items, &crs, &mut w),
            Format::Fgb => write::fgb(c, items, &crs, &mut w).map_err(std::io::Error::other),
        }
        .and_then(|_| w.flush());
        if let Err(e) = r {
            if e.kind() != std::io::ErrorKind::BrokenPipe {
                tracing::error!(error = %e, collection = c.id(), "download failed mid-stream");
                let _ = tx.blocking_send(Err(e));
            }
        }
    });
    let stream = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    let (ct, ext) = match format {
        Format::Json => (GEOJSON, "geojson"),
        Format::Fgb => (FGB, "fgb"),
        Format::Csv => ("text/csv; charset=utf-8", "csv"),
    };
    let mut h = HeaderMap::new();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}.{ext}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&content_crs) {
        h.insert("content-crs", v);
    }
    (StatusCode::OK, h, Body::from_stream(stream)).into_response()
}

/// A download's file name that says what is in it: the layer, the selection, and the
/// date in Kolkata — `heritage_grade-i_2026-12-01` — in ASCII letters, digits and `-_`.
fn download_name(layer: &str, q: &[(String, String)], now: time::OffsetDateTime) -> String {
    let slug = |s: &str| {
        let mut out = String::new();
        for c in s.chars() {
            if c.is_ascii_alphanumeric() {
                out.push(c.to_ascii_lowercase());
            } else if !out.ends_with('-') {
                out.push('-');
            }
        }
        out.trim_matches('-').to_string()
    };
    let mut parts = vec![layer.to_string()];
    for (k, v) in q {
        let part = match k.as_str() {
            "f" | "limit" | "offset" | "crs" | "bbox-crs" | "filter-lang" | "filter-crs"
            | "download" => continue,
            "bbox" => "bbox".to_string(),
            "filter" => slug(v),
            _ => slug(&format!("{k} {v}")),
        };
        if !part.is_empty() {
            parts.push(part);
        }
    }
    let mut name = parts.join("_");
    if name.len() > 80 {
        name.truncate(80);
        name = name.trim_end_matches(['-', '_']).to_string();
    }
    let ist = time::UtcOffset::from_hms(5, 30, 0).unwrap_or(time::UtcOffset::UTC);
    let d = now.to_offset(ist).date();
    format!(
        "{name}_{:04}-{:02}-{:02}",
        d.year(),
        u8::from(d.month()),
        d.day()
    )
}

async fn one(
    State(s): State<AppState>,
    Path((id, fid)): Path<(String, String)>,
    super::BaseUrl(base): super::BaseUrl,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let c = collection_of(&id)?;
    let q = pairs(&q)?;
    let mut crs = Crs::crs84();
    for (k, v) in &q {
        match k.as_str() {
            "crs" => crs = Crs::parse(v).map_err(|e| ApiError::param(format!("crs: {e}")))?,
            "f" if v == "json" || v == "geojson" => {}
            _ => {
                return Err(ApiError::param(format!(
                    "unknown parameter {k:?} (expected crs, f=json)"
                )))
            }
        }
    }
    let item = features::item(s.atlas.index(), c, &fid)
        .ok_or_else(|| ApiError::NotFound(format!("no feature {fid:?} in {}", c.id())))?;
    let b = base;
    let mut f = write::feature(&item, &crs);
    f["links"] = json!([
        {"href": format!("{b}/collections/{}/items/{fid}", c.id()), "rel": "self", "type": GEOJSON},
        {"href": format!("{b}/collections/{}", c.id()), "rel": "collection", "type": "application/json"},
    ]);
    let body = f.to_string();
    let etag = format!("\"{:016x}\"", crate::tiles::cache::fnv1a(body.as_bytes()));
    let mut h = HeaderMap::new();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(GEOJSON));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&crs.header()) {
        h.insert("content-crs", v);
    }
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if matches {
        return Ok((StatusCode::NOT_MODIFIED, h).into_response());
    }
    Ok((StatusCode::OK, h, body).into_response())
}

#[cfg(test)]
mod tests {
    use super::prefers_html;

    #[test]
    fn browsers_get_the_page_and_everyone_else_json() {
        // Chromium, Firefox, Safari.
        assert!(prefers_html(
            "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
        ));
        assert!(prefers_html(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        ));
        assert!(prefers_html("text/html"));
        // curl, requests, OWSLib, GDAL; no header.
        for a in [
            "*/*",
            "",
            "application/json",
            "application/json, */*;q=0.1",
            "text/html;q=0.5, application/json",
            "text/html, application/json",
            "garbage",
        ] {
            assert!(!prefers_html(a), "{a}");
        }
    }

    #[test]
    fn download_names_say_what_is_inside() {
        let q = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        // 20:00 UTC on 30 November is already 1 December in Kolkata.
        let t = time::macros::datetime!(2026-11-30 20:00 UTC);
        assert_eq!(
            super::download_name("heritage", &q(&[("f", "csv"), ("grade", "I")]), t),
            "heritage_grade-i_2026-12-01"
        );
        assert_eq!(
            super::download_name(
                "water_bodies",
                &q(&[("filter", "S_DWITHIN(geometry, POINT(88.35 22.55), 500, meters) AND status = 'filled'"), ("f", "fgb")]),
                t
            ),
            "water_bodies_s-dwithin-geometry-point-88-35-22-55-500-meters-and-status-filled_2026-12-01"
        );
        let long = super::download_name("parks", &q(&[("filter", &"x = 1 OR ".repeat(40))]), t);
        assert!(
            long.len() <= 80 + 11 && long.ends_with("_2026-12-01"),
            "{long}"
        );
    }
}
