//! The atlas: the store and the index kept in step. This is the one place a write
//! happens — commit to the store, then update the index — so handlers never touch the
//! two separately.

pub mod applications;
mod as_of;
mod complaints;
mod documents;
mod edits;
mod feed;
mod history;
mod letters;
mod moderation;
pub mod notify;
mod proposals;
mod snapshot;
pub use snapshot::Started;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use futures_util::TryStreamExt;

use geo_types::{MultiPolygon, Rect};

use crate::blobs::BlobStore;
use crate::complaints::intake::Intake;
pub use as_of::Register;
pub use complaints::{Change, Filed, Source, DUPLICATE_RADIUS_M, HERITAGE_LINK_M};
pub use documents::StatusChange;
pub use edits::{diff, Diff, EditBy, EditError, Rewrite};
pub use history::{BundledHistoryError, HistoryError, Recorded};
pub use moderation::Verdict;
pub use notify::Channels;
pub use proposals::{ProposalView, Proposed};

use crate::geom;
use crate::import::{self, Format, ImportError, ImportOptions, ImportReport};
use crate::index::{Index, LayerIndex};
use crate::model::{Asset, AssetId, Layer, NewAsset};
use crate::store::{Edit, EditContext, Store, StoreError};
use crate::tiles::cache::TileCache;
use crate::tiles::LayerSet;

/// The bundled Kolkata data, compiled in so the binary serves it from any directory.
pub const BUNDLED: [(Layer, &str, &[u8]); 4] = [
    (
        Layer::Wards,
        "data/wards.geojson",
        include_bytes!("../../data/wards.geojson"),
    ),
    (
        Layer::Heritage,
        "data/heritage.geojson",
        include_bytes!("../../data/heritage.geojson"),
    ),
    (
        Layer::WaterBodies,
        "data/water_bodies.geojson",
        include_bytes!("../../data/water_bodies.geojson"),
    ),
    (
        Layer::Parks,
        "data/parks.geojson",
        include_bytes!("../../data/parks.geojson"),
    ),
];

/// `meta` key recording that the bundled data was loaded, so it loads on first start only
/// (an officer who deletes a bundled asset does not see it come back).
const BUNDLED_KEY: &str = "bundled_data_loaded_at";

#[derive(Debug, thiserror::Error)]
pub enum AtlasError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("bundled data: {0}")]
    Bundled(ImportError),
    #[error("bundled history: {0}")]
    BundledHistory(history::BundledHistoryError),
    #[error("photo directory {0}: {1}")]
    Photos(PathBuf, std::io::Error),
    #[error(transparent)]
    ApplicationType(#[from] crate::applications::TypeError),
}

/// How the atlas starts.
#[derive(Debug, Clone)]
pub struct AtlasOptions {
    /// Load `data/` into an empty database on first start.
    pub load_bundled: bool,
    /// Bytes of encoded tiles to keep in memory; 0 turns the tile cache off.
    pub tile_cache_bytes: u64,
    /// Cached tiles of at least this many bytes are also kept in memory files, which the
    /// front door sends with `sendfile` ([`crate::tiles::cache::Spills`]); 0: none are.
    pub tile_sendfile_min: usize,
    /// Where complaint photos are kept.
    pub photos_dir: PathBuf,
    /// Where complaints are accepted; `None`: the wards of the register.
    pub service_area: Option<MultiPolygon<f64>>,
    /// Hold citizens' photos for review before they are public.
    pub moderate_photos: bool,
    /// How reporters are told of progress (which notifiers are configured).
    pub channels: Channels,
    /// Where the index snapshot is kept (see [`crate::snapshot`]); `None`: none is.
    pub index_snapshot: Option<PathBuf>,
}

impl Default for AtlasOptions {
    fn default() -> Self {
        AtlasOptions {
            load_bundled: true,
            tile_cache_bytes: crate::config::defaults::TILE_CACHE_MB << 20,
            tile_sendfile_min: crate::config::defaults::TILE_SENDFILE_KB << 10,
            photos_dir: PathBuf::from("heritage-atlas.photos"),
            service_area: None,
            moderate_photos: false,
            channels: Channels::default(),
            index_snapshot: None,
        }
    }
}

/// An asset with no ward on record, given the ward a point inside it lies in (marked
/// `ward_from_location`), so tiles, filters and exports all see the ward the record page
/// shows; `index` need hold only the wards. Nothing is written to the store.
pub fn with_located_ward(index: &Index, mut a: Asset) -> Asset {
    if a.attrs.ward.is_none() && a.layer != Layer::Wards {
        if let Some(w) = ward_containing(index, &a) {
            a.attrs.ward = Some(w);
            a.ward_from_location = true;
        }
    }
    a
}

/// Layers at least this large are read on two connections at once.
const READ_IN_TWO_FROM: u64 = 100_000;

/// A layer's assets in id order, as the index keeps them (`located`), with the register's
/// change mark of the view they were read from. A large layer is read and decoded in two
/// halves by id, `second` reading one on a thread of its own, when both views hold the
/// same register (else `first` reads it all).
fn read_layer(
    first: crate::store::Snapshot,
    second: crate::store::Snapshot,
    layer: Layer,
    located: &(dyn Fn(Asset) -> Arc<Asset> + Sync),
) -> Result<(i64, Vec<Arc<Asset>>), StoreError> {
    let read = |snap: &crate::store::Snapshot, lo: i64, hi: i64| {
        let mut out = Vec::new();
        snap.each_asset_in(layer, lo, hi, |a| {
            out.push(located(a));
            Ok::<_, StoreError>(())
        })?;
        Ok::<_, StoreError>(out)
    };
    let (lo, hi, n) = first.layer_ids(layer)?;
    let mark = first.register_mark()?;
    if n < READ_IN_TWO_FROM || mark != second.register_mark()? {
        return Ok((mark, read(&first, i64::MIN, i64::MAX)?));
    }
    let mid = lo + (hi - lo) / 2;
    let (low, high) = std::thread::scope(|s| {
        let high = s.spawn(move || read(&second, mid + 1, i64::MAX));
        (read(&first, i64::MIN, mid), high.join())
    });
    let high = high.map_err(|_| StoreError::Encode("a reading thread failed".into()))??;
    let mut all = low?;
    all.extend(high);
    Ok((mark, all))
}

/// An asset as the index keeps it: its ward found if not recorded (see
/// [`with_located_ward`]), its heritage lock as recorded in `locks`.
fn located(
    index: &Index,
    locks: &std::collections::HashMap<AssetId, crate::model::LockMark>,
    a: Asset,
) -> Asset {
    let mut a = with_located_ward(index, a);
    a.lock = locks.get(&a.id).cloned();
    a
}

/// The ward a point inside the asset lies in.
fn ward_containing(index: &Index, a: &Asset) -> Option<i64> {
    use geo::InteriorPoint;
    let wards = index.read(Layer::Wards);
    // Most of a national layer lies in no ward: its box says so without the costly
    // interior point.
    let b = crate::geom::bbox(&a.geometry)?;
    wards.candidates(&b).next()?;
    let p = a.geometry.interior_point()?;
    wards.containing(p).iter().find_map(|w| w.attrs.ward)
}

/// Store + index.
#[derive(Debug)]
pub struct Atlas {
    store: Store,
    index: Arc<Index>,
    tiles: TileCache,
    photos: BlobStore,
    /// Documents, by SHA-256, in `documents/` inside the photos directory.
    documents: BlobStore,
    intake: Intake,
    service_area: Option<MultiPolygon<f64>>,
    /// Registers of past instants, built for `as_of` answers.
    past: as_of::PastRegisters,
    /// Woken when a document is put on record: its text job is waiting.
    doc_wake: Arc<tokio::sync::Notify>,
    moderate_photos: bool,
    channels: Channels,
    /// Woken when a message to a reporter is put in the outbox.
    notify_wake: Arc<tokio::sync::Notify>,
    /// The key of reporters' stop-messages links (kept in the database, made at first start).
    notify_key: Arc<[u8]>,
    /// The group commit of the workers' point-of-no-return marks, started with the first.
    notify_committer: std::sync::OnceLock<notify::Committer>,
    /// The application types open now (their current versions).
    app_types: Vec<crate::applications::AppType>,
    /// How applicants get their sign-in codes and news (set once at start).
    senders: std::sync::OnceLock<applications::Senders>,
    /// The heritage locks recorded (`heritage_locks`), given to assets as they are
    /// indexed (see [`Atlas::locate_ward`]).
    locks: std::sync::RwLock<std::collections::HashMap<AssetId, crate::model::LockMark>>,
    /// Where the index snapshot is kept, and how this start went.
    snapshot: Option<PathBuf>,
    started: std::sync::OnceLock<Started>,
    /// The register's mark when the snapshot was last read or written.
    snapshot_mark: std::sync::atomic::AtomicI64,
    /// The last change of the register's feed the index holds (see `feed.rs`).
    feed_mark: std::sync::atomic::AtomicI64,
    /// The last step of complaints' timelines the pins hold (see `feed.rs`).
    complaints_mark: std::sync::atomic::AtomicI64,
    /// How often the feed is followed, in ms (0: not followed), and when (Unix ms) it was
    /// last read to its end.
    follow_every_ms: std::sync::atomic::AtomicI64,
    caught_up_at: std::sync::atomic::AtomicI64,
}

impl Atlas {
    /// Loads the bundled data if this database has never had it, then builds the index
    /// from the store.
    pub async fn open(store: Store, opts: &AtlasOptions) -> Result<Atlas, AtlasError> {
        if opts.load_bundled && store.meta_get(BUNDLED_KEY).await?.is_none() {
            let report = load_bundled(&store).await?;
            tracing::info!(
                inserted = report.inserted,
                "loaded bundled Kolkata data (first start)"
            );
        }
        let photos = BlobStore::for_store(&store, &opts.photos_dir, "photos")
            .map_err(|e| AtlasError::Photos(opts.photos_dir.clone(), e))?;
        let documents_dir = opts.photos_dir.join("documents");
        let documents = BlobStore::for_store(&store, &documents_dir, "documents")
            .map_err(|e| AtlasError::Photos(documents_dir.clone(), e))?;
        if opts.load_bundled
            && store
                .meta_get(history::BUNDLED_HISTORY_KEY)
                .await?
                .is_none()
        {
            let n = history::load_bundled_history(&store, &documents)
                .await
                .map_err(AtlasError::BundledHistory)?;
            tracing::info!(
                records = n,
                "loaded the bundled sample history (first start)"
            );
        }
        let notify_key = notify::key(&store).await?;
        // The application types shipped: checked, and every new version put on record.
        let app_types = crate::applications::AppType::bundled()?;
        let added = store
            .sync_application_types(&app_types, &crate::model::now_rfc3339())
            .await?;
        for (code, version) in added {
            tracing::info!(code, version, "application type put on record");
        }
        let atlas = Atlas {
            intake: Intake::start(store.clone()),
            store,
            index: Arc::new(Index::new()),
            tiles: TileCache::new(opts.tile_cache_bytes, opts.tile_sendfile_min),
            photos,
            documents,
            service_area: opts.service_area.clone(),
            past: Default::default(),
            doc_wake: Default::default(),
            moderate_photos: opts.moderate_photos,
            channels: opts.channels,
            notify_wake: Default::default(),
            notify_key,
            notify_committer: Default::default(),
            app_types,
            senders: std::sync::OnceLock::new(),
            locks: Default::default(),
            snapshot: opts.index_snapshot.clone(),
            started: Default::default(),
            snapshot_mark: std::sync::atomic::AtomicI64::new(-1),
            feed_mark: Default::default(),
            complaints_mark: Default::default(),
            follow_every_ms: Default::default(),
            caught_up_at: Default::default(),
        };
        *atlas.locks.write().unwrap_or_else(|e| e.into_inner()) = atlas
            .store
            .heritage_lock_marks()
            .await?
            .into_iter()
            .collect();
        let started = match &opts.index_snapshot {
            // A snapshot that cannot be checked or applied is not used (the layers it set
            // are read again from the database below).
            Some(path) => atlas
                .load_snapshot(path)
                .await
                .unwrap_or_else(|e| Started::FromDatabase(e.to_string())),
            None => Started::FromDatabase("none kept".into()),
        };
        if let Started::FromDatabase(why) = &started {
            if opts.index_snapshot.is_some() {
                tracing::info!(why = %why, "index snapshot not used");
            }
            atlas.reload().await?;
        }
        let _ = atlas.started.set(started);
        atlas.load_pins().await?;
        Ok(atlas)
    }

    /// Rebuilds every layer's index from the store: wards first, so every other asset
    /// without a recorded ward gets the one it lies in (see [`Atlas::locate_ward`]).
    pub async fn reload(&self) -> Result<(), StoreError> {
        let wards_first =
            std::iter::once(&Layer::Wards).chain(Layer::ALL.iter().filter(|l| **l != Layer::Wards));
        // The feed resumes after the oldest view a layer was read from: a change seen by
        // one layer's read and not another's is applied again, harmlessly.
        let mut mark = i64::MAX;
        for layer in wards_first {
            let layer = *layer;
            let t = Instant::now();
            let index = self.index.clone();
            let locks = self.locks.read().unwrap_or_else(|e| e.into_inner()).clone();
            let located = move |a: Asset| Arc::new(located(&index, &locks, a));
            let built = match self.store.snapshot() {
                // Read on a connection of its own and decoded on the indexing thread: no
                // hand-over per row between sqlx's worker and this task.
                Ok(snap) => {
                    let second = self.store.snapshot()?;
                    let (read_mark, built) = tokio::task::spawn_blocking(move || {
                        let (read_mark, assets) = read_layer(snap, second, layer, &located)?;
                        tracing::debug!(layer = %layer, ms = t.elapsed().as_millis() as u64, "read");
                        Ok::<_, StoreError>((read_mark, LayerIndex::bulk_shared(assets)))
                    })
                    .await
                    .map_err(|e| StoreError::Encode(format!("index build failed: {e}")))??;
                    mark = mark.min(read_mark);
                    built
                }
                // A database in memory has no second connection.
                Err(StoreError::Unavailable(_)) => {
                    mark = mark.min(self.store.register_mark().await?);
                    let assets: Vec<Arc<Asset>> = self
                        .store
                        .stream_layer(layer)
                        .map_ok(located)
                        .try_collect()
                        .await?;
                    tokio::task::spawn_blocking(move || LayerIndex::bulk_shared(assets))
                        .await
                        .map_err(|e| StoreError::Encode(format!("index build failed: {e}")))?
                }
                Err(e) => return Err(e),
            };
            let n = built.len();
            self.index.set_layer(layer, built);
            crate::index::refresh_names(&self.index, layer);
            tracing::info!(layer = %layer, assets = n, ms = t.elapsed().as_millis() as u64, "indexed");
        }
        self.feed_mark
            .store(mark, std::sync::atomic::Ordering::Release);
        Ok(())
    }

    /// An asset as the index keeps it: its ward found if not recorded (see
    /// [`with_located_ward`]), its heritage lock as recorded.
    pub fn locate_ward(&self, a: Asset) -> Asset {
        located(
            &self.index,
            &self.locks.read().unwrap_or_else(|e| e.into_inner()),
            a,
        )
    }

    /// Records a lock decision made on paper, with its audit entry, and the asset's record
    /// shows it.
    #[allow(clippy::too_many_arguments)]
    pub async fn record_heritage_lock(
        &self,
        id: AssetId,
        state: &str,
        application: Option<&str>,
        reason: &str,
        actor: i64,
        at: &str,
        log: &crate::store::AuditEntry,
    ) -> Result<(), StoreError> {
        self.store
            .set_heritage_lock(id, state, application, reason, actor, at, log)
            .await?;
        self.lock_recorded(
            id,
            crate::model::LockMark::new(state, application.map(str::to_string)),
        );
        Ok(())
    }

    /// A heritage lock was recorded (after its commit): the asset's record shows it.
    /// Tiles do not carry the lock, so none is invalidated.
    pub(crate) fn lock_recorded(&self, id: AssetId, mark: crate::model::LockMark) {
        self.locks
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, mark.clone());
        // Under the layer's write lock, so an edit applied meanwhile is not undone.
        if let Some(layer) = self.index.get(id).map(|a| a.layer) {
            let mut layer = self.index.write(layer);
            if let Some(a) = layer.get(id) {
                let mut a = (**a).clone();
                a.lock = Some(mark);
                let l = a.layer;
                layer.upsert(a);
                drop(layer);
                crate::index::refresh_names(&self.index, l);
            }
        }
    }

    pub fn index(&self) -> &Index {
        &self.index
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn tiles(&self) -> &TileCache {
        &self.tiles
    }

    pub fn photos(&self) -> &BlobStore {
        &self.photos
    }

    /// The application types open now.
    pub fn application_types(&self) -> &[crate::applications::AppType] {
        &self.app_types
    }

    /// Adds or replaces an asset (by code) as `change`: commit, then index, then drop
    /// the cached tiles its old and new geometry touch.
    pub async fn upsert(&self, a: &NewAsset, change: &EditContext) -> Result<Asset, StoreError> {
        let mut tx = self.store.begin_import(change).await?;
        let (asset, _) = tx.upsert(a).await?;
        tx.commit().await?;
        Ok((*self.apply(asset, true)).clone())
    }

    /// Puts an asset as just committed into the index (or takes it out, when it was
    /// delisted) and drops the cached tiles its old and new geometry touch. Returns the
    /// asset as the index holds it.
    fn apply(&self, asset: Asset, listed: bool) -> Arc<Asset> {
        let asset = self.locate_ward(asset);
        let (layer, id) = (asset.layer, asset.id);
        let new_box = geom::bbox(&asset.geometry);
        let old = if listed {
            self.index.write(layer).upsert(asset.clone())
        } else {
            self.index.write(layer).remove(id)
        };
        self.shown(layer, old.as_deref(), new_box);
        self.index.get(id).unwrap_or_else(|| Arc::new(asset))
    }

    /// After a write to a layer's index: drops the cached tiles the asset's old shape and
    /// new box touch, and rebuilds the layer's name index if it has fallen behind.
    fn shown(&self, layer: Layer, old: Option<&Asset>, new_box: Option<Rect<f64>>) {
        let boxes: Vec<Rect<f64>> = [old.and_then(|o| geom::bbox(&o.geometry)), new_box]
            .into_iter()
            .flatten()
            .collect();
        self.tiles.invalidate(LayerSet::of(&[layer]), &boxes);
        crate::index::refresh_names(&self.index, layer);
    }

    /// Takes an asset off the register as `change` (its history stays). Returns the
    /// asset as it was, or `None` if the index does not hold it.
    pub async fn delist(
        &self,
        id: AssetId,
        reason: &str,
        change: &EditContext,
    ) -> Result<Option<Asset>, StoreError> {
        let Some(existing) = self.index.get(id) else {
            return Ok(None);
        };
        let mut tx = self.store.begin_import(change).await?;
        let edit = tx.delist(id, existing.version, reason).await?;
        tx.commit().await?;
        match edit {
            Edit::Written(gone) => {
                self.apply(gone, false);
                Ok(Some((*existing).clone()))
            }
            Edit::Stale(_) | Edit::Missing => Ok(None),
        }
    }
}

/// Imports the bundled files in one transaction, marking the database as seeded in the
/// same transaction: either all of it lands, or none and the next start tries again.
pub async fn load_bundled(store: &Store) -> Result<ImportReport, AtlasError> {
    let mut tx = store
        .begin_import(&crate::store::EditContext::import("bundled data"))
        .await?;
    let mut total = ImportReport::default();
    // Another server starting on the same new database may have loaded it while this one
    // waited for the writer's lock.
    if tx.meta_get(BUNDLED_KEY).await?.is_some() {
        return Ok(total);
    }
    for (layer, name, bytes) in BUNDLED {
        let opts = ImportOptions::new(layer);
        let r = import::import_reader(
            &mut tx,
            Box::new(std::io::Cursor::new(bytes)),
            bytes.len() as u64,
            Format::Geojson,
            &opts,
        )
        .await
        .map_err(|e| {
            AtlasError::Bundled(ImportError::Format {
                format: "bundled",
                reason: format!("{name}: {e}"),
            })
        })?;
        total.inserted += r.inserted;
        total.updated += r.updated;
        total.unchanged += r.unchanged;
    }
    tx.meta_set(BUNDLED_KEY, &crate::model::now_rfc3339())
        .await?;
    tx.commit().await?;
    Ok(total)
}
