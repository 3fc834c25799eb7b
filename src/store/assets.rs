//! The register's assets: reading them back, and the import transaction that writes them.

use std::str::FromStr;

use futures_util::{Stream, StreamExt, TryStreamExt};
use geozero::wkb::Wkb;
use geozero::{CoordDimensions, ToGeo, ToWkb};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::audit::AuditEntry;
use super::versions::{self, EditContext};
use super::{Backend, Result, Store, StoreError};
use crate::geom;
use crate::model::{Asset, AssetId, Attributes, Layer, NewAsset};

/// What happened to one feature written by [`RegisterTx::upsert`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    Inserted,
    Updated,
    /// The asset was already so: nothing written, no new version.
    Unchanged,
}

impl Store {
    /// The id of the asset with this code (any layer, delisted or not).
    pub async fn asset_id_by_code(&self, code: &str) -> Result<Option<AssetId>> {
        Ok(
            sqlx::query_scalar::<_, i64>("SELECT id FROM assets WHERE code = $1")
                .bind(code)
                .fetch_optional(&self.pool)
                .await?
                .map(AssetId),
        )
    }
}

impl Store {
    /// Number of assets per layer.
    pub async fn count_by_layer(&self) -> Result<Vec<(Layer, i64)>> {
        let mut out = Vec::new();
        for layer in Layer::ALL {
            let n: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM assets WHERE layer = $1 AND delisted_at IS NULL",
            )
            .bind(layer.as_str())
            .fetch_one(&self.pool)
            .await?;
            out.push((*layer, n));
        }
        Ok(out)
    }

    /// Streams every asset of a layer in id order, decoding as it goes.
    pub fn stream_layer(&self, layer: Layer) -> impl Stream<Item = Result<Asset>> + Send + '_ {
        use std::sync::LazyLock;
        fn of(b: Backend) -> String {
            format!(
                "SELECT {} FROM assets WHERE layer = $1 AND delisted_at IS NULL ORDER BY id",
                asset_cols(b)
            )
        }
        static SQLITE: LazyLock<String> = LazyLock::new(|| of(Backend::Sqlite));
        static POSTGRES: LazyLock<String> = LazyLock::new(|| of(Backend::Postgres));
        let sql: &'static str = match self.backend {
            Backend::Sqlite => &SQLITE,
            Backend::Postgres => &POSTGRES,
        };
        sqlx::query(sql)
            .bind(layer.as_str())
            .fetch(&self.pool)
            .map(|row| decode_asset(&row?))
    }

    /// Every asset of a layer, in id order.
    pub async fn load_layer(&self, layer: Layer) -> Result<Vec<Asset>> {
        self.stream_layer(layer).try_collect().await
    }

    /// An asset as stored now, listed or not, and whether it is listed.
    pub async fn asset_state(&self, id: AssetId) -> Result<Option<(Asset, bool)>> {
        let sql = format!(
            "SELECT {}, delisted_at IS NULL AS listed FROM assets WHERE id = $1",
            asset_cols(self.backend)
        );
        let row = sqlx::query(&sql)
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok((decode_asset(&r)?, super::flag(&r, "listed")?)))
            .transpose()
    }

    /// The register's change feed after `mark`: each recorded version's mark (its
    /// `asset_versions` rowid), asset and version number, in order, at most `limit`.
    pub async fn register_changes(
        &self,
        mark: i64,
        limit: i64,
    ) -> Result<Vec<(i64, AssetId, i64)>> {
        let rows: Vec<(i64, i64, i64)> = sqlx::query_as(
            "SELECT rowid, asset_id, version FROM asset_versions WHERE rowid > $1 \
             ORDER BY rowid LIMIT $2",
        )
        .bind(mark)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(m, id, v)| (m, AssetId(id), v))
            .collect())
    }

    /// The register's change mark (see [`super::Snapshot::register_mark`]).
    pub async fn register_mark(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT coalesce(max(rowid), 0) FROM asset_versions")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// The asset and version recorded at a mark of the feed (its change there), if the feed holds it.
    pub async fn change_at(&self, mark: i64) -> Result<Option<(i64, i64)>> {
        Ok(
            sqlx::query_as("SELECT asset_id, version FROM asset_versions WHERE rowid = $1")
                .bind(mark)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Whether any ward was written after a mark of the feed (the wards other assets
    /// were located in may have moved).
    pub async fn wards_changed_after(&self, mark: i64) -> Result<bool> {
        let changed: super::Flag = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM asset_versions WHERE rowid > $1 AND layer = 'wards')",
        )
        .bind(mark)
        .fetch_one(&self.pool)
        .await?;
        Ok(changed.0)
    }

    pub async fn get_asset(&self, id: AssetId) -> Result<Option<Asset>> {
        let sql = format!(
            "SELECT {} FROM assets WHERE id = $1",
            asset_cols(self.backend)
        );
        let row = sqlx::query(&sql)
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| decode_asset(&r)).transpose()
    }

    pub async fn get_asset_by_code(&self, code: &str) -> Result<Option<Asset>> {
        let sql = format!(
            "SELECT {} FROM assets WHERE code = $1",
            asset_cols(self.backend)
        );
        let row = sqlx::query(&sql)
            .bind(code)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| decode_asset(&r)).transpose()
    }

    /// Starts a write transaction for an import by `change` (its audit entry appended
    /// first): nothing is visible until [`RegisterTx::commit`], and dropping it rolls
    /// everything back.
    pub async fn begin_import(&self, change: &EditContext) -> Result<RegisterTx> {
        let log = AuditEntry {
            actor: change.actor.clone(),
            role: change.role.clone(),
            action: change.action.clone(),
            subject: "register".into(),
            public: true,
            detail: serde_json::json!({ "note": change.note }),
        };
        let mut tx = self.begin(&self.pool, change).await?;
        tx.log(&log).await?;
        Ok(tx)
    }

    /// Starts a staff edit: like an import, but committed with `synchronous=FULL`, so an
    /// acknowledged edit survives a power cut. The caller logs it
    /// ([`RegisterTx::log`]) before its first write to an asset.
    pub async fn begin_edit(&self, change: &EditContext) -> Result<RegisterTx> {
        self.begin(&self.durable, change).await
    }

    async fn begin(&self, pool: &sqlx::AnyPool, change: &EditContext) -> Result<RegisterTx> {
        let mut tx = self.write_tx(pool).await?;
        let now = crate::model::now_rfc3339();
        versions::open(&mut tx, change).await?;
        Ok(RegisterTx {
            tx,
            backend: self.backend,
            now,
            next_code: Default::default(),
        })
    }
}

/// What a conditional edit found.
#[derive(Debug, Clone, PartialEq)]
pub enum Edit {
    /// Written: the asset as it now stands.
    Written(Asset),
    /// Not written: the asset has moved on from the version the edit was made against;
    /// here it is as it stands.
    Stale(Asset),
    /// No such asset.
    Missing,
}

/// A write transaction that inserts or updates assets by code.
pub struct RegisterTx {
    tx: Transaction<'static, Any>,
    backend: Backend,
    /// The instant every write of the transaction is stamped with.
    now: String,
    /// Next free number per code prefix, read once per transaction.
    next_code: std::collections::HashMap<&'static str, i64>,
}

impl RegisterTx {
    /// Inserts the asset, or updates the one with the same code (bumping its version).
    /// Returns the stored asset as the index should hold it.
    pub async fn upsert(&mut self, a: &NewAsset) -> Result<(Asset, Upserted)> {
        let now = self.now.clone();
        let code = match &a.code {
            Some(c) => c.clone(),
            None => self.next_code(a.layer).await?,
        };
        let r = AssetRow::new(a, code)?;
        let sql = upsert_sql(1, self.backend);
        let row = r
            .bind(sqlx::query(&sql), &a.attrs, &now)
            .fetch_optional(&mut *self.tx)
            .await?;
        let Some(row) = row else {
            // Nothing written: the code is another layer's, or the asset is as it was.
            return match self.unchanged(&r.code, a.layer).await? {
                Some(same) => Ok((same, Upserted::Unchanged)),
                None => Err(self.code_conflict(r.code, a.layer).await),
            };
        };
        let (code, area, condition) = (
            r.code,
            r.area,
            a.attrs
                .condition
                .unwrap_or(crate::model::Condition::Unknown),
        );
        let (id, version, created_at): (i64, i64, String) =
            (row.get("id"), row.get("version"), row.get("created_at"));
        let outcome = if version == 1 {
            Upserted::Inserted
        } else {
            Upserted::Updated
        };
        let mut attrs = a.attrs.clone();
        attrs.kind = Some(a.kind);
        attrs.condition = Some(condition);
        Ok((
            Asset {
                id: AssetId(id),
                code,
                layer: a.layer,
                kind: a.kind,
                attrs,
                area_m2: area,
                geometry: a.geometry.clone(),
                created_at,
                updated_at: now,
                version,
                ward_from_location: false,
                lock: None,
            },
            outcome,
        ))
    }

    /// Inserts or updates many assets in as few statements as SQLite's parameter limit
    /// allows: an import's writes, without a round trip to the database thread per row.
    /// A code seen twice starts a new statement at its second sight: PostgreSQL refuses
    /// an upsert that touches a row twice, and SQLite applied them in order anyway.
    /// Returns (inserted, updated, unchanged).
    pub async fn upsert_many(&mut self, assets: &[NewAsset]) -> Result<(u64, u64, u64)> {
        // 26 parameters a row; SQLite allows 32,766 per statement.
        const ROWS_PER_STATEMENT: usize = 1_000;
        let now = self.now.clone();
        let mut counts = (0, 0, 0);
        let mut rows: Vec<(AssetRow, &NewAsset)> = Vec::with_capacity(ROWS_PER_STATEMENT);
        let mut codes = std::collections::HashSet::new();
        for a in assets {
            let code = match &a.code {
                Some(c) => c.clone(),
                None => self.next_code(a.layer).await?,
            };
            if rows.len() == ROWS_PER_STATEMENT || codes.contains(&code) {
                let (i, u, n) = self.upsert_rows(&rows, &now).await?;
                counts = (counts.0 + i, counts.1 + u, counts.2 + n);
                rows.clear();
                codes.clear();
            }
            codes.insert(code.clone());
            rows.push((AssetRow::new(a, code)?, a));
        }
        if !rows.is_empty() {
            let (i, u, n) = self.upsert_rows(&rows, &now).await?;
            counts = (counts.0 + i, counts.1 + u, counts.2 + n);
        }
        Ok(counts)
    }

    /// One statement of [`RegisterTx::upsert_many`]: rows whose codes differ.
    async fn upsert_rows(
        &mut self,
        rows: &[(AssetRow, &NewAsset)],
        now: &str,
    ) -> Result<(u64, u64, u64)> {
        let (mut inserted, mut updated, mut unchanged) = (0, 0, 0);
        let sql = upsert_sql(rows.len(), self.backend);
        let mut q = sqlx::query(&sql);
        for (r, a) in rows {
            q = r.bind(q, &a.attrs, now);
        }
        let returned = q.fetch_all(&mut *self.tx).await?;
        if returned.len() < rows.len() {
            let written: std::collections::HashSet<String> = returned
                .iter()
                .map(|r| r.get::<String, _>("code"))
                .collect();
            for (r, a) in rows {
                if written.contains(&r.code) {
                    continue;
                }
                if self.unchanged(&r.code, a.layer).await?.is_some() {
                    unchanged += 1;
                } else {
                    return Err(self.code_conflict(r.code.clone(), a.layer).await);
                }
            }
        }
        for r in &returned {
            if r.get::<i64, _>("version") == 1 {
                inserted += 1;
            } else {
                updated += 1;
            }
        }
        Ok((inserted, updated, unchanged))
    }

    /// The listed asset of `layer` with `code`, which an upsert left as it was; `None`
    /// when the code is another layer's.
    async fn unchanged(&mut self, code: &str, layer: Layer) -> Result<Option<Asset>> {
        let sql = format!(
            "SELECT {} FROM assets WHERE code = $1 AND layer = $2",
            asset_cols(self.backend)
        );
        let row = sqlx::query(&sql)
            .bind(code)
            .bind(layer.as_str())
            .fetch_optional(&mut *self.tx)
            .await?;
        row.map(|r| decode_asset(&r)).transpose()
    }

    /// The error for a code that another layer holds.
    async fn code_conflict(&mut self, code: String, wanted: Layer) -> StoreError {
        match sqlx::query_scalar::<_, String>("SELECT layer FROM assets WHERE code = $1")
            .bind(&code)
            .fetch_one(&mut *self.tx)
            .await
        {
            Ok(existing) => StoreError::CodeInOtherLayer {
                code,
                existing,
                wanted,
            },
            Err(e) => e.into(),
        }
    }

    async fn next_code(&mut self, layer: Layer) -> Result<String> {
        let prefix = layer.code_prefix();
        let n = match self.next_code.get(prefix) {
            Some(n) => *n,
            None => {
                // SQLite's CAST reads the leading digits; PostgreSQL's would fail on a
                // code with more after them, hence the capture. Codes of 19 digits or
                // more (an import may bring any) are left out: they would not fit in a
                // 64-bit number, and no code made here can reach them.
                let (sql, pattern, too_long) = match self.backend {
                    Backend::Sqlite => (
                        "SELECT MAX(CAST(substr(code, 5) AS INTEGER)) FROM assets \
                         WHERE code GLOB $1 AND NOT code GLOB $2",
                        format!("{prefix}-[0-9]*"),
                        format!("{prefix}-{}*", "[0-9]".repeat(19)),
                    ),
                    Backend::Postgres => (
                        "SELECT MAX(CAST(substring(code FROM '^[A-Z]+-([0-9]+)') AS BIGINT)) \
                         FROM assets WHERE code ~ $1 AND NOT code ~ $2",
                        format!("^{prefix}-[0-9]"),
                        format!("^{prefix}-[0-9]{{19}}"),
                    ),
                };
                let max: Option<i64> = sqlx::query_scalar(sql)
                    .bind(pattern)
                    .bind(too_long)
                    .fetch_one(&mut *self.tx)
                    .await?;
                max.unwrap_or(0) + 1
            }
        };
        self.next_code.insert(prefix, n + 1);
        Ok(format!("{prefix}-{n:04}"))
    }

    /// Reads a fact in the transaction: with the writer's lock held, what no other
    /// server can change before this transaction ends.
    pub async fn meta_get(&mut self, key: &str) -> Result<Option<String>> {
        super::meta_value(&mut *self.tx, key).await
    }

    /// Records a fact in the same transaction (e.g. "bundled data loaded").
    pub async fn meta_set(&mut self, key: &str, value: &str) -> Result<()> {
        sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
            .bind(key)
            .bind(value)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    pub async fn commit(mut self) -> Result<()> {
        versions::close(&mut self.tx).await?;
        self.tx.commit().await?;
        Ok(())
    }

    /// The instant the transaction's writes are stamped with.
    pub fn now(&self) -> &str {
        &self.now
    }

    /// The transaction's connection, for the store's other modules.
    pub(super) fn conn(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }

    /// Appends the change's audit entry; the versions written after it carry its `seq`.
    pub async fn log(&mut self, e: &AuditEntry) -> Result<i64> {
        versions::log(&mut self.tx, e, &self.now).await
    }

    /// The code a new asset of `layer` would get.
    pub async fn assign_code(&mut self, layer: Layer) -> Result<String> {
        self.next_code(layer).await
    }

    /// The asset with `id` as this transaction sees it, delisted or not.
    pub async fn current(&mut self, id: AssetId) -> Result<Option<Asset>> {
        let sql = format!(
            "SELECT {} FROM assets WHERE id = $1",
            asset_cols(self.backend)
        );
        let row = sqlx::query(&sql)
            .bind(id.0)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.map(|r| decode_asset(&r)).transpose()
    }

    /// Adds a new asset; its code, when given, must be free.
    pub async fn create(&mut self, a: &NewAsset) -> Result<Asset> {
        if let Some(code) = &a.code {
            let taken: Option<String> =
                sqlx::query_scalar("SELECT layer FROM assets WHERE code = $1")
                    .bind(code)
                    .fetch_optional(&mut *self.tx)
                    .await?;
            if taken.is_some() {
                return Err(StoreError::CodeTaken(code.clone()));
            }
        }
        Ok(self.upsert(a).await?.0)
    }

    /// Replaces the asset `id` with `a` (its code and layer stay), if it is still at
    /// `expected` version; a delisted asset is listed again.
    pub async fn replace(&mut self, id: AssetId, expected: i64, a: &NewAsset) -> Result<Edit> {
        let Some(current) = self.current(id).await? else {
            return Ok(Edit::Missing);
        };
        if current.version != expected {
            return Ok(Edit::Stale(current));
        }
        let r = AssetRow::new(a, current.code.clone())?;
        let assignments = STATE_COLUMNS
            .iter()
            .enumerate()
            .map(|(i, c)| match *c {
                "geom" => format!("geom = {}", self.backend.geom_param(i + 1)),
                c => format!("{c} = ${}", i + 1),
            })
            .collect::<Vec<_>>()
            .join(", ");
        let n = STATE_COLUMNS.len();
        let sql = format!(
            "UPDATE assets SET {assignments}, updated_at = ${}, delisted_at = NULL, \
             delisted_reason = NULL, version = version + 1 \
             WHERE id = ${} AND version = ${} RETURNING {}",
            n + 1,
            n + 2,
            n + 3,
            asset_cols(self.backend)
        );
        let row = r
            .bind_state(sqlx::query(&sql), &a.attrs)
            .bind(&self.now)
            .bind(id.0)
            .bind(expected)
            .fetch_one(&mut *self.tx)
            .await?;
        Ok(Edit::Written(decode_asset(&row)?))
    }

    /// Takes the asset `id` off the register with `reason`, if it is still at `expected`
    /// version: its row and history stay.
    pub async fn delist(&mut self, id: AssetId, expected: i64, reason: &str) -> Result<Edit> {
        let Some(current) = self.current(id).await? else {
            return Ok(Edit::Missing);
        };
        if current.version != expected {
            return Ok(Edit::Stale(current));
        }
        let sql = format!(
            "UPDATE assets SET delisted_at = $1, delisted_reason = $2, updated_at = $3, \
             version = version + 1 WHERE id = $4 AND version = $5 RETURNING {}",
            asset_cols(self.backend)
        );
        let row = sqlx::query(&sql)
            .bind(&self.now)
            .bind(reason)
            .bind(&self.now)
            .bind(id.0)
            .bind(expected)
            .fetch_one(&mut *self.tx)
            .await?;
        Ok(Edit::Written(decode_asset(&row)?))
    }
}

const UPSERT_COLUMNS: &str = "code, layer, kind, name, name_bn, ward, borough, address, condition, \
     condition_assessed_at, last_maintained_at, grade, year_built, owner, area_m2, status, protected, \
     source, extra, geom, minx, miny, maxx, maxy, created_at, updated_at, version";

/// The columns of an asset's state, as [`AssetRow::bind_state`] binds them (the middle
/// of [`UPSERT_COLUMNS`]).
const STATE_COLUMNS: [&str; 22] = [
    "kind",
    "name",
    "name_bn",
    "ward",
    "borough",
    "address",
    "condition",
    "condition_assessed_at",
    "last_maintained_at",
    "grade",
    "year_built",
    "owner",
    "area_m2",
    "status",
    "protected",
    "source",
    "extra",
    "geom",
    "minx",
    "miny",
    "maxx",
    "maxy",
];

/// Insert-or-update of `rows` assets by code. A row whose code is held by another layer
/// matches nothing, and neither does one that would change nothing (a listed asset with
/// the same state: no new version for a re-import of the same file): nothing is written
/// for them and nothing returned.
fn upsert_sql(rows: usize, backend: Backend) -> String {
    const PER_ROW: usize = 26;
    // The 20th value of each row is the geometry (UPSERT_COLUMNS).
    const GEOM: usize = 20;
    let values = (0..rows)
        .map(|row| {
            let one = (1..=PER_ROW)
                .map(|i| {
                    let n = row * PER_ROW + i;
                    match backend {
                        // Anonymous: sqlx's SQLite driver asks SQLite the name of every
                        // `$N` it binds, and SQLite finds it by walking the list of names,
                        // so 26,000 numbered values took 1.5 s per batch to bind (an
                        // import of 2.4 M rows: over an hour). Each value here comes once,
                        // in order, so `?` says the same.
                        Backend::Sqlite => "?".to_string(),
                        Backend::Postgres if i == GEOM => backend.geom_param(n),
                        Backend::Postgres => format!("${n}"),
                    }
                })
                .collect::<Vec<_>>()
                .join(", ");
            format!("({one}, 1)")
        })
        .collect::<Vec<_>>()
        .join(", ");
    let differs = STATE_COLUMNS
        .iter()
        .map(|c| format!("assets.{c} IS DISTINCT FROM excluded.{c}"))
        .collect::<Vec<_>>()
        .join(" OR ");
    format!(
        "INSERT INTO assets ({UPSERT_COLUMNS}) VALUES {values} \
         ON CONFLICT(code) DO UPDATE SET kind = excluded.kind, name = excluded.name, \
         name_bn = excluded.name_bn, ward = excluded.ward, borough = excluded.borough, \
         address = excluded.address, condition = excluded.condition, \
         condition_assessed_at = excluded.condition_assessed_at, \
         last_maintained_at = excluded.last_maintained_at, grade = excluded.grade, \
         year_built = excluded.year_built, owner = excluded.owner, area_m2 = excluded.area_m2, \
         status = excluded.status, protected = excluded.protected, source = excluded.source, \
         extra = excluded.extra, geom = excluded.geom, minx = excluded.minx, miny = excluded.miny, \
         maxx = excluded.maxx, maxy = excluded.maxy, updated_at = excluded.updated_at, \
         delisted_at = NULL, delisted_reason = NULL, version = assets.version + 1 \
         WHERE assets.layer = excluded.layer \
           AND (assets.delisted_at IS NOT NULL OR {differs}) \
         RETURNING code, id, version, created_at"
    )
}

/// One asset's column values, bound in [`UPSERT_COLUMNS`] order (less `version`).
struct AssetRow {
    code: String,
    layer: Layer,
    kind: &'static str,
    wkb: Vec<u8>,
    bbox: geo_types::Rect<f64>,
    area: Option<f64>,
    extra: String,
    condition: &'static str,
}

impl AssetRow {
    fn new(a: &NewAsset, code: String) -> Result<AssetRow> {
        let wkb = a
            .geometry
            .to_wkb(CoordDimensions::xy())
            .map_err(|e| StoreError::Encode(e.to_string()))?;
        let bbox =
            geom::bbox(&a.geometry).ok_or_else(|| StoreError::Encode("empty geometry".into()))?;
        Ok(AssetRow {
            code,
            layer: a.layer,
            kind: a.kind.as_str(),
            wkb,
            bbox,
            area: geom::geodesic_area_m2(&a.geometry),
            extra: serde_json::to_string(&a.attrs.extra).unwrap_or_else(|_| "{}".into()),
            condition: a
                .attrs
                .condition
                .unwrap_or(crate::model::Condition::Unknown)
                .as_str(),
        })
    }

    fn bind<'q>(
        &'q self,
        q: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>,
        at: &'q Attributes,
        now: &'q str,
    ) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>> {
        let q = q.bind(&self.code).bind(self.layer.as_str());
        self.bind_state(q, at).bind(now).bind(now)
    }

    /// The columns that hold an asset's state, `kind` to `maxy` in [`UPSERT_COLUMNS`]
    /// order ([`STATE_COLUMNS`]): what an insert and a replace both write.
    fn bind_state<'q>(
        &'q self,
        q: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>,
        at: &'q Attributes,
    ) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>> {
        q.bind(self.kind)
            .bind(&at.name)
            .bind(&at.name_bn)
            .bind(at.ward)
            .bind(&at.borough)
            .bind(&at.address)
            .bind(self.condition)
            .bind(&at.condition_assessed_at)
            .bind(&at.last_maintained_at)
            .bind(at.grade.map(|g| g.as_str()))
            .bind(at.year_built)
            .bind(&at.owner)
            .bind(super::OptF64(self.area))
            .bind(at.status.map(|s| s.as_str()))
            .bind(at.protected.map(i64::from))
            .bind(&at.source)
            .bind(&self.extra)
            .bind(&self.wkb)
            .bind(self.bbox.min().x)
            .bind(self.bbox.min().y)
            .bind(self.bbox.max().x)
            .bind(self.bbox.max().y)
    }
}

/// The columns an asset is decoded from, in the order [`asset_columns`] lists them.
#[derive(Debug, Clone, Copy)]
pub(super) enum Col {
    Id,
    Code,
    Layer,
    Kind,
    Name,
    NameBn,
    Ward,
    Borough,
    Address,
    Condition,
    ConditionAssessedAt,
    LastMaintainedAt,
    Grade,
    YearBuilt,
    Owner,
    AreaM2,
    Status,
    Protected,
    Source,
    Extra,
    Geom,
    CreatedAt,
    UpdatedAt,
    Version,
}

impl Col {
    pub(super) const ALL: [Col; 24] = [
        Col::Id,
        Col::Code,
        Col::Layer,
        Col::Kind,
        Col::Name,
        Col::NameBn,
        Col::Ward,
        Col::Borough,
        Col::Address,
        Col::Condition,
        Col::ConditionAssessedAt,
        Col::LastMaintainedAt,
        Col::Grade,
        Col::YearBuilt,
        Col::Owner,
        Col::AreaM2,
        Col::Status,
        Col::Protected,
        Col::Source,
        Col::Extra,
        Col::Geom,
        Col::CreatedAt,
        Col::UpdatedAt,
        Col::Version,
    ];

    pub(super) fn name(self) -> &'static str {
        match self {
            Col::Id => "id",
            Col::Code => "code",
            Col::Layer => "layer",
            Col::Kind => "kind",
            Col::Name => "name",
            Col::NameBn => "name_bn",
            Col::Ward => "ward",
            Col::Borough => "borough",
            Col::Address => "address",
            Col::Condition => "condition",
            Col::ConditionAssessedAt => "condition_assessed_at",
            Col::LastMaintainedAt => "last_maintained_at",
            Col::Grade => "grade",
            Col::YearBuilt => "year_built",
            Col::Owner => "owner",
            Col::AreaM2 => "area_m2",
            Col::Status => "status",
            Col::Protected => "protected",
            Col::Source => "source",
            Col::Extra => "extra",
            Col::Geom => "geom",
            Col::CreatedAt => "created_at",
            Col::UpdatedAt => "updated_at",
            Col::Version => "version",
        }
    }
}

/// `id, code, layer, …`: every [`Col`], in order, for a query whose rows are read by
/// position.
pub(super) fn asset_columns() -> String {
    Col::ALL.map(Col::name).join(", ")
}

/// Every [`Col`] as `backend` reads it (the geometry as WKB), for `SELECT` and
/// `RETURNING`.
pub(super) fn asset_cols(backend: Backend) -> &'static str {
    static SQLITE: std::sync::LazyLock<String> = std::sync::LazyLock::new(asset_columns);
    static POSTGRES: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        Col::ALL
            .map(|c| match c {
                Col::Geom => Backend::Postgres.geom_out("geom"),
                c => c.name().to_owned(),
            })
            .join(", ")
    });
    match backend {
        Backend::Sqlite => &SQLITE,
        Backend::Postgres => &POSTGRES,
    }
}

/// A stored asset's row, whichever driver stepped it: sqlx's rows are read by column
/// name (`SELECT *`, `RETURNING *`), a layer read on its own connection by position
/// (`store::export`). Text and blobs are borrowed from the row.
pub(super) trait AssetColumns {
    fn text(&self, c: Col) -> Result<Option<&str>>;
    fn int(&self, c: Col) -> Result<Option<i64>>;
    fn real(&self, c: Col) -> Result<Option<f64>>;
    fn blob(&self, c: Col) -> Result<&[u8]>;
}

impl AssetColumns for AnyRow {
    fn text(&self, c: Col) -> Result<Option<&str>> {
        Ok(self.try_get(c.name())?)
    }

    fn int(&self, c: Col) -> Result<Option<i64>> {
        Ok(self.try_get(c.name())?)
    }

    fn real(&self, c: Col) -> Result<Option<f64>> {
        Ok(self.try_get(c.name())?)
    }

    fn blob(&self, c: Col) -> Result<&[u8]> {
        Ok(self.try_get(c.name())?)
    }
}

pub(super) fn decode_asset(r: &impl AssetColumns) -> Result<Asset> {
    let null = |id: i64, c: Col| StoreError::Corrupt {
        table: "asset",
        id,
        what: format!("{} is null", c.name()),
    };
    let id = r.int(Col::Id)?.ok_or_else(|| null(0, Col::Id))?;
    let corrupt = |what: String| StoreError::Corrupt {
        table: "asset",
        id,
        what,
    };
    let required = |c: Col| -> Result<&str> { r.text(c)?.ok_or_else(|| null(id, c)) };
    let text = |c: Col| -> Result<Option<String>> { Ok(r.text(c)?.map(str::to_owned)) };
    let layer = Layer::from_str(required(Col::Layer)?).map_err(|e| corrupt(e.to_string()))?;
    let kind = required(Col::Kind)?
        .parse()
        .map_err(|e: crate::model::UnknownValue| corrupt(e.to_string()))?;
    let geometry = Wkb(r.blob(Col::Geom)?)
        .to_geo()
        .map_err(|e| StoreError::Geometry(id, e.to_string()))?;
    let extra =
        serde_json::from_str(required(Col::Extra)?).map_err(|e| corrupt(format!("extra: {e}")))?;
    let attrs = Attributes {
        kind: Some(kind),
        name: text(Col::Name)?,
        name_bn: text(Col::NameBn)?,
        ward: r.int(Col::Ward)?,
        borough: text(Col::Borough)?,
        address: text(Col::Address)?,
        condition: r
            .text(Col::Condition)?
            .map(str::parse)
            .transpose()
            .map_err(|e: crate::model::UnknownValue| corrupt(e.to_string()))?,
        condition_assessed_at: text(Col::ConditionAssessedAt)?,
        last_maintained_at: text(Col::LastMaintainedAt)?,
        grade: r
            .text(Col::Grade)?
            .map(str::parse)
            .transpose()
            .map_err(|e: crate::model::UnknownValue| corrupt(e.to_string()))?,
        year_built: r.int(Col::YearBuilt)?,
        owner: text(Col::Owner)?,
        status: r
            .text(Col::Status)?
            .map(str::parse)
            .transpose()
            .map_err(|e: crate::model::UnknownValue| corrupt(e.to_string()))?,
        protected: r.int(Col::Protected)?.map(|p| p != 0),
        source: text(Col::Source)?,
        extra,
    };
    Ok(Asset {
        id: AssetId(id),
        code: required(Col::Code)?.to_owned(),
        layer,
        kind,
        attrs,
        area_m2: r.real(Col::AreaM2)?,
        geometry,
        created_at: required(Col::CreatedAt)?.to_owned(),
        updated_at: required(Col::UpdatedAt)?.to_owned(),
        version: r.int(Col::Version)?.ok_or_else(|| null(id, Col::Version))?,
        ward_from_location: false,
        lock: None,
    })
}

#[cfg(test)]
mod tests {
    use super::{STATE_COLUMNS, UPSERT_COLUMNS};

    /// An insert and a replace bind the state in one order: UPSERT_COLUMNS without code
    /// and layer (first) and the timestamps and version (last).
    #[test]
    fn the_state_columns_are_the_middle_of_the_upsert_columns() {
        let all: Vec<&str> = UPSERT_COLUMNS.split(',').map(str::trim).collect();
        assert_eq!(&all[2..all.len() - 3], &STATE_COLUMNS[..]);
    }
}
