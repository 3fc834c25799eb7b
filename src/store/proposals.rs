//! Proposals: changes to the register field staff make, kept until an officer approves
//! (the change is written, in the approval's own transaction) or rejects them.

use std::str::FromStr;

use sqlx::any::AnyRow;
use sqlx::Row;

use super::assets::RegisterTx;
use super::audit::{self, AuditEntry};
use super::{Result, Store, StoreError};
use crate::model::{AssetId, Layer, ProposalAction, ProposalStatus};

/// A proposal to put on record.
#[derive(Debug, Clone)]
pub struct NewProposal {
    pub layer: Layer,
    pub asset: Option<AssetId>,
    pub base_version: Option<i64>,
    pub action: ProposalAction,
    /// The proposed whole state, a GeoJSON Feature (`None` for a delisting).
    pub feature: Option<serde_json::Value>,
    /// For an update, the merge patch as sent.
    pub patch: Option<serde_json::Value>,
    pub note: Option<String>,
    pub ward: Option<i64>,
    pub proposer: String,
}

/// A proposal as stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Proposal {
    pub id: i64,
    pub layer: Layer,
    pub asset_id: Option<AssetId>,
    pub base_version: Option<i64>,
    pub action: ProposalAction,
    pub feature: Option<serde_json::Value>,
    pub patch: Option<serde_json::Value>,
    pub note: Option<String>,
    pub ward: Option<i64>,
    pub proposer: String,
    pub status: ProposalStatus,
    pub created_at: String,
    pub decided_at: Option<String>,
    pub decided_by: Option<String>,
    pub decision_note: Option<String>,
    pub result_version: Option<i64>,
}

fn decode(r: &AnyRow) -> Result<Proposal> {
    let id: i64 = r.try_get("id")?;
    let corrupt = |what: String| StoreError::Corrupt {
        table: "proposal",
        id,
        what,
    };
    let json = |col: &str| -> Result<Option<serde_json::Value>> {
        r.try_get::<Option<String>, _>(col)?
            .map(|s| serde_json::from_str(&s).map_err(|e| corrupt(format!("{col}: {e}"))))
            .transpose()
    };
    let text = |col: &str| -> Result<String> { Ok(r.try_get::<String, _>(col)?) };
    Ok(Proposal {
        id,
        layer: Layer::from_str(&text("layer")?).map_err(|e| corrupt(e.to_string()))?,
        asset_id: r.try_get::<Option<i64>, _>("asset_id")?.map(AssetId),
        base_version: r.try_get("base_version")?,
        action: text("action")?
            .parse()
            .map_err(|e: crate::model::UnknownValue| corrupt(e.to_string()))?,
        feature: json("feature")?,
        patch: json("patch")?,
        note: r.try_get("note")?,
        ward: r.try_get("ward")?,
        proposer: text("proposer")?,
        status: text("status")?
            .parse()
            .map_err(|e: crate::model::UnknownValue| corrupt(e.to_string()))?,
        created_at: text("created_at")?,
        decided_at: r.try_get("decided_at")?,
        decided_by: r.try_get("decided_by")?,
        decision_note: r.try_get("decision_note")?,
        result_version: r.try_get("result_version")?,
    })
}

impl Store {
    /// Puts a proposal on record with its audit entry, durably.
    pub async fn add_proposal(&self, p: &NewProposal, log: &AuditEntry) -> Result<Proposal> {
        let now = crate::model::now_rfc3339();
        let mut tx = self.write_tx(&self.durable).await?;
        let row = sqlx::query(
            "INSERT INTO proposals (layer, asset_id, base_version, action, feature, patch, note, \
             ward, proposer, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *",
        )
        .bind(p.layer.as_str())
        .bind(p.asset.map(|a| a.0))
        .bind(p.base_version)
        .bind(p.action.as_str())
        .bind(p.feature.as_ref().map(|f| f.to_string()))
        .bind(p.patch.as_ref().map(|f| f.to_string()))
        .bind(&p.note)
        .bind(p.ward)
        .bind(&p.proposer)
        .bind(&now)
        .fetch_one(&mut *tx)
        .await?;
        let stored = decode(&row)?;
        let mut log = log.clone();
        log.subject = format!("proposal-{}", stored.id);
        audit::append(&mut tx, &log, &now).await?;
        tx.commit().await?;
        Ok(stored)
    }

    pub async fn proposal(&self, id: i64) -> Result<Option<Proposal>> {
        let row = sqlx::query("SELECT * FROM proposals WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| decode(&r)).transpose()
    }

    /// Proposals, newest first, by status and ward when given; at most `limit`.
    pub async fn proposals(
        &self,
        status: Option<ProposalStatus>,
        ward: Option<i64>,
        proposer: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Proposal>> {
        let rows = sqlx::query(
            "SELECT * FROM proposals WHERE ($1 IS NULL OR status = $1) AND ($2 IS NULL OR ward = $2) \
             AND ($3 IS NULL OR proposer = $3) ORDER BY id DESC LIMIT $4",
        )
        .bind(status.map(|s| s.as_str()))
        .bind(ward)
        .bind(proposer)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decode).collect()
    }

    /// Rejects a pending proposal, with its audit entry. Returns whether it was pending.
    pub async fn reject_proposal(
        &self,
        id: i64,
        by: &str,
        note: &str,
        log: &AuditEntry,
    ) -> Result<bool> {
        let now = crate::model::now_rfc3339();
        let mut tx = self.write_tx(&self.durable).await?;
        let r = sqlx::query(
            "UPDATE proposals SET status = 'rejected', decided_at = $1, decided_by = $2, \
             decision_note = $3 WHERE id = $4 AND status = 'pending'",
        )
        .bind(&now)
        .bind(by)
        .bind(note)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() == 0 {
            return Ok(false);
        }
        audit::append(&mut tx, log, &now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Moves a pending proposal onto version `base` with its re-applied state. Returns
    /// whether it was still pending at `was`.
    pub async fn rebase_proposal(
        &self,
        id: i64,
        was: i64,
        base: i64,
        feature: &serde_json::Value,
    ) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE proposals SET base_version = $1, feature = $2 \
             WHERE id = $3 AND status = 'pending' AND base_version = $4",
        )
        .bind(base)
        .bind(feature.to_string())
        .bind(id)
        .bind(was)
        .execute(&self.durable)
        .await?;
        Ok(r.rows_affected() > 0)
    }
}

impl RegisterTx {
    /// Marks a pending proposal approved, in the transaction that writes its change.
    /// Returns whether it was still pending (if not, the caller rolls back).
    pub async fn approve_proposal(
        &mut self,
        id: i64,
        by: &str,
        note: Option<&str>,
        asset: AssetId,
        result_version: i64,
    ) -> Result<bool> {
        let now = self.now().to_string();
        let r = sqlx::query(
            "UPDATE proposals SET status = 'approved', decided_at = $1, decided_by = $2, \
             decision_note = $3, asset_id = $4, result_version = $5 \
             WHERE id = $6 AND status = 'pending'",
        )
        .bind(&now)
        .bind(by)
        .bind(note)
        .bind(asset.0)
        .bind(result_version)
        .bind(id)
        .execute(self.conn())
        .await?;
        Ok(r.rows_affected() > 0)
    }
}
