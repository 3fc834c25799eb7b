//! The heritage lock, for other e-KMC systems (the Building department's checks a plan
//! against it): `GET /assets/{code}/heritage-lock` says whether works on a graded heritage
//! building may be processed — `locked` (the default for every graded building),
//! `cleared` for one application, or `released`. Officers record a decision made on
//! paper with `PUT` (`{state, application?, reason}`); each change is a public audit
//! entry. The decisions of online applications will set it the same way.

use axum::extract::{Path, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use super::auth::Staff;
use super::body::Fields;
use super::complaints::small_json;
use super::{ApiError, AppState, NoParams, Params};
use crate::model::{now_rfc3339, Grade, Layer, Role};
use crate::store::{AuditEntry, LockRecord};

pub fn router() -> Router<AppState> {
    Router::new().route("/assets/{id}/heritage-lock", get(show).put(set))
}

/// A building's lock as other systems read it.
#[derive(Serialize)]
struct Lock {
    asset: String,
    grade: Option<Grade>,
    /// Whether the building is under the heritage regime (a graded heritage asset).
    graded: bool,
    /// `locked`, `cleared`, `released`, or `not_applicable` for an ungraded asset.
    state: String,
    /// May the Building department process a plan for it?
    plans_may_proceed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    recorded: Option<LockRecord>,
}

async fn lock_of(s: &AppState, code: &str) -> Result<(crate::model::AssetId, Lock), ApiError> {
    let a = s
        .atlas
        .asset_by_code(code)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no asset {code}")))?;
    let grade = (a.layer == Layer::Heritage)
        .then_some(a.attrs.grade)
        .flatten();
    let recorded = s.atlas.store().heritage_lock(a.id).await?;
    let state = match (&grade, &recorded) {
        (None, _) => "not_applicable".to_string(),
        (Some(_), Some(r)) => r.state.clone(),
        (Some(_), None) => "locked".to_string(),
    };
    Ok((
        a.id,
        Lock {
            asset: a.code.clone(),
            grade,
            graded: grade.is_some(),
            plans_may_proceed: state != "locked",
            state,
            recorded,
        },
    ))
}

async fn show(
    State(s): State<AppState>,
    Path(code): Path<String>,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Response, ApiError> {
    let (_, lock) = lock_of(&s, &code).await?;
    Ok(([(header::CACHE_CONTROL, "no-cache")], Json(lock)).into_response())
}

async fn set(
    State(s): State<AppState>,
    Staff(user): Staff,
    Path(code): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    if user.role == Role::FieldStaff {
        return Err(ApiError::Forbidden(
            "the heritage lock is set by officers and admins".into(),
        ));
    }
    let mut f = Fields::of(small_json(req).await?)?;
    let state = f.required("state", "required: locked, cleared or released")?;
    let application = f.text("application")?;
    let reason = f.required(
        "reason",
        "required: the decision it follows (a resolution, an order)",
    )?;
    f.done("state, application, reason")?;
    for (k, v) in [
        ("application", application.as_deref()),
        ("reason", Some(reason.as_str())),
    ] {
        if v.is_some_and(|v| v.chars().count() > 2000) {
            return Err(ApiError::field(k, "at most 2000 characters"));
        }
    }
    if !matches!(state.as_str(), "locked" | "cleared" | "released") {
        return Err(ApiError::field(
            "state",
            format!("{state:?} is not locked, cleared or released"),
        ));
    }
    if state == "cleared" && application.is_none() {
        return Err(ApiError::field(
            "application",
            "a lock is cleared for one application: name it",
        ));
    }
    let (id, before) = lock_of(&s, &code).await?;
    if !before.graded {
        return Err(ApiError::Conflict(format!(
            "{} is not a graded heritage building: it has no heritage lock",
            before.asset
        )));
    }
    let at = now_rfc3339();
    let log = AuditEntry {
        actor: user.name.clone(),
        role: Some(user.role.as_str().into()),
        action: "asset.heritage_lock".into(),
        subject: before.asset.clone(),
        public: true,
        detail: serde_json::json!({
            "from": before.state, "to": state, "application": application, "reason": reason,
        }),
    };
    s.atlas
        .record_heritage_lock(
            id,
            &state,
            application.as_deref(),
            &reason,
            user.id,
            &at,
            &log,
        )
        .await?;
    let (_, lock) = lock_of(&s, &code).await?;
    Ok(Json(lock).into_response())
}
