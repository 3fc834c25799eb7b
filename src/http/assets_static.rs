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
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, OnceLock};

use crate::tiles::cache::{compress, Coding, Effort};

use super::tiles::{etag_matches, set_coding, Accepted};
use super::{error, ApiError, AppState, NoParams, Params};

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
pub(super) async fn index(headers: &HeaderMap) -> Response {
    file::<Web>("index.html", headers)
        .await
        .unwrap_or_else(|| ApiError::NotFound("web app not built in".into()).into_response())
}

/// Fallback: a file of the web app, else a JSON 404.
pub async fn web_or_not_found(req: Request) -> Response {
    let path = req.uri().path().trim_start_matches('/');
    match file::<Web>(path, req.headers()).await {
        Some(r) => r,
        None => error::not_found(req.uri().clone()).await.into_response(),
    }
}

/// A file of the web app. Vendored files are pinned by version; the app's own files may
/// change per release, so browsers revalidate them (a 304 by ETag costs a round trip,
/// not the bytes).
async fn file<E: RustEmbed>(path: &str, headers: &HeaderMap) -> Option<Response> {
    let cc = if path.starts_with("vendor/") || path.starts_with("webfonts/") {
        "public, max-age=86400"
    } else {
        "no-cache"
    };
    Some(send(StaticFile::of(path, E::get(path)?), headers, cc).await)
}

async fn send(file: Arc<StaticFile>, headers: &HeaderMap, cc: &'static str) -> Response {
    let mut h = HeaderMap::new();
    h.insert(header::CONTENT_TYPE, file.mime.clone());
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cc));
    h.insert(header::ETAG, file.etag.clone());
    if file.compressible {
        h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    if file
        .etag
        .to_str()
        .is_ok_and(|etag| etag_matches(headers, etag))
    {
        return (StatusCode::NOT_MODIFIED, h).into_response();
    }
    let (coding, body) = file.body(Accepted::of(headers)).await;
    set_coding(&mut h, coding);
    (StatusCode::OK, h, body).into_response()
}

/// An embedded file ready to send: its type, strong ETag (from rust-embed's SHA-256) and
/// compressed forms, made once per process and kept. On a cheap phone the bytes are the
/// cost of the first visit: MapLibre's 1.6 MB of JavaScript is about 0.4 MB in brotli.
struct StaticFile {
    raw: bytes::Bytes,
    mime: HeaderValue,
    etag: HeaderValue,
    compressible: bool,
    gzip: OnceLock<bytes::Bytes>,
    br: OnceLock<bytes::Bytes>,
}

/// Keyed by content hash, so a debug build (which reads `web/` from disk) sees edits.
type Files = Mutex<HashMap<[u8; 32], Arc<StaticFile>>>;
static FILES: LazyLock<Files> = LazyLock::new(Default::default);

impl StaticFile {
    fn of(path: &str, f: rust_embed::EmbeddedFile) -> Arc<StaticFile> {
        let hash = f.metadata.sha256_hash();
        let mut files = FILES.lock().unwrap_or_else(|e| e.into_inner());
        files
            .entry(hash)
            .or_insert_with(|| {
                let mime = match path.rsplit('.').next() {
                    // Module scripts must be served as JavaScript or browsers refuse them.
                    Some("mjs") | Some("js") => "text/javascript; charset=utf-8",
                    Some("html") => "text/html; charset=utf-8",
                    Some("pbf") => "application/x-protobuf",
                    _ => f.metadata.mimetype(),
                };
                let hex: String = hash[..8].iter().map(|b| format!("{b:02x}")).collect();
                Arc::new(StaticFile {
                    compressible: compressible(mime),
                    mime: HeaderValue::from_str(mime)
                        .unwrap_or(HeaderValue::from_static("application/octet-stream")),
                    etag: HeaderValue::from_str(&format!("\"{hex}\""))
                        .unwrap_or(HeaderValue::from_static("\"\"")),
                    raw: match f.data {
                        std::borrow::Cow::Borrowed(b) => bytes::Bytes::from_static(b),
                        std::borrow::Cow::Owned(v) => bytes::Bytes::from(v),
                    },
                    gzip: OnceLock::new(),
                    br: OnceLock::new(),
                })
            })
            .clone()
    }

    /// The body in the best coding the client takes. Brotli at its top setting takes
    /// seconds on the largest file, so until it is made (in the background, once) a
    /// client that also takes gzip gets gzip, which is quick to make.
    async fn body(self: Arc<Self>, accepted: Accepted) -> (Coding, bytes::Bytes) {
        if !self.compressible || !(accepted.br || accepted.gzip) {
            return (Coding::Identity, self.raw.clone());
        }
        if accepted.br {
            if let Some(b) = self.br.get() {
                return (Coding::Brotli, b.clone());
            }
        }
        let coding = if accepted.gzip {
            if let Some(b) = self.gzip.get() {
                return (Coding::Gzip, b.clone());
            }
            Coding::Gzip
        } else {
            Coding::Brotli
        };
        if accepted.br && coding == Coding::Gzip {
            let f = self.clone();
            tokio::task::spawn_blocking(move || f.encoded(Coding::Brotli));
        }
        let f = self.clone();
        match tokio::task::spawn_blocking(move || f.encoded(coding)).await {
            Ok(b) => (coding, b),
            Err(_) => (Coding::Identity, self.raw.clone()),
        }
    }

    fn encoded(&self, coding: Coding) -> bytes::Bytes {
        let make = || compress(&self.raw, coding, Effort::Once);
        match coding {
            Coding::Identity => self.raw.clone(),
            Coding::Gzip => self.gzip.get_or_init(make).clone(),
            Coding::Brotli => self.br.get_or_init(make).clone(),
        }
    }
}

fn compressible(mime: &str) -> bool {
    mime.starts_with("text/")
        || mime.contains("javascript")
        || mime.contains("json")
        || mime.contains("svg")
        || mime == "application/x-protobuf"
}

/// Compresses the web app's files in the background so the first visitor after a start
/// gets brotli without waiting for it.
pub fn warm() {
    tokio::task::spawn_blocking(|| {
        for path in Web::iter() {
            if let Some(f) = Web::get(&path) {
                let file = StaticFile::of(&path, f);
                if file.compressible {
                    file.encoded(Coding::Gzip);
                    file.encoded(Coding::Brotli);
                }
            }
        }
    });
}

/// A style with its relative URLs made absolute for the origin the client used
/// (MapLibre resolves source and glyph URLs only when absolute).
async fn style(
    axum::extract::State(s): axum::extract::State<AppState>,
    Path(name): Path<String>,
    super::BaseUrl(base): super::BaseUrl,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::NotFound(format!("no style {name}"));
    let stem = name.strip_suffix(".json").ok_or_else(not_found)?;
    if stem.contains('/') || stem.contains("..") {
        return Err(not_found());
    }
    let f = Styles::get(&format!("{stem}.json")).ok_or_else(not_found)?;
    let mut style: Value = serde_json::from_slice(&f.data)
        .map_err(|e| ApiError::Internal(format!("style {stem}: {e}")))?;
    if s.has_basemap() && stem == "heritage" {
        with_basemap(&mut style)?;
    }
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
    // Web fonts MapLibre shapes complex scripts (Bengali) with: a URL, or a list of
    // `{url, unicode-range}` faces, per font stack.
    if let Some(faces) = style.get_mut("font-faces").and_then(Value::as_object_mut) {
        for face in faces.values_mut() {
            match face {
                Value::Array(list) => list
                    .iter_mut()
                    .filter_map(|f| f.get_mut("url"))
                    .for_each(&absolute),
                url => absolute(url),
            }
        }
    }
    Ok(([(header::CACHE_CONTROL, "no-cache")], axum::Json(style)).into_response())
}

/// The style with the street basemap under the register's layers: its source, and the
/// layers of `styles/basemap/layers.json` (made from `@protomaps/basemaps` by
/// `scripts/basemap-layers.mjs`) right above the style's own background.
fn with_basemap(style: &mut Value) -> Result<(), ApiError> {
    // 300 KB of JSON, read once per process rather than per page load.
    static LAYERS: LazyLock<Result<Vec<Value>, String>> = LazyLock::new(|| {
        let f = Styles::get("basemap/layers.json")
            .ok_or("styles/basemap/layers.json is not built in")?;
        serde_json::from_slice(&f.data).map_err(|e| format!("styles/basemap/layers.json: {e}"))
    });
    let layers = LAYERS.clone().map_err(ApiError::Internal)?;
    if let Some(sources) = style.get_mut("sources").and_then(Value::as_object_mut) {
        sources.insert(
            crate::tiles::archive::BASEMAP.into(),
            serde_json::json!({"type": "vector", "url": "/tiles/basemap.json"}),
        );
    }
    if let Some(own) = style.get_mut("layers").and_then(Value::as_array_mut) {
        let at = own
            .iter()
            .position(|l| l.get("type").and_then(Value::as_str) != Some("background"))
            .unwrap_or(own.len());
        own.splice(at..at, layers);
    }
    if let Some(m) = style.get_mut("metadata").and_then(Value::as_object_mut) {
        m.insert("heritage-atlas:basemap".into(), Value::Bool(true));
    }
    Ok(())
}

/// Glyph ranges. A comma-joined font stack takes the first font we have; a range or font
/// we lack is an empty 200, which MapLibre reads as "no glyphs here".
async fn glyphs(
    Path((fontstack, range)): Path<(String, String)>,
    headers: HeaderMap,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Response, ApiError> {
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
    let found = fontstack
        .split(',')
        .map(str::trim)
        .filter(|f| !f.contains('/') && !f.contains(".."))
        .map(|font| format!("{font}/{range}.pbf"))
        .find_map(|path| Some(StaticFile::of(&path, Fonts::get(&path)?)));
    let Some(file) = found else {
        return Ok((
            [
                (header::CONTENT_TYPE, "application/x-protobuf"),
                (header::CACHE_CONTROL, "public, max-age=86400"),
            ],
            Vec::new(),
        )
            .into_response());
    };
    Ok(send(file, &headers, "public, max-age=86400").await)
}
