//! Content-addressed files: one file per SHA-256 of its bytes, written durably. Complaint
//! photos are kept in one [`BlobStore`], documents in another (`documents/` inside the
//! photos directory); backups copy both directories.
//!
//! A file is on disk before the row naming it commits (see docs/design.md), so a crash
//! between the two leaves an unreferenced file, never a row without its file.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Files on disk, one per SHA-256 (sharded by its first two hex digits), written so that
/// once [`BlobStore::put`] returns the file survives a crash or a power cut.
#[derive(Debug, Clone)]
pub struct BlobStore {
    dir: PathBuf,
}

impl BlobStore {
    pub fn open(dir: &Path) -> std::io::Result<BlobStore> {
        fs::create_dir_all(dir.join("tmp"))?;
        Ok(BlobStore {
            dir: dir.to_path_buf(),
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

    /// Where the bytes of a SHA-256 are, if they are stored (for a program to read).
    pub fn path_of(&self, sha256: &str) -> Option<PathBuf> {
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let p = self.path(&sha256.to_ascii_lowercase());
        p.is_file().then_some(p)
    }

    /// The stored bytes under a SHA-256.
    pub fn get(&self, sha256: &str) -> std::io::Result<Vec<u8>> {
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(std::io::ErrorKind::NotFound.into());
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
        K::StorageFull | K::ReadOnlyFilesystem | K::QuotaExceeded | K::PermissionDenied
    )
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}
