//! An asset's history: inspections, maintenance works and documents. Recording one also
//! moves the asset's own summary (condition and when it was assessed, when it was last
//! maintained) in the same transaction, so the register never disagrees with its history.

use sqlx::Row;

use super::assets::decode_asset;
use super::audit::AuditEntry;
use super::documents::{self, NewDocument};
use super::versions::{self, EditContext};
use super::{Result, Store};
use crate::history::{NewInspection, NewMaintenance};
use crate::model::{Asset, AssetId};

/// One inspection of an asset.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Inspection {
    pub id: i64,
    pub inspected_at: String,
    pub condition: String,
    pub notes: Option<String>,
    pub inspector: Option<String>,
}

/// One maintenance work on an asset.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Maintenance {
    pub id: i64,
    pub started_on: Option<String>,
    pub completed_on: Option<String>,
    pub description: String,
    pub contractor: Option<String>,
    pub cost_inr: Option<i64>,
}

impl Store {
    pub async fn inspections(&self, id: AssetId) -> Result<Vec<Inspection>> {
        let rows = sqlx::query("SELECT id, inspected_at, condition, notes, inspector FROM inspections WHERE asset_id = $1 ORDER BY inspected_at DESC, id DESC")
            .bind(id.0)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|r| Inspection {
                id: r.get("id"),
                inspected_at: r.get("inspected_at"),
                condition: r.get("condition"),
                notes: r.get("notes"),
                inspector: r.get("inspector"),
            })
            .collect())
    }

    pub async fn maintenance(&self, id: AssetId) -> Result<Vec<Maintenance>> {
        let rows = sqlx::query("SELECT id, started_on, completed_on, description, contractor, cost_inr FROM maintenance WHERE asset_id = $1 ORDER BY started_on DESC NULLS LAST, id DESC")
            .bind(id.0)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|r| Maintenance {
                id: r.get("id"),
                started_on: r.get("started_on"),
                completed_on: r.get("completed_on"),
                description: r.get("description"),
                contractor: r.get("contractor"),
                cost_inr: r.get("cost_inr"),
            })
            .collect())
    }

    /// Stores an inspection and makes its condition the asset's, unless a later inspection
    /// is already on record. Returns the inspection's id and the asset as it now stands.
    pub async fn add_inspection(
        &self,
        asset: AssetId,
        i: &NewInspection,
        now: &str,
        log: &AuditEntry,
    ) -> Result<(i64, Option<Asset>)> {
        let mut tx = self.write_tx(&self.durable).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO inspections (asset_id, inspected_at, condition, notes, inspector, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(asset.0)
        .bind(&i.inspected_at)
        .bind(i.condition.as_str())
        .bind(&i.notes)
        .bind(&i.inspector)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        versions::open(&mut tx, &EditContext::of(log)).await?;
        versions::log(&mut tx, log, now).await?;
        // Dates and instants compare as text: `2026-11-01` < `2026-11-01T…`.
        let row = sqlx::query(&format!(
            "UPDATE assets SET condition = $1, condition_assessed_at = $2, updated_at = $3, version = version + 1 \
             WHERE id = $4 AND (condition_assessed_at IS NULL OR condition_assessed_at <= $5) RETURNING {}",
            super::assets::asset_cols(self.backend)
        ))
        .bind(i.condition.as_str())
        .bind(&i.inspected_at)
        .bind(now)
        .bind(asset.0)
        .bind(&i.inspected_at)
        .fetch_optional(&mut *tx)
        .await?;
        versions::close(&mut tx).await?;
        tx.commit().await?;
        Ok((id, row.map(|r| decode_asset(&r)).transpose()?))
    }

    /// Stores a maintenance work; a completed one moves the asset's `last_maintained_at`
    /// forward. Returns the work's id and the asset if it changed.
    pub async fn add_maintenance(
        &self,
        asset: AssetId,
        m: &NewMaintenance,
        now: &str,
        log: &AuditEntry,
    ) -> Result<(i64, Option<Asset>)> {
        let mut tx = self.write_tx(&self.durable).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO maintenance (asset_id, started_on, completed_on, description, contractor, cost_inr, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(asset.0)
        .bind(&m.started_on)
        .bind(&m.completed_on)
        .bind(&m.description)
        .bind(&m.contractor)
        .bind(m.cost_inr)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        versions::open(&mut tx, &EditContext::of(log)).await?;
        versions::log(&mut tx, log, now).await?;
        let mut changed = None;
        if let Some(done) = &m.completed_on {
            let row = sqlx::query(&format!(
                "UPDATE assets SET last_maintained_at = $1, updated_at = $2, version = version + 1 \
                 WHERE id = $3 AND (last_maintained_at IS NULL OR last_maintained_at < $4) RETURNING {}",
            super::assets::asset_cols(self.backend)
            ))
            .bind(done)
            .bind(now)
            .bind(asset.0)
            .bind(done)
            .fetch_optional(&mut *tx)
            .await?;
            changed = row.map(|r| decode_asset(&r)).transpose()?;
        }
        versions::close(&mut tx).await?;
        tx.commit().await?;
        Ok((id, changed))
    }
}

/// History to load in one go (the bundled sample records), by asset code.
#[derive(Debug, Default)]
pub struct HistoryBatch {
    pub inspections: Vec<(String, NewInspection)>,
    pub maintenance: Vec<(String, NewMaintenance)>,
    /// Documents whose bytes are already stored.
    pub documents: Vec<(String, NewDocument)>,
}

impl Store {
    /// Loads a batch in one transaction and sets `meta_key` in it, so a batch loads whole
    /// and once. Records of codes not in the register are skipped; each asset's summary
    /// (condition and when assessed, last maintained) is brought in line with its history.
    /// Returns how many records were added.
    pub async fn load_history(&self, b: &HistoryBatch, meta_key: &str, now: &str) -> Result<u64> {
        let mut tx = self.write_tx(&self.durable).await?;
        // Another server starting on the same new database may have loaded it while this
        // one waited for the writer's lock: loaded once, not twice.
        if super::meta_value(&mut *tx, meta_key).await?.is_some() {
            return Ok(0);
        }
        versions::open(&mut tx, &EditContext::import("bundled history")).await?;
        let mut added = 0;
        let id_of = "SELECT id FROM assets WHERE code = $1";
        for (code, i) in &b.inspections {
            let Some(id) = sqlx::query_scalar::<_, i64>(id_of)
                .bind(code)
                .fetch_optional(&mut *tx)
                .await?
            else {
                continue;
            };
            sqlx::query(
                "INSERT INTO inspections (asset_id, inspected_at, condition, notes, inspector, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(id)
            .bind(&i.inspected_at)
            .bind(i.condition.as_str())
            .bind(&i.notes)
            .bind(&i.inspector)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE assets SET condition = $1, condition_assessed_at = $2, version = version + 1 \
                 WHERE id = $3 AND (condition_assessed_at IS NULL OR condition_assessed_at <= $4)",
            )
            .bind(i.condition.as_str())
            .bind(&i.inspected_at)
            .bind(id)
            .bind(&i.inspected_at)
            .execute(&mut *tx)
            .await?;
            added += 1;
        }
        for (code, m) in &b.maintenance {
            let Some(id) = sqlx::query_scalar::<_, i64>(id_of)
                .bind(code)
                .fetch_optional(&mut *tx)
                .await?
            else {
                continue;
            };
            sqlx::query(
                "INSERT INTO maintenance (asset_id, started_on, completed_on, description, contractor, cost_inr, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(id)
            .bind(&m.started_on)
            .bind(&m.completed_on)
            .bind(&m.description)
            .bind(&m.contractor)
            .bind(m.cost_inr)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if let Some(done) = &m.completed_on {
                sqlx::query(
                    "UPDATE assets SET last_maintained_at = $1, version = version + 1 \
                     WHERE id = $2 AND (last_maintained_at IS NULL OR last_maintained_at < $3)",
                )
                .bind(done)
                .bind(id)
                .bind(done)
                .execute(&mut *tx)
                .await?;
            }
            added += 1;
        }
        for (code, d) in &b.documents {
            let Some(id) = sqlx::query_scalar::<_, i64>(id_of)
                .bind(code)
                .fetch_optional(&mut *tx)
                .await?
            else {
                continue;
            };
            let mut d = d.clone();
            d.meta.assets = vec![AssetId(id)];
            if let Some(r) = documents::insert(&mut tx, &d, now).await? {
                documents::first_version(&mut tx, &r, now, "system", Some("bundled history"))
                    .await?;
                added += 1;
            }
        }
        sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
            .bind(meta_key)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        versions::close(&mut tx).await?;
        tx.commit().await?;
        Ok(added)
    }
}
