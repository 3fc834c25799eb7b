//! Application types, every version kept (see `migrations/0008_application_types.sql`).

use sqlx::Row;

use super::{Result, Store, StoreError};
use crate::applications::AppType;

impl Store {
    /// Puts each definition on record if its version is new; a version already on record
    /// must be the same definition (its digest), else the start stops with why. Returns
    /// the versions added.
    pub async fn sync_application_types(
        &self,
        types: &[AppType],
        at: &str,
    ) -> Result<Vec<(String, u32)>> {
        let mut tx = self.write_tx(&self.durable).await?;
        let mut added = Vec::new();
        for t in types {
            let digest = t.digest();
            let stored: Option<String> = sqlx::query_scalar(
                "SELECT digest FROM application_types WHERE code = $1 AND version = $2",
            )
            .bind(&t.code)
            .bind(i64::from(t.version))
            .fetch_optional(&mut *tx)
            .await?;
            match stored {
                Some(d) if d == digest => {}
                Some(_) => {
                    return Err(StoreError::Definition(format!(
                        "application type {} version {} on record differs from the definition loaded: \
                         a changed definition needs a new version (cases keep the one they started under)",
                        t.code, t.version
                    )))
                }
                None => {
                    let definition = serde_json::to_string(t)
                        .map_err(|e| StoreError::Encode(e.to_string()))?;
                    sqlx::query(
                        "INSERT INTO application_types (code, version, digest, definition, loaded_at) \
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(&t.code)
                    .bind(i64::from(t.version))
                    .bind(&digest)
                    .bind(&definition)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                    added.push((t.code.clone(), t.version));
                }
            }
        }
        tx.commit().await?;
        Ok(added)
    }

    /// One version of a type as it was put on record.
    pub async fn application_type(&self, code: &str, version: u32) -> Result<Option<AppType>> {
        let row = sqlx::query(
            "SELECT definition FROM application_types WHERE code = $1 AND version = $2",
        )
        .bind(code)
        .bind(i64::from(version))
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            let text: String = r.try_get("definition")?;
            AppType::parse(&text).map_err(|e| StoreError::Corrupt {
                table: "application type",
                id: i64::from(version),
                what: e.to_string(),
            })
        })
        .transpose()
    }

    /// The versions on record of a type, oldest first, with when each was loaded.
    pub async fn application_type_versions(&self, code: &str) -> Result<Vec<(u32, String)>> {
        let rows = sqlx::query(
            "SELECT version, loaded_at FROM application_types WHERE code = $1 ORDER BY version",
        )
        .bind(code)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get::<i64, _>("version")? as u32,
                    r.try_get("loaded_at")?,
                ))
            })
            .collect()
    }
}
