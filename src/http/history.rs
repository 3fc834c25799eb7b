//! An asset's history over HTTP. Staff: `POST /assets/{code}/inspections`,
//! `POST /assets/{code}/maintenance` (JSON). Documents are in `documents.rs`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Serialize;
use serde_json::Value;

use super::auth::Staff;
use super::body::JsonBody;
use super::{feature, ApiError, AppState};
use crate::atlas::Recorded;
use crate::history::{InspectionForm, MaintenanceForm};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/assets/{code}/inspections", post(inspection))
        .route("/assets/{code}/maintenance", post(maintenance))
}

/// The answer to a new inspection or maintenance work: its id, under its kind's name,
/// and the asset as it now stands.
#[derive(Serialize)]
struct RecordedAnswer {
    #[serde(flatten)]
    id: RecordId,
    asset: Value,
}

/// `{"inspection": id}` or `{"maintenance": id}`.
#[derive(Serialize)]
#[serde(rename_all = "lowercase")]
enum RecordId {
    Inspection(i64),
    Maintenance(i64),
}

fn recorded(r: Recorded, id: fn(i64) -> RecordId) -> Response {
    let answer = RecordedAnswer {
        id: id(r.id),
        asset: feature(&r.asset, &[]),
    };
    (StatusCode::CREATED, Json(answer)).into_response()
}

async fn inspection(
    State(s): State<AppState>,
    Staff(user): Staff,
    Path(code): Path<String>,
    JsonBody(form): JsonBody<InspectionForm>,
) -> Result<Response, ApiError> {
    let r = s.atlas.record_inspection(&code, form, &user).await?;
    Ok(recorded(r, RecordId::Inspection))
}

async fn maintenance(
    State(s): State<AppState>,
    Staff(user): Staff,
    Path(code): Path<String>,
    JsonBody(form): JsonBody<MaintenanceForm>,
) -> Result<Response, ApiError> {
    let r = s.atlas.record_maintenance(&code, form, &user).await?;
    Ok(recorded(r, RecordId::Maintenance))
}
