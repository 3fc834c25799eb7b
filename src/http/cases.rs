//! Online applications over HTTP (the contract is docs/applications.md): applicants'
//! one-time-code sign-in (`/applicants/code`, `/applicants/session`), their drafts, files,
//! submission and answers (`/applications…`), the department's desk and steps
//! (`/desk`, `/applications/{number}/actions`), and what is open to everyone: the
//! tracker (`/applications/{number}/track`), the register of decisions
//! (`/register/decisions`) and the statistics (`/applications/stats`).
//!
//! Applicants and staff both send `Authorization: Bearer`; an applicant's token starts
//! `ap_`. What each may see and do is decided in `atlas::applications`.

use axum::extract::{FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::bearer;
use super::body::Fields;
use super::complaints::{preferred_language, small_json};
use super::{ApiError, AppState, NoParams, Params};
use crate::atlas::applications::{Applicant, StaffAction};
use crate::model::{now_rfc3339, Lang};
use crate::store::User;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/applicants/code", post(send_code))
        .route("/applicants/session", post(sign_in).delete(sign_out))
        .route("/applications", post(create))
        .route("/applications/mine", get(mine))
        .route("/applications/stats", get(stats))
        .route("/applications/{key}", get(show).patch(patch))
        .route("/applications/{key}/files/{doc}", put(add_file))
        .route(
            "/applications/{key}/files/{doc}/{sha256}",
            get(file).delete(remove_file),
        )
        .route("/applications/{key}/submit", post(submit))
        .route("/applications/{key}/answers", post(answer))
        .route("/applications/{key}/actions", post(act))
        .route("/applications/{key}/track", get(track))
        .route("/desk", get(desk))
        .route("/register/decisions", get(register))
}

/// A signed-in applicant; 401 otherwise.
pub struct ApplicantAuth(pub Applicant);

impl FromRequestParts<AppState> for ApplicantAuth {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, ApiError> {
        let token = bearer(&parts.headers).ok_or_else(|| {
            ApiError::Unauthorized(
                "sign in: ask for a code (POST /applicants/code), then POST /applicants/session"
                    .into(),
            )
        })?;
        s.atlas
            .applicant(token)
            .await?
            .map(ApplicantAuth)
            .ok_or_else(|| {
                ApiError::Unauthorized(
                    "the applicant's token is unknown or has expired; sign in again".into(),
                )
            })
    }
}

/// Whoever reads a case: an applicant (token `ap_…`) or staff.
enum Reader {
    Applicant(Applicant),
    Staff(User),
}

impl FromRequestParts<AppState> for Reader {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, ApiError> {
        if bearer(&parts.headers).is_some_and(|t| t.starts_with("ap_")) {
            let ApplicantAuth(a) = ApplicantAuth::from_request_parts(parts, s).await?;
            return Ok(Reader::Applicant(a));
        }
        let super::auth::Staff(u) = super::auth::Staff::from_request_parts(parts, s).await?;
        Ok(Reader::Staff(u))
    }
}

fn private(v: impl serde::Serialize) -> Response {
    (
        [
            (header::CACHE_CONTROL, "private, no-store"),
            (header::VARY, "Authorization"),
        ],
        Json(v),
    )
        .into_response()
}

fn lang_of(f: &mut Fields, req_lang: Option<Lang>) -> Result<Lang, ApiError> {
    match f.text("language")? {
        Some(l) => l
            .parse()
            .map_err(|e: crate::model::UnknownValue| ApiError::field("language", e.to_string())),
        None => Ok(req_lang.unwrap_or(Lang::En)),
    }
}

async fn send_code(
    State(s): State<AppState>,
    super::auth::Client(client): super::auth::Client,
    req: Request,
) -> Result<Response, ApiError> {
    let accept = preferred_language(req.headers());
    let mut f = Fields::of(small_json(req).await?)?;
    let contact = f.required("contact", "required: an email address or a phone number")?;
    let lang = lang_of(&mut f, accept)?;
    f.done("contact, language")?;
    crate::applications::contact(&contact).map_err(|e| ApiError::field("contact", e))?;
    // Each code is a message to someone: a client may not send more than it may file
    // complaints, whatever contacts it names.
    s.limiter.check(s.atlas.store(), &client).await?;
    let (contact, channel) = s.atlas.send_code(&contact, lang).await?;
    let shown = mask(&contact);
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({
            "sent_to": shown,
            "channel": channel,
            "expires_in_s": crate::atlas::applications::CODE_MINUTES * 60,
        })),
    )
        .into_response())
}

/// A contact with most of it hidden: `r***@example.org`, `+91******2345`.
fn mask(contact: &str) -> String {
    match contact.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => {
            let n = contact.chars().count();
            contact
                .chars()
                .enumerate()
                .map(|(i, c)| if i < 3 || i + 4 >= n { c } else { '*' })
                .collect()
        }
    }
}

async fn sign_in(State(s): State<AppState>, req: Request) -> Result<Response, ApiError> {
    let accept = preferred_language(req.headers());
    let mut f = Fields::of(small_json(req).await?)?;
    let contact = f.required(
        "contact",
        "required: the email address or phone number the code went to",
    )?;
    let code = f.required("code", "required: the six digits sent to you")?;
    let lang = lang_of(&mut f, accept)?;
    f.done("contact, code, language")?;
    let (token, expires_at, who) = s.atlas.sign_in(&contact, &code, lang).await?;
    Ok(private(json!({
        "token": token,
        "expires_at": expires_at,
        "contact": who.contact,
        "channel": who.channel,
    })))
}

async fn sign_out(
    State(s): State<AppState>,
    ApplicantAuth(_): ApplicantAuth,
    req: Request,
) -> Result<Response, ApiError> {
    if let Some(t) = bearer(req.headers()) {
        s.atlas.sign_out_applicant(t).await?;
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn object(v: Value) -> Result<serde_json::Map<String, Value>, ApiError> {
    match v {
        Value::Object(m) => Ok(m),
        _ => Err(ApiError::BadRequest(
            "the body must be a JSON object".into(),
        )),
    }
}

async fn create(
    State(s): State<AppState>,
    ApplicantAuth(who): ApplicantAuth,
    req: Request,
) -> Result<Response, ApiError> {
    let accept = preferred_language(req.headers());
    let mut body = object(small_json(req).await?)?;
    let kind = match body.get("type") {
        Some(Value::String(t)) => t.trim().to_string(),
        _ => {
            return Err(ApiError::field(
                "type",
                "required: the application type's code",
            ))
        }
    };
    if !body.contains_key("language") {
        if let Some(l) = accept {
            body.insert("language".into(), json!(l));
        }
    }
    let c = s.atlas.create_draft(&who, &kind, &body).await?;
    let mut r = private(c);
    *r.status_mut() = StatusCode::CREATED;
    Ok(r)
}

async fn patch(
    State(s): State<AppState>,
    ApplicantAuth(who): ApplicantAuth,
    Path(key): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let body = object(small_json(req).await?)?;
    if body.contains_key("type") {
        return Err(ApiError::field(
            "type",
            "a draft's type does not change: start a new one",
        ));
    }
    Ok(private(s.atlas.patch_draft(&who, &key, &body).await?))
}

async fn mine(
    State(s): State<AppState>,
    ApplicantAuth(who): ApplicantAuth,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Response, ApiError> {
    let items = s.atlas.my_cases(&who).await?;
    Ok(private(json!({ "contact": who.contact, "items": items })))
}

async fn show(
    State(s): State<AppState>,
    reader: Reader,
    Path(key): Path<String>,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Response, ApiError> {
    let c = match reader {
        Reader::Applicant(a) => s.atlas.my_case(&a, &key).await?,
        Reader::Staff(u) => s.atlas.staff_case(&u, &key).await?,
    };
    Ok(private(c))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileParams {
    name: Option<String>,
}

async fn add_file(
    State(s): State<AppState>,
    ApplicantAuth(who): ApplicantAuth,
    Path((key, doc)): Path<(String, String)>,
    Params(p): Params<FileParams>,
    req: Request,
) -> Result<Response, ApiError> {
    let bytes = super::body::read(req.into_body(), super::documents::MAX_BODY).await?;
    let f = s
        .atlas
        .add_case_file(&who, &key, &doc, bytes.to_vec(), p.name)
        .await?;
    let mut r = private(f);
    *r.status_mut() = StatusCode::CREATED;
    Ok(r)
}

/// An applicant's file, to them or to officers; never cached by anyone between.
async fn file(
    State(s): State<AppState>,
    reader: Reader,
    Path((key, doc, sha)): Path<(String, String, String)>,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Response, ApiError> {
    let who = match &reader {
        Reader::Applicant(a) => Ok(a),
        Reader::Staff(u) => Err(u),
    };
    let (media_type, bytes) = s.atlas.case_file_bytes(who, &key, &doc, &sha).await?;
    Ok((
        [
            (header::CONTENT_TYPE, media_type),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
            (header::VARY, "Authorization".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{doc}-{}\"", &sha[..12.min(sha.len())]),
            ),
        ],
        bytes,
    )
        .into_response())
}

async fn remove_file(
    State(s): State<AppState>,
    ApplicantAuth(who): ApplicantAuth,
    Path((key, doc, sha)): Path<(String, String, String)>,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Response, ApiError> {
    s.atlas.remove_case_file(&who, &key, &doc, &sha).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn submit(
    State(s): State<AppState>,
    ApplicantAuth(who): ApplicantAuth,
    Path(key): Path<String>,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Response, ApiError> {
    Ok(private(s.atlas.submit(&who, &key).await?))
}

async fn answer(
    State(s): State<AppState>,
    ApplicantAuth(who): ApplicantAuth,
    Path(key): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let mut f = Fields::of(small_json(req).await?)?;
    let request = match f.take("request") {
        Some(Value::Number(n)) if n.as_i64().is_some() => n.as_i64().unwrap_or_default(),
        _ => {
            return Err(ApiError::field(
                "request",
                "required: the id of the request answered",
            ))
        }
    };
    let text = f.required("text", "required: the answer")?;
    f.done("request, text")?;
    Ok(private(s.atlas.answer(&who, &key, request, &text).await?))
}

fn verdict(f: &mut Fields, k: &str) -> Result<bool, ApiError> {
    match f.required(k, "required: approve or refuse")?.as_str() {
        "approve" => Ok(true),
        "refuse" => Ok(false),
        other => Err(ApiError::field(
            k,
            format!("{other:?} is not approve or refuse"),
        )),
    }
}

async fn act(
    State(s): State<AppState>,
    super::auth::Staff(user): super::auth::Staff,
    Path(number): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let mut f = Fields::of(small_json(req).await?)?;
    let action = f.required(
        "action",
        "required: forward, request, note, resolution, decide or issue",
    )?;
    let a = match action.as_str() {
        "forward" => {
            let note = f.required("note", "required: the scrutiny note")?;
            f.done("action, note")?;
            StaffAction::Forward { note }
        }
        "request" => {
            let what = f.required("what", "required: what the applicant is asked for")?;
            let documents = match f.take("documents") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(a)) if a.len() <= 50 => a
                    .into_iter()
                    .map(|v| match v {
                        Value::String(s) => Ok(s),
                        _ => Err(ApiError::field("documents", "a list of document codes")),
                    })
                    .collect::<Result<_, _>>()?,
                Some(_) => return Err(ApiError::field("documents", "a list of document codes")),
            };
            f.done("action, what, documents")?;
            StaffAction::Request { what, documents }
        }
        "note" => {
            let text = f.required("text", "required: the note")?;
            f.done("action, text")?;
            StaffAction::Note { text }
        }
        "resolution" => {
            let number = f.required("resolution_no", "required: the resolution's number")?;
            let date = f.required("date", "required: the resolution's date (YYYY-MM-DD)")?;
            let approve = verdict(&mut f, "decision")?;
            let text = f.required("text", "required: the resolution's terms or reasons")?;
            f.done("action, resolution_no, date, decision, text")?;
            StaffAction::Resolution {
                number,
                date,
                approve,
                text,
            }
        }
        "decide" => {
            let approve = verdict(&mut f, "decision")?;
            let text = f.required("text", "required: the terms or reasons")?;
            f.done("action, decision, text")?;
            StaffAction::Decide { approve, text }
        }
        "issue" => {
            f.done("action")?;
            StaffAction::Issue
        }
        other => {
            return Err(ApiError::field(
                "action",
                format!("{other:?} is not forward, request, note, resolution, decide or issue"),
            ))
        }
    };
    let base = s.public_url.to_string();
    Ok(private(s.atlas.act(&user, &number, a, &base).await?))
}

async fn track(
    State(s): State<AppState>,
    Path(number): Path<String>,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Response, ApiError> {
    let t = s.atlas.track(&number).await?;
    Ok(([(header::CACHE_CONTROL, "no-cache")], Json(t)).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeskParams {
    stage: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

async fn desk(
    State(s): State<AppState>,
    super::auth::Staff(user): super::auth::Staff,
    Params(p): Params<DeskParams>,
) -> Result<Response, ApiError> {
    let items = s
        .atlas
        .desk(&user, p.stage.as_deref(), p.kind.as_deref())
        .await?;
    Ok(private(json!({ "items": items, "at": now_rfc3339() })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterParams {
    #[serde(rename = "type")]
    kind: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
}

fn count(name: &str, v: Option<&str>, default: i64, max: i64) -> Result<i64, ApiError> {
    match v.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(v) => match v.parse::<i64>() {
            Ok(n) if (0..=max).contains(&n) => Ok(n),
            _ => Err(ApiError::param(format!(
                "{name}: a whole number from 0 to {max}"
            ))),
        },
    }
}

async fn register(
    State(s): State<AppState>,
    Params(p): Params<RegisterParams>,
) -> Result<Response, ApiError> {
    let limit = count("limit", p.limit.as_deref(), 50, 500)?;
    let offset = count("offset", p.offset.as_deref(), 0, 10_000_000)?;
    let (items, n) = s.atlas.decisions(p.kind.as_deref(), limit, offset).await?;
    Ok((
        [(header::CACHE_CONTROL, "no-cache")],
        Json(json!({
            "items": items,
            "numberMatched": n,
            "numberReturned": items.len(),
        })),
    )
        .into_response())
}

async fn stats(
    State(s): State<AppState>,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Response, ApiError> {
    let types = s.atlas.application_stats().await?;
    Ok((
        [(header::CACHE_CONTROL, "no-cache")],
        Json(json!({ "types": types })),
    )
        .into_response())
}
