//! Bulk digitisation: `heritage-atlas documents ingest DIR --manifest files.csv` puts a
//! folder of scans on record in one go. The manifest has a header row and the columns
//! `file, type, reference, date, assets, public` (`date` is the date issued; `assets`
//! holds asset codes separated by `;`), and optionally `title, issuer, valid_until,
//! language, ward`. Idempotent: bytes already on record are counted, not added again, so
//! an ingest cut short is finished by running it again. Each batch of documents commits
//! with one audit entry naming them; their text is queued for the workers.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use serde::Serialize;

use super::form::{self, DocFields};
use crate::blobs::BlobStore;
use crate::history::{self, MAX_DOCUMENT_BYTES};
use crate::model::AssetId;
use crate::store::{AuditEntry, NewDocument, Store};

/// Documents per transaction.
const BATCH: usize = 200;

/// Columns a manifest may have, and what each is in the record.
const COLUMNS: [(&str, &str); 11] = [
    ("file", ""),
    ("type", "type"),
    ("reference", "reference"),
    ("date", "issued_on"),
    ("assets", "assets"),
    ("public", "public"),
    ("title", "title"),
    ("issuer", "issuer"),
    ("valid_until", "valid_until"),
    ("language", "language"),
    ("ward", "ward"),
];

/// One manifest line that was not put on record.
#[derive(Debug, Clone, Serialize)]
pub struct Failed {
    /// The manifest's line number (the header is line 1).
    pub line: u64,
    pub file: String,
    pub reason: String,
}

/// What an ingest did.
#[derive(Debug, Default, Serialize)]
pub struct IngestReport {
    pub added: u64,
    /// Bytes already on record (from an earlier run, or twice in this manifest).
    pub already_on_record: u64,
    pub failed: Vec<Failed>,
    pub bytes: u64,
}

/// A file resolved inside `dir`; a path that climbs out of it is refused.
fn inside(dir: &Path, file: &str) -> Result<PathBuf, String> {
    let p = Path::new(file);
    if p.is_absolute()
        || p.components()
            .any(|c| matches!(c, Component::ParentDir | Component::Prefix(_)))
    {
        return Err("must be a path inside the folder (no leading / or ..)".into());
    }
    Ok(dir.join(p))
}

/// Ingests the manifest's files. `progress(done, total)` is called per line.
pub async fn ingest(
    store: &Store,
    blobs: &BlobStore,
    dir: &Path,
    manifest: &Path,
    actor: &str,
    progress: &dyn Fn(u64, u64),
) -> anyhow::Result<IngestReport> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(false)
        .trim(csv::Trim::All)
        .from_path(manifest)?;
    let headers = rdr.headers()?.clone();
    for h in headers.iter() {
        anyhow::ensure!(
            COLUMNS.iter().any(|(c, _)| *c == h),
            "manifest column {h:?} is not one of {}",
            COLUMNS.map(|(c, _)| c).join(", ")
        );
    }
    anyhow::ensure!(
        headers.iter().any(|h| h == "file"),
        "the manifest needs a `file` column"
    );
    let rows: Vec<csv::StringRecord> = rdr.records().collect::<Result<_, _>>()?;
    let total = rows.len() as u64;
    let today = time::OffsetDateTime::now_utc().date();
    let mut report = IngestReport::default();
    let mut codes: HashMap<String, Option<AssetId>> = HashMap::new();
    let mut batch: Vec<(u64, String, NewDocument)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, row) in rows.iter().enumerate() {
        let line = i as u64 + 2;
        let mut file = String::new();
        let mut pairs = Vec::new();
        for (h, v) in headers.iter().zip(row.iter()) {
            match COLUMNS.iter().find(|(c, _)| *c == h) {
                Some(("file", _)) => file = v.to_string(),
                Some((_, field)) if !v.is_empty() => pairs.push((field.to_string(), v.to_string())),
                _ => {}
            }
        }
        let fail = |reason: String| Failed {
            line,
            file: file.clone(),
            reason,
        };
        match prepare(store, dir, &file, &pairs, today, &mut codes).await {
            Ok((d, bytes)) => {
                if !seen.insert(d.sha256.clone()) || store.document(&d.sha256).await?.is_some() {
                    report.already_on_record += 1;
                } else {
                    match blobs.put_async(&d.sha256, &bytes).await {
                        Ok(()) => {
                            report.bytes += bytes.len() as u64;
                            batch.push((line, file.clone(), d));
                        }
                        Err(e) => report.failed.push(fail(format!("storing the file: {e}"))),
                    }
                }
            }
            Err(reason) => report.failed.push(fail(reason)),
        }
        if batch.len() >= BATCH {
            commit(store, &mut batch, actor, &mut report).await?;
        }
        progress(i as u64 + 1, total);
    }
    commit(store, &mut batch, actor, &mut report).await?;
    Ok(report)
}

/// One line's document, checked (type by its bytes, fields), and its bytes.
async fn prepare(
    store: &Store,
    dir: &Path,
    file: &str,
    pairs: &[(String, String)],
    today: time::Date,
    codes: &mut HashMap<String, Option<AssetId>>,
) -> Result<(NewDocument, Vec<u8>), String> {
    if file.is_empty() {
        return Err("no file named".into());
    }
    let path = inside(dir, file)?;
    let size = std::fs::metadata(&path)
        .map_err(|e| format!("cannot read it: {e}"))?
        .len();
    if size == 0 {
        return Err("the file is empty".into());
    }
    if size > MAX_DOCUMENT_BYTES as u64 {
        return Err(format!("larger than {} MB", MAX_DOCUMENT_BYTES >> 20));
    }
    let bytes = std::fs::read(&path).map_err(|e| format!("cannot read it: {e}"))?;
    let media_type =
        history::document_type(&bytes).ok_or("not a PDF, JPEG, PNG or WebP (by its bytes)")?;
    let fields = DocFields::from_pairs(pairs, today).map_err(|e| e.to_string())?;
    let title = fields.title.clone().flatten().unwrap_or_else(|| {
        Path::new(file)
            .file_stem()
            .map(|s| s.to_string_lossy().replace(['_', '-'], " "))
            .unwrap_or_else(|| file.to_string())
    });
    let mut meta = fields
        .apply(form::blank(title))
        .map_err(|e| e.to_string())?;
    for code in fields.assets.iter().flatten() {
        let id = match codes.get(code) {
            Some(id) => *id,
            None => {
                let id = store
                    .asset_id_by_code(code)
                    .await
                    .map_err(|e| e.to_string())?;
                codes.insert(code.clone(), id);
                id
            }
        };
        meta.assets
            .push(id.ok_or_else(|| format!("assets: no asset {code}"))?);
    }
    meta.assets.sort_unstable();
    meta.assets.dedup();
    let d = NewDocument {
        sha256: history::sha256_hex(&bytes),
        media_type: media_type.into(),
        size: bytes.len() as i64,
        meta,
    };
    Ok((d, bytes))
}

async fn commit(
    store: &Store,
    batch: &mut Vec<(u64, String, NewDocument)>,
    actor: &str,
    report: &mut IngestReport,
) -> anyhow::Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let docs: Vec<NewDocument> = batch.iter().map(|(_, _, d)| d.clone()).collect();
    let log = AuditEntry {
        actor: actor.into(),
        role: Some("admin".into()),
        action: "document.ingest".into(),
        subject: format!("{} documents", docs.len()),
        // Private documents' hashes are named only on the staff trail.
        public: docs.iter().all(|d| d.meta.public),
        detail: serde_json::json!({}),
    };
    let added = store
        .add_documents(&docs, &crate::model::now_rfc3339(), &log)
        .await?;
    for a in added {
        if a {
            report.added += 1;
        } else {
            report.already_on_record += 1;
        }
    }
    batch.clear();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_stay_inside_the_folder() {
        let d = Path::new("/scans");
        assert_eq!(inside(d, "a/b.pdf").unwrap(), Path::new("/scans/a/b.pdf"));
        assert!(inside(d, "../etc/passwd").is_err());
        assert!(inside(d, "/etc/passwd").is_err());
        assert!(inside(d, "a/../../x").is_err());
    }
}
