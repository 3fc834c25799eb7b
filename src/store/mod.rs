//! The durable store: a SQLite file through sqlx. Nothing else in the crate speaks SQL.
//!
//! Every write lands here first; the in-memory index is rebuilt from here at start and
//! updated only after a write has committed.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

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
mod locks;
mod moderation;
mod monitoring;
mod notifications;
mod proposals;
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
pub use locks::LockRecord;
pub use moderation::{Decision, QueueItem, QueueState};
pub use monitoring::Queue;
pub use notifications::{Claimed, Notification, NOTIFICATION_STATES};
pub use proposals::{NewProposal, Proposal};
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
            StoreError::Sqlx(sqlx::Error::Database(d)) => d
                .code()
                .and_then(|c| c.parse::<i32>().ok())
                .is_some_and(unavailable_code),
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

/// SQLite primary codes: BUSY 5, LOCKED 6, READONLY 8, IOERR 10, FULL 13, CANTOPEN 14
/// (extended codes keep them in the low byte).
fn unavailable_code(c: i32) -> bool {
    matches!(c & 0xff, 5 | 6 | 8 | 10 | 13 | 14)
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A handle on the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
    /// Connections with `synchronous=FULL`, for writes that must survive a power cut the
    /// moment they are acknowledged: complaints, their timeline, staff accounts.
    durable: SqlitePool,
    /// The database file, for reads on a connection of their own ([`Store::snapshot`]);
    /// `None` in memory, where no other connection would see the same database.
    file: Option<PathBuf>,
}

/// SQLite says only "unable to open database file"; say why when the file system can
/// (a read-only disk, a missing directory, no permission).
fn explain_open_error(path: &Path, e: sqlx::Error) -> StoreError {
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

/// Whether a file can be created beside `path` (removed at once).
fn tempfile_probe(path: &Path) -> std::io::Result<()> {
    let probe = path.with_extension("probe");
    std::fs::File::create(&probe)?;
    std::fs::remove_file(&probe)
}

impl Store {
    /// Opens (creating if missing) the database at `url_or_path` — a file path or a
    /// `sqlite:` URL — with WAL and foreign keys on, and applies pending migrations.
    pub async fn open(url_or_path: &str) -> Result<Store> {
        let options = if url_or_path.starts_with("sqlite:") {
            SqliteConnectOptions::from_str(url_or_path)?
        } else {
            SqliteConnectOptions::new().filename(Path::new(url_or_path))
        };
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // NORMAL in WAL mode never corrupts the file; a power cut may lose the last
            // transactions. Writes that must survive that (complaints) ask for FULL.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = match SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options.clone())
            .await
        {
            Ok(p) => p,
            Err(e) => return Err(explain_open_error(options.get_filename(), e)),
        };
        MIGRATOR.run(&pool).await?;
        let in_memory = url_or_path.contains(":memory:") || url_or_path.contains("mode=memory");
        let file = (!in_memory).then(|| options.get_filename().to_owned());
        let durable = SqlitePoolOptions::new()
            .max_connections(2)
            .connect_with(options.synchronous(SqliteSynchronous::Full))
            .await?;
        Ok(Store {
            pool,
            durable,
            file,
        })
    }

    pub async fn close(&self) {
        self.pool.close().await;
        self.durable.close().await;
    }

    pub async fn meta_get(&self, key: &str) -> Result<Option<String>> {
        let v = sqlx::query_scalar("SELECT value FROM meta WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(v)
    }

    pub async fn meta_set(&self, key: &str, value: &str) -> Result<()> {
        sqlx::query("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
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
            "INSERT INTO meta (key, value) VALUES ('database_id', ?) ON CONFLICT(key) DO NOTHING",
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
        sqlx::query("VACUUM INTO ?")
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

    /// Number of complaints on record.
    pub async fn complaint_count(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT count(*) FROM complaints")
            .fetch_one(&self.pool)
            .await?)
    }
}
