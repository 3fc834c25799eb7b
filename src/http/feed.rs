//! Following an area: `GET /complaints.atom?ward=63` or `?lon=&lat=&radius_m=` (and
//! `category=`) is an Atom feed (RFC 4287) of the public steps of complaints there —
//! filed, acknowledged, resolved … — newest first, one entry per step, with GeoRSS
//! points. It shows what the complaint page shows: moderation applies, reporters never
//! appear. Feed readers poll: answers carry an ETag and a minute's cache life.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use super::{ApiError, AppState, Params};
use crate::complaints::moderation::Public;
use crate::complaints::open311::escape;
use crate::model::Category;
use crate::store::{ComplaintFilter, ComplaintRecord};

/// Entries in a feed, at most.
const MAX_ENTRIES: i64 = 200;
/// The widest circle a feed follows, metres.
const MAX_RADIUS_M: f64 = 20_000.0;

pub fn router() -> Router<AppState> {
    Router::new().route("/complaints.atom", get(feed))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FeedParams {
    ward: Option<i64>,
    lon: Option<f64>,
    lat: Option<f64>,
    radius_m: Option<f64>,
    category: Option<String>,
    limit: Option<i64>,
}

/// Where a feed follows.
enum Area {
    City,
    Ward(i64),
    Circle { lon: f64, lat: f64, r: f64 },
}

fn area(q: &FeedParams) -> Result<Area, ApiError> {
    match (q.ward, q.lon, q.lat, q.radius_m) {
        (Some(_), Some(_), _, _) | (Some(_), _, Some(_), _) => Err(ApiError::param(
            "give ward, or lon, lat and radius_m, not both",
        )),
        (Some(w), None, None, None) if (1..=100_000).contains(&w) => Ok(Area::Ward(w)),
        (Some(w), ..) => Err(ApiError::param(format!("ward: {w} is not a ward number"))),
        (None, Some(lon), Some(lat), r) => {
            if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
                return Err(ApiError::param("lon must be from -180 to 180"));
            }
            if !lat.is_finite() || !(-85.0..=85.0).contains(&lat) {
                return Err(ApiError::param("lat must be from -85 to 85"));
            }
            let r = r.unwrap_or(500.0);
            if !r.is_finite() || !(1.0..=MAX_RADIUS_M).contains(&r) {
                return Err(ApiError::param(format!(
                    "radius_m must be from 1 to {MAX_RADIUS_M}"
                )));
            }
            Ok(Area::Circle { lon, lat, r })
        }
        (None, None, None, None) => Ok(Area::City),
        _ => Err(ApiError::param(
            "a circle needs lon, lat and radius_m together",
        )),
    }
}

/// Metres between two points on the WGS84 mean sphere (as `/nearby` measures).
fn distance_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    use geo::Distance;
    geo::Haversine.distance(geo::Point::new(a.0, a.1), geo::Point::new(b.0, b.1))
}

fn push_el(out: &mut String, name: &str, text: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    escape(text, out);
    out.push_str("</");
    out.push_str(name);
    out.push_str(">\n");
}

/// What a step says in a feed reader.
fn step_title(c: &ComplaintRecord, action: &str, status: crate::model::Status) -> String {
    let what = match action {
        "submit" => "filed".to_string(),
        "note" => "note".to_string(),
        "assign" => "assigned".to_string(),
        _ => status.as_str().replace('_', " "),
    };
    format!("{} · {}: {}", c.ticket, c.category.name(), what)
}

async fn feed(
    State(s): State<AppState>,
    headers: HeaderMap,
    Params(q): Params<FeedParams>,
) -> Result<Response, ApiError> {
    let area = area(&q)?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=MAX_ENTRIES).contains(&limit) {
        return Err(ApiError::param(format!(
            "limit must be from 1 to {MAX_ENTRIES}"
        )));
    }
    let categories: Vec<Category> = match q.category.as_deref() {
        Some(list) => list
            .split(',')
            .filter(|p| !p.trim().is_empty())
            .take(16)
            .map(|p| {
                p.parse().map_err(|e: crate::model::UnknownValue| {
                    ApiError::param(format!("category: {e}"))
                })
            })
            .collect::<Result<_, _>>()?,
        None => Vec::new(),
    };
    let store = s.atlas.store();
    let (ward, bbox, circle) = match area {
        Area::City => (None, None, None),
        Area::Ward(w) => (Some(w), None, None),
        Area::Circle { lon, lat, r } => {
            // A box around the circle (with room for the sphere) in SQL, then the circle.
            let dlat = r / 111_000.0 * 1.01;
            let dlon = dlat / lat.to_radians().cos().max(0.01);
            (
                None,
                Some([lon - dlon, lat - dlat, lon + dlon, lat + dlat]),
                Some((lon, lat, r)),
            )
        }
    };
    // The box's corners lie outside the circle: read on, a page at a time, until `limit`
    // steps are in it or there are no more.
    let mut steps = Vec::new();
    let mut before = None;
    loop {
        let page = store
            .public_steps(ward, bbox, &categories, before, limit)
            .await?;
        let last = page.len() < limit as usize;
        before = page.last().map(|p| p.event.id);
        steps.extend(page.into_iter().filter(|p| {
            circle.is_none_or(|(lon, lat, r)| distance_m((lon, lat), (p.lon, p.lat)) <= r)
        }));
        if last || steps.len() >= limit as usize {
            break;
        }
    }
    steps.truncate(limit as usize);
    let tickets: Vec<String> = {
        let mut t: Vec<String> = steps.iter().map(|p| p.ticket.clone()).collect();
        t.sort();
        t.dedup();
        t
    };
    let records: HashMap<String, ComplaintRecord> = if tickets.is_empty() {
        HashMap::new()
    } else {
        store
            .complaints(&ComplaintFilter {
                limit: tickets.len() as i64,
                tickets,
                ..Default::default()
            })
            .await?
            .into_iter()
            .map(|c| (c.ticket.clone(), c))
            .collect()
    };
    let base = s.public_url.trim_end_matches('/').to_string();
    let mut entries = String::new();
    let mut newest: Option<String> = None;
    for step in &steps {
        let (ticket, e) = (&step.ticket, &step.event);
        let Some(c) = records.get(ticket) else {
            continue;
        };
        if newest.as_ref().is_none_or(|t| e.at > *t) {
            newest = Some(e.at.clone());
        }
        let public = Public::of(c);
        let summary = if e.action == "submit" {
            Some(public.description.to_string())
        } else {
            public.note(e).map(|n| n.into_owned())
        };
        entries.push_str("<entry>\n");
        push_el(
            &mut entries,
            "id",
            &format!("{base}/complaints/{ticket}#step-{}", e.id),
        );
        push_el(&mut entries, "title", &step_title(c, &e.action, e.status));
        push_el(&mut entries, "updated", &e.at);
        push_el(&mut entries, "published", &e.at);
        entries.push_str("<link rel=\"alternate\" type=\"text/html\" href=\"");
        escape(&format!("{base}/#track/{ticket}"), &mut entries);
        entries.push_str("\"/>\n<link rel=\"related\" type=\"application/json\" href=\"");
        escape(&format!("{base}/complaints/{ticket}"), &mut entries);
        entries.push_str("\"/>\n<category term=\"");
        escape(c.category.as_str(), &mut entries);
        entries.push_str("\" label=\"");
        escape(c.category.name(), &mut entries);
        entries.push_str("\"/>\n");
        if let Some(w) = c.ward {
            entries.push_str(&format!(
                "<category term=\"ward-{w}\" label=\"Ward {w}\"/>\n"
            ));
        }
        if let Some(text) = summary {
            entries.push_str("<summary type=\"text\">");
            escape(&text, &mut entries);
            entries.push_str("</summary>\n");
        }
        entries.push_str(&format!(
            "<georss:point>{} {}</georss:point>\n</entry>\n",
            c.lat, c.lon
        ));
    }
    let (title, self_query) = match (&q.ward, circle) {
        (Some(w), _) => (format!("Complaints in ward {w}"), format!("ward={w}")),
        (_, Some((lon, lat, r))) => (
            format!("Complaints within {r} m of {lat:.5}, {lon:.5}"),
            format!("lon={lon}&lat={lat}&radius_m={r}"),
        ),
        _ => ("Complaints".to_string(), String::new()),
    };
    let mut self_query = self_query;
    if !categories.is_empty() {
        if !self_query.is_empty() {
            self_query.push('&');
        }
        self_query.push_str("category=");
        self_query.push_str(
            &categories
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(","),
        );
    }
    let self_url = if self_query.is_empty() {
        format!("{base}/complaints.atom")
    } else {
        format!("{base}/complaints.atom?{self_query}")
    };
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <feed xmlns=\"http://www.w3.org/2005/Atom\" xmlns:georss=\"http://www.georss.org/georss\" xml:lang=\"en\">\n",
    );
    push_el(&mut out, "id", &self_url);
    push_el(
        &mut out,
        "title",
        &format!("{title} — Environment & Heritage, Kolkata Municipal Corporation"),
    );
    push_el(
        &mut out,
        "updated",
        &newest.unwrap_or_else(|| "2026-01-01T00:00:00Z".to_string()),
    );
    out.push_str("<link rel=\"self\" type=\"application/atom+xml\" href=\"");
    escape(&self_url, &mut out);
    out.push_str("\"/>\n<link rel=\"alternate\" type=\"text/html\" href=\"");
    escape(&format!("{base}/"), &mut out);
    out.push_str("\"/>\n<author><name>Environment &amp; Heritage Department</name></author>\n");
    out.push_str(&format!(
        "<generator version=\"{}\">heritage-atlas</generator>\n",
        env!("CARGO_PKG_VERSION")
    ));
    out.push_str(&entries);
    out.push_str("</feed>\n");

    let etag = format!("W/\"{}\"", &crate::auth::sha256_hex(&out)[..32]);
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let common = [
        (header::CACHE_CONTROL, "public, max-age=60".to_string()),
        (header::ETAG, etag),
    ];
    if fresh {
        return Ok((StatusCode::NOT_MODIFIED, common).into_response());
    }
    Ok((
        common,
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        out,
    )
        .into_response())
}
