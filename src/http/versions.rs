//! An asset's versions: `GET /assets/{id}/versions` (who changed it, when, why, and the
//! audit entry that records it), `GET /assets/{id}/versions/{n}` (the asset as version
//! `n` left it), `GET /assets/{id}/diff?from=&to=` and, for staff,
//! `POST /assets/{id}/versions/{n}/restore` (the old state as a new version; `If-Match`
//! as for every edit).

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::auth::Staff;
use super::body::JsonBody;
use super::{feature, ApiError, AppState, NoParams, Params};
use crate::atlas::{diff, Diff, EditBy};
use crate::features::crs::Crs;
use crate::model::Asset;
use crate::store::{Delisting, VersionInfo};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/assets/{id}/versions", get(list))
        .route("/assets/{id}/versions/{n}", get(one))
        .route("/assets/{id}/versions/{n}/restore", post(restore))
        .route("/assets/{id}/diff", get(between))
}

/// The asset by code or id, listed or delisted (its history outlives it).
async fn asset(s: &AppState, id: &str) -> Result<std::sync::Arc<Asset>, ApiError> {
    s.atlas
        .asset_by_code(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no asset {id}")))
}

#[derive(Serialize)]
struct VersionList {
    code: String,
    current: i64,
    versions: Vec<VersionInfo>,
}

async fn list(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Json<VersionList>, ApiError> {
    let a = asset(&s, &id).await?;
    let versions = s.atlas.store().versions(a.id).await?;
    Ok(Json(VersionList {
        code: a.code.clone(),
        current: a.version,
        versions,
    }))
}

/// One version as a GeoJSON Feature with its record beside it.
#[derive(Serialize)]
struct VersionFeature {
    #[serde(flatten)]
    feature: Value,
    version: VersionInfo,
    #[serde(skip_serializing_if = "Option::is_none")]
    delisted: Option<Delisting>,
}

async fn one(
    State(s): State<AppState>,
    Path((id, n)): Path<(String, String)>,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Json<VersionFeature>, ApiError> {
    let a = asset(&s, &id).await?;
    let n = version_number(&n)?;
    let v = s
        .atlas
        .asset_version(a.id, n)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("{} has no version {n}", a.code)))?;
    Ok(Json(VersionFeature {
        feature: feature(&v.asset, &[]),
        version: v.info,
        delisted: v.delisting,
    }))
}

fn version_number(n: &str) -> Result<i64, ApiError> {
    n.parse::<i64>()
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| ApiError::param(format!("version {n:?} is not a number from 1")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DiffParams {
    from: String,
    to: Option<String>,
}

#[derive(Serialize)]
struct DiffAnswer {
    code: String,
    from: i64,
    to: i64,
    #[serde(flatten)]
    diff: Diff,
}

/// `GET /assets/{id}/diff?from=N[&to=M]`: what changed from version N to version M (the
/// current one when not given).
async fn between(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Params(p): Params<DiffParams>,
) -> Result<Json<DiffAnswer>, ApiError> {
    let a = asset(&s, &id).await?;
    let from = version_number(&p.from)?;
    let to =
        p.to.as_deref()
            .map(version_number)
            .transpose()?
            .unwrap_or(a.version);
    let mut states = Vec::with_capacity(2);
    for n in [from, to] {
        let v = s
            .atlas
            .asset_version(a.id, n)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("{} has no version {n}", a.code)))?;
        states.push(v.asset);
    }
    let (before, after) = (&states[0], &states[1]);
    Ok(Json(DiffAnswer {
        code: a.code.clone(),
        from,
        to,
        diff: diff(Some(before), after),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RestoreBody {
    note: Option<String>,
}

/// `POST /assets/{id}/versions/{n}/restore`: version `n`'s state as a new version.
async fn restore(
    State(s): State<AppState>,
    Path((id, n)): Path<(String, String)>,
    Staff(user): Staff,
    headers: HeaderMap,
    body: Option<JsonBody<RestoreBody>>,
) -> Result<Response, ApiError> {
    let a = asset(&s, &id).await?;
    let n = version_number(&n)?;
    let expected = super::ogc::edits::expected_version(&headers, &a)?;
    let note = body.and_then(|JsonBody(b)| b.note);
    let note =
        crate::features::edit::note(note.as_deref()).map_err(|e| ApiError::field("note", e))?;
    let restored = s
        .atlas
        .restore_version(a.id, n, expected, &EditBy::user(&user, note.as_deref()))
        .await?;
    let mut r = (StatusCode::OK, Json(feature(&restored, &[]))).into_response();
    if let Ok(v) = HeaderValue::from_str(&super::ogc::edits::etag(&restored, &Crs::crs84())) {
        r.headers_mut().insert(header::ETAG, v);
    }
    Ok(r)
}
