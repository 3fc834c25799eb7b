//! `/collections/{id}/items` as GeoJSON pages with their links (or, asked for a whole
//! selection, handed to [`super::downloads`]) and `/collections/{id}/items/{fid}`.

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

use super::downloads::{download, download_name};
use super::links::Link;
use super::params::{collection_of, pairs, parse_items};
use super::{FGB, GEOJSON};
use crate::features::crs::Crs;
use crate::features::{self, write, MAX_LIMIT};
use crate::http::{ApiError, AppState, BaseUrl};

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

/// A page of items: OGC API Features' FeatureCollection with its counts and links. The
/// features are built by [`write::feature`] (in the asked-for CRS).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Page {
    #[serde(rename = "type")]
    kind: &'static str,
    time_stamp: String,
    number_matched: usize,
    number_returned: usize,
    features: Vec<Value>,
    links: Vec<Link>,
}

/// One feature with its own links after its members.
#[derive(Serialize)]
struct One {
    #[serde(flatten)]
    feature: Value,
    links: [Link; 2],
}

fn to_json(body: &impl Serialize) -> Result<String, ApiError> {
    serde_json::to_string(body).map_err(|e| ApiError::Internal(e.to_string()))
}

pub(super) async fn items(
    State(s): State<AppState>,
    Path(id): Path<String>,
    BaseUrl(base): BaseUrl,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let c = collection_of(&id)?;
    let q = pairs(&q)?;
    let req = parse_items(c, &q)?;
    let b = base;
    let atlas = s.atlas.clone();
    let sel = req.sel.clone();
    let past = match &req.as_of {
        Some(t) => atlas.register_at(t, &c.layers()).await?,
        None => None,
    };
    // Selecting scans the layer (or the R-tree under a bbox): a national layer is CPU
    // work, kept off the async workers.
    let all = tokio::task::spawn_blocking(move || {
        let index = past.as_deref().map_or(atlas.index(), |p| p);
        features::select(index, c, &sel)
    })
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
    let url = |offset, f| page_url(&b, c.id(), &q, offset, limit, f);
    let mut links = vec![
        Link::titled(url(req.offset, None), "self", GEOJSON, "This page"),
        Link::titled(
            url(req.offset, Some("fgb")),
            "alternate",
            FGB,
            "This page as FlatGeobuf",
        ),
        Link::titled(
            url(req.offset, Some("csv")),
            "alternate",
            "text/csv",
            "This page as CSV",
        ),
        Link::titled(
            format!("{b}/collections/{}", c.id()),
            "collection",
            "application/json",
            c.title(),
        ),
    ];
    // No next page when a page holds nothing (limit=0) or the last one has been given.
    if end < matched && limit > 0 {
        links.push(Link::titled(url(end, None), "next", GEOJSON, "Next page"));
    }
    if req.offset > 0 && limit > 0 {
        let prev = req.offset.min(matched).saturating_sub(limit);
        links.push(Link::titled(
            url(prev, None),
            "prev",
            GEOJSON,
            "Previous page",
        ));
    }
    let body = to_json(&Page {
        kind: "FeatureCollection",
        time_stamp: now(),
        number_matched: matched,
        number_returned: page.len(),
        features: page,
        links,
    })?;
    let mut h = HeaderMap::new();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(GEOJSON));
    if let Ok(v) = HeaderValue::from_str(&crs.header()) {
        h.insert("content-crs", v);
    }
    Ok((StatusCode::OK, h, body).into_response())
}

pub(super) async fn one(
    State(s): State<AppState>,
    Path((id, fid)): Path<(String, String)>,
    BaseUrl(base): BaseUrl,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let c = collection_of(&id)?;
    let q = pairs(&q)?;
    let mut crs = Crs::crs84();
    let mut as_of = None;
    for (k, v) in &q {
        match k.as_str() {
            "crs" => crs = Crs::parse(v).map_err(|e| ApiError::param(format!("crs: {e}")))?,
            "as_of" => as_of = Some(super::params::as_of(c, v)?),
            "f" if v == "json" || v == "geojson" => {}
            _ => {
                return Err(ApiError::param(format!(
                    "unknown parameter {k:?} (expected crs, as_of, f=json)"
                )))
            }
        }
    }
    let register = s.atlas.register(as_of.as_deref(), &c.layers()).await?;
    let item = features::item(&register, c, &fid)
        .ok_or_else(|| ApiError::NotFound(format!("no feature {fid:?} in {}", c.id())))?;
    let b = base;
    let body = to_json(&One {
        feature: write::feature(&item, &crs),
        links: [
            Link::new(
                format!("{b}/collections/{}/items/{fid}", c.id()),
                "self",
                GEOJSON,
            ),
            Link::new(
                format!("{b}/collections/{}", c.id()),
                "collection",
                "application/json",
            ),
        ],
    })?;
    // Assets: their id and version, which `If-Match` on an edit names; complaint pins
    // (not edited here): a hash of the bytes.
    let etag = match &item {
        features::Item::Asset(a) => super::edits::etag(a, &crs),
        _ => format!(
            "\"{:016x}\"",
            crate::tiles::cache::content_hash(body.as_bytes())
        ),
    };
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
