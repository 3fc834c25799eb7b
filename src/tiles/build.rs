//! `tiles build`: every non-empty tile of the register, over a box and a zoom range, into
//! one PMTiles v3 archive (gzip tiles, TileJSON metadata) that any static host or CDN can
//! serve and MapLibre reads through the `pmtiles://` protocol.
//!
//! Tiles are drawn by [`super::render`], the server's own renderer, so a tile of the
//! archive is byte for byte the server's (uncompressed). Zooms are built in order; a tile
//! is visited only if anything of the layers meets its parent's buffered box (a child's
//! buffered box lies inside its parent's), which keeps a country-wide layer's z12 to the
//! tiles that hold water. That is asked of the index, not of the drawn parent: a parent
//! can draw empty while a child does not (a polygon too thin to keep a unit of area at
//! the parent's zoom is drawn at the child's). Within a zoom, tiles are drawn in batches
//! on every core and written in PMTiles' Hilbert order.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use pmtiles::{Compression, PmTilesWriter, TileId, TileType};

use super::cache::{compress, Coding, Effort};
use super::{render, LayerSet, TileCoord};
use crate::index::Index;

/// What to build.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    pub layers: LayerSet,
    pub minzoom: u8,
    pub maxzoom: u8,
    /// West, south, east, north.
    pub bbox: [f64; 4],
    /// Threads drawing tiles.
    pub threads: usize,
    /// Metadata fields beside the layers (name, description, attribution …).
    pub metadata: serde_json::Map<String, serde_json::Value>,
}

/// What was built, per zoom.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct ZoomReport {
    pub zoom: u8,
    /// Tiles drawn.
    pub visited: usize,
    /// Tiles written (non-empty).
    pub tiles: usize,
    /// Their bytes, gzip.
    pub bytes: u64,
}

/// Tiles drawn in one go per thread pool round: bounded memory whatever the zoom.
const BATCH: usize = 2048;

/// Builds the archive at `out`; `progress` is told of each tile drawn. A build that fails,
/// or finds nothing to draw in the box, leaves no file.
pub fn build(
    index: &Index,
    opts: &BuildOptions,
    out: &Path,
    progress: &(dyn Fn(u64) + Sync),
) -> anyhow::Result<Vec<ZoomReport>> {
    let built = write(index, opts, out, progress).and_then(|reports| {
        anyhow::ensure!(
            reports.iter().any(|r| r.tiles > 0),
            "no tile held anything: the layers {} are empty in the box {:?}",
            opts.layers.name(),
            opts.bbox
        );
        Ok(reports)
    });
    if built.is_err() {
        let _ = std::fs::remove_file(out);
    }
    built
}

fn write(
    index: &Index,
    opts: &BuildOptions,
    out: &Path,
    progress: &(dyn Fn(u64) + Sync),
) -> anyhow::Result<Vec<ZoomReport>> {
    anyhow::ensure!(
        opts.minzoom <= opts.maxzoom && opts.maxzoom <= super::MAX_ZOOM,
        "zooms {}–{}: the first must not pass the last, nor the last {}",
        opts.minzoom,
        opts.maxzoom,
        super::MAX_ZOOM
    );
    let [w, s, e, n] = opts.bbox;
    let center = ((w + e) / 2.0, (s + n) / 2.0);
    let mut metadata = opts.metadata.clone();
    metadata.insert(
        "vector_layers".into(),
        serde_json::to_value(super::vector_layers(opts.layers))?,
    );
    let file = File::create(out)?;
    let mut writer = PmTilesWriter::new(TileType::Mvt)
        .precompressed(Compression::Gzip)
        .min_zoom(opts.minzoom)
        .max_zoom(opts.maxzoom)
        .bounds(w, s, e, n)
        .center(center.0, center.1)
        .center_zoom(opts.minzoom.max(opts.maxzoom.min(14)))
        .metadata(serde_json::Value::Object(metadata).to_string())
        .create(BufWriter::new(file))?;
    let mut reports = Vec::new();
    // The tiles to visit at the current zoom.
    let mut todo = covering(opts.bbox, opts.minzoom);
    for z in opts.minzoom..=opts.maxzoom {
        todo.sort_unstable_by_key(|t| hilbert(*t));
        let mut report = ZoomReport {
            zoom: z,
            visited: todo.len(),
            ..Default::default()
        };
        for batch in todo.chunks(BATCH) {
            let drawn = draw(index, opts.layers, batch, opts.threads, progress);
            for (t, gz) in batch.iter().zip(drawn) {
                let Some(gz) = gz else { continue };
                writer.add_tile(pmtiles::TileCoord::new(t.z, t.x, t.y)?, &gz)?;
                report.tiles += 1;
                report.bytes += gz.len() as u64;
            }
        }
        reports.push(report);
        if z < opts.maxzoom {
            let inside = covering_range(opts.bbox, z + 1);
            todo = todo
                .iter()
                .filter(|t| index.any_in(opts.layers, &t.lonlat_bounds(super::BUFFER)))
                .flat_map(|t| children(*t))
                .filter(|c| {
                    let (x0, x1, y0, y1) = inside;
                    (x0..=x1).contains(&c.x) && (y0..=y1).contains(&c.y)
                })
                .collect();
        }
    }
    writer.finalize()?;
    Ok(reports)
}

/// Draws `tiles` on `threads` threads: each one's gzip bytes, `None` if empty.
fn draw(
    index: &Index,
    layers: LayerSet,
    tiles: &[TileCoord],
    threads: usize,
    progress: &(dyn Fn(u64) + Sync),
) -> Vec<Option<Bytes>> {
    let next = AtomicUsize::new(0);
    let drawn: Vec<Vec<(usize, Bytes)>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.clamp(1, 256))
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(t) = tiles.get(i) else { break mine };
                        let r = render(index, layers, *t);
                        if !r.bytes.is_empty() {
                            mine.push((i, compress(&r.bytes, Coding::Gzip, Effort::Once)));
                        }
                        progress(1);
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    let mut out = vec![None; tiles.len()];
    for (i, gz) in drawn.into_iter().flatten() {
        out[i] = Some(gz);
    }
    out
}

/// The tiles of zoom `z` covering `bbox`.
pub fn covering(bbox: [f64; 4], z: u8) -> Vec<TileCoord> {
    let (x0, x1, y0, y1) = covering_range(bbox, z);
    let mut v = Vec::with_capacity(((x1 - x0 + 1) as usize) * ((y1 - y0 + 1) as usize));
    for x in x0..=x1 {
        for y in y0..=y1 {
            v.push(TileCoord { z, x, y });
        }
    }
    v
}

/// The columns and rows of zoom `z` covering `bbox`: `(x0, x1, y0, y1)`, inclusive.
fn covering_range([w, s, e, n]: [f64; 4], z: u8) -> (u32, u32, u32, u32) {
    let nw = TileCoord::containing(w, n, z);
    let se = TileCoord::containing(e, s, z);
    (nw.x, se.x, nw.y, se.y)
}

fn children(t: TileCoord) -> [TileCoord; 4] {
    let (z, x, y) = (t.z + 1, t.x * 2, t.y * 2);
    [
        TileCoord { z, x, y },
        TileCoord { z, x: x + 1, y },
        TileCoord { z, x, y: y + 1 },
        TileCoord {
            z,
            x: x + 1,
            y: y + 1,
        },
    ]
}

/// PMTiles' tile id: the order tiles are best written in.
pub(super) fn hilbert(t: TileCoord) -> u64 {
    pmtiles::TileCoord::new(t.z, t.x, t.y)
        .map(|c| TileId::from(c).value())
        .unwrap_or(u64::MAX)
}
