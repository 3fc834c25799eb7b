//! Proposals, for staff: `GET /proposals?status=&ward=` (officers see all, field staff
//! their own), `GET /proposals/{id}` with what it would change (both outlines, the
//! properties before and after, the area change), and `POST /proposals/{id}/approve`,
//! `/reject` and `/rebase`.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::auth::Staff;
use super::body::JsonBody;
use super::{feature, ApiError, AppState, NoParams, Params};
use crate::atlas::Diff;
use crate::features::crs::Crs;
use crate::model::{ProposalStatus, Role};
use crate::store::{Proposal, User};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/proposals", get(list))
        .route("/proposals/{id}", get(one))
        .route("/proposals/{id}/approve", post(approve))
        .route("/proposals/{id}/reject", post(reject))
        .route("/proposals/{id}/rebase", post(rebase))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    status: Option<String>,
    ward: Option<i64>,
    limit: Option<i64>,
}

#[derive(Serialize)]
struct ProposalList {
    proposals: Vec<Proposal>,
}

/// Field staff see only their own proposals.
fn visible_to(user: &User, p: &Proposal) -> bool {
    user.role != Role::FieldStaff || p.proposer == user.name
}

async fn list(
    State(s): State<AppState>,
    Staff(user): Staff,
    Params(p): Params<ListParams>,
) -> Result<Json<ProposalList>, ApiError> {
    let status = p
        .status
        .as_deref()
        .map(|v| {
            v.parse::<ProposalStatus>()
                .map_err(|e| ApiError::param(format!("status: {e}")))
        })
        .transpose()?;
    let limit = p.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::param("limit must be 1 to 1000"));
    }
    let mine = (user.role == Role::FieldStaff).then_some(user.name.as_str());
    let proposals = s
        .atlas
        .store()
        .proposals(status, p.ward, mine, limit)
        .await?;
    Ok(Json(ProposalList { proposals }))
}

/// A proposal with what it would change.
#[derive(Serialize)]
struct ProposalAnswer {
    #[serde(flatten)]
    proposal: Proposal,
    /// The asset as it stands (GeoJSON Feature), if it exists.
    before: Option<Value>,
    /// The asset as the proposal would leave it (none for a delisting).
    after: Option<Value>,
    diff: Option<Diff>,
    /// The asset has changed since the proposal was made: rebase or reject it.
    stale: bool,
}

async fn found(s: &AppState, user: &User, id: &str) -> Result<Proposal, ApiError> {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::NotFound(format!("no proposal {id:?}")))?;
    match s.atlas.store().proposal(id).await? {
        Some(p) if visible_to(user, &p) => Ok(p),
        _ => Err(ApiError::NotFound(format!("no proposal {id}"))),
    }
}

async fn answer(s: &AppState, p: Proposal) -> Result<Json<ProposalAnswer>, ApiError> {
    let view = s.atlas.proposal_view(&p).await?;
    Ok(Json(ProposalAnswer {
        proposal: p,
        before: view.before.as_ref().map(|a| feature(a, &[])),
        after: view.after.as_ref().map(|a| feature(a, &[])),
        diff: view.diff,
        stale: view.stale,
    }))
}

async fn one(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Staff(user): Staff,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Json<ProposalAnswer>, ApiError> {
    let p = found(&s, &user, &id).await?;
    answer(&s, p).await
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Decision {
    note: Option<String>,
}

fn officer(user: &User) -> Result<(), ApiError> {
    if user.role == Role::FieldStaff {
        return Err(ApiError::Forbidden(
            "an officer decides on proposals".into(),
        ));
    }
    Ok(())
}

/// `POST /proposals/{id}/approve` (`{"note": …}` optional): the change is written.
async fn approve(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Staff(user): Staff,
    body: Option<JsonBody<Decision>>,
) -> Result<Response, ApiError> {
    officer(&user)?;
    let p = found(&s, &user, &id).await?;
    let note = body.and_then(|JsonBody(d)| d.note);
    let note =
        crate::features::edit::note(note.as_deref()).map_err(|e| ApiError::field("note", e))?;
    let asset = s.atlas.approve(p.id, &user, note.as_deref()).await?;
    let mut r = (StatusCode::OK, Json(feature(&asset, &[]))).into_response();
    // The version the approval wrote (a delisting: the last listed one's).
    if let Ok(v) = HeaderValue::from_str(&super::ogc::edits::etag(&asset, &Crs::crs84())) {
        r.headers_mut().insert(header::ETAG, v);
    }
    Ok(r)
}

/// `POST /proposals/{id}/reject` with `{"note": "why"}`.
async fn reject(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Staff(user): Staff,
    JsonBody(d): JsonBody<Decision>,
) -> Result<Json<ProposalAnswer>, ApiError> {
    officer(&user)?;
    let p = found(&s, &user, &id).await?;
    s.atlas
        .reject(p.id, &user, d.note.as_deref().unwrap_or_default())
        .await?;
    let p = found(&s, &user, &id).await?;
    answer(&s, p).await
}

/// `POST /proposals/{id}/rebase`: an update moved onto the asset's current version.
async fn rebase(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Staff(user): Staff,
) -> Result<Json<ProposalAnswer>, ApiError> {
    let p = found(&s, &user, &id).await?;
    let p = s.atlas.rebase(p.id, &user).await?;
    answer(&s, p).await
}
