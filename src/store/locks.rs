//! Heritage locks as recorded (see `migrations/0009_heritage_locks.sql`); no row: locked.

use sqlx::Row;

use super::{AuditEntry, Result, Store};
use crate::model::AssetId;

/// A lock as recorded.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LockRecord {
    pub state: String,
    pub application: Option<String>,
    pub reason: String,
    pub at: String,
    pub by: Option<String>,
}

impl Store {
    /// Every recorded lock, as the assets' records show it.
    pub async fn heritage_lock_marks(&self) -> Result<Vec<(AssetId, crate::model::LockMark)>> {
        let rows = sqlx::query("SELECT asset_id, state, application FROM heritage_locks")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let state: String = r.try_get("state")?;
                Ok((
                    AssetId(r.try_get("asset_id")?),
                    crate::model::LockMark::new(&state, r.try_get("application")?),
                ))
            })
            .collect()
    }

    /// The recorded lock of an asset, if any was ever recorded.
    pub async fn heritage_lock(&self, asset: AssetId) -> Result<Option<LockRecord>> {
        let row = sqlx::query(
            "SELECT l.state, l.application, l.reason, l.at, u.name AS by_name \
             FROM heritage_locks l LEFT JOIN users u ON u.id = l.actor WHERE l.asset_id = $1",
        )
        .bind(asset.0)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(LockRecord {
                state: r.try_get("state")?,
                application: r.try_get("application")?,
                reason: r.try_get("reason")?,
                at: r.try_get("at")?,
                by: r.try_get("by_name")?,
            })
        })
        .transpose()
    }

    /// Records a lock state and its audit entry in one transaction.
    #[allow(clippy::too_many_arguments)]
    pub async fn set_heritage_lock(
        &self,
        asset: AssetId,
        state: &str,
        application: Option<&str>,
        reason: &str,
        actor: i64,
        at: &str,
        log: &AuditEntry,
    ) -> Result<()> {
        let mut tx = self.write_tx(&self.durable).await?;
        sqlx::query(
            "INSERT INTO heritage_locks (asset_id, state, application, reason, at, actor) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (asset_id) DO UPDATE SET \
             state = $2, application = $3, reason = $4, at = $5, actor = $6",
        )
        .bind(asset.0)
        .bind(state)
        .bind(application)
        .bind(reason)
        .bind(at)
        .bind(actor)
        .execute(&mut *tx)
        .await?;
        super::audit::append(&mut tx, log, at).await?;
        tx.commit().await?;
        Ok(())
    }
}
