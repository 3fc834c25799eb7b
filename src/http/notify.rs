//! Messages to reporters over HTTP. The reporter: `GET /complaints/{ticket}/optout?t=`
//! (the link in every message: a page asking to confirm, since mail scanners follow
//! links) and `POST` to the same address (the button, and RFC 8058 one-click
//! unsubscribe). Officers and admins: `GET /notifications?state=&ticket=` (the outbox)
//! and `POST /notifications/{id}/retry` (send a failed or uncertain message again).

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::auth::Staff;
use super::complaints::{preferred_language, ticket_param};
use super::{ApiError, AppState, NoParams, Params};
use crate::complaints::open311::escape;
use crate::model::{now_rfc3339, Lang, Role};
use crate::store::{Notification, NOTIFICATION_STATES};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/complaints/{ticket}/optout", get(optout_page).post(optout))
        .route("/notifications", get(outbox))
        .route("/notifications/{id}/retry", post(retry))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenParams {
    t: Option<String>,
}

fn token(q: &TokenParams) -> Result<&str, ApiError> {
    q.t.as_deref()
        .filter(|t| !t.is_empty() && t.len() <= 128)
        .ok_or_else(|| ApiError::param("t: the token from the link in the message is required"))
}

fn wants_json(h: &HeaderMap) -> bool {
    h.get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json") && !v.contains("text/html"))
}

/// A small page in the reporter's language (English beside Bengali when unknown).
fn page(
    lang: Option<Lang>,
    title: (&str, &str),
    body: (&str, &str),
    form: Option<&str>,
) -> Html<String> {
    let mut out = String::from(
        "<!doctype html><html><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>",
    );
    let both = lang.is_none();
    let pick = |p: (&str, &str)| {
        if lang == Some(Lang::Bn) {
            p.1.to_string()
        } else {
            p.0.to_string()
        }
    };
    escape(&pick(title), &mut out);
    out.push_str(
        "</title><style>body{font:16px/1.5 system-ui,'Noto Sans Bengali',sans-serif;\
         max-width:36em;margin:3em auto;padding:0 1em}button{font:inherit;padding:.5em 1em}</style>\
         </head><body><h1>",
    );
    escape(&pick(title), &mut out);
    out.push_str("</h1><p>");
    escape(&pick(body), &mut out);
    out.push_str("</p>");
    if both {
        out.push_str("<p lang=\"bn\">");
        escape(body.1, &mut out);
        out.push_str("</p>");
    }
    if let Some(action) = form {
        out.push_str("<form method=\"post\" action=\"");
        escape(action, &mut out);
        out.push_str("\"><button type=\"submit\">");
        escape(&pick(("Stop the messages", "বার্তা বন্ধ করুন")), &mut out);
        out.push_str("</button></form>");
    }
    out.push_str("<p><a href=\"/\">Heritage Atlas</a></p></body></html>");
    Html(out)
}

async fn optout_page(
    State(s): State<AppState>,
    Path(ticket): Path<String>,
    headers: HeaderMap,
    Params(q): Params<TokenParams>,
) -> Result<Response, ApiError> {
    let t = ticket_param(&ticket)?;
    let tok = token(&q)?;
    if !s.atlas.optout_valid(&t, tok) {
        return Err(ApiError::Forbidden(
            "this link is not valid for that complaint".into(),
        ));
    }
    let lang = preferred_language(&headers);
    let action = format!("/complaints/{t}/optout?t={tok}");
    let body = format!(
        "Stop the messages about complaint {t}? You can still follow it on the map with its ticket."
    );
    let body_bn =
        format!("অভিযোগ {t} সম্পর্কে বার্তা পাঠানো বন্ধ করবেন? টিকিট নম্বর দিয়ে মানচিত্রে এর খবর রাখতে পারবেন।");
    Ok((
        [(header::CACHE_CONTROL, "no-store")],
        page(
            lang,
            ("Stop messages", "বার্তা বন্ধ"),
            (&body, &body_bn),
            Some(&action),
        ),
    )
        .into_response())
}

/// The answer to an opt-out.
#[derive(Serialize)]
struct OptedOut {
    ticket: String,
    opted_out: bool,
}

async fn optout(
    State(s): State<AppState>,
    Path(ticket): Path<String>,
    headers: HeaderMap,
    Params(q): Params<TokenParams>,
) -> Result<Response, ApiError> {
    // The body (RFC 8058's `List-Unsubscribe=One-Click`, or an empty form) says nothing
    // the address does not; it is not read.
    let t = ticket_param(&ticket)?;
    let tok = token(&q)?;
    s.atlas.opt_out(&t, tok).await?;
    if wants_json(&headers) {
        return Ok(Json(OptedOut {
            ticket: t,
            opted_out: true,
        })
        .into_response());
    }
    let body = format!("You will get no more messages about complaint {t}.");
    let body_bn = format!("অভিযোগ {t} সম্পর্কে আপনাকে আর কোনো বার্তা পাঠানো হবে না।");
    Ok((
        [(header::CACHE_CONTROL, "no-store")],
        page(
            preferred_language(&headers),
            ("Messages stopped", "বার্তা বন্ধ হয়েছে"),
            (&body, &body_bn),
            None,
        ),
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OutboxParams {
    state: Option<String>,
    ticket: Option<String>,
    limit: Option<i64>,
}

#[derive(Serialize)]
struct Outbox {
    #[serde(rename = "numberReturned")]
    number_returned: usize,
    notifications: Vec<Notification>,
}

fn officer(role: Role) -> Result<(), ApiError> {
    if role == Role::FieldStaff {
        return Err(ApiError::Forbidden(
            "the outbox is for officers and admins (it names reporters' messages)".into(),
        ));
    }
    Ok(())
}

async fn outbox(
    State(s): State<AppState>,
    Staff(user): Staff,
    Params(q): Params<OutboxParams>,
) -> Result<Json<Outbox>, ApiError> {
    officer(user.role)?;
    let state = q.state.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if let Some(st) = state {
        if !NOTIFICATION_STATES.contains(&st) {
            return Err(ApiError::param(format!(
                "state: {st:?} is not one of {}",
                NOTIFICATION_STATES.join(", ")
            )));
        }
    }
    let ticket = q.ticket.as_deref().map(ticket_param).transpose()?;
    let limit = q.limit.unwrap_or(200);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::param("limit must be from 1 to 1000"));
    }
    let notifications = s
        .atlas
        .store()
        .notifications(state, ticket.as_deref(), limit)
        .await?;
    Ok(Json(Outbox {
        number_returned: notifications.len(),
        notifications,
    }))
}

async fn retry(
    State(s): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<String>,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Response, ApiError> {
    officer(user.role)?;
    let missing = || ApiError::NotFound(format!("no failed or uncertain message {id}"));
    let n: i64 = id.parse().map_err(|_| missing())?;
    if !s
        .atlas
        .store()
        .retry_notification(n, &now_rfc3339())
        .await?
    {
        return Err(missing());
    }
    s.atlas.wake_notifier();
    let row = s.atlas.store().notification(n).await?.ok_or_else(missing)?;
    Ok(Json(row).into_response())
}
