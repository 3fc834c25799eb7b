//! # heritage-atlas
//!
//! A map server for a city's Environment & Heritage register — heritage buildings,
//! statues, structures, monuments, water bodies, parks and wards — first built for the
//! Kolkata Municipal Corporation.
//!
//! Data flows one way (tiles beside query, both reading the index):
//!
//! ```text
//! import (GeoJSON, GeoJSONSeq, FlatGeobuf, CSV; any EPSG → WGS84)
//!    │
//! store  (sqlx + SQLite file; every write lands here first)
//!    │
//! index  (one rstar R-tree per layer, rebuilt from the store at start)
//!    │
//! query  (nearest-k, point-in-polygon, bbox, name search) · tiles (clip, simplify, MVT, cache)
//!    │
//! http   (axum: /nearby /at /search /assets /tiles /styles /fonts /health, the web app)
//! ```
//!
//! [`app`] builds the whole router, so tests drive the real application.

pub mod applications;
pub mod atlas;
pub mod auth;
pub mod backup;
pub mod blobs;
pub mod complaints;
pub mod config;
pub mod counter;
pub mod documents;
pub mod export;
pub mod features;
pub mod geom;
pub mod history;
pub mod http;
pub mod import;
pub mod index;
pub mod migrate;
pub mod model;
pub mod notify;
pub mod query;
pub mod schema;
pub mod search;
pub mod snapshot;
pub mod stats;
pub mod store;
pub mod synth;
pub mod text;
pub mod tiles;

pub use http::{app, AppState};
