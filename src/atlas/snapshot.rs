//! Starting from the index snapshot (see [`crate::snapshot`]): read back, checked against
//! the database it was written for, and brought up to date through the change feed before
//! the first request is answered; written again when it has fallen behind.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use super::Atlas;
use crate::index::LayerIndex;
use crate::model::{Asset, Layer};
use crate::snapshot::{self, Header, SnapshotError};
use crate::store::StoreError;

/// A layer's assets with their search keys, as copied for writing.
type Held = Vec<(Arc<Asset>, Box<str>)>;

/// A snapshot further behind the register than this many changes is not used: applying
/// them one by one (about 0.2 ms each at national scale) would take about as long as
/// reading the register afresh.
const MAX_BEHIND: i64 = 20_000;

/// After a start that applied at least this many changes to the snapshot it read (or read
/// none), a new one is written in the background.
const REWRITE_AFTER: usize = 10_000;

/// How a start went: from a snapshot or not, and whether a new one is worth writing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Started {
    /// From the snapshot, with this many changes applied after it.
    FromSnapshot { caught_up: usize },
    /// From the database: no snapshot, or this one could not be used (why).
    FromDatabase(String),
}

impl Started {
    /// Whether the snapshot should be written anew.
    pub fn rewrite(&self) -> bool {
        match self {
            Started::FromSnapshot { caught_up } => *caught_up >= REWRITE_AFTER,
            Started::FromDatabase(_) => true,
        }
    }
}

impl Atlas {
    /// Why the snapshot described by `h` cannot stand for this database now, if it cannot.
    async fn snapshot_unusable(&self, h: &Header) -> Result<Option<String>, StoreError> {
        if h.build != Header::build() {
            return Ok(Some(format!("written by version {}", h.build)));
        }
        if h.database != self.store.database_id().await? {
            return Ok(Some("written for another database".into()));
        }
        let now = self.store.register_mark().await?;
        if now < h.mark {
            return Ok(Some("the database is older than the snapshot".into()));
        }
        if h.mark > 0 && self.store.change_at(h.mark).await? != h.at_mark {
            return Ok(Some(
                "the database no longer holds the change it was taken at".into(),
            ));
        }
        if now - h.mark > MAX_BEHIND {
            return Ok(Some(format!("{} changes behind", now - h.mark)));
        }
        // Assets without a recorded ward were placed in the wards of the time.
        if self.store.wards_changed_after(h.mark).await? {
            return Ok(Some("wards were changed since".into()));
        }
        Ok(None)
    }

    /// Loads the index from the snapshot at `path` and applies every change recorded
    /// after it; `FromDatabase` (having loaded nothing) when it is missing or cannot be
    /// used, the caller then reading the register from the database.
    pub(super) async fn load_snapshot(&self, path: &Path) -> Result<Started, StoreError> {
        let t = Instant::now();
        let header = match snapshot::read_header(path) {
            Ok(h) => h,
            Err(SnapshotError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Started::FromDatabase("no snapshot".into()))
            }
            Err(e) => return Ok(Started::FromDatabase(e.to_string())),
        };
        if let Some(why) = self.snapshot_unusable(&header).await? {
            return Ok(Started::FromDatabase(why));
        }
        let locks = self.locks.read().unwrap_or_else(|e| e.into_inner()).clone();
        let owned = path.to_owned();
        let read = tokio::task::spawn_blocking(move || {
            let (h, layers) = snapshot::read(&owned, &|id| locks.get(&id).cloned())?;
            let built: Vec<(Layer, LayerIndex)> = layers
                .into_iter()
                .map(|l| (l.layer, LayerIndex::bulk_parts(l.assets, l.parts)))
                .collect();
            Ok::<_, SnapshotError>((h, built))
        })
        .await
        .map_err(|e| StoreError::Encode(format!("index build failed: {e}")))?;
        let (h, built) = match read {
            Ok(r) => r,
            Err(e) => return Ok(Started::FromDatabase(e.to_string())),
        };
        // Another process may have written a newer one in between: check what was read.
        if h != header {
            if let Some(why) = self.snapshot_unusable(&h).await? {
                return Ok(Started::FromDatabase(why));
            }
        }
        if built.len() != Layer::ALL.len()
            || !Layer::ALL.iter().all(|l| built.iter().any(|(b, _)| b == l))
        {
            return Ok(Started::FromDatabase("a layer is missing".into()));
        }
        let read_ms = t.elapsed().as_millis() as u64;
        for (layer, index) in built {
            self.index.set_layer(layer, index);
            crate::index::refresh_names(&self.index, layer);
        }
        self.feed_mark.store(h.mark, Ordering::Release);
        self.snapshot_mark.store(h.mark, Ordering::Release);
        let caught_up = self.follow_register().await?;
        tracing::info!(
            snapshot = %path.display(),
            mark = h.mark,
            read_ms,
            caught_up,
            ms = t.elapsed().as_millis() as u64,
            "index loaded from its snapshot"
        );
        Ok(Started::FromSnapshot { caught_up })
    }

    /// How this process started (once it has).
    pub fn started(&self) -> Option<&Started> {
        self.started.get()
    }

    /// Writes the snapshot (where `--index-snapshot` says) if the register has changed
    /// since it was last read or written; its size in bytes if written.
    pub async fn save_snapshot_if_behind(&self) -> Result<Option<u64>, StoreError> {
        let Some(path) = self.snapshot.clone() else {
            return Ok(None);
        };
        let now = self.store.register_mark().await?;
        if now == self.snapshot_mark.load(Ordering::Acquire) {
            return Ok(None);
        }
        let t = Instant::now();
        let n = self.save_snapshot(&path).await?;
        tracing::info!(snapshot = %path.display(), bytes = n, ms = t.elapsed().as_millis() as u64, "index snapshot written");
        Ok(Some(n))
    }

    /// Writes the index as it stands to `path`; returns its size in bytes.
    ///
    /// The mark written is the feed's mark before the layers are copied, so every change
    /// up to it is in the copy (later ones may be too: applying them again at the next
    /// start changes nothing, since the feed skips versions the index already holds).
    pub async fn save_snapshot(&self, path: &Path) -> Result<u64, StoreError> {
        let mark = self.feed_mark.load(Ordering::Acquire);
        let header = Header {
            database: self.store.database_id().await?,
            mark,
            at_mark: if mark > 0 {
                self.store.change_at(mark).await?
            } else {
                None
            },
            build: Header::build(),
        };
        let index = self.index.clone();
        let path: PathBuf = path.to_owned();
        let n = tokio::task::spawn_blocking(move || {
            // Each layer copied under its read lock (Arc clones and keys), written off it.
            let layers: Vec<(Layer, Held)> = Layer::ALL
                .iter()
                .map(|&l| {
                    let li = index.read(l);
                    let held = li.iter_keys().map(|(a, k)| (a.clone(), k.into())).collect();
                    (l, held)
                })
                .collect();
            snapshot::write(
                &path,
                &header,
                layers
                    .iter()
                    .map(|(l, held)| (*l, held.iter().map(|(a, k)| (&**a, &**k)).collect())),
            )
        })
        .await
        .map_err(|e| StoreError::Encode(format!("snapshot writer failed: {e}")))?
        .map_err(|e| StoreError::Unavailable(format!("cannot write the index snapshot: {e}")))?;
        // Only once written: a failed write (a full disk) is tried again at the next save.
        self.snapshot_mark.store(mark, Ordering::Release);
        Ok(n)
    }
}
