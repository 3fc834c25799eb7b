//! `GET /assets/{id}`: one asset's whole record — every property, its geometry, and its
//! inspections, maintenance works and public documents.
//!
//! The answer is public: its documents are [`Document`]s, which carry neither a private
//! flag nor a way to name a private document (the store selects public ones only).

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use serde_json::Value;

use super::{feature, ApiError, AppState, NoParams, Params};
use crate::store::{Document, Inspection, Maintenance};

pub fn router() -> Router<AppState> {
    Router::new().route("/assets/{id}", get(asset))
}

/// An asset's record: its GeoJSON feature, with its history after the feature's members.
#[derive(Serialize)]
struct AssetRecord {
    #[serde(flatten)]
    feature: Value,
    inspections: Vec<Inspection>,
    maintenance: Vec<Maintenance>,
    documents: Vec<Document>,
}

/// `{id}` is the numeric id or the code (`HER-0001`).
async fn asset(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Json<AssetRecord>, ApiError> {
    let store = s.atlas.store();
    // As the index holds it: with the ward found from its location when none is recorded.
    let asset = s
        .atlas
        .asset_by_code(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no asset {id}")))?;
    Ok(Json(AssetRecord {
        feature: feature(&asset, &[]),
        inspections: store.inspections(asset.id).await?,
        maintenance: store.maintenance(asset.id).await?,
        documents: store.public_documents(asset.id).await?,
    }))
}
