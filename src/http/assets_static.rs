//! The web app, map styles and glyphs, compiled into the binary (rust-embed) so the
//! server needs no network and no working directory: `web/` at `/`, `styles/` at
//! `/styles/{name}.json`, `fonts/` at `/fonts/{fontstack}/{range}.pbf`.

use axum::extract::{Path, Request};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use rust_embed::RustEmbed;
use serde_json::Value;

use super::{error, ApiError, AppState};

#[derive(RustEmbed)]
#[folder = "web/"]
struct Web;

#[derive(RustEmbed)]
#[folder = "styles/"]
struct Styles;

#[derive(RustEmbed)]
#[folder = "fonts/"]
#[include = "*.pbf"]
struct Fonts;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/styles/{name}", get(style))
        .route("/fonts/{fontstack}/{range}", get(glyphs))
}

/// The map page (the landing page for browsers; `http::ogc` decides).
pub(super) async fn index() -> Response {
    file::<Web>("index.html")
        .unwrap_or_else(|| ApiError::NotFound("web app not built in".into()).into_response())
}

/// Fallback: a file of the web app, else a JSON 404.
pub async fn web_or_not_found(req: Request) -> Response {
    let path = req.uri().path().trim_start_matches('/');
    match file::<Web>(path) {
        Some(r) => r,
        None => error::not_found(req.uri().clone()).await.into_response(),
    }
}

fn file<E: RustEmbed>(path: &str) -> Option<Response> {
    let f = E::get(path)?;
    let mime = match path.rsplit('.').next() {
        // Module scripts must be served as JavaScript or browsers refuse them.
        Some("mjs") | Some("js") => "text/javascript; charset=utf-8",
        Some("html") => "text/html; charset=utf-8",
        _ => f.metadata.mimetype(),
    };
    let mut h = HeaderMap::new();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(mime).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    // Vendored files are pinned by version; the app's own files may change per release.
    let cc = if path.starts_with("vendor/") {
        "public, max-age=86400"
    } else {
        "no-cache"
    };
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cc));
    Some((StatusCode::OK, h, f.data.into_owned()).into_response())
}

/// A style with its relative URLs made absolute for the origin the client used
/// (MapLibre resolves source and glyph URLs only when absolute).
async fn style(Path(name): Path<String>, headers: HeaderMap) -> Result<Response, ApiError> {
    let not_found = || ApiError::NotFound(format!("no style {name}"));
    let stem = name.strip_suffix(".json").ok_or_else(not_found)?;
    if stem.contains('/') || stem.contains("..") {
        return Err(not_found());
    }
    let f = Styles::get(&format!("{stem}.json")).ok_or_else(not_found)?;
    let mut style: Value = serde_json::from_slice(&f.data)
        .map_err(|e| ApiError::Internal(format!("style {stem}: {e}")))?;
    let base = super::tiles::base_url(&headers);
    let absolute = |v: &mut Value| {
        if let Some(s) = v.as_str().filter(|s| s.starts_with('/')) {
            *v = Value::String(format!("{base}{s}"));
        }
    };
    if let Some(sources) = style.get_mut("sources").and_then(Value::as_object_mut) {
        for src in sources.values_mut() {
            if let Some(u) = src.get_mut("url") {
                absolute(u);
            }
            if let Some(tiles) = src.get_mut("tiles").and_then(Value::as_array_mut) {
                tiles.iter_mut().for_each(absolute);
            }
        }
    }
    for key in ["glyphs", "sprite"] {
        if let Some(v) = style.get_mut(key) {
            absolute(v);
        }
    }
    Ok(([(header::CACHE_CONTROL, "no-cache")], axum::Json(style)).into_response())
}

/// Glyph ranges. A comma-joined font stack takes the first font we have; a range or font
/// we lack is an empty 200, which MapLibre reads as "no glyphs here".
async fn glyphs(Path((fontstack, range)): Path<(String, String)>) -> Result<Response, ApiError> {
    let range = range
        .strip_suffix(".pbf")
        .ok_or_else(|| ApiError::NotFound(format!("no glyphs {range}")))?;
    let valid = range.split_once('-').is_some_and(|(a, b)| {
        a.parse::<u32>().is_ok_and(|a| a % 256 == 0 && a <= 65280)
            && b.parse::<u32>().is_ok_and(|b| b % 256 == 255)
    });
    if !valid {
        return Err(ApiError::BadRequest(format!(
            "glyph range {range:?} is not of the form N-M, 256 apart"
        )));
    }
    let data = fontstack
        .split(',')
        .map(str::trim)
        .filter(|f| !f.contains('/') && !f.contains(".."))
        .find_map(|font| Fonts::get(&format!("{font}/{range}.pbf")))
        .map(|f| f.data.into_owned())
        .unwrap_or_default();
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-protobuf"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        data,
    )
        .into_response())
}
