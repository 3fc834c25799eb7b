//! What a streamed export reads: whole layers, on a connection of their own.
//!
//! sqlx runs each SQLite connection on a worker thread and hands every row to the
//! awaiting task through a channel, each value copied first: for the national layer's
//! 2.4 million rows that hand-off was a fifth of an export's time. A [`Snapshot`] is a
//! plain read-only SQLite connection (rusqlite, over the same libsqlite3 as sqlx) whose
//! rows are decoded on the thread that steps them, text and blobs borrowed from SQLite
//! until the asset is built. All it reads is one transaction's view, so the count, the
//! extent, the extra-property names and the rows of an export agree while the server
//! writes.

use std::time::Duration;

use rusqlite::types::ValueRef;
use rusqlite::OpenFlags;

use super::assets::{asset_columns, decode_asset, AssetColumns, Col};
use super::{Result, Store, StoreError};
use crate::model::{Asset, Layer};

/// A read-only view of the register as it was at its first read (see the module doc).
/// Not shared between threads; it may move to the one that reads.
pub struct Snapshot {
    view: View,
}

enum View {
    Sqlite(rusqlite::Connection),
    /// PostgreSQL: one REPEATABLE READ transaction on a connection of its own, held by a
    /// thread of its own that answers the snapshot's questions in order; the caller
    /// waits for each answer as it would for SQLite's (any thread, in a runtime or not).
    Postgres(std::sync::mpsc::Sender<Job>),
}

type Reply<T> = std::sync::mpsc::SyncSender<Result<T>>;

/// A question for the PostgreSQL snapshot's thread.
enum Job {
    LockMarks(Reply<std::collections::HashMap<crate::model::AssetId, crate::model::LockMark>>),
    LayerIds(Layer, Reply<(i64, i64, u64)>),
    RegisterMark(Reply<i64>),
    Extent(Layer, Reply<Option<[f64; 4]>>),
    ExtraKeys(Layer, Reply<Vec<String>>),
    /// The assets with ids in `lo..=hi`, one message each, in id order.
    Assets(Layer, i64, i64, Reply<Asset>),
}

/// Starts the thread that holds a PostgreSQL snapshot (see [`View::Postgres`]).
fn postgres_view(options: sqlx::any::AnyConnectOptions) -> std::io::Result<View> {
    let (jobs, inbox) = std::sync::mpsc::channel::<Job>();
    std::thread::Builder::new()
        .name("pg-snapshot".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => return answer_all(inbox, &format!("no runtime: {e}")),
            };
            rt.block_on(async move {
                use sqlx::Connection;
                let conn = async {
                    let mut c = sqlx::AnyConnection::connect_with(&options).await?;
                    sqlx::query("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                        .execute(&mut c)
                        .await?;
                    Ok::<_, sqlx::Error>(c)
                };
                match conn.await {
                    Ok(mut c) => {
                        while let Ok(job) = inbox.recv() {
                            run_job(&mut c, job).await;
                        }
                    }
                    Err(e) => answer_all(inbox, &e.to_string()),
                }
            })
        })?;
    Ok(View::Postgres(jobs))
}

/// Answers every question with the error that keeps the thread from reading.
fn answer_all(inbox: std::sync::mpsc::Receiver<Job>, why: &str) {
    let e = || StoreError::Unavailable(format!("snapshot: {why}"));
    while let Ok(job) = inbox.recv() {
        match job {
            Job::LockMarks(r) => drop(r.send(Err(e()))),
            Job::LayerIds(_, r) => drop(r.send(Err(e()))),
            Job::RegisterMark(r) => drop(r.send(Err(e()))),
            Job::Extent(_, r) => drop(r.send(Err(e()))),
            Job::ExtraKeys(_, r) => drop(r.send(Err(e()))),
            Job::Assets(_, _, _, r) => drop(r.send(Err(e()))),
        }
    }
}

async fn run_job(c: &mut sqlx::AnyConnection, job: Job) {
    match job {
        Job::LockMarks(r) => {
            let rows: Result<Vec<(i64, String, Option<String>)>> =
                sqlx::query_as("SELECT asset_id, state, application FROM heritage_locks")
                    .fetch_all(&mut *c)
                    .await
                    .map_err(Into::into);
            let _ = r.send(rows.map(|rows| {
                rows.into_iter()
                    .map(|(id, state, app)| {
                        (
                            crate::model::AssetId(id),
                            crate::model::LockMark::new(&state, app),
                        )
                    })
                    .collect()
            }));
        }
        Job::LayerIds(layer, r) => {
            let ids: Result<(Option<i64>, Option<i64>, i64)> = sqlx::query_as(
                "SELECT min(id), max(id), count(*) FROM assets \
                 WHERE layer = $1 AND delisted_at IS NULL",
            )
            .bind(layer.as_str())
            .fetch_one(&mut *c)
            .await
            .map_err(Into::into);
            let _ = r.send(ids.map(|(lo, hi, n)| (lo.unwrap_or(0), hi.unwrap_or(0), n as u64)));
        }
        Job::RegisterMark(r) => {
            let _ = r.send(
                sqlx::query_scalar("SELECT coalesce(max(rowid), 0) FROM asset_versions")
                    .fetch_one(&mut *c)
                    .await
                    .map_err(Into::into),
            );
        }
        Job::Extent(layer, r) => {
            type Box4 = (Option<f64>, Option<f64>, Option<f64>, Option<f64>);
            let b: Result<Box4> = sqlx::query_as(
                "SELECT min(minx), min(miny), max(maxx), max(maxy) FROM assets \
                 WHERE layer = $1 AND delisted_at IS NULL",
            )
            .bind(layer.as_str())
            .fetch_one(&mut *c)
            .await
            .map_err(Into::into);
            let _ = r.send(b.map(|b| match b {
                (Some(w), Some(s), Some(e), Some(n)) => Some([w, s, e, n]),
                _ => None,
            }));
        }
        Job::ExtraKeys(layer, r) => {
            let _ = r.send(
                sqlx::query_scalar(
                    // PostgreSQL turns no `\u0000` escape into text, even in a value
                    // (it has no NUL in text): the escape is swapped for U+FFFD first,
                    // which leaves every key but one holding a NUL as it was.
                    "SELECT DISTINCT j.key FROM assets, \
                     jsonb_object_keys(replace(assets.extra, '\\u0000', '\\ufffd')::jsonb) AS j(key) \
                     WHERE assets.layer = $1 AND assets.delisted_at IS NULL ORDER BY j.key",
                )
                .bind(layer.as_str())
                .fetch_all(&mut *c)
                .await
                .map_err(Into::into),
            );
        }
        Job::Assets(layer, lo, hi, r) => {
            use futures_util::TryStreamExt;
            let sql = format!(
                "SELECT {} FROM assets WHERE layer = $1 AND delisted_at IS NULL \
                 AND id BETWEEN $2 AND $3 ORDER BY id",
                super::assets::asset_cols(super::Backend::Postgres)
            );
            let mut rows = sqlx::query(&sql)
                .bind(layer.as_str())
                .bind(lo)
                .bind(hi)
                .fetch(&mut *c);
            loop {
                let next = match rows.try_next().await {
                    Ok(Some(row)) => decode_asset(&row),
                    Ok(None) => break,
                    Err(e) => Err(e.into()),
                };
                let failed = next.is_err();
                // A reader that stopped (its own error) drops its end: stop too.
                if r.send(next).is_err() || failed {
                    break;
                }
            }
        }
    }
}

/// Sends a question to a PostgreSQL snapshot's thread and waits for the answer.
fn ask<T>(jobs: &std::sync::mpsc::Sender<Job>, job: impl FnOnce(Reply<T>) -> Job) -> Result<T> {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let gone = || StoreError::Unavailable("the snapshot's reader stopped".into());
    jobs.send(job(tx)).map_err(|_| gone())?;
    rx.recv().map_err(|_| gone())?
}

impl Store {
    /// A read-only view of the database on a connection of its own; a database in
    /// memory has none.
    pub fn snapshot(&self) -> Result<Snapshot> {
        if self.backend == super::Backend::Postgres {
            let options = (*self.pool.connect_options()).clone();
            let view = postgres_view(options)
                .map_err(|e| StoreError::Unavailable(format!("snapshot thread: {e}")))?;
            return Ok(Snapshot { view });
        }
        let file = self.file.as_deref().ok_or_else(|| {
            StoreError::Unavailable("an in-memory database cannot be read apart".into())
        })?;
        let conn = rusqlite::Connection::open_with_flags(
            file,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::from_secs(10))?;
        // Deferred: the view is taken at the first read and held until the connection
        // closes.
        conn.execute_batch("BEGIN")?;
        Ok(Snapshot {
            view: View::Sqlite(conn),
        })
    }
}

impl Snapshot {
    /// Every recorded heritage lock (see `store/locks.rs`).
    pub fn lock_marks(
        &self,
    ) -> Result<std::collections::HashMap<crate::model::AssetId, crate::model::LockMark>> {
        match &self.view {
            View::Sqlite(c) => Lite(c).lock_marks(),
            View::Postgres(jobs) => ask(jobs, Job::LockMarks),
        }
    }

    /// The number of assets in a layer (from the layer index, no row read).
    pub fn layer_count(&self, layer: Layer) -> Result<u64> {
        match &self.view {
            View::Sqlite(c) => Lite(c).layer_count(layer),
            View::Postgres(_) => Ok(self.layer_ids(layer)?.2),
        }
    }

    /// The smallest and largest id of a layer's listed assets and how many there are.
    pub fn layer_ids(&self, layer: Layer) -> Result<(i64, i64, u64)> {
        match &self.view {
            View::Sqlite(c) => Lite(c).layer_ids(layer),
            View::Postgres(jobs) => ask(jobs, |r| Job::LayerIds(layer, r)),
        }
    }

    /// The register's change mark: the last version recorded (every write to an asset
    /// records one, see migrations/0004). Two views with the same mark hold the same
    /// register.
    pub fn register_mark(&self) -> Result<i64> {
        match &self.view {
            View::Sqlite(c) => Lite(c).register_mark(),
            View::Postgres(jobs) => ask(jobs, Job::RegisterMark),
        }
    }

    /// The stored box around a whole layer (west, south, east, north); `None` for an
    /// empty layer.
    pub fn layer_extent(&self, layer: Layer) -> Result<Option<[f64; 4]>> {
        match &self.view {
            View::Sqlite(c) => Lite(c).layer_extent(layer),
            View::Postgres(jobs) => ask(jobs, |r| Job::Extent(layer, r)),
        }
    }

    /// The names of the extra properties (those with no column) any asset of the layer
    /// carries, in name order: a download's extra columns, found without decoding a row.
    pub fn layer_extra_keys(&self, layer: Layer) -> Result<Vec<String>> {
        match &self.view {
            View::Sqlite(c) => Lite(c).layer_extra_keys(layer),
            View::Postgres(jobs) => ask(jobs, |r| Job::ExtraKeys(layer, r)),
        }
    }

    /// Every asset of a layer, in id order.
    pub fn load_layer(&self, layer: Layer) -> Result<Vec<Asset>> {
        let mut all = Vec::new();
        self.each_asset(layer, |a| {
            all.push(a);
            Ok::<_, StoreError>(())
        })?;
        Ok(all)
    }

    /// [`Store::layer_at_parts`] read in this snapshot's one transaction (SQLite's; on
    /// PostgreSQL the store reads it through sqlx).
    pub(super) fn layer_at_parts(
        &self,
        layer: Layer,
        t: &str,
    ) -> Result<super::versions::LayerAtParts> {
        match &self.view {
            View::Sqlite(c) => Lite(c).layer_at_parts(layer, t),
            View::Postgres(_) => Err(StoreError::Unavailable(
                "the past of a layer is read through the store on PostgreSQL".into(),
            )),
        }
    }

    /// Decodes the assets of a layer in id order, each handed to `f` as soon as it is
    /// read; stops at the first error, `f`'s included.
    pub fn each_asset<E: From<StoreError>>(
        &self,
        layer: Layer,
        f: impl FnMut(Asset) -> Result<(), E>,
    ) -> Result<(), E> {
        self.each_asset_in(layer, i64::MIN, i64::MAX, f)
    }

    /// [`Snapshot::each_asset`] for the ids from `lo` to `hi`, both included.
    pub fn each_asset_in<E: From<StoreError>>(
        &self,
        layer: Layer,
        lo: i64,
        hi: i64,
        mut f: impl FnMut(Asset) -> Result<(), E>,
    ) -> Result<(), E> {
        match &self.view {
            View::Sqlite(c) => Lite(c).each_asset_in(layer, lo, hi, f),
            View::Postgres(jobs) => {
                // Decoded on the snapshot's thread while this one indexes: a few
                // thousand assets in flight at most.
                let (tx, rx) = std::sync::mpsc::sync_channel(4096);
                let gone = || StoreError::Unavailable("the snapshot's reader stopped".into());
                jobs.send(Job::Assets(layer, lo, hi, tx))
                    .map_err(|_| gone())?;
                for asset in rx {
                    f(asset?)?;
                }
                Ok(())
            }
        }
    }
}

/// What a SQLite snapshot reads, on its connection.
struct Lite<'a>(&'a rusqlite::Connection);

impl Lite<'_> {
    /// Every recorded heritage lock (see `store/locks.rs`).
    fn lock_marks(
        &self,
    ) -> Result<std::collections::HashMap<crate::model::AssetId, crate::model::LockMark>> {
        let mut stmt = self
            .0
            .prepare("SELECT asset_id, state, application FROM heritage_locks")?;
        let rows = stmt.query_map([], |r| {
            let state: String = r.get(1)?;
            Ok((
                crate::model::AssetId(r.get(0)?),
                crate::model::LockMark::new(&state, r.get(2)?),
            ))
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// The number of assets in a layer (from the layer index, no row read).
    fn layer_count(&self, layer: Layer) -> Result<u64> {
        let n: i64 = self.0.query_row(
            "SELECT count(*) FROM assets WHERE layer = ? AND delisted_at IS NULL",
            [layer.as_str()],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }

    /// The smallest and largest id of a layer's listed assets and how many there are.
    fn layer_ids(&self, layer: Layer) -> Result<(i64, i64, u64)> {
        let (lo, hi, n): (Option<i64>, Option<i64>, i64) = self.0.query_row(
            "SELECT min(id), max(id), count(*) FROM assets WHERE layer = ? AND delisted_at IS NULL",
            [layer.as_str()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        Ok((lo.unwrap_or(0), hi.unwrap_or(0), n as u64))
    }

    /// The register's change mark: the last version recorded (every write to an asset
    /// records one, see migrations/0004). Two views with the same mark hold the same
    /// register.
    fn register_mark(&self) -> Result<i64> {
        Ok(self.0.query_row(
            "SELECT coalesce(max(rowid), 0) FROM asset_versions",
            [],
            |r| r.get(0),
        )?)
    }

    /// The stored box around a whole layer (west, south, east, north); `None` for an
    /// empty layer.
    fn layer_extent(&self, layer: Layer) -> Result<Option<[f64; 4]>> {
        let extent = self.0.query_row(
            "SELECT min(minx), min(miny), max(maxx), max(maxy) FROM assets \
             WHERE layer = ? AND delisted_at IS NULL",
            [layer.as_str()],
            // All four are NULL for an empty layer.
            |r| {
                Ok(match r.get(0)? {
                    Some(w) => Some([w, r.get(1)?, r.get(2)?, r.get(3)?]),
                    None => None,
                })
            },
        )?;
        Ok(extent)
    }

    /// The names of the extra properties (those with no column) any asset of the layer
    /// carries, in name order: a download's extra columns, found without decoding a row.
    fn layer_extra_keys(&self, layer: Layer) -> Result<Vec<String>> {
        let mut stmt = self.0.prepare(
            "SELECT DISTINCT j.key FROM assets, json_each(assets.extra) AS j \
             WHERE assets.layer = ? AND assets.delisted_at IS NULL ORDER BY j.key",
        )?;
        let keys = stmt.query_map([layer.as_str()], |r| r.get(0))?;
        Ok(keys.collect::<rusqlite::Result<_>>()?)
    }

    /// [`Store::layer_at_parts`] read in this snapshot's one transaction: the listed
    /// assets whose version at `t` is still their current one (id, version), and the
    /// others as their version at `t` left them.
    fn layer_at_parts(&self, layer: Layer, t: &str) -> Result<super::versions::LayerAtParts> {
        // rusqlite reads `$2` as a name, numbered by where it first appears; `?2` is the
        // second value wherever it stands.
        let then = super::versions::VERSION_THEN.replace("$2", "?2");
        let mut stmt = self.0.prepare(&format!(
            "SELECT a.id, a.version FROM assets a \
             WHERE a.layer = ?1 AND a.delisted_at IS NULL AND {then} = a.version ORDER BY a.id"
        ))?;
        let same = stmt
            .query_map((layer.as_str(), t), |r| {
                Ok((crate::model::AssetId(r.get(0)?), r.get(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        // A version row's columns in `Col` order (its `asset_id` as the id).
        let columns = Col::ALL
            .map(|c| match c {
                Col::Id => "v.asset_id".to_string(),
                c => format!("v.{}", c.name()),
            })
            .join(", ");
        let mut stmt = self.0.prepare(&format!(
            "SELECT {columns} FROM assets a \
             JOIN asset_versions v ON v.asset_id = a.id AND v.version = {then} \
             WHERE a.layer = ?1 AND v.version <> a.version AND v.delisted_at IS NULL \
             ORDER BY a.id"
        ))?;
        let mut rows = stmt.query((layer.as_str(), t))?;
        let mut changed = Vec::new();
        while let Some(row) = rows.next()? {
            changed.push(decode_asset(row)?);
        }
        Ok((same, changed))
    }

    /// [`Snapshot::each_asset`] for the ids from `lo` to `hi`, both included.
    fn each_asset_in<E: From<StoreError>>(
        &self,
        layer: Layer,
        lo: i64,
        hi: i64,
        mut f: impl FnMut(Asset) -> Result<(), E>,
    ) -> Result<(), E> {
        let sql = format!(
            "SELECT {} FROM assets WHERE layer = ? AND delisted_at IS NULL \
             AND id BETWEEN ? AND ? ORDER BY id",
            asset_columns()
        );
        let mut stmt = self.0.prepare(&sql).map_err(StoreError::from)?;
        let mut rows = stmt
            .query((layer.as_str(), lo, hi))
            .map_err(StoreError::from)?;
        while let Some(row) = rows.next().map_err(StoreError::from)? {
            f(decode_asset(row)?)?;
        }
        Ok(())
    }
}

/// A row of the `SELECT` in [`Snapshot::each_asset`], whose columns are [`Col`]s in order.
impl AssetColumns for rusqlite::Row<'_> {
    fn text(&self, c: Col) -> Result<Option<&str>> {
        let v = self.get_ref(c as usize)?;
        v.as_str_or_null().map_err(|e| mismatch(c, v, e))
    }

    fn int(&self, c: Col) -> Result<Option<i64>> {
        let v = self.get_ref(c as usize)?;
        v.as_i64_or_null().map_err(|e| mismatch(c, v, e))
    }

    fn real(&self, c: Col) -> Result<Option<f64>> {
        match self.get_ref(c as usize)? {
            // As sqlx reads a REAL column that holds an integer.
            ValueRef::Integer(n) => Ok(Some(n as f64)),
            v => v.as_f64_or_null().map_err(|e| mismatch(c, v, e)),
        }
    }

    fn blob(&self, c: Col) -> Result<&[u8]> {
        let v = self.get_ref(c as usize)?;
        v.as_blob().map_err(|e| mismatch(c, v, e))
    }
}

fn mismatch(c: Col, v: ValueRef<'_>, e: rusqlite::types::FromSqlError) -> StoreError {
    StoreError::Sqlite(rusqlite::Error::FromSqlConversionFailure(
        c as usize,
        v.data_type(),
        Box::new(e),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_selected_in_the_order_they_are_read() {
        let columns = asset_columns();
        let names: Vec<&str> = columns.split(", ").collect();
        for c in Col::ALL {
            assert_eq!(names[c as usize], c.name());
        }
    }
}
