//! The Heritage Conservation Committee's meetings: `POST /hcc/meetings` `{date}` makes one
//! whose agenda is every case waiting for the committee; `GET /hcc/meetings[/{id}]`;
//! `POST /hcc/meetings/{id}/recommendations` `{application, recommendation, text}` records
//! the committee's word on a case of the agenda (the case moves on to the
//! Mayor-in-Council); `PUT /hcc/meetings/{id}/minutes` (a PDF) puts the minutes on record.
//! Writes need the committee stage's duty (`hcc_secretary`) or an admin.

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde_json::json;

use super::auth::Staff;
use super::body::Fields;
use super::complaints::small_json;
use super::{ApiError, AppState, NoParams, Params};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/hcc/meetings", get(list).post(create))
        .route("/hcc/meetings/{id}", get(one))
        .route("/hcc/meetings/{id}/recommendations", post(recommend))
        .route("/hcc/meetings/{id}/minutes", put(minutes))
}

async fn create(
    State(s): State<AppState>,
    Staff(user): Staff,
    req: Request,
) -> Result<Response, ApiError> {
    let mut f = Fields::of(small_json(req).await?)?;
    let date = f.required("date", "required: the meeting's date (YYYY-MM-DD)")?;
    f.done("date")?;
    let m = s.atlas.create_meeting(&user, &date).await?;
    Ok((StatusCode::CREATED, Json(m)).into_response())
}

async fn list(
    State(s): State<AppState>,
    Staff(user): Staff,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Response, ApiError> {
    let items = s.atlas.meetings(&user).await?;
    Ok(Json(json!({ "items": items })).into_response())
}

async fn one(
    State(s): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i64>,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Response, ApiError> {
    Ok(Json(s.atlas.meeting(&user, id).await?).into_response())
}

async fn recommend(
    State(s): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i64>,
    req: Request,
) -> Result<Response, ApiError> {
    let mut f = Fields::of(small_json(req).await?)?;
    let number = f.required("application", "required: the application number")?;
    let approve = match f
        .required("recommendation", "required: approve or refuse")?
        .as_str()
    {
        "approve" => true,
        "refuse" => false,
        other => {
            return Err(ApiError::field(
                "recommendation",
                format!("{other:?} is not approve or refuse"),
            ))
        }
    };
    let text = f.required("text", "required: the committee's reasons and conditions")?;
    f.done("application, recommendation, text")?;
    let c = s
        .atlas
        .recommend(&user, id, &number, approve, &text)
        .await?;
    Ok(Json(c).into_response())
}

async fn minutes(
    State(s): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i64>,
    Params(NoParams {}): Params<NoParams>,
    req: Request,
) -> Result<Response, ApiError> {
    let bytes = super::body::read(req.into_body(), super::documents::MAX_BODY).await?;
    let m = s.atlas.meeting_minutes(&user, id, bytes.to_vec()).await?;
    Ok(Json(m).into_response())
}
