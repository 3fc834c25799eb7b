//! `GET /health`: liveness plus what is loaded, for operators and load balancers.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use super::{ordered_map, ApiError, AppState, NoParams, Params};
use crate::model::Layer;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/health/ready", get(ready))
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    version: &'static str,
    /// Items held per layer, by layer name.
    #[serde(serialize_with = "ordered_map")]
    layers: Vec<(&'static str, usize)>,
}

async fn health(
    State(s): State<AppState>,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Json<Health>, ApiError> {
    // Touch the database so a broken file shows here, not at the next write.
    s.atlas.store().meta_get("schema_probe").await?;
    let layers = Layer::ALL
        .iter()
        .map(|l| (l.as_str(), s.atlas.index().read(*l).len()))
        .collect();
    Ok(Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        layers,
    }))
}

/// The longest a following replica may go without reading the feed to its end and still
/// call itself ready: several ticks, never under two seconds.
fn ready_within_ms(every_ms: i64) -> i64 {
    (every_ms * 5).max(2_000)
}

#[derive(Serialize)]
struct Ready {
    status: &'static str,
    /// How often this process reads the change feed, in ms; absent when it does not.
    #[serde(skip_serializing_if = "Option::is_none")]
    follow_ms: Option<i64>,
    /// How long ago it last read the feed to its end, in ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    caught_up_ms_ago: Option<i64>,
    /// Per layer: whether `/search` is answered by the name index ("built") or, for the
    /// seconds after start while it is built, by a scan ("scanning"): same answers.
    #[serde(serialize_with = "ordered_map")]
    search: Vec<(&'static str, &'static str)>,
}

/// `GET /health/ready`: 200 once this process can answer for the register as the
/// database holds it: the index loaded (it is, or the server would not be listening) and,
/// for a process following the change feed (docs/deploy.md), the feed read to its end
/// within the last few ticks. Else 503 with `Retry-After`, so that a load balancer sends
/// requests elsewhere meanwhile.
async fn ready(
    State(s): State<AppState>,
    Params(NoParams {}): Params<NoParams>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let search = Layer::ALL
        .iter()
        .map(|l| {
            let built = s.atlas.index().read(*l).names_built();
            (l.as_str(), if built { "built" } else { "scanning" })
        })
        .collect();
    let feed = s.atlas.feed_state();
    let caught_up = match feed {
        None => true,
        Some((every, ago)) => ago.is_some_and(|ms| ms <= ready_within_ms(every)),
    };
    let body = Ready {
        status: if caught_up { "ready" } else { "catching_up" },
        follow_ms: feed.map(|f| f.0),
        caught_up_ms_ago: feed.and_then(|f| f.1),
        search,
    };
    if caught_up {
        Json(body).into_response()
    } else {
        (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            [(axum::http::header::RETRY_AFTER, "1")],
            Json(body),
        )
            .into_response()
    }
}
