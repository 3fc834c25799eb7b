//! Request bodies: one JSON extractor for every route that takes JSON, and one reader
//! that says *why* a body could not be read. The size limit itself is enforced earlier,
//! for every route, by `guard` (from `Content-Length`, or while streaming a chunked body).

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use super::guard::{is_json, media_type, SMALL_BODY};
use super::ApiError;

/// A JSON body: `Content-Type: application/json` (or another `+json` type), at most
/// [`SMALL_BODY`] bytes, into `T`. Every failure is a 4xx in the API's error shape: 415
/// for another media type, 413 past the limit, 408 when the client stops sending, 400
/// with serde's message (and where it stopped) for JSON that is not a `T`.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _: &S) -> Result<Self, ApiError> {
        let ct = media_type(req.headers());
        if !is_json(&ct) {
            return Err(ApiError::UnsupportedMediaType(if ct.is_empty() {
                "send JSON with Content-Type: application/json".into()
            } else {
                format!("send JSON (Content-Type: application/json), not {ct}")
            }));
        }
        let body = read(req.into_body(), SMALL_BODY).await?;
        parse(&body).map(JsonBody)
    }
}

/// `Option<JsonBody<T>>`: `None` for a request without a body (no Content-Type and
/// nothing sent), else as [`JsonBody`].
impl<T: DeserializeOwned, S: Send + Sync> axum::extract::OptionalFromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _: &S) -> Result<Option<Self>, ApiError> {
        let ct = media_type(req.headers());
        let body = read(req.into_body(), SMALL_BODY).await?;
        if body.is_empty() && ct.is_empty() {
            return Ok(None);
        }
        if !is_json(&ct) {
            return Err(ApiError::UnsupportedMediaType(format!(
                "send JSON (Content-Type: application/json) or no body, not {}",
                if ct.is_empty() {
                    "a body without a Content-Type"
                } else {
                    &ct
                }
            )));
        }
        parse(&body).map(|v| Some(JsonBody(v)))
    }
}

/// JSON bytes into `T`, with the API's message for what is wrong and where.
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        let what = if e.is_syntax() || e.is_eof() {
            "the body is not valid JSON"
        } else {
            "the body"
        };
        ApiError::BadRequest(format!("{what}: {e}"))
    })
}

/// The whole body, at most `limit` bytes, with the reason it could not be read.
pub async fn read(body: Body, limit: usize) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, limit)
        .await
        .map_err(|e| read_error(&e, limit))
}

/// Why reading a body failed: past its size limit (413), the client too slow (408), or
/// the connection broken off (400).
pub fn read_error(e: &(dyn std::error::Error + 'static), limit: usize) -> ApiError {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if c.is::<http_body_util::LengthLimitError>() {
            return ApiError::TooLarge(format!(
                "the body is larger than this route takes ({} KiB)",
                limit.div_ceil(1024)
            ));
        }
        if c.is::<tower_http::timeout::TimeoutError>() {
            return ApiError::Other {
                status: axum::http::StatusCode::REQUEST_TIMEOUT,
                description: "the body stopped arriving".into(),
            };
        }
        cause = c.source();
    }
    ApiError::BadRequest(format!("the body could not be read: {e}"))
}

/// The fields of a small JSON object body, taken one by one: each a string (trimmed; an
/// empty one is absent), then [`Fields::done`] refuses any left over, naming it. The
/// routes that take a handful of named strings (moderation, flags, the heritage lock,
/// an application check, triage) read their bodies through this, not each its own loop.
pub struct Fields(serde_json::Map<String, serde_json::Value>);

impl Fields {
    /// The body's object; anything else is a 400.
    pub fn of(v: serde_json::Value) -> Result<Fields, ApiError> {
        match v {
            serde_json::Value::Object(m) => Ok(Fields(m)),
            _ => Err(ApiError::BadRequest(
                "the body must be a JSON object".into(),
            )),
        }
    }

    /// A string field, trimmed; `None` when absent, null or blank.
    pub fn text(&mut self, k: &str) -> Result<Option<String>, ApiError> {
        match self.0.remove(k) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(serde_json::Value::String(s)) => Ok(Some(s.trim().to_string())),
            Some(_) => Err(ApiError::field(k, "must be a string")),
        }
    }

    /// A string field that must be there (`why` says what it is for).
    pub fn required(&mut self, k: &str, why: &str) -> Result<String, ApiError> {
        self.text(k)?.ok_or_else(|| ApiError::field(k, why))
    }

    /// Any other field, taken as it is.
    pub fn take(&mut self, k: &str) -> Option<serde_json::Value> {
        self.0.remove(k)
    }

    /// Refuses a field not taken, naming it and the `expected` ones.
    pub fn done(self, expected: &str) -> Result<(), ApiError> {
        match self.0.keys().next() {
            Some(k) => Err(ApiError::field(
                k.clone(),
                format!("unknown field (expected {expected})"),
            )),
            None => Ok(()),
        }
    }
}
