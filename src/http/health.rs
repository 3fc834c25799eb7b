//! `GET /health`: liveness plus what is loaded, for operators and load balancers.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use super::{ordered_map, ApiError, AppState, NoParams, Params};
use crate::model::Layer;

pub fn router() -> Router<AppState> {
    Router::new().route("/health", get(health))
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
