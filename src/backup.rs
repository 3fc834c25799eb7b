//! `heritage-atlas backup DIR`: a consistent copy of a live register — the database as
//! one transaction saw it (SQLite's `VACUUM INTO`, which readers and writers carry on
//! beside) and the photos and documents it names — that serves as it is:
//! `heritage-atlas --db DIR/heritage-atlas.db serve`.
//!
//! Photos and documents are content-addressed and written (fsynced) before the row that
//! names them commits, so copying them after the snapshot finds every file it refers to.
//!
//! The copy is built beside `DIR`, in `.DIR.partial`, and renamed to `DIR` only once it
//! has passed its check: a backup killed halfway leaves no `DIR` that looks whole, and
//! the next run clears the leftover and starts again.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::store::{AuditCheck, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0} already exists and is not empty; back up into a new or empty directory")]
    Exists(PathBuf),
    #[error("{0}: {1}")]
    Io(PathBuf, io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the copy failed its check: {0}")]
    Check(String),
    #[error(
        "a PostgreSQL register is backed up with `pg_dump -Fc` (its photos and documents are \
         in the database): see docs/deploy.md, \"Backups on PostgreSQL\""
    )]
    Postgres,
}

/// What was copied, and the copy's own check.
#[derive(Debug, serde::Serialize)]
pub struct BackupReport {
    pub database: PathBuf,
    pub bytes: u64,
    pub files: u64,
    pub file_bytes: u64,
    pub audit: AuditCheck,
    pub assets: i64,
    pub complaints: i64,
}

/// Copies the register at `store` (photos and documents under `photos`) into `dir`.
pub async fn backup(store: &Store, photos: &Path, dir: &Path) -> Result<BackupReport, BackupError> {
    if store.backend() == crate::store::Backend::Postgres {
        return Err(BackupError::Postgres);
    }
    let io_err = |p: &Path| {
        let p = p.to_path_buf();
        move |e| BackupError::Io(p, e)
    };
    let empty = |d: &Path| fs::read_dir(d).map(|mut e| e.next().is_none());
    if dir.exists() && !empty(dir).map_err(io_err(dir))? {
        return Err(BackupError::Exists(dir.to_path_buf()));
    }
    let name = dir
        .file_name()
        .ok_or_else(|| BackupError::Io(dir.to_path_buf(), io::ErrorKind::InvalidInput.into()))?;
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(io_err(&parent))?;
    let staging = parent.join(format!(".{}.partial", name.to_string_lossy()));
    if staging.exists() {
        // What a killed run left: never a backup, since it was never renamed into place.
        fs::remove_dir_all(&staging).map_err(io_err(&staging))?;
    }
    fs::create_dir(&staging).map_err(io_err(&staging))?;
    let report = fill(store, photos, &staging).await;
    let report = match report {
        Ok(r) => r,
        Err(e) => {
            // A failed copy (a full disk, a failed check) leaves nothing behind.
            let _ = fs::remove_dir_all(&staging);
            return Err(e);
        }
    };
    if dir.exists() {
        fs::remove_dir(dir).map_err(io_err(dir))?;
    }
    fs::rename(&staging, dir).map_err(io_err(dir))?;
    fs::File::open(&parent)
        .and_then(|f| f.sync_all())
        .map_err(io_err(&parent))?;
    Ok(BackupReport {
        database: dir.join("heritage-atlas.db"),
        ..report
    })
}

/// Writes the copy into `staging` and checks it.
async fn fill(store: &Store, photos: &Path, staging: &Path) -> Result<BackupReport, BackupError> {
    let io_err = |p: &Path| {
        let p = p.to_path_buf();
        move |e| BackupError::Io(p, e)
    };
    let db = staging.join("heritage-atlas.db");
    let files_dir = staging.join("heritage-atlas.photos");
    store.snapshot_into(&db).await?;
    let (files, file_bytes) = if photos.exists() {
        let (src, dst) = (photos.to_path_buf(), files_dir.clone());
        tokio::task::spawn_blocking(move || copy_tree(&src, &dst))
            .await
            .map_err(|e| BackupError::Io(files_dir.clone(), io::Error::other(e)))??
    } else {
        (0, 0)
    };
    // The copy is checked as a copy: opened on its own, its structure and its audit chain.
    let copy = Store::open(db.to_str().unwrap_or_default()).await?;
    let integrity = copy.integrity_check().await?;
    let audit = copy.verify_audit().await?;
    let assets = copy.count_by_layer().await?.iter().map(|(_, n)| n).sum();
    let complaints = copy.complaint_count().await?;
    copy.close().await;
    if integrity != "ok" {
        return Err(BackupError::Check(format!("integrity_check: {integrity}")));
    }
    if !audit.ok {
        return Err(BackupError::Check(format!(
            "the audit chain breaks at entry {:?}",
            audit.broken_at
        )));
    }
    let bytes = fs::metadata(&db).map_err(io_err(&db))?.len();
    fs::File::open(staging)
        .and_then(|f| f.sync_all())
        .map_err(io_err(staging))?;
    Ok(BackupReport {
        database: db,
        bytes,
        files,
        file_bytes,
        audit,
        assets,
        complaints,
    })
}

/// Copies every file under `src` (but its `tmp/`, half-written uploads) to `dst`,
/// fsyncing each; returns (files, bytes).
fn copy_tree(src: &Path, dst: &Path) -> Result<(u64, u64), BackupError> {
    let mut files = 0;
    let mut bytes = 0;
    let mut stack = vec![(src.to_path_buf(), dst.to_path_buf())];
    while let Some((from, to)) = stack.pop() {
        fs::create_dir_all(&to).map_err(|e| BackupError::Io(to.clone(), e))?;
        let entries = fs::read_dir(&from).map_err(|e| BackupError::Io(from.clone(), e))?;
        for entry in entries {
            let entry = entry.map_err(|e| BackupError::Io(from.clone(), e))?;
            let path = entry.path();
            let target = to.join(entry.file_name());
            let ty = entry
                .file_type()
                .map_err(|e| BackupError::Io(path.clone(), e))?;
            if ty.is_dir() {
                if from == src && entry.file_name() == "tmp" {
                    continue;
                }
                stack.push((path, target));
            } else if ty.is_file() {
                bytes += fs::copy(&path, &target).map_err(|e| BackupError::Io(path.clone(), e))?;
                fs::File::open(&target)
                    .and_then(|f| f.sync_all())
                    .map_err(|e| BackupError::Io(target.clone(), e))?;
                files += 1;
            }
        }
    }
    Ok((files, bytes))
}
