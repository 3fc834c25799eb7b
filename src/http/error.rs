//! The one error type of the HTTP surface: JSON `{"code", "description"}` with the right
//! status. Every rejection an extractor can produce is mapped here, so a client never
//! sees a plain-text error or a 500 for something it sent.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    InvalidParameter(String),
    #[error("{0}")]
    NotFound(String),
    /// A field of a submitted body is missing or wrong; the response names it.
    #[error("{field}: {reason}")]
    Field { field: String, reason: String },
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    UriTooLong(String),
    #[error("{0}")]
    HeadersTooLarge(String),
    #[error("{0}")]
    LengthRequired(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    /// Any other status axum or tower answered with by itself (see [`ApiError::from_status`]).
    #[error("{description}")]
    Other {
        status: StatusCode,
        description: String,
    },
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("too many requests from this client; try again in {retry_after_s} s")]
    TooManyRequests { retry_after_s: u64 },
    #[error("{0}")]
    Unavailable(String),
    /// A fault of ours; the description is logged, not sent.
    #[error("internal error")]
    Internal(String),
    /// Understood but not acceptable as it stands (a work the rules refuse, a submission
    /// lacking something): `extra`'s keys are added to the body (`refused`, `missing`).
    #[error("{description}")]
    Unprocessable {
        description: String,
        extra: serde_json::Value,
    },
}

impl ApiError {
    pub fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) | ApiError::InvalidParameter(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Field { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UriTooLong(_) => StatusCode::URI_TOO_LONG,
            ApiError::HeadersTooLarge(_) => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ApiError::LengthRequired(_) => StatusCode::LENGTH_REQUIRED,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Other { status, .. } => *status,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad_request",
            ApiError::InvalidParameter(_) => "invalid_parameter",
            ApiError::NotFound(_) => "not_found",
            ApiError::Field { .. } => "invalid_field",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::Conflict(_) => "conflict",
            ApiError::TooLarge(_) => "payload_too_large",
            ApiError::UriTooLong(_) => "uri_too_long",
            ApiError::HeadersTooLarge(_) => "headers_too_large",
            ApiError::LengthRequired(_) => "length_required",
            ApiError::MethodNotAllowed(_) => "method_not_allowed",
            ApiError::Other { status, .. } => match status.as_u16() {
                408 => "request_timeout",
                412 => "precondition_failed",
                422 => "unprocessable",
                428 => "precondition_required",
                s if s >= 500 => "internal_error",
                _ => "bad_request",
            },
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::TooManyRequests { .. } => "too_many_requests",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal_error",
            ApiError::Unprocessable { .. } => "unprocessable",
        }
    }

    /// Our error for an answer axum or tower made by itself with `status` and (maybe) a
    /// plain-text reason.
    pub fn from_status(status: StatusCode, text: &str, headers: &axum::http::HeaderMap) -> Self {
        let text = text.to_string();
        let or = |fallback: &str| {
            if text.is_empty() {
                fallback.to_string()
            } else {
                text.clone()
            }
        };
        match status {
            StatusCode::METHOD_NOT_ALLOWED => {
                // axum adds `Allow` only after the router's layers have run.
                let allow = headers
                    .get(axum::http::header::ALLOW)
                    .and_then(|v| v.to_str().ok())
                    .filter(|a| !a.is_empty())
                    .map_or(String::new(), |a| format!("; it takes {a}"));
                ApiError::MethodNotAllowed(format!(
                    "this resource does not take that method{allow} (see the Allow header)"
                ))
            }
            StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::TooLarge(or("the body is larger than this resource takes"))
            }
            StatusCode::URI_TOO_LONG => ApiError::UriTooLong(or("the request target is too long")),
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => {
                ApiError::HeadersTooLarge(or("the headers are too large"))
            }
            StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                ApiError::UnsupportedMediaType(or("unsupported Content-Type"))
            }
            StatusCode::NOT_FOUND => ApiError::NotFound(or("no such resource")),
            StatusCode::UNAUTHORIZED => ApiError::Unauthorized(or("sign in first")),
            StatusCode::FORBIDDEN => ApiError::Forbidden(or("not allowed")),
            s if s.is_server_error() => ApiError::Other {
                status: s,
                description: "the server could not answer this request".into(),
            },
            s => ApiError::Other {
                status: s,
                description: or(s.canonical_reason().unwrap_or("bad request")),
            },
        }
    }

    pub fn param(msg: impl Into<String>) -> Self {
        ApiError::InvalidParameter(msg.into())
    }

    pub fn field(field: impl Into<String>, reason: impl Into<String>) -> Self {
        ApiError::Field {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(detail) = &self {
            tracing::error!(%detail, "internal error");
        }
        let mut body = json!({ "code": self.code(), "description": self.to_string() });
        if let ApiError::Field { field, .. } = &self {
            body["field"] = json!(field);
        }
        if let ApiError::Unprocessable {
            extra: serde_json::Value::Object(m),
            ..
        } = &self
        {
            for (k, v) in m {
                body[k] = v.clone();
            }
        }
        let mut r = (self.status_code(), Json(body)).into_response();
        match &self {
            ApiError::Unauthorized(_) => {
                r.headers_mut().insert(
                    axum::http::header::WWW_AUTHENTICATE,
                    axum::http::HeaderValue::from_static("Bearer"),
                );
            }
            ApiError::TooManyRequests { retry_after_s } => {
                r.headers_mut().insert(
                    axum::http::header::RETRY_AFTER,
                    axum::http::HeaderValue::from(*retry_after_s),
                );
            }
            ApiError::Unavailable(_) => {
                r.headers_mut().insert(
                    axum::http::header::RETRY_AFTER,
                    axum::http::HeaderValue::from_static("30"),
                );
            }
            _ => {}
        }
        r
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        // serde_urlencoded's message names the field and the problem; drop axum's prefix.
        let text = r.body_text();
        let text = text
            .strip_prefix("Failed to deserialize query string: ")
            .unwrap_or(&text);
        ApiError::InvalidParameter(text.to_string())
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::InvalidParameter(r.body_text())
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        match e {
            crate::store::StoreError::Unavailable(m) => ApiError::Unavailable(m),
            e if e.is_bad_text() => {
                ApiError::InvalidParameter("text may not hold the NUL character".into())
            }
            e if e.is_unavailable() => {
                tracing::warn!("the database cannot be written: {e}");
                ApiError::Unavailable(
                    "the register cannot be written just now (storage full or read-only); try again later"
                        .into(),
                )
            }
            e => ApiError::Internal(e.to_string()),
        }
    }
}

impl From<crate::complaints::ComplaintError> for ApiError {
    fn from(e: crate::complaints::ComplaintError) -> Self {
        use crate::complaints::ComplaintError as E;
        match e {
            E::Field(f) => ApiError::Field {
                field: f.field,
                reason: f.reason,
            },
            E::NotFound(t) => ApiError::NotFound(format!("no complaint {t}")),
            E::Forbidden(m) => ApiError::Forbidden(m),
            E::Conflict(m) => ApiError::Conflict(m),
            E::Store(s) => s.into(),
            E::Io(m) => ApiError::Internal(m),
            E::Unavailable(m) => ApiError::Unavailable(format!(
                "photos cannot be stored just now ({m}); try again later"
            )),
        }
    }
}

/// Fallback for paths we do not serve.
pub async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::NotFound(format!("no such resource: {}", uri.path()))
}

impl From<crate::atlas::applications::AppError> for ApiError {
    fn from(e: crate::atlas::applications::AppError) -> Self {
        use crate::atlas::applications::AppError as E;
        match e {
            E::Field { field, reason } => ApiError::Field { field, reason },
            E::NotFound(m) => ApiError::NotFound(m),
            E::Unauthorized(m) => ApiError::Unauthorized(m),
            E::Forbidden(m) => ApiError::Forbidden(m),
            E::Conflict(m) => ApiError::Conflict(m),
            E::Refused(r) => ApiError::Unprocessable {
                description: r.reason.en.clone(),
                extra: json!({ "refused": r.reason }),
            },
            E::Missing(m) => ApiError::Unprocessable {
                description: E::Missing(m.clone()).to_string(),
                extra: json!({ "missing": m }),
            },
            E::Wait(s) => ApiError::TooManyRequests { retry_after_s: s },
            E::Unavailable(m) => ApiError::Unavailable(m),
            E::Store(s) => s.into(),
            E::Document(d) => d.into(),
        }
    }
}
