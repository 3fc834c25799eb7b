//! `heritage-atlas export`: a layer (or a filtered, reprojected selection of it) as
//! GeoJSON, GeoJSONSeq, CSV or FlatGeobuf, streamed from the store so that a layer of
//! millions never sits in memory: the same writers as `/collections/{id}/items`, so an
//! export and a download are the same bytes.
//!
//! Rows are read from a [`Snapshot`] (one read transaction on a connection of its own)
//! and decoded on a thread of their own, handed over a batch at a time while this thread
//! encodes and writes: on two cores reading and writing overlap, and no message is sent
//! per row.
//!
//! GeoJSON, which states its count first, takes it from the layer index, or counts a
//! filtered selection in a first read; CSV and FlatGeobuf learn their extra columns from
//! the stored property names (or, filtered, from a first read). FlatGeobuf, whose index
//! precedes its features, encodes each feature once into a spool file as it reads them in
//! id order, keeping its Hilbert value and where it starts (12 bytes a feature, never a
//! geometry); then reads the spool once in index order, each box and feature at one read,
//! writing each leaf and each feature at its place in the output file, and last the
//! header and the levels above the leaves before them. Standard output gets a file
//! written so, then copied.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::atlas::with_located_ward;
use crate::features::crs::Crs;
use crate::features::{self, fgb, write, Collection, Item, Selection};
use crate::index::{Index, LayerIndex};
use crate::model::{Asset, Layer};
use crate::store::{Snapshot, Store, StoreError};

/// Output formats of `heritage-atlas export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// RFC 7946 FeatureCollection.
    Geojson,
    /// Newline-delimited GeoJSON features (GeoJSONSeq without record separators).
    Geojsonseq,
    /// FlatGeobuf with its spatial index (what `/collections/{id}/items?f=fgb` serves).
    Fgb,
    /// CSV with a WKT geometry column (what `?f=csv` serves).
    Csv,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("write failed: {0}")]
    Io(#[from] std::io::Error),
    /// A bad `--crs`.
    #[error("{0}")]
    Crs(crate::features::crs::CrsError),
    /// A bad `--filter`.
    #[error("{0}")]
    Filter(crate::features::cql2::ParseError),
}

/// What to export.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub layer: Layer,
    pub format: ExportFormat,
    /// CQL2 text, as `/collections/{id}/items?filter=` takes it.
    pub filter: Option<&'a str>,
    /// Output CRS (`EPSG:NNNN`); CRS84 when absent.
    pub crs: Option<&'a str>,
}

/// Exports to the file at `path`, or to standard output when `None`; returns the number
/// of features written. Blocking: it reads and writes files throughout.
pub fn export(store: &Store, req: &Request<'_>, path: Option<&Path>) -> Result<u64, ExportError> {
    let c = Collection::Assets(req.layer);
    let crs = match req.crs {
        Some(s) => Crs::parse(s).map_err(ExportError::Crs)?,
        None => Crs::crs84(),
    };
    let filter = req
        .filter
        .map(|f| features::cql2::parse(f, &c))
        .transpose()
        .map_err(ExportError::Filter)?;
    let sel = Selection {
        filter,
        ..Default::default()
    };
    let mut snap = store.snapshot()?;
    let wards = wards_of(&snap)?;
    let locks = snap.lock_marks()?;
    let plan = Plan {
        layer: req.layer,
        crs: &crs,
        sel: &sel,
        wards: &wards,
        locks: &locks,
    };
    if let Some(p) = path {
        // Written beside the target and renamed when whole: a failed export leaves no
        // half file under the name asked for.
        let mut part = p.as_os_str().to_owned();
        part.push(".part");
        let part = PathBuf::from(part);
        let n = match req.format {
            ExportFormat::Fgb => plan.fgb(&mut snap, &File::create(&part)?),
            format => plan.text(
                &mut snap,
                format,
                BufWriter::with_capacity(OUT_BUFFER, File::create(&part)?),
            ),
        };
        return match n {
            Ok(n) => {
                std::fs::rename(&part, p)?;
                Ok(n)
            }
            Err(e) => {
                let _ = std::fs::remove_file(&part);
                Err(e)
            }
        };
    }
    match req.format {
        ExportFormat::Fgb => {
            // FlatGeobuf is written out of order (its index last, before the features):
            // into a file first.
            let whole = Spool::new("fgb")?;
            let n = plan.fgb(&mut snap, &File::create(&whole.0)?)?;
            std::io::copy(&mut File::open(&whole.0)?, &mut std::io::stdout().lock())?;
            Ok(n)
        }
        format => plan.text(
            &mut snap,
            format,
            BufWriter::with_capacity(OUT_BUFFER, std::io::stdout().lock()),
        ),
    }
}

/// Streams a whole layer to `out` as GeoJSON or GeoJSONSeq; returns the number of
/// features written. Blocking, as [`export`].
pub fn write_layer<W: Write>(
    store: &Store,
    layer: Layer,
    format: ExportFormat,
    out: W,
) -> Result<u64, ExportError> {
    let mut snap = store.snapshot()?;
    let wards = wards_of(&snap)?;
    let locks = snap.lock_marks()?;
    let plan = Plan {
        layer,
        crs: &Crs::crs84(),
        sel: &Selection::default(),
        wards: &wards,
        locks: &locks,
    };
    plan.text(&mut snap, format, out)
}

/// Bytes buffered before a write to the output.
const OUT_BUFFER: usize = 1 << 20;

/// Items the reading thread hands over at a time, and how many such batches may wait:
/// one channel message per batch rather than per row, and a few MB in flight at most.
const BATCH: usize = 1024;
const BATCHES_AHEAD: usize = 4;

/// The wards, so that assets with no ward on record get the one they lie in, as the
/// server's index gives them.
fn wards_of(snap: &Snapshot) -> Result<Index, StoreError> {
    let index = Index::new();
    let wards = snap.load_layer(Layer::Wards)?;
    index.set_layer(Layer::Wards, LayerIndex::bulk(wards));
    Ok(index)
}

/// A temporary file (the features of a FlatGeobuf export before their index, or the
/// whole file before it goes to standard output), removed when dropped.
struct Spool(PathBuf);

impl Spool {
    fn new(what: &str) -> std::io::Result<Spool> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path = std::env::temp_dir().join(format!(
            "heritage-atlas-export-{}-{nanos}.{what}",
            std::process::id()
        ));
        Ok(Spool(path))
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

struct Plan<'a> {
    layer: Layer,
    crs: &'a Crs,
    sel: &'a Selection,
    wards: &'a Index,
    /// The heritage locks recorded, as the HTTP answers show them.
    locks: &'a std::collections::HashMap<crate::model::AssetId, crate::model::LockMark>,
}

impl Plan<'_> {
    fn item(&self, a: Asset) -> Item {
        let mut a = with_located_ward(self.wards, a);
        a.lock = self.locks.get(&a.id).cloned();
        Item::Asset(Arc::new(a))
    }

    /// Whether nothing narrows or reprojects the layer: then the stored boxes and the
    /// stored extra-property names are the plan, read without a geometry.
    fn whole_layer(&self) -> bool {
        self.sel.filter.is_none() && self.sel.bbox.is_none() && self.crs.is_crs84()
    }

    /// Visits every selected item in id order. The rows are read, decoded, given their
    /// ward and filtered on a thread of their own, which hands them over [`BATCH`] at a
    /// time while `f` runs on this one.
    fn each(
        &self,
        snap: &mut Snapshot,
        mut f: impl FnMut(Item) -> Result<(), ExportError>,
    ) -> Result<(), ExportError> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Item>>(BATCHES_AHEAD);
        std::thread::scope(|s| {
            let reader = s.spawn(move || -> Result<(), ExportError> {
                let mut batch = Vec::with_capacity(BATCH);
                snap.each_asset(self.layer, |a| {
                    let it = self.item(a);
                    if self.sel.keeps(&it) {
                        batch.push(it);
                    }
                    if batch.len() == BATCH {
                        let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                        // Refused only once the writing side has stopped on an error,
                        // which is the one reported.
                        tx.send(full)
                            .map_err(|_| std::io::Error::from(std::io::ErrorKind::BrokenPipe))?;
                    }
                    Ok::<_, ExportError>(())
                })?;
                if !batch.is_empty() {
                    let _ = tx.send(batch);
                }
                Ok(())
            });
            let written = rx.iter().flatten().try_for_each(&mut f);
            // Closed before the join: a reader blocked on a full channel then returns.
            drop(rx);
            let read = reader
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            written.and(read)
        })
    }

    /// GeoJSON, GeoJSONSeq or CSV.
    fn text<W: Write>(
        &self,
        snap: &mut Snapshot,
        format: ExportFormat,
        mut out: W,
    ) -> Result<u64, ExportError> {
        let c = Collection::Assets(self.layer);
        let mut n = 0u64;
        match format {
            ExportFormat::Geojsonseq => {
                self.each(snap, |it| {
                    serde_json::to_writer(&mut out, &write::feature(&it, self.crs))
                        .map_err(std::io::Error::from)?;
                    out.write_all(b"\n")?;
                    n += 1;
                    Ok(())
                })?;
                out.flush()?;
            }
            ExportFormat::Geojson => {
                let count = if self.whole_layer() {
                    snap.layer_count(self.layer)?
                } else {
                    let mut count = 0;
                    self.each(snap, |_| {
                        count += 1;
                        Ok(())
                    })?;
                    count
                };
                write::geojson_start(&mut out, c.id(), count as usize)?;
                self.each(snap, |it| {
                    write::geojson_feature(&mut out, &it, self.crs, n as usize)?;
                    n += 1;
                    Ok(())
                })?;
                write::geojson_end(&mut out)?;
            }
            ExportFormat::Csv => {
                let cols = features::columns_with(c, self.extra_keys(snap)?);
                let mut w = write::csv_start(out, &cols)?;
                self.each(snap, |it| {
                    write::csv_row(&mut w, &cols, &it, self.crs)?;
                    n += 1;
                    Ok(())
                })?;
                w.flush()?;
            }
            ExportFormat::Fgb => unreachable!("FlatGeobuf is written by Plan::fgb"),
        }
        Ok(n)
    }

    /// The extra-property names the selected items carry.
    fn extra_keys(&self, snap: &mut Snapshot) -> Result<Vec<String>, ExportError> {
        if self.whole_layer() {
            return Ok(snap.layer_extra_keys(self.layer)?);
        }
        let mut keys = BTreeSet::new();
        self.each(snap, |it| {
            if let Item::Asset(a) = &it {
                keys.extend(a.attrs.extra.keys().cloned());
            }
            Ok(())
        })?;
        Ok(keys.into_iter().collect())
    }

    /// FlatGeobuf with its packed Hilbert R-tree. The columns and the extent come first:
    /// from the stored property names and boxes for the whole layer, else from a first
    /// read of the selection. Then each feature is encoded once, in id order, into a spool
    /// file after its box, keeping only its Hilbert value and where it starts (12 bytes a
    /// feature); the spool is read back once in index order, leaves and features written
    /// at their places in `out`, the upper levels and the header last.
    fn fgb(&self, snap: &mut Snapshot, out: &File) -> Result<u64, ExportError> {
        let started = std::time::Instant::now();
        let c = Collection::Assets(self.layer);
        let (extra, extent, count) = if self.whole_layer() {
            let extent = snap.layer_extent(self.layer)?;
            let extent = extent.map_or([0.0; 4], fgb::round_out);
            let count = snap.layer_count(self.layer)? as usize;
            (snap.layer_extra_keys(self.layer)?, extent, count)
        } else {
            let mut keys = BTreeSet::new();
            let mut extent: Option<[f64; 4]> = None;
            let mut count = 0;
            self.each(snap, |it| {
                count += 1;
                if let Item::Asset(a) = &it {
                    keys.extend(a.attrs.extra.keys().cloned());
                }
                let b = fgb::box_in(&it, self.crs).map(f64::from);
                let e = extent.get_or_insert(b);
                *e = [
                    e[0].min(b[0]),
                    e[1].min(b[1]),
                    e[2].max(b[2]),
                    e[3].max(b[3]),
                ];
                Ok(())
            })?;
            (
                keys.into_iter().collect(),
                extent.unwrap_or([0.0; 4]),
                count,
            )
        };
        let columns = features::columns_with(c, extra);
        let spool = Spool::new("features")?;
        let mut file = BufWriter::with_capacity(OUT_BUFFER, File::create(&spool.0)?);
        let mut enc = fgb::Encoder::new(&columns, self.crs);
        // Sized once: doubling would hold both the old and the new array for a moment.
        let mut keys: Vec<u32> = Vec::with_capacity(count);
        let mut starts: Vec<u64> = Vec::with_capacity(count + 1);
        starts.push(0);
        self.each(snap, |it| {
            let b = fgb::box_in(&it, self.crs);
            keys.push(fgb::hilbert_of(&b, &extent));
            for v in b {
                file.write_all(&v.to_le_bytes())?;
            }
            let bytes = enc.encode(&it);
            file.write_all(bytes)?;
            starts.push(starts[starts.len() - 1] + BOX_BYTES + bytes.len() as u64);
            Ok(())
        })?;
        file.flush()?;
        drop(file);
        tracing::debug!(elapsed = ?started.elapsed(), "fgb export: features spooled");
        let n = keys.len();
        let order = fgb::order_by_keys(&keys);
        drop(keys);

        let header = fgb::header(c, &columns, self.crs, extent, n);
        if n == 0 {
            WriteAt { file: out, at: 0 }.write_all(&header)?;
            return Ok(0);
        }
        // One read of the spool in leaf order, each record (box and feature) read at
        // once: its leaf and its feature are written at their places in the file, and
        // the levels above the leaves, known only at the end, before them.
        let spooled = File::open(&spool.0)?;
        let mut upper = fgb::UpperLevels::new(n);
        let leaves_at = header.len() as u64 + upper.byte_len();
        let features_at = leaves_at + fgb::LEAF_BYTES * n as u64;
        let mut leaves = BufWriter::with_capacity(
            OUT_BUFFER,
            WriteAt {
                file: out,
                at: leaves_at,
            },
        );
        let mut features = BufWriter::with_capacity(
            OUT_BUFFER,
            WriteAt {
                file: out,
                at: features_at,
            },
        );
        let mut record = Vec::new();
        let mut offset = 0u64;
        for &i in &order {
            let (at, end) = (starts[i as usize], starts[i as usize + 1]);
            record.resize((end - at) as usize, 0);
            read_exact_at(&spooled, &mut record, at)?;
            let (b, feature) = record.split_at(BOX_BYTES as usize);
            let f = |j: usize| f32::from_le_bytes([b[j], b[j + 1], b[j + 2], b[j + 3]]);
            let b = [f(0), f(4), f(8), f(12)];
            upper.push(b);
            leaves.write_all(&fgb::leaf_node(b, offset))?;
            features.write_all(feature)?;
            offset += feature.len() as u64;
        }
        leaves.flush()?;
        features.flush()?;
        let mut head = BufWriter::new(WriteAt { file: out, at: 0 });
        head.write_all(&header)?;
        upper.write(&mut head)?;
        head.flush()?;
        tracing::debug!(elapsed = ?started.elapsed(), "fgb export: index and features written");
        Ok(n as u64)
    }
}

/// Bytes of a feature's box before it in the spool.
const BOX_BYTES: u64 = 16;

/// Writes into a file from a place on, without moving the file's own cursor: the leaves
/// and the features of a FlatGeobuf are written at once, each at its place.
struct WriteAt<'f> {
    file: &'f File,
    at: u64,
}

impl Write for WriteAt<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = write_at(self.file, buf, self.at)?;
        self.at += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(unix)]
fn write_at(f: &File, buf: &[u8], at: u64) -> std::io::Result<usize> {
    std::os::unix::fs::FileExt::write_at(f, buf, at)
}

#[cfg(not(unix))]
fn write_at(f: &File, buf: &[u8], at: u64) -> std::io::Result<usize> {
    use std::io::{Seek, SeekFrom};
    let mut f = f;
    f.seek(SeekFrom::Start(at))?;
    f.write(buf)
}

#[cfg(unix)]
fn read_exact_at(f: &File, buf: &mut [u8], at: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(f, buf, at)
}

#[cfg(not(unix))]
fn read_exact_at(f: &File, buf: &mut [u8], at: u64) -> std::io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = f;
    f.seek(SeekFrom::Start(at))?;
    f.read_exact(buf)
}
