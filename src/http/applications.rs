//! Online applications over HTTP, first part: what each type asks and how a case would
//! go. `GET /application-types` (every type open now, as data: works, rules by grade,
//! stages with who acts and their time limits, fields, documents, in English and
//! Bengali), `GET /application-types/{code}?version=` (one, or a version a running case
//! keeps), and `POST /application-types/{code}/check` `{asset, work}`: the stages a case
//! for that work at those premises passes through, or the rule's reason it is refused at
//! entry (a demolition of a Grade I building).

use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::body::Fields;
use super::complaints::small_json;
use super::{ApiError, AppState, NoParams, Params};
use crate::applications::{AppType, Produces, Text};
use crate::model::{Grade, Layer};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/application-types", get(list))
        .route("/application-types/{code}", get(one))
        .route("/application-types/{code}/check", post(check))
}

async fn list(State(s): State<AppState>, Params(NoParams {}): Params<NoParams>) -> Json<Value> {
    Json(serde_json::json!({ "types": s.atlas.application_types() }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VersionParams {
    version: Option<u32>,
}

/// A type, with every version on record.
#[derive(Serialize)]
struct OneType {
    #[serde(flatten)]
    definition: AppType,
    versions: Vec<VersionRef>,
}

#[derive(Serialize)]
struct VersionRef {
    version: u32,
    loaded_at: String,
}

fn current<'a>(s: &'a AppState, code: &str) -> Result<&'a AppType, ApiError> {
    s.atlas
        .application_types()
        .iter()
        .find(|t| t.code == code)
        .ok_or_else(|| {
            let open: Vec<&str> = s
                .atlas
                .application_types()
                .iter()
                .map(|t| t.code.as_str())
                .collect();
            ApiError::NotFound(format!(
                "no application type {code:?} (open: {})",
                open.join(", ")
            ))
        })
}

async fn one(
    State(s): State<AppState>,
    Path(code): Path<String>,
    Params(q): Params<VersionParams>,
) -> Result<Response, ApiError> {
    let now = current(&s, &code)?.clone();
    let store = s.atlas.store();
    let definition = match q.version {
        None => now,
        Some(v) if v == now.version => now,
        Some(v) => store
            .application_type(&code, v)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("{code} has no version {v}")))?,
    };
    let versions = store
        .application_type_versions(&code)
        .await?
        .into_iter()
        .map(|(version, loaded_at)| VersionRef { version, loaded_at })
        .collect();
    Ok(Json(OneType {
        definition,
        versions,
    })
    .into_response())
}

/// A stage as a case would meet it.
#[derive(Serialize)]
struct StageView {
    stage: String,
    name: Text,
    duty: String,
    produces: Produces,
    days: u32,
}

/// The answer to a check: the path, or why not.
#[derive(Serialize)]
struct Checked {
    allowed: bool,
    asset: String,
    grade: Option<Grade>,
    work: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<Text>,
    path: Vec<StageView>,
    /// Days the stages allow, together (the clock stops while the applicant is asked).
    days: u32,
}

async fn check(
    State(s): State<AppState>,
    Path(code): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let t = current(&s, &code)?.clone();
    let mut f = Fields::of(small_json(req).await?)?;
    let asset_code = f.required("asset", "required")?;
    let work = f.required("work", "required")?;
    f.done("asset, work")?;
    let asset = s.atlas.asset_by_code(&asset_code).await?.ok_or_else(|| {
        ApiError::field("asset", format!("no asset {asset_code} on the register"))
    })?;
    if asset.layer != t.asset_layer {
        return Err(ApiError::field(
            "asset",
            format!(
                "{} is in {}; {} is for {}",
                asset.code, asset.layer, t.code, t.asset_layer
            ),
        ));
    }
    let grade = if t.asset_layer == Layer::Heritage {
        asset.attrs.grade
    } else {
        None
    };
    let answer = match t.path_for(grade, &work) {
        Ok(path) => Checked {
            allowed: true,
            asset: asset.code.clone(),
            grade,
            work,
            reason: None,
            days: path
                .iter()
                .filter_map(|p| t.stages.get(p))
                .map(|st| st.days)
                .sum(),
            path: path
                .iter()
                .filter_map(|p| {
                    t.stages.get(p).map(|st| StageView {
                        stage: p.clone(),
                        name: st.name.clone(),
                        duty: st.duty.clone(),
                        produces: st.produces,
                        days: st.days,
                    })
                })
                .collect(),
        },
        Err(refused) => Checked {
            allowed: false,
            asset: asset.code.clone(),
            grade,
            work,
            reason: Some(refused.reason),
            path: Vec::new(),
            days: 0,
        },
    };
    Ok(Json(answer).into_response())
}
