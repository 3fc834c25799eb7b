//! Open311 GeoReport v2 at `/open311/v2/`: `discovery`, `services`, `services/{code}`,
//! `requests` (GET, and POST with an API key), `requests/{id}`, `tokens/{token}`; each as
//! `.json` or `.xml`. Errors are the spec's `errors[]{code, description}`.
//!
//! Every answer is a typed struct, written as JSON or through [`to_xml`]. A service
//! request ([`ServiceRequest`]) has no field for the reporter: Open311 is public.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Serialize;
use serde_json::Value;

use super::auth::Client;
use super::{ApiError, AppState};
use crate::atlas::Source;
use crate::complaints::open311::{definition, service, to_xml};
use crate::complaints::{Category, Status, Submission};
use crate::model::Layer;
use crate::store::{ComplaintFilter, ComplaintRecord};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/open311/v2/{file}", get(top).post(post_request))
        .route("/open311/v2/services/{file}", get(service_definition))
        .route("/open311/v2/requests/{file}", get(one_request))
        .route("/open311/v2/tokens/{file}", get(token))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fmt {
    Json,
    Xml,
}

/// Splits `services.json` into (`services`, JSON).
fn split(file: &str) -> (&str, Fmt) {
    if let Some(n) = file.strip_suffix(".xml") {
        (n, Fmt::Xml)
    } else {
        (file.strip_suffix(".json").unwrap_or(file), Fmt::Json)
    }
}

/// An Open311 error: the HTTP status and the spec's error list.
struct Open311Error {
    status: StatusCode,
    description: String,
    fmt: Fmt,
    /// Seconds, for a 429.
    retry_after: Option<u64>,
}

fn err(fmt: Fmt, status: StatusCode, description: impl Into<String>) -> Open311Error {
    Open311Error {
        status,
        description: description.into(),
        fmt,
        retry_after: None,
    }
}

/// One entry of the spec's `errors` list.
#[derive(Serialize)]
struct ErrorEntry {
    code: u16,
    description: String,
}

impl IntoResponse for Open311Error {
    fn into_response(self) -> Response {
        let v = [ErrorEntry {
            code: self.status.as_u16(),
            description: self.description,
        }];
        let mut r = render(self.fmt, self.status, "errors", &v);
        if let Some(s) = self.retry_after {
            r.headers_mut()
                .insert(header::RETRY_AFTER, axum::http::HeaderValue::from(s));
        }
        r
    }
}

fn from_api(fmt: Fmt, e: ApiError) -> Open311Error {
    if let ApiError::Internal(d) = &e {
        tracing::error!(detail = %d, "internal error");
    }
    let retry_after = match &e {
        ApiError::TooManyRequests { retry_after_s } => Some(*retry_after_s),
        _ => None,
    };
    Open311Error {
        retry_after,
        ..err(fmt, e.status_code(), e.to_string())
    }
}

/// An answer as JSON, or as XML under `root`.
fn render(fmt: Fmt, status: StatusCode, root: &str, body: &impl Serialize) -> Response {
    // Our answers are structs and lists with text keys: they always make a JSON value.
    let v = match serde_json::to_value(body) {
        Ok(v) => v,
        Err(e) => return from_api(fmt, ApiError::Internal(e.to_string())).into_response(),
    };
    match fmt {
        Fmt::Json => (
            status,
            [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
            v.to_string(),
        )
            .into_response(),
        Fmt::Xml => (
            status,
            [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
            to_xml(root, &v),
        )
            .into_response(),
    }
}

/// The query string as pairs; unknown names are the caller's to refuse.
fn pairs(q: Option<String>) -> Vec<(String, String)> {
    q.map(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(&q).unwrap_or_default())
        .unwrap_or_default()
}

/// `discovery`: where the endpoint is and what it speaks.
#[derive(Serialize)]
struct Discovery {
    changeset: &'static str,
    contact: &'static str,
    key_service: &'static str,
    endpoints: [Endpoint; 1],
}

#[derive(Serialize)]
struct Endpoint {
    specification: &'static str,
    url: String,
    changeset: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    formats: [&'static str; 2],
}

/// When the service list or definitions last changed.
const CHANGESET: &str = "2026-11-28T00:00:00Z";

async fn top(
    State(s): State<AppState>,
    Path(file): Path<String>,
    RawQuery(q): RawQuery,
    super::BaseUrl(base): super::BaseUrl,
) -> Result<Response, Open311Error> {
    let (name, fmt) = split(&file);
    match name {
        "discovery" => Ok(render(
            fmt,
            StatusCode::OK,
            "discovery",
            &Discovery {
                changeset: CHANGESET,
                contact: "Environment & Heritage Department, Kolkata Municipal Corporation",
                key_service: "API keys are issued by the department (heritage-atlas apikey add)",
                endpoints: [Endpoint {
                    specification: "http://wiki.open311.org/GeoReport_v2",
                    url: format!("{base}/open311/v2"),
                    changeset: CHANGESET,
                    kind: "production",
                    formats: ["application/json", "text/xml"],
                }],
            },
        )),
        "services" => {
            let v: Vec<_> = Category::ALL.iter().map(|c| service(*c)).collect();
            Ok(render(fmt, StatusCode::OK, "services", &v))
        }
        "requests" => list_requests(&s, fmt, pairs(q), &base).await,
        _ => Err(err(
            fmt,
            StatusCode::NOT_FOUND,
            format!("no such resource: {file}"),
        )),
    }
}

/// Open311 lets every call carry `jurisdiction_id` (we serve one); anything else is a 400.
fn only_jurisdiction(fmt: Fmt, q: Option<String>) -> Result<(), Open311Error> {
    match pairs(q).into_iter().find(|(k, _)| k != "jurisdiction_id") {
        Some((k, _)) => Err(err(
            fmt,
            StatusCode::BAD_REQUEST,
            format!("unknown parameter {k:?}"),
        )),
        None => Ok(()),
    }
}

async fn service_definition(
    Path(file): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, Open311Error> {
    let (code, fmt) = split(&file);
    only_jurisdiction(fmt, q)?;
    let c: Category = code
        .parse()
        .map_err(|e: crate::model::UnknownValue| err(fmt, StatusCode::NOT_FOUND, e.to_string()))?;
    Ok(render(
        fmt,
        StatusCode::OK,
        "service_definition",
        &definition(c),
    ))
}

/// The ward office responsible for a complaint.
fn agency(s: &AppState, c: &ComplaintRecord) -> String {
    let borough = s
        .atlas
        .index()
        .read(Layer::Wards)
        .containing(geo_types::Point::new(c.lon, c.lat))
        .iter()
        .find_map(|w| w.attrs.borough.clone());
    match (c.ward, borough) {
        (Some(w), Some(b)) => format!("KMC Environment & Heritage, Ward {w} office (Borough {b})"),
        (Some(w), None) => format!("KMC Environment & Heritage, Ward {w} office"),
        _ => "KMC Environment & Heritage Department".to_string(),
    }
}

/// A complaint as Open311 publishes it: to anyone, so it has no field for the reporter's
/// name, phone or email, nor for internal notes (`status_notes` is the latest public one).
#[derive(Serialize)]
struct ServiceRequest<'a> {
    service_request_id: &'a str,
    status: &'static str,
    status_notes: Option<std::borrow::Cow<'a, str>>,
    service_name: &'static str,
    service_code: &'static str,
    description: std::borrow::Cow<'a, str>,
    agency_responsible: String,
    service_notice: String,
    requested_datetime: &'a str,
    updated_datetime: &'a str,
    expected_datetime: &'a str,
    address: Option<&'a str>,
    /// The code of the asset the complaint is about.
    address_id: Option<String>,
    /// Always `null`: we keep no postcodes.
    zipcode: (),
    lat: f64,
    long: f64,
    media_url: Option<String>,
}

fn request_view<'a>(s: &AppState, c: &'a ComplaintRecord, base: &str) -> ServiceRequest<'a> {
    let address_id = c
        .asset_id
        .and_then(|id| s.atlas.index().get(id))
        .map(|a| a.code.clone());
    // What moderation took down is not published here either.
    let public = crate::complaints::moderation::Public::of(c);
    ServiceRequest {
        service_request_id: &c.ticket,
        status: c.status.open311(),
        status_notes: public.status_notes(),
        service_name: c.category.name(),
        service_code: c.category.as_str(),
        description: public.description.clone(),
        agency_responsible: agency(s, c),
        service_notice: format!(
            "The department responds to {} within {} hours.",
            c.category.name().to_lowercase(),
            c.category.deadline_hours()
        ),
        requested_datetime: &c.created_at,
        updated_datetime: &c.updated_at,
        expected_datetime: &c.deadline,
        address: c.address.as_deref(),
        address_id,
        zipcode: (),
        lat: c.lat,
        long: c.lon,
        media_url: public
            .photos
            .first()
            .map(|p| format!("{base}/photos/{}", p.sha256)),
    }
}

fn rfc3339_param(fmt: Fmt, name: &str, v: &str) -> Result<String, Open311Error> {
    let t = time::OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339)
        .map_err(|_| {
            err(
                fmt,
                StatusCode::BAD_REQUEST,
                format!(
                    "{name} must be a W3C date-time such as 2026-11-28T10:00:00+05:30, not {v:?}"
                ),
            )
        })?;
    Ok(crate::model::rfc3339(t))
}

async fn list_requests(
    s: &AppState,
    fmt: Fmt,
    params: Vec<(String, String)>,
    base: &str,
) -> Result<Response, Open311Error> {
    let bad = |m: String| err(fmt, StatusCode::BAD_REQUEST, m);
    let mut f = ComplaintFilter {
        limit: 1000,
        ..Default::default()
    };
    let mut start = None;
    let mut end = None;
    for (k, v) in &params {
        match k.as_str() {
            "service_request_id" => {
                f.tickets = v.split(',').map(|t| t.trim().to_string()).collect()
            }
            "service_code" => {
                for c in v.split(',').filter(|c| !c.is_empty()) {
                    f.categories.push(c.parse().map_err(|e: crate::model::UnknownValue| {
                        bad(format!("service_code: {e}"))
                    })?);
                }
            }
            "status" => {
                for st in v.split(',') {
                    match st.trim() {
                        "open" => f.statuses.extend(Status::ALL.iter().filter(|s| s.is_open())),
                        "closed" => f.statuses.extend(Status::ALL.iter().filter(|s| !s.is_open())),
                        other => return Err(bad(format!("status must be open or closed, not {other:?}"))),
                    }
                }
            }
            "start_date" => start = Some(rfc3339_param(fmt, "start_date", v)?),
            "end_date" => end = Some(rfc3339_param(fmt, "end_date", v)?),
            "jurisdiction_id" => {}
            other => {
                return Err(bad(format!(
                    "unknown parameter {other:?} (expected service_request_id, service_code, start_date, end_date, status, jurisdiction_id)"
                )))
            }
        }
    }
    if f.tickets.is_empty() {
        // The spec's default window: the last 90 days, at most 1,000 requests.
        let now = time::OffsetDateTime::now_utc();
        f.created_from =
            Some(start.unwrap_or_else(|| crate::model::rfc3339(now - time::Duration::days(90))));
        f.created_to = end;
    } else {
        f.statuses.clear();
        f.categories.clear();
    }
    let rows = s
        .atlas
        .store()
        .complaints(&f)
        .await
        .map_err(|e| from_api(fmt, e.into()))?;
    let v: Vec<_> = rows.iter().map(|c| request_view(s, c, base)).collect();
    Ok(render(fmt, StatusCode::OK, "service_requests", &v))
}

async fn one_request(
    State(s): State<AppState>,
    Path(file): Path<String>,
    RawQuery(q): RawQuery,
    super::BaseUrl(base): super::BaseUrl,
) -> Result<Response, Open311Error> {
    let (id, fmt) = split(&file);
    only_jurisdiction(fmt, q)?;
    let c = s
        .atlas
        .store()
        .complaint(id)
        .await
        .map_err(|e| from_api(fmt, e.into()))?
        .ok_or_else(|| {
            err(
                fmt,
                StatusCode::NOT_FOUND,
                format!("no service request {id}"),
            )
        })?;
    let v = [request_view(&s, &c, &base)];
    Ok(render(fmt, StatusCode::OK, "service_requests", &v))
}

/// `tokens/{token}`: the request a token became.
#[derive(Serialize)]
struct TokenAnswer<'a> {
    service_request_id: String,
    token: &'a str,
}

async fn token(
    State(s): State<AppState>,
    Path(file): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, Open311Error> {
    let (tok, fmt) = split(&file);
    only_jurisdiction(fmt, q)?;
    let ticket = s
        .atlas
        .store()
        .ticket_for_token(tok)
        .await
        .map_err(|e| from_api(fmt, e.into()))?
        .ok_or_else(|| err(fmt, StatusCode::NOT_FOUND, format!("no token {tok}")))?;
    let v = [TokenAnswer {
        service_request_id: ticket,
        token: tok,
    }];
    Ok(render(fmt, StatusCode::OK, "service_requests", &v))
}

/// The answer to a new request.
#[derive(Serialize)]
struct Posted {
    service_request_id: String,
    token: String,
    service_notice: String,
    /// Always `null`: we keep no accounts.
    account_id: (),
}

async fn post_request(
    State(s): State<AppState>,
    Client(client): Client,
    Path(file): Path<String>,
    super::BaseUrl(base): super::BaseUrl,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Open311Error> {
    let (name, fmt) = split(&file);
    if name != "requests" {
        return Err(err(
            fmt,
            StatusCode::METHOD_NOT_ALLOWED,
            format!("POST is for requests.{{json,xml}}, not {file}"),
        ));
    }
    let ct = super::guard::media_type(&headers);
    if !(ct.is_empty() || ct == "application/x-www-form-urlencoded") {
        return Err(err(
            fmt,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("send application/x-www-form-urlencoded, not {ct}"),
        ));
    }
    // The same per-client limit as the web form: Open311 is another door to one desk.
    s.limiter
        .check(s.atlas.store(), &client)
        .await
        .map_err(|e| from_api(fmt, e))?;
    let bad = |m: String| err(fmt, StatusCode::BAD_REQUEST, m);
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).map_err(|e| {
        bad(format!(
            "expected an application/x-www-form-urlencoded body: {e}"
        ))
    })?;
    let key = form
        .iter()
        .find(|(k, _)| k == "api_key")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    let known = !key.is_empty()
        && s.atlas
            .store()
            .api_key(&crate::auth::sha256_hex(key))
            .await
            .map_err(|e| from_api(fmt, e.into()))?
            .is_some();
    if !known {
        return Err(err(
            fmt,
            StatusCode::FORBIDDEN,
            "api_key was not provided or is invalid",
        ));
    }
    let mut sub = Submission::default();
    let (mut first, mut last) = (None, None);
    let num = |k: &str, v: &str| {
        v.trim()
            .parse::<f64>()
            .map_err(|_| bad(format!("{k} must be a number, not {v:?}")))
    };
    for (k, v) in form {
        match k.as_str() {
            "api_key" | "jurisdiction_id" | "device_id" | "account_id" | "address_id" => {}
            // Photos are uploaded to us (POST /complaints); we fetch nothing from elsewhere.
            "media_url" => {}
            "service_code" => sub.category = Some(v),
            "lat" => sub.lat = Some(num("lat", &v)?),
            "long" => sub.lon = Some(num("long", &v)?),
            "address_string" => sub.address = Some(v),
            "email" => sub.email = Some(v),
            "phone" => sub.phone = Some(v),
            "first_name" => first = Some(v),
            "last_name" => last = Some(v),
            "description" => sub.description = Some(v),
            other => {
                if let Some(code) = other
                    .strip_prefix("attribute[")
                    .and_then(|r| r.strip_suffix(']'))
                {
                    sub.attributes.insert(code.to_string(), Value::String(v));
                } else {
                    return Err(bad(format!("unknown field {other:?}")));
                }
            }
        }
    }
    if sub.lat.is_none() || sub.lon.is_none() {
        return Err(bad(
            "lat and long are required: complaints here are pinned to a place".into(),
        ));
    }
    let name = [first, last]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    sub.name = Some(name).filter(|n| !n.trim().is_empty());
    let checked = sub.check().map_err(|e| {
        let field = match e.field.as_str() {
            "lon" => "long".to_string(),
            "category" => "service_code".to_string(),
            f => f
                .strip_prefix("attributes.")
                .map_or(f.to_string(), |c| format!("attribute[{c}]")),
        };
        bad(format!("{field}: {}", e.reason))
    })?;
    let filed = s
        .atlas
        .file_complaint(checked, Vec::new(), Source::Open311)
        .await
        .map_err(|e| from_api(fmt, e.into()))?;
    let service_notice = format!(
        "Filed. The department responds within {} hours; track it at {}/complaints/{}.",
        filed.category.deadline_hours(),
        base,
        filed.ticket
    );
    let v = [Posted {
        service_request_id: filed.ticket,
        token: filed.token,
        service_notice,
        account_id: (),
    }];
    Ok(render(fmt, StatusCode::CREATED, "service_requests", &v))
}
