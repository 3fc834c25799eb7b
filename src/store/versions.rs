//! Every version of every asset. The rows are written by triggers on `assets` (see
//! `migrations/0004_versions.sql`); this module puts down who makes a change and why
//! before it is written, and reads versions back: one asset's list, one version, the
//! register as it stood at an instant.

use sqlx::{AnyConnection, Row};

use super::Backend;

use super::assets::decode_asset;
use super::audit::{self, AuditEntry};
use super::{Result, Store, StoreError};
use crate::model::{Asset, AssetId, Layer};

/// Who changes the register, how, and why: copied into every version the change writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditContext {
    /// A staff member's name, or `import:<file name>` for the CLI.
    pub actor: String,
    pub role: Option<String>,
    /// `create`, `replace`, `update`, `delist`, `restore`, `import`, `inspection.add` …
    pub action: String,
    pub note: Option<String>,
}

impl EditContext {
    /// An import of `file` (its name only: where it lay on the server is nobody's business).
    pub fn import(file: &str) -> EditContext {
        let name = std::path::Path::new(file)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or(file);
        EditContext {
            actor: format!("import:{name}"),
            role: None,
            action: "import".into(),
            note: None,
        }
    }

    /// The change an audit entry records (history entries name their actor and action).
    pub fn of(log: &AuditEntry) -> EditContext {
        EditContext {
            actor: log.actor.clone(),
            role: log.role.clone(),
            action: log.action.clone(),
            note: None,
        }
    }
}

/// Puts down who makes the change on `conn`'s transaction: the first write, so the
/// transaction holds the write lock from here on. Its versions are stamped now, to the
/// millisecond ([`crate::model::instant_ms`]): taken under the write lock, so stamps
/// follow the order changes commit in.
pub(super) async fn open(conn: &mut AnyConnection, c: &EditContext) -> Result<()> {
    sqlx::query(
        "INSERT INTO edit_context (id, at, actor, role, action, note, audit_seq) \
         VALUES (1, $1, $2, $3, $4, $5, NULL) ON CONFLICT (id) DO UPDATE SET at = excluded.at, \
         actor = excluded.actor, role = excluded.role, action = excluded.action, \
         note = excluded.note, audit_seq = excluded.audit_seq",
    )
    .bind(crate::model::instant_ms(time::OffsetDateTime::now_utc()))
    .bind(&c.actor)
    .bind(&c.role)
    .bind(&c.action)
    .bind(&c.note)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Appends `log` to the audit chain: every version the transaction writes from here on
/// carries the entry's `seq`.
pub(super) async fn log(conn: &mut AnyConnection, log: &AuditEntry, at: &str) -> Result<i64> {
    let seq = audit::append(conn, log, at).await?;
    sqlx::query("UPDATE edit_context SET audit_seq = $1 WHERE id = 1")
        .bind(seq)
        .execute(&mut *conn)
        .await?;
    Ok(seq)
}

/// Takes the context away again before the transaction commits, so a later write that
/// forgot to say who makes it is refused rather than credited to this one.
pub(super) async fn close(conn: &mut AnyConnection) -> Result<()> {
    sqlx::query("DELETE FROM edit_context")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A layer at an instant in two parts (see [`Store::layer_at_parts`]): the unchanged
/// assets' (id, version), and the changed ones as they were.
pub type LayerAtParts = (Vec<(AssetId, i64)>, Vec<Asset>);

/// Each asset's (`a`) version at instant `?2`: one seek of the (asset_id, at) index.
pub(super) const VERSION_THEN: &str = "(SELECT w.version FROM asset_versions w \
     WHERE w.asset_id = a.id AND w.at <= $2 ORDER BY w.at DESC, w.version DESC LIMIT 1)";

/// One version's record: who, when, why — without the asset itself.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct VersionInfo {
    pub version: i64,
    pub at: String,
    pub actor: String,
    pub role: Option<String>,
    pub action: String,
    pub note: Option<String>,
    /// The audit entry that records the change, and its hash.
    pub audit_seq: Option<i64>,
    pub audit_hash: Option<String>,
    pub area_m2: Option<f64>,
    pub delisted: bool,
}

/// An asset as one version left it.
#[derive(Debug, Clone, PartialEq)]
pub struct Version {
    pub info: VersionInfo,
    pub asset: Asset,
    pub delisting: Option<Delisting>,
}

/// When and why an asset left the register.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Delisting {
    pub at: String,
    pub reason: String,
}

/// The columns of a version row (`v`, joined with its audit entry `a`), named as
/// `decode_asset` reads an asset row.
fn version_columns(b: Backend) -> &'static str {
    use std::sync::LazyLock;
    fn of(b: Backend) -> String {
        format!(
            "v.asset_id AS id, v.version, v.at, v.actor, v.role, v.action, \
             v.note, v.audit_seq, a.hash AS audit_hash, v.code, v.layer, v.kind, v.name, \
             v.name_bn, v.ward, v.borough, v.address, v.condition, v.condition_assessed_at, \
             v.last_maintained_at, v.grade, v.year_built, v.owner, v.area_m2, v.status, \
             v.protected, v.source, v.extra, {}, v.minx, v.miny, v.maxx, v.maxy, \
             v.created_at, v.updated_at, v.delisted_at, v.delisted_reason",
            b.geom_out("v.geom")
        )
    }
    static SQLITE: LazyLock<String> = LazyLock::new(|| of(Backend::Sqlite));
    static POSTGRES: LazyLock<String> = LazyLock::new(|| of(Backend::Postgres));
    match b {
        Backend::Sqlite => &SQLITE,
        Backend::Postgres => &POSTGRES,
    }
}

/// A version row (`v`) read as the asset it was: its columns named as `decode_asset`
/// reads them.
fn version_asset_columns(b: Backend) -> &'static str {
    use super::assets::Col;
    use std::sync::LazyLock;
    fn of(b: Backend) -> String {
        Col::ALL
            .map(|c| match c {
                Col::Id => "v.asset_id AS id".to_owned(),
                Col::Geom => b.geom_out("v.geom"),
                c => format!("v.{}", c.name()),
            })
            .join(", ")
    }
    static SQLITE: LazyLock<String> = LazyLock::new(|| of(Backend::Sqlite));
    static POSTGRES: LazyLock<String> = LazyLock::new(|| of(Backend::Postgres));
    match b {
        Backend::Sqlite => &SQLITE,
        Backend::Postgres => &POSTGRES,
    }
}

fn decode_info(r: &sqlx::any::AnyRow) -> Result<VersionInfo> {
    Ok(VersionInfo {
        version: r.try_get("version")?,
        at: r.try_get("at")?,
        actor: r.try_get("actor")?,
        role: r.try_get("role")?,
        action: r.try_get("action")?,
        note: r.try_get("note")?,
        audit_seq: r.try_get("audit_seq")?,
        audit_hash: r.try_get("audit_hash")?,
        area_m2: r.try_get("area_m2")?,
        delisted: r.try_get::<Option<String>, _>("delisted_at")?.is_some(),
    })
}

/// Reads a row's delisting (`assets` and `asset_versions` rows both carry it).
pub(super) fn decode_delisting(r: &sqlx::any::AnyRow) -> Result<Option<Delisting>> {
    let at: Option<String> = r.try_get("delisted_at")?;
    let reason: Option<String> = r.try_get("delisted_reason")?;
    Ok(at.map(|at| Delisting {
        at,
        reason: reason.unwrap_or_default(),
    }))
}

fn decode_version(r: &sqlx::any::AnyRow) -> Result<Version> {
    Ok(Version {
        info: decode_info(r)?,
        asset: decode_asset(r)?,
        delisting: decode_delisting(r)?,
    })
}

/// A version stamp as [`crate::model::instant_ms`] writes it, checked, so a malformed
/// one cannot compare as text with the stored ones in a way nobody meant.
fn check_instant(t: &str) -> Result<()> {
    let parsed = time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339);
    match parsed {
        Ok(p) if crate::model::instant_ms(p) == t => Ok(()),
        _ => Err(StoreError::Encode(format!(
            "instant {t:?} is not a version stamp (2026-11-30T18:29:59.000Z)"
        ))),
    }
}

impl Store {
    /// An asset's versions, oldest first.
    pub async fn versions(&self, id: AssetId) -> Result<Vec<VersionInfo>> {
        let cols = version_columns(self.backend);
        let rows = sqlx::query(&format!(
            "SELECT {cols} FROM asset_versions v \
             LEFT JOIN audit_log a ON a.seq = v.audit_seq \
             WHERE v.asset_id = $1 ORDER BY v.version"
        ))
        .bind(id.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decode_info).collect()
    }

    /// One version of an asset.
    pub async fn version(&self, id: AssetId, version: i64) -> Result<Option<Version>> {
        let cols = version_columns(self.backend);
        let row = sqlx::query(&format!(
            "SELECT {cols} FROM asset_versions v \
             LEFT JOIN audit_log a ON a.seq = v.audit_seq \
             WHERE v.asset_id = $1 AND v.version = $2"
        ))
        .bind(id.0)
        .bind(version)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| decode_version(&r)).transpose()
    }

    /// The asset as it stood at instant `t` (a version stamp): its last version at or
    /// before `t`; `None` if it did not exist yet. A delisted version is returned as
    /// such ([`Version::delisting`]).
    pub async fn version_at(&self, id: AssetId, t: &str) -> Result<Option<Version>> {
        check_instant(t)?;
        let cols = version_columns(self.backend);
        let row = sqlx::query(&format!(
            "SELECT {cols} FROM asset_versions v \
             LEFT JOIN audit_log a ON a.seq = v.audit_seq \
             WHERE v.asset_id = $1 AND v.at <= $2 ORDER BY v.version DESC LIMIT 1"
        ))
        .bind(id.0)
        .bind(t)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| decode_version(&r)).transpose()
    }

    /// A layer as it stood at instant `t` (a version stamp), in two parts: the ids of the
    /// listed assets whose version then is still their current one (a caller holding
    /// today's register takes those from it), and the assets that have changed since, as
    /// their version then left them. Delisted then: in neither.
    pub async fn layer_at_parts(&self, layer: Layer, t: &str) -> Result<LayerAtParts> {
        check_instant(t)?;
        // A file's rows are stepped on a connection of their own, off the async workers,
        // in one read transaction (both parts of one state; no channel message a row).
        let snapshot = match self.backend {
            Backend::Sqlite => self.snapshot().ok(),
            Backend::Postgres => None,
        };
        if let Some(snapshot) = snapshot {
            let (layer, t) = (layer, t.to_string());
            return tokio::task::spawn_blocking(move || snapshot.layer_at_parts(layer, &t))
                .await
                .map_err(|e| StoreError::Unavailable(format!("reading the past: {e}")))?;
        }
        const THEN: &str = VERSION_THEN;
        let same = sqlx::query(&format!(
            "SELECT a.id, a.version FROM assets a \
             WHERE a.layer = $1 AND a.delisted_at IS NULL AND {THEN} = a.version ORDER BY a.id"
        ))
        .bind(layer.as_str())
        .bind(t)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| Ok((AssetId(r.try_get("id")?), r.try_get("version")?)))
        .collect::<Result<Vec<_>>>()?;
        let vcols = version_asset_columns(self.backend);
        let changed = sqlx::query(&format!(
            "SELECT {vcols} FROM assets a \
             JOIN asset_versions v ON v.asset_id = a.id AND v.version = {THEN} \
             WHERE a.layer = $1 AND v.version <> a.version AND v.delisted_at IS NULL \
             ORDER BY a.id"
        ))
        .bind(layer.as_str())
        .bind(t)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(decode_asset)
        .collect::<Result<Vec<_>>>()?;
        Ok((same, changed))
    }

    /// The assets as the given (asset, version) pairs left them.
    pub async fn versions_of(&self, wanted: &[(AssetId, i64)]) -> Result<Vec<Asset>> {
        // Two parameters a pair; well under SQLite's 32,766 per statement.
        const PAIRS_PER_STATEMENT: usize = 4_000;
        let mut out = Vec::with_capacity(wanted.len());
        for chunk in wanted.chunks(PAIRS_PER_STATEMENT) {
            let pairs = (0..chunk.len())
                .map(|i| format!("(${}, ${})", 2 * i + 1, 2 * i + 2))
                .collect::<Vec<_>>()
                .join(", ");
            let vcols = version_asset_columns(self.backend);
            let sql = format!(
                "SELECT {vcols} FROM asset_versions v \
                 WHERE (v.asset_id, v.version) IN (VALUES {pairs}) ORDER BY v.asset_id"
            );
            let mut q = sqlx::query(&sql);
            for (id, version) in chunk {
                q = q.bind(id.0).bind(*version);
            }
            for r in q.fetch_all(&self.pool).await? {
                out.push(decode_asset(&r)?);
            }
        }
        Ok(out)
    }

    /// When and why an asset was delisted, if it is.
    pub async fn delisting(&self, id: AssetId) -> Result<Option<Delisting>> {
        let row = sqlx::query("SELECT delisted_at, delisted_reason FROM assets WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| decode_delisting(&r)).transpose()?.flatten())
    }
}
