//! `GET /watch`: the water-body watch — every water body whose recorded area has fallen
//! by more than the set share of its first recorded area (`--watch-area-loss`, 2 % by
//! default), or whose status is `filled` or `encroached`; with the area lost (m²,
//! geodesic), its versions and the complaints filed about it. Public: the register is
//! the evidence, and the evidence is the public's.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::{ApiError, AppState, Params};
use crate::store::Watched;

pub fn router() -> Router<AppState> {
    Router::new().route("/watch", get(watch))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WatchParams {
    ward: Option<i64>,
}

#[derive(Serialize)]
struct WatchList {
    /// The loss (share of the first recorded area) that flags a water body.
    area_loss_threshold: f64,
    count: usize,
    total_area_lost_m2: f64,
    water_bodies: Vec<Watched>,
}

async fn watch(
    State(s): State<AppState>,
    Params(p): Params<WatchParams>,
) -> Result<Json<WatchList>, ApiError> {
    let water_bodies: Vec<Watched> = s
        .atlas
        .water_watch(s.watch_area_loss, None)
        .await?
        .into_iter()
        .filter(|w| p.ward.is_none() || w.ward == p.ward)
        .collect();
    Ok(Json(WatchList {
        area_loss_threshold: s.watch_area_loss,
        count: water_bodies.len(),
        total_area_lost_m2: water_bodies
            .iter()
            .filter_map(|w| w.area_lost_m2)
            .filter(|l| *l > 0.0)
            .sum(),
        water_bodies,
    }))
}
