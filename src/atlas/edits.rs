//! Staff edits to the register: add an asset, replace or update it, delist it, restore an
//! old version. Each is one transaction with its version (written by the store's
//! triggers) and its audit entry; the index and the tiles of the old and new geometry
//! change before the call returns, so the next request sees the edit.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::Atlas;
use crate::features::edit;
use crate::model::{Asset, AssetId, Layer, NewAsset, Role};
use crate::store::{
    AuditEntry, Edit, EditContext, Proposal, RegisterTx, StoreError, User, Version,
};

#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Invalid(String),
    /// The edit was made against a version that is no longer the current one.
    #[error("{} has changed: the edit was made against version {expected}, it is now at version {}", current.code, current.version)]
    Stale { expected: i64, current: Arc<Asset> },
    #[error("code {0} is already taken")]
    CodeTaken(String),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for EditError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::CodeTaken(c) | StoreError::CodeInOtherLayer { code: c, .. } => {
                EditError::CodeTaken(c)
            }
            e => EditError::Store(e),
        }
    }
}

/// Who makes an edit, and why: the signed-in user, their note, and the proposal the
/// edit approves (whose decision is written in the edit's own transaction).
#[derive(Debug, Clone, Copy)]
pub struct EditBy<'a> {
    pub user: &'a User,
    pub note: Option<&'a str>,
    pub approves: Option<&'a Proposal>,
}

impl<'a> EditBy<'a> {
    /// A staff member's own edit.
    pub fn user(user: &'a User, note: Option<&'a str>) -> Self {
        EditBy {
            user,
            note,
            approves: None,
        }
    }
}

/// How an existing asset is changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rewrite {
    /// A whole new state (`PUT`).
    Replace,
    /// Some properties or the geometry (`PATCH`).
    Update,
}

impl Rewrite {
    fn action(self) -> &'static str {
        match self {
            Rewrite::Replace => "asset.replace",
            Rewrite::Update => "asset.update",
        }
    }
}

/// What changed between two states of an asset: each property whose value differs
/// (before, after), whether the geometry moved, and the area either side.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Diff {
    pub properties: Map<String, Value>,
    pub geometry_changed: bool,
    pub area_before_m2: Option<f64>,
    pub area_after_m2: Option<f64>,
    pub area_change_m2: Option<f64>,
}

/// The difference between `before` (`None`: nothing yet) and `after`.
pub fn diff(before: Option<&Asset>, after: &Asset) -> Diff {
    let old = before.map(stored_properties).unwrap_or_default();
    let new = stored_properties(after);
    let mut properties = Map::new();
    let keys: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for k in keys {
        let (a, b) = (
            old.get(k).unwrap_or(&Value::Null),
            new.get(k).unwrap_or(&Value::Null),
        );
        if a != b {
            properties.insert(k.clone(), serde_json::json!({ "before": a, "after": b }));
        }
    }
    let area_before_m2 = before.and_then(|b| b.area_m2);
    Diff {
        properties,
        geometry_changed: before.is_none_or(|b| b.geometry != after.geometry),
        area_before_m2,
        area_after_m2: after.area_m2,
        area_change_m2: match (area_before_m2, after.area_m2) {
            (Some(a), Some(b)) => Some(b - a),
            _ => None,
        },
    }
}

/// The properties an edit can change: the Feature an edit starts from
/// ([`edit::editable_feature`]: no computed ward, area, timestamps or version), less
/// the code, which no edit changes.
pub(super) fn stored_properties(a: &Asset) -> Map<String, Value> {
    let mut f = edit::editable_feature(a);
    let mut p = match f.get_mut("properties").map(Value::take) {
        Some(Value::Object(p)) => p,
        _ => Map::new(),
    };
    p.remove("code");
    p
}

/// Who may change the register directly: officers and admins (the ward boundaries:
/// admins only). Field staff propose.
fn may_edit(by: &User, layer: Layer) -> Result<(), EditError> {
    match by.role {
        Role::FieldStaff => Err(EditError::Forbidden(
            "field staff propose changes to the register; an officer applies them".into(),
        )),
        Role::Officer if layer == Layer::Wards => Err(EditError::Forbidden(
            "ward boundaries are changed by an admin".into(),
        )),
        Role::Officer | Role::Admin => Ok(()),
    }
}

fn context(by: &EditBy<'_>, action: &str, note: Option<&str>) -> EditContext {
    EditContext {
        actor: by.user.name.clone(),
        role: Some(by.user.role.as_str().into()),
        action: action.into(),
        note: note.map(str::to_string),
    }
}

fn entry(c: &EditContext, code: &str, version: i64, d: &Diff) -> AuditEntry {
    AuditEntry {
        actor: c.actor.clone(),
        role: c.role.clone(),
        action: c.action.clone(),
        subject: code.to_string(),
        public: true,
        detail: serde_json::json!({
            "version": version,
            "note": c.note,
            "changed": d.properties.keys().collect::<Vec<_>>(),
            "geometry_changed": d.geometry_changed,
            "area_change_m2": d.area_change_m2,
        }),
    }
}

impl Atlas {
    /// The listed asset of `layer` with this code or numeric id.
    pub fn listed(&self, layer: Layer, code: &str) -> Result<Arc<Asset>, EditError> {
        let found = crate::features::item(
            &self.index,
            crate::features::Collection::Assets(layer),
            code,
        );
        match found {
            Some(crate::features::Item::Asset(a)) => Ok(a),
            _ => Err(EditError::NotFound(format!("no asset {code} in {layer}"))),
        }
    }

    /// Adds an asset to the register (`a.layer`); its code is assigned when not given.
    pub async fn create_asset(
        &self,
        mut a: NewAsset,
        by: &EditBy<'_>,
    ) -> Result<Arc<Asset>, EditError> {
        may_edit(by.user, a.layer)?;
        let c = context(by, "asset.create", by.note);
        let mut tx = self.store.begin_edit(&c).await?;
        let code = match &a.code {
            Some(code) => code.clone(),
            None => tx.assign_code(a.layer).await?,
        };
        a.code = Some(code.clone());
        let preview = preview(&a, &code, 1);
        tx.log(&entry(&c, &code, 1, &diff(None, &preview))).await?;
        let stored = tx.create(&a).await?;
        settle(&mut tx, by, &stored).await?;
        tx.commit().await?;
        Ok(self.apply(stored, true))
    }

    /// Rewrites the asset `code` of `a.layer`, made against version `expected`: `a` is
    /// its whole new state (for an update, the caller has merged the patch into it).
    pub async fn rewrite_asset(
        &self,
        code: &str,
        expected: i64,
        a: NewAsset,
        how: Rewrite,
        by: &EditBy<'_>,
    ) -> Result<Arc<Asset>, EditError> {
        may_edit(by.user, a.layer)?;
        let current = self.listed(a.layer, code)?;
        if current.version != expected {
            return Err(EditError::Stale { expected, current });
        }
        if let Some(c) = &a.code {
            if *c != current.code {
                return Err(EditError::Invalid(format!(
                    "code is {}; an asset's code cannot be changed",
                    current.code
                )));
            }
        }
        let c = context(by, how.action(), by.note);
        self.write(&current, expected, &c, &a, by).await
    }

    /// Takes the asset `code` of `layer` off the register (made against version
    /// `expected`), with a reason: it leaves the map, queries, tiles and exports; its
    /// history stays.
    pub async fn delist_asset(
        &self,
        layer: Layer,
        code: &str,
        expected: i64,
        reason: &str,
        by: &EditBy<'_>,
    ) -> Result<Asset, EditError> {
        may_edit(by.user, layer)?;
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 500 {
            return Err(EditError::Invalid(
                "say why the asset is delisted (a reason of 1 to 500 characters)".into(),
            ));
        }
        let current = self.listed(layer, code)?;
        if current.version != expected {
            return Err(EditError::Stale { expected, current });
        }
        let c = context(by, "asset.delist", Some(reason));
        let mut tx = self.store.begin_edit(&c).await?;
        tx.log(&AuditEntry {
            actor: c.actor.clone(),
            role: c.role.clone(),
            action: c.action.clone(),
            subject: current.code.clone(),
            public: true,
            detail: serde_json::json!({ "version": expected + 1, "reason": reason }),
        })
        .await?;
        let edit = tx.delist(current.id, expected, reason).await?;
        if let Edit::Written(gone) = &edit {
            settle(&mut tx, by, gone).await?;
        }
        tx.commit().await?;
        match edit {
            Edit::Written(gone) => {
                self.apply(gone, false);
                Ok((*current).clone())
            }
            Edit::Stale(now) => Err(EditError::Stale {
                expected,
                current: Arc::new(self.locate_ward(now)),
            }),
            Edit::Missing => Err(EditError::NotFound(format!("no asset {code}"))),
        }
    }

    /// Makes version `n` of an asset its state again, as a new version (listing it again
    /// if it was delisted since). `expected` is the version the restore is made against.
    pub async fn restore_version(
        &self,
        id: AssetId,
        n: i64,
        expected: i64,
        by: &EditBy<'_>,
    ) -> Result<Arc<Asset>, EditError> {
        let Some(old) = self.store.version(id, n).await? else {
            return Err(EditError::NotFound(format!("no version {n}")));
        };
        may_edit(by.user, old.asset.layer)?;
        if old.delisting.is_some() {
            return Err(EditError::Invalid(format!(
                "version {n} is a delisting; delist the asset instead"
            )));
        }
        let Some(current) = self.store.get_asset(id).await? else {
            return Err(EditError::NotFound(format!("no asset {}", id.0)));
        };
        let current = Arc::new(self.locate_ward(current));
        if current.version != expected {
            return Err(EditError::Stale { expected, current });
        }
        let a = new_asset_of(&old);
        let note = by
            .note
            .map_or_else(|| format!("restores version {n}"), str::to_string);
        let c = context(by, "asset.restore", Some(&note));
        self.write(&current, expected, &c, &a, by).await
    }

    /// Logs and writes `a` over `current` (made against version `expected`) in one
    /// transaction, then applies it.
    async fn write(
        &self,
        current: &Arc<Asset>,
        expected: i64,
        c: &EditContext,
        a: &NewAsset,
        by: &EditBy<'_>,
    ) -> Result<Arc<Asset>, EditError> {
        let d = diff(Some(current), &preview(a, &current.code, expected + 1));
        // Nothing would change (a listed asset written as it stands): no version, no
        // audit entry; the answer is the asset as it is. An approval still records its
        // decision, so it goes on.
        if d.properties.is_empty() && !d.geometry_changed && by.approves.is_none() {
            if let Some(listed) = self.index.get(current.id) {
                if listed.version == expected {
                    return Ok(listed);
                }
            }
        }
        let mut tx = self.store.begin_edit(c).await?;
        // The audit entry goes first, so the version carries its seq.
        tx.log(&entry(c, &current.code, expected + 1, &d)).await?;
        match tx.replace(current.id, expected, a).await? {
            Edit::Written(after) => {
                settle(&mut tx, by, &after).await?;
                tx.commit().await?;
                Ok(self.apply(after, true))
            }
            Edit::Stale(now) => Err(EditError::Stale {
                expected,
                current: Arc::new(self.locate_ward(now)),
            }),
            Edit::Missing => Err(EditError::NotFound(format!("no asset {}", current.code))),
        }
    }

    /// One version of an asset (for the versions API).
    pub async fn asset_version(&self, id: AssetId, n: i64) -> Result<Option<Version>, StoreError> {
        Ok(self.store.version(id, n).await?.map(|mut v| {
            v.asset = self.locate_ward(v.asset);
            v
        }))
    }
}

/// Marks the proposal an edit approves as approved, in the edit's transaction; if
/// another officer decided it meanwhile, the edit is not written (the transaction is
/// dropped, so rolled back).
async fn settle(tx: &mut RegisterTx, by: &EditBy<'_>, written: &Asset) -> Result<(), EditError> {
    let Some(p) = by.approves else {
        return Ok(());
    };
    let pending = tx
        .approve_proposal(p.id, &by.user.name, by.note, written.id, written.version)
        .await?;
    if pending {
        Ok(())
    } else {
        Err(EditError::Conflict(format!(
            "proposal {} was decided meanwhile",
            p.id
        )))
    }
}

/// The asset `a` would become, for the audit entry's diff of a new asset.
pub(super) fn preview(a: &NewAsset, code: &str, version: i64) -> Asset {
    let mut attrs = a.attrs.clone();
    attrs.kind = Some(a.kind);
    Asset {
        id: AssetId(0),
        code: code.to_string(),
        layer: a.layer,
        kind: a.kind,
        attrs,
        area_m2: crate::geom::geodesic_area_m2(&a.geometry),
        geometry: a.geometry.clone(),
        created_at: String::new(),
        updated_at: String::new(),
        version,
        ward_from_location: false,
        lock: None,
    }
}

/// A stored version as a state to write again.
fn new_asset_of(v: &Version) -> NewAsset {
    NewAsset {
        layer: v.asset.layer,
        code: Some(v.asset.code.clone()),
        kind: v.asset.kind,
        attrs: v.asset.attrs.clone(),
        geometry: v.asset.geometry.clone(),
    }
}
