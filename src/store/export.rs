//! What a streamed export reads besides the assets themselves.

use sqlx::Row;

use super::{Result, Store, StoreError};
use crate::model::Layer;

impl Store {
    /// The stored box around a whole layer (west, south, east, north); `None` for an
    /// empty layer.
    pub async fn layer_extent(&self, layer: Layer) -> Result<Option<[f64; 4]>> {
        let r = sqlx::query(
            "SELECT min(minx) AS w, min(miny) AS s, max(maxx) AS e, max(maxy) AS n, \
             count(*) AS c FROM assets WHERE layer = ? AND delisted_at IS NULL",
        )
        .bind(layer.as_str())
        .fetch_one(&self.pool)
        .await?;
        let count: i64 = r.try_get("c")?;
        if count == 0 {
            return Ok(None);
        }
        Ok(Some([
            r.try_get("w")?,
            r.try_get("s")?,
            r.try_get("e")?,
            r.try_get("n")?,
        ]))
    }

    /// The names of the extra properties (those with no column) any asset of the layer
    /// carries, in name order: a download's extra columns, found without decoding a row.
    pub async fn layer_extra_keys(&self, layer: Layer) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT DISTINCT j.key AS key FROM assets, json_each(assets.extra) AS j \
             WHERE assets.layer = ? AND assets.delisted_at IS NULL ORDER BY j.key",
        )
        .bind(layer.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| r.try_get::<String, _>("key").map_err(StoreError::from))
            .collect()
    }
}
