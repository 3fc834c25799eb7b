//! An asset's history over HTTP. Staff: `POST /assets/{code}/inspections`,
//! `POST /assets/{code}/maintenance` (JSON), `POST /assets/{code}/documents` (multipart:
//! `file`, `title`, `public`). Everyone: `GET /documents/{sha256}` (public documents) and
//! `POST /documents/verify` — is this copy the one on record? Send the file itself (raw
//! body or multipart `file`), or JSON `{"sha256": "…"}`.
//!
//! A document is named (title, type, asset) only by [`NamedDocument`]: to staff, and to
//! whoever sends its bytes. Asked by hash alone about a private document, the answer is a
//! [`Verified::Private`], which has no field that could name it.

use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::Value;

use super::auth::Staff;
use super::body::JsonBody;
use super::guard::{is_json, is_multipart, media_type};
use super::{feature, ApiError, AppState, NoParams, Params};
use crate::atlas::{HistoryError, Recorded};
use crate::history::{self, InspectionForm, MaintenanceForm, MAX_DOCUMENT_BYTES};
use crate::model::{Asset, Layer};
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

/// The answer to a new inspection or maintenance work: its id, under its kind's name,
/// and the asset as it now stands.
#[derive(Serialize)]
struct RecordedAnswer {
    #[serde(flatten)]
    id: RecordId,
    asset: Value,
}

/// `{"inspection": id}` or `{"maintenance": id}`.
#[derive(Serialize)]
#[serde(rename_all = "lowercase")]
enum RecordId {
    Inspection(i64),
    Maintenance(i64),
}

fn recorded(r: Recorded, id: fn(i64) -> RecordId) -> Response {
    let answer = RecordedAnswer {
        id: id(r.id),
        asset: feature(&r.asset, &[]),
    };
    (StatusCode::CREATED, Json(answer)).into_response()
}

async fn inspection(
    State(s): State<AppState>,
    Staff(user): Staff,
    Path(code): Path<String>,
    JsonBody(form): JsonBody<InspectionForm>,
) -> Result<Response, ApiError> {
    let r = s.atlas.record_inspection(&code, form, &user).await?;
    Ok(recorded(r, RecordId::Inspection))
}

async fn maintenance(
    State(s): State<AppState>,
    Staff(user): Staff,
    Path(code): Path<String>,
    JsonBody(form): JsonBody<MaintenanceForm>,
) -> Result<Response, ApiError> {
    let r = s.atlas.record_maintenance(&code, form, &user).await?;
    Ok(recorded(r, RecordId::Maintenance))
}

fn document_url(sha: &str) -> String {
    format!("/documents/{sha}")
}

/// The asset a document is on record for, as document answers name it.
#[derive(Serialize)]
struct DocumentAsset<'a> {
    code: &'a str,
    name: Option<&'a str>,
    name_bn: Option<&'a str>,
    layer: Layer,
}

impl<'a> From<&'a Asset> for DocumentAsset<'a> {
    fn from(a: &'a Asset) -> Self {
        DocumentAsset {
            code: &a.code,
            name: a.attrs.name.as_deref(),
            name_bn: a.attrs.name_bn.as_deref(),
            layer: a.layer,
        }
    }
}

/// A document by name: to staff who put it on record, and to whoever holds its bytes. A
/// private document has no `url` (staff fetch it by hash with their token).
#[derive(Serialize)]
struct NamedDocument<'a> {
    sha256: &'a str,
    title: &'a str,
    media_type: &'a str,
    size: i64,
    created_at: &'a str,
    public: bool,
    url: Option<String>,
    asset: Option<DocumentAsset<'a>>,
}

impl<'a> NamedDocument<'a> {
    fn of(d: &'a DocumentRecord, asset: Option<&'a Asset>) -> Self {
        NamedDocument {
            sha256: &d.sha256,
            title: &d.title,
            media_type: &d.media_type,
            size: d.size,
            created_at: &d.created_at,
            public: d.public,
            url: d.public.then(|| document_url(&d.sha256)),
            asset: asset.map(DocumentAsset::from),
        }
    }
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
    let asset = s.atlas.asset_by_code(&code).await?;
    let answer = NamedDocument::of(&d, asset.as_deref());
    Ok((StatusCode::CREATED, Json(answer)).into_response())
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

/// The answer to `POST /documents/verify`.
#[derive(Serialize)]
#[serde(untagged)]
enum Verified<'a> {
    /// Nothing with this hash is on record (`on_record` is false).
    Unknown { sha256: String, on_record: bool },
    /// A private document asked about by hash alone: that it is on record, and since when.
    Private {
        sha256: String,
        on_record: bool,
        public: bool,
        created_at: String,
    },
    /// A public document, or one whose bytes were sent (`on_record` is true).
    Named {
        #[serde(flatten)]
        document: NamedDocument<'a>,
        on_record: bool,
    },
}

/// Whether a copy (or a hash) is on record. Holding the bytes proves you hold the
/// document, so the answer names it even if it is not public; a bare hash of a private
/// document is told only that it is on record.
async fn verify(State(s): State<AppState>, req: Request) -> Result<Response, ApiError> {
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
        let answer = Verified::Unknown {
            sha256: hash,
            on_record: false,
        };
        return Ok(Json(answer).into_response());
    };
    if !d.public && !had_bytes {
        let answer = Verified::Private {
            sha256: hash,
            on_record: true,
            public: false,
            created_at: d.created_at,
        };
        return Ok(Json(answer).into_response());
    }
    let asset = d.asset_id.and_then(|id| s.atlas.index().get(id));
    let answer = Verified::Named {
        document: NamedDocument::of(&d, asset.as_deref()),
        on_record: true,
    };
    Ok(Json(answer).into_response())
}
