//! `GET /assets/{id}`: one asset's whole record — every property, its geometry, and its
//! inspections, maintenance works and public documents.
//!
//! The answer is public: its documents are [`Document`]s, which carry neither a private
//! flag nor a way to name a private document (the store selects public ones only).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{feature, ApiError, AppState, Params};
use crate::model::Layer;
use crate::store::{Delisting, Inspection, Maintenance, Watched};

pub fn router() -> Router<AppState> {
    Router::new().route("/assets/{id}", get(asset))
}

/// An asset's record: its GeoJSON feature, with its history after the feature's members;
/// once delisted, when and why.
#[derive(Serialize)]
struct AssetRecord {
    #[serde(flatten)]
    feature: Value,
    inspections: Vec<Inspection>,
    maintenance: Vec<Maintenance>,
    documents: Vec<super::documents::DocumentSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    delisted: Option<Delisting>,
    /// A water body the watch flags: why, the area lost, its outlines over time.
    #[serde(skip_serializing_if = "Option::is_none")]
    watch: Option<Watched>,
    /// The instant the record is shown as of, when asked (`as_of`).
    #[serde(skip_serializing_if = "Option::is_none")]
    as_of: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordParams {
    as_of: Option<String>,
}

/// `{id}` is the numeric id or the code (`HER-0001`). `as_of` (a date, or an RFC 3339
/// date-time) shows the record as it stood then: the asset's version of that time, and
/// the inspections, works and documents on record by then. A delisted asset answers 410
/// with its last record and when and why it was delisted.
async fn asset(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Params(p): Params<RecordParams>,
) -> Result<Response, ApiError> {
    let store = s.atlas.store();
    let t = p
        .as_of
        .as_deref()
        .map(|v| crate::model::as_of_instant(v).map_err(|e| ApiError::param(e.to_string())))
        .transpose()?;
    // As the index holds it: with the ward found from its location when none is recorded.
    let current = s
        .atlas
        .asset_by_code(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no asset {id}")))?;
    let (asset, delisted) = match &t {
        None => (current.clone(), store.delisting(current.id).await?),
        Some(t) => {
            let v = store.version_at(current.id, t).await?.ok_or_else(|| {
                ApiError::NotFound(format!("{} was not on the register then", current.code))
            })?;
            (Arc::new(s.atlas.locate_ward(v.asset)), v.delisting)
        }
    };
    // Dates and instants compare as text (`2025-03-31` < `2025-03-31T…`).
    let by_then = |when: &str| t.as_deref().is_none_or(|t| when <= t);
    let record = AssetRecord {
        feature: feature(&asset, &[]),
        inspections: (store.inspections(asset.id).await?.into_iter())
            .filter(|i| by_then(&i.inspected_at))
            .collect(),
        maintenance: (store.maintenance(asset.id).await?.into_iter())
            .filter(|m| m.started_on.as_deref().is_none_or(by_then))
            .collect(),
        documents: (store.documents_of(asset.id, false).await?.iter())
            .filter(|d| by_then(&d.created_at))
            .map(super::documents::DocumentSummary::of)
            .collect(),
        watch: match asset.layer {
            Layer::WaterBodies => (s
                .atlas
                .water_watch(s.watch_area_loss, Some(asset.id))
                .await?)
                .into_iter()
                .next(),
            _ => None,
        },
        as_of: t,
        delisted,
    };
    let status = if record.delisted.is_some() {
        StatusCode::GONE
    } else {
        StatusCode::OK
    };
    Ok((status, Json(record)).into_response())
}
