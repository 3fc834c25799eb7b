//! Complaints over HTTP. Citizens: `POST /complaints` (JSON, or multipart with photos),
//! `GET /complaints/{ticket}`, `POST /complaints/{ticket}/support`, `GET /photos/{sha256}`.
//! Staff: `GET /complaints` (the queue) and `PATCH /complaints/{ticket}` (triage).
//!
//! A reporter's name, phone and email appear only in staff answers ([`StaffComplaint`]
//! for officers and admins); a [`PublicComplaint`] has no field that could hold them.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::auth::{Client, Staff};
use super::body::Fields;
use super::guard::{is_json, is_multipart, media_type, SMALL_BODY};
use super::{ApiError, AppState, NoParams, Params};
use crate::atlas::{Change, Filed, Source};
use crate::complaints::moderation::{ModState, Public, Removed};
use crate::complaints::photo::{self, Photo, MAX_PHOTOS, MAX_PHOTO_BYTES};
use crate::complaints::{parse_ticket, Action, Category, Lang, Role, Status, Submission};
use crate::model::{now_rfc3339, Asset, AssetId, Kind, Layer};
use crate::store::{ComplaintFilter, ComplaintRecord};

/// Room for five full-size photos and the form around them.
pub(super) const MAX_BODY: usize = MAX_PHOTOS * MAX_PHOTO_BYTES + (1 << 20);

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/complaints", post(file).get(queue))
        .route("/complaints/{ticket}", get(show).patch(change))
        .route("/complaints/{ticket}/support", post(support))
        .route("/photos/{sha256}", get(photo_bytes))
        .layer(DefaultBodyLimit::max(MAX_BODY))
}

pub(super) fn ticket_param(t: &str) -> Result<String, ApiError> {
    parse_ticket(t)
        .map(|_| t.trim().to_string())
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "no complaint {t:?} (tickets look like EH-2026-000123)"
            ))
        })
}

/// The asset a complaint is about, as its answers name it.
#[derive(Serialize)]
pub struct AssetRef<'a> {
    id: AssetId,
    code: &'a str,
    layer: Layer,
    kind: Kind,
    name: Option<&'a str>,
    name_bn: Option<&'a str>,
}

impl<'a> From<&'a Asset> for AssetRef<'a> {
    fn from(a: &'a Asset) -> Self {
        AssetRef {
            id: a.id,
            code: &a.code,
            layer: a.layer,
            kind: a.kind,
            name: a.attrs.name.as_deref(),
            name_bn: a.attrs.name_bn.as_deref(),
        }
    }
}

fn photo_url(sha: &str) -> String {
    format!("/photos/{sha}")
}

/// What every view of a complaint shows: nothing here can name or reach the reporter.
#[derive(Serialize)]
struct Core<'a> {
    ticket: &'a str,
    url: String,
    category: Category,
    category_name: &'static str,
    status: Status,
    lon: f64,
    lat: f64,
    ward: Option<i64>,
    address: Option<&'a str>,
    asset: Option<AssetRef<'a>>,
    description: std::borrow::Cow<'a, str>,
    attributes: &'a Map<String, Value>,
    photos: Vec<String>,
    /// Photos waiting for the department's review before they are public.
    photos_held: usize,
    /// Pieces the department took out of public view, with its reasons.
    removed: Vec<Removed>,
    supporters: i64,
    duplicate_of: Option<&'a str>,
    deadline: &'a str,
    overdue: bool,
    created_at: &'a str,
    updated_at: &'a str,
}

impl<'a> Core<'a> {
    fn of(c: &'a ComplaintRecord, p: &Public<'a>, asset: Option<&'a Asset>) -> Self {
        Core {
            ticket: &c.ticket,
            url: format!("/complaints/{}", c.ticket),
            category: c.category,
            category_name: c.category.name(),
            status: c.status,
            lon: c.lon,
            lat: c.lat,
            ward: c.ward,
            address: c.address.as_deref(),
            asset: asset.map(AssetRef::from),
            description: p.description.clone(),
            attributes: &c.attributes,
            photos: p.photos.iter().map(|p| photo_url(&p.sha256)).collect(),
            photos_held: p.photos_held,
            removed: p.removed.clone(),
            supporters: c.supporters,
            duplicate_of: c.duplicate_of.as_deref(),
            deadline: &c.deadline,
            overdue: c.status.is_open() && c.deadline < now_rfc3339(),
            created_at: &c.created_at,
            updated_at: &c.updated_at,
        }
    }
}

/// A step of the work as the public sees it: an internal note's text and photo are not
/// there (the step is).
#[derive(Serialize)]
struct PublicStep<'a> {
    /// Names the step's note (`note:<id>`) in a flag.
    id: i64,
    at: &'a str,
    action: &'a str,
    status: Status,
    note: Option<std::borrow::Cow<'a, str>>,
    photo: Option<String>,
}

/// What anyone may see of a complaint. It has no field for the reporter, so no code path
/// can put their name, phone or email into a public answer.
#[derive(Serialize)]
pub struct PublicComplaint<'a> {
    #[serde(flatten)]
    core: Core<'a>,
    timeline: Vec<PublicStep<'a>>,
}

impl<'a> PublicComplaint<'a> {
    pub fn of(c: &'a ComplaintRecord, asset: Option<&'a Asset>) -> Self {
        let p = Public::of(c);
        // A step of the work (acknowledged, resolved …) is public whatever its note; an
        // internal note on its own is left out.
        let timeline = c
            .events
            .iter()
            .filter(|e| e.public || e.action != "note")
            .map(|e| PublicStep {
                id: e.id,
                at: &e.at,
                action: &e.action,
                status: e.status,
                note: p.note(e),
                photo: p.step_photo(e).map(photo_url),
            })
            .collect();
        PublicComplaint {
            core: Core::of(c, &p, asset),
            timeline,
        }
    }
}

/// A step as staff see it: every note, whether it is public, and who acted.
#[derive(Serialize)]
struct StaffStep<'a> {
    id: i64,
    at: &'a str,
    action: &'a str,
    status: Status,
    note: Option<&'a str>,
    public: bool,
    by: Option<&'a str>,
    photo: Option<String>,
}

/// How to reach the reporter: in answers to officers and admins only.
#[derive(Serialize)]
struct Reporter<'a> {
    name: Option<&'a str>,
    phone: Option<&'a str>,
    email: Option<&'a str>,
}

/// What staff see: everything public, the assignee, internal notes and who wrote them,
/// and (officers and admins only) how to reach the reporter.
#[derive(Serialize)]
pub struct StaffComplaint<'a> {
    #[serde(flatten)]
    core: Core<'a>,
    timeline: Vec<StaffStep<'a>>,
    assigned_to: Option<&'a str>,
    source: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reporter: Option<Reporter<'a>>,
    /// The language messages to the reporter are written in, and whether they stopped them.
    language: Lang,
    opted_out: bool,
    /// Every piece moderation held, hid or reviewed: the content stays for staff.
    moderation: Vec<StaffModeration<'a>>,
}

/// A piece's moderation as staff see it.
#[derive(Serialize)]
struct StaffModeration<'a> {
    item: String,
    state: ModState,
    reason: Option<&'a str>,
    at: &'a str,
    by: Option<&'a str>,
}

impl<'a> StaffComplaint<'a> {
    pub fn of(c: &'a ComplaintRecord, asset: Option<&'a Asset>, viewer: Role) -> Self {
        // Staff see the complaint as the public does at its head (so they see what was
        // removed), and every piece itself in the timeline and `moderation`.
        let p = Public::of(c);
        let mut core = Core::of(c, &p, asset);
        core.description = std::borrow::Cow::Borrowed(&c.description);
        core.photos = c.photos.iter().map(|p| photo_url(&p.sha256)).collect();
        StaffComplaint {
            core,
            timeline: c
                .events
                .iter()
                .map(|e| StaffStep {
                    id: e.id,
                    at: &e.at,
                    action: &e.action,
                    status: e.status,
                    note: e.note.as_deref(),
                    public: e.public,
                    by: e.actor.as_deref(),
                    photo: e.photo_sha256.as_deref().map(photo_url),
                })
                .collect(),
            assigned_to: c.assigned_to.as_deref(),
            source: &c.source,
            reporter: (viewer != Role::FieldStaff).then_some(Reporter {
                name: c.reporter_name.as_deref(),
                phone: c.reporter_phone.as_deref(),
                email: c.reporter_email.as_deref(),
            }),
            language: c.language,
            opted_out: c.opted_out,
            moderation: c
                .moderation
                .iter()
                .map(|m| StaffModeration {
                    item: m.item.to_string(),
                    state: m.state,
                    reason: m.reason.as_deref(),
                    at: &m.at,
                    by: m.actor.as_deref(),
                })
                .collect(),
        }
    }
}

fn asset_of(s: &AppState, c: &ComplaintRecord) -> Option<Arc<Asset>> {
    c.asset_id.and_then(|id| s.atlas.index().get(id))
}

/// A string or number field of a JSON body.
fn json_text(field: &str, v: &Value) -> Result<Option<String>, ApiError> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        Value::Number(n) => Ok(Some(n.to_string())),
        _ => Err(ApiError::field(field, "must be a string")),
    }
}

fn number(field: &str, s: &str) -> Result<f64, ApiError> {
    s.trim()
        .parse::<f64>()
        .map_err(|_| ApiError::field(field, format!("must be a number, not {s:?}")))
}

fn json_number(field: &str, v: &Value) -> Result<Option<f64>, ApiError> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_f64()
            .map(Some)
            .ok_or_else(|| ApiError::field(field, "must be a number")),
        Value::String(s) => number(field, s).map(Some),
        _ => Err(ApiError::field(field, "must be a number")),
    }
}

/// Sets one submission field by name (shared by JSON and multipart).
fn set_field(sub: &mut Submission, name: &str, text: Option<String>) -> Result<(), ApiError> {
    if let Some(code) = name
        .strip_prefix("attributes[")
        .or_else(|| name.strip_prefix("attribute["))
        .and_then(|r| r.strip_suffix(']'))
    {
        if let Some(t) = text {
            sub.attributes.insert(code.to_string(), Value::String(t));
        }
        return Ok(());
    }
    let num = |t: &Option<String>| t.as_deref().map(|s| number(name, s)).transpose();
    match name {
        "lon" | "long" => sub.lon = num(&text)?,
        "lat" => sub.lat = num(&text)?,
        "category" | "service_code" => sub.category = text,
        "description" => sub.description = text,
        "name" => sub.name = text,
        "phone" => sub.phone = text,
        "email" => sub.email = text,
        "address" | "address_string" => sub.address = text,
        "language" | "lang" | "locale" => sub.language = text,
        _ => {
            return Err(ApiError::field(
                name,
                "unknown field (expected lon, lat, category, description, name, phone, email, address, language, attributes[…], photo)",
            ))
        }
    }
    Ok(())
}

fn submission_from_json(v: Value) -> Result<Submission, ApiError> {
    let Value::Object(obj) = v else {
        return Err(ApiError::BadRequest(
            "the body must be a JSON object".into(),
        ));
    };
    let mut sub = Submission::default();
    for (k, v) in obj {
        match k.as_str() {
            "lon" | "long" => sub.lon = json_number(&k, &v)?,
            "lat" => sub.lat = json_number(&k, &v)?,
            "attributes" => match v {
                Value::Object(m) => sub.attributes = m,
                Value::Null => {}
                _ => return Err(ApiError::field("attributes", "must be an object")),
            },
            _ => {
                let t = json_text(&k, &v)?;
                set_field(&mut sub, &k, t)?;
            }
        }
    }
    Ok(sub)
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::TooLarge(format!(
            "the upload is larger than {} MB; send at most {MAX_PHOTOS} photos of {} MB each",
            MAX_BODY >> 20,
            MAX_PHOTO_BYTES >> 20
        ))
    } else {
        ApiError::BadRequest(format!("malformed multipart body: {}", e.body_text()))
    }
}

/// Reads one file part, refusing it as soon as it passes the photo size limit.
async fn read_photo(
    mut field: axum::extract::multipart::Field<'_>,
    label: &str,
) -> Result<Photo, ApiError> {
    let mut buf = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
        if buf.len() + chunk.len() > MAX_PHOTO_BYTES {
            return Err(ApiError::Field {
                field: label.to_string(),
                reason: format!("larger than {} MB", MAX_PHOTO_BYTES >> 20),
            });
        }
        buf.extend_from_slice(&chunk);
    }
    let raw = Bytes::from(buf);
    tokio::task::spawn_blocking(move || photo::prepare(raw))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|reason| ApiError::field(label, reason.to_string()))
}

/// A text part of a multipart body: at most [`SMALL_BODY`] bytes of UTF-8.
async fn read_text(
    mut field: axum::extract::multipart::Field<'_>,
    name: &str,
) -> Result<String, ApiError> {
    let mut buf = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
        if buf.len() + chunk.len() > SMALL_BODY {
            return Err(ApiError::field(
                name,
                format!("longer than {} KiB", SMALL_BODY >> 10),
            ));
        }
        buf.extend_from_slice(&chunk);
    }
    String::from_utf8(buf).map_err(|_| ApiError::field(name, "is not UTF-8 text"))
}

/// A JSON body of at most [`SMALL_BODY`] bytes.
pub(super) async fn small_json(req: Request) -> Result<Value, ApiError> {
    let body = super::body::read(req.into_body(), SMALL_BODY).await?;
    super::body::parse(&body)
}

/// A request body as text fields plus photos: JSON or multipart/form-data.
async fn fields_and_photos(
    req: Request,
    s: &AppState,
) -> Result<(Vec<(String, Option<String>)>, Option<Value>, Vec<Photo>), ApiError> {
    let ct = media_type(req.headers());
    if is_multipart(&ct) {
        let mut mp = Multipart::from_request(req, s)
            .await
            .map_err(|e| ApiError::BadRequest(e.body_text()))?;
        let mut fields = Vec::new();
        let mut photos = Vec::new();
        while let Some(field) = mp.next_field().await.map_err(multipart_error)? {
            let name = field.name().unwrap_or("").to_string();
            if matches!(
                name.as_str(),
                "photo" | "photos" | "photo[]" | "photos[]" | "media"
            ) {
                if photos.len() == MAX_PHOTOS {
                    return Err(ApiError::field(
                        "photos",
                        format!("at most {MAX_PHOTOS} photos"),
                    ));
                }
                let label = format!("photos[{}]", photos.len());
                photos.push(read_photo(field, &label).await?);
            } else {
                if fields.len() >= 64 {
                    return Err(ApiError::BadRequest("more than 64 form fields".into()));
                }
                let text = read_text(field, &name).await?;
                fields.push((name, Some(text)));
            }
        }
        Ok((fields, None, photos))
    } else if is_json(&ct) || ct.is_empty() {
        Ok((Vec::new(), Some(small_json(req).await?), Vec::new()))
    } else {
        Err(ApiError::UnsupportedMediaType(format!(
            "send application/json or multipart/form-data, not {ct}"
        )))
    }
}

/// The answer to a new complaint: its ticket and where to follow it, and open complaints
/// nearby that may be the same (to support instead). Its reporter is not echoed back.
#[derive(Serialize)]
pub struct FiledView<'a> {
    ticket: &'a str,
    url: String,
    status: Status,
    category: Category,
    category_name: &'static str,
    ward: Option<i64>,
    asset: Option<AssetRef<'a>>,
    deadline: &'a str,
    created_at: &'a str,
    photos: Vec<String>,
    possible_duplicates: Vec<PossibleDuplicate<'a>>,
}

/// A complaint near a new one, of the same category: only its public pin.
#[derive(Serialize)]
struct PossibleDuplicate<'a> {
    ticket: &'a str,
    url: String,
    support: String,
    category: Category,
    status: Status,
    distance_m: f64,
    created_at: &'a str,
}

impl<'a> FiledView<'a> {
    pub fn of(f: &'a Filed) -> Self {
        FiledView {
            ticket: &f.ticket,
            url: format!("/complaints/{}", f.ticket),
            status: Status::Submitted,
            category: f.category,
            category_name: f.category.name(),
            ward: f.ward,
            asset: f.asset.as_deref().map(AssetRef::from),
            deadline: &f.deadline,
            created_at: &f.created_at,
            photos: f.photos.iter().map(|p| photo_url(&p.sha256)).collect(),
            possible_duplicates: f
                .duplicates
                .iter()
                .map(|(p, d)| PossibleDuplicate {
                    ticket: &p.ticket,
                    url: format!("/complaints/{}", p.ticket),
                    support: format!("/complaints/{}/support", p.ticket),
                    category: p.category,
                    status: p.status,
                    distance_m: (d * 10.0).round() / 10.0,
                    created_at: &p.created_at,
                })
                .collect(),
        }
    }
}

async fn file(
    State(s): State<AppState>,
    Client(client): Client,
    req: Request,
) -> Result<Response, ApiError> {
    s.limiter.check(s.atlas.store(), &client).await?;
    let accept_language = preferred_language(req.headers());
    let (fields, json_body, photos) = fields_and_photos(req, &s).await?;
    let mut sub = match json_body {
        Some(v) => submission_from_json(v)?,
        None => {
            let mut sub = Submission::default();
            for (k, v) in fields {
                set_field(&mut sub, &k, v)?;
            }
            sub
        }
    };
    if sub.language.is_none() {
        sub.language = accept_language.map(|l| l.as_str().to_string());
    }
    let checked = sub.check().map_err(|e| ApiError::Field {
        field: e.field,
        reason: e.reason,
    })?;
    let filed = s.atlas.file_complaint(checked, photos, Source::Web).await?;
    let mut h = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&format!("/complaints/{}", filed.ticket)) {
        h.insert(header::LOCATION, v);
    }
    Ok((StatusCode::CREATED, h, Json(FiledView::of(&filed))).into_response())
}

/// The first language of `Accept-Language` we write in (`bn-IN,bn;q=0.9` → bn).
pub(super) fn preferred_language(h: &HeaderMap) -> Option<Lang> {
    let v = h.get(header::ACCEPT_LANGUAGE)?.to_str().ok()?;
    v.split(',').take(16).find_map(|part| {
        let tag = part.split(';').next()?.trim();
        tag.split(['-', '_']).next()?.parse().ok()
    })
}

/// The public record; with a staff token, the staff record (the whole timeline, every
/// piece moderation hid, the reporter for officers). The two never share a cache entry.
async fn show(
    State(s): State<AppState>,
    staff: Option<Staff>,
    Path(ticket): Path<String>,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Response, ApiError> {
    let t = ticket_param(&ticket)?;
    let c = s
        .atlas
        .store()
        .complaint(&t)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no complaint {t}")))?;
    let asset = asset_of(&s, &c);
    let vary = (header::VARY, "Authorization");
    // Field staff see their own ward's complaints as staff (as in the queue); others'
    // as the public does.
    let staff = staff
        .filter(|Staff(u)| u.role != Role::FieldStaff || (u.ward.is_some() && u.ward == c.ward));
    if let Some(Staff(user)) = staff {
        return Ok((
            [(header::CACHE_CONTROL, "private, no-store"), vary],
            Json(StaffComplaint::of(&c, asset.as_deref(), user.role)),
        )
            .into_response());
    }
    Ok((
        [(header::CACHE_CONTROL, "no-cache"), vary],
        Json(PublicComplaint::of(&c, asset.as_deref())),
    )
        .into_response())
}

/// A complaint's supporters after one more.
#[derive(Serialize)]
struct Supported {
    ticket: String,
    supporters: i64,
}

async fn support(
    State(s): State<AppState>,
    Client(client): Client,
    Path(ticket): Path<String>,
) -> Result<Json<Supported>, ApiError> {
    s.limiter.check(s.atlas.store(), &client).await?;
    let t = ticket_param(&ticket)?;
    // One vote per client address, stored only as a hash.
    let who = crate::auth::sha256_hex(&format!("support:{client}"));
    let n = s.atlas.support_complaint(&t, &who).await?;
    Ok(Json(Supported {
        ticket: t,
        supporters: n,
    }))
}

async fn change(
    State(s): State<AppState>,
    Staff(user): Staff,
    Path(ticket): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let t = ticket_param(&ticket)?;
    let (fields, json_body, mut photos) = fields_and_photos(req, &s).await?;
    let mut f = Fields::of(match json_body {
        Some(v) => v,
        None => Value::Object(
            fields
                .into_iter()
                .map(|(k, v)| (k, v.map(Value::String).unwrap_or(Value::Null)))
                .collect(),
        ),
    })?;
    let action: Action = f
        .required("action", "required")?
        .parse()
        .map_err(|e: crate::model::UnknownValue| ApiError::field("action", e.to_string()))?;
    let note = f.text("note")?;
    if note.as_ref().is_some_and(|n| n.chars().count() > 4000) {
        return Err(ApiError::field("note", "at most 4000 characters"));
    }
    let public = match f.take("public") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => b,
        Some(Value::String(s)) => s != "false" && s != "0",
        Some(_) => return Err(ApiError::field("public", "must be true or false")),
    };
    let assignee = f.text("assignee")?;
    let duplicate_of = f.text("duplicate_of")?;
    f.done("action, note, public, assignee, duplicate_of, photo")?;
    if photos.len() > 1 {
        return Err(ApiError::field("photo", "one photo per change"));
    }
    let c = s
        .atlas
        .change_complaint(
            &t,
            &user,
            Change {
                action,
                note,
                public,
                assignee,
                duplicate_of,
                photo: photos.pop(),
            },
        )
        .await?;
    let asset = asset_of(&s, &c);
    Ok(Json(StaffComplaint::of(&c, asset.as_deref(), user.role)).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct QueueParams {
    status: Option<String>,
    ward: Option<i64>,
    category: Option<String>,
    overdue: Option<bool>,
    limit: Option<i64>,
}

fn list<T: std::str::FromStr<Err = crate::model::UnknownValue>>(
    name: &str,
    s: Option<&str>,
) -> Result<Vec<T>, ApiError> {
    s.map(|s| {
        s.split(',')
            .filter(|p| !p.trim().is_empty())
            .map(|p| {
                p.parse().map_err(|e: crate::model::UnknownValue| {
                    ApiError::param(format!("{name}: {e}"))
                })
            })
            .collect()
    })
    .unwrap_or(Ok(Vec::new()))
}

async fn queue(
    State(s): State<AppState>,
    Staff(user): Staff,
    Params(q): Params<QueueParams>,
) -> Result<Response, ApiError> {
    // Field staff see their own ward's complaints, so one with no ward sees none; `ward`
    // is `None` for them then, which the filter would read as every ward.
    let wardless = user.role == Role::FieldStaff && user.ward.is_none();
    let ward = match (user.role, q.ward) {
        (Role::FieldStaff, Some(w)) if Some(w) != user.ward => {
            return Err(ApiError::Forbidden(format!(
                "field staff see their own ward's complaints (ward {})",
                user.ward.map_or("none".into(), |w| w.to_string())
            )))
        }
        (Role::FieldStaff, _) => user.ward,
        (_, w) => w,
    };
    let filter = ComplaintFilter {
        statuses: list::<Status>("status", q.status.as_deref())?,
        categories: list::<Category>("category", q.category.as_deref())?,
        ward,
        overdue_at: q.overdue.filter(|o| *o).map(|_| now_rfc3339()),
        limit: q.limit.unwrap_or(500).clamp(1, 10_000),
        ..Default::default()
    };
    let rows = if wardless {
        Vec::new()
    } else {
        s.atlas.store().complaints(&filter).await?
    };
    let assets: Vec<Option<Arc<Asset>>> = rows.iter().map(|c| asset_of(&s, c)).collect();
    let complaints: Vec<StaffComplaint> = rows
        .iter()
        .zip(&assets)
        .map(|(c, a)| StaffComplaint::of(c, a.as_deref(), user.role))
        .collect();
    Ok(Json(QueuePage {
        number_returned: complaints.len(),
        complaints,
    })
    .into_response())
}

/// A page of the staff queue.
#[derive(Serialize)]
struct QueuePage<'a> {
    #[serde(rename = "numberReturned")]
    number_returned: usize,
    complaints: Vec<StaffComplaint<'a>>,
}

async fn photo_bytes(
    State(s): State<AppState>,
    staff: Option<Staff>,
    Path(sha): Path<String>,
    headers: HeaderMap,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Response, ApiError> {
    let sha = sha.to_ascii_lowercase();
    let missing = || ApiError::NotFound(format!("no photo {sha}"));
    if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(missing());
    }
    // Staff see held and hidden photos too; such an answer is never stored by a cache.
    let public = s.atlas.store().photo_is_public(&sha).await?;
    let cache = if public {
        // Revalidated on every use (a 304 costs nothing): a photo moderation takes
        // down is gone from every page at once, not when a cache lets go of it.
        "public, no-cache"
    } else if staff.is_some() && s.atlas.store().photo_is_known(&sha).await? {
        "private, no-store"
    } else {
        return Err(missing());
    };
    let etag = format!("\"{sha}\"");
    if public
        && headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
    {
        return Ok((
            StatusCode::NOT_MODIFIED,
            [
                (header::CACHE_CONTROL, cache),
                (header::ETAG, etag.as_str()),
            ],
        )
            .into_response());
    }
    let store = s.atlas.photos().clone();
    let sha2 = sha.clone();
    let bytes = tokio::task::spawn_blocking(move || store.get(&sha2))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|_| missing())?;
    let mime = photo::sniff(&bytes).map_or("application/octet-stream", |m| m.mime());
    Ok((
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (header::CACHE_CONTROL, cache.to_string()),
            // Content-addressed: the bytes at this URL never change.
            (header::ETAG, etag),
        ],
        bytes,
    )
        .into_response())
}
