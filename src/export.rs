//! Export: assets as GeoJSON, streamed from the store so a layer of millions never sits
//! in memory at once. Features are built by [`crate::features::feature`], as the HTTP API's are.

use std::io::Write;

use futures_util::StreamExt;

use crate::model::Layer;
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
}

/// Streams a layer to `out`; returns the number of features written.
pub async fn write_layer<W: Write>(
    store: &Store,
    layer: Layer,
    format: ExportFormat,
    mut out: W,
) -> Result<u64, ExportError> {
    let mut rows = std::pin::pin!(store.stream_layer(layer));
    let mut n = 0u64;
    if format == ExportFormat::Geojson {
        writeln!(
            out,
            "{{\"type\":\"FeatureCollection\",\"name\":\"{}\",\"features\":[",
            layer.as_str()
        )?;
    }
    while let Some(asset) = rows.next().await {
        let asset = asset?;
        if format == ExportFormat::Geojson && n > 0 {
            out.write_all(b",\n")?;
        }
        serde_json::to_writer(&mut out, &crate::features::feature(&asset, &[]))
            .map_err(std::io::Error::from)?;
        if format == ExportFormat::Geojsonseq {
            out.write_all(b"\n")?;
        }
        n += 1;
    }
    if format == ExportFormat::Geojson {
        out.write_all(b"\n]}\n")?;
    }
    out.flush()?;
    Ok(n)
}
