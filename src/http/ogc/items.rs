//! `/collections/{id}/items` as GeoJSON pages with their links (or, asked for a whole
//! selection, handed to [`super::downloads`]) and `/collections/{id}/items/{fid}`.

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::downloads::{download, download_name};
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
        Some(t) => atlas.register_at(t).await?,
        None => None,
    };
    // Selecting scans the layer (or the R-tree under a bbox): a national layer is CPU
    // work, kept off the async workers.
    let all = tokio::task::spawn_blocking(move || {
        let index = past.as_deref().unwrap_or(atlas.index());
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
    let register = s.atlas.register(as_of.as_deref()).await?;
    let item = features::item(&register, c, &fid)
        .ok_or_else(|| ApiError::NotFound(format!("no feature {fid:?} in {}", c.id())))?;
    let b = base;
    let mut f = write::feature(&item, &crs);
    f["links"] = json!([
        {"href": format!("{b}/collections/{}/items/{fid}", c.id()), "rel": "self", "type": GEOJSON},
        {"href": format!("{b}/collections/{}", c.id()), "rel": "collection", "type": "application/json"},
    ]);
    let body = f.to_string();
    // Assets: their id and version, which `If-Match` on an edit names; complaint pins
    // (not edited here): a hash of the bytes.
    let etag = match &item {
        features::Item::Asset(a) => super::edits::etag(a, &crs),
        _ => format!("\"{:016x}\"", crate::tiles::cache::fnv1a(body.as_bytes())),
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
