//! PMTiles v3 archives served beside the register's tiles: the street basemap
//! (`serve --basemap`, an OpenStreetMap extract in the Protomaps schema) and archives
//! `tiles build` made (`serve --archive NAME=FILE`). Read through a memory map by the
//! `pmtiles` crate: a tile costs a directory lookup (directories cached once read) and a
//! copy of its bytes; the file is never read whole. The file must not change while served.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use pmtiles::{AsyncPmTilesReader, Compression, HashMapCache, MmapBackend, TileCoord, TileType};
use serde_json::{json, Value};

/// The attribution OpenStreetMap's licence (ODbL) asks for, given to the basemap when its
/// metadata names none.
pub const OSM_ATTRIBUTION: &str =
    "<a href=\"https://www.openstreetmap.org/copyright\">© OpenStreetMap contributors</a>";

/// The name the basemap is served under (`/tiles/basemap/…`).
pub const BASEMAP: &str = "basemap";

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("{path}: {reason}")]
    Open { path: String, reason: String },
    #[error("reading the archive: {0}")]
    Read(#[from] pmtiles::PmtError),
}

/// Checks a name for `serve --archive NAME=FILE`: URL-safe, and not a name the
/// register's tiles are served under (a layer or list of layers) nor the basemap's.
pub fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    {
        return Err(format!(
            "archive name {name:?}: 1–64 of a–z, 0–9, - and _ (it goes in URLs)"
        ));
    }
    if name == BASEMAP || super::LayerSet::parse(name).is_ok() {
        return Err(format!(
            "archive name {name:?} is taken: the register's tiles or the basemap are served under it"
        ));
    }
    Ok(())
}

/// One open archive.
pub struct Archive {
    pub name: String,
    pub path: PathBuf,
    reader: AsyncPmTilesReader<MmapBackend, HashMapCache>,
    /// How the tiles are stored: gzip (what Protomaps builds and `tiles build` write) or
    /// uncompressed.
    pub gzipped: bool,
    /// The archive's metadata (a TileJSON-like object: `vector_layers`, `attribution` …).
    pub metadata: Value,
    pub minzoom: u8,
    pub maxzoom: u8,
    pub bounds: [f64; 4],
    pub center: [f64; 3],
    /// The file's ETag (its size and time of change): the `pmtiles` JavaScript reader
    /// checks it between range requests, to notice a file replaced under it.
    pub file_etag: String,
}

impl std::fmt::Debug for Archive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Archive")
            .field("name", &self.name)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Archive {
    /// Opens the vector-tile archive at `path`, to be served as `name`.
    pub async fn open(name: &str, path: &Path) -> Result<Archive, ArchiveError> {
        let fail = |reason: String| ArchiveError::Open {
            path: path.display().to_string(),
            reason,
        };
        let reader = AsyncPmTilesReader::new_with_cached_path(HashMapCache::default(), path)
            .await
            .map_err(|e| fail(format!("not a PMTiles v3 archive we can read ({e})")))?;
        let h = reader.get_header();
        if h.tile_type != TileType::Mvt {
            return Err(fail(format!(
                "holds {:?} tiles; only vector tiles (MVT) are served",
                h.tile_type
            )));
        }
        let gzipped = match h.tile_compression {
            Compression::Gzip => true,
            Compression::None => false,
            other => {
                return Err(fail(format!(
                    "its tiles are compressed with {other:?}; gzip or none are served \
                     (`pmtiles convert` can recompress)"
                )))
            }
        };
        let metadata = match reader.get_metadata().await {
            Ok(m) => serde_json::from_str::<Value>(&m)
                .ok()
                .filter(Value::is_object)
                .unwrap_or_else(|| json!({})),
            Err(_) => json!({}),
        };
        let (minzoom, maxzoom) = (h.min_zoom, h.max_zoom);
        let bounds = [
            h.min_longitude,
            h.min_latitude,
            h.max_longitude,
            h.max_latitude,
        ];
        let center = [
            h.center_longitude,
            h.center_latitude,
            f64::from(h.center_zoom),
        ];
        let meta = std::fs::metadata(path).map_err(|e| fail(e.to_string()))?;
        let changed = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        let file_etag = format!("\"{:x}-{changed:x}\"", meta.len());
        Ok(Archive {
            file_etag,
            name: name.to_string(),
            path: path.to_path_buf(),
            reader,
            gzipped,
            metadata,
            minzoom,
            maxzoom,
            bounds,
            center,
        })
    }

    /// The tile's bytes as stored (gzip if [`Archive::gzipped`]); `None` if the archive
    /// has no such tile (empty, or beyond its zooms).
    pub async fn tile(&self, z: u8, x: u32, y: u32) -> Result<Option<Bytes>, ArchiveError> {
        let Ok(coord) = TileCoord::new(z, x, y) else {
            return Ok(None);
        };
        Ok(self.reader.get_tile(coord).await?)
    }

    /// The attribution to show with the archive's tiles: its own, else for the basemap
    /// OpenStreetMap's.
    pub fn attribution(&self) -> Option<String> {
        let own = self
            .metadata
            .get("attribution")
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty());
        match own {
            Some(a) => Some(a.to_string()),
            None if self.name == BASEMAP => Some(OSM_ATTRIBUTION.to_string()),
            None => None,
        }
    }
}
