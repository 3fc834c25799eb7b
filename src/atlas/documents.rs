//! Documents on record: put on record by officers (bytes durably first, then the record),
//! their records changed, superseded or revoked (each a version and an audit entry), found
//! by words and metadata, and their text read in the background ([`Atlas::text_worker`]).

use crate::documents::extract::{Reader, Worker};
use crate::documents::form::{self, DocFields};
use crate::documents::DocStatus;
use crate::history::{self, FieldError};
use crate::model::{AssetId, Role};
use crate::store::{AuditEntry, DocEdit, DocMeta, DocState, DocumentRecord, NewDocument, User};

use super::history::HistoryError;
use super::Atlas;

/// Longest reason for a status change or note on a change.
pub const MAX_NOTE: usize = 2000;

fn officers_only(by: &User, what: &str) -> Result<(), HistoryError> {
    if by.role == Role::FieldStaff {
        return Err(HistoryError::Forbidden(format!(
            "{what} by officers and admins (a document speaks for the department)"
        )));
    }
    Ok(())
}

/// The media type of a file to keep in the document store, or why it cannot be kept:
/// empty, larger than [`history::MAX_DOCUMENT_BYTES`], or not PDF, JPEG, PNG or WebP.
/// Every upload to the store (documents, applicants' files, letters, minutes) passes here.
pub(super) fn checked_file(bytes: &[u8]) -> Result<&'static str, HistoryError> {
    if bytes.is_empty() {
        return Err(FieldError {
            field: "file",
            reason: "required: the document's bytes".into(),
        }
        .into());
    }
    if bytes.len() > history::MAX_DOCUMENT_BYTES {
        return Err(HistoryError::TooLarge(format!(
            "a document may be at most {} MB",
            history::MAX_DOCUMENT_BYTES >> 20
        )));
    }
    history::document_type(bytes)
        .ok_or_else(|| HistoryError::Unsupported("documents must be PDF, JPEG, PNG or WebP".into()))
}

fn log(by: &User, action: &str, d: &str, public: bool, detail: serde_json::Value) -> AuditEntry {
    AuditEntry {
        actor: by.name.clone(),
        role: Some(by.role.as_str().into()),
        action: action.into(),
        subject: d.into(),
        public,
        detail,
    }
}

/// A status change asked for.
#[derive(Debug, Clone)]
pub struct StatusChange {
    pub status: DocStatus,
    pub reason: Option<String>,
    /// For `superseded`: the document that replaces it.
    pub superseded_by: Option<String>,
}

impl Atlas {
    /// The ids of assets by code (any layer, delisted too); an unknown code is a field
    /// error naming it.
    pub async fn asset_ids(&self, codes: &[String]) -> Result<Vec<AssetId>, HistoryError> {
        let mut out = Vec::with_capacity(codes.len());
        for c in codes {
            match self.store.asset_id_by_code(c).await? {
                Some(id) => out.push(id),
                None => {
                    return Err(FieldError {
                        field: "assets",
                        reason: format!("no asset {c}"),
                    }
                    .into())
                }
            }
        }
        Ok(out)
    }

    /// Puts a document on record: the bytes durably first, then the record (with its
    /// first version and audit entry), then its text is queued. `also` names assets the
    /// route gave (`/assets/{code}/documents`).
    pub async fn put_document(
        &self,
        bytes: Vec<u8>,
        fields: DocFields,
        also: Option<&str>,
        by: &User,
    ) -> Result<DocumentRecord, HistoryError> {
        officers_only(by, "documents are put on record")?;
        if let Some(code) = also {
            self.found(code).await?;
        }
        let media_type = checked_file(&bytes)?;
        let title = fields.title.clone().flatten().ok_or(FieldError {
            field: "title",
            reason: "required: what the document is".into(),
        })?;
        let mut meta = fields.apply(form::blank(title))?;
        let mut codes = fields.assets.clone().unwrap_or_default();
        if let Some(c) = also {
            if !codes.iter().any(|x| x == c) {
                codes.insert(0, c.to_string());
            }
        }
        meta.assets = self.asset_ids(&codes).await?;
        let sha256 = history::sha256_hex(&bytes);
        if let Some(existing) = self.store.document(&sha256).await? {
            return Err(HistoryError::Conflict(format!(
                "this document is already on record ({}, {}): /documents/{}",
                existing.meta.title, existing.created_at, existing.sha256
            )));
        }
        self.store_file(&sha256, bytes.clone()).await?;
        let d = NewDocument {
            sha256: sha256.clone(),
            media_type: media_type.into(),
            size: bytes.len() as i64,
            meta,
        };
        let entry = log(
            by,
            "document.add",
            &sha256,
            d.meta.public,
            serde_json::json!({
                "title": d.meta.title,
                "type": d.meta.kind.as_str(),
                "media_type": d.media_type,
                "size": d.size,
                "assets": codes,
            }),
        );
        let r = self
            .store
            .add_document(&d, &crate::model::now_rfc3339(), &entry)
            .await?
            .ok_or_else(|| {
                HistoryError::Conflict(
                    "this document was put on record just now by someone else".into(),
                )
            })?;
        self.doc_wake.notify_one();
        Ok(r)
    }

    /// Writes bytes into the document store (durably), off the async threads.
    pub(super) async fn store_file(
        &self,
        sha256: &str,
        bytes: Vec<u8>,
    ) -> Result<(), HistoryError> {
        let store = self.documents.clone();
        let hash = sha256.to_string();
        tokio::task::spawn_blocking(move || store.put(&hash, &bytes))
            .await
            .map_err(|e| HistoryError::Io(e.to_string()))?
            .map_err(|e| {
                if crate::blobs::storage_unavailable(&e) {
                    HistoryError::Unavailable(e.to_string())
                } else {
                    HistoryError::Io(e.to_string())
                }
            })
    }

    /// Changes a document's record by the fields given (officers), if it is still at
    /// `expected` (when given).
    pub async fn change_document(
        &self,
        sha256: &str,
        expected: Option<i64>,
        fields: DocFields,
        note: Option<String>,
        by: &User,
    ) -> Result<DocumentRecord, HistoryError> {
        officers_only(by, "documents' records are changed")?;
        let note = history::text("note", note, MAX_NOTE)?;
        let cur = self.document_on_record(sha256).await?;
        stale(&cur, expected)?;
        let mut meta = fields.apply(cur.meta.clone())?;
        if let Some(codes) = &fields.assets {
            meta.assets = self.asset_ids(codes).await?;
            meta.assets.sort_unstable();
            meta.assets.dedup();
        }
        if meta == cur.meta {
            return Ok(cur);
        }
        let detail = serde_json::json!({ "changed": changed(&cur.meta, &meta), "note": note });
        let entry = log(
            by,
            "document.edit",
            sha256,
            meta.public || cur.meta.public,
            detail,
        );
        self.write_change(sha256, expected, &meta, &cur.state, note.as_deref(), &entry)
            .await
    }

    /// Marks a document current, superseded (by another on record) or revoked, with a
    /// reason (officers). Verification reports it from then on.
    pub async fn set_document_status(
        &self,
        sha256: &str,
        expected: Option<i64>,
        change: StatusChange,
        by: &User,
    ) -> Result<DocumentRecord, HistoryError> {
        officers_only(by, "documents are revoked or superseded")?;
        let cur = self.document_on_record(sha256).await?;
        stale(&cur, expected)?;
        let reason = history::text("reason", change.reason, MAX_NOTE)?;
        let superseded_by = match (change.status, change.superseded_by) {
            (DocStatus::Superseded, Some(s)) => {
                let s = history::parse_sha256(s.trim()).ok_or(FieldError {
                    field: "superseded_by",
                    reason: "must be the SHA-256 of the document that replaces this one".into(),
                })?;
                if s == cur.sha256 {
                    return Err(FieldError {
                        field: "superseded_by",
                        reason: "a document cannot supersede itself".into(),
                    }
                    .into());
                }
                if self.store.document(&s).await?.is_none() {
                    return Err(FieldError {
                        field: "superseded_by",
                        reason: format!("no document {s} on record"),
                    }
                    .into());
                }
                Some(s)
            }
            (DocStatus::Superseded, None) => None,
            (_, Some(_)) => {
                return Err(FieldError {
                    field: "superseded_by",
                    reason: "only for status superseded".into(),
                }
                .into())
            }
            (_, None) => None,
        };
        if change.status != DocStatus::Current && reason.is_none() {
            return Err(FieldError {
                field: "reason",
                reason: "required: why (the verification page shows it)".into(),
            }
            .into());
        }
        let state = DocState {
            status: change.status,
            status_reason: reason,
            superseded_by,
        };
        if state == cur.state {
            return Ok(cur);
        }
        let action = match change.status {
            DocStatus::Current => "document.reinstate",
            DocStatus::Superseded => "document.supersede",
            DocStatus::Revoked => "document.revoke",
        };
        let entry = log(
            by,
            action,
            sha256,
            cur.meta.public,
            serde_json::json!({
                "status": state.status.as_str(),
                "reason": state.status_reason,
                "superseded_by": state.superseded_by,
            }),
        );
        let note = state.status_reason.clone();
        self.write_change(sha256, expected, &cur.meta, &state, note.as_deref(), &entry)
            .await
    }

    async fn document_on_record(&self, sha256: &str) -> Result<DocumentRecord, HistoryError> {
        self.store
            .document(sha256)
            .await?
            .ok_or_else(|| HistoryError::NotFound(format!("document {sha256}")))
    }

    async fn write_change(
        &self,
        sha256: &str,
        expected: Option<i64>,
        meta: &DocMeta,
        state: &DocState,
        note: Option<&str>,
        entry: &AuditEntry,
    ) -> Result<DocumentRecord, HistoryError> {
        match self
            .store
            .change_document(
                sha256,
                expected,
                meta,
                state,
                note,
                &crate::model::now_rfc3339(),
                entry,
            )
            .await?
        {
            DocEdit::Written(r) => Ok(*r),
            DocEdit::Stale(r) => Err(HistoryError::Stale(format!(
                "the record is at version {}, not {}: read it again and reapply the change",
                r.version,
                expected.unwrap_or_default()
            ))),
            DocEdit::Missing => Err(HistoryError::NotFound(format!("document {sha256}"))),
        }
    }

    /// A worker for the text jobs (the server runs some; `documents extract` runs them
    /// until none are left).
    pub fn text_worker(&self, reader: Reader) -> Worker {
        Worker {
            store: self.store.clone(),
            blobs: self.documents.clone(),
            reader,
            wake: self.doc_wake.clone(),
        }
    }
}

/// A change made against another version than the record's is refused, even one that
/// would change nothing (the maker must see what changed first).
fn stale(cur: &DocumentRecord, expected: Option<i64>) -> Result<(), HistoryError> {
    match expected {
        Some(v) if v != cur.version => Err(HistoryError::Stale(format!(
            "the record is at version {}, not {v}: read it again and reapply the change",
            cur.version
        ))),
        _ => Ok(()),
    }
}

/// The names of the fields that differ.
fn changed(a: &DocMeta, b: &DocMeta) -> Vec<&'static str> {
    let mut out = Vec::new();
    let mut check = |name, differs: bool| {
        if differs {
            out.push(name);
        }
    };
    check("title", a.title != b.title);
    check("type", a.kind != b.kind);
    check("reference", a.reference != b.reference);
    check("issuer", a.issuer != b.issuer);
    check("issued_on", a.issued_on != b.issued_on);
    check("valid_until", a.valid_until != b.valid_until);
    check("language", a.language != b.language);
    check("ward", a.ward != b.ward);
    check("public", a.public != b.public);
    check("assets", a.assets != b.assets);
    out
}
