//! `heritage-atlas migrate --from FILE.db --to postgres://…`: moves a SQLite register —
//! assets and their history, complaints, documents, applications, users, the audit chain,
//! and the photos and documents kept beside it — into an empty PostgreSQL database, then
//! reads both back and compares them.
//!
//! What is copied is what the target holds tables for (src/store/migrate.rs reads its
//! catalog), row by row as SQLite keeps it, in one PostgreSQL transaction with the
//! tables' triggers held off: history is copied, not made again, and a copy cut short
//! leaves the target as it was. The source is read in one read transaction, so a server
//! left running on it does not tear the copy (its later writes are not copied: stop it).
//!
//! Files under the photos directory (`xx/<sha256>`) and its `documents/` become rows of
//! `blobs`, where a PostgreSQL register keeps them (src/blobs.rs); each is checked
//! against its name on the way.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rusqlite::types::Value;

use crate::store::{
    AuditCheck, Backend, Batches, CopyTx, Row, SqliteSource, Store, StoreError, Table,
};

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("--to {0}: a postgres:// URL is needed")]
    NotPostgres(String),
    #[error("--from {0}: no SQLite database there")]
    NoSource(PathBuf),
    #[error("the target already holds a register ({0}); migrate into a new, empty database")]
    NotEmpty(String),
    #[error("the source's blobs table holds {0} rows, which a SQLite register never writes; nothing was copied")]
    SourceBlobs(i64),
    #[error("{table}.{column}, row {row}: {what}")]
    Value {
        table: String,
        column: String,
        row: u64,
        what: String,
    },
    #[error(
        "{count} photos or documents the register names are not under {dir} (is --photos-dir \
         the one `serve` used?), e.g. {example}; nothing was copied"
    )]
    MissingFiles {
        count: usize,
        dir: PathBuf,
        example: String,
    },
    #[error("{0}: {1}")]
    Io(PathBuf, io::Error),
    #[error("{0}: its bytes hash to {1}, not its name")]
    BadFile(PathBuf, String),
    #[error("{0}")]
    Store(#[from] StoreError),
    /// Found after the commit: the target holds the copy as it is.
    #[error(
        "the copy (committed) differs from the source; drop the target database and move \
         again once the cause is known:\n  {}",
        .0.join("\n  ")
    )]
    Differs(Vec<String>),
}

/// What was copied and found equal.
#[derive(Debug, serde::Serialize)]
pub struct MigrateReport {
    pub tables: Vec<TableCount>,
    /// Tables of the target that the source does not have (an older register).
    pub skipped: Vec<String>,
    pub rows: u64,
    pub photos: u64,
    pub documents: u64,
    pub blob_bytes: u64,
    pub audit: AuditCheck,
    pub seconds: f64,
}

#[derive(Debug, serde::Serialize)]
pub struct TableCount {
    pub table: String,
    pub rows: u64,
}

/// A file to keep as a blob.
struct BlobFile {
    kind: &'static str,
    sha256: String,
    path: PathBuf,
}

/// Rows written per statement: PostgreSQL takes at most 65,535 values a statement.
fn batch_rows(table: &Table) -> usize {
    (60_000 / table.columns.len().max(1)).clamp(1, 1000)
}

/// Differences reported per table before the rest are only counted.
const SHOWN: usize = 5;

/// Copies the register at `from` (its photos and documents under `photos`) into the
/// empty PostgreSQL database at `to`, and checks the copy.
pub async fn migrate(from: &Path, to: &str, photos: &Path) -> Result<MigrateReport, MigrateError> {
    let started = Instant::now();
    if Backend::of(to) != Backend::Postgres {
        return Err(MigrateError::NotPostgres(to.to_owned()));
    }
    // `Store::open` would make an empty database where none is.
    if !from.is_file() {
        return Err(MigrateError::NoSource(from.to_path_buf()));
    }
    let from_text = from
        .to_str()
        .ok_or_else(|| MigrateError::NoSource(from.to_path_buf()))?;
    // The source brought up to the schema the target's migrations match.
    Store::open(from_text).await?.close().await;
    let target = Store::open(to).await?;
    let report = copy_and_check(from, &target, photos, started).await;
    target.close().await;
    report
}

async fn copy_and_check(
    from: &Path,
    target: &Store,
    photos: &Path,
    started: Instant,
) -> Result<MigrateReport, MigrateError> {
    let plan = target.copy_plan().await?;
    let source = SqliteSource::open(from)?;
    // Photos and documents come from their directories, not from SQLite's `blobs`.
    let (blobs_table, plan): (Vec<Table>, Vec<Table>) =
        plan.into_iter().partition(|t| t.name == "blobs");
    if !blobs_table.is_empty() && source.has_table("blobs")? {
        let n = source.count("blobs")?;
        if n > 0 {
            return Err(MigrateError::SourceBlobs(n));
        }
    }
    let mut tables = Vec::new();
    let mut skipped = Vec::new();
    for t in plan {
        if source.has_table(&t.name)? {
            tables.push(t);
        } else {
            skipped.push(t.name);
        }
    }
    let files = {
        let photos = photos.to_path_buf();
        tokio::task::spawn_blocking(move || blob_files(&photos))
            .await
            .map_err(|e| MigrateError::Io(PathBuf::new(), io::Error::other(e)))??
    };

    // Every photo and document a row names must be among the files, or the move would
    // leave them behind while every row compared equal.
    let have: std::collections::HashSet<&str> = files.iter().map(|f| f.sha256.as_str()).collect();
    let missing: Vec<String> = source
        .named_blobs()?
        .into_iter()
        .filter(|sha| !have.contains(sha.as_str()))
        .collect();
    if let Some(example) = missing.first() {
        return Err(MigrateError::MissingFiles {
            count: missing.len(),
            dir: photos.to_path_buf(),
            example: example.clone(),
        });
    }

    let mut copy = target.begin_copy().await?;
    let occupied = copy.occupied().await?;
    if !occupied.is_empty() {
        let list = occupied
            .iter()
            .map(|(t, n)| format!("{n} rows in {t}"))
            .collect::<Vec<_>>();
        return Err(MigrateError::NotEmpty(list.join(", ")));
    }
    copy.hold_triggers(&tables).await?;
    let mut counts = Vec::with_capacity(tables.len());
    for t in &tables {
        let rows = copy_table(&mut copy, &source, t).await?;
        tracing::debug!(table = %t.name, rows, "copied");
        counts.push(TableCount {
            table: t.name.clone(),
            rows,
        });
    }
    let blob_bytes = copy_blobs(&mut copy, &files).await?;
    copy.finish(&tables).await?;

    let mut differences = Vec::new();
    for t in &tables {
        differences.extend(compare(&source, target, t).await?);
    }
    differences.extend(check_blobs(target, &files).await?);
    let audit = target.verify_audit().await?;
    if let Some(seq) = audit.broken_at {
        differences.push(format!("the audit chain does not hold from entry {seq} on"));
    }
    if !differences.is_empty() {
        return Err(MigrateError::Differs(differences));
    }
    let count = |kind| files.iter().filter(|f| f.kind == kind).count() as u64;
    Ok(MigrateReport {
        rows: counts.iter().map(|c| c.rows).sum(),
        tables: counts,
        skipped,
        photos: count("photos"),
        documents: count("documents"),
        blob_bytes,
        audit,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Copies one table's rows; returns how many the source held.
async fn copy_table(
    copy: &mut CopyTx,
    source: &SqliteSource,
    t: &Table,
) -> Result<u64, MigrateError> {
    let mut batches = source.rows(t, batch_rows(t), false);
    let mut n = 0;
    while let Some(batch) = batches.recv().await {
        let mut rows = Vec::with_capacity(batch.as_ref().map_or(0, Vec::len));
        for row in batch? {
            n += 1;
            rows.push(coerce_row(t, row, n)?);
        }
        copy.insert(t, rows).await?;
    }
    Ok(n)
}

/// A source row as the target's columns hold it ([`crate::store::ColumnKind::coerce`]).
fn coerce_row(t: &Table, row: Row, n: u64) -> Result<Row, MigrateError> {
    t.columns
        .iter()
        .zip(row)
        .map(|(c, v)| {
            c.kind.coerce(v).map_err(|what| MigrateError::Value {
                table: t.name.clone(),
                column: c.name.clone(),
                row: n,
                what,
            })
        })
        .collect()
}

/// Reads each file, checks it against its name, and keeps it; returns the bytes kept.
async fn copy_blobs(copy: &mut CopyTx, files: &[BlobFile]) -> Result<u64, MigrateError> {
    let mut total = 0;
    for f in files {
        let bytes = tokio::fs::read(&f.path)
            .await
            .map_err(|e| MigrateError::Io(f.path.clone(), e))?;
        let actual = sha256_hex(&bytes);
        if actual != f.sha256 {
            return Err(MigrateError::BadFile(f.path.clone(), actual));
        }
        let created = fs::metadata(&f.path)
            .and_then(|m| m.modified())
            .map(|t| crate::model::rfc3339(t.into()))
            .unwrap_or_else(|_| crate::model::now_rfc3339());
        copy.put_blob(f.kind, &f.sha256, &bytes, &created).await?;
        total += bytes.len() as u64;
    }
    Ok(total)
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// The photos (`xx/<sha256>` under `photos`) and documents (the same under
/// `photos/documents`); half-written uploads (`tmp/`) are not among them. A missing
/// directory holds none.
fn blob_files(photos: &Path) -> Result<Vec<BlobFile>, MigrateError> {
    let mut files = shards(photos, "photos")?;
    files.extend(shards(&photos.join("documents"), "documents")?);
    Ok(files)
}

fn shards(dir: &Path, kind: &'static str) -> Result<Vec<BlobFile>, MigrateError> {
    let io_err = |p: &Path| {
        let p = p.to_path_buf();
        move |e| MigrateError::Io(p, e)
    };
    let mut out = Vec::new();
    if !dir.is_dir() {
        return Ok(out);
    }
    let is_hex = |s: &str, len: usize| {
        s.len() == len
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    let mut shard_dirs = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_err(dir))? {
        let entry = entry.map_err(io_err(dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_hex(&name, 2) && entry.path().is_dir() {
            shard_dirs.push(entry.path());
        }
    }
    shard_dirs.sort();
    for shard in shard_dirs {
        let prefix = shard
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for entry in fs::read_dir(&shard).map_err(io_err(&shard))? {
            let entry = entry.map_err(io_err(&shard))?;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if !path.is_file() {
                continue;
            }
            if !is_hex(&name, 64) || !name.starts_with(&prefix) {
                tracing::warn!(file = %path.display(), "not a stored photo or document; left out");
                continue;
            }
            out.push(BlobFile {
                kind,
                sha256: name,
                path,
            });
        }
    }
    out.sort_by(|a, b| a.sha256.cmp(&b.sha256));
    Ok(out)
}

/// Reads a table from both databases in key order and says where they differ.
async fn compare(
    source: &SqliteSource,
    target: &Store,
    t: &Table,
) -> Result<Vec<String>, MigrateError> {
    let batch = batch_rows(t);
    let mut left = Rows::new(source.rows(t, batch, true));
    let mut right = Rows::new(target.rows(t, batch));
    let mut differences = Vec::new();
    let mut differing = 0u64;
    let (mut n_left, mut n_right) = (0u64, 0u64);
    loop {
        let (a, b) = (left.next().await?, right.next().await?);
        n_left += u64::from(a.is_some());
        n_right += u64::from(b.is_some());
        let (a, b) = match (a, b) {
            (None, None) => break,
            (Some(a), Some(b)) => (coerce_row(t, a, n_left)?, b),
            _ => continue, // counted, and reported below
        };
        if let Some(column) = t
            .columns
            .iter()
            .zip(a.iter().zip(&b))
            .position(|(_, (x, y))| x != y)
        {
            differing += 1;
            if differences.len() < SHOWN {
                differences.push(format!(
                    "{}: row {n_left}, column {}: source {}, target {}",
                    t.name,
                    t.columns[column].name,
                    shown(&a[column]),
                    shown(&b[column]),
                ));
            }
        }
    }
    if n_left != n_right {
        differences.insert(
            0,
            format!(
                "{}: {n_left} rows in the source, {n_right} in the target",
                t.name
            ),
        );
    }
    if differing as usize > differences.len() {
        differences.push(format!("{}: {differing} rows differ in all", t.name));
    }
    Ok(differences)
}

/// A value as a difference report shows it (bytes by length and hash, text cut short).
fn shown(v: &Value) -> String {
    match v {
        Value::Blob(b) => format!("{} bytes ({})", b.len(), &sha256_hex(b)[..12]),
        Value::Text(s) if s.chars().count() > 60 => {
            format!("{:?}…", s.chars().take(60).collect::<String>())
        }
        v => format!("{v:?}"),
    }
}

/// One row at a time from a stream of batches.
struct Rows {
    batches: Batches,
    current: std::vec::IntoIter<Row>,
}

impl Rows {
    fn new(batches: Batches) -> Rows {
        Rows {
            batches,
            current: Vec::new().into_iter(),
        }
    }

    async fn next(&mut self) -> Result<Option<Row>, StoreError> {
        loop {
            if let Some(r) = self.current.next() {
                return Ok(Some(r));
            }
            match self.batches.recv().await {
                Some(batch) => self.current = batch?.into_iter(),
                None => return Ok(None),
            }
        }
    }
}

/// Whether the target's blobs are the files, each whole.
async fn check_blobs(target: &Store, files: &[BlobFile]) -> Result<Vec<String>, MigrateError> {
    let kept = target.blob_check().await?;
    let mut differences = Vec::new();
    for kind in ["photos", "documents"] {
        let want = files.iter().filter(|f| f.kind == kind).count();
        let have = kept.iter().filter(|(k, ..)| k == kind).count();
        if want != have {
            differences.push(format!(
                "blobs: {want} {kind} files, {have} kept in the target"
            ));
        }
    }
    let names: std::collections::HashSet<(&str, &str)> = kept
        .iter()
        .map(|(k, sha256, ..)| (k.as_str(), sha256.as_str()))
        .collect();
    for f in files
        .iter()
        .filter(|f| !names.contains(&(f.kind, f.sha256.as_str())))
    {
        differences.push(format!("blobs: {} is not in the target", f.path.display()));
    }
    for (kind, sha256, ..) in kept.iter().filter(|b| !b.3) {
        differences.push(format!("blobs: {kind} {sha256} does not hash to its name"));
    }
    Ok(differences)
}
