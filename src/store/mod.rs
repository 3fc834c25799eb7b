//! The durable store: a SQLite file, or PostgreSQL with PostGIS, through sqlx's `Any`
//! driver. Nothing else in the crate speaks SQL.
//!
//! Every write lands here first; the in-memory index is rebuilt from here at start and
//! updated only after a write has committed. The statements are written once for both
//! databases wherever the two dialects allow it (`$N` placeholders, `IS DISTINCT FROM`,
//! `ON CONFLICT`, …: docs/postgres.md); where they do not, [`Backend`] picks the text.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

use crate::model::Layer;

mod applications;
mod assets;
pub mod audit;
mod auth;
mod cases;
mod complaints;
mod documents;
mod export;
mod history;
mod idempotency;
mod limits;
mod locks;
mod migrate;
mod moderation;
mod monitoring;
mod notifications;
mod proposals;
mod sql;
mod versions;
mod watch;
pub use assets::{Edit, RegisterTx, Upserted};
pub use audit::{AuditCheck, AuditEntry, AuditRecord};
pub use auth::{ApiKey, User};
pub use cases::{
    AgendaItem, CaseFile, CaseRow, Closing, CodeCheck, CodeIssue, LockChange, Meeting, Move,
    NewStep, RequestRow, StageRow, StageSpan, StepRow,
};
pub use complaints::{
    ComplaintFilter, ComplaintRecord, Event, NewComplaint, PhotoRef, PublicStep, Update,
};
pub use documents::{
    DocEdit, DocHit, DocMeta, DocQuery, DocState, DocVersion, DocumentRecord, LinkedAsset,
    NewDocument, TextJob, TextState,
};
pub use export::Snapshot;
pub use history::{HistoryBatch, Inspection, Maintenance};
pub use idempotency::{KeptAnswer, KeyState};
pub use limits::ThrottleState;
pub use locks::LockRecord;
pub use migrate::{Batches, Column, ColumnKind, CopyTx, Row, SqliteSource, Table, REGISTER_TABLES};
pub use moderation::{Decision, QueueItem, QueueState};
pub use monitoring::Queue;
pub use notifications::{Claimed, Notification, NOTIFICATION_STATES};
pub use proposals::{NewProposal, Proposal};
pub use sql::Backend;
pub(crate) use sql::{flag, Flag, OptF64, Sql};
pub use versions::{Delisting, EditContext, Version, VersionInfo};
pub use watch::{LinkedComplaint, Watched, WatchedVersion};

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sqlx(#[from] sqlx::Error),
    /// From a connection of its own, outside sqlx ([`Store::snapshot`]).
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored geometry of asset {0} cannot be decoded: {1}")]
    Geometry(i64, String),
    /// A stored value that cannot be read back (an unknown enum text, JSON that does not
    /// parse): an error, never an empty or default value.
    #[error("stored value of {table} {id} is invalid: {what}")]
    Corrupt {
        table: &'static str,
        id: i64,
        what: String,
    },
    #[error("code {code} already belongs to an asset of layer {existing}, not {wanted}")]
    CodeInOtherLayer {
        code: String,
        existing: String,
        wanted: Layer,
    },
    #[error("code {0} is already taken")]
    CodeTaken(String),
    #[error("geometry cannot be encoded: {0}")]
    Encode(String),
    #[error("{0}")]
    Unavailable(String),
    /// A definition loaded at start disagrees with the one on record under its version.
    #[error("{0}")]
    Definition(String),
}

impl StoreError {
    /// Whether the database is out of reach for now — its disk full or read-only, an I/O
    /// error, locked past the busy timeout — rather than the request or our code at
    /// fault: answered with 503, and the next request may succeed without a restart.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Unavailable(_) => true,
            StoreError::Sqlx(sqlx::Error::Database(d)) => {
                if d.try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                    .is_some()
                {
                    d.code().is_some_and(|c| unavailable_sqlstate(&c))
                } else {
                    d.code()
                        .and_then(|c| c.parse::<i32>().ok())
                        .is_some_and(unavailable_code)
                }
            }
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => {
                unavailable_code(e.extended_code)
            }
            StoreError::Sqlx(
                sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed,
            ) => true,
            _ => false,
        }
    }
}

impl StoreError {
    /// Whether the database refused a value the client sent: PostgreSQL keeps no NUL
    /// character in text (SQLSTATE 22021), where SQLite stores it. Answered with 400.
    pub fn is_bad_text(&self) -> bool {
        matches!(self, StoreError::Sqlx(sqlx::Error::Database(d))
            if d.try_downcast_ref::<sqlx::postgres::PgDatabaseError>().is_some()
                && d.code().as_deref() == Some("22021"))
    }
}

/// A ticket's text from its year (`$1`) and its number in the year (`n`), as SQLite's
/// `printf('EH-%d-%06d', …)` wrote it, in SQL both databases run (PostgreSQL has no
/// `printf`; `lpad` would cut a seven-digit number).
const TICKET: &str = "'EH-' || $1 || '-' || CASE WHEN n < 1000000 \
     THEN substr(CAST(1000000 + n AS TEXT), 2) ELSE CAST(n AS TEXT) END";

/// PostgreSQL's SQLSTATEs for a database out of reach for now: connection lost (class
/// 08), out of disk or memory (53), shutting down or starting (57P01–57P03), read-only
/// (25006: a standby), a lock not had in time (55P03), and the retryable conflicts of
/// concurrent transactions (40001 serialization, 40P01 deadlock).
fn unavailable_sqlstate(c: &str) -> bool {
    c.starts_with("08")
        || c.starts_with("53")
        || matches!(
            c,
            "57P01" | "57P02" | "57P03" | "25006" | "55P03" | "40001" | "40P01"
        )
}

/// Keeps `bytes` under their SHA-256 in the `kind` store of `blobs`, on `conn` (in the
/// caller's transaction, if any), if not there already.
pub(super) async fn insert_blob(
    conn: &mut sqlx::AnyConnection,
    kind: &str,
    sha256: &str,
    bytes: &[u8],
    at: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO blobs (store, sha256, bytes, size, created_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (store, sha256) DO NOTHING",
    )
    .bind(kind)
    .bind(sha256)
    .bind(bytes)
    .bind(bytes.len() as i64)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The value of `key` in `meta`, read through `e` (a pool, or a transaction's connection).
pub(super) async fn meta_value<'e, E>(e: E, key: &str) -> Result<Option<String>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    Ok(sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
        .bind(key)
        .fetch_optional(e)
        .await?)
}

/// SQLite primary codes: BUSY 5, LOCKED 6, READONLY 8, IOERR 10, FULL 13, CANTOPEN 14
/// (extended codes keep them in the low byte).
fn unavailable_code(c: i32) -> bool {
    matches!(c & 0xff, 5 | 6 | 8 | 10 | 13 | 14)
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The PostgreSQL channel every writing transaction notifies at its commit.
const FEED_CHANNEL: &str = "heritage_atlas_feed";

/// The PostgreSQL advisory lock every writing transaction holds ([`Store::write_tx`]).
const WRITER_LOCK: i64 = 0x6865_7269_7461_6765; // "heritage"

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
static MIGRATOR_POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("./migrations-postgres");

/// See [`Store::listen_feed`].
pub struct FeedListener(sqlx::postgres::PgListener);

impl FeedListener {
    /// Waits for the next committed write. The listener reconnects by itself after a
    /// lost connection; notifications sent meanwhile are lost, which the poll covers.
    pub async fn changed(&mut self) -> Result<()> {
        self.0.recv().await?;
        Ok(())
    }

    /// Drops the notifications already received: the round about to read the feed reads
    /// what they announce.
    pub fn drain(&mut self) {
        while self.0.next_buffered().is_some() {}
    }
}

/// A handle on the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    /// Connections whose commits are on disk before they are acknowledged, for writes
    /// that must survive a power cut: complaints, their timeline, staff accounts
    /// (SQLite `synchronous=FULL`; PostgreSQL `synchronous_commit=on`, where `pool` has
    /// it off).
    durable: AnyPool,
    /// The database file, for reads on a connection of their own ([`Store::snapshot`]);
    /// `None` in memory, where no other connection would see the same database.
    file: Option<PathBuf>,
    backend: Backend,
    /// Where the per-client limits and the login throttle are kept (`limits.rs`): on
    /// PostgreSQL `pool` (their tables `UNLOGGED`); on SQLite a file of their own beside
    /// the database (`NAME.limits`, `synchronous=OFF`), so that taking from a bucket never
    /// waits for the register's writer or its fsync: in the main file it halved complaint
    /// intake (5,100 to 2,530 a second, one client). Opened at the first take, so that
    /// commands which never take (import, backup …) make no file.
    limits: std::sync::Arc<tokio::sync::OnceCell<AnyPool>>,
    /// The name this server's claims are recorded under (messages being sent, text
    /// jobs being read): see [`Store::named`].
    worker: std::sync::Arc<str>,
}

/// SQLite says only "unable to open database file"; say why when the file system can
/// (a read-only disk, a missing directory, no permission).
fn explain_open_error(path: &Path, e: sqlx::Error) -> StoreError {
    if path.as_os_str().is_empty() {
        return StoreError::Sqlx(e);
    }
    let probe = if path.exists() {
        std::fs::OpenOptions::new().write(true).open(path).err()
    } else {
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
        dir.map_or(Ok(()), |d| std::fs::metadata(d).map(|_| ()))
            .and_then(|()| tempfile_probe(path))
            .err()
    };
    match probe {
        Some(io) => StoreError::Unavailable(format!(
            "cannot open {} for writing: {io} (SQLite: {e})",
            path.display()
        )),
        None => StoreError::Sqlx(e),
    }
}

/// This machine's name, as the kernel has it (`localhost` if it cannot be read).
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// A claim's name for a process that gave none: its host and process id.
fn default_worker() -> String {
    format!("{}:pid{}", host_name(), std::process::id())
}

/// How long a claim may go untouched before any server takes it back: its server is
/// taken to be gone for good. A message is handed over in seconds; a text job touches its
/// claim with every page read.
pub const STALE_CLAIM: time::Duration = time::Duration::minutes(15);

/// Which claimed rows of a claim table (`updated_at`, `claimed_by`) a stop cut short, as a
/// condition on `$2` (the [`stale_before`] instant) and, at start, `$3` (this server's
/// name): at any time those untouched past [`STALE_CLAIM`]; at start also those this
/// server's last run left under its name, or that predate names.
fn cut_short(at_start: bool) -> &'static str {
    if at_start {
        "(updated_at < $2 OR claimed_by IS NULL OR claimed_by = $3)"
    } else {
        "updated_at < $2"
    }
}

/// The instant before which an untouched claim is stale, in the stored form.
fn stale_before() -> String {
    crate::model::rfc3339(time::OffsetDateTime::now_utc() - STALE_CLAIM)
}

/// `options` without sqlx's slow-statement warning, which writes the whole statement into
/// the log: an import's batch of 1,000 rows is 100 KB of placeholders per line.
fn quiet(options: AnyConnectOptions) -> AnyConnectOptions {
    use sqlx::ConnectOptions;
    options.log_slow_statements(log::LevelFilter::Off, Duration::from_secs(1))
}

/// A SQLite pool whose connections are set up as the server needs them (what
/// `SqliteConnectOptions` would set, done by statement since the options reach the
/// driver as a URL).
fn sqlite_pool(max: u32, synchronous: &'static str) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max)
        .after_connect(move |conn, _| {
            Box::pin(async move {
                conn.execute(&*sqlite_setup(synchronous)).await?;
                Ok(())
            })
        })
}

/// The SQLite file of the limits beside the database file `db` (see [`Store`]'s
/// `limits`), made with its tables if missing. Its contents are the state of the moment:
/// a lost file forgives the clients of the last minute, nothing more.
async fn limits_pool(db: &Path) -> Result<AnyPool> {
    let (url, _) = sql::sqlite_url(&db.with_extension("limits").to_string_lossy());
    let pool = sqlite_pool(2, "OFF")
        .connect_with(quiet(url.parse()?))
        .await?;
    // The same tables as in the database itself (made there for a database in memory).
    sqlx::raw_sql(include_str!("../../migrations/0013_limits.sql"))
        .execute(&pool)
        .await?;
    Ok(pool)
}

/// The statements that set up a SQLite connection (see [`sqlite_pool`]).
fn sqlite_setup(synchronous: &str) -> String {
    format!(
        "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
         PRAGMA synchronous = {synchronous}; PRAGMA foreign_keys = ON"
    )
}

/// Whether a file can be created beside `path` (removed at once).
fn tempfile_probe(path: &Path) -> std::io::Result<()> {
    let probe = path.with_extension("probe");
    std::fs::File::create(&probe)?;
    std::fs::remove_file(&probe)
}

impl Store {
    /// Opens the database at `url_or_path` and applies pending migrations: a
    /// `postgres://` (or `postgresql://`) URL is PostgreSQL (with PostGIS in the
    /// database); a file path or a `sqlite:` URL is SQLite, created if missing, with WAL
    /// and foreign keys on.
    pub async fn open(url_or_path: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        if Backend::of(url_or_path) == Backend::Postgres {
            return Store::open_postgres(url_or_path).await;
        }
        let (url, path) = sql::sqlite_url(url_or_path);
        let options = quiet(url.parse()?);
        // One connection set up first, so that a file that cannot be opened or written
        // (a read-only disk) is said at once: the pool would retry its set-up until its
        // acquire timeout.
        let probe = async {
            use sqlx::Connection;
            let mut c = sqlx::AnyConnection::connect_with(&options).await?;
            c.execute(&*sqlite_setup("NORMAL")).await?;
            c.close().await
        };
        if let Err(e) = probe.await {
            return Err(explain_open_error(&path, e));
        }
        // NORMAL in WAL mode never corrupts the file; a power cut may lose the last
        // transactions. Writes that must survive that (complaints) ask for FULL.
        let pool = match sqlite_pool(8, "NORMAL").connect_with(options.clone()).await {
            Ok(p) => p,
            Err(e) => return Err(explain_open_error(&path, e)),
        };
        MIGRATOR.run(&pool).await?;
        let in_memory = url_or_path.contains(":memory:") || url_or_path.contains("mode=memory");
        let file = (!in_memory).then_some(path);
        let durable = sqlite_pool(2, "FULL").connect_with(options).await?;
        Ok(Store {
            pool,
            durable,
            file,
            backend: Backend::Sqlite,
            limits: Default::default(),
            worker: default_worker().into(),
        })
    }

    async fn open_postgres(url: &str) -> Result<Store> {
        let options = quiet(url.parse()?);
        let pool_of = |max: u32, synchronous_commit: &'static str| {
            AnyPoolOptions::new()
                .max_connections(max)
                .acquire_timeout(Duration::from_secs(10))
                .after_connect(move |conn, _| {
                    Box::pin(async move {
                        conn.execute(&*format!(
                            "SET synchronous_commit = {synchronous_commit}; \
                             SET lock_timeout = '10s'; SET TIME ZONE 'UTC'"
                        ))
                        .await?;
                        Ok(())
                    })
                })
        };
        let pool = pool_of(8, "off").connect_with(options.clone()).await?;
        // sqlx holds an advisory lock while it migrates: replicas starting together
        // migrate once.
        MIGRATOR_POSTGRES.run(&pool).await?;
        let durable = pool_of(4, "on").connect_with(options).await?;
        Ok(Store {
            limits: std::sync::Arc::new(tokio::sync::OnceCell::new_with(Some(pool.clone()))),
            pool,
            durable,
            file: None,
            backend: Backend::Postgres,
            worker: default_worker().into(),
        })
    }

    /// Records this server's claims under `name`, which must stay the same from one run
    /// of this server to the next and differ from every other server's on the database
    /// (`serve` takes `HOST:PORT`, or `--instance`): at start a server takes back the
    /// claims its last run left under its name, and only those (`requeue_*`). Without a
    /// name, claims are recorded under `HOST:PID`, which no later run takes back before
    /// they are stale ([`STALE_CLAIM`]).
    pub fn named(mut self, name: &str) -> Store {
        self.worker = name.into();
        self
    }

    /// The name this server's claims are recorded under ([`Store::named`]).
    pub fn worker(&self) -> &str {
        &self.worker
    }

    /// The pool of the limits (see the field), opened the first time it is asked for.
    pub(super) async fn limits(&self) -> Result<&AnyPool> {
        self.limits
            .get_or_try_init(|| async {
                match &self.file {
                    Some(f) if self.backend == Backend::Sqlite => limits_pool(f).await,
                    _ => Ok(self.pool.clone()),
                }
            })
            .await
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Starts a transaction that will write. SQLite has one writer at a time, and the
    /// store relies on it: audit entries chained in order, the change feeds' ids handed
    /// out in commit order, checks read and acted on in one step. PostgreSQL gets the
    /// same from one transaction-scoped advisory lock, taken first (readers never wait
    /// for it). On SQLite the write lock is taken at the start (`BEGIN IMMEDIATE`): a
    /// transaction that read first and then finds another writer committed since fails
    /// at once with "database is locked" rather than waiting its busy timeout — which
    /// servers sharing one file, or two connections of one pool, meet.
    pub(super) async fn write_tx(
        &self,
        pool: &AnyPool,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        match self.backend {
            Backend::Sqlite => Ok(pool.begin_with("BEGIN IMMEDIATE").await?),
            Backend::Postgres => {
                let mut tx = pool.begin().await?;
                // The notification reaches the listening replicas when (and only if) the
                // transaction commits ([`Store::listen_feed`]).
                sqlx::query("SELECT pg_advisory_xact_lock($1), pg_notify($2, '')")
                    .bind(WRITER_LOCK)
                    .bind(FEED_CHANNEL)
                    .execute(&mut *tx)
                    .await?;
                Ok(tx)
            }
        }
    }

    pub async fn close(&self) {
        self.pool.close().await;
        self.durable.close().await;
    }

    pub async fn meta_get(&self, key: &str) -> Result<Option<String>> {
        meta_value(&self.pool, key).await
    }

    pub async fn meta_set(&self, key: &str, value: &str) -> Result<()> {
        sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// This database's own id: made at first use and kept in it (copies made by
    /// `backup` keep it), so that what is cached from one database (the index snapshot)
    /// is never taken for another's.
    pub async fn database_id(&self) -> Result<String> {
        if let Some(id) = self.meta_get("database_id").await? {
            return Ok(id);
        }
        let fresh = hex::encode(rand::random::<[u8; 16]>());
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES ('database_id', $1) ON CONFLICT(key) DO NOTHING",
        )
        .bind(&fresh)
        .execute(&self.pool)
        .await?;
        Ok(self.meta_get("database_id").await?.unwrap_or(fresh))
    }

    /// The database file, when there is one (not in memory).
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// Writes a consistent copy of the whole database to `path` (SQLite's `VACUUM INTO`:
    /// one read transaction's view, compacted; writers carry on meanwhile).
    pub async fn snapshot_into(&self, path: &Path) -> Result<()> {
        let target = path
            .to_str()
            .ok_or_else(|| StoreError::Unavailable(format!("{} is not UTF-8", path.display())))?;
        sqlx::query("VACUUM INTO $1")
            .bind(target)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// SQLite's own check of the file: "ok", or what is wrong.
    pub async fn integrity_check(&self) -> Result<String> {
        let rows: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.join("; "))
    }

    /// On PostgreSQL, a listener woken by every committed write, from whichever server
    /// ([`Store::write_tx`] notifies): replicas follow the feed at once instead of at
    /// their next poll. SQLite has none (`None`).
    pub async fn listen_feed(&self) -> Result<Option<FeedListener>> {
        if self.backend != Backend::Postgres {
            return Ok(None);
        }
        let url = self.pool.connect_options().database_url.to_string();
        let mut l = sqlx::postgres::PgListener::connect(&url).await?;
        l.listen(FEED_CHANNEL).await?;
        Ok(Some(FeedListener(l)))
    }

    /// Keeps `bytes` under their SHA-256 in the `kind` store of the `blobs` table
    /// (PostgreSQL's home for photos and documents), durably, if not there already.
    pub async fn blob_put(&self, kind: &str, sha256: &str, bytes: &[u8]) -> Result<()> {
        let mut conn = self.durable.acquire().await?;
        insert_blob(&mut conn, kind, sha256, bytes, &crate::model::now_rfc3339()).await
    }

    /// The bytes kept under a SHA-256 in the `kind` store, if any.
    pub async fn blob_get(&self, kind: &str, sha256: &str) -> Result<Option<Vec<u8>>> {
        Ok(
            sqlx::query_scalar("SELECT bytes FROM blobs WHERE store = $1 AND sha256 = $2")
                .bind(kind)
                .bind(sha256)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Number of complaints on record.
    pub async fn complaint_count(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT count(*) FROM complaints")
            .fetch_one(&self.pool)
            .await?)
    }
}
