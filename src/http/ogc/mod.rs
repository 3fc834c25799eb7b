//! OGC API - Features (Part 1 Core, Part 2 CRS, Part 3 CQL2 text filters): the landing
//! page, `/conformance`, `/api` (OpenAPI 3.0), `/collections`, `/collections/{id}`,
//! `/collections/{id}/queryables`, `/collections/{id}/items` (GeoJSON pages, or whole
//! downloads as GeoJSON, FlatGeobuf or CSV, streamed) and `/collections/{id}/items/{fid}`.
//!
//! `params.rs` reads what a request asks for, `documents.rs` answers the descriptive
//! documents, `items.rs` the feature pages and single features, `downloads.rs`
//! streams whole selections as files, and `links.rs` holds the link object they share.

use axum::routing::get;
use axum::Router;

use super::AppState;

mod documents;
mod downloads;
pub mod edits;
mod items;
pub(crate) mod links;
pub(crate) mod params;
use documents::{collection, collections, conformance, landing, queryables};
use items::{items, one};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(landing))
        .route("/conformance", get(conformance))
        .route("/collections", get(collections))
        .route("/collections/{id}", get(collection))
        .route("/collections/{id}/queryables", get(queryables))
        .route("/collections/{id}/items", get(items).post(edits::create))
        .route(
            "/collections/{id}/items/{fid}",
            get(one)
                .put(edits::replace)
                .patch(edits::update)
                .delete(edits::delist),
        )
}

const GEOJSON: &str = "application/geo+json";
const FGB: &str = "application/flatgeobuf";
