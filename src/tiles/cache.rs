//! The tile cache: encoded tiles (raw, with gzip/brotli forms made on demand, and their
//! ETag) in memory, bounded in bytes (moka), invalidated exactly where a write touched.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use geo::Intersects;
use geo_types::Rect;
use moka::sync::Cache;

use super::{LayerSet, Rendered, TileCoord, BUFFER};

/// A tile ready to send. Compressed forms are made on first demand and kept: a browser
/// asks for brotli, a tile server in front of us may ask for gzip, a load tool for
/// neither, and nobody pays for an encoding nobody asked for.
#[derive(Debug)]
pub struct CachedTile {
    pub raw: bytes::Bytes,
    gzip: std::sync::OnceLock<bytes::Bytes>,
    br: std::sync::OnceLock<bytes::Bytes>,
    /// Strong validator of the content (the hash of `raw`, in quotes).
    pub etag: String,
    pub dropped: usize,
}

/// Content codings we serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    Identity,
    Gzip,
    Brotli,
}

impl CachedTile {
    pub fn new(r: Rendered) -> CachedTile {
        let etag = format!("\"{:016x}\"", fnv1a(&r.bytes));
        CachedTile {
            raw: bytes::Bytes::from(r.bytes),
            gzip: Default::default(),
            br: Default::default(),
            etag,
            dropped: r.dropped,
        }
    }

    /// The tile's bytes in the given coding if they need no compressing now.
    pub fn ready(&self, coding: Coding) -> Option<bytes::Bytes> {
        match coding {
            Coding::Identity => Some(self.raw.clone()),
            Coding::Gzip => self.gzip.get().cloned(),
            Coding::Brotli => self.br.get().cloned(),
        }
    }

    /// The tile's bytes in the given coding (made once, then kept). Compressing is CPU
    /// work: call it off the async workers.
    pub fn encoded(&self, coding: Coding) -> bytes::Bytes {
        match coding {
            Coding::Identity => self.raw.clone(),
            Coding::Gzip => self
                .gzip
                .get_or_init(|| compress(&self.raw, coding, Effort::OnDemand))
                .clone(),
            Coding::Brotli => self
                .br
                .get_or_init(|| compress(&self.raw, coding, Effort::OnDemand))
                .clone(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }
}

/// How hard to compress: tiles are compressed on demand, per request that misses the
/// cache; static files once per process, so they get the top settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effort {
    OnDemand,
    Once,
}

/// `raw` in the given coding.
pub fn compress(raw: &[u8], coding: Coding, effort: Effort) -> bytes::Bytes {
    match coding {
        Coding::Identity => bytes::Bytes::copy_from_slice(raw),
        Coding::Gzip => {
            let level = match effort {
                Effort::OnDemand => flate2::Compression::fast(),
                Effort::Once => flate2::Compression::best(),
            };
            let mut enc = flate2::write::GzEncoder::new(Vec::with_capacity(raw.len() / 2), level);
            // Writing to a Vec cannot fail.
            let _ = enc.write_all(raw);
            enc.finish().map(bytes::Bytes::from).unwrap_or_default()
        }
        Coding::Brotli => {
            // Quality 5 on demand: most of brotli's gain over gzip at a fraction of the cost
            // of its top settings. 11 once: seconds for MapLibre's 1.1 MB, paid once.
            let quality = match effort {
                Effort::OnDemand => 5,
                Effort::Once => 11,
            };
            let mut out = Vec::with_capacity(raw.len() / 2);
            {
                let mut w = brotli::CompressorWriter::new(&mut out, 4096, quality, 22);
                let _ = w.write_all(raw);
            }
            bytes::Bytes::from(out)
        }
    }
}

/// FNV-1a 64: a stable content hash for ETags (same bytes, same tag, across restarts).
pub fn fnv1a(b: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for x in b {
        h ^= u64::from(*x);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TileKey {
    pub layers: LayerSet,
    pub tile: TileCoord,
}

/// Cache plus a write epoch: a tile drawn while a write was landing is served but not
/// cached, so a stale tile never outlives the invalidation that raced it.
pub struct TileCache {
    cache: Option<Cache<TileKey, Arc<CachedTile>>>,
    epoch: AtomicU64,
    hits: AtomicU64,
    misses: AtomicU64,
}

/// What `/metrics` reports of the cache.
#[derive(Debug, Clone, Copy, Default)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
    pub entries: u64,
    pub weighted_bytes: u64,
    pub invalidations: u64,
}

impl std::fmt::Debug for TileCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TileCache")
            .field("entries", &self.cache.as_ref().map(|c| c.entry_count()))
            .finish()
    }
}

impl TileCache {
    /// A cache of at most `max_bytes` of tiles; 0 turns caching off.
    pub fn new(max_bytes: u64) -> TileCache {
        let cache = (max_bytes > 0).then(|| {
            Cache::builder()
                .max_capacity(max_bytes)
                .weigher(|_k: &TileKey, v: &Arc<CachedTile>| {
                    // Raw bytes, room for one compressed form (about half), bookkeeping.
                    (v.raw.len() * 3 / 2 + 128).try_into().unwrap_or(u32::MAX)
                })
                .support_invalidation_closures()
                .build()
        });
        TileCache {
            cache,
            epoch: AtomicU64::new(0),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    pub fn get(&self, k: &TileKey) -> Option<Arc<CachedTile>> {
        let found = self.cache.as_ref().and_then(|c| c.get(k));
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    pub fn stats(&self) -> CacheStats {
        // moka counts lazily; settle its books first so the numbers are current.
        if let Some(c) = &self.cache {
            c.run_pending_tasks();
        }
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            entries: self.cache.as_ref().map_or(0, |c| c.entry_count()),
            weighted_bytes: self.cache.as_ref().map_or(0, |c| c.weighted_size()),
            // Every write that touched tiles bumped the epoch once.
            invalidations: self.epoch(),
        }
    }

    /// Caches a tile drawn at `epoch`, unless a write has landed since.
    pub fn insert(&self, k: TileKey, v: Arc<CachedTile>, epoch: u64) {
        if let Some(c) = &self.cache {
            if self.epoch() == epoch {
                c.insert(k, v);
            }
        }
    }

    /// Drops every cached tile, at any zoom, that shows one of `layers` and whose
    /// buffered bounds meet one of `boxes` (lon/lat): the old and the new place of what
    /// changed.
    pub fn invalidate(&self, layers: LayerSet, boxes: &[Rect<f64>]) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        let Some(c) = &self.cache else { return };
        let boxes: Vec<Rect<f64>> = boxes.to_vec();
        let result = c.invalidate_entries_if(move |k, _| {
            if !k.layers.meets(layers) {
                return false;
            }
            let t = k.tile.lonlat_bounds(BUFFER);
            boxes.iter().any(|b| b.intersects(&t))
        });
        if let Err(e) = result {
            // Only fails if closures were not enabled at build time, which they are; be
            // safe rather than stale.
            tracing::warn!("selective invalidation failed ({e}); clearing the tile cache");
            c.invalidate_all();
        }
    }

    pub fn contains(&self, k: &TileKey) -> bool {
        self.cache.as_ref().is_some_and(|c| c.contains_key(k))
    }
}
