//! Content-addressed files: one file per SHA-256 of its bytes, written durably. Complaint
//! photos are kept in one [`BlobStore`], documents in another (`documents/` inside the
//! photos directory); backups copy both directories.
//!
//! A file is on disk before the row naming it commits (see docs/design.md), so a crash
//! between the two leaves an unreferenced file, never a row without its file.
//!
//! On PostgreSQL the bytes live in the database instead (table `blobs`, keyed by store
//! and SHA-256: `migrations-postgres/0012`), so that every replica sees every photo and
//! document; they are committed before the row naming them, as files are.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Files on disk, one per SHA-256 (sharded by its first two hex digits), written so that
/// once [`BlobStore::put`] returns the file survives a crash or a power cut; or, on
/// PostgreSQL, rows of the database (see the module doc).
#[derive(Debug, Clone)]
pub struct BlobStore {
    dir: PathBuf,
    database: Option<InDatabase>,
}

/// Bytes kept in the store's `blobs` table under `kind` ("photos" or "documents").
#[derive(Debug, Clone)]
struct InDatabase {
    store: crate::store::Store,
    kind: &'static str,
    handle: tokio::runtime::Handle,
    /// Where copies are put for programs to read ([`BlobStore::path_of_async`]): a
    /// directory of this process's own, made with a random name and mode 0700 (no other
    /// user can plant a file there), removed with the store.
    copies: std::sync::Arc<tempfile::TempDir>,
}

/// A stored file for a program to read ([`BlobStore::path_of_async`]): the file itself,
/// or a copy of the database's bytes, removed once dropped.
#[derive(Debug)]
pub struct BlobFile {
    path: PathBuf,
    copy: bool,
}

impl std::ops::Deref for BlobFile {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.path
    }
}

impl Drop for BlobFile {
    fn drop(&mut self) {
        if self.copy {
            let _ = fs::remove_file(&self.path);
        }
    }
}

impl InDatabase {
    /// Waits for `work` on this thread (the callers put and get on blocking threads).
    fn block<T>(&self, work: impl std::future::Future<Output = T>) -> T {
        match tokio::runtime::Handle::try_current() {
            Ok(_) => tokio::task::block_in_place(|| self.handle.block_on(work)),
            Err(_) => self.handle.block_on(work),
        }
    }
}

fn io_error(e: crate::store::StoreError) -> std::io::Error {
    if e.is_unavailable() {
        std::io::Error::new(std::io::ErrorKind::ResourceBusy, e.to_string())
    } else {
        std::io::Error::other(e.to_string())
    }
}

impl BlobStore {
    pub fn open(dir: &Path) -> std::io::Result<BlobStore> {
        fs::create_dir_all(dir.join("tmp"))?;
        Ok(BlobStore {
            dir: dir.to_path_buf(),
            database: None,
        })
    }

    /// The `kind` store ("photos" or "documents") of `store`'s database: the directory
    /// `dir` for SQLite; for PostgreSQL, the database itself (`dir` is then only where
    /// [`BlobStore::path_of_async`] puts copies for programs to read).
    pub fn for_store(
        store: &crate::store::Store,
        dir: &Path,
        kind: &'static str,
    ) -> std::io::Result<BlobStore> {
        if store.backend() == crate::store::Backend::Sqlite {
            return BlobStore::open(dir);
        }
        let handle = tokio::runtime::Handle::try_current()
            .map_err(|e| std::io::Error::other(format!("no runtime for the blob store: {e}")))?;
        let copies = tempfile::Builder::new()
            .prefix(&format!("heritage-atlas-{kind}-"))
            .tempdir()?;
        Ok(BlobStore {
            dir: copies.path().to_path_buf(),
            database: Some(InDatabase {
                store: store.clone(),
                kind,
                handle,
                copies: std::sync::Arc::new(copies),
            }),
        })
    }

    fn path(&self, sha256: &str) -> PathBuf {
        self.dir.join(&sha256[..2]).join(sha256)
    }

    /// Writes bytes under their (already computed, lower-case hex) SHA-256, if not already
    /// stored, and fsyncs the file and its directory.
    pub fn put(&self, sha256: &str, bytes: &[u8]) -> std::io::Result<()> {
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(std::io::ErrorKind::InvalidInput.into());
        }
        if let Some(db) = &self.database {
            let sha256 = sha256.to_ascii_lowercase();
            return db
                .block(db.store.blob_put(db.kind, &sha256, bytes))
                .map_err(io_error);
        }
        let path = self.path(sha256);
        if path.exists() {
            // Written by an earlier put, which renamed it into place only after fsync.
            return Ok(());
        }
        let shard = path.parent().unwrap_or(&self.dir);
        if !shard.exists() {
            fs::create_dir_all(shard)?;
            sync_dir(&self.dir)?;
        }
        let tmp = self
            .dir
            .join("tmp")
            .join(format!("{sha256}.{}", rand::random::<u64>()));
        let written = File::create(&tmp).and_then(|mut f| {
            f.write_all(bytes)?;
            f.sync_all()
        });
        if let Err(e) = written.and_then(|()| fs::rename(&tmp, &path)) {
            // A disk that filled up mid-write leaves no half file behind.
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        sync_dir(shard)
    }

    /// [`BlobStore::put`] from a task: the database's write awaited, a file written on
    /// this thread (as the callers that hold bytes in a task have always done).
    pub async fn put_async(&self, sha256: &str, bytes: &[u8]) -> std::io::Result<()> {
        match &self.database {
            Some(db) if sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit()) => db
                .store
                .blob_put(db.kind, &sha256.to_ascii_lowercase(), bytes)
                .await
                .map_err(io_error),
            _ => self.put(sha256, bytes),
        }
    }

    /// Where the bytes of a SHA-256 are, if they are stored, for a program to read: the
    /// file itself, or on PostgreSQL a copy of its own (one per call, so that two readers
    /// never remove each other's), removed when the answer is dropped.
    pub async fn path_of_async(&self, sha256: &str) -> Option<BlobFile> {
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let sha256 = sha256.to_ascii_lowercase();
        let Some(db) = &self.database else {
            let path = self.path(&sha256);
            return path.is_file().then_some(BlobFile { path, copy: false });
        };
        let bytes = db.store.blob_get(db.kind, &sha256).await.ok()??;
        let path = db
            .copies
            .path()
            .join(format!("{sha256}.{}", rand::random::<u64>()));
        let file = BlobFile { path, copy: true };
        fs::write(&file.path, bytes).ok()?;
        Some(file)
    }

    /// The stored bytes under a SHA-256.
    pub fn get(&self, sha256: &str) -> std::io::Result<Vec<u8>> {
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(std::io::ErrorKind::NotFound.into());
        }
        if let Some(db) = &self.database {
            let sha256 = sha256.to_ascii_lowercase();
            return db
                .block(db.store.blob_get(db.kind, &sha256))
                .map_err(io_error)?
                .ok_or_else(|| std::io::ErrorKind::NotFound.into());
        }
        fs::read(self.path(&sha256.to_ascii_lowercase()))
    }
}

/// Whether an I/O error is the storage's state (full, read-only, over quota) rather than
/// a fault of ours: the request is then a 503 to retry later, and the server serves on.
pub fn storage_unavailable(e: &std::io::Error) -> bool {
    use std::io::ErrorKind as K;
    matches!(
        e.kind(),
        K::StorageFull
            | K::ReadOnlyFilesystem
            | K::QuotaExceeded
            | K::PermissionDenied
            // The database that holds them on PostgreSQL, out of reach (`io_error`).
            | K::ResourceBusy
    )
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}
