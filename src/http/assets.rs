//! `GET /assets/{id}`: one asset's whole record — every property, its geometry, and its
//! inspections, maintenance works and public documents.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::{feature, ApiError, AppState, NoParams, Params};

pub fn router() -> Router<AppState> {
    Router::new().route("/assets/{id}", get(asset))
}

/// `{id}` is the numeric id or the code (`HER-0001`).
async fn asset(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Json<Value>, ApiError> {
    let store = s.atlas.store();
    // As the index holds it: with the ward found from its location when none is recorded.
    let asset = s
        .atlas
        .asset_by_code(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no asset {id}")))?;
    let mut f = feature(&asset, &[]);
    f["inspections"] = json!(store.inspections(asset.id).await?);
    f["maintenance"] = json!(store.maintenance(asset.id).await?);
    f["documents"] = json!(store.public_documents(asset.id).await?);
    Ok(Json(f))
}
