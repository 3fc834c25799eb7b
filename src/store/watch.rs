//! The water-body watch: filling a water body is an offence in West Bengal, and the
//! register's versions are the evidence. A water body is flagged when its recorded area
//! has fallen by more than a set share of its first recorded area, or its status is
//! `filled` or `encroached` — delisted ones included, since a pond delisted because it
//! was filled is exactly what the watch is for.

use sqlx::Row;

use super::{Result, Store};
use crate::model::AssetId;

/// One flagged water body.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Watched {
    pub asset_id: AssetId,
    pub code: String,
    pub name: Option<String>,
    pub ward: Option<i64>,
    pub status: Option<String>,
    pub delisted_at: Option<String>,
    /// Geodesic area of the first recorded outline and of the current one, m².
    pub first_area_m2: Option<f64>,
    pub area_m2: Option<f64>,
    /// Area lost since first recorded (m²; negative: grown), and as a share of the first.
    pub area_lost_m2: Option<f64>,
    pub share_lost: Option<f64>,
    /// Why it is flagged: `area_loss`, `status_filled`, `status_encroached`.
    pub reasons: Vec<&'static str>,
    pub first_recorded_at: String,
    pub versions: Vec<WatchedVersion>,
    pub complaints: Vec<LinkedComplaint>,
}

/// A version's area and status: the outline over time.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct WatchedVersion {
    pub version: i64,
    pub at: String,
    pub actor: String,
    pub area_m2: Option<f64>,
    pub status: Option<String>,
    pub delisted: bool,
}

/// A complaint filed about the water body (its public face).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LinkedComplaint {
    pub ticket: String,
    pub category: String,
    pub status: String,
    pub created_at: String,
}

impl Store {
    /// Every flagged water body (or only `asset` when given), most area lost first.
    /// `share` is the loss, as a share of the first recorded area, that flags one.
    pub async fn water_watch(&self, share: f64, asset: Option<AssetId>) -> Result<Vec<Watched>> {
        let rows = sqlx::query(
            "SELECT a.id, a.code, a.name, a.ward, a.status, a.delisted_at, a.area_m2, \
                    f.area_m2 AS first_area_m2, f.at AS first_at \
             FROM assets a \
             JOIN asset_versions f ON f.asset_id = a.id \
              AND f.version = (SELECT min(version) FROM asset_versions WHERE asset_id = a.id) \
             WHERE a.layer = 'water_bodies' AND ($2 IS NULL OR a.id = $2) \
               AND (a.status IN ('filled', 'encroached') \
                    OR (f.area_m2 > 0 AND coalesce(a.area_m2, 0) < f.area_m2 * (1 - $1)))",
        )
        .bind(share)
        .bind(asset.map(|a| a.0))
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: i64 = r.try_get("id")?;
            let status: Option<String> = r.try_get("status")?;
            let area: Option<f64> = r.try_get("area_m2")?;
            let first: Option<f64> = r.try_get("first_area_m2")?;
            let lost = first.map(|f| f - area.unwrap_or(0.0));
            let share_lost = match (lost, first) {
                (Some(l), Some(f)) if f > 0.0 => Some(l / f),
                _ => None,
            };
            let mut reasons = Vec::new();
            if share_lost.is_some_and(|s| s > share) {
                reasons.push("area_loss");
            }
            match status.as_deref() {
                Some("filled") => reasons.push("status_filled"),
                Some("encroached") => reasons.push("status_encroached"),
                _ => {}
            }
            let versions = sqlx::query(
                "SELECT version, at, actor, area_m2, status, delisted_at FROM asset_versions \
                 WHERE asset_id = $1 ORDER BY version",
            )
            .bind(id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|v| {
                Ok(WatchedVersion {
                    version: v.try_get("version")?,
                    at: v.try_get("at")?,
                    actor: v.try_get("actor")?,
                    area_m2: v.try_get("area_m2")?,
                    status: v.try_get("status")?,
                    delisted: v.try_get::<Option<String>, _>("delisted_at")?.is_some(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
            let complaints = sqlx::query(
                "SELECT ticket, category, status, created_at FROM complaints \
                 WHERE asset_id = $1 ORDER BY id",
            )
            .bind(id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|c| {
                Ok(LinkedComplaint {
                    ticket: c.try_get("ticket")?,
                    category: c.try_get("category")?,
                    status: c.try_get("status")?,
                    created_at: c.try_get("created_at")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
            out.push(Watched {
                asset_id: AssetId(id),
                code: r.try_get("code")?,
                name: r.try_get("name")?,
                ward: r.try_get("ward")?,
                status,
                delisted_at: r.try_get("delisted_at")?,
                first_area_m2: first,
                area_m2: area,
                area_lost_m2: lost,
                share_lost,
                reasons,
                first_recorded_at: r.try_get("first_at")?,
                versions,
                complaints,
            });
        }
        out.sort_by(|a, b| {
            b.area_lost_m2
                .unwrap_or(0.0)
                .total_cmp(&a.area_lost_m2.unwrap_or(0.0))
        });
        Ok(out)
    }
}
