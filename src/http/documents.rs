//! Documents over HTTP.
//!
//! Everyone: `GET /documents?q=&type=&asset=&ward=&from=&to=&status=&language=` (search;
//! private documents only for staff), `GET /documents/{sha256}` (the bytes),
//! `/documents/{sha256}/record` (the record, JSON), `/stamped.pdf` (a copy with a QR
//! code and verification line on every page), `/qr.svg`, `/text`, `GET /verify/{sha256}`
//! (the verification page, or JSON), and `POST /documents/verify` — is this copy the one
//! on record? Send the file itself (raw body or multipart `file`), or JSON
//! `{"sha256": "…"}`.
//!
//! Staff: `POST /documents` and `POST /assets/{code}/documents` (multipart: `file` and
//! the record's fields), `PATCH /documents/{sha256}/record` (a JSON merge patch, with an
//! optional `note`; `If-Match: "doc.N"` to refuse a stale change), `POST
//! /documents/{sha256}/status`, `GET /documents/{sha256}/versions`, `GET /documents/jobs`.
//!
//! A private document is named only to staff, and to whoever sends its bytes. Asked by
//! hash alone about a private document, the answer is a [`Verified::Private`], which has
//! no field that could name it.

use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::auth::Staff;
use super::body::JsonBody;
use super::guard::{is_json, is_multipart, media_type};
use super::{ApiError, AppState, BaseUrl, NoParams, Params};
use crate::atlas::{HistoryError, StatusChange};
use crate::documents::form::DocFields;
use crate::documents::{pdf, qr, search, DocKind, DocStatus};
use crate::history::{self, MAX_DOCUMENT_BYTES};
use crate::store::{DocHit, DocQuery, DocumentRecord, LinkedAsset, TextState};

/// A document and the form around it.
pub(super) const MAX_BODY: usize = MAX_DOCUMENT_BYTES + (1 << 20);
/// Results per page at most.
const MAX_LIMIT: i64 = 100;
/// How far into the results a client may page.
const MAX_OFFSET: i64 = 10_000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/documents", get(find).post(upload))
        .route("/assets/{code}/documents", post(upload_for_asset))
        .route("/documents/verify", post(verify))
        .route("/documents/jobs", get(jobs))
        .route("/documents/{sha256}", get(document))
        .route("/documents/{sha256}/record", get(record).patch(change))
        .route("/documents/{sha256}/status", post(status))
        .route("/documents/{sha256}/versions", get(versions))
        .route("/documents/{sha256}/text", get(text))
        .route("/documents/{sha256}/stamped.pdf", get(stamped))
        .route("/documents/{sha256}/qr.svg", get(qr_svg))
        .route("/verify/{sha256}", get(verify_page))
        .layer(DefaultBodyLimit::max(MAX_BODY))
}

/// A document's record as answers show it.
#[derive(Serialize)]
pub struct DocumentView<'a> {
    sha256: &'a str,
    title: &'a str,
    #[serde(rename = "type")]
    kind: DocKind,
    reference: Option<&'a str>,
    issuer: Option<&'a str>,
    issued_on: Option<&'a str>,
    valid_until: Option<&'a str>,
    language: Option<&'a str>,
    ward: Option<i64>,
    public: bool,
    status: DocStatus,
    status_reason: Option<&'a str>,
    superseded_by: Option<&'a str>,
    media_type: &'a str,
    size: i64,
    version: i64,
    created_at: &'a str,
    updated_at: &'a str,
    assets: &'a [LinkedAsset],
    text: &'a TextState,
    /// The bytes (a private document's only with a staff token).
    url: String,
    verify_url: String,
    stamped_url: String,
}

impl<'a> DocumentView<'a> {
    pub fn of(d: &'a DocumentRecord) -> Self {
        let m = &d.meta;
        DocumentView {
            sha256: &d.sha256,
            title: &m.title,
            kind: m.kind,
            reference: m.reference.as_deref(),
            issuer: m.issuer.as_deref(),
            issued_on: m.issued_on.as_deref(),
            valid_until: m.valid_until.as_deref(),
            language: m.language.as_deref(),
            ward: m.ward,
            public: m.public,
            status: d.state.status,
            status_reason: d.state.status_reason.as_deref(),
            superseded_by: d.state.superseded_by.as_deref(),
            media_type: &d.media_type,
            size: d.size,
            version: d.version,
            created_at: &d.created_at,
            updated_at: &d.updated_at,
            assets: &d.assets,
            text: &d.text,
            url: format!("/documents/{}", d.sha256),
            verify_url: format!("/verify/{}", d.sha256),
            stamped_url: format!("/documents/{}/stamped.pdf", d.sha256),
        }
    }
}

/// A document as an asset's record lists it.
#[derive(Serialize)]
pub struct DocumentSummary {
    sha256: String,
    title: String,
    #[serde(rename = "type")]
    kind: DocKind,
    reference: Option<String>,
    issued_on: Option<String>,
    status: DocStatus,
    media_type: String,
    size: i64,
    created_at: String,
    url: String,
    verify_url: String,
}

impl DocumentSummary {
    pub fn of(d: &DocumentRecord) -> Self {
        DocumentSummary {
            sha256: d.sha256.clone(),
            title: d.meta.title.clone(),
            kind: d.meta.kind,
            reference: d.meta.reference.clone(),
            issued_on: d.meta.issued_on.clone(),
            status: d.state.status,
            media_type: d.media_type.clone(),
            size: d.size,
            created_at: d.created_at.clone(),
            url: format!("/documents/{}", d.sha256),
            verify_url: format!("/verify/{}", d.sha256),
        }
    }
}

impl From<HistoryError> for ApiError {
    fn from(e: HistoryError) -> Self {
        match e {
            HistoryError::Field(f) => ApiError::field(f.field, f.reason),
            HistoryError::NotFound(c) => ApiError::NotFound(format!("no {c}")),
            HistoryError::Forbidden(m) => ApiError::Forbidden(m),
            HistoryError::Conflict(m) => ApiError::Conflict(m),
            HistoryError::Stale(m) => ApiError::Other {
                status: StatusCode::PRECONDITION_FAILED,
                description: m,
            },
            HistoryError::Unsupported(m) => ApiError::UnsupportedMediaType(m),
            HistoryError::TooLarge(m) => ApiError::TooLarge(m),
            HistoryError::Store(s) => s.into(),
            HistoryError::Io(m) => ApiError::Internal(m),
            HistoryError::Unavailable(m) => ApiError::Unavailable(m),
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
            if fields.iter().any(|(n, _)| *n == name) {
                return Err(ApiError::field(
                    "body",
                    format!("field {name:?} given twice"),
                ));
            }
            fields.push((name, field.text().await.map_err(multipart_error)?));
        } else {
            return Err(ApiError::field(
                "body",
                format!(
                    "unknown field {name:?} (expected file, {})",
                    allowed.join(", ")
                ),
            ));
        }
    }
    Ok((file, fields))
}

fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

async fn put(
    s: AppState,
    user: crate::store::User,
    code: Option<String>,
    req: Request,
) -> Result<Response, ApiError> {
    if !is_multipart(&media_type(req.headers())) {
        return Err(ApiError::UnsupportedMediaType(format!(
            "send multipart/form-data with `file` and the record's fields ({})",
            crate::documents::form::FIELDS.join(", ")
        )));
    }
    let (file, pairs) = file_and_fields(req, &s, &crate::documents::form::FIELDS).await?;
    let fields = DocFields::from_pairs(&pairs, today()).map_err(HistoryError::from)?;
    let d = s
        .atlas
        .put_document(file.unwrap_or_default(), fields, code.as_deref(), &user)
        .await?;
    Ok((StatusCode::CREATED, etag_of(&d), Json(DocumentView::of(&d))).into_response())
}

async fn upload(
    State(s): State<AppState>,
    Staff(user): Staff,
    req: Request,
) -> Result<Response, ApiError> {
    put(s, user, None, req).await
}

async fn upload_for_asset(
    State(s): State<AppState>,
    Staff(user): Staff,
    Path(code): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    put(s, user, Some(code), req).await
}

/// The query of `GET /documents`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FindParams {
    q: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    asset: Option<String>,
    ward: Option<String>,
    from: Option<String>,
    to: Option<String>,
    status: Option<String>,
    language: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
    f: Option<String>,
}

/// A document found.
#[derive(Serialize)]
struct Hit<'a> {
    #[serde(flatten)]
    document: DocumentView<'a>,
    /// The best passage, as text, and as HTML with the words found in `<mark>`.
    snippet: Option<String>,
    snippet_html: Option<String>,
    /// Relevance (higher is better), for a search by words.
    score: Option<f64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Found<'a> {
    documents: Vec<Hit<'a>>,
    number_matched: i64,
    number_returned: usize,
    links: Vec<super::ogc::links::Link>,
}

fn bad(name: &str, why: impl std::fmt::Display) -> ApiError {
    ApiError::InvalidParameter(format!("{name}: {why}"))
}

fn date_param(name: &str, v: Option<String>) -> Result<Option<String>, ApiError> {
    v.filter(|s| !s.trim().is_empty())
        .map(|s| {
            let far = time::macros::date!(2999 - 12 - 31);
            history::day("date", s.trim(), far).map_err(|e| bad(name, e.reason))
        })
        .transpose()
}

fn int_param(
    name: &str,
    v: Option<String>,
    range: std::ops::RangeInclusive<i64>,
) -> Result<Option<i64>, ApiError> {
    v.map(|s| {
        s.trim()
            .parse::<i64>()
            .ok()
            .filter(|n| range.contains(n))
            .ok_or_else(|| {
                bad(
                    name,
                    format!(
                        "must be a whole number from {} to {}",
                        range.start(),
                        range.end()
                    ),
                )
            })
    })
    .transpose()
}

/// `GET /documents`: by words (ranked, with snippets) and by metadata.
async fn find(
    State(s): State<AppState>,
    staff: Option<Staff>,
    BaseUrl(base): BaseUrl,
    Params(p): Params<FindParams>,
) -> Result<Response, ApiError> {
    if p.f.as_deref().is_some_and(|f| f != "json") {
        return Err(bad("f", "only json"));
    }
    let fts = match p.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        Some(q) => search::parse(q).map_err(|e| bad("q", e))?,
        None => None,
    };
    let kind = p
        .kind
        .as_deref()
        .map(|k| {
            crate::documents::form::kind(k)
                .ok_or_else(|| bad("type", format!("one of {}", DocKind::names())))
        })
        .transpose()?;
    let status = p
        .status
        .as_deref()
        .map(|k| {
            DocStatus::parse(k).ok_or_else(|| bad("status", "one of current, superseded, revoked"))
        })
        .transpose()?;
    let asset = match p.asset.as_deref().map(str::trim) {
        Some(code) if !code.is_empty() => Some(
            s.atlas
                .store()
                .asset_id_by_code(code)
                .await?
                .ok_or_else(|| bad("asset", format!("no asset {code}")))?,
        ),
        _ => None,
    };
    let language = match p.language.as_deref() {
        Some(l) => Some(
            crate::documents::LANGUAGES
                .into_iter()
                .find(|x| *x == l)
                .ok_or_else(|| bad("language", "bn, en or bn+en"))?
                .to_string(),
        ),
        None => None,
    };
    let limit = int_param("limit", p.limit.clone(), 1..=MAX_LIMIT)?.unwrap_or(20);
    let offset = int_param("offset", p.offset.clone(), 0..=MAX_OFFSET)?.unwrap_or(0);
    let q = DocQuery {
        fts,
        kind,
        asset,
        ward: int_param("ward", p.ward.clone(), 1..=1000)?,
        from: date_param("from", p.from.clone())?,
        to: date_param("to", p.to.clone())?,
        status,
        language,
        include_private: staff.is_some(),
        limit,
        offset,
    };
    if p.q.is_some() && q.fts.is_none() && p.q.as_deref().is_some_and(|x| !x.trim().is_empty()) {
        return Err(bad("q", "no words to look for"));
    }
    let (hits, total) = s.atlas.store().search_documents(&q).await?;
    let links = page_links(&base, &p, offset, limit, hits.len(), total);
    let documents = hits.iter().map(hit).collect::<Vec<_>>();
    let found = Found {
        number_returned: documents.len(),
        documents,
        number_matched: total,
        links,
    };
    let mut r = Json(found).into_response();
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if staff.is_some() {
            "private, no-store"
        } else {
            "no-cache"
        }),
    );
    Ok(r)
}

fn hit(h: &DocHit) -> Hit<'_> {
    let (snippet, snippet_html) = match &h.snippet {
        Some(m) => {
            let (t, html) = search::snippet(m);
            (Some(t), Some(html))
        }
        None => (None, None),
    };
    Hit {
        document: DocumentView::of(&h.record),
        snippet,
        snippet_html,
        // BM25 from SQLite is negative, lower better: turn it around.
        score: h.score.map(|s| -s),
    }
}

fn page_links(
    base: &str,
    p: &FindParams,
    offset: i64,
    limit: i64,
    returned: usize,
    total: i64,
) -> Vec<super::ogc::links::Link> {
    use super::ogc::links::Link;
    let url = |off: i64| {
        let mut pairs = url_pairs(p);
        pairs.push(("limit", limit.to_string()));
        pairs.push(("offset", off.to_string()));
        format!(
            "{base}/documents?{}",
            serde_urlencoded::to_string(&pairs).unwrap_or_default()
        )
    };
    let mut links = vec![Link::new(url(offset), "self", "application/json")];
    if offset + (returned as i64) < total {
        links.push(Link::new(url(offset + limit), "next", "application/json"));
    }
    if offset > 0 {
        links.push(Link::new(
            url((offset - limit).max(0)),
            "prev",
            "application/json",
        ));
    }
    links
}

fn url_pairs(p: &FindParams) -> Vec<(&'static str, String)> {
    let mut v = Vec::new();
    for (k, val) in [
        ("q", &p.q),
        ("type", &p.kind),
        ("asset", &p.asset),
        ("ward", &p.ward),
        ("from", &p.from),
        ("to", &p.to),
        ("status", &p.status),
        ("language", &p.language),
    ] {
        if let Some(x) = val {
            v.push((k, x.clone()));
        }
    }
    v
}

/// A document by hash that the caller may see (a private one only with a staff token);
/// anything else is not found.
async fn visible(s: &AppState, sha: &str, staff: bool) -> Result<DocumentRecord, ApiError> {
    let missing = || ApiError::NotFound(format!("no public document {sha}"));
    let hash = history::parse_sha256(sha).ok_or_else(missing)?;
    let d = s.atlas.store().document(&hash).await?.ok_or_else(missing)?;
    if !d.meta.public && !staff {
        return Err(missing());
    }
    Ok(d)
}

fn etag_of(d: &DocumentRecord) -> [(header::HeaderName, String); 1] {
    [(header::ETAG, format!("\"doc.{}\"", d.version))]
}

/// `GET /documents/{sha256}/record`.
async fn record(
    State(s): State<AppState>,
    Path(sha): Path<String>,
    staff: Option<Staff>,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Response, ApiError> {
    let d = visible(&s, &sha, staff.is_some()).await?;
    Ok((etag_of(&d), Json(DocumentView::of(&d))).into_response())
}

/// The version `If-Match` names, if the header came.
fn if_match(headers: &HeaderMap) -> Result<Option<i64>, ApiError> {
    let Some(v) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let v = v
        .to_str()
        .map_err(|_| ApiError::BadRequest("If-Match is not text".into()))?
        .trim();
    v.strip_prefix("\"doc.")
        .and_then(|t| t.strip_suffix('"'))
        .and_then(|n| n.parse::<i64>().ok())
        .map(Some)
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "If-Match: {v} is not a document record's ETag (\"doc.N\")"
            ))
        })
}

/// `PATCH /documents/{sha256}/record`: a JSON merge patch of the record, with an optional
/// `note` saying why.
async fn change(
    State(s): State<AppState>,
    Staff(user): Staff,
    Path(sha): Path<String>,
    headers: HeaderMap,
    JsonBody(mut patch): JsonBody<Value>,
) -> Result<Response, ApiError> {
    let hash = history::parse_sha256(&sha)
        .ok_or_else(|| ApiError::NotFound(format!("no document {sha}")))?;
    let note = match patch.as_object_mut().and_then(|o| o.remove("note")) {
        None | Some(Value::Null) => None,
        Some(Value::String(n)) => Some(n),
        Some(_) => return Err(ApiError::field("note", "must be text")),
    };
    let fields = DocFields::from_patch(&patch, today()).map_err(HistoryError::from)?;
    let d = s
        .atlas
        .change_document(&hash, if_match(&headers)?, fields, note, &user)
        .await?;
    Ok((etag_of(&d), Json(DocumentView::of(&d))).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusBody {
    status: String,
    reason: Option<String>,
    superseded_by: Option<String>,
}

/// `POST /documents/{sha256}/status`: current, superseded or revoked, with a reason.
async fn status(
    State(s): State<AppState>,
    Staff(user): Staff,
    Path(sha): Path<String>,
    headers: HeaderMap,
    JsonBody(b): JsonBody<StatusBody>,
) -> Result<Response, ApiError> {
    let hash = history::parse_sha256(&sha)
        .ok_or_else(|| ApiError::NotFound(format!("no document {sha}")))?;
    let status = DocStatus::parse(b.status.trim())
        .ok_or_else(|| ApiError::field("status", "must be current, superseded or revoked"))?;
    let change = StatusChange {
        status,
        reason: b.reason,
        superseded_by: b.superseded_by,
    };
    let d = s
        .atlas
        .set_document_status(&hash, if_match(&headers)?, change, &user)
        .await?;
    Ok((etag_of(&d), Json(DocumentView::of(&d))).into_response())
}

/// `GET /documents/{sha256}/versions` (staff): every version of the record.
async fn versions(
    State(s): State<AppState>,
    Staff(_): Staff,
    Path(sha): Path<String>,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Response, ApiError> {
    let d = visible(&s, &sha, true).await?;
    let v = s.atlas.store().document_versions(d.id).await?;
    Ok(Json(serde_json::json!({ "sha256": d.sha256, "versions": v })).into_response())
}

/// `GET /documents/{sha256}/text`: the text as read (and indexed), as plain text.
async fn text(
    State(s): State<AppState>,
    Path(sha): Path<String>,
    staff: Option<Staff>,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Response, ApiError> {
    let d = visible(&s, &sha, staff.is_some()).await?;
    let body = s
        .atlas
        .store()
        .document_text(d.id)
        .await?
        .unwrap_or_default();
    Ok((
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response())
}

/// `GET /documents/jobs` (staff): the text jobs by state.
async fn jobs(
    State(s): State<AppState>,
    Staff(_): Staff,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Response, ApiError> {
    let counts: serde_json::Map<String, Value> = s
        .atlas
        .store()
        .text_job_counts()
        .await?
        .into_iter()
        .map(|(k, n)| (k, n.into()))
        .collect();
    Ok(Json(serde_json::json!({ "jobs": counts })).into_response())
}

fn headers_for(d: &DocumentRecord, etag: &str, media_type: &str) -> Result<HeaderMap, ApiError> {
    let mut h = HeaderMap::new();
    h.insert(
        header::ETAG,
        HeaderValue::from_str(etag).map_err(|e| ApiError::Internal(e.to_string()))?,
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if d.meta.public {
            "public, max-age=31536000, immutable"
        } else {
            "private, no-store"
        }),
    );
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(media_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(h)
}

fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
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
    let d = visible(&s, &sha, staff.is_some()).await?;
    let etag = format!("\"{}\"", d.sha256);
    let mut h = headers_for(&d, &etag, &d.media_type)?;
    if not_modified(&headers, &etag) {
        h.remove(header::CONTENT_TYPE);
        return Ok((StatusCode::NOT_MODIFIED, h).into_response());
    }
    let bytes = s.atlas.document_bytes(&d.sha256).await?;
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&format!("inline; filename=\"{}\"", file_name(&d, None)))
            .unwrap_or(HeaderValue::from_static("inline")),
    );
    Ok((StatusCode::OK, h, bytes).into_response())
}

/// The verification URL of a document, absolute.
fn verify_url(base: &str, sha: &str) -> String {
    format!("{base}/verify/{sha}")
}

/// The line printed on every page of a stamped copy (ASCII: the PDF's base font).
fn stamp_line(base: &str, d: &DocumentRecord) -> String {
    format!(
        "Kolkata Municipal Corporation, Environment & Heritage - verify this copy: {} - SHA-256 {}",
        verify_url(base, &d.sha256),
        &d.sha256[..16]
    )
}

/// The stamped copy of a document (deterministic: the same document and address give the
/// same bytes, which is how a stamped copy is itself verified).
async fn stamp_copy(s: &AppState, base: &str, d: &DocumentRecord) -> Result<Vec<u8>, ApiError> {
    let bytes = s.atlas.document_bytes(&d.sha256).await?;
    let url = verify_url(base, &d.sha256);
    let line = stamp_line(base, d);
    let (sha, media_type) = (d.sha256.clone(), d.media_type.clone());
    let pdf = tokio::task::spawn_blocking(move || {
        let st = pdf::Stamp {
            url: &url,
            line: &line,
            original_sha256: &sha,
        };
        if media_type == "application/pdf" {
            pdf::stamp(&bytes, &st)
        } else {
            pdf::image_to_pdf(&bytes, &media_type, &st)
        }
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
    .map_err(|e| ApiError::UnsupportedMediaType(format!("this document cannot be stamped: {e}")))?;
    s.stamped.insert(
        (d.sha256.clone(), base.to_string()),
        history::sha256_hex(&pdf),
    );
    Ok(pdf)
}

/// `GET /documents/{sha256}/stamped.pdf`.
async fn stamped(
    State(s): State<AppState>,
    Path(sha): Path<String>,
    headers: HeaderMap,
    BaseUrl(base): BaseUrl,
    staff: Option<Staff>,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Response, ApiError> {
    let d = visible(&s, &sha, staff.is_some()).await?;
    let etag = format!("\"stamped.{}.{:016x}\"", d.sha256, fxhash(base.as_bytes()));
    let mut h = headers_for(&d, &etag, "application/pdf")?;
    if d.meta.public {
        // The address in the stamp comes from the request: caches keep hosts apart.
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=86400"),
        );
    }
    if not_modified(&headers, &etag) {
        h.remove(header::CONTENT_TYPE);
        return Ok((StatusCode::NOT_MODIFIED, h).into_response());
    }
    let pdf = stamp_copy(&s, &base, &d).await?;
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&format!(
            "inline; filename=\"{}\"",
            file_name(&d, Some("stamped"))
        ))
        .unwrap_or(HeaderValue::from_static("inline")),
    );
    Ok((StatusCode::OK, h, pdf).into_response())
}

/// A small stable hash (for an ETag part).
fn fxhash(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, x| {
        (h ^ u64::from(*x)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `GET /documents/{sha256}/qr.svg`: the QR code of the verification page.
async fn qr_svg(
    State(s): State<AppState>,
    Path(sha): Path<String>,
    BaseUrl(base): BaseUrl,
    staff: Option<Staff>,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Response, ApiError> {
    let d = visible(&s, &sha, staff.is_some()).await?;
    let m = qr::encode(&verify_url(&base, &d.sha256)).map_err(ApiError::Internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        qr::svg(&m, 4),
    )
        .into_response())
}

/// `GET /verify/{sha256}`: the web app's verification page, or with `Accept:
/// application/json` (or `?f=json`) the same facts as [`Verified`].
async fn verify_page(
    State(s): State<AppState>,
    Path(sha): Path<String>,
    headers: HeaderMap,
    staff: Option<Staff>,
    Params(p): Params<FParam>,
) -> Result<Response, ApiError> {
    let wants_json = match p.f.as_deref() {
        Some("json") => true,
        Some("html") => false,
        Some(other) => return Err(bad("f", format!("json or html, not {other}"))),
        None => super::ogc::params::accepts_json_first(&headers),
    };
    if !wants_json {
        let mut r = super::assets_static::index(&headers).await;
        r.headers_mut()
            .append(header::VARY, HeaderValue::from_static("accept"));
        return Ok(r);
    }
    let hash = history::parse_sha256(&sha)
        .ok_or_else(|| ApiError::NotFound(format!("{sha} is not a SHA-256")))?;
    let d = s.atlas.store().document(&hash).await?;
    let answer = match &d {
        None => Verified::Unknown {
            sha256: hash,
            on_record: false,
        },
        Some(d) if !d.meta.public && staff.is_none() => Verified::Private {
            sha256: hash,
            on_record: true,
            public: false,
            status: d.state.status,
            created_at: d.created_at.clone(),
        },
        Some(d) => Verified::Named {
            document: Box::new(DocumentView::of(d)),
            on_record: true,
            copy: None,
        },
    };
    let mut r = Json(answer).into_response();
    r.headers_mut()
        .append(header::VARY, HeaderValue::from_static("accept"));
    Ok(r)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FParam {
    f: Option<String>,
}

/// A download name from the title: ASCII letters, digits and dashes, and the extension.
fn file_name(d: &DocumentRecord, suffix: Option<&str>) -> String {
    let mut stem: String = d
        .meta
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
    let stem = &stem[..stem.len().min(80)];
    let ext = match (suffix, d.media_type.as_str()) {
        (Some(_), _) | (None, "application/pdf") => "pdf",
        (None, "image/jpeg") => "jpg",
        (None, "image/png") => "png",
        (None, "image/webp") => "webp",
        _ => "bin",
    };
    match suffix {
        Some(s) => format!("{stem}-{s}.{ext}"),
        None => format!("{stem}.{ext}"),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyHash {
    sha256: String,
}

/// The answer to `POST /documents/verify` and `GET /verify/{sha256}` as JSON.
#[derive(Serialize)]
#[serde(untagged)]
enum Verified<'a> {
    /// Nothing with this hash is on record (`on_record` is false).
    Unknown { sha256: String, on_record: bool },
    /// A private document asked about by hash alone: that it is on record, its status,
    /// and since when.
    Private {
        sha256: String,
        on_record: bool,
        public: bool,
        status: DocStatus,
        created_at: String,
    },
    /// A public document, or one whose bytes were sent (`on_record` is true). `copy` is
    /// `"stamped"` when the bytes sent were a stamped copy made by this server.
    Named {
        #[serde(flatten)]
        document: Box<DocumentView<'a>>,
        on_record: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        copy: Option<&'static str>,
    },
}

/// Whether a copy (or a hash) is on record, and whether it still holds. Holding the
/// bytes proves you hold the document, so the answer names it even if it is not public;
/// a bare hash of a private document is told only that it is on record, and its status.
/// A stamped copy (from `/stamped.pdf`) is recognised: stamping the original again must
/// give exactly the bytes sent.
async fn verify(
    State(s): State<AppState>,
    BaseUrl(base): BaseUrl,
    req: Request,
) -> Result<Response, ApiError> {
    let ct = media_type(req.headers());
    let (hash, bytes) = if is_json(&ct) {
        let JsonBody::<VerifyHash>(v) = JsonBody::from_request(req, &s).await?;
        let hash = history::parse_sha256(v.sha256.trim()).ok_or_else(|| {
            ApiError::field("sha256", "must be 64 hexadecimal digits (a SHA-256)")
        })?;
        (hash, None)
    } else if is_multipart(&ct) {
        let (file, _) = file_and_fields(req, &s, &[]).await?;
        let file = file.ok_or_else(|| ApiError::field("file", "required: the copy to check"))?;
        (history::sha256_hex(&file), Some(file))
    } else {
        let body = super::body::read(req.into_body(), MAX_DOCUMENT_BYTES).await?;
        if body.is_empty() {
            return Err(ApiError::BadRequest(
                "send the document's bytes, a multipart `file`, or JSON {\"sha256\": …}".into(),
            ));
        }
        (history::sha256_hex(&body), Some(body.to_vec()))
    };
    let store = s.atlas.store();
    if let Some(d) = store.document(&hash).await? {
        let answer = if !d.meta.public && bytes.is_none() {
            Verified::Private {
                sha256: hash,
                on_record: true,
                public: false,
                status: d.state.status,
                created_at: d.created_at.clone(),
            }
        } else {
            Verified::Named {
                document: Box::new(DocumentView::of(&d)),
                on_record: true,
                copy: None,
            }
        };
        return Ok(Json(answer).into_response());
    }
    // A stamped copy names its original; it is genuine if stamping the original again
    // gives exactly these bytes (remembered for each copy made since the start, so a
    // forged marker costs a stamp once per original, not once per request).
    if let Some(original) = bytes.as_deref().and_then(pdf::stamped_original) {
        if let Some(d) = store.document(&original).await? {
            let key = (d.sha256.clone(), base.clone());
            let made = match s.stamped.get(&key) {
                Some(h) => Some(h),
                None => stamp_copy(&s, &base, &d)
                    .await
                    .ok()
                    .map(|pdf| history::sha256_hex(&pdf)),
            };
            if made.as_deref() == Some(hash.as_str()) {
                let answer = Verified::Named {
                    document: Box::new(DocumentView::of(&d)),
                    on_record: true,
                    copy: Some("stamped"),
                };
                return Ok(Json(answer).into_response());
            }
        }
    }
    Ok(Json(Verified::Unknown {
        sha256: hash,
        on_record: false,
    })
    .into_response())
}
