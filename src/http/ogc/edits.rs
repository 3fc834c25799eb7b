//! OGC API - Features Part 4 (Create, Replace, Update, Delete) on the asset collections:
//! `POST /collections/{id}/items` adds a feature, `PUT …/items/{fid}` replaces it,
//! `PATCH …/items/{fid}` applies a JSON Merge Patch (RFC 7396) to it and `DELETE
//! …/items/{fid}` delists it. Signed-in officers and admins only (field staff propose).
//!
//! Optimistic locking (RFC 7232): every item answer carries an `ETag` naming its id and
//! version; `PUT`, `PATCH` and `DELETE` need `If-Match` with it — 428 without, 412 with
//! the current version's `ETag` and body when another edit came first.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

use serde_json::{Map, Value};

use super::params::collection_of;
use super::GEOJSON;
use crate::atlas::{EditBy, EditError, Proposed, Rewrite};
use crate::features::crs::Crs;
use crate::features::{edit, write, Collection, Item};
use crate::http::auth::Staff;
use crate::http::body::read;
use crate::http::guard::{is_json, media_type};
use crate::http::{ApiError, AppState, BaseUrl, Params};
use crate::model::{Asset, Layer, NewAsset, Role};
use crate::store::{Proposal, User};

/// The largest feature an edit may send: room for the city's most intricate outline
/// (East Kolkata Wetlands, ~20,000 vertices, ~1 MB as GeoJSON) many times over, within
/// the import's vertex cap.
pub const FEATURE_BODY: usize = 16 << 20;

impl From<EditError> for ApiError {
    fn from(e: EditError) -> Self {
        match e {
            EditError::NotFound(m) => ApiError::NotFound(m),
            EditError::Forbidden(m) => ApiError::Forbidden(m),
            EditError::Invalid(m) => ApiError::BadRequest(m),
            EditError::CodeTaken(c) => ApiError::Conflict(format!("code {c} is already taken")),
            EditError::Conflict(m) => ApiError::Conflict(m),
            e @ EditError::Stale { .. } => ApiError::Other {
                status: StatusCode::PRECONDITION_FAILED,
                description: e.to_string(),
            },
            EditError::Store(e) => e.into(),
        }
    }
}

/// The strong validator of an item: its id and version (and the CRS it is written in,
/// when not CRS84, since the bytes differ).
pub fn etag(a: &Asset, crs: &Crs) -> String {
    // A heritage lock changes the item without a new version: its state is in the tag
    // too, after the two parts `If-Match` reads.
    let lock = match &a.lock {
        Some(l) => format!(
            ".{}{}",
            &l.state[..1],
            l.application
                .as_deref()
                .map(|n| crate::auth::sha256_hex(n)[..8].to_string())
                .unwrap_or_default()
        ),
        None => String::new(),
    };
    match crs.code {
        None => format!("\"{}.{}{lock}\"", a.id.0, a.version),
        Some(c) => format!("\"{}.{}{lock}.{c}\"", a.id.0, a.version),
    }
}

/// The version `If-Match` names for asset `a`: `Ok(None)` when the header is absent,
/// the current version for `*`, the version of an ETag of this asset; another asset's
/// ETag names no version of this one (a stale edit).
fn if_match(headers: &HeaderMap, a: &Asset) -> Result<Option<i64>, ApiError> {
    let Some(v) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let v = v
        .to_str()
        .map_err(|_| ApiError::BadRequest("If-Match is not text".into()))?;
    let mut named = None;
    for tag in v.split(',').map(str::trim) {
        if tag == "*" {
            return Ok(Some(a.version));
        }
        let inner = tag.strip_prefix('"').and_then(|t| t.strip_suffix('"'));
        let Some(inner) = inner else {
            return Err(ApiError::BadRequest(format!(
                "If-Match: {tag} is not a quoted entity tag (weak tags do not match)"
            )));
        };
        let mut parts = inner.split('.');
        let (id, version) = (parts.next(), parts.next());
        if let (Some(Ok(id)), Some(Ok(version))) =
            (id.map(str::parse::<i64>), version.map(str::parse::<i64>))
        {
            if id == a.id.0 {
                // Of several tags of this asset, the newest counts.
                named = named.max(Some(version));
                continue;
            }
        }
        named = named.or(Some(-1));
    }
    Ok(named)
}

/// The version an edit is made against, from `If-Match`; 428 without one.
pub(crate) fn expected_version(headers: &HeaderMap, a: &Asset) -> Result<i64, ApiError> {
    if_match(headers, a)?.ok_or_else(|| ApiError::Other {
        status: StatusCode::PRECONDITION_REQUIRED,
        description: format!(
            "send If-Match with the ETag of the version you edited (GET it: {} is at version {})",
            a.code, a.version
        ),
    })
}

/// The asset layer behind a collection id; the complaints collection is not edited here.
fn layer_of(id: &str) -> Result<Layer, ApiError> {
    match collection_of(id)? {
        Collection::Assets(l) => Ok(l),
        Collection::Complaints => Err(ApiError::MethodNotAllowed(
            "complaints are filed with POST /complaints and triaged with PATCH /complaints/{ticket}"
                .into(),
        )),
    }
}

/// The CRS a body's coordinates are in (`Content-Crs`, as OGC API Part 2 names it);
/// CRS84 when absent.
fn content_crs(headers: &HeaderMap) -> Result<Crs, ApiError> {
    match headers.get("content-crs") {
        None => Ok(Crs::crs84()),
        Some(v) => {
            let s = v
                .to_str()
                .map_err(|_| ApiError::BadRequest("Content-Crs is not text".into()))?;
            let s = s.trim().trim_start_matches('<').trim_end_matches('>');
            Crs::parse(s).map_err(|e| ApiError::BadRequest(format!("Content-Crs: {e}")))
        }
    }
}

/// A GeoJSON body (`application/geo+json` or any JSON type) as a JSON object.
async fn json_object(headers: &HeaderMap, body: Body) -> Result<Map<String, Value>, ApiError> {
    let ct = media_type(headers);
    if !is_json(&ct) {
        return Err(ApiError::UnsupportedMediaType(format!(
            "send a GeoJSON Feature as application/geo+json (or a merge patch as \
             application/merge-patch+json), not {}",
            if ct.is_empty() {
                "a body without a Content-Type"
            } else {
                &ct
            }
        )));
    }
    let bytes = read(body, FEATURE_BODY).await?;
    match crate::http::body::parse::<Value>(&bytes)? {
        Value::Object(o) => Ok(o),
        _ => Err(ApiError::BadRequest(
            "the body must be a JSON object (a GeoJSON Feature)".into(),
        )),
    }
}

/// The edit's note, from the foreign member `note` of the body (RFC 7946 §6.1), taken
/// out so it is not stored as a property.
fn take_note(o: &mut Map<String, Value>) -> Result<Option<String>, ApiError> {
    match o.remove("note") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => edit::note(Some(&s)).map_err(|e| ApiError::field("note", e)),
        Some(_) => Err(ApiError::field("note", "text of at most 2,000 characters")),
    }
}

/// A Feature body (in its `Content-Crs`) into the asset of `layer` it describes, and the
/// edit's note.
async fn feature_body(
    headers: &HeaderMap,
    body: Body,
    layer: Layer,
) -> Result<(NewAsset, Option<String>), ApiError> {
    let crs = content_crs(headers)?;
    let mut o = json_object(headers, body).await?;
    let note = take_note(&mut o)?;
    Ok((new_asset(o, layer, &crs)?, note))
}

/// A Feature body into the asset it describes (see [`edit::new_asset`]).
fn new_asset(o: Map<String, Value>, layer: Layer, crs: &Crs) -> Result<NewAsset, ApiError> {
    edit::new_asset(o, layer, crs).map_err(ApiError::BadRequest)
}

/// An item as the edit answers with it: the feature, its ETag and `Location`.
fn item_response(status: StatusCode, a: &Arc<Asset>, id: &str, base: &str) -> Response {
    let crs = Crs::crs84();
    let body = write::feature(&Item::Asset(a.clone()), &crs).to_string();
    let mut h = HeaderMap::new();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(GEOJSON));
    if let Ok(v) = HeaderValue::from_str(&etag(a, &crs)) {
        h.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("{base}/collections/{id}/items/{}", a.id.0)) {
        h.insert(header::LOCATION, v);
    }
    (status, h, body).into_response()
}

/// 412 with the current version: its ETag and body, so the client can merge and retry.
fn stale_response(e: EditError, id: &str, base: &str) -> Response {
    let EditError::Stale { current, .. } = &e else {
        return ApiError::from(e).into_response();
    };
    let mut r = item_response(StatusCode::PRECONDITION_FAILED, current, id, base);
    r.headers_mut().remove(header::LOCATION);
    let body = serde_json::json!({
        "code": "precondition_failed",
        "description": e.to_string(),
        "current": write::feature(&Item::Asset(current.clone()), &Crs::crs84()),
    });
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    *r.body_mut() = Body::from(body.to_string());
    r
}

fn answer(
    done: Result<Arc<Asset>, EditError>,
    status: StatusCode,
    id: &str,
    base: &str,
) -> Result<Response, ApiError> {
    match done {
        Ok(a) => Ok(item_response(status, &a, id, base)),
        Err(e @ EditError::Stale { .. }) => Ok(stale_response(e, id, base)),
        Err(e) => Err(e.into()),
    }
}

/// 202 with the proposal: field staff's change waits for an officer (`Location`: the
/// proposal).
fn proposal_response(p: &Proposal, base: &str) -> Response {
    let mut r = (StatusCode::ACCEPTED, axum::Json(p)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("{base}/proposals/{}", p.id)) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// Writes an edit (officers, admins) or keeps it as a proposal (field staff).
async fn edit_or_propose(
    s: &AppState,
    user: &User,
    note: Option<&str>,
    change: Proposed,
    id: &str,
    base: &str,
) -> Result<Response, ApiError> {
    let by = EditBy::user(user, note);
    let (done, status) = match change {
        change if user.role == Role::FieldStaff => {
            return match s.atlas.propose(change, user, note).await {
                Ok(p) => Ok(proposal_response(&p, base)),
                Err(e @ EditError::Stale { .. }) => Ok(stale_response(e, id, base)),
                Err(e) => Err(e.into()),
            };
        }
        Proposed::Create(a) => (s.atlas.create_asset(a, &by).await, StatusCode::CREATED),
        Proposed::Rewrite {
            current,
            expected,
            state,
            how,
            ..
        } => (
            s.atlas
                .rewrite_asset(&current.code, expected, state, how, &by)
                .await,
            StatusCode::OK,
        ),
        Proposed::Delist {
            current,
            expected,
            reason,
        } => {
            let by = EditBy::user(user, Some(&reason));
            return match s
                .atlas
                .delist_asset(current.layer, &current.code, expected, &reason, &by)
                .await
            {
                Ok(_) => Ok(StatusCode::NO_CONTENT.into_response()),
                Err(e @ EditError::Stale { .. }) => Ok(stale_response(e, id, base)),
                Err(e) => Err(e.into()),
            };
        }
    };
    answer(done, status, id, base)
}

/// `POST /collections/{id}/items`: a new asset → 201, `Location`, `ETag` (field staff:
/// 202 and the proposal).
pub(super) async fn create(
    State(s): State<AppState>,
    Path(id): Path<String>,
    BaseUrl(base): BaseUrl,
    Staff(user): Staff,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let (a, note) = feature_body(&headers, body, layer_of(&id)?).await?;
    edit_or_propose(&s, &user, note.as_deref(), Proposed::Create(a), &id, &base).await
}

/// `PUT /collections/{id}/items/{fid}`: the whole new state of an asset.
pub(super) async fn replace(
    State(s): State<AppState>,
    Path((id, fid)): Path<(String, String)>,
    BaseUrl(base): BaseUrl,
    Staff(user): Staff,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let layer = layer_of(&id)?;
    let current = s.atlas.listed(layer, &fid)?;
    let expected = expected_version(&headers, &current)?;
    let (state, note) = feature_body(&headers, body, layer).await?;
    let change = Proposed::Rewrite {
        current,
        expected,
        state,
        how: Rewrite::Replace,
        patch: None,
    };
    edit_or_propose(&s, &user, note.as_deref(), change, &id, &base).await
}

/// `PATCH /collections/{id}/items/{fid}`: a JSON Merge Patch of the Feature — its
/// `properties` member by member (`null` clears one), its `geometry` when sent.
pub(super) async fn update(
    State(s): State<AppState>,
    Path((id, fid)): Path<(String, String)>,
    BaseUrl(base): BaseUrl,
    Staff(user): Staff,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let layer = layer_of(&id)?;
    let current = s.atlas.listed(layer, &fid)?;
    let expected = expected_version(&headers, &current)?;
    let crs = content_crs(&headers)?;
    let mut patch = json_object(&headers, body).await?;
    let note = take_note(&mut patch)?;
    // A geometry in the patch is in the body's CRS; the stored one is CRS84 already.
    let crs = if patch.contains_key("geometry") {
        crs
    } else {
        Crs::crs84()
    };
    for k in ["type", "id"] {
        patch.remove(k);
    }
    let mut f = edit::editable_feature(&current);
    if !crs.is_crs84() {
        if let Some(o) = f.as_object_mut() {
            o.remove("geometry");
        }
    }
    edit::merge_patch(&mut f, &Value::Object(patch.clone()));
    let Value::Object(o) = f else {
        return Err(ApiError::BadRequest(
            "the patch must be a JSON object".into(),
        ));
    };
    let state = new_asset(o, layer, &crs)?;
    // The patch as a proposal keeps it, to apply again on a newer version: its geometry
    // (if any) as stored, in CRS84.
    if patch.contains_key("geometry") {
        patch.insert(
            "geometry".into(),
            serde_json::to_value(geojson::Geometry::new(geojson::Value::from(
                &state.geometry,
            )))
            .unwrap_or(Value::Null),
        );
    }
    let change = Proposed::Rewrite {
        current,
        expected,
        state,
        how: Rewrite::Update,
        patch: Some(Value::Object(patch)),
    };
    edit_or_propose(&s, &user, note.as_deref(), change, &id, &base).await
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DelistParams {
    reason: Option<String>,
}

/// `DELETE /collections/{id}/items/{fid}?reason=…`: delists the asset → 204.
pub(super) async fn delist(
    State(s): State<AppState>,
    Path((id, fid)): Path<(String, String)>,
    BaseUrl(base): BaseUrl,
    Staff(user): Staff,
    headers: HeaderMap,
    Params(p): Params<DelistParams>,
) -> Result<Response, ApiError> {
    let layer = layer_of(&id)?;
    let current = s.atlas.listed(layer, &fid)?;
    let expected = expected_version(&headers, &current)?;
    let change = Proposed::Delist {
        current,
        expected,
        reason: p.reason.unwrap_or_default(),
    };
    edit_or_propose(&s, &user, None, change, &id, &base).await
}
