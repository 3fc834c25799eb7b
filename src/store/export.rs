//! What a streamed export reads: a layer's boxes and extra-property names without
//! decoding a geometry, and assets by id in the order asked for.

use futures_util::{Stream, StreamExt};
use sqlx::Row;

use super::{decode_asset, Result, Store, StoreError};
use crate::model::{Asset, AssetId, Layer};

/// Ids asked for in one `IN (…)`: well under SQLite's 32,766 bound parameters.
const BATCH: usize = 500;

impl Store {
    /// Every asset of a layer as its id and stored lon/lat box (west, south, east,
    /// north), in id order: what a FlatGeobuf index needs, read without a geometry.
    pub fn layer_boxes(
        &self,
        layer: Layer,
    ) -> impl Stream<Item = Result<(AssetId, [f64; 4])>> + Send + '_ {
        sqlx::query("SELECT id, minx, miny, maxx, maxy FROM assets WHERE layer = ? ORDER BY id")
            .bind(layer.as_str())
            .fetch(&self.pool)
            .map(|row| {
                let r = row?;
                Ok((
                    AssetId(r.try_get("id")?),
                    [
                        r.try_get("minx")?,
                        r.try_get("miny")?,
                        r.try_get("maxx")?,
                        r.try_get("maxy")?,
                    ],
                ))
            })
    }

    /// The names of the extra properties (those with no column) any asset of the layer
    /// carries, in name order.
    pub async fn layer_extra_keys(&self, layer: Layer) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT DISTINCT j.key AS key FROM assets, json_each(assets.extra) AS j \
             WHERE assets.layer = ? ORDER BY j.key",
        )
        .bind(layer.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| r.try_get::<String, _>("key").map_err(StoreError::from))
            .collect()
    }

    /// The assets with these ids, in the order given (a batch at a time; a missing id is
    /// an error: the export was planned from rows that must still be there).
    pub async fn assets_in_order(&self, ids: &[AssetId]) -> Result<Vec<Asset>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(BATCH) {
            let marks = vec!["?"; chunk.len()].join(",");
            let sql = format!("SELECT * FROM assets WHERE id IN ({marks})");
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(id.0);
            }
            let mut found: rustc_hash::FxHashMap<i64, Asset> = rustc_hash::FxHashMap::default();
            for row in q.fetch_all(&self.pool).await? {
                let a = decode_asset(&row)?;
                found.insert(a.id.0, a);
            }
            for id in chunk {
                out.push(found.remove(&id.0).ok_or_else(|| {
                    StoreError::Encode(format!("asset {} vanished during the export", id.0))
                })?);
            }
        }
        Ok(out)
    }
}
