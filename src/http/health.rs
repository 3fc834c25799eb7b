//! `GET /health`: liveness plus what is loaded, for operators and load balancers.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Map, Value};

use super::{ApiError, AppState, NoParams, Params};
use crate::model::Layer;

pub fn router() -> Router<AppState> {
    Router::new().route("/health", get(health))
}

async fn health(
    State(s): State<AppState>,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Json<Value>, ApiError> {
    // Touch the database so a broken file shows here, not at the next write.
    s.atlas.store().meta_get("schema_probe").await?;
    let mut layers = Map::new();
    for l in Layer::ALL {
        layers.insert(l.as_str().into(), s.atlas.index().read(*l).len().into());
    }
    Ok(Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "layers": layers,
    })))
}
