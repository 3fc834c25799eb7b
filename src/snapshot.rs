//! The index snapshot: the register as a `serve` holds it in memory, written to a file
//! beside the database, so that the next start reads it back rather than decoding every
//! row and normalising every name again.
//!
//! A snapshot is a cache, never a source of truth. It records the change-feed mark of
//! the register it holds (see `atlas/feed.rs`), and the start that reads it applies every
//! change recorded after that mark before it answers. It is used only when it was written
//! for this very database (its `database_id`), by this format, and the feed still holds
//! the version it was taken at; otherwise, or when any byte of it fails its checksum, the
//! start reads the register from the database as it always did.
//!
//! Layout (little-endian): `MAGIC`, the header and its CRC-32, then per layer its assets
//! in chunks, each with its own CRC-32 (so that two threads check and decode a national
//! layer's halves at once, touching each page once), and `END` last.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use geo_types::{
    Coord, Geometry, GeometryCollection, Line, LineString, MultiLineString, MultiPoint,
    MultiPolygon, Point, Polygon, Rect, Triangle,
};

use crate::index::Parts;
use crate::model::{
    Asset, AssetId, Attributes, Condition, Grade, Kind, Layer, LockMark, WaterStatus,
};

/// Changes to the layout or to what an asset holds in memory bump the version: a
/// snapshot of another version is never read.
const MAGIC: &[u8; 8] = b"HAIDX\0\0\x02";
const END: &[u8; 8] = b"HAIDXEND";

/// Assets per chunk: the unit two threads split a layer's decoding by.
const CHUNK: usize = 65_536;

/// What a snapshot was taken of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The database's own id (`Store::database_id`).
    pub database: String,
    /// The last change of the register's feed the snapshot holds.
    pub mark: i64,
    /// The asset and version recorded at `mark`: a database restored to before the mark
    /// no longer holds them there.
    pub at_mark: Option<(i64, i64)>,
    /// The program that wrote it (its version): another build may hold assets otherwise.
    pub build: String,
}

impl Header {
    pub fn build() -> String {
        env!("CARGO_PKG_VERSION").to_string()
    }
}

/// One layer as read back: its assets and their parts (search keys, tree entries,
/// figures), ready for [`crate::index::LayerIndex::bulk_parts`].
pub struct LayerData {
    pub layer: Layer,
    pub assets: Vec<Arc<Asset>>,
    pub parts: Parts,
}

/// Why a snapshot cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("not an index snapshot of this format")]
    Format,
    #[error("checksum mismatch: the file is damaged or was cut short")]
    Checksum,
    #[error("damaged at byte {0}")]
    Corrupt(usize),
}

/// Writes `layers` (each asset with its search key) to `path`, through a temporary file
/// renamed into place, so a reader sees the old snapshot or the new one, never half.
pub fn write<'a>(
    path: &Path,
    header: &Header,
    layers: impl IntoIterator<Item = (Layer, Vec<(&'a Asset, &'a str)>)>,
) -> std::io::Result<u64> {
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = path.with_extension(format!("tmp{}-{n}", std::process::id()));
    let result = (|| {
        let file = std::fs::File::create(&tmp)?;
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        out.write_all(MAGIC)?;
        let mut h = Vec::new();
        put_str(&mut h, &header.database);
        h.extend_from_slice(&header.mark.to_le_bytes());
        match header.at_mark {
            Some((id, v)) => {
                h.push(1);
                h.extend_from_slice(&id.to_le_bytes());
                h.extend_from_slice(&v.to_le_bytes());
            }
            None => h.push(0),
        }
        put_str(&mut h, &header.build);
        out.write_all(&(h.len() as u32).to_le_bytes())?;
        out.write_all(&h)?;
        out.write_all(&crc32fast::hash(&h).to_le_bytes())?;
        let layers: Vec<_> = layers.into_iter().collect();
        out.write_all(&[layers.len() as u8])?;
        let mut buf = Vec::new();
        for (layer, assets) in &layers {
            out.write_all(&[layer_code(*layer)])?;
            out.write_all(&(assets.len() as u64).to_le_bytes())?;
            for chunk in assets.chunks(CHUNK) {
                buf.clear();
                for (a, key) in chunk {
                    put_asset(&mut buf, a, key);
                }
                out.write_all(&(chunk.len() as u32).to_le_bytes())?;
                out.write_all(&(buf.len() as u64).to_le_bytes())?;
                out.write_all(&chunk_crc(*layer, chunk.len(), &buf).to_le_bytes())?;
                out.write_all(&buf)?;
            }
        }
        out.write_all(END)?;
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        Ok(file.metadata()?.len())
    })();
    match result {
        Ok(n) => {
            std::fs::rename(&tmp, path)?;
            Ok(n)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Reads the header only (cheap: the start decides from it whether the rest is worth
/// reading).
pub fn read_header(path: &Path) -> Result<Header, SnapshotError> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut head = [0u8; 12];
    f.read_exact(&mut head)?;
    if &head[..8] != MAGIC {
        return Err(SnapshotError::Format);
    }
    let len = u32::from_le_bytes(head[8..12].try_into().expect("4 bytes")) as usize;
    if len > 1 << 16 {
        return Err(SnapshotError::Format);
    }
    let mut h = vec![0u8; len + 4];
    f.read_exact(&mut h)?;
    let (h, crc) = h.split_at(len);
    if crc32fast::hash(h).to_le_bytes() != crc {
        return Err(SnapshotError::Checksum);
    }
    header_of(h)
}

fn header_of(h: &[u8]) -> Result<Header, SnapshotError> {
    let mut r = Reader { b: h, at: 0 };
    let database = r.string()?;
    let mark = r.i64()?;
    let at_mark = match r.u8()? {
        0 => None,
        _ => Some((r.i64()?, r.i64()?)),
    };
    let build = r.string()?;
    Ok(Header {
        database,
        mark,
        at_mark,
        build,
    })
}

/// Reads a whole snapshot, checking every checksum, decoding large layers on two
/// threads; `lock` gives each asset its heritage lock as recorded now (locks are not
/// versions).
pub fn read(
    path: &Path,
    lock: &(dyn Fn(AssetId) -> Option<LockMark> + Sync),
) -> Result<(Header, Vec<LayerData>), SnapshotError> {
    let bytes = map(path)?;
    if bytes.len() < MAGIC.len() + END.len() || &bytes[..MAGIC.len()] != MAGIC {
        return Err(SnapshotError::Format);
    }
    let (body, end) = bytes.split_at(bytes.len() - END.len());
    if end != END {
        return Err(SnapshotError::Format);
    }
    let mut r = Reader {
        b: body,
        at: MAGIC.len(),
    };
    let hlen = r.u32()? as usize;
    let h = r.take(hlen)?;
    if crc32fast::hash(h) != r.u32()? {
        return Err(SnapshotError::Checksum);
    }
    let header = header_of(h)?;
    let n_layers = r.u8()?;
    let mut layers = Vec::new();
    for _ in 0..n_layers {
        let layer = layer_of(r.u8()?).ok_or(SnapshotError::Corrupt(r.at))?;
        let n = r.u64()? as usize;
        // Each chunk's first slot, count, checksum and bytes, decoded later, on one
        // thread or two.
        let mut chunks = Vec::new();
        let mut seen = 0usize;
        while seen < n {
            let count = r.u32()? as usize;
            let len = r.u64()? as usize;
            let crc = r.u32()?;
            // Checked before the checksum, which is only read later: a count the
            // chunk's bytes cannot hold must not size an allocation.
            if count == 0 || count > len / MIN_ASSET_BYTES {
                return Err(SnapshotError::Corrupt(r.at));
            }
            let start = r.at;
            chunks.push(Chunk {
                first: seen as u32,
                count,
                crc,
                start,
                bytes: r.take(len)?,
            });
            seen += count;
        }
        if seen != n || u32::try_from(n).is_err() {
            return Err(SnapshotError::Corrupt(r.at));
        }
        let decode = |part: &[Chunk<'_>]| {
            let total = part.iter().map(|c| c.count).sum();
            let mut assets = Vec::with_capacity(total);
            let mut parts = Parts::with_capacity(total);
            for c in part {
                if chunk_crc(layer, c.count, c.bytes) != c.crc {
                    return Err(SnapshotError::Checksum);
                }
                let mut cr = Reader { b: c.bytes, at: 0 };
                for i in 0..c.count {
                    let (mut a, key) = get_asset(&mut cr).map_err(|e| match e {
                        SnapshotError::Corrupt(at) => SnapshotError::Corrupt(c.start + at),
                        e => e,
                    })?;
                    a.lock = lock(a.id);
                    parts.push(&a, c.first + i as u32, key);
                    assets.push(Arc::new(a));
                }
                if cr.at != c.bytes.len() {
                    return Err(SnapshotError::Corrupt(c.start + cr.at));
                }
            }
            Ok::<_, SnapshotError>((assets, parts))
        };
        let (assets, parts) = if chunks.len() < 2 {
            decode(&chunks)?
        } else {
            let (low, high) = chunks.split_at(chunks.len() / 2);
            let (low, high) = std::thread::scope(|s| {
                let high = s.spawn(|| decode(high));
                (decode(low), high.join())
            });
            let (mut assets, mut parts) = low?;
            let (a2, p2) = high.map_err(|_| SnapshotError::Corrupt(0))??;
            assets.extend(a2);
            parts.extend(p2);
            (assets, parts)
        };
        layers.push(LayerData {
            layer,
            assets,
            parts,
        });
    }
    if r.at != body.len() {
        return Err(SnapshotError::Corrupt(r.at));
    }
    Ok((header, layers))
}

/// A chunk's checksum covers its layer and count too: a changed byte there cannot pass
/// a chunk off as another layer's.
fn chunk_crc(layer: Layer, count: usize, bytes: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&[layer_code(layer)]);
    h.update(&(count as u32).to_le_bytes());
    h.update(bytes);
    h.finalize()
}

/// A run of a layer's assets in the file.
struct Chunk<'a> {
    /// The slot of its first asset.
    first: u32,
    count: usize,
    crc: u32,
    /// Where its bytes start in the file (for errors).
    start: usize,
    bytes: &'a [u8],
}

/// The whole file, mapped: its pages come straight from the page cache, with no copy and
/// no fresh memory to clear (on a virtual machine, clearing a gigabyte of new pages cost
/// more than decoding it).
fn map(path: &Path) -> std::io::Result<memmap2::Mmap> {
    let file = std::fs::File::open(path)?;
    // SAFETY: a snapshot is never changed in place: writers write a new file and rename
    // it over the old one, so the mapped file's bytes stay as they are while we read them.
    // Something else truncating it meanwhile would end the process (SIGBUS) at start.
    unsafe { memmap2::Mmap::map(&file) }
}

fn layer_code(l: Layer) -> u8 {
    Layer::ALL.iter().position(|x| *x == l).unwrap_or(0) as u8
}

fn layer_of(c: u8) -> Option<Layer> {
    Layer::ALL.get(c as usize).copied()
}

/// 0 for none, else 1 + the position in `all`.
fn opt_enum<T: PartialEq>(all: &[T], v: Option<&T>) -> u8 {
    v.and_then(|v| all.iter().position(|x| x == v))
        .map_or(0, |p| p as u8 + 1)
}

const NONE: u32 = u32::MAX;

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => put_str(out, s),
        None => out.extend_from_slice(&NONE.to_le_bytes()),
    }
}

fn put_opt_i64(out: &mut Vec<u8>, v: Option<i64>) {
    match v {
        Some(v) => {
            out.push(1);
            out.extend_from_slice(&v.to_le_bytes());
        }
        None => out.push(0),
    }
}

/// The fewest bytes `put_asset` writes for one asset (its fixed fields and the length
/// prefixes of empty strings come to 79, before the geometry).
const MIN_ASSET_BYTES: usize = 64;

fn put_asset(out: &mut Vec<u8>, a: &Asset, key: &str) {
    let at = &a.attrs;
    out.extend_from_slice(&a.id.0.to_le_bytes());
    put_str(out, &a.code);
    out.push(layer_code(a.layer));
    out.push(opt_enum(Kind::ALL, Some(&a.kind)));
    out.push(opt_enum(Kind::ALL, at.kind.as_ref()));
    put_opt_str(out, at.name.as_deref());
    put_opt_str(out, at.name_bn.as_deref());
    put_opt_i64(out, at.ward);
    put_opt_str(out, at.borough.as_deref());
    put_opt_str(out, at.address.as_deref());
    out.push(opt_enum(Condition::ALL, at.condition.as_ref()));
    put_opt_str(out, at.condition_assessed_at.as_deref());
    put_opt_str(out, at.last_maintained_at.as_deref());
    out.push(opt_enum(Grade::ALL, at.grade.as_ref()));
    put_opt_i64(out, at.year_built);
    put_opt_str(out, at.owner.as_deref());
    out.push(opt_enum(WaterStatus::ALL, at.status.as_ref()));
    out.push(match at.protected {
        None => 0,
        Some(false) => 1,
        Some(true) => 2,
    });
    put_opt_str(out, at.source.as_deref());
    if at.extra.is_empty() {
        put_str(out, "");
    } else {
        put_str(
            out,
            &serde_json::Value::Object(at.extra.clone()).to_string(),
        );
    }
    match a.area_m2 {
        Some(v) => {
            out.push(1);
            out.extend_from_slice(&v.to_le_bytes());
        }
        None => out.push(0),
    }
    put_geometry(out, &a.geometry);
    put_str(out, &a.created_at);
    put_str(out, &a.updated_at);
    out.extend_from_slice(&a.version.to_le_bytes());
    out.push(u8::from(a.ward_from_location));
    put_str(out, key);
}

fn put_coords(out: &mut Vec<u8>, cs: &[Coord<f64>]) {
    out.extend_from_slice(&(cs.len() as u32).to_le_bytes());
    for c in cs {
        out.extend_from_slice(&c.x.to_le_bytes());
        out.extend_from_slice(&c.y.to_le_bytes());
    }
}

fn put_polygon(out: &mut Vec<u8>, p: &Polygon<f64>) {
    out.extend_from_slice(&(1 + p.interiors().len() as u32).to_le_bytes());
    put_coords(out, &p.exterior().0);
    for r in p.interiors() {
        put_coords(out, &r.0);
    }
}

fn put_geometry(out: &mut Vec<u8>, g: &Geometry<f64>) {
    let count = |out: &mut Vec<u8>, n: usize| out.extend_from_slice(&(n as u32).to_le_bytes());
    match g {
        Geometry::Point(p) => {
            out.push(1);
            put_coords(out, &[p.0]);
        }
        Geometry::LineString(l) => {
            out.push(2);
            put_coords(out, &l.0);
        }
        Geometry::Polygon(p) => {
            out.push(3);
            put_polygon(out, p);
        }
        Geometry::MultiPoint(mp) => {
            out.push(4);
            put_coords(out, &mp.0.iter().map(|p| p.0).collect::<Vec<_>>());
        }
        Geometry::MultiLineString(ml) => {
            out.push(5);
            count(out, ml.0.len());
            for l in &ml.0 {
                put_coords(out, &l.0);
            }
        }
        Geometry::MultiPolygon(mp) => {
            out.push(6);
            count(out, mp.0.len());
            for p in &mp.0 {
                put_polygon(out, p);
            }
        }
        Geometry::GeometryCollection(gc) => {
            out.push(7);
            count(out, gc.0.len());
            for g in &gc.0 {
                put_geometry(out, g);
            }
        }
        Geometry::Line(l) => {
            out.push(8);
            put_coords(out, &[l.start, l.end]);
        }
        Geometry::Rect(r) => {
            out.push(9);
            put_coords(out, &[r.min(), r.max()]);
        }
        Geometry::Triangle(t) => {
            out.push(10);
            put_coords(out, &[t.v1(), t.v2(), t.v3()]);
        }
    }
}

/// Bounds-checked reading of what the writer put; any inconsistency is `Corrupt`, never a
/// panic or an allocation larger than the bytes that remain.
struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], SnapshotError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|e| *e <= self.b.len())
            .ok_or(SnapshotError::Corrupt(self.at))?;
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, SnapshotError> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Result<u32, SnapshotError> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("4")))
    }
    fn u64(&mut self) -> Result<u64, SnapshotError> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().expect("8")))
    }
    fn i64(&mut self) -> Result<i64, SnapshotError> {
        Ok(i64::from_le_bytes(self.take(8)?.try_into().expect("8")))
    }
    fn f64(&mut self) -> Result<f64, SnapshotError> {
        Ok(f64::from_le_bytes(self.take(8)?.try_into().expect("8")))
    }
    fn str_of(&mut self, len: usize) -> Result<&'a str, SnapshotError> {
        let at = self.at;
        std::str::from_utf8(self.take(len)?).map_err(|_| SnapshotError::Corrupt(at))
    }
    fn string(&mut self) -> Result<String, SnapshotError> {
        let n = self.u32()? as usize;
        Ok(self.str_of(n)?.to_owned())
    }
    fn opt_string(&mut self) -> Result<Option<String>, SnapshotError> {
        match self.u32()? {
            NONE => Ok(None),
            n => Ok(Some(self.str_of(n as usize)?.to_owned())),
        }
    }
    fn opt_i64(&mut self) -> Result<Option<i64>, SnapshotError> {
        match self.u8()? {
            0 => Ok(None),
            _ => Ok(Some(self.i64()?)),
        }
    }
    fn opt_enum<T: Copy>(&mut self, all: &[T]) -> Result<Option<T>, SnapshotError> {
        let at = self.at;
        match self.u8()? {
            0 => Ok(None),
            n => all
                .get(n as usize - 1)
                .copied()
                .map(Some)
                .ok_or(SnapshotError::Corrupt(at)),
        }
    }
    fn coords(&mut self) -> Result<Vec<Coord<f64>>, SnapshotError> {
        let n = self.u32()? as usize;
        let at = self.at;
        let b = self.take(n.checked_mul(16).ok_or(SnapshotError::Corrupt(at))?)?;
        Ok(b.chunks_exact(16)
            .map(|c| Coord {
                x: f64::from_le_bytes(c[..8].try_into().expect("8")),
                y: f64::from_le_bytes(c[8..].try_into().expect("8")),
            })
            .collect())
    }
    /// A count of parts, each at least four bytes long: never more than the bytes left.
    fn parts(&mut self) -> Result<usize, SnapshotError> {
        let at = self.at;
        let n = self.u32()? as usize;
        if n > (self.b.len() - self.at) / 4 {
            return Err(SnapshotError::Corrupt(at));
        }
        Ok(n)
    }
    fn polygon(&mut self) -> Result<Polygon<f64>, SnapshotError> {
        let at = self.at;
        let rings = self.parts()?;
        if rings == 0 {
            return Err(SnapshotError::Corrupt(at));
        }
        let exterior = LineString(self.coords()?);
        let interiors = (1..rings)
            .map(|_| Ok(LineString(self.coords()?)))
            .collect::<Result<Vec<_>, SnapshotError>>()?;
        Ok(Polygon::new(exterior, interiors))
    }
    fn geometry(&mut self, depth: u8) -> Result<Geometry<f64>, SnapshotError> {
        let at = self.at;
        let fixed = |cs: Vec<Coord<f64>>, n: usize| {
            if cs.len() == n {
                Ok(cs)
            } else {
                Err(SnapshotError::Corrupt(at))
            }
        };
        Ok(match self.u8()? {
            1 => Geometry::Point(Point(fixed(self.coords()?, 1)?[0])),
            2 => Geometry::LineString(LineString(self.coords()?)),
            3 => Geometry::Polygon(self.polygon()?),
            4 => Geometry::MultiPoint(MultiPoint(self.coords()?.into_iter().map(Point).collect())),
            5 => {
                let n = self.parts()?;
                Geometry::MultiLineString(MultiLineString(
                    (0..n)
                        .map(|_| Ok(LineString(self.coords()?)))
                        .collect::<Result<_, SnapshotError>>()?,
                ))
            }
            6 => {
                let n = self.parts()?;
                Geometry::MultiPolygon(MultiPolygon(
                    (0..n)
                        .map(|_| self.polygon())
                        .collect::<Result<_, SnapshotError>>()?,
                ))
            }
            7 if depth < 8 => {
                let n = self.parts()?;
                Geometry::GeometryCollection(GeometryCollection(
                    (0..n)
                        .map(|_| self.geometry(depth + 1))
                        .collect::<Result<_, SnapshotError>>()?,
                ))
            }
            8 => {
                let c = fixed(self.coords()?, 2)?;
                Geometry::Line(Line::new(c[0], c[1]))
            }
            9 => {
                let c = fixed(self.coords()?, 2)?;
                Geometry::Rect(Rect::new(c[0], c[1]))
            }
            10 => {
                let c = fixed(self.coords()?, 3)?;
                Geometry::Triangle(Triangle::new(c[0], c[1], c[2]))
            }
            _ => return Err(SnapshotError::Corrupt(at)),
        })
    }
}

fn get_asset(r: &mut Reader<'_>) -> Result<(Asset, Box<str>), SnapshotError> {
    let at = r.at;
    let corrupt = || SnapshotError::Corrupt(at);
    let id = AssetId(r.i64()?);
    let code = r.string()?;
    let layer = layer_of(r.u8()?).ok_or_else(corrupt)?;
    let kind = r.opt_enum(Kind::ALL)?.ok_or_else(corrupt)?;
    let attrs = Attributes {
        kind: r.opt_enum(Kind::ALL)?,
        name: r.opt_string()?,
        name_bn: r.opt_string()?,
        ward: r.opt_i64()?,
        borough: r.opt_string()?,
        address: r.opt_string()?,
        condition: r.opt_enum(Condition::ALL)?,
        condition_assessed_at: r.opt_string()?,
        last_maintained_at: r.opt_string()?,
        grade: r.opt_enum(Grade::ALL)?,
        year_built: r.opt_i64()?,
        owner: r.opt_string()?,
        status: r.opt_enum(WaterStatus::ALL)?,
        protected: match r.u8()? {
            0 => None,
            1 => Some(false),
            2 => Some(true),
            _ => return Err(corrupt()),
        },
        source: r.opt_string()?,
        extra: {
            let n = r.u32()? as usize;
            match r.str_of(n)? {
                "" => Default::default(),
                s => serde_json::from_str(s).map_err(|_| corrupt())?,
            }
        },
    };
    let area_m2 = match r.u8()? {
        0 => None,
        _ => Some(r.f64()?),
    };
    let geometry = r.geometry(0)?;
    let created_at = r.string()?;
    let updated_at = r.string()?;
    let version = r.i64()?;
    let ward_from_location = r.u8()? != 0;
    let n = r.u32()? as usize;
    let key = r.str_of(n)?.into();
    Ok((
        Asset {
            id,
            code,
            layer,
            kind,
            attrs,
            area_m2,
            geometry,
            created_at,
            updated_at,
            version,
            ward_from_location,
            lock: None,
        },
        key,
    ))
}
