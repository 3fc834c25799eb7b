//! Export: assets as GeoJSON, streamed from the store so a layer of millions never sits
//! in memory at once. The HTTP API builds its features with the same [`feature`].

use std::io::Write;

use futures_util::StreamExt;
use serde_json::{json, Map, Value};

use crate::model::{Asset, Layer};
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

/// An asset as a GeoJSON Feature, with extra properties appended (e.g. `distance_m`).
pub fn feature(a: &Asset, extra: &[(&str, Value)]) -> Value {
    let mut props: Map<String, Value> = a.properties();
    for (k, v) in extra {
        props.insert((*k).to_string(), v.clone());
    }
    json!({
        "type": "Feature",
        "id": a.id.0,
        "geometry": geojson::Geometry::new(geojson::Value::from(&a.geometry)),
        "properties": props,
    })
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
        serde_json::to_writer(&mut out, &feature(&asset, &[])).map_err(std::io::Error::from)?;
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
