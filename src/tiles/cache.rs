//! The tile cache: encoded tiles (raw, with gzip/brotli forms made on demand, and their
//! ETag) in memory, bounded in bytes (quick_cache), invalidated exactly where a write touched.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use geo::Intersects;
use geo_types::Rect;

use super::{LayerSet, Rendered, TileCoord, BUFFER};

/// A tile ready to send. Compressed forms are made on first demand and kept: a browser
/// asks for brotli, a tile server in front of us may ask for gzip, a load tool for
/// neither, and nobody pays for an encoding nobody asked for.
#[derive(Debug)]
pub struct CachedTile {
    pub raw: bytes::Bytes,
    gzip: std::sync::OnceLock<bytes::Bytes>,
    br: std::sync::OnceLock<bytes::Bytes>,
    /// Strong validator of the content (the hash of `raw`, in quotes), ASCII. Kept as
    /// shared bytes so an answer's `ETag` header is a reference count, not a copy.
    pub etag: bytes::Bytes,
    pub dropped: usize,
    /// The answer's head as the front door writes it, per coding (`http::door`): made
    /// once from the routed answer's headers, then copied to the socket as it is.
    wire: [std::sync::OnceLock<bytes::Bytes>; 3],
    /// A big tile's bytes per coding in a memory file, which the front door sends with
    /// `sendfile` ([`Spills`]); `None` when it was not spilled.
    spills: [std::sync::OnceLock<Option<Spill>>; 3],
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
        let etag = bytes::Bytes::from(format!("\"{:016x}\"", content_hash(&r.bytes)));
        CachedTile {
            raw: bytes::Bytes::from(r.bytes),
            gzip: Default::default(),
            br: Default::default(),
            etag,
            dropped: r.dropped,
            wire: Default::default(),
            spills: Default::default(),
        }
    }

    /// The tile's bytes in `coding` (`body`, as [`CachedTile::encoded`] made them) in a
    /// memory file, if the tile is big enough for `spills` and their budget allows;
    /// decided once per coding.
    pub fn spill(&self, coding: Coding, body: &[u8], spills: &Arc<Spills>) -> Option<&Spill> {
        self.spills[coding as usize]
            .get_or_init(|| spills.take(body))
            .as_ref()
    }

    /// The memory file [`CachedTile::spill`] made for `coding`, if it made one.
    pub fn spilled(&self, coding: Coding) -> Option<&Spill> {
        self.spills[coding as usize].get().and_then(Option::as_ref)
    }

    /// The answer's head in `coding` as written on the wire, made by `make` on first use
    /// and kept with the tile (a write replaces the tile, and with it this head).
    pub fn wire_head(&self, coding: Coding, make: impl FnOnce() -> bytes::Bytes) -> bytes::Bytes {
        self.wire[coding as usize].get_or_init(make).clone()
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

    /// The ETag as text.
    pub fn etag_str(&self) -> &str {
        std::str::from_utf8(&self.etag).unwrap_or_default()
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
            if effort == Effort::OnDemand {
                if let Some(b) = gzip_fast(raw) {
                    return b;
                }
            }
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

/// Gzip at libdeflate's fastest level, with this thread's compressor. A tile is one
/// buffer, which is what libdeflate is for: zlib's streaming state cleared 128 KB of
/// tables per call, more than compressing a 5 KB tile took, and in all gzip was 12 % of
/// an uncached tile's server time (BENCHMARKS.md, "Tile speed, raised"). Level 1 of
/// libdeflate also compresses tiles smaller than zlib's level 1.
/// `None` only if libdeflate fails, which its contract rules out with an output of the
/// bound's size (then zlib's level 1 does it).
fn gzip_fast(raw: &[u8]) -> Option<bytes::Bytes> {
    thread_local! {
        static GZIP: std::cell::RefCell<Option<libdeflater::Compressor>> =
            const { std::cell::RefCell::new(None) };
    }
    GZIP.with_borrow_mut(|c| {
        let c = c.get_or_insert_with(|| {
            libdeflater::Compressor::new(libdeflater::CompressionLvl::fastest())
        });
        let mut out = vec![0; c.gzip_compress_bound(raw.len())];
        let n = c.gzip_compress(raw, &mut out).ok()?;
        out.truncate(n);
        Some(bytes::Bytes::from(out))
    })
}

/// A stable content hash for ETags (same bytes, same tag, across restarts and
/// versions): XXH3-64, a specified algorithm, at memory speed; FNV-1a, a byte at a time,
/// was 4 % of an uncached tile's server time (BENCHMARKS.md, "Tile speed, raised").
pub fn content_hash(b: &[u8]) -> u64 {
    twox_hash::XxHash3_64::oneshot(b)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TileKey {
    pub layers: LayerSet,
    pub tile: TileCoord,
}

/// The tile cache: bounded in bytes, invalidated by area, and never holding a tile drawn
/// before a write that touched it.
///
/// The map is `quick_cache` (S3-FIFO eviction): a hit is a shard's read lock and one
/// atomic bit, where moka's was a read-buffer record and a policy step, 8 % of a cached
/// tile's server time under load (BENCHMARKS.md, "Tile speed, raised"). Invalidation is
/// synchronous: when [`TileCache::invalidate`] returns, no touched tile is in the map.
pub struct TileCache {
    cache: Option<quick_cache::sync::Cache<TileKey, Arc<CachedTile>, TileWeight>>,
    /// Bumped by every write that touched tiles. A tile drawn at another epoch is served
    /// but not kept: it may show the register from before the write.
    epoch: AtomicU64,
    /// Inserts hold it shared, invalidations exclusively: a tile checked against the epoch
    /// goes in before the next invalidation sweeps, or is checked after its bump.
    gate: std::sync::RwLock<()>,
    hits: crate::counter::Striped,
    misses: crate::counter::Striped,
    /// Big tiles' memory files: a quarter of the cache's bytes at most.
    spills: Arc<Spills>,
}

/// Big cached tiles in memory files, for the front door to send with `sendfile`
/// (`http::door`). A tile from our memory is copied twice on its way to a reader (into
/// the socket, out of it); from a file the socket takes the file's pages and only the
/// reader copies, as nginx serves a static file. For a tile of 100 KB the copy saved is
/// worth more than the extra call for the head (BENCHMARKS.md, "sendfile for big tiles").
/// The files are memory (`memfd_create`), bounded in count and bytes beside the cache.
#[derive(Debug)]
pub struct Spills {
    /// Tiles smaller than this are not spilled (0: none is).
    min: usize,
    max_files: u64,
    max_bytes: u64,
    files: AtomicU64,
    bytes: AtomicU64,
}

/// The most memory files open at once: each is a file descriptor.
const MAX_SPILL_FILES: u64 = 256;

impl Spills {
    /// Spills of tiles of at least `min` bytes, up to `max_bytes` in all.
    pub fn new(min: usize, max_bytes: u64) -> Spills {
        Spills {
            min,
            max_files: MAX_SPILL_FILES,
            max_bytes,
            files: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
        }
    }

    /// `body` in a new memory file, if it is big enough and the budget allows.
    fn take(self: &Arc<Self>, body: &[u8]) -> Option<Spill> {
        if self.min == 0 || body.len() < self.min {
            return None;
        }
        let len = body.len() as u64;
        // Counted first, so that racing spills cannot pass the budget together.
        let files = self.files.fetch_add(1, Ordering::AcqRel);
        let bytes = self.bytes.fetch_add(len, Ordering::AcqRel);
        let file = if files >= self.max_files || bytes + len > self.max_bytes {
            None
        } else {
            memory_file(body)
                .map_err(|e| tracing::debug!("tile not spilled to a memory file: {e}"))
                .ok()
        };
        let Some(file) = file else {
            self.give_back(len);
            return None;
        };
        Some(Spill {
            file,
            len: body.len(),
            spills: self.clone(),
        })
    }

    /// A spill's share of the budget, returned.
    fn give_back(&self, len: u64) {
        self.files.fetch_sub(1, Ordering::AcqRel);
        self.bytes.fetch_sub(len, Ordering::AcqRel);
    }
}

/// A tile's bytes in a memory file; its share of the budget is given back when dropped.
#[derive(Debug)]
pub struct Spill {
    file: std::fs::File,
    len: usize,
    spills: Arc<Spills>,
}

impl Spill {
    /// The file, whose bytes are the tile's from offset 0 to [`Spill::len`].
    pub fn file(&self) -> &std::fs::File {
        &self.file
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Drop for Spill {
    fn drop(&mut self) {
        self.spills.give_back(self.len as u64);
    }
}

#[cfg(target_os = "linux")]
fn memory_file(body: &[u8]) -> std::io::Result<std::fs::File> {
    use rustix::fs::{memfd_create, MemfdFlags};
    let mut file = std::fs::File::from(memfd_create("heritage-atlas-tile", MemfdFlags::CLOEXEC)?);
    file.write_all(body)?;
    Ok(file)
}

#[cfg(not(target_os = "linux"))]
fn memory_file(_body: &[u8]) -> std::io::Result<std::fs::File> {
    Err(std::io::ErrorKind::Unsupported.into())
}

/// A cached tile's weight: its raw bytes, room for one compressed form (about half),
/// bookkeeping.
#[derive(Debug, Clone, Copy)]
struct TileWeight;

impl quick_cache::Weighter<TileKey, Arc<CachedTile>> for TileWeight {
    fn weight(&self, _k: &TileKey, v: &Arc<CachedTile>) -> u64 {
        (v.raw.len() * 3 / 2 + 128) as u64
    }
}

/// What `/metrics` reports of the cache.
#[derive(Debug, Clone, Copy, Default)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
    pub entries: u64,
    pub weighted_bytes: u64,
    pub invalidations: u64,
    /// Big tiles' memory files open ([`Spills`]), and their bytes.
    pub sendfile_files: u64,
    pub sendfile_bytes: u64,
}

impl std::fmt::Debug for TileCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TileCache")
            .field("entries", &self.cache.as_ref().map(|c| c.len()))
            .finish()
    }
}

/// A tile's typical weight, for sizing the map's table up front.
const TYPICAL_TILE_WEIGHT: u64 = 8 << 10;

impl TileCache {
    /// A cache of at most `max_bytes` of tiles (0 turns caching off) whose tiles of at
    /// least `spill_min` bytes (0: none) may be kept in memory files too ([`Spills`]).
    pub fn new(max_bytes: u64, spill_min: usize) -> TileCache {
        let cache = (max_bytes > 0).then(|| {
            let items = (max_bytes / TYPICAL_TILE_WEIGHT).clamp(64, 1 << 20) as usize;
            quick_cache::sync::Cache::with_weighter(items, max_bytes, TileWeight)
        });
        TileCache {
            cache,
            epoch: AtomicU64::new(0),
            gate: std::sync::RwLock::new(()),
            hits: Default::default(),
            misses: Default::default(),
            spills: Arc::new(Spills::new(spill_min, max_bytes / 4)),
        }
    }

    pub fn spills(&self) -> &Arc<Spills> {
        &self.spills
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
        counter.add(1);
        found
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.sum(),
            misses: self.misses.sum(),
            entries: self.cache.as_ref().map_or(0, |c| c.len() as u64),
            weighted_bytes: self.cache.as_ref().map_or(0, |c| c.weight()),
            // Every write that touched tiles bumped the epoch once.
            invalidations: self.epoch(),
            sendfile_files: self.spills.files.load(Ordering::Acquire),
            sendfile_bytes: self.spills.bytes.load(Ordering::Acquire),
        }
    }

    /// Caches a tile drawn at `epoch`, unless a write has landed since.
    pub fn insert(&self, k: TileKey, v: Arc<CachedTile>, epoch: u64) {
        if let Some(c) = &self.cache {
            let _open = self.gate.read().unwrap_or_else(|e| e.into_inner());
            if self.epoch() == epoch {
                c.insert(k, v);
            }
        }
    }

    /// Drops every cached tile, at any zoom, that shows one of `layers` and whose
    /// buffered bounds meet one of `boxes` (lon/lat): the old and the new place of what
    /// changed.
    pub fn invalidate(&self, layers: LayerSet, boxes: &[Rect<f64>]) {
        let _closed = self.gate.write().unwrap_or_else(|e| e.into_inner());
        self.epoch.fetch_add(1, Ordering::AcqRel);
        let Some(c) = &self.cache else { return };
        c.retain(|k, _| {
            if !k.layers.meets(layers) {
                return true;
            }
            let t = k.tile.lonlat_bounds(BUFFER);
            !boxes.iter().any(|b| b.intersects(&t))
        });
    }

    pub fn contains(&self, k: &TileKey) -> bool {
        self.cache.as_ref().is_some_and(|c| c.contains_key(k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn spills_hold_the_bytes_keep_to_their_budget_and_give_it_back() {
        use std::os::unix::fs::FileExt;
        let spills = Arc::new(Spills::new(10, 100));
        assert!(spills.take(&[1; 9]).is_none(), "smaller than the least");
        let a = spills.take(&[7; 60]).expect("spilled");
        let mut back = vec![0; 61];
        let n = a.file().read_at(&mut back, 0).unwrap();
        assert_eq!(&back[..n], &[7; 60][..], "the file holds the bytes");
        assert!(spills.take(&[2; 60]).is_none(), "over the bytes budget");
        assert_eq!(spills.bytes.load(Ordering::Acquire), 60);
        drop(a);
        assert_eq!(spills.bytes.load(Ordering::Acquire), 0);
        assert_eq!(spills.files.load(Ordering::Acquire), 0);
        assert!(spills.take(&[2; 60]).is_some(), "given back");

        let many = Arc::new(Spills::new(1, u64::MAX));
        let kept: Vec<_> = (0..MAX_SPILL_FILES + 10)
            .filter_map(|_| many.take(b"tile"))
            .collect();
        assert_eq!(
            kept.len() as u64,
            MAX_SPILL_FILES,
            "no more files than the cap"
        );
        assert_eq!(many.files.load(Ordering::Acquire), MAX_SPILL_FILES);
    }
}
