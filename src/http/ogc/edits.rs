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

use geo::MapCoords;
use serde_json::{Map, Value};

use super::params::collection_of;
use super::GEOJSON;
use crate::atlas::{EditError, Rewrite};
use crate::features::crs::Crs;
use crate::features::{write, Collection, Item};
use crate::http::auth::Staff;
use crate::http::body::read;
use crate::http::guard::{is_json, media_type};
use crate::http::{ApiError, AppState, BaseUrl, Params};
use crate::import::{self, ImportOptions, Reprojector};
use crate::model::{Asset, Layer, NewAsset};

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
    match crs.code {
        None => format!("\"{}.{}\"", a.id.0, a.version),
        Some(c) => format!("\"{}.{}.{c}\"", a.id.0, a.version),
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
        Some(Value::String(s)) if s.chars().count() <= 2_000 => {
            Ok(Some(s.trim().to_string()).filter(|s| !s.is_empty()))
        }
        Some(_) => Err(ApiError::field("note", "text of at most 2,000 characters")),
    }
}

/// A Feature body into the asset it describes: the import's own checks (positions,
/// rings, vertex cap, kinds per layer, property types), coordinates taken from `crs`.
fn new_asset(o: Map<String, Value>, layer: Layer, crs: &Crs) -> Result<NewAsset, ApiError> {
    match o.get("type").and_then(Value::as_str) {
        Some("Feature") => {}
        _ => {
            return Err(ApiError::BadRequest(
                "the body must be a GeoJSON Feature (\"type\": \"Feature\")".into(),
            ))
        }
    }
    let reason = |e: import::ImportError| match e {
        import::ImportError::Feature { reason, .. } => reason,
        e => e.to_string(),
    };
    let mut raw =
        import::raw_feature(Value::Object(o)).map_err(|e| ApiError::BadRequest(reason(e)))?;
    if !crs.is_crs84() {
        raw.geometry = raw
            .geometry
            .try_map_coords(|c| crs.inverse(c))
            .map_err(|e| {
                ApiError::BadRequest(format!(
                    "the geometry cannot be taken from {}: {e}",
                    crs.uri
                ))
            })?;
    }
    import::to_new_asset(raw, &Reprojector::wgs84(), &ImportOptions::new(layer))
        .map_err(|e| ApiError::BadRequest(reason(e)))
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

/// `POST /collections/{id}/items`: a new asset → 201, `Location`, `ETag`.
pub(super) async fn create(
    State(s): State<AppState>,
    Path(id): Path<String>,
    BaseUrl(base): BaseUrl,
    Staff(user): Staff,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let layer = layer_of(&id)?;
    let crs = content_crs(&headers)?;
    let mut o = json_object(&headers, body).await?;
    let note = take_note(&mut o)?;
    let a = new_asset(o, layer, &crs)?;
    let done = s.atlas.create_asset(a, &user, note.as_deref()).await;
    answer(done, StatusCode::CREATED, &id, &base)
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
    let crs = content_crs(&headers)?;
    let mut o = json_object(&headers, body).await?;
    let note = take_note(&mut o)?;
    let a = new_asset(o, layer, &crs)?;
    let done = s
        .atlas
        .rewrite_asset(
            &current.code,
            expected,
            a,
            Rewrite::Replace,
            &user,
            note.as_deref(),
        )
        .await;
    answer(done, StatusCode::OK, &id, &base)
}

/// RFC 7396: `patch` merged into `target` (objects member by member, `null` removes,
/// anything else replaces).
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(t) = target {
        for (k, v) in p {
            if v.is_null() {
                t.remove(k);
            } else {
                merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

/// The stored state of an asset as a Feature a patch applies to: its recorded
/// properties only (no computed ward, area, timestamps or version).
fn editable_feature(a: &Asset) -> Value {
    let mut f = crate::features::feature(a, &[]);
    if let Some(Value::Object(p)) = f.get_mut("properties") {
        for k in [
            "id",
            "layer",
            "area_m2",
            "created_at",
            "updated_at",
            "version",
            "ward_source",
        ] {
            p.remove(k);
        }
        if a.ward_from_location {
            p.remove("ward");
        }
    }
    if let Some(o) = f.as_object_mut() {
        o.remove("id");
    }
    f
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
    let mut f = editable_feature(&current);
    if !crs.is_crs84() {
        if let Some(o) = f.as_object_mut() {
            o.remove("geometry");
        }
    }
    merge_patch(&mut f, &Value::Object(patch));
    let Value::Object(o) = f else {
        return Err(ApiError::BadRequest(
            "the patch must be a JSON object".into(),
        ));
    };
    let a = new_asset(o, layer, &crs)?;
    let done = s
        .atlas
        .rewrite_asset(
            &current.code,
            expected,
            a,
            Rewrite::Update,
            &user,
            note.as_deref(),
        )
        .await;
    answer(done, StatusCode::OK, &id, &base)
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
    Staff(user): Staff,
    headers: HeaderMap,
    Params(p): Params<DelistParams>,
) -> Result<Response, ApiError> {
    let layer = layer_of(&id)?;
    let current = s.atlas.listed(layer, &fid)?;
    let expected = expected_version(&headers, &current)?;
    let reason = p.reason.unwrap_or_default();
    match s
        .atlas
        .delist_asset(layer, &current.code, expected, &reason, &user)
        .await
    {
        Ok(_) => Ok(StatusCode::NO_CONTENT.into_response()),
        Err(e @ EditError::Stale { .. }) => Ok(stale_response(e, &id, "")),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::merge_patch;
    use serde_json::json;

    /// The examples of RFC 7396, appendix A.
    #[test]
    fn rfc7396_examples() {
        let cases = [
            (json!({"a":"b"}), json!({"a":"c"}), json!({"a":"c"})),
            (json!({"a":"b"}), json!({"b":"c"}), json!({"a":"b","b":"c"})),
            (json!({"a":"b"}), json!({"a":null}), json!({})),
            (
                json!({"a":"b","b":"c"}),
                json!({"a":null}),
                json!({"b":"c"}),
            ),
            (json!({"a":["b"]}), json!({"a":"c"}), json!({"a":"c"})),
            (json!({"a":"c"}), json!({"a":["b"]}), json!({"a":["b"]})),
            (
                json!({"a":{"b":"c"}}),
                json!({"a":{"b":"d","c":null}}),
                json!({"a":{"b":"d"}}),
            ),
            (json!({"a":[{"b":"c"}]}), json!({"a":[1]}), json!({"a":[1]})),
            (json!(["a", "b"]), json!(["c", "d"]), json!(["c", "d"])),
            (json!({"a":"b"}), json!(["c"]), json!(["c"])),
            (json!({"a":"foo"}), json!(null), json!(null)),
            (json!({"a":"foo"}), json!("bar"), json!("bar")),
            (json!({"e":null}), json!({"a":1}), json!({"e":null,"a":1})),
            (json!([1, 2]), json!({"a":"b","c":null}), json!({"a":"b"})),
            (
                json!({}),
                json!({"a":{"bb":{"ccc":null}}}),
                json!({"a":{"bb":{}}}),
            ),
        ];
        for (target, patch, want) in cases {
            let mut t = target.clone();
            merge_patch(&mut t, &patch);
            assert_eq!(t, want, "{target} + {patch}");
        }
    }
}
