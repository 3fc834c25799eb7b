//! What an OGC request asks for: its query pairs, JSON or HTML (`f`, `Accept`), the
//! collection named in the path, and the items parameters (bbox and bbox-crs, datetime,
//! limit and offset, crs, CQL2 filter, property equality, format).

use axum::http::{header, HeaderMap};

use crate::features::cql2::{self, Value as V};
use crate::features::crs::Crs;
use crate::features::{Collection, Selection};
use crate::http::ApiError;

pub(super) fn pairs(q: &Option<String>) -> Result<Vec<(String, String)>, ApiError> {
    match q {
        None => Ok(Vec::new()),
        Some(q) => serde_urlencoded::from_str(q)
            .map_err(|e| ApiError::param(format!("malformed query string: {e}"))),
    }
}

/// Whether JSON is wanted by `Accept` alone (no `f`).
pub(crate) fn accepts_json_first(headers: &HeaderMap) -> bool {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    !prefers_html(accept)
}

pub(super) fn wants_json(headers: &HeaderMap, q: &[(String, String)]) -> Result<bool, ApiError> {
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

pub(super) fn only_f(q: &[(String, String)]) -> Result<(), ApiError> {
    match q.iter().find(|(k, _)| k != "f") {
        Some((k, _)) => Err(ApiError::param(format!("unknown parameter {k:?}"))),
        None => Ok(()),
    }
}

pub(super) fn collection_of(id: &str) -> Result<Collection, ApiError> {
    Collection::parse(id).ok_or_else(|| {
        ApiError::NotFound(format!(
            "no collection {id:?} (collections: heritage, water_bodies, parks, wards, complaints)"
        ))
    })
}

/// `as_of`: the register as it stood at that instant; complaints are not versioned.
pub(super) fn as_of(c: Collection, v: &str) -> Result<String, ApiError> {
    if c == Collection::Complaints {
        return Err(ApiError::param(
            "as_of: complaints are not versioned; their timeline is at /complaints/{ticket}",
        ));
    }
    crate::model::as_of_instant(v).map_err(|e| ApiError::param(e.to_string()))
}

/// Output format of an items request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    Json,
    Fgb,
    Csv,
}

/// Parsed items parameters.
pub(super) struct ItemsRequest {
    pub(super) sel: Selection,
    pub(super) limit: Option<usize>,
    pub(super) offset: usize,
    pub(super) crs: Crs,
    pub(super) format: Format,
    pub(super) download: bool,
    /// The register as it stood then (a version stamp), when asked.
    pub(super) as_of: Option<String>,
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

pub(super) fn parse_items(c: Collection, q: &[(String, String)]) -> Result<ItemsRequest, ApiError> {
    let mut r = ItemsRequest {
        sel: Selection::default(),
        limit: None,
        offset: 0,
        crs: Crs::crs84(),
        format: Format::Json,
        download: false,
        as_of: None,
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
            "as_of" => r.as_of = Some(as_of(c, v)?),
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
}
