//! `heritage-atlas export`: a layer (or a filtered, reprojected selection of it) as
//! GeoJSON, GeoJSONSeq, CSV or FlatGeobuf, streamed from the store so that a layer of
//! millions never sits in memory: the same writers as `/collections/{id}/items`, so an
//! export and a download are the same bytes.
//!
//! GeoJSON and CSV read the layer twice (first to count, or to find the extra columns,
//! then to write). FlatGeobuf, whose index precedes its features, plans from the stored
//! boxes (or, with a filter or another CRS, from a first read), then fetches the features
//! in index order a batch at a time and writes them behind the space kept for the index,
//! which is written last: a few dozen bytes a feature are held, never a geometry.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures_util::StreamExt;

use crate::atlas::with_located_ward;
use crate::features::crs::Crs;
use crate::features::{self, fgb, write, Collection, Item, Selection};
use crate::index::{Index, LayerIndex};
use crate::model::{Asset, AssetId, Layer};
use crate::store::{Store, StoreError};

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

/// Features fetched by id at a time when writing FlatGeobuf in index order.
const FETCH: usize = 500;

/// Exports to the file at `path`, or to standard output when `None`; returns the number
/// of features written.
pub async fn export(
    store: &Store,
    req: &Request<'_>,
    path: Option<&Path>,
) -> Result<u64, ExportError> {
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
    let wards = wards_of(store).await?;
    let plan = Plan {
        store,
        layer: req.layer,
        crs: &crs,
        sel: &sel,
        wards: &wards,
    };
    if let Some(p) = path {
        // Written beside the target and renamed when whole: a failed export leaves no
        // half file under the name asked for.
        let mut part = p.as_os_str().to_owned();
        part.push(".part");
        let part = PathBuf::from(part);
        let n = match req.format {
            ExportFormat::Fgb => plan.fgb(File::create(&part)?).await,
            format => {
                plan.text(format, BufWriter::new(File::create(&part)?))
                    .await
            }
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
            // Standard output cannot seek back to the index: the file is made aside first.
            let spool = Spool::new()?;
            let n = plan.fgb(File::create(&spool.0)?).await?;
            let mut f = File::open(&spool.0)?;
            let mut out = std::io::stdout().lock();
            std::io::copy(&mut f, &mut out)?;
            out.flush()?;
            Ok(n)
        }
        format => {
            plan.text(format, BufWriter::new(std::io::stdout().lock()))
                .await
        }
    }
}

/// Streams a whole layer to `out` as GeoJSON or GeoJSONSeq; returns the number of
/// features written.
pub async fn write_layer<W: Write>(
    store: &Store,
    layer: Layer,
    format: ExportFormat,
    out: W,
) -> Result<u64, ExportError> {
    let wards = wards_of(store).await?;
    let plan = Plan {
        store,
        layer,
        crs: &Crs::crs84(),
        sel: &Selection::default(),
        wards: &wards,
    };
    plan.text(format, out).await
}

/// The wards, so that assets with no ward on record get the one they lie in, as the
/// server's index gives them.
async fn wards_of(store: &Store) -> Result<Index, StoreError> {
    let index = Index::new();
    let wards = store.load_layer(Layer::Wards).await?;
    index.set_layer(Layer::Wards, LayerIndex::bulk(wards));
    Ok(index)
}

/// A temporary file, removed when dropped.
struct Spool(PathBuf);

impl Spool {
    fn new() -> std::io::Result<Spool> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path = std::env::temp_dir().join(format!(
            "heritage-atlas-export-{}-{nanos}.fgb",
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
    store: &'a Store,
    layer: Layer,
    crs: &'a Crs,
    sel: &'a Selection,
    wards: &'a Index,
}

impl Plan<'_> {
    fn item(&self, a: Asset) -> Item {
        Item::Asset(Arc::new(with_located_ward(self.wards, a)))
    }

    /// Whether nothing narrows or reprojects the layer: then the stored boxes and the
    /// stored extra-property names are the plan, read without a geometry.
    fn whole_layer(&self) -> bool {
        self.sel.filter.is_none() && self.sel.bbox.is_none() && self.crs.is_crs84()
    }

    /// Visits every selected item in id order.
    async fn each(
        &self,
        mut f: impl FnMut(Item) -> Result<(), ExportError>,
    ) -> Result<(), ExportError> {
        let mut rows = std::pin::pin!(self.store.stream_layer(self.layer));
        while let Some(a) = rows.next().await {
            let it = self.item(a?);
            if self.sel.keeps(&it) {
                f(it)?;
            }
        }
        Ok(())
    }

    /// GeoJSON, GeoJSONSeq or CSV.
    async fn text<W: Write>(&self, format: ExportFormat, mut out: W) -> Result<u64, ExportError> {
        let c = Collection::Assets(self.layer);
        let mut n = 0u64;
        match format {
            ExportFormat::Geojsonseq => {
                self.each(|it| {
                    serde_json::to_writer(&mut out, &write::feature(&it, self.crs))
                        .map_err(std::io::Error::from)?;
                    out.write_all(b"\n")?;
                    n += 1;
                    Ok(())
                })
                .await?;
                out.flush()?;
            }
            ExportFormat::Geojson => {
                let mut count = 0usize;
                self.each(|_| {
                    count += 1;
                    Ok(())
                })
                .await?;
                write::geojson_start(&mut out, c.id(), count)?;
                self.each(|it| {
                    write::geojson_feature(&mut out, &it, self.crs, n as usize)?;
                    n += 1;
                    Ok(())
                })
                .await?;
                write::geojson_end(&mut out)?;
            }
            ExportFormat::Csv => {
                let cols = features::columns_with(c, self.extra_keys().await?);
                let mut w = write::csv_start(out, &cols)?;
                self.each(|it| {
                    write::csv_row(&mut w, &cols, &it, self.crs)?;
                    n += 1;
                    Ok(())
                })
                .await?;
                w.flush()?;
            }
            ExportFormat::Fgb => unreachable!("FlatGeobuf is written by Plan::fgb"),
        }
        Ok(n)
    }

    /// The extra-property names the selected items carry.
    async fn extra_keys(&self) -> Result<Vec<String>, ExportError> {
        if self.whole_layer() {
            return Ok(self.store.layer_extra_keys(self.layer).await?);
        }
        let mut keys = BTreeSet::new();
        self.each(|it| {
            if let Item::Asset(a) = &it {
                keys.extend(a.attrs.extra.keys().cloned());
            }
            Ok(())
        })
        .await?;
        Ok(keys.into_iter().collect())
    }

    /// FlatGeobuf with its packed Hilbert R-tree, into a file it can seek in.
    async fn fgb(&self, file: File) -> Result<u64, ExportError> {
        let c = Collection::Assets(self.layer);
        // The plan: each selected feature's id and box, in id order (24 bytes a feature).
        let mut ids: Vec<AssetId> = Vec::new();
        let mut boxes: Vec<fgb::Box32> = Vec::new();
        let extra = if self.whole_layer() {
            let mut rows = std::pin::pin!(self.store.layer_boxes(self.layer));
            while let Some(r) = rows.next().await {
                let (id, b) = r?;
                ids.push(id);
                boxes.push(fgb::box_of_bounds(b));
            }
            self.store.layer_extra_keys(self.layer).await?
        } else {
            let mut keys = BTreeSet::new();
            self.each(|it| {
                if let Item::Asset(a) = &it {
                    ids.push(a.id);
                    keys.extend(a.attrs.extra.keys().cloned());
                }
                boxes.push(fgb::box_in(&it, self.crs));
                Ok(())
            })
            .await?;
            keys.into_iter().collect()
        };
        let n = ids.len();
        let extent = fgb::extent_of(boxes.iter().copied());
        let order = fgb::leaf_order(boxes.iter().copied(), &extent);
        let columns = features::columns_with(c, extra);
        let header = fgb::header(c, &columns, self.crs, extent, n);
        let features_at = header.len() as u64 + fgb::tree_len(n);

        // The features, in leaf order, after the space the index will take.
        let mut out = BufWriter::with_capacity(1 << 20, file);
        out.seek(SeekFrom::Start(features_at))?;
        let mut enc = fgb::Encoder::new(&columns, self.crs);
        let mut sizes: Vec<u32> = Vec::with_capacity(n);
        let mut batch: Vec<AssetId> = Vec::with_capacity(FETCH);
        for chunk in order.chunks(FETCH) {
            batch.clear();
            batch.extend(chunk.iter().map(|&i| ids[i as usize]));
            for a in self.store.assets_in_order(&batch).await? {
                let bytes = enc.encode(&self.item(a));
                sizes.push(bytes.len() as u32);
                out.write_all(bytes)?;
            }
        }
        drop(ids);

        // Then the header and the index in front of them.
        out.seek(SeekFrom::Start(0))?;
        out.write_all(&header)?;
        let mut offset = 0u64;
        fgb::write_tree(
            &mut out,
            n,
            |k| boxes[order[k] as usize],
            |k| {
                let at = offset;
                offset += u64::from(sizes[k]);
                Ok(at)
            },
        )?;
        out.flush()?;
        Ok(n as u64)
    }
}
