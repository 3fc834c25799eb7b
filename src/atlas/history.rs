//! Writes to an asset's history: an inspection, a maintenance work, a document. Each is
//! checked against who is asking (field staff work in their own ward), committed, and,
//! where it changes what the map shows (an inspection's condition), put into the index
//! and the tiles it touches dropped.

use std::sync::Arc;

use geo_types::Rect;

use super::Atlas;
use crate::documents::form::DocFields;
use crate::geom;
use crate::history::{self, FieldError, InspectionForm, MaintenanceForm};
use crate::model::{Asset, Role};
use crate::store::{AuditEntry, NewDocument, StoreError, User};
use crate::tiles::LayerSet;

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error(transparent)]
    Field(#[from] FieldError),
    #[error("no asset {0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    /// A change made against a version that is no longer current.
    #[error("{0}")]
    Stale(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("{0}")]
    TooLarge(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("storing the file: {0}")]
    Io(String),
    /// The document store is full or read-only: try again later.
    #[error("files cannot be stored just now ({0}); try again later")]
    Unavailable(String),
}

/// What was recorded, and the asset as it now stands.
#[derive(Debug)]
pub struct Recorded {
    pub id: i64,
    pub asset: Arc<Asset>,
}

/// An audit entry for a change to an asset's history.
fn entry(
    by: &User,
    action: &str,
    a: &Asset,
    public: bool,
    detail: serde_json::Value,
) -> AuditEntry {
    AuditEntry {
        actor: by.name.clone(),
        role: Some(by.role.as_str().into()),
        action: action.into(),
        subject: a.code.clone(),
        public,
        detail,
    }
}

fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

impl Atlas {
    /// The asset by code (or numeric id), as the index holds it.
    pub async fn asset_by_code(&self, code: &str) -> Result<Option<Arc<Asset>>, StoreError> {
        let stored = match code.parse::<i64>() {
            Ok(n) => self.store.get_asset(crate::model::AssetId(n)).await?,
            Err(_) => self.store.get_asset_by_code(code).await?,
        };
        Ok(stored.map(|a| self.index.get(a.id).unwrap_or_else(|| Arc::new(a))))
    }

    /// The water-body watch ([`crate::store::Store::water_watch`]), each with its ward
    /// found from its location when none is recorded.
    pub async fn water_watch(
        &self,
        share: f64,
        asset: Option<crate::model::AssetId>,
    ) -> Result<Vec<crate::store::Watched>, StoreError> {
        let mut all = self.store.water_watch(share, asset).await?;
        for w in &mut all {
            if w.ward.is_none() {
                if let Some(a) = self.asset_by_code(&w.code).await? {
                    w.ward = self.ward_of(&a);
                }
            }
        }
        Ok(all)
    }

    /// The ward an asset is in: its own `ward`, else the ward at a point inside it.
    pub fn ward_of(&self, a: &Asset) -> Option<i64> {
        a.attrs
            .ward
            .or_else(|| super::ward_containing(&self.index, a))
    }

    /// Field staff record history only for assets in their ward; officers and admins
    /// anywhere.
    fn may_record(&self, by: &User, a: &Asset) -> Result<(), HistoryError> {
        if by.role != Role::FieldStaff {
            return Ok(());
        }
        let ward = self.ward_of(a);
        if by.ward.is_some() && by.ward == ward {
            Ok(())
        } else {
            Err(HistoryError::Forbidden(format!(
                "{} is in ward {}; field staff record assets of their own ward ({})",
                a.code,
                ward.map_or("unknown".into(), |w| w.to_string()),
                by.ward.map_or("none".into(), |w| w.to_string()),
            )))
        }
    }

    /// A listed asset: a delisted one takes no more history.
    pub(super) async fn found(&self, code: &str) -> Result<Arc<Asset>, HistoryError> {
        let a = self
            .asset_by_code(code)
            .await?
            .ok_or_else(|| HistoryError::NotFound(code.to_string()))?;
        match self.index.get(a.id) {
            Some(listed) => Ok(listed),
            None => Err(HistoryError::NotFound(format!("{code} (delisted)"))),
        }
    }

    /// Puts a changed asset into the index and drops the tiles it touches.
    fn reindex(&self, changed: Asset) -> Arc<Asset> {
        let changed = self.locate_ward(changed);
        let boxes: Vec<Rect<f64>> = geom::bbox(&changed.geometry).into_iter().collect();
        let (layer, id) = (changed.layer, changed.id);
        self.index.write(layer).upsert(changed.clone());
        self.tiles.invalidate(LayerSet::of(&[layer]), &boxes);
        crate::index::refresh_names(&self.index, layer);
        self.index.get(id).unwrap_or_else(|| Arc::new(changed))
    }

    /// Records an inspection; its condition becomes the asset's (and the map's) unless a
    /// later inspection is on record.
    pub async fn record_inspection(
        &self,
        code: &str,
        form: InspectionForm,
        by: &User,
    ) -> Result<Recorded, HistoryError> {
        let asset = self.found(code).await?;
        self.may_record(by, &asset)?;
        let i = form.check(&by.name, today())?;
        let log = entry(
            by,
            "inspection.add",
            &asset,
            true,
            serde_json::json!({
                "condition": i.condition,
                "inspected_at": i.inspected_at,
                "notes": i.notes,
            }),
        );
        let (id, changed) = self
            .store
            .add_inspection(asset.id, &i, &crate::model::now_rfc3339(), &log)
            .await?;
        let asset = match changed {
            Some(a) => self.reindex(a),
            None => asset,
        };
        Ok(Recorded { id, asset })
    }

    /// Records a maintenance work; a completed one moves `last_maintained_at`.
    pub async fn record_maintenance(
        &self,
        code: &str,
        form: MaintenanceForm,
        by: &User,
    ) -> Result<Recorded, HistoryError> {
        let asset = self.found(code).await?;
        self.may_record(by, &asset)?;
        let m = form.check(today())?;
        let log = entry(
            by,
            "maintenance.add",
            &asset,
            true,
            serde_json::json!({
                "description": m.description,
                "started_on": m.started_on,
                "completed_on": m.completed_on,
                "contractor": m.contractor,
                "cost_inr": m.cost_inr,
            }),
        );
        let (id, changed) = self
            .store
            .add_maintenance(asset.id, &m, &crate::model::now_rfc3339(), &log)
            .await?;
        let asset = match changed {
            Some(a) => self.reindex(a),
            None => asset,
        };
        Ok(Recorded { id, asset })
    }

    /// A document's bytes, if it is on record (public or not: the caller decides).
    pub async fn document_bytes(&self, sha256: &str) -> Result<Vec<u8>, HistoryError> {
        let store = self.documents.clone();
        let h = sha256.to_string();
        tokio::task::spawn_blocking(move || store.get(&h))
            .await
            .map_err(|e| HistoryError::Io(e.to_string()))?
            .map_err(|e| HistoryError::Io(e.to_string()))
    }
}

/// The bundled sample history (`data/records.json`) and the documents it names.
const BUNDLED_RECORDS: &[u8] = include_bytes!("../../data/records.json");
const BUNDLED_DOCUMENTS: [(&str, &[u8]); 2] = [
    (
        "her-0001-listing-notice.pdf",
        include_bytes!("../../data/documents/her-0001-listing-notice.pdf"),
    ),
    (
        "wat-0012-filling-notice.pdf",
        include_bytes!("../../data/documents/wat-0012-filling-notice.pdf"),
    ),
];
/// `meta` key recording that the bundled history was loaded (apart from the assets, so a
/// database seeded before there was any history gets it once too).
pub(super) const BUNDLED_HISTORY_KEY: &str = "bundled_records_loaded_at";

/// Why the bundled history did not load: a bug in this build (its data fails its own
/// checks) or a store that cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum BundledHistoryError {
    #[error("records.json: {0}")]
    Json(serde_json::Error),
    #[error("inspection of {asset}: {reason}")]
    Inspection { asset: String, reason: FieldError },
    #[error("maintenance of {asset}: {reason}")]
    Maintenance { asset: String, reason: FieldError },
    #[error("document {file}: {reason}")]
    Document { file: String, reason: FieldError },
    #[error("document {0} is not bundled")]
    NotBundled(String),
    #[error("document {0} is of no accepted type")]
    NoAcceptedType(String),
    #[error("storing {file}: {reason}")]
    Io {
        file: String,
        reason: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(serde::Deserialize)]
struct Bundle {
    inspections: Vec<BundledInspection>,
    maintenance: Vec<BundledMaintenance>,
    documents: Vec<BundledDocument>,
}

#[derive(serde::Deserialize)]
struct BundledInspection {
    asset: String,
    inspector: String,
    #[serde(flatten)]
    form: InspectionForm,
}

#[derive(serde::Deserialize)]
struct BundledMaintenance {
    asset: String,
    #[serde(flatten)]
    form: MaintenanceForm,
}

#[derive(serde::Deserialize)]
struct BundledDocument {
    asset: String,
    file: String,
    #[serde(flatten)]
    fields: std::collections::BTreeMap<String, String>,
}

/// Loads the bundled history once: the documents' bytes first, then every record in one
/// transaction. Bundled data that fails its own checks is a bug in this build: an error.
pub(super) async fn load_bundled_history(
    store: &crate::store::Store,
    documents: &crate::blobs::BlobStore,
) -> Result<u64, BundledHistoryError> {
    let b: Bundle = serde_json::from_slice(BUNDLED_RECORDS).map_err(BundledHistoryError::Json)?;
    let today = today();
    let mut batch = crate::store::HistoryBatch::default();
    for i in b.inspections {
        let checked = i.form.check(&i.inspector, today).map_err(|reason| {
            BundledHistoryError::Inspection {
                asset: i.asset.clone(),
                reason,
            }
        })?;
        batch.inspections.push((i.asset, checked));
    }
    for m in b.maintenance {
        let checked = m
            .form
            .check(today)
            .map_err(|reason| BundledHistoryError::Maintenance {
                asset: m.asset.clone(),
                reason,
            })?;
        batch.maintenance.push((m.asset, checked));
    }
    for d in b.documents {
        let bytes = BUNDLED_DOCUMENTS
            .iter()
            .find(|(name, _)| *name == d.file)
            .map(|(_, b)| *b)
            .ok_or_else(|| BundledHistoryError::NotBundled(d.file.clone()))?;
        let media_type = history::document_type(bytes)
            .ok_or_else(|| BundledHistoryError::NoAcceptedType(d.file.clone()))?;
        let sha256 = history::sha256_hex(bytes);
        documents
            .put_async(&sha256, bytes)
            .await
            .map_err(|reason| BundledHistoryError::Io {
                file: d.file.clone(),
                reason,
            })?;
        let pairs: Vec<(String, String)> = d.fields.into_iter().collect();
        let fields = DocFields::from_pairs(&pairs, today).map_err(|reason| {
            BundledHistoryError::Document {
                file: d.file.clone(),
                reason,
            }
        })?;
        let title = fields
            .title
            .clone()
            .flatten()
            .unwrap_or_else(|| d.file.clone());
        let meta = fields
            .apply(crate::documents::form::blank(title))
            .map_err(|reason| BundledHistoryError::Document {
                file: d.file.clone(),
                reason,
            })?;
        batch.documents.push((
            d.asset,
            NewDocument {
                sha256,
                media_type: media_type.into(),
                size: bytes.len() as i64,
                meta,
            },
        ));
    }
    Ok(store
        .load_history(&batch, BUNDLED_HISTORY_KEY, &crate::model::now_rfc3339())
        .await?)
}
