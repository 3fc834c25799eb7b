//! The audit trail: `GET /audit?subject=&after=&limit=` lists entries oldest first (public
//! ones; staff see all), each with its hash and the previous entry's, so anyone can
//! re-compute them; `GET /audit/verify` re-computes the whole chain here.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::auth::Staff;
use super::{ApiError, AppState, NoParams, Params};
use crate::store::{AuditCheck, AuditRecord};

const MAX_LIMIT: i64 = 1000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/audit", get(list))
        .route("/audit/verify", get(verify))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    subject: Option<String>,
    after: Option<i64>,
    limit: Option<i64>,
}

/// How an entry's `hash` is computed, so anyone can check it.
const HASH_RULE: &str = "SHA-256 (hex) of the compact JSON array [seq, at, actor, role, action, subject, public, detail, prev_hash], with detail as its compact JSON text (keys sorted)";

/// A page of the audit trail, oldest first.
#[derive(Serialize)]
struct AuditPage {
    entries: Vec<AuditRecord>,
    /// The `after` of the next page; `null` on the last.
    next_after: Option<i64>,
    hash: &'static str,
}

async fn list(
    State(s): State<AppState>,
    staff: Option<Staff>,
    Params(q): Params<ListParams>,
) -> Result<Json<AuditPage>, ApiError> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::param(format!(
            "limit must be from 1 to {MAX_LIMIT}"
        )));
    }
    let after = q.after.unwrap_or(0).max(0);
    let subject = q
        .subject
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let entries = s
        .atlas
        .store()
        .audit(subject, after, limit, staff.is_some())
        .await?;
    let next = (entries.len() as i64 == limit)
        .then(|| entries.last().map(|e| e.seq))
        .flatten();
    Ok(Json(AuditPage {
        entries,
        next_after: next,
        hash: HASH_RULE,
    }))
}

async fn verify(
    State(s): State<AppState>,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Json<AuditCheck>, ApiError> {
    Ok(Json(s.atlas.store().verify_audit().await?))
}
