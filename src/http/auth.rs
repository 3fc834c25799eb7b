//! Staff sign-in: `POST /auth/login` → an opaque bearer token (kept hashed, expiring),
//! `POST /auth/logout`, `GET /auth/me`; the [`Staff`] extractor that guards staff routes;
//! and the per-client address and rate limit used by public write endpoints.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::body::JsonBody;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::{ApiError, AppState, NoParams, Params};
use crate::auth::{self, SESSION_HOURS};
use crate::model::now_rfc3339;
use crate::store::User;

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

fn bearer(headers: &HeaderMap) -> Option<&str> {
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

/// A token bucket per client: `per_minute` requests a minute, in bursts of as many.
#[derive(Debug)]
pub struct RateLimiter {
    per_minute: u32,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    /// 0 turns the limit off.
    pub fn new(per_minute: u32) -> RateLimiter {
        RateLimiter {
            per_minute,
            buckets: Mutex::default(),
        }
    }

    /// Takes one request from `key`'s bucket, or says how many seconds until one is free.
    pub fn check(&self, key: &str) -> Result<(), ApiError> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let cap = f64::from(self.per_minute);
        let per_s = cap / 60.0;
        let now = Instant::now();
        let mut m = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if m.len() > 100_000 {
            m.retain(|_, (tokens, t)| *tokens + now.duration_since(*t).as_secs_f64() * per_s < cap);
        }
        let (tokens, t) = m.entry(key.to_string()).or_insert((cap, now));
        *tokens = (*tokens + now.duration_since(*t).as_secs_f64() * per_s).min(cap);
        *t = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(ApiError::TooManyRequests {
                retry_after_s: ((1.0 - *tokens) / per_s).ceil().max(1.0) as u64,
            })
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Login {
    name: String,
    password: String,
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
    // with an attempt already being checked.
    let wait = [&name_key, &client_key]
        .into_iter()
        .filter_map(|k| s.throttle.wait(k))
        .max();
    if let Some(w) = wait {
        return Err(ApiError::TooManyRequests {
            retry_after_s: w.as_secs_f64().ceil().max(1.0) as u64,
        });
    }
    let Some(_attempt) = s.throttle.begin(&[name_key.clone(), client_key.clone()]) else {
        return Err(ApiError::TooManyRequests { retry_after_s: 1 });
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
        s.throttle.fail(&name_key);
        s.throttle.fail(&client_key);
        return Err(ApiError::Unauthorized("wrong name or password".into()));
    };
    s.throttle.succeed(&name_key);
    s.throttle.succeed(&client_key);
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
        Json(json!({
            "token": token,
            "token_type": "Bearer",
            "expires_at": expires_at,
            "user": user,
        })),
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
