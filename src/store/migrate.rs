//! What `heritage-atlas migrate` (src/migrate.rs) needs of the two databases: the target
//! PostgreSQL database's tables as its own catalog describes them, the SQLite source read
//! in one read transaction, the rows written into PostgreSQL in one transaction, and both
//! read back in the same order to be compared.
//!
//! The target's catalog, not a list kept here, says what is copied: a table or column a
//! later migration adds is copied without this file changing. Values travel as SQLite
//! gives them ([`Value`]: dynamically typed) and are bound by the target column's type.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex};

use futures_util::TryStreamExt;
use rusqlite::types::Value;
use sqlx::any::AnyRow;
use sqlx::Row as _;

use super::{Result, Sql, Store, StoreError};

/// A row as both databases give it back, in its table's column order.
pub type Row = Vec<Value>;

/// Rows in batches, read on a thread or task of their own; an error ends the stream.
pub type Batches = tokio::sync::mpsc::Receiver<Result<Vec<Row>>>;

/// The register's own tables: a target holding rows in any of them already holds a
/// register, and a copy would mix two.
pub const REGISTER_TABLES: [&str; 4] = ["assets", "complaints", "audit_log", "users"];

/// A batch read is cut here whatever its row count (document text runs to megabytes).
const BATCH_BYTES: usize = 16 << 20;

/// How a column's values are bound and read: PostgreSQL's types of the store
/// (migrations-postgres/0001 maps SQLite's INTEGER, REAL, TEXT and BLOB to these).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnKind {
    Integer,
    Real,
    Text,
    Bytes,
    /// PostGIS geometry in EPSG:4326, carried as WKB (SQLite keeps the WKB itself).
    Geometry,
}

impl ColumnKind {
    /// Of `information_schema.columns`' `data_type` and `udt_name`.
    fn of(data_type: &str, udt_name: &str) -> Option<ColumnKind> {
        match (data_type, udt_name) {
            ("bigint", _) => Some(ColumnKind::Integer),
            ("double precision", _) => Some(ColumnKind::Real),
            ("text", _) => Some(ColumnKind::Text),
            ("bytea", _) => Some(ColumnKind::Bytes),
            ("USER-DEFINED", "geometry") => Some(ColumnKind::Geometry),
            _ => None,
        }
    }

    /// A SQLite value as this column holds it. SQLite keeps what it was given where a
    /// column's affinity cannot convert it: the conversions here are the lossless ones
    /// (an integer into a real or a text column, a whole real into an integer one,
    /// UTF-8 bytes as text, text as bytes); anything else is refused, never guessed at.
    pub fn coerce(self, v: Value) -> std::result::Result<Value, String> {
        use ColumnKind as K;
        match (self, v) {
            (_, Value::Null) => Ok(Value::Null),
            (K::Integer, Value::Integer(i)) => Ok(Value::Integer(i)),
            (K::Integer, Value::Real(f))
                if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 =>
            {
                Ok(Value::Integer(f as i64))
            }
            (K::Real, Value::Real(f)) => Ok(Value::Real(f)),
            (K::Real, Value::Integer(i)) => Ok(Value::Real(i as f64)),
            (K::Text, Value::Text(s)) => Ok(Value::Text(s)),
            (K::Text, Value::Integer(i)) => Ok(Value::Text(i.to_string())),
            (K::Text, Value::Blob(b)) => String::from_utf8(b)
                .map(Value::Text)
                .map_err(|_| "bytes that are not UTF-8 text".to_owned()),
            (K::Bytes | K::Geometry, Value::Blob(b)) => Ok(Value::Blob(b)),
            (K::Bytes, Value::Text(s)) => Ok(Value::Blob(s.into_bytes())),
            (kind, v) => Err(format!("{v:?} where PostgreSQL keeps {kind:?}")),
        }
    }
}

/// A column of a target table that is written (generated columns are left to the
/// target to compute).
#[derive(Clone, Debug)]
pub struct Column {
    pub name: String,
    pub kind: ColumnKind,
    /// An identity column, whose sequence must move past the copied ids.
    pub identity: bool,
    /// `GENERATED ALWAYS AS IDENTITY`: a value is given only with `OVERRIDING SYSTEM VALUE`.
    pub always: bool,
}

/// A target table and the order its rows are compared in.
#[derive(Clone, Debug)]
pub struct Table {
    pub name: String,
    pub columns: Vec<Column>,
    /// The primary key's columns (all the columns but geometry where there is none).
    pub key: Vec<String>,
}

impl Table {
    /// The rows a copy leaves out, on both sides: the database's own id (`meta`'s
    /// `database_id`), which the target makes for itself so that nothing cached from
    /// the source is taken for the target's (src/store/mod.rs, `database_id`).
    fn filter(&self) -> &'static str {
        if self.name == "meta" {
            " WHERE key <> 'database_id'"
        } else {
            ""
        }
    }

    fn column_list(&self, out: impl Fn(&Column) -> String) -> String {
        self.columns.iter().map(out).collect::<Vec<_>>().join(", ")
    }
}

fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl Store {
    /// The tables a copy into this (PostgreSQL) database writes, parents before the
    /// tables whose foreign keys name them: every base table of schema `public` but
    /// sqlx's and PostGIS's own and the limits of the moment (`limits.rs`), with its columns that are not generated.
    pub async fn copy_plan(&self) -> Result<Vec<Table>> {
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = 'public' AND table_type = 'BASE TABLE' \
               AND table_name NOT IN ('_sqlx_migrations', 'spatial_ref_sys', \
                                      'rate_limits', 'login_throttle', 'idempotency_keys') \
             ORDER BY table_name",
        )
        .fetch_all(&self.pool)
        .await?;
        let columns: Vec<(String, String, String, String, String, String)> = sqlx::query_as(
            "SELECT table_name::text, column_name::text, data_type::text, udt_name::text, \
                    is_identity::text, coalesce(identity_generation::text, '') \
             FROM information_schema.columns \
             WHERE table_schema = 'public' AND is_generated = 'NEVER' \
             ORDER BY table_name, ordinal_position",
        )
        .fetch_all(&self.pool)
        .await?;
        let keys: Vec<(String, String)> = sqlx::query_as(
            "SELECT c.relname::text, a.attname::text \
             FROM pg_index i \
             JOIN pg_class c ON c.oid = i.indrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) \
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum \
             WHERE i.indisprimary AND n.nspname = 'public' \
             ORDER BY c.relname, k.ord",
        )
        .fetch_all(&self.pool)
        .await?;
        let links: Vec<(String, String)> = sqlx::query_as(
            "SELECT child.relname::text, parent.relname::text \
             FROM pg_constraint f \
             JOIN pg_class child ON child.oid = f.conrelid \
             JOIN pg_class parent ON parent.oid = f.confrelid \
             WHERE f.contype = 'f' AND f.connamespace = 'public'::regnamespace",
        )
        .fetch_all(&self.pool)
        .await?;

        let mut tables: BTreeMap<String, Table> = names
            .into_iter()
            .map(|name| {
                let t = Table {
                    name: name.clone(),
                    columns: Vec::new(),
                    key: Vec::new(),
                };
                (name, t)
            })
            .collect();
        for (table, name, data_type, udt, identity, generation) in columns {
            let Some(t) = tables.get_mut(&table) else {
                continue; // a view's column
            };
            let kind = ColumnKind::of(&data_type, &udt).ok_or_else(|| {
                StoreError::Definition(format!(
                    "{table}.{name} is of type {data_type} ({udt}), which a copy does not know"
                ))
            })?;
            t.columns.push(Column {
                name,
                kind,
                identity: identity == "YES",
                always: generation == "ALWAYS",
            });
        }
        for (table, column) in keys {
            if let Some(t) = tables.get_mut(&table) {
                t.key.push(column);
            }
        }
        for t in tables.values_mut() {
            if t.key.is_empty() {
                t.key = t
                    .columns
                    .iter()
                    .filter(|c| c.kind != ColumnKind::Geometry)
                    .map(|c| c.name.clone())
                    .collect();
            }
        }
        parents_first(tables, &links)
    }

    /// A copy into this (PostgreSQL) database, in one transaction that holds the
    /// writers' lock: nothing of it is seen until [`CopyTx::finish`] commits, and nothing
    /// is left of it if it is dropped before.
    pub async fn begin_copy(&self) -> Result<CopyTx> {
        Ok(CopyTx {
            tx: self.write_tx(&self.durable).await?,
            held: Vec::new(),
        })
    }

    /// This (PostgreSQL) database's rows of `table`, in key order, in batches of at most
    /// `batch` rows: what [`SqliteSource::rows`] gives for the same table, to compare.
    pub fn rows(&self, table: &Table, batch: usize) -> Batches {
        let (tx, rx) = tokio::sync::mpsc::channel(2);
        let order = table
            .key
            .iter()
            .map(|k| {
                let text = table
                    .columns
                    .iter()
                    .any(|c| &c.name == k && c.kind == ColumnKind::Text);
                // Byte order, as SQLite's BINARY collation sorts.
                if text {
                    format!("{} COLLATE \"C\"", quoted(k))
                } else {
                    quoted(k)
                }
            })
            .collect::<Vec<_>>()
            .join(", ");
        let text = format!(
            "SELECT {} FROM {}{} ORDER BY {order}",
            table.column_list(|c| match c.kind {
                ColumnKind::Geometry => format!("ST_AsBinary({})", quoted(&c.name)),
                _ => quoted(&c.name),
            }),
            quoted(&table.name),
            table.filter(),
        );
        let kinds: Vec<ColumnKind> = table.columns.iter().map(|c| c.kind).collect();
        let pool = self.pool.clone();
        tokio::spawn(async move {
            let read = async {
                let mut rows = sqlx::query(&text).fetch(&pool);
                let mut out = Vec::with_capacity(batch);
                while let Some(r) = rows.try_next().await? {
                    out.push(decode_row(&r, &kinds)?);
                    if out.len() == batch {
                        let full = std::mem::replace(&mut out, Vec::with_capacity(batch));
                        if tx.send(Ok(full)).await.is_err() {
                            return Ok(());
                        }
                    }
                }
                if !out.is_empty() {
                    let _ = tx.send(Ok(out)).await;
                }
                Ok::<_, StoreError>(())
            };
            if let Err(e) = read.await {
                let _ = tx.send(Err(e)).await;
            }
        });
        rx
    }

    /// Every blob kept: its store, its name, its size, and whether the SHA-256 of its
    /// bytes (computed by the database, so the bytes stay there) is its name.
    pub async fn blob_check(&self) -> Result<Vec<(String, String, i64, bool)>> {
        let rows = sqlx::query(
            "SELECT store, sha256, length(bytes)::bigint AS size, \
                    encode(sha256(bytes), 'hex') = sha256 AS sound \
             FROM blobs ORDER BY store, sha256 COLLATE \"C\"",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("store")?,
                    r.try_get("sha256")?,
                    r.try_get("size")?,
                    super::flag(r, "sound")?,
                ))
            })
            .collect()
    }
}

/// A PostgreSQL row read by its columns' kinds.
fn decode_row(r: &AnyRow, kinds: &[ColumnKind]) -> Result<Row> {
    kinds
        .iter()
        .enumerate()
        .map(|(i, kind)| {
            Ok(match kind {
                ColumnKind::Integer => r.try_get::<Option<i64>, _>(i)?.map(Value::Integer),
                ColumnKind::Real => r.try_get::<Option<f64>, _>(i)?.map(Value::Real),
                ColumnKind::Text => r.try_get::<Option<String>, _>(i)?.map(Value::Text),
                ColumnKind::Bytes | ColumnKind::Geometry => {
                    r.try_get::<Option<Vec<u8>>, _>(i)?.map(Value::Blob)
                }
            }
            .unwrap_or(Value::Null))
        })
        .collect()
}

/// The tables ordered so that every table comes after those its foreign keys name
/// (alphabetically among equals, so that the order is the same on every run).
fn parents_first(
    mut tables: BTreeMap<String, Table>,
    links: &[(String, String)],
) -> Result<Vec<Table>> {
    let mut waiting_on: BTreeMap<&str, BTreeSet<&str>> = tables
        .keys()
        .map(|t| (t.as_str(), BTreeSet::new()))
        .collect();
    for (child, parent) in links {
        if child != parent && tables.contains_key(parent) {
            if let Some(w) = waiting_on.get_mut(child.as_str()) {
                w.insert(parent.as_str());
            }
        }
    }
    let mut order: Vec<String> = Vec::with_capacity(tables.len());
    while !waiting_on.is_empty() {
        let Some(next) = waiting_on
            .iter()
            .find(|(_, w)| w.is_empty())
            .map(|(t, _)| *t)
        else {
            return Err(StoreError::Definition(format!(
                "the foreign keys among {} form a cycle; no order copies them",
                waiting_on.keys().copied().collect::<Vec<_>>().join(", ")
            )));
        };
        waiting_on.remove(next);
        for w in waiting_on.values_mut() {
            w.remove(next);
        }
        order.push(next.to_owned());
    }
    Ok(order
        .into_iter()
        .filter_map(|name| tables.remove(&name))
        .collect())
}

/// A copy into PostgreSQL under way: one transaction (see [`Store::begin_copy`]).
pub struct CopyTx {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    /// The tables whose triggers are held off, to turn back on before the commit.
    held: Vec<String>,
}

impl CopyTx {
    /// The register tables that hold rows already, with their counts (none: the target
    /// is empty).
    pub async fn occupied(&mut self) -> Result<Vec<(&'static str, i64)>> {
        let mut out = Vec::new();
        for t in REGISTER_TABLES {
            let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {}", quoted(t)))
                .fetch_one(&mut *self.tx)
                .await?;
            if n > 0 {
                out.push((t, n));
            }
        }
        Ok(out)
    }

    /// Holds off the tables' own triggers (versions written on every change to an asset,
    /// the refusals of append-only tables, water changes recorded from versions) until
    /// [`CopyTx::finish`]: rows are copied as they are, history included, and none made
    /// twice. Foreign keys (the system's triggers) stay checked.
    pub async fn hold_triggers(&mut self, tables: &[Table]) -> Result<()> {
        for t in tables {
            sqlx::query(&format!(
                "ALTER TABLE {} DISABLE TRIGGER USER",
                quoted(&t.name)
            ))
            .execute(&mut *self.tx)
            .await?;
            self.held.push(t.name.clone());
        }
        Ok(())
    }

    /// Writes rows (coerced to their columns' kinds: [`ColumnKind::coerce`]) in one
    /// statement; a row whose key the target holds already is left as the target has it
    /// (the comparison afterwards reports it). Returns the rows written.
    pub async fn insert(&mut self, table: &Table, rows: Vec<Row>) -> Result<u64> {
        if rows.is_empty() {
            return Ok(0);
        }
        let overriding = if table.columns.iter().any(|c| c.always) {
            " OVERRIDING SYSTEM VALUE"
        } else {
            ""
        };
        let mut q = Sql::new(format!(
            "INSERT INTO {} ({}){overriding} VALUES ",
            quoted(&table.name),
            table.column_list(|c| quoted(&c.name)),
        ));
        for (i, row) in rows.into_iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.push("(");
            for (j, (column, value)) in table.columns.iter().zip(row).enumerate() {
                if j > 0 {
                    q.push(", ");
                }
                bind(&mut q, &table.name, column, value)?;
            }
            q.push(")");
        }
        q.push(" ON CONFLICT DO NOTHING");
        Ok(q.build().execute(&mut *self.tx).await?.rows_affected())
    }

    /// Keeps bytes under their SHA-256 in the `kind` store of `blobs`.
    pub async fn put_blob(
        &mut self,
        kind: &str,
        sha256: &str,
        bytes: &[u8],
        created_at: &str,
    ) -> Result<()> {
        super::insert_blob(&mut self.tx, kind, sha256, bytes, created_at).await
    }

    /// Moves every identity column's sequence past the ids copied (the next row made
    /// gets the next id, as it would have in the source), turns the triggers back on,
    /// and commits.
    pub async fn finish(mut self, tables: &[Table]) -> Result<()> {
        for t in tables {
            for c in t.columns.iter().filter(|c| c.identity) {
                sqlx::query(&format!(
                    "SELECT setval(pg_get_serial_sequence($1, $2), coalesce(max({col}), 0) + 1, false) \
                     FROM {table}",
                    col = quoted(&c.name),
                    table = quoted(&t.name),
                ))
                .bind(quoted(&t.name))
                .bind(&c.name)
                .execute(&mut *self.tx)
                .await?;
            }
        }
        for t in std::mem::take(&mut self.held) {
            sqlx::query(&format!("ALTER TABLE {} ENABLE TRIGGER USER", quoted(&t)))
                .execute(&mut *self.tx)
                .await?;
        }
        self.tx.commit().await?;
        Ok(())
    }
}

/// Binds a value as its column's type; a NULL is bound typed as the column is (see
/// [`super::OptF64`] for doubles).
fn bind(q: &mut Sql<'_>, table: &str, column: &Column, value: Value) -> Result<()> {
    use ColumnKind as K;
    match (column.kind, value) {
        (K::Integer, Value::Integer(i)) => q.push_bind(i),
        (K::Integer, Value::Null) => q.push_bind(None::<i64>),
        (K::Real, Value::Real(f)) => q.push_bind(f),
        (K::Real, Value::Null) => q.push_bind(super::OptF64(None)),
        (K::Text, Value::Text(s)) => q.push_bind(s),
        (K::Text, Value::Null) => q.push_bind(None::<String>),
        (K::Bytes, Value::Blob(b)) => q.push_bind(b),
        (K::Bytes, Value::Null) => q.push_bind(None::<Vec<u8>>),
        (K::Geometry, v @ (Value::Blob(_) | Value::Null)) => {
            q.push("ST_GeomFromWKB(");
            match v {
                Value::Blob(b) => q.push_bind(b),
                _ => q.push_bind(None::<Vec<u8>>),
            };
            q.push(", 4326)")
        }
        (kind, v) => {
            return Err(StoreError::Definition(format!(
                "{table}.{}: {v:?} cannot be written as {kind:?}",
                column.name
            )))
        }
    };
    Ok(())
}

/// A SQLite database read as one read transaction saw it: every read, however late,
/// sees the database as the first one did.
#[derive(Clone)]
pub struct SqliteSource {
    conn: Arc<Mutex<rusqlite::Connection>>,
}

impl SqliteSource {
    /// Opens the file read-only and starts the read transaction.
    pub fn open(path: &Path) -> Result<SqliteSource> {
        let conn = rusqlite::Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.execute_batch("BEGIN")?;
        // The transaction's view is fixed at its first read.
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        })?;
        Ok(SqliteSource {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    fn conn(&self) -> Result<std::sync::MutexGuard<'_, rusqlite::Connection>> {
        self.conn
            .lock()
            .map_err(|_| StoreError::Unavailable("the source's reader failed".into()))
    }

    /// Whether the source has the table (an FTS5 table counts).
    pub fn has_table(&self, name: &str) -> Result<bool> {
        Ok(self.conn()?.query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
            [name],
            |r| r.get(0),
        )?)
    }

    /// Every SHA-256 a row names as a photo's or document's bytes (the columns listed in
    /// docs/postgres.md, "Photos and documents"), of the tables the source has.
    pub fn named_blobs(&self) -> Result<std::collections::BTreeSet<String>> {
        const NAMING: [(&str, &str); 7] = [
            ("complaint_photos", "sha256"),
            ("complaint_events", "photo_sha256"),
            ("documents", "sha256"),
            ("application_files", "sha256"),
            ("applications", "letter_sha256"),
            ("hcc_meetings", "minutes"),
            ("application_steps", "document"),
        ];
        let mut out = std::collections::BTreeSet::new();
        for (table, column) in NAMING {
            if !self.has_table(table)? {
                continue;
            }
            let conn = self.conn()?;
            let mut stmt = conn.prepare(&format!(
                "SELECT DISTINCT {} FROM {} WHERE {} IS NOT NULL",
                quoted(column),
                quoted(table),
                quoted(column)
            ))?;
            let names = stmt.query_map([], |r| r.get::<_, String>(0))?;
            for name in names {
                let name = name?;
                if name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit()) {
                    out.insert(name.to_ascii_lowercase());
                }
            }
        }
        Ok(out)
    }

    /// The rows a table holds.
    pub fn count(&self, name: &str) -> Result<i64> {
        Ok(self
            .conn()?
            .query_row(&format!("SELECT count(*) FROM {}", quoted(name)), [], |r| {
                r.get(0)
            })?)
    }

    /// The source's rows of a target table, its columns in the target's order (SQLite's
    /// implicit `rowid` is one where PostgreSQL made it a column), in batches of at most
    /// `batch` rows, read on a blocking thread; `ordered` in the key order
    /// [`Store::rows`] reads.
    pub fn rows(&self, table: &Table, batch: usize, ordered: bool) -> Batches {
        let (tx, rx) = tokio::sync::mpsc::channel(2);
        let order = if ordered {
            let keys = table
                .key
                .iter()
                .map(|k| format!("{} COLLATE BINARY", quoted(k)))
                .collect::<Vec<_>>();
            format!(" ORDER BY {}", keys.join(", "))
        } else {
            String::new()
        };
        let text = format!(
            "SELECT {} FROM {}{}{order}",
            table.column_list(|c| quoted(&c.name)),
            quoted(&table.name),
            table.filter(),
        );
        let width = table.columns.len();
        let source = self.clone();
        tokio::task::spawn_blocking(move || {
            let read = || -> Result<()> {
                let conn = source.conn()?;
                let mut stmt = conn.prepare(&text)?;
                let mut rows = stmt.query([])?;
                let mut out = Vec::with_capacity(batch);
                let mut bytes = 0;
                while let Some(r) = rows.next()? {
                    let row = (0..width)
                        .map(|i| r.get::<_, Value>(i))
                        .collect::<rusqlite::Result<Row>>()?;
                    bytes += row.iter().map(value_size).sum::<usize>();
                    out.push(row);
                    if out.len() == batch || bytes >= BATCH_BYTES {
                        bytes = 0;
                        let full = std::mem::replace(&mut out, Vec::with_capacity(batch));
                        if tx.blocking_send(Ok(full)).is_err() {
                            return Ok(());
                        }
                    }
                }
                if !out.is_empty() {
                    let _ = tx.blocking_send(Ok(out));
                }
                Ok(())
            };
            if let Err(e) = read() {
                let _ = tx.blocking_send(Err(e));
            }
        });
        rx
    }
}

fn value_size(v: &Value) -> usize {
    match v {
        Value::Text(s) => s.len(),
        Value::Blob(b) => b.len(),
        _ => 8,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(name: &str) -> (String, Table) {
        let t = Table {
            name: name.into(),
            columns: Vec::new(),
            key: Vec::new(),
        };
        (name.into(), t)
    }

    #[test]
    fn parents_come_first_and_cycles_are_refused() {
        let tables: BTreeMap<_, _> = ["a", "b", "c", "d"].into_iter().map(table).collect();
        let links = [("a", "c"), ("c", "d"), ("b", "d"), ("a", "a")]
            .map(|(x, y)| (x.to_owned(), y.to_owned()));
        let order: Vec<String> = parents_first(tables, &links)
            .unwrap()
            .into_iter()
            .map(|t| t.name)
            .collect();
        assert_eq!(order, ["d", "b", "c", "a"]);
        let tables: BTreeMap<_, _> = ["a", "b"].into_iter().map(table).collect();
        let links = [("a", "b"), ("b", "a")].map(|(x, y)| (x.to_owned(), y.to_owned()));
        assert!(parents_first(tables, &links).is_err());
    }

    #[test]
    fn only_lossless_conversions() {
        use ColumnKind as K;
        assert_eq!(K::Real.coerce(Value::Integer(3)), Ok(Value::Real(3.0)));
        assert_eq!(K::Integer.coerce(Value::Real(3.0)), Ok(Value::Integer(3)));
        assert!(K::Integer.coerce(Value::Real(3.5)).is_err());
        assert!(K::Integer.coerce(Value::Text("3".into())).is_err());
        assert_eq!(
            K::Text.coerce(Value::Integer(7)),
            Ok(Value::Text("7".into()))
        );
        assert!(K::Text.coerce(Value::Real(0.1)).is_err());
        assert!(K::Geometry
            .coerce(Value::Text("POINT(1 2)".into()))
            .is_err());
        assert_eq!(K::Bytes.coerce(Value::Null), Ok(Value::Null));
    }
}
