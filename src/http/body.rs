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
