//! Maker-checker: field staff propose changes to the assets of their ward; an officer
//! approves one (its change is written with the approval in one transaction) or rejects
//! it. A proposal made against a version that has since changed is never applied: an
//! update is rebased (its patch applied again to the new version, if the two touch
//! different fields), anything else is rejected and proposed again.

use std::sync::Arc;

use serde_json::Value;

use super::edits::{diff, preview, stored_properties, EditBy, EditError, Rewrite};
use super::Atlas;
use crate::features::crs::Crs;
use crate::features::edit;
use crate::model::{Asset, Layer, NewAsset, ProposalAction, ProposalStatus, Role};
use crate::store::{AuditEntry, NewProposal, Proposal, User};

/// A change field staff propose.
#[derive(Debug, Clone)]
pub enum Proposed {
    Create(NewAsset),
    Rewrite {
        current: Arc<Asset>,
        expected: i64,
        state: NewAsset,
        how: Rewrite,
        /// An update's merge patch, as sent (kept to rebase it).
        patch: Option<Value>,
    },
    Delist {
        current: Arc<Asset>,
        expected: i64,
        reason: String,
    },
}

/// A state as a proposal keeps it: a GeoJSON Feature of its recorded properties, code
/// included, coordinates in CRS84.
fn feature_of(a: &NewAsset, code: Option<&str>) -> Value {
    let shown = preview(a, code.unwrap_or(""), 0);
    let mut props = stored_properties(&shown);
    match code {
        Some(c) => props.insert("code".into(), c.into()),
        None => props.remove("code"),
    };
    serde_json::json!({
        "type": "Feature",
        "geometry": geojson::Geometry::new(geojson::Value::from(&a.geometry)),
        "properties": props,
    })
}

/// The state a proposal keeps, ready to write.
fn state_of(p: &Proposal) -> Result<NewAsset, EditError> {
    match &p.feature {
        Some(Value::Object(o)) => edit::new_asset(o.clone(), p.layer, &Crs::crs84())
            .map_err(|e| EditError::Invalid(format!("proposal {}: {e}", p.id))),
        _ => Err(EditError::Invalid(format!(
            "proposal {} holds no feature",
            p.id
        ))),
    }
}

impl Atlas {
    /// Field staff work in their own ward: the asset, and where it would be, must lie in it.
    fn in_ward_of(&self, by: &User, a: &Asset) -> Result<(), EditError> {
        let ward = self.ward_of(a);
        if by.ward.is_some() && ward == by.ward {
            return Ok(());
        }
        Err(EditError::Forbidden(format!(
            "{} is in ward {}; field staff propose changes in their own ward ({})",
            if a.code.is_empty() {
                "the new outline"
            } else {
                &a.code
            },
            ward.map_or("none".into(), |w| w.to_string()),
            by.ward.map_or("none".into(), |w| w.to_string()),
        )))
    }

    /// Keeps field staff's change as a proposal for an officer.
    pub async fn propose(
        &self,
        change: Proposed,
        by: &User,
        note: Option<&str>,
    ) -> Result<Proposal, EditError> {
        if by.role != Role::FieldStaff {
            return Err(EditError::Invalid(
                "officers and admins edit the register directly".into(),
            ));
        }
        if let Proposed::Create(a) | Proposed::Rewrite { state: a, .. } = &change {
            if a.layer == Layer::Wards {
                return Err(EditError::Forbidden(
                    "ward boundaries are changed by an admin".into(),
                ));
            }
            self.in_ward_of(by, &preview(a, "", 0))?;
        }
        let p = match change {
            Proposed::Create(a) => NewProposal {
                layer: a.layer,
                asset: None,
                base_version: None,
                action: ProposalAction::Create,
                feature: Some(feature_of(&a, a.code.as_deref())),
                patch: None,
                note: note.map(str::to_string),
                ward: by.ward,
                proposer: by.name.clone(),
            },
            Proposed::Rewrite {
                current,
                expected,
                state,
                how,
                patch,
            } => {
                self.in_ward_of(by, &current)?;
                if current.version != expected {
                    return Err(EditError::Stale { expected, current });
                }
                NewProposal {
                    layer: current.layer,
                    asset: Some(current.id),
                    base_version: Some(expected),
                    action: match how {
                        Rewrite::Replace => ProposalAction::Replace,
                        Rewrite::Update => ProposalAction::Update,
                    },
                    feature: Some(feature_of(&state, Some(&current.code))),
                    patch,
                    note: note.map(str::to_string),
                    ward: self.ward_of(&current),
                    proposer: by.name.clone(),
                }
            }
            Proposed::Delist {
                current,
                expected,
                reason,
            } => {
                self.in_ward_of(by, &current)?;
                if current.version != expected {
                    return Err(EditError::Stale { expected, current });
                }
                let reason = reason.trim().to_string();
                if reason.is_empty() || reason.chars().count() > 500 {
                    return Err(EditError::Invalid(
                        "say why the asset should be delisted (1 to 500 characters)".into(),
                    ));
                }
                NewProposal {
                    layer: current.layer,
                    asset: Some(current.id),
                    base_version: Some(expected),
                    action: ProposalAction::Delist,
                    feature: None,
                    patch: None,
                    note: Some(reason),
                    ward: self.ward_of(&current),
                    proposer: by.name.clone(),
                }
            }
        };
        let log = AuditEntry {
            actor: by.name.clone(),
            role: Some(by.role.as_str().into()),
            action: format!("proposal.{}", p.action),
            subject: String::new(),
            // What the public sees is the approved register; a proposal is staff's.
            public: false,
            detail: serde_json::json!({
                "layer": p.layer,
                "asset": p.asset.map(|a| a.0),
                "base_version": p.base_version,
                "note": p.note,
            }),
        };
        Ok(self.store.add_proposal(&p, &log).await?)
    }

    /// The listed asset a proposal is about, as it stands.
    fn proposal_asset(&self, p: &Proposal) -> Result<Arc<Asset>, EditError> {
        p.asset_id.and_then(|id| self.index.get(id)).ok_or_else(|| {
            EditError::Conflict(format!(
                "the asset of proposal {} is no longer on the register; reject it",
                p.id
            ))
        })
    }

    /// Approves a pending proposal: its change is written as `by`'s, with the approval,
    /// in one transaction. A proposal whose asset changed since it was made is refused
    /// (409): rebase it or reject it.
    pub async fn approve(
        &self,
        id: i64,
        by: &User,
        note: Option<&str>,
    ) -> Result<Arc<Asset>, EditError> {
        let p = self.pending(id).await?;
        // The version's note says whose proposal it was and why, and keeps the
        // approver's own note beside the proposer's.
        let why = format!(
            "approves proposal {id} by {}{}{}",
            p.proposer,
            p.note
                .as_deref()
                .map(|n| format!(": {n}"))
                .unwrap_or_default(),
            note.map(|n| format!(" (approved: {n})"))
                .unwrap_or_default()
        );
        let edit_by = EditBy {
            user: by,
            note: Some(&why),
            approves: Some(&p),
        };
        if p.action == ProposalAction::Create {
            return self.create_asset(state_of(&p)?, &edit_by).await;
        }
        let current = self.proposal_asset(&p)?;
        let base = p.base_version.unwrap_or(0);
        if current.version != base {
            return Err(EditError::Conflict(format!(
                "{} has changed since proposal {id} was made (version {base}, now {}): \
                 rebase the proposal or reject it",
                current.code, current.version
            )));
        }
        match p.action {
            ProposalAction::Delist => {
                let reason = p.note.clone().unwrap_or_default();
                let by_delist = EditBy {
                    note: Some(&reason),
                    ..edit_by
                };
                self.delist_asset(current.layer, &current.code, base, &reason, &by_delist)
                    .await?;
                Ok(current)
            }
            action => {
                let how = if action == ProposalAction::Update {
                    Rewrite::Update
                } else {
                    Rewrite::Replace
                };
                self.rewrite_asset(&current.code, base, state_of(&p)?, how, &edit_by)
                    .await
            }
        }
    }

    async fn pending(&self, id: i64) -> Result<Proposal, EditError> {
        let p = self
            .store
            .proposal(id)
            .await?
            .ok_or_else(|| EditError::NotFound(format!("no proposal {id}")))?;
        if p.status != ProposalStatus::Pending {
            return Err(EditError::Conflict(format!(
                "proposal {id} was {} already",
                p.status
            )));
        }
        Ok(p)
    }

    /// Rejects a pending proposal, saying why.
    pub async fn reject(&self, id: i64, by: &User, note: &str) -> Result<(), EditError> {
        let p = self.pending(id).await?;
        if by.role == Role::FieldStaff {
            return Err(EditError::Forbidden(
                "an officer decides on proposals".into(),
            ));
        }
        let note = note.trim();
        if note.is_empty() || note.chars().count() > edit::NOTE_MAX_CHARS {
            return Err(EditError::Invalid(
                "say why the proposal is rejected (1 to 2,000 characters)".into(),
            ));
        }
        let log = AuditEntry {
            actor: by.name.clone(),
            role: Some(by.role.as_str().into()),
            action: "proposal.reject".into(),
            subject: format!("proposal-{id}"),
            public: false,
            detail: serde_json::json!({ "note": note, "proposer": p.proposer }),
        };
        if self.store.reject_proposal(id, &by.name, note, &log).await? {
            Ok(())
        } else {
            Err(EditError::Conflict(format!(
                "proposal {id} was decided meanwhile"
            )))
        }
    }

    /// Moves a pending update onto the asset's current version by applying its patch
    /// again, when the patch and the changes made since touch different fields. The
    /// proposer or an officer may.
    pub async fn rebase(&self, id: i64, by: &User) -> Result<Proposal, EditError> {
        let p = self.pending(id).await?;
        if by.role == Role::FieldStaff && by.name != p.proposer {
            return Err(EditError::Forbidden(
                "a proposal is rebased by its proposer or an officer".into(),
            ));
        }
        let (ProposalAction::Update, Some(patch)) = (p.action, &p.patch) else {
            return Err(EditError::Conflict(format!(
                "proposal {id} is a {}: only an update can be rebased; reject it and propose again",
                p.action
            )));
        };
        let current = self.proposal_asset(&p)?;
        let base = p.base_version.unwrap_or(0);
        if current.version == base {
            return Ok(p);
        }
        let old = self
            .store
            .version(current.id, base)
            .await?
            .ok_or_else(|| EditError::NotFound(format!("no version {base}")))?;
        let since = diff(Some(&self.locate_ward(old.asset)), &current);
        let mut touched: Vec<String> = patch
            .get("properties")
            .and_then(Value::as_object)
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        if patch.get("geometry").is_some() {
            touched.push("geometry".into());
        }
        let clash: Vec<&String> = touched
            .iter()
            .filter(|k| {
                since.properties.contains_key(k.as_str())
                    || (k.as_str() == "geometry" && since.geometry_changed)
            })
            .collect();
        if !clash.is_empty() {
            return Err(EditError::Conflict(format!(
                "{} changed since proposal {id} was made in what it changes too ({}): reject it \
                 and propose again",
                current.code,
                clash
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let mut f = edit::editable_feature(&current);
        edit::merge_patch(&mut f, patch);
        let Value::Object(o) = f else {
            return Err(EditError::Invalid("the patch must be a JSON object".into()));
        };
        let state = edit::new_asset(o, current.layer, &Crs::crs84()).map_err(EditError::Invalid)?;
        let feature = feature_of(&state, Some(&current.code));
        if !self
            .store
            .rebase_proposal(id, base, current.version, &feature)
            .await?
        {
            return Err(EditError::Conflict(format!(
                "proposal {id} was decided or rebased meanwhile"
            )));
        }
        self.pending(id).await
    }

    /// What a proposal changes. Pending: against the asset as it stands (for a new
    /// asset, against nothing), `stale` if the asset has moved on. Approved: the version
    /// it was made against and the version its approval wrote. Rejected: the version it
    /// was made against and what it proposed.
    pub async fn proposal_view(&self, p: &Proposal) -> Result<ProposalView, EditError> {
        let version = |n: Option<i64>| {
            let id = p.asset_id;
            async move {
                match (id, n) {
                    (Some(id), Some(n)) => {
                        Ok::<_, EditError>(self.asset_version(id, n).await?.map(|v| v.asset))
                    }
                    _ => Ok(None),
                }
            }
        };
        let current = p.asset_id.and_then(|id| self.index.get(id));
        let before = match p.status {
            ProposalStatus::Pending => current.as_deref().cloned(),
            _ => version(p.base_version).await?,
        };
        let after = match (p.status, p.action) {
            (ProposalStatus::Approved, _) => version(p.result_version).await?,
            (_, ProposalAction::Delist) => None,
            _ => {
                let state = state_of(p)?;
                let code = before.as_ref().map_or("", |c| c.code.as_str());
                let mut a = self.locate_ward(preview(&state, code, 0));
                if let Some(b) = &before {
                    a.id = b.id;
                    a.version = b.version + 1;
                    a.created_at = b.created_at.clone();
                }
                Some(a)
            }
        };
        let d = after.as_ref().map(|a| diff(before.as_ref(), a));
        Ok(ProposalView {
            stale: p.status == ProposalStatus::Pending
                && matches!((&current, p.base_version), (Some(c), Some(b)) if c.version != b),
            before,
            after,
            diff: d,
        })
    }
}

/// A proposal seen by an officer: the asset now, as it would be, and what differs.
#[derive(Debug, Clone)]
pub struct ProposalView {
    pub before: Option<Asset>,
    pub after: Option<Asset>,
    pub diff: Option<super::Diff>,
    /// The asset has changed since the proposal was made.
    pub stale: bool,
}
