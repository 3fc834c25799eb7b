//! An asset's history over HTTP. Staff: `POST /assets/{code}/inspections`,
//! `POST /assets/{code}/maintenance` (JSON), `POST /assets/{code}/documents` (multipart:
//! `file`, `title`, `public`). Everyone: `GET /documents/{sha256}` (public documents) and
//! `POST /documents/verify` — is this copy the one on record? Send the file itself (raw
//! body or multipart `file`), or JSON `{"sha256": "…"}`.

use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::auth::Staff;
use super::body::JsonBody;
use super::guard::{is_json, is_multipart, media_type};
use super::{feature, ApiError, AppState, NoParams, Params};
use crate::atlas::{HistoryError, Recorded};
use crate::history::{self, InspectionForm, MaintenanceForm, MAX_DOCUMENT_BYTES};
use crate::store::DocumentRecord;

/// A document and the form around it.
pub(super) const MAX_BODY: usize = MAX_DOCUMENT_BYTES + (1 << 20);

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/assets/{code}/inspections", post(inspection))
        .route("/assets/{code}/maintenance", post(maintenance))
        .route("/assets/{code}/documents", post(upload))
        .route("/documents/verify", post(verify))
        .route("/documents/{sha256}", get(document))
        .layer(DefaultBodyLimit::max(MAX_BODY))
}

impl From<HistoryError> for ApiError {
    fn from(e: HistoryError) -> Self {
        match e {
            HistoryError::Field(f) => ApiError::field(f.field, f.reason),
            HistoryError::NotFound(c) => ApiError::NotFound(format!("no asset {c}")),
            HistoryError::Forbidden(m) => ApiError::Forbidden(m),
            HistoryError::Conflict(m) => ApiError::Conflict(m),
            HistoryError::Unsupported(m) => ApiError::UnsupportedMediaType(m),
            HistoryError::TooLarge(m) => ApiError::TooLarge(m),
            HistoryError::Store(s) => s.into(),
            HistoryError::Io(m) => ApiError::Internal(m),
            HistoryError::Unavailable(m) => ApiError::Unavailable(m),
        }
    }
}

fn recorded(r: Recorded, what: &str) -> Response {
    (
        StatusCode::CREATED,
        Json(json!({ what: r.id, "asset": feature(&r.asset, &[]) })),
    )
        .into_response()
}

async fn inspection(
    State(s): State<AppState>,
    Staff(user): Staff,
    Path(code): Path<String>,
    JsonBody(form): JsonBody<InspectionForm>,
) -> Result<Response, ApiError> {
    let r = s.atlas.record_inspection(&code, form, &user).await?;
    Ok(recorded(r, "inspection"))
}

async fn maintenance(
    State(s): State<AppState>,
    Staff(user): Staff,
    Path(code): Path<String>,
    JsonBody(form): JsonBody<MaintenanceForm>,
) -> Result<Response, ApiError> {
    let r = s.atlas.record_maintenance(&code, form, &user).await?;
    Ok(recorded(r, "maintenance"))
}

fn document_url(sha: &str) -> String {
    format!("/documents/{sha}")
}

/// What anyone may know of a public document.
fn public_document(d: &DocumentRecord, asset: Option<Value>) -> Value {
    json!({
        "sha256": d.sha256,
        "title": d.title,
        "media_type": d.media_type,
        "size": d.size,
        "created_at": d.created_at,
        "public": d.public,
        "url": d.public.then(|| document_url(&d.sha256)),
        "asset": asset,
    })
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::TooLarge(format!(
            "a document may be at most {} MB",
            MAX_DOCUMENT_BYTES >> 20
        ))
    } else {
        ApiError::BadRequest(format!("malformed multipart body: {}", e.body_text()))
    }
}

/// The `file` part (at most one) and the text fields of a multipart body.
async fn file_and_fields(
    req: Request,
    s: &AppState,
    allowed: &[&str],
) -> Result<(Option<Vec<u8>>, Vec<(String, String)>), ApiError> {
    let mut mp = Multipart::from_request(req, s)
        .await
        .map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let mut file = None;
    let mut fields = Vec::new();
    while let Some(mut field) = mp.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or("").to_string();
        if name == "file" {
            if file.is_some() {
                return Err(ApiError::field("file", "one file per request"));
            }
            let mut buf = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                if buf.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                    return Err(ApiError::TooLarge(format!(
                        "a document may be at most {} MB",
                        MAX_DOCUMENT_BYTES >> 20
                    )));
                }
                buf.extend_from_slice(&chunk);
            }
            file = Some(buf);
        } else if allowed.contains(&name.as_str()) {
            fields.push((name, field.text().await.map_err(multipart_error)?));
        } else {
            return Err(ApiError::field(
                name,
                format!("unknown field (expected file, {})", allowed.join(", ")),
            ));
        }
    }
    Ok((file, fields))
}

async fn upload(
    State(s): State<AppState>,
    Staff(user): Staff,
    Path(code): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    if !is_multipart(&media_type(req.headers())) {
        return Err(ApiError::UnsupportedMediaType(
            "send multipart/form-data with `file`, `title` and optionally `public`".into(),
        ));
    }
    let (file, fields) = file_and_fields(req, &s, &["title", "public"]).await?;
    let field = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let public = match field("public").as_deref().map(str::trim) {
        None | Some("") | Some("true") | Some("1") | Some("on") => true,
        Some("false") | Some("0") | Some("off") => false,
        Some(other) => {
            return Err(ApiError::field(
                "public",
                format!("must be true or false, not {other:?}"),
            ))
        }
    };
    let d = s
        .atlas
        .add_document(
            &code,
            file.unwrap_or_default(),
            field("title"),
            public,
            &user,
        )
        .await?;
    let asset = s.atlas.asset_by_code(&code).await?.map(|a| asset_ref(&a));
    Ok((StatusCode::CREATED, Json(public_document(&d, asset))).into_response())
}

fn asset_ref(a: &crate::model::Asset) -> Value {
    json!({ "code": a.code, "name": a.attrs.name, "name_bn": a.attrs.name_bn, "layer": a.layer })
}

/// A public document's bytes; a document kept private is not found (staff read it with
/// their token).
async fn document(
    State(s): State<AppState>,
    Path(sha): Path<String>,
    headers: HeaderMap,
    staff: Option<Staff>,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Response, ApiError> {
    let missing = || ApiError::NotFound(format!("no public document {sha}"));
    let hash = history::parse_sha256(&sha).ok_or_else(missing)?;
    let d = s.atlas.store().document(&hash).await?.ok_or_else(missing)?;
    if !d.public && staff.is_none() {
        return Err(missing());
    }
    let etag = format!("\"{hash}\"");
    let mut h = HeaderMap::new();
    h.insert(
        header::ETAG,
        HeaderValue::from_str(&etag).map_err(|e| ApiError::Internal(e.to_string()))?,
    );
    // The bytes of a hash never change.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if d.public {
            "public, max-age=31536000, immutable"
        } else {
            "private, no-store"
        }),
    );
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag))
    {
        return Ok((StatusCode::NOT_MODIFIED, h).into_response());
    }
    let bytes = s.atlas.document_bytes(&hash).await?;
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&d.media_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&format!("inline; filename=\"{}\"", file_name(&d)))
            .unwrap_or(HeaderValue::from_static("inline")),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok((StatusCode::OK, h, bytes).into_response())
}

/// A download name from the title: ASCII letters, digits and dashes, and the extension.
fn file_name(d: &DocumentRecord) -> String {
    let mut stem: String = d
        .title
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    while stem.contains("--") {
        stem = stem.replace("--", "-");
    }
    let stem = stem.trim_matches('-');
    let stem = if stem.is_empty() {
        &d.sha256[..12]
    } else {
        stem
    };
    let ext = match d.media_type.as_str() {
        "application/pdf" => "pdf",
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/webp" => "webp",
        _ => "bin",
    };
    format!("{}.{ext}", &stem[..stem.len().min(80)])
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyHash {
    sha256: String,
}

/// Whether a copy (or a hash) is on record. Holding the bytes proves you hold the
/// document, so the answer names it even if it is not public; a bare hash of a private
/// document is told only that it is on record.
async fn verify(State(s): State<AppState>, req: Request) -> Result<Json<Value>, ApiError> {
    let ct = media_type(req.headers());
    let (hash, had_bytes) = if is_json(&ct) {
        let JsonBody::<VerifyHash>(v) = JsonBody::from_request(req, &s).await?;
        let hash = history::parse_sha256(v.sha256.trim()).ok_or_else(|| {
            ApiError::field("sha256", "must be 64 hexadecimal digits (a SHA-256)")
        })?;
        (hash, false)
    } else if is_multipart(&ct) {
        let (file, _) = file_and_fields(req, &s, &[]).await?;
        let file = file.ok_or_else(|| ApiError::field("file", "required: the copy to check"))?;
        (history::sha256_hex(&file), true)
    } else {
        let body = super::body::read(req.into_body(), MAX_DOCUMENT_BYTES).await?;
        if body.is_empty() {
            return Err(ApiError::BadRequest(
                "send the document's bytes, a multipart `file`, or JSON {\"sha256\": …}".into(),
            ));
        }
        (history::sha256_hex(&body), true)
    };
    let Some(d) = s.atlas.store().document(&hash).await? else {
        return Ok(Json(json!({ "sha256": hash, "on_record": false })));
    };
    if !d.public && !had_bytes {
        return Ok(Json(json!({
            "sha256": hash,
            "on_record": true,
            "public": false,
            "created_at": d.created_at,
        })));
    }
    let asset = d
        .asset_id
        .and_then(|id| s.atlas.index().get(id))
        .map(|a| asset_ref(&a));
    let mut v = public_document(&d, asset);
    v["on_record"] = json!(true);
    Ok(Json(v))
}
