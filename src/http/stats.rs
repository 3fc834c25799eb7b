//! Monitoring figures, public (issue 18, first part): `GET /stats/register?by=&layers=`
//! (assets by condition, the poor share, the share assessed in 12 months and the
//! inspections due, per ward, borough, layer, kind or grade) and `GET
//! /stats/inspections-due?ward=&grade=` (the graded buildings past their inspection
//! interval). JSON, or CSV with `f=csv`. Computed from the index in one pass.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::{ApiError, AppState, Params};
use crate::model::{Grade, Layer};
use crate::stats::{self, GroupBy, Intervals};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/stats/register", get(register))
        .route("/stats/inspections-due", get(due))
}

fn today() -> time::Date {
    time::OffsetDateTime::now_utc()
        .to_offset(time::macros::offset!(+5:30))
        .date()
}

fn format(f: Option<&str>) -> Result<bool, ApiError> {
    match f {
        None | Some("json") => Ok(false),
        Some("csv") => Ok(true),
        Some(other) => Err(ApiError::param(format!("f: json or csv, not {other:?}"))),
    }
}

/// A CSV table, not cached (the figures move with every write).
fn csv_answer(name: &str, rows: Vec<Vec<String>>) -> Result<Response, ApiError> {
    let mut r = super::csv_table(name, &rows)?;
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-cache"),
    );
    Ok(r)
}

fn opt(v: Option<f64>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterParams {
    by: Option<String>,
    layers: Option<String>,
    f: Option<String>,
}

async fn register(
    State(s): State<AppState>,
    Params(p): Params<RegisterParams>,
) -> Result<Response, ApiError> {
    let by = match p.by.as_deref() {
        None => GroupBy::Ward,
        Some(b) => GroupBy::parse(b).ok_or_else(|| {
            ApiError::param(format!(
                "by: ward, borough, layer, kind or grade, not {b:?}"
            ))
        })?,
    };
    let layers = super::layers(
        p.layers.as_deref(),
        &[Layer::Heritage, Layer::WaterBodies, Layer::Parks],
    )?;
    let csv = format(p.f.as_deref())?;
    let iv = Intervals::default();
    let index = s.atlas.index();
    let guards: Vec<_> = layers.iter().map(|l| index.read(*l)).collect();
    let groups = stats::health(
        guards
            .iter()
            .flat_map(|g| g.iter_keys().map(|(a, _)| a.as_ref())),
        by,
        today(),
        &iv,
    );
    drop(guards);
    if csv {
        let mut rows = vec![[
            "group",
            "assets",
            "good",
            "fair",
            "poor",
            "critical",
            "unknown",
            "poor_share",
            "assessed_12m",
            "assessed_12m_share",
            "inspections_due",
        ]
        .map(String::from)
        .to_vec()];
        for h in &groups {
            rows.push(vec![
                h.group.clone(),
                h.assets.to_string(),
                h.condition["good"].to_string(),
                h.condition["fair"].to_string(),
                h.condition["poor"].to_string(),
                h.condition["critical"].to_string(),
                h.condition["unknown"].to_string(),
                opt(h.poor_share),
                h.assessed_12m.to_string(),
                opt(h.assessed_12m_share),
                h.inspections_due.to_string(),
            ]);
        }
        return csv_answer("register-health", rows);
    }
    Ok((
        [(header::CACHE_CONTROL, "no-cache")],
        Json(json!({
            "by": p.by.unwrap_or_else(|| "ward".into()),
            "layers": layers,
            "as_of": today().to_string(),
            "inspection_interval_months": iv,
            "groups": groups,
        })),
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DueParams {
    ward: Option<String>,
    grade: Option<String>,
    f: Option<String>,
}

async fn due(
    State(s): State<AppState>,
    Params(p): Params<DueParams>,
) -> Result<Response, ApiError> {
    let ward = match p.ward.as_deref().map(str::trim).filter(|w| !w.is_empty()) {
        None => None,
        Some(w) => Some(
            w.parse::<i64>()
                .map_err(|_| ApiError::param(format!("ward: a ward number, not {w:?}")))?,
        ),
    };
    let grade = match p.grade.as_deref().map(str::trim).filter(|g| !g.is_empty()) {
        None => None,
        Some(g) => Some(
            g.parse::<Grade>()
                .map_err(|e| ApiError::param(format!("grade: {e}")))?,
        ),
    };
    let csv = format(p.f.as_deref())?;
    let iv = Intervals::default();
    let items: Vec<_> = {
        let layer = s.atlas.index().read(Layer::Heritage);
        stats::inspections_due(
            layer
                .iter_keys()
                .map(|(a, _)| a.as_ref())
                .filter(|a| ward.is_none_or(|w| a.attrs.ward == Some(w)))
                .filter(|a| grade.is_none_or(|g| a.attrs.grade == Some(g))),
            today(),
            &iv,
        )
    };
    if csv {
        let mut rows = vec![[
            "code",
            "name",
            "grade",
            "ward",
            "condition",
            "last_inspected",
            "due_on",
            "days_overdue",
        ]
        .map(String::from)
        .to_vec()];
        for d in &items {
            rows.push(vec![
                d.code.clone(),
                d.name.clone().unwrap_or_default(),
                d.grade.as_str().to_string(),
                d.ward.map(|w| w.to_string()).unwrap_or_default(),
                d.condition
                    .map(|c| c.as_str().to_string())
                    .unwrap_or_default(),
                d.last_inspected.clone().unwrap_or_default(),
                d.due_on.clone().unwrap_or_default(),
                d.days_overdue.map(|n| n.to_string()).unwrap_or_default(),
            ]);
        }
        return csv_answer("inspections-due", rows);
    }
    Ok((
        [(header::CACHE_CONTROL, "no-cache")],
        Json(json!({
            "as_of": today().to_string(),
            "inspection_interval_months": iv,
            "numberReturned": items.len(),
            "items": items,
        })),
    )
        .into_response())
}
