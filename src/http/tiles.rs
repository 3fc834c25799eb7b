//! `GET /tiles/{layers}/{z}/{x}/{y}.mvt` and `GET /tiles/{layers}.json` (TileJSON 3.0).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tilejson::{Bounds, Center, TileJSON, VectorLayer};

use super::{ApiError, AppState};
use crate::tiles::archive::Archive;
use crate::tiles::cache::{CachedTile, Coding, TileKey};
use crate::tiles::{self, LayerSet, TileCoord, MAX_ZOOM};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tiles/{layers}/{z}/{x}/{y}", get(tile))
        .route("/tiles/{tilejson}", get(tilejson))
        .route("/archives/{file}", get(archive_file))
}

const MVT: &str = "application/vnd.mapbox-vector-tile";

fn layer_set(s: &str) -> Result<LayerSet, ApiError> {
    LayerSet::parse(s).map_err(|e| ApiError::NotFound(format!("no such tile layer: {e}")))
}

/// The query parameters a tile takes: `v`, any value, which clients add to ask past
/// their HTTP cache after a change (the web app does after a report or an inspection),
/// and `as_of`, the register as it stood then. Anything else is refused, as everywhere.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TileParams {
    #[allow(dead_code)]
    v: Option<String>,
    as_of: Option<String>,
}

async fn tile(
    State(s): State<AppState>,
    Path((layers, z, x, y)): Path<(String, String, String, String)>,
    super::Params(p): super::Params<TileParams>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(a) = s.archives.get(&layers) {
        if p.as_of.is_some() {
            return Err(ApiError::param(format!(
                "as_of: the archive {layers} holds one state of the map"
            )));
        }
        return archive_tile(&s, a, (&z, &x, &y), &headers).await;
    }
    let layers = layer_set(&layers)?;
    let as_of = p
        .as_of
        .as_deref()
        .map(|v| {
            if layers.has_complaints() {
                return Err(ApiError::param(
                    "as_of: complaints are not versioned; ask for the asset layers only",
                ));
            }
            crate::model::as_of_instant(v).map_err(|e| ApiError::param(e.to_string()))
        })
        .transpose()?;
    let coord = tile_coord(&z, &x, &y)?;
    let key = TileKey {
        layers,
        tile: coord,
    };

    let coding = Accepted::of(&headers).best();
    let atlas = s.atlas.clone();
    let past = match &as_of {
        Some(t) => {
            let wanted: Vec<_> = layers.layers().collect();
            atlas.register_at(t, &wanted).await?
        }
        None => None,
    };
    let is_past = past.is_some();
    let cached = match (past, atlas.tiles().get(&key)) {
        // A past register: drawn for this request (the cache holds today's tiles).
        (Some(index), _) => tokio::task::spawn_blocking(move || draw(&index, key, coding))
            .await
            .map_err(|e| ApiError::Internal(format!("tile render failed: {e}")))?,
        (None, Some(t)) => t,
        (None, None) => match draw_here(&atlas, key, coding)? {
            Some(t) => t,
            None => draw_elsewhere(&atlas, key, coding).await?,
        },
    };

    let h = match tile_head(&s, layers, &cached, is_past, &headers) {
        Head::Body(h) => h,
        Head::Done(done) => return Ok(done),
    };
    let body = encoded(&cached, coding).await?;
    Ok(tile_body(h, coding, body))
}

/// Tile `key` drawn from `index` and compressed for `coding`, ready to send.
fn draw(index: &crate::index::Index, key: TileKey, coding: Coding) -> Arc<CachedTile> {
    let t = Arc::new(CachedTile::new(tiles::render(index, key.layers, key.tile)));
    t.encoded(coding);
    t
}

/// Draws today's tile `key` where it is asked for, if few features could be in it
/// ([`tiles::few_to_draw`]), compressed for `coding`, and caches it; `Ok(None)` for a
/// tile to draw elsewhere ([`draw_elsewhere`]). A panic while drawing is this request's
/// 500, as on the blocking pool, not the connection's end.
pub(super) fn draw_here(
    atlas: &Arc<crate::atlas::Atlas>,
    key: TileKey,
    coding: Coding,
) -> Result<Option<Arc<CachedTile>>, ApiError> {
    let epoch = atlas.tiles().epoch();
    let index = atlas.index();
    if !tiles::few_to_draw(index, key.layers, key.tile) {
        return Ok(None);
    }
    let t = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| draw(index, key, coding)))
        .map_err(|_| ApiError::Internal("tile render failed".into()))?;
    atlas.tiles().insert(key, t.clone(), epoch);
    Ok(Some(t))
}

/// Draws today's tile `key` on the blocking pool (drawing and compressing a city-wide
/// tile is milliseconds of CPU: off the async workers), compressed for `coding`, and
/// caches it unless a write landed meanwhile.
pub(super) async fn draw_elsewhere(
    atlas: &Arc<crate::atlas::Atlas>,
    key: TileKey,
    coding: Coding,
) -> Result<Arc<CachedTile>, ApiError> {
    let epoch = atlas.tiles().epoch();
    let a = atlas.clone();
    let drawn = tokio::task::spawn_blocking(move || draw(a.index(), key, coding))
        .await
        .map_err(|e| ApiError::Internal(format!("tile render failed: {e}")))?;
    atlas.tiles().insert(key, drawn.clone(), epoch);
    Ok(drawn)
}

/// A tile's bytes in `coding` if they are kept, or small enough to compress right here
/// (up to [`COMPRESS_HERE_BYTES`]); `None` for a large tile not yet in that coding.
pub(super) fn encoded_here(t: &CachedTile, coding: Coding) -> Option<bytes::Bytes> {
    t.ready(coding)
        .or_else(|| (t.raw.len() <= COMPRESS_HERE_BYTES).then(|| t.encoded(coding)))
}

/// A tile's bytes in `coding`: [`encoded_here`], else compressed on the blocking pool.
pub(super) async fn encoded(t: &Arc<CachedTile>, coding: Coding) -> Result<bytes::Bytes, ApiError> {
    if let Some(b) = encoded_here(t, coding) {
        return Ok(b);
    }
    let t = t.clone();
    tokio::task::spawn_blocking(move || t.encoded(coding))
        .await
        .map_err(|e| ApiError::Internal(format!("tile compression failed: {e}")))
}

/// Tiles up to this size are compressed where they are asked for (tens of microseconds).
const COMPRESS_HERE_BYTES: usize = 16 << 10;

/// `Cache-Control` of a tile: the past does not change (an `as_of` not yet past is
/// today's register); a tile holding complaints gets the shorter of the two ages.
pub(super) fn cache_control(s: &AppState, complaints: bool, past: bool) -> HeaderValue {
    if past {
        return HeaderValue::from_static("public, max-age=31536000, immutable");
    }
    let max_age = if complaints {
        s.complaints_max_age.min(s.tile_max_age)
    } else {
        s.tile_max_age
    };
    HeaderValue::from_str(&format!("public, max-age={max_age}"))
        .unwrap_or(HeaderValue::from_static("no-cache"))
}

/// The headers of a drawn tile's answer before its body, or the whole answer when it has
/// none: `304` when the client's copy is current, `204` when the tile is empty. Shared by
/// the routed handler and the hot path ([`super::hot`]), so both answer alike.
pub(super) fn tile_head(
    s: &AppState,
    layers: LayerSet,
    t: &CachedTile,
    past: bool,
    request: &HeaderMap,
) -> Head {
    tile_head_with(cache_control(s, layers.has_complaints(), past), t, request)
}

/// [`tile_head`] with its `Cache-Control` made already.
pub(super) fn tile_head_with(cc: HeaderValue, t: &CachedTile, request: &HeaderMap) -> Head {
    let mut h = HeaderMap::with_capacity(16);
    h.insert(header::CACHE_CONTROL, cc);
    h.insert(
        header::ETAG,
        HeaderValue::from_maybe_shared(t.etag.clone()).unwrap_or(HeaderValue::from_static("\"\"")),
    );
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if t.dropped > 0 {
        h.insert("x-features-dropped", HeaderValue::from(t.dropped));
    }
    if etag_matches(request, t.etag_str()) {
        return Head::Done((StatusCode::NOT_MODIFIED, h).into_response());
    }
    if t.is_empty() {
        return Head::Done((StatusCode::NO_CONTENT, h).into_response());
    }
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(MVT));
    Head::Body(h)
}

/// A drawn tile's answer before its body ([`tile_head`]).
pub(super) enum Head {
    /// 200: these headers, then the tile's bytes ([`tile_body`]).
    Body(HeaderMap),
    /// 304 or 204: the whole answer.
    Done(Response),
}

/// A tile's `200` answer: its head ([`tile_head`]) and its bytes in `coding`.
pub(super) fn tile_body(mut h: HeaderMap, coding: Coding, body: bytes::Bytes) -> Response {
    set_coding(&mut h, coding);
    (StatusCode::OK, h, body).into_response()
}

/// The tile `z/x/y` of a request path (`y` with or without `.mvt` or `.pbf`).
pub(super) fn tile_coord(z: &str, x: &str, y: &str) -> Result<TileCoord, ApiError> {
    let y = y
        .strip_suffix(".mvt")
        .or_else(|| y.strip_suffix(".pbf"))
        .unwrap_or(y);
    let bad = || {
        ApiError::BadRequest(format!(
            "no tile {z}/{x}/{y}: zoom must be 0–{MAX_ZOOM} and x, y below 2^zoom"
        ))
    };
    let (zn, xn, yn) = (
        z.parse::<u8>().map_err(|_| bad())?,
        x.parse::<u32>().map_err(|_| bad())?,
        y.parse::<u32>().map_err(|_| bad())?,
    );
    TileCoord::new_checked(zn, xn, yn).ok_or_else(bad)
}

/// A tile of a PMTiles archive, as stored when the client takes its coding (gzip), else
/// decompressed; with a content ETag, and `204` where the archive has no tile (empty, or
/// past its zooms: MapLibre draws from the tile above).
async fn archive_tile(
    s: &AppState,
    a: &Archive,
    (z, x, y): (&str, &str, &str),
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let t = tile_coord(z, x, y)?;
    let stored = a
        .tile(t.z, t.x, t.y)
        .await
        .map_err(|e| ApiError::Internal(format!("archive {}: {e}", a.name)))?;
    let mut h = HeaderMap::new();
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_str(&format!("public, max-age={}", s.tile_max_age))
            .unwrap_or(HeaderValue::from_static("no-cache")),
    );
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    let Some(stored) = stored.filter(|b| !b.is_empty()) else {
        return Ok((StatusCode::NO_CONTENT, h).into_response());
    };
    let etag = format!("\"{:016x}\"", crate::tiles::cache::content_hash(&stored));
    h.insert(
        header::ETAG,
        HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"\"")),
    );
    if etag_matches(headers, &etag) {
        return Ok((StatusCode::NOT_MODIFIED, h).into_response());
    }
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(MVT));
    let accepted = Accepted::of(headers);
    let body = if !a.gzipped {
        let coding = accepted.best();
        let body = tokio::task::spawn_blocking(move || {
            crate::tiles::cache::compress(&stored, coding, crate::tiles::cache::Effort::OnDemand)
        })
        .await
        .map_err(|e| ApiError::Internal(format!("tile compression failed: {e}")))?;
        set_coding(&mut h, coding);
        body
    } else if accepted.gzip {
        set_coding(&mut h, Coding::Gzip);
        stored
    } else {
        let name = a.name.clone();
        tokio::task::spawn_blocking(move || gunzip(&stored))
            .await
            .map_err(|e| ApiError::Internal(format!("tile decompression failed: {e}")))?
            .map_err(|e| ApiError::Internal(format!("archive {name}: a tile is not gzip: {e}")))?
    };
    Ok((StatusCode::OK, h, body).into_response())
}

/// Ungzips a stored tile, up to [`tiles::MAX_TILE_BYTES`] × 8 (a basemap tile is tens of
/// KB; a bomb in an archive stops there).
fn gunzip(b: &[u8]) -> std::io::Result<bytes::Bytes> {
    use std::io::Read;
    let mut out = Vec::new();
    let limit = (tiles::MAX_TILE_BYTES * 8) as u64;
    flate2::read::GzDecoder::new(b)
        .take(limit + 1)
        .read_to_end(&mut out)?;
    if out.len() as u64 > limit {
        return Err(std::io::Error::other("larger than any tile"));
    }
    Ok(out.into())
}

/// Whether the client's `If-None-Match` names `etag` (or `*`).
pub(super) fn etag_matches(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
}

/// Says the answer's coding in `Content-Encoding` (none for identity).
pub(super) fn set_coding(h: &mut HeaderMap, coding: Coding) {
    match coding {
        Coding::Brotli => h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("br")),
        Coding::Gzip => h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip")),
        Coding::Identity => None,
    };
}

/// An archive's file, as a CDN would serve it (ranges, `Last-Modified`): what MapLibre's
/// `pmtiles://` protocol reads.
async fn archive_file(
    State(s): State<AppState>,
    Path(file): Path<String>,
    req: axum::extract::Request,
) -> Result<Response, ApiError> {
    let a = file
        .strip_suffix(".pmtiles")
        .and_then(|name| s.archives.get(name))
        .ok_or_else(|| ApiError::NotFound(format!("no archive {file}")))?;
    use tower::ServiceExt;
    let r = tower_http::services::ServeFile::new_with_mime(
        &a.path,
        &"application/vnd.pmtiles"
            .parse()
            .unwrap_or(mime::APPLICATION_OCTET_STREAM),
    )
    .oneshot(req)
    .await
    .map_err(|e| ApiError::Internal(format!("archive {}: {e}", a.name)))?;
    let mut r = r.map(axum::body::Body::new);
    if r.status().is_success() {
        if let Ok(v) = HeaderValue::from_str(&a.file_etag) {
            r.headers_mut().insert(header::ETAG, v);
        }
    }
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_str(&format!("public, max-age={}", s.tile_max_age))
            .unwrap_or(HeaderValue::from_static("no-cache")),
    );
    Ok(r)
}

/// The compressed codings an `Accept-Encoding` header allows (identity always is).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Accepted {
    pub br: bool,
    pub gzip: bool,
}

impl Accepted {
    /// What the request's `Accept-Encoding` allows.
    pub(super) fn of(headers: &HeaderMap) -> Accepted {
        Accepted::from_bytes(
            headers
                .get(header::ACCEPT_ENCODING)
                .map_or(&[][..], |v| v.as_bytes()),
        )
    }

    /// What an `Accept-Encoding` value allows; a value with a character that is not
    /// visible ASCII allows nothing but identity (as `HeaderValue::to_str` refuses it).
    pub(super) fn from_bytes(value: &[u8]) -> Accepted {
        let visible = |b: &u8| *b == b'\t' || (32..127).contains(b);
        match std::str::from_utf8(value) {
            Ok(s) if value.iter().all(visible) => Accepted::from(s),
            _ => Accepted::default(),
        }
    }

    /// Brotli, then gzip, then identity, by what is allowed (`q=0` refuses).
    pub(super) fn best(self) -> Coding {
        if self.br {
            Coding::Brotli
        } else if self.gzip {
            Coding::Gzip
        } else {
            Coding::Identity
        }
    }
}

impl From<&str> for Accepted {
    fn from(accept: &str) -> Accepted {
        let mut a = Accepted::default();
        for item in accept.split(',') {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or("").trim();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if q <= 0.0 {
                continue;
            }
            if name.eq_ignore_ascii_case("br") {
                a.br = true;
            } else if name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip") {
                a.gzip = true;
            }
        }
        a
    }
}

async fn tilejson(
    State(s): State<AppState>,
    Path(file): Path<String>,
    super::BaseUrl(base): super::BaseUrl,
    super::Params(_): super::Params<TileParams>,
) -> Result<Json<TileJSON>, ApiError> {
    let name = file
        .strip_suffix(".json")
        .ok_or_else(|| ApiError::NotFound(format!("no such resource: /tiles/{file}")))?;
    if let Some(a) = s.archives.get(name) {
        return Ok(Json(archive_tilejson(a, &base)));
    }
    let layers = layer_set(name)?;
    let [w, so, e, n] = s
        .atlas
        .index()
        .extent_of(layers)
        .unwrap_or(crate::model::KMC_BOUNDS);
    let vector_layers = tiles::vector_layers(layers);
    Ok(Json(tilejson::tilejson! {
        tiles: vec![format!("{base}/tiles/{}/{{z}}/{{x}}/{{y}}.mvt", layers.name())],
        name: format!("heritage-atlas: {}", layers.name()),
        description: format!(
            "Kolkata Environment & Heritage register. Polygons smaller than {} px become points; below z{} points are thinned to one per pixel; features are dropped smallest-first to keep any tile under {} KB (the X-Features-Dropped header counts them).",
            tiles::COLLAPSE_UNITS / 8.0, tiles::THIN_BELOW_ZOOM, tiles::MAX_TILE_BYTES / 1024),
        attribution: tiles::ATTRIBUTION.to_string(),
        scheme: "xyz".to_string(),
        minzoom: 0,
        maxzoom: MAX_ZOOM,
        bounds: Bounds::new(w, so, e, n),
        center: Center::new((w + e) / 2.0, (so + n) / 2.0, 12),
        vector_layers: vector_layers,
    }))
}

/// An archive's TileJSON: its zooms, bounds and centre from the header, its layers and
/// attribution from its metadata.
fn archive_tilejson(a: &Archive, base: &str) -> TileJSON {
    let [w, so, e, n] = a.bounds;
    let mut tj = tilejson::tilejson! {
        tiles: vec![format!("{base}/tiles/{}/{{z}}/{{x}}/{{y}}.mvt", a.name)],
        name: a.metadata.get("name").and_then(|v| v.as_str()).unwrap_or(&a.name).to_string(),
        scheme: "xyz".to_string(),
        minzoom: a.minzoom,
        maxzoom: a.maxzoom,
        bounds: Bounds::new(w, so, e, n),
        center: Center::new(a.center[0], a.center[1], a.center[2] as u8),
    };
    tj.attribution = a.attribution();
    tj.description = a
        .metadata
        .get("description")
        .and_then(|v| v.as_str())
        .map(str::to_string);
    tj.vector_layers = a
        .metadata
        .get("vector_layers")
        .and_then(|v| serde_json::from_value::<Vec<VectorLayer>>(v.clone()).ok());
    tj
}
