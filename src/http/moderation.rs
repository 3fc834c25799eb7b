//! Moderation over HTTP. Anyone: `POST /complaints/{ticket}/flag` (a public piece looks
//! inappropriate; once per client and piece, rate-limited). Officers and admins:
//! `POST /complaints/{ticket}/moderation` (hide a piece with a reason, or show it again /
//! approve a held photo) and `GET /moderation` (the queue: held photos and flagged pieces).

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::auth::{Client, Staff};
use super::body::Fields;
use super::complaints::{small_json, ticket_param, StaffComplaint};
use super::{ApiError, AppState, Params};
use crate::atlas::Verdict;
use crate::complaints::moderation::Item;
use crate::model::Role;
use crate::store::{QueueItem, QueueState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/complaints/{ticket}/flag", post(flag))
        .route("/complaints/{ticket}/moderation", post(decide))
        .route("/moderation", get(queue))
}

fn item(f: &mut Fields) -> Result<Item, ApiError> {
    f.required(
        "item",
        "required: description, photo:<sha256> or note:<step id>",
    )?
    .parse()
    .map_err(|e: crate::model::BadItem| ApiError::field("item", e.to_string()))
}

/// The answer to a flag.
#[derive(Serialize)]
struct Flagged {
    ticket: String,
    item: String,
    /// False when this client had flagged it already (counted once).
    flagged: bool,
}

async fn flag(
    State(s): State<AppState>,
    Client(client): Client,
    Path(ticket): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    s.limiter.check(s.atlas.store(), &client).await?;
    let t = ticket_param(&ticket)?;
    let mut f = Fields::of(small_json(req).await?)?;
    let item = item(&mut f)?;
    let reason = f.text("reason")?;
    f.done("item, reason")?;
    // One flag per client address and piece, stored only as a hash.
    let who = crate::auth::sha256_hex(&format!("flag:{client}"));
    let flagged = s
        .atlas
        .flag_complaint(&t, item.clone(), &who, reason)
        .await?;
    let status = if flagged {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(Flagged {
            ticket: t,
            item: item.to_string(),
            flagged,
        }),
    )
        .into_response())
}

async fn decide(
    State(s): State<AppState>,
    Staff(user): Staff,
    Path(ticket): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let t = ticket_param(&ticket)?;
    let mut f = Fields::of(small_json(req).await?)?;
    let item = item(&mut f)?;
    let decision = f.required("decision", "required: hide or show")?;
    let reason = f.text("reason")?;
    f.done("item, decision, reason")?;
    let verdict = match decision.as_str() {
        "hide" => Verdict::Hide(reason.unwrap_or_default()),
        "show" | "approve" | "keep" => Verdict::Show,
        other => {
            return Err(ApiError::field(
                "decision",
                format!("{other:?} is not hide or show"),
            ))
        }
    };
    let c = s.atlas.moderate_complaint(&t, &user, item, verdict).await?;
    let asset = c.asset_id.and_then(|id| s.atlas.index().get(id));
    Ok(Json(StaffComplaint::of(&c, asset.as_deref(), user.role)).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct QueueParams {
    state: Option<String>,
    limit: Option<i64>,
}

/// The moderation queue.
#[derive(Serialize)]
struct Queue {
    state: &'static str,
    #[serde(rename = "numberReturned")]
    number_returned: usize,
    items: Vec<QueueItem>,
}

async fn queue(
    State(s): State<AppState>,
    Staff(user): Staff,
    Params(q): Params<QueueParams>,
) -> Result<Json<Queue>, ApiError> {
    if user.role == Role::FieldStaff {
        return Err(ApiError::Forbidden(
            "moderation is for officers and admins".into(),
        ));
    }
    let (state, name) = match q.state.as_deref().map(str::trim) {
        None | Some("") | Some("open") => (QueueState::Open, "open"),
        Some("hidden") => (QueueState::Hidden, "hidden"),
        Some(other) => {
            return Err(ApiError::param(format!(
                "state: {other:?} is not open or hidden"
            )))
        }
    };
    let limit = q.limit.unwrap_or(200);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::param("limit must be from 1 to 1000"));
    }
    let items = s.atlas.store().moderation_queue(state, limit).await?;
    Ok(Json(Queue {
        state: name,
        number_returned: items.len(),
        items,
    }))
}
