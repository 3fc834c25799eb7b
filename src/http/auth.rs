//! Staff sign-in: `POST /auth/login` → an opaque bearer token (kept hashed, expiring),
//! `POST /auth/logout`, `GET /auth/me`; the [`Staff`] extractor that guards staff routes;
//! and the per-client address and rate limit used by public write endpoints.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use governor::clock::Clock;

use super::body::JsonBody;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::guard::SharedBucket;
use super::{ApiError, AppState, NoParams, Params};
use crate::auth::{self, SESSION_HOURS};
use crate::model::now_rfc3339;
use crate::store::{Store, User};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/login", post(login))
        .route("/auth/logout", post(logout))
        .route("/auth/me", get(me))
        .route("/auth/staff", get(staff_list))
}

/// A signed-in staff member (from `Authorization: Bearer …`); 401 otherwise.
#[derive(Debug, Clone)]
pub struct Staff(pub User);

pub(super) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, ApiError> {
        let token = bearer(&parts.headers).ok_or_else(|| {
            ApiError::Unauthorized(
                "sign in: send `Authorization: Bearer <token>` from POST /auth/login".into(),
            )
        })?;
        s.atlas
            .store()
            .session_user(&auth::sha256_hex(token), &now_rfc3339())
            .await?
            .map(Staff)
            .ok_or_else(|| {
                ApiError::Unauthorized("the token is unknown or has expired; sign in again".into())
            })
    }
}

/// `Option<Staff>`: the staff member if a valid token came, `None` if none came; a token
/// that is unknown or expired is still a 401 (the client believes it is signed in).
impl axum::extract::OptionalFromRequestParts<AppState> for Staff {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Option<Self>, ApiError> {
        if bearer(&parts.headers).is_none() {
            return Ok(None);
        }
        <Staff as FromRequestParts<AppState>>::from_request_parts(parts, s)
            .await
            .map(Some)
    }
}

/// Who is asking: the peer address, or behind a trusted proxy the address it names
/// (see [`super::guard::Proxies`]).
#[derive(Debug, Clone)]
pub struct Client(pub String);

impl FromRequestParts<AppState> for Client {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, ApiError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(Client(super::guard::client_ip(s, &parts.headers, peer)))
    }
}

/// A token bucket per client: `per_minute` requests a minute, in bursts of as many,
/// counted on this server and then in the database for all of them together
/// ([`SharedBucket`]).
///
/// This server's count is governor's keyed GCRA limiter (`Quota::per_minute`, whose
/// burst is the same size), one 8-byte state per client in a sharded map. A client whose
/// bucket has refilled is indistinguishable from one never seen, so every
/// [`RETAIN_EVERY`] checks the map drops those (`retain_recent`): it holds the clients of
/// about the last minute, not every address that ever asked.
#[derive(Debug)]
pub struct RateLimiter {
    /// `None`: no limit.
    limiter: Option<(governor::DefaultKeyedRateLimiter<String>, SharedBucket)>,
    checks: AtomicU32,
}

/// How many checks pass between sweeps of refilled buckets.
const RETAIN_EVERY: u32 = 1024;

impl RateLimiter {
    /// 0 turns the limit off.
    pub fn new(per_minute: u32) -> RateLimiter {
        RateLimiter {
            limiter: NonZeroU32::new(per_minute).map(|n| {
                (
                    governor::RateLimiter::keyed(governor::Quota::per_minute(n)),
                    SharedBucket::new("complaints", 60.0 / f64::from(n.get()), 60.0),
                )
            }),
            checks: AtomicU32::new(0),
        }
    }

    /// Takes one request from `key`'s bucket, or says how many seconds until one is free.
    pub async fn check(&self, store: &Store, key: &str) -> Result<(), ApiError> {
        let Some((limiter, shared)) = &self.limiter else {
            return Ok(());
        };
        if self.checks.fetch_add(1, Ordering::Relaxed) % RETAIN_EVERY == RETAIN_EVERY - 1 {
            limiter.retain_recent();
        }
        limiter.check_key(&key.to_string()).map_err(|not_until| {
            let wait = not_until.wait_time_from(limiter.clock().now());
            ApiError::TooManyRequests {
                retry_after_s: wait.as_secs_f64().ceil().max(1.0) as u64,
            }
        })?;
        shared.take(store, key, 1.0).await
    }

    /// Clients this server's limiter holds state for (those refilled are dropped every
    /// [`RETAIN_EVERY`] checks).
    pub fn tracked(&self) -> usize {
        self.limiter.as_ref().map_or(0, |(l, _)| l.len())
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Login {
    name: String,
    password: String,
}

/// A new session: the token is shown once, here, and kept only as its hash.
#[derive(Serialize)]
struct Session {
    token: String,
    token_type: &'static str,
    expires_at: String,
    /// Who signed in (no password hash: [`User`] never writes it).
    user: User,
}

async fn login(
    State(s): State<AppState>,
    Client(client): Client,
    JsonBody(Login { name, password }): JsonBody<Login>,
) -> Result<Response, ApiError> {
    if name.len() > 100 || password.len() > 1024 {
        return Err(ApiError::Unauthorized("wrong name or password".into()));
    }
    let name_key = format!("user:{}", name.trim().to_lowercase());
    let client_key = format!("client:{client}");
    // Refused before any hashing: a name or client backing off after failures, or one
    // with an attempt already being checked (on any server of the database).
    let attempt = match auth::begin_attempt(s.atlas.store(), &[name_key, client_key]).await? {
        auth::Admission::Go(a) => a,
        auth::Admission::Wait(w) => {
            return Err(ApiError::TooManyRequests {
                retry_after_s: w.as_secs_f64().ceil().max(1.0) as u64,
            })
        }
        auth::Admission::Busy => return Err(ApiError::TooManyRequests { retry_after_s: 1 }),
    };
    let user = s.atlas.store().user_by_name(name.trim()).await?;
    // At most a few argon2 hashes (19 MiB each) at once, whatever the flood.
    let _permit = tokio::time::timeout(Duration::from_secs(10), s.hashers.clone().acquire_owned())
        .await
        .map_err(|_| ApiError::Unavailable("sign-in is busy; try again in a moment".into()))?
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let ok = {
        let hash = user.as_ref().map(|u| u.password_hash.clone());
        tokio::task::spawn_blocking(move || match hash {
            Some(h) => auth::verify_password(&h, &password),
            None => {
                auth::verify_nobody(&password);
                false
            }
        })
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
    };
    let Some(user) = user.filter(|_| ok) else {
        attempt.fail().await?;
        return Err(ApiError::Unauthorized("wrong name or password".into()));
    };
    attempt.succeed().await?;
    let token = auth::new_secret();
    let now = time::OffsetDateTime::now_utc();
    let fmt = crate::model::rfc3339;
    let expires_at = fmt(now + time::Duration::hours(SESSION_HOURS));
    s.atlas
        .store()
        .create_session(&auth::sha256_hex(&token), user.id, &fmt(now), &expires_at)
        .await?;
    Ok((
        StatusCode::OK,
        [(header::CACHE_CONTROL, "no-store")],
        Json(Session {
            token,
            token_type: "Bearer",
            expires_at,
            user,
        }),
    )
        .into_response())
}

async fn logout(State(s): State<AppState>, headers: HeaderMap) -> Result<StatusCode, ApiError> {
    let token = bearer(&headers).ok_or_else(|| ApiError::Unauthorized("no bearer token".into()))?;
    if s.atlas
        .store()
        .delete_session(&auth::sha256_hex(token), &now_rfc3339())
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::Unauthorized(
            "the token is unknown or has expired".into(),
        ))
    }
}

async fn me(Staff(u): Staff, Params(NoParams {}): Params<NoParams>) -> Json<User> {
    Json(u)
}

/// Who complaints can be assigned to: every staff member who can sign in, with role and
/// ward. Officers and admins only (they assign).
async fn staff_list(
    State(s): State<AppState>,
    Staff(u): Staff,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Json<Vec<User>>, ApiError> {
    if u.role == crate::model::Role::FieldStaff {
        return Err(ApiError::Forbidden(
            "the staff list is for officers and admins".into(),
        ));
    }
    Ok(Json(s.atlas.store().users().await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn memory() -> Store {
        Store::open(":memory:").await.unwrap()
    }

    fn retry_after(r: Result<(), ApiError>) -> u64 {
        match r {
            Err(ApiError::TooManyRequests { retry_after_s }) => retry_after_s,
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn the_limit_is_per_client_and_says_when_to_return() {
        let store = memory().await;
        let l = RateLimiter::new(2);
        assert!(l.check(&store, "a").await.is_ok());
        assert!(l.check(&store, "a").await.is_ok());
        // The next token is 30 s away.
        let wait = retry_after(l.check(&store, "a").await);
        assert!((29..=30).contains(&wait), "{wait}");
        assert!(l.check(&store, "b").await.is_ok());
        let off = RateLimiter::new(0);
        for _ in 0..1000 {
            assert!(off.check(&store, "a").await.is_ok());
        }
    }

    /// Two servers on one database: a client gets its limit once, not once per server,
    /// and is told the same wait by both.
    #[tokio::test]
    async fn the_limit_is_shared_by_every_server_on_the_database() {
        let store = memory().await;
        let (a, b) = (RateLimiter::new(2), RateLimiter::new(2));
        assert!(a.check(&store, "c").await.is_ok());
        assert!(b.check(&store, "c").await.is_ok());
        // Each server has counted one request only: the database refuses the third.
        let from_a = retry_after(a.check(&store, "c").await);
        let from_b = retry_after(b.check(&store, "c").await);
        assert!((29..=30).contains(&from_a), "{from_a}");
        assert!((29..=30).contains(&from_b), "{from_b}");
        assert!(b.check(&store, "d").await.is_ok());
    }

    #[tokio::test]
    async fn refilled_buckets_are_dropped() {
        let store = memory().await;
        // 60,000 a minute: a bucket of one request refills in a millisecond.
        let l = RateLimiter::new(60_000);
        for i in 0..RETAIN_EVERY - 1 {
            let _ = l.check(&store, &format!("client {i}")).await;
        }
        assert_eq!(l.tracked(), RETAIN_EVERY as usize - 1);
        tokio::time::sleep(Duration::from_millis(50)).await;
        let _ = l.check(&store, "one more").await;
        assert!(l.tracked() <= 1, "{}", l.tracked());
        // The database's buckets are swept on the same count (in a task of its own).
        tokio::time::sleep(Duration::from_millis(100)).await;
        let left: i64 = store.count_rate_limits().await.unwrap();
        assert!(left <= 1, "{left} buckets left in the database");
    }
}
