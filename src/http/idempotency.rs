//! `Idempotency-Key` on every POST (the IETF httpapi draft "The Idempotency-Key HTTP
//! Header Field"): a client that did not hear the answer to a POST — the web app's
//! offline queue, a phone losing signal mid-request — sends it again with the same key
//! and gets the first answer again (`Idempotent-Replayed: true`) instead of filing a
//! second complaint or inspection.
//!
//! - Keys are per user: a signed-in staff member's keys are theirs whichever token they
//!   send (an officer whose session ran out while offline signs in again, and the queued
//!   retry still finds its first answer); other credentials are scoped by a hash of the
//!   `Authorization` header, and citizens (none) share one scope of random UUIDs. One
//!   user's key never replays another's answer.
//! - The same key with a different request (method, target, or body) is a 422; with the
//!   first request still being answered, a 409 with `Retry-After`.
//! - A 5xx, 408, 429 or 503 answer is not kept: the request did not happen for good, and a
//!   retry runs it again. Neither is an answer larger than [`MAX_KEPT`] (only read-like
//!   POSTs make those; [`MAX_KEPT_ANONYMOUS`] without credentials), nor one marked
//!   `Cache-Control: no-store` (a new session's token, which the database otherwise keeps
//!   only hashed).
//! - The answer is kept durably before it is sent, by a task of its own: a client that
//!   goes away mid-request, or the request deadline, stops the waiting, not the request
//!   or the keeping. A server that dies between the write and keeping its answer leaves
//!   the key claimed; after [`STALE_CLAIM`] a retry runs again. That window (milliseconds,
//!   in a crash) is the one place a retry can file twice.
//! - Only POSTs to a route are kept (not a 404's); answers are kept uncompressed (the
//!   request's `Accept-Encoding` is not passed on), so any retry can read them.
//! - Keys are kept a day ([`KEEP`]), as the draft suggests for clients retrying later.
//!
//! Bodies are fingerprinted up to [`MAX_FINGERPRINTED`] (a multipart body without its
//! boundary, which a browser draws anew for each send); a larger upload is fingerprinted
//! by method and target only, and passed on as it streams.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use http_body_util::BodyExt;
use sha2::{Digest, Sha256};

use super::{ApiError, AppState};
use crate::store::{KeptAnswer, KeyState, Store};

/// The request header.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// Set on an answer given again.
pub const REPLAYED: &str = "idempotent-replayed";

/// Longest key taken (the draft leaves it to servers; a UUID is 36).
pub const MAX_KEY: usize = 255;

/// Bodies up to this are part of the fingerprint.
pub const MAX_FINGERPRINTED: usize = 1024 * 1024;

/// Answers up to this are kept for replay.
pub const MAX_KEPT: usize = 4 * 1024 * 1024;

/// For a client sending no credentials, up to this: anyone may send keys, and what is kept
/// is kept a day (a complaint's answer is a few hundred bytes).
pub const MAX_KEPT_ANONYMOUS: usize = 64 * 1024;

/// How long keys are kept.
pub const KEEP: Duration = Duration::from_secs(24 * 3600);

/// A claim unanswered for this long belonged to a server that died: longer than any
/// request may take (uploads have ten minutes).
pub const STALE_CLAIM: Duration = Duration::from_secs(15 * 60);

/// The headers of an answer given again with it.
const KEPT_HEADERS: [HeaderName; 11] = [
    header::CONTENT_TYPE,
    header::CONTENT_ENCODING,
    header::CONTENT_LANGUAGE,
    header::CONTENT_DISPOSITION,
    header::CACHE_CONTROL,
    header::LOCATION,
    header::ETAG,
    header::LAST_MODIFIED,
    header::CONTENT_LOCATION,
    header::LINK,
    header::WWW_AUTHENTICATE,
];

/// Old keys are swept once every this many claims.
const SWEEP_EVERY: u64 = 512;
static CLAIMS: AtomicU64 = AtomicU64::new(0);

pub async fn idempotency(State(s): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let Some(raw) = req.headers().get(IDEMPOTENCY_KEY) else {
        return next.run(req).await;
    };
    // A POST to no route (a 404 or 405) writes nothing: nothing to keep for it.
    if req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .is_none()
    {
        return next.run(req).await;
    }
    let key = match parse_key(raw) {
        Ok(k) => k,
        Err(e) => return e.into_response(),
    };
    let scope = match scope_of(&s, req.headers()).await {
        Ok(scope) => scope,
        Err(e) => return e.into_response(),
    };
    let (parts, body) = req.into_parts();
    let (body, fingerprint) = match read_up_to(body, MAX_FINGERPRINTED).await {
        Read::Whole(b) => {
            let f = fingerprint(&parts, Some(&b));
            (Body::from(b), f)
        }
        Read::Partial {
            body,
            broken: false,
        } => (body, fingerprint(&parts, None)),
        // Broken off while read: nothing will be written, and the route says why as it
        // reads the body (its own limit, its own deadline).
        Read::Partial { body, broken: true } => {
            return next.run(Request::from_parts(parts, body)).await
        }
    };
    let mut req = Request::from_parts(parts, body);
    // The answer is kept as sent, uncompressed: a retry may take other codings than the
    // first request did (and is answered with whatever `Content-Encoding` it was kept
    // with, which must then be none).
    req.headers_mut().remove(header::ACCEPT_ENCODING);
    let anonymous = !req.headers().contains_key(header::AUTHORIZATION);
    let store = s.atlas.store().clone();
    let now = crate::model::epoch_now();
    let state = store
        .idempotency_begin(
            &scope,
            &key,
            &fingerprint,
            now,
            now - STALE_CLAIM.as_secs_f64(),
        )
        .await;
    match state {
        Err(e) => ApiError::from(e).into_response(),
        Ok(KeyState::Answered(a)) => replay(a),
        Ok(KeyState::InFlight) => {
            let mut r = ApiError::Conflict(format!(
                "a request with Idempotency-Key {key:?} is still being answered; \
                 ask again in a moment for its answer"
            ))
            .into_response();
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            r
        }
        Ok(KeyState::Mismatch) => ApiError::Unprocessable {
            description: format!(
                "Idempotency-Key {key:?} was used for a different request; \
                 a new request needs a new key"
            ),
            extra: serde_json::json!({}),
        }
        .into_response(),
        Ok(KeyState::New(claimed_at)) => {
            if CLAIMS
                .fetch_add(1, Ordering::Relaxed)
                .is_multiple_of(SWEEP_EVERY)
            {
                let store = store.clone();
                tokio::spawn(async move {
                    if let Err(e) = store.idempotency_sweep(now - KEEP.as_secs_f64()).await {
                        tracing::warn!(error = %e, "sweeping idempotency keys failed");
                    }
                });
            }
            let mut claim = Claim {
                store,
                scope,
                key,
                claimed_at,
                most: if anonymous {
                    MAX_KEPT_ANONYMOUS
                } else {
                    MAX_KEPT
                },
                open: true,
            };
            // The request and the keeping of its answer run on a task of their own: a
            // client that goes away, or the request deadline passing, stops the waiting
            // for them, not them. (Stopped between the write and the keeping, the answer
            // would be lost and the retry would write again: the very case this is for.)
            let run = tokio::spawn(async move {
                let r = next.run(req).await;
                claim.answer(r).await
            });
            match run.await {
                Ok(r) => r,
                // A panic in the handler (CatchPanicLayer, outside, no longer sees it):
                // the claim, dropped unanswered, is let go.
                Err(e) => ApiError::Internal(format!("the request failed: {e}")).into_response(),
            }
        }
    }
}

/// The key as sent: a bare token, or a structured-field string (`"…"`).
fn parse_key(raw: &HeaderValue) -> Result<String, ApiError> {
    let bad = |why: &str| ApiError::BadRequest(format!("Idempotency-Key: {why}"));
    let s = raw.to_str().map_err(|_| bad("must be ASCII"))?.trim();
    let s = s
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(s);
    if s.is_empty() {
        return Err(bad("is empty"));
    }
    if s.len() > MAX_KEY {
        return Err(bad(&format!("at most {MAX_KEY} characters")));
    }
    if !s.bytes().all(|b| (0x21..=0x7e).contains(&b) && b != b'"') {
        return Err(bad("printable ASCII without spaces or quotes"));
    }
    Ok(s.to_string())
}

/// Whose keys these are: the staff member signed in, else a hash of the credentials sent.
async fn scope_of(s: &AppState, headers: &HeaderMap) -> Result<String, ApiError> {
    if let Some(token) = super::auth::bearer(headers) {
        let user = s
            .atlas
            .store()
            .session_user(
                &crate::auth::sha256_hex(token),
                &crate::model::now_rfc3339(),
            )
            .await?;
        if let Some(u) = user {
            return Ok(format!("staff:{}", u.id));
        }
    }
    let mut h = Sha256::new();
    h.update(b"authorization\0");
    if let Some(a) = headers.get(header::AUTHORIZATION) {
        h.update(a.as_bytes());
    }
    Ok(hex::encode(h.finalize()))
}

/// A body read up to a bound ([`read_up_to`]).
enum Read {
    /// All of it, within the bound.
    Whole(Bytes),
    /// Longer than the bound, or broken off while read (`broken`): the body as it came,
    /// what was read and then the rest (or the error), to pass on.
    Partial { body: Body, broken: bool },
}

/// Reads `body` until it ends or passes `most` bytes. Both the request (fingerprinted up
/// to [`MAX_FINGERPRINTED`]) and the answer (kept up to [`MAX_KEPT`]) are read this way.
async fn read_up_to(mut body: Body, most: usize) -> Read {
    let mut head = bytes::BytesMut::new();
    let (rest, error) = loop {
        match body.frame().await {
            None => return Read::Whole(head.freeze()),
            Some(Err(e)) => break (None, Some(e)),
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    head.extend_from_slice(&data);
                    if head.len() > most {
                        break (Some(body), None);
                    }
                }
            }
        }
    };
    let broken = error.is_some();
    let stream = futures_util::stream::iter([Ok(head.freeze())])
        .chain(futures_util::stream::iter(error.map(Err)))
        .chain(match rest {
            Some(b) => b.into_data_stream().left_stream(),
            None => futures_util::stream::empty().right_stream(),
        });
    Read::Partial {
        body: Body::from_stream(stream),
        broken,
    }
}

/// A request's fingerprint: its method, target and body (`None`: longer than
/// [`MAX_FINGERPRINTED`]), a multipart body without its boundary.
fn fingerprint(parts: &axum::http::request::Parts, body: Option<&[u8]>) -> String {
    let mut h = Sha256::new();
    h.update(parts.method.as_str().as_bytes());
    h.update(b"\0");
    h.update(
        parts
            .uri
            .path_and_query()
            .map_or(parts.uri.path(), |p| p.as_str())
            .as_bytes(),
    );
    h.update(b"\0");
    let boundary = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(boundary_of);
    match (body, &boundary) {
        (Some(b), Some(boundary)) => h.update(without(b, boundary.as_bytes())),
        (Some(b), None) => h.update(b),
        (None, _) => h.update(b"(larger than fingerprinted)"),
    }
    hex::encode(h.finalize())
}

/// The boundary of a multipart body's `Content-Type`.
fn boundary_of(content_type: &str) -> Option<String> {
    if !content_type
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("multipart/")
    {
        return None;
    }
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_string())
            .filter(|b| !b.is_empty())
    })
}

/// `body` without any occurrence of `pattern`.
fn without(body: &[u8], pattern: &[u8]) -> Vec<u8> {
    if pattern.is_empty() {
        return body.to_vec();
    }
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        if body[i..].starts_with(pattern) {
            i += pattern.len();
        } else {
            out.push(body[i]);
            i += 1;
        }
    }
    out
}

/// The first request with a key, until its answer is kept or let go. Dropped without
/// either (the request timed out, the client went away and the handler was cancelled),
/// it lets go, so that the retry runs.
struct Claim {
    store: Store,
    scope: String,
    key: String,
    /// When this request claimed the key: a later request that took the claim over as
    /// stale is not let go of by this one.
    claimed_at: f64,
    /// The largest answer kept.
    most: usize,
    open: bool,
}

impl Claim {
    async fn answer(&mut self, r: Response) -> Response {
        let status = r.status();
        let transient = status.is_server_error()
            || status == StatusCode::TOO_MANY_REQUESTS
            || status == StatusCode::REQUEST_TIMEOUT;
        // An answer not to be stored anywhere (a new session's token) is not kept either.
        let secret = r
            .headers()
            .get_all(header::CACHE_CONTROL)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.to_ascii_lowercase().contains("no-store"));
        if transient || secret {
            self.forget().await;
            return r;
        }
        let (parts, body) = r.into_parts();
        let kept = match read_up_to(body, self.most).await {
            Read::Whole(b) => b,
            // Too large to keep, or broken off: passed on as it is, and not kept.
            Read::Partial { body, .. } => {
                self.forget().await;
                return Response::from_parts(parts, body);
            }
        };
        let answer = KeptAnswer {
            status: parts.status.as_u16(),
            headers: KEPT_HEADERS
                .iter()
                .filter_map(|n| {
                    let v = parts.headers.get(n)?.to_str().ok()?;
                    Some((n.as_str().to_string(), v.to_string()))
                })
                .collect(),
            body: kept.into(),
        };
        match self
            .store
            .idempotency_finish(&self.scope, &self.key, self.claimed_at, &answer)
            .await
        {
            Ok(()) => self.open = false,
            // The write itself went through: its answer is still the truth to send.
            Err(e) => {
                tracing::warn!(error = %e, "keeping an idempotent answer failed");
                self.forget().await;
            }
        }
        Response::from_parts(parts, Body::from(answer.body))
    }

    async fn forget(&mut self) {
        self.open = false;
        if let Err(e) = self
            .store
            .idempotency_forget(&self.scope, &self.key, self.claimed_at)
            .await
        {
            tracing::warn!(error = %e, "letting go of an idempotency key failed");
        }
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        if self.open {
            let (store, scope, key, at) = (
                self.store.clone(),
                std::mem::take(&mut self.scope),
                std::mem::take(&mut self.key),
                self.claimed_at,
            );
            tokio::spawn(async move {
                if let Err(e) = store.idempotency_forget(&scope, &key, at).await {
                    tracing::warn!(error = %e, "letting go of an idempotency key failed");
                }
            });
        }
    }
}

/// A kept answer, given again.
fn replay(a: KeptAnswer) -> Response {
    let mut r = Response::new(Body::from(a.body));
    *r.status_mut() = StatusCode::from_u16(a.status).unwrap_or(StatusCode::OK);
    let h = r.headers_mut();
    for (name, value) in a.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::from_str(&value),
        ) {
            h.insert(n, v);
        }
    }
    h.insert(REPLAYED, HeaderValue::from_static("true"));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_tokens_or_strings_and_bounded() {
        let k = |s: &str| parse_key(&HeaderValue::from_str(s).unwrap());
        assert_eq!(k("8e03978e-40d5-43e8-bc93-6894a57f9324").unwrap().len(), 36);
        assert_eq!(k("\"abc\"").unwrap(), "abc");
        assert!(k("").is_err());
        assert!(k("a b").is_err());
        assert!(k(&"x".repeat(MAX_KEY + 1)).is_err());
        assert!(k(&"x".repeat(MAX_KEY)).is_ok());
    }

    #[test]
    fn a_multipart_body_is_the_same_without_its_boundary() {
        let one = b"--AAA\r\nx\r\n--AAA--";
        let two = b"--BBB\r\nx\r\n--BBB--";
        assert_eq!(without(one, b"AAA"), without(two, b"BBB"));
        assert_ne!(
            without(one, b"AAA"),
            without(b"--AAA\r\ny\r\n--AAA--", b"AAA")
        );
        assert_eq!(
            boundary_of("multipart/form-data; boundary=\"AaB03x\"").as_deref(),
            Some("AaB03x")
        );
        assert_eq!(boundary_of("application/json"), None);
    }
}
