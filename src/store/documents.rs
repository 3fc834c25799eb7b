//! Documents on record: their metadata and the assets they concern, every version of
//! that record, their text in the full-text index (`documents_fts`), and the queue of
//! text jobs. A change to a record writes the record, its next version, the index and the
//! audit entry in one transaction. Writing transactions here read before they write, so
//! they take the write lock at BEGIN (IMMEDIATE): under WAL a reader that later writes
//! would be refused at once, not made to wait, if another writer got in between.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::Sql;

use super::audit::{self, AuditEntry};
use super::{Result, Store, StoreError};
use crate::documents::search::{clean_text, HIT_END, HIT_START};
use crate::documents::{fold, DocKind, DocStatus, TextSource};
use crate::model::AssetId;

/// What staff say about a document: set on upload, changed by officers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DocMeta {
    pub title: String,
    #[serde(rename = "type")]
    pub kind: DocKind,
    pub reference: Option<String>,
    pub issuer: Option<String>,
    pub issued_on: Option<String>,
    pub valid_until: Option<String>,
    pub language: Option<String>,
    pub ward: Option<i64>,
    pub public: bool,
    /// The assets it concerns.
    #[serde(skip)]
    pub assets: Vec<AssetId>,
}

/// Whether a document still holds, and why not.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DocState {
    pub status: DocStatus,
    pub status_reason: Option<String>,
    pub superseded_by: Option<String>,
}

impl DocState {
    pub fn current() -> DocState {
        DocState {
            status: DocStatus::Current,
            status_reason: None,
            superseded_by: None,
        }
    }
}

/// An asset a document concerns.
#[derive(Debug, Clone, Serialize)]
pub struct LinkedAsset {
    #[serde(skip)]
    pub id: AssetId,
    pub code: String,
    pub name: String,
    pub layer: String,
    /// The asset's ward (for a field officer's ward check).
    #[serde(skip)]
    pub ward: Option<i64>,
}

/// Where a document's text stands.
#[derive(Debug, Clone, Serialize)]
pub struct TextState {
    /// `queued`, `running`, `done` or `failed`.
    pub state: String,
    pub source: Option<String>,
    pub pages: Option<i64>,
    pub pages_done: i64,
    pub error: Option<String>,
}

/// A document on record.
#[derive(Debug, Clone)]
pub struct DocumentRecord {
    pub id: i64,
    pub sha256: String,
    pub meta: DocMeta,
    pub state: DocState,
    pub media_type: String,
    pub size: i64,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
    pub assets: Vec<LinkedAsset>,
    pub text: TextState,
}

/// A document to put on record.
#[derive(Debug, Clone)]
pub struct NewDocument {
    pub sha256: String,
    pub media_type: String,
    pub size: i64,
    pub meta: DocMeta,
}

/// One version of a document's record.
#[derive(Debug, Clone, Serialize)]
pub struct DocVersion {
    pub version: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub note: Option<String>,
    pub audit_seq: Option<i64>,
    pub record: serde_json::Value,
}

/// A search over documents.
#[derive(Debug, Clone, Default)]
pub struct DocQuery {
    /// Words to look for (from `documents::search::parse`).
    pub fts: Option<crate::documents::search::Fts>,
    pub kind: Option<DocKind>,
    pub asset: Option<AssetId>,
    pub ward: Option<i64>,
    /// Issued on or after / on or before (dates).
    pub from: Option<String>,
    pub to: Option<String>,
    pub status: Option<DocStatus>,
    pub language: Option<String>,
    pub include_private: bool,
    pub limit: i64,
    pub offset: i64,
}

/// A document found, with where the words were found.
#[derive(Debug, Clone)]
pub struct DocHit {
    pub record: DocumentRecord,
    /// The best passage, hits between [`HIT_START`] and [`HIT_END`].
    pub snippet: Option<String>,
    /// BM25 (lower is better), for a text search.
    pub score: Option<f64>,
}

/// A text job claimed by a worker.
#[derive(Debug, Clone)]
pub struct TextJob {
    pub document_id: i64,
    pub sha256: String,
    pub media_type: String,
    pub language: Option<String>,
    pub attempts: i64,
}

/// Outcome of a change to a record.
#[derive(Debug)]
pub enum DocEdit {
    Written(Box<DocumentRecord>),
    /// The record is at another version than the one the change was made against.
    Stale(Box<DocumentRecord>),
    Missing,
}

const SELECT: &str = "SELECT d.id, d.sha256, d.title, d.kind, d.reference, d.issuer, d.issued_on, \
    d.valid_until, d.language, d.ward, d.public, d.status, d.status_reason, d.superseded_by, \
    d.media_type, d.size, d.version, d.created_at, d.updated_at, \
    t.state AS t_state, t.source AS t_source, t.pages AS t_pages, t.pages_done AS t_done, t.error AS t_error \
    FROM documents d LEFT JOIN document_text t ON t.document_id = d.id";

fn corrupt(id: i64, what: String) -> StoreError {
    StoreError::Corrupt {
        table: "documents",
        id,
        what,
    }
}

fn decode(r: &AnyRow) -> Result<DocumentRecord> {
    let id: i64 = r.try_get("id")?;
    let kind: String = r.try_get("kind")?;
    let status: String = r.try_get("status")?;
    Ok(DocumentRecord {
        id,
        sha256: r.try_get("sha256")?,
        meta: DocMeta {
            title: r.try_get("title")?,
            kind: DocKind::parse(&kind).ok_or_else(|| corrupt(id, format!("type {kind}")))?,
            reference: r.try_get("reference")?,
            issuer: r.try_get("issuer")?,
            issued_on: r.try_get("issued_on")?,
            valid_until: r.try_get("valid_until")?,
            language: r.try_get("language")?,
            ward: r.try_get("ward")?,
            public: r.try_get::<i64, _>("public")? != 0,
            assets: Vec::new(),
        },
        state: DocState {
            status: DocStatus::parse(&status)
                .ok_or_else(|| corrupt(id, format!("status {status}")))?,
            status_reason: r.try_get("status_reason")?,
            superseded_by: r.try_get("superseded_by")?,
        },
        media_type: r.try_get("media_type")?,
        size: r.try_get("size")?,
        version: r.try_get("version")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        assets: Vec::new(),
        text: TextState {
            state: r
                .try_get::<Option<String>, _>("t_state")?
                .unwrap_or_else(|| "queued".into()),
            source: r.try_get("t_source")?,
            pages: r.try_get("t_pages")?,
            pages_done: r.try_get::<Option<i64>, _>("t_done")?.unwrap_or(0),
            error: r.try_get("t_error")?,
        },
    })
}

/// Fills in the linked assets of records (one query for all).
async fn link_assets(conn: &mut AnyConnection, records: &mut [&mut DocumentRecord]) -> Result<()> {
    if records.is_empty() {
        return Ok(());
    }
    let mut qb = Sql::new(
        "SELECT da.document_id, a.id, a.code, a.name, a.layer, a.ward FROM document_assets da \
         JOIN assets a ON a.id = da.asset_id WHERE da.document_id IN (",
    );
    let mut sep = qb.separated(", ");
    for r in records.iter() {
        sep.push_bind(r.id);
    }
    qb.push(") ORDER BY a.code");
    let rows = qb.build().fetch_all(&mut *conn).await?;
    for row in rows {
        let doc: i64 = row.try_get(0)?;
        let linked = LinkedAsset {
            id: AssetId(row.try_get(1)?),
            code: row.try_get(2)?,
            name: row.try_get(3)?,
            layer: row.try_get(4)?,
            ward: row.try_get(5)?,
        };
        if let Some(r) = records.iter_mut().find(|r| r.id == doc) {
            r.meta.assets.push(linked.id);
            r.assets.push(linked);
        }
    }
    for r in records.iter_mut() {
        r.meta.assets.sort_unstable();
    }
    Ok(())
}

/// The record as a version keeps it: its metadata, status and linked assets by code.
fn version_record(r: &DocumentRecord) -> serde_json::Value {
    let mut v = serde_json::to_value(&r.meta).unwrap_or_default();
    if let (Some(o), Ok(serde_json::Value::Object(s))) =
        (v.as_object_mut(), serde_json::to_value(&r.state))
    {
        o.extend(s);
        o.insert(
            "assets".into(),
            r.assets.iter().map(|a| a.code.clone()).collect(),
        );
    }
    v
}

async fn fetch(conn: &mut AnyConnection, sha256: &str) -> Result<Option<DocumentRecord>> {
    let row = sqlx::query(&format!("{SELECT} WHERE d.sha256 = $1"))
        .bind(sha256)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let mut d = decode(&row)?;
    link_assets(conn, &mut [&mut d]).await?;
    Ok(Some(d))
}

/// Writes the metadata half of the full-text row (title, reference); the body stays.
async fn index_meta(conn: &mut AnyConnection, id: i64, m: &DocMeta) -> Result<()> {
    sqlx::query("UPDATE documents_fts SET title = $1, reference = $2 WHERE rowid = $3")
        .bind(clean_text(&m.title))
        .bind(fold(m.reference.as_deref().unwrap_or("")))
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

async fn write_links(conn: &mut AnyConnection, id: i64, assets: &[AssetId]) -> Result<()> {
    sqlx::query("DELETE FROM document_assets WHERE document_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    for a in assets {
        sqlx::query("INSERT INTO document_assets (document_id, asset_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(id)
            .bind(a.0)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

async fn write_version(
    conn: &mut AnyConnection,
    r: &DocumentRecord,
    at: &str,
    actor: &str,
    action: &str,
    note: Option<&str>,
    audit_seq: Option<i64>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO document_versions (document_id, version, at, actor, action, note, audit_seq, record) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(r.id)
    .bind(r.version)
    .bind(at)
    .bind(actor)
    .bind(action)
    .bind(note)
    .bind(audit_seq)
    .bind(version_record(r).to_string())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Inserts one new document (its record, links, index row and queued text job); its
/// first version is written by the caller, after the audit entry. `None` if these bytes
/// are already on record.
pub(super) async fn insert(
    conn: &mut AnyConnection,
    d: &NewDocument,
    now: &str,
) -> Result<Option<DocumentRecord>> {
    let m = &d.meta;
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO documents (sha256, title, kind, reference, issuer, issued_on, valid_until, language, ward, \
         public, media_type, size, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
         ON CONFLICT(sha256) DO NOTHING RETURNING id",
    )
    .bind(&d.sha256)
    .bind(&m.title)
    .bind(m.kind.as_str())
    .bind(&m.reference)
    .bind(&m.issuer)
    .bind(&m.issued_on)
    .bind(&m.valid_until)
    .bind(&m.language)
    .bind(m.ward)
    .bind(i64::from(m.public))
    .bind(&d.media_type)
    .bind(d.size)
    .bind(now)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(id) = id else { return Ok(None) };
    write_links(conn, id, &m.assets).await?;
    sqlx::query(
        "INSERT INTO documents_fts (rowid, title, reference, body) VALUES ($1, $2, $3, '')",
    )
    .bind(id)
    .bind(clean_text(&m.title))
    .bind(fold(m.reference.as_deref().unwrap_or("")))
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO document_text (document_id, state, queued_at, updated_at) VALUES ($1, 'queued', $2, $3)",
    )
    .bind(id)
    .bind(now)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    let r = fetch(conn, &d.sha256)
        .await?
        .ok_or_else(|| corrupt(id, "vanished after insert".into()))?;
    Ok(Some(r))
}

/// Writes a new document's first version.
pub(super) async fn first_version(
    conn: &mut AnyConnection,
    r: &DocumentRecord,
    now: &str,
    actor: &str,
    note: Option<&str>,
) -> Result<()> {
    write_version(conn, r, now, actor, "document.add", note, None).await
}

impl Store {
    /// Puts a document on record, with its audit entry. `None` if these bytes already are.
    pub async fn add_document(
        &self,
        d: &NewDocument,
        now: &str,
        log: &AuditEntry,
    ) -> Result<Option<DocumentRecord>> {
        let mut tx = self.write_tx(&self.durable).await?;
        // The audit entry comes after the first write (see audit.rs): insert, then log.
        let Some(r) = insert(&mut tx, d, now).await? else {
            return Ok(None);
        };
        let seq = audit::append(&mut tx, log, now).await?;
        write_version(
            &mut tx,
            &r,
            now,
            &log.actor,
            "document.add",
            None,
            Some(seq),
        )
        .await?;
        tx.commit().await?;
        Ok(Some(r))
    }

    /// Puts many documents on record in one transaction with one audit entry naming them
    /// all (bulk digitisation). Returns, per document, whether it was new.
    pub async fn add_documents(
        &self,
        docs: &[NewDocument],
        now: &str,
        log: &AuditEntry,
    ) -> Result<Vec<bool>> {
        let mut tx = self.write_tx(&self.durable).await?;
        let mut added = Vec::with_capacity(docs.len());
        for d in docs {
            added.push(insert(&mut tx, d, now).await?);
        }
        let new: Vec<&DocumentRecord> = added.iter().flatten().collect();
        if !new.is_empty() {
            let mut log = log.clone();
            log.detail["sha256"] = new.iter().map(|r| r.sha256.as_str()).collect();
            let seq = audit::append(&mut tx, &log, now).await?;
            for r in new {
                write_version(&mut tx, r, now, &log.actor, "document.add", None, Some(seq)).await?;
            }
        }
        tx.commit().await?;
        Ok(added.iter().map(Option::is_some).collect())
    }

    /// The record of a document, public or not.
    pub async fn document(&self, sha256: &str) -> Result<Option<DocumentRecord>> {
        let mut conn = self.pool.acquire().await?;
        fetch(&mut conn, sha256).await
    }

    /// The documents concerning an asset, newest first; private ones only if asked.
    pub async fn documents_of(&self, asset: AssetId, private: bool) -> Result<Vec<DocumentRecord>> {
        let q = DocQuery {
            asset: Some(asset),
            include_private: private,
            limit: 500,
            ..DocQuery::default()
        };
        Ok(self
            .search_documents(&q)
            .await?
            .0
            .into_iter()
            .map(|h| h.record)
            .collect())
    }

    /// Changes a record (metadata, links, status) if it is still at `expected` (when
    /// given): writes the next version, the index and the audit entry together.
    #[allow(clippy::too_many_arguments)]
    pub async fn change_document(
        &self,
        sha256: &str,
        expected: Option<i64>,
        meta: &DocMeta,
        state: &DocState,
        note: Option<&str>,
        now: &str,
        log: &AuditEntry,
    ) -> Result<DocEdit> {
        let mut tx = self.write_tx(&self.durable).await?;
        let Some(cur) = fetch(&mut tx, sha256).await? else {
            return Ok(DocEdit::Missing);
        };
        if expected.is_some_and(|v| v != cur.version) {
            return Ok(DocEdit::Stale(Box::new(cur)));
        }
        let m = meta;
        sqlx::query(
            "UPDATE documents SET title = $1, kind = $2, reference = $3, issuer = $4, issued_on = $5, valid_until = $6, \
             language = $7, ward = $8, public = $9, status = $10, status_reason = $11, superseded_by = $12, \
             version = version + 1, updated_at = $13 WHERE id = $14",
        )
        .bind(&m.title)
        .bind(m.kind.as_str())
        .bind(&m.reference)
        .bind(&m.issuer)
        .bind(&m.issued_on)
        .bind(&m.valid_until)
        .bind(&m.language)
        .bind(m.ward)
        .bind(i64::from(m.public))
        .bind(state.status.as_str())
        .bind(&state.status_reason)
        .bind(&state.superseded_by)
        .bind(now)
        .bind(cur.id)
        .execute(&mut *tx)
        .await?;
        write_links(&mut tx, cur.id, &m.assets).await?;
        index_meta(&mut tx, cur.id, m).await?;
        let seq = audit::append(&mut tx, log, now).await?;
        let new = fetch(&mut tx, sha256)
            .await?
            .ok_or_else(|| corrupt(cur.id, "vanished during a change".into()))?;
        write_version(&mut tx, &new, now, &log.actor, &log.action, note, Some(seq)).await?;
        tx.commit().await?;
        Ok(DocEdit::Written(Box::new(new)))
    }

    /// Every version of a document's record, oldest first.
    pub async fn document_versions(&self, id: i64) -> Result<Vec<DocVersion>> {
        let rows = sqlx::query(
            "SELECT version, at, actor, action, note, audit_seq, record FROM document_versions \
             WHERE document_id = $1 ORDER BY version",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let record: String = r.try_get("record")?;
                Ok(DocVersion {
                    version: r.try_get("version")?,
                    at: r.try_get("at")?,
                    actor: r.try_get("actor")?,
                    action: r.try_get("action")?,
                    note: r.try_get("note")?,
                    audit_seq: r.try_get("audit_seq")?,
                    record: serde_json::from_str(&record)
                        .map_err(|e| corrupt(id, format!("version record: {e}")))?,
                })
            })
            .collect()
    }

    /// Documents by words and metadata: ranked by relevance for a text search, else newest
    /// issued first. Returns the page and how many match in all.
    pub async fn search_documents(&self, q: &DocQuery) -> Result<(Vec<DocHit>, i64)> {
        let mut conn = self.pool.acquire().await?;
        // First the page: ids and scores. Records and snippets are read for that page
        // only: a snippet in the ranked query would be made for every match before the
        // sort (100,000 for a common word). The count is a query of its own: as a window
        // over the ranked rows it cost more than the two (183 ms against 109 + 4 for a
        // word in 99,542 of 100,062 documents). CROSS JOIN keeps the index's matches the
        // outer loop: left to itself, SQLite walked every `order` and asked the index about
        // each (`q=heritage&type=order` counted in 580 ms; 24 ms this way).
        let text = q.fts.is_some();
        let pg = self.backend == super::Backend::Postgres;
        let (mut qb, mut count) = match (&q.fts, pg) {
            (Some(_), false) => (
                Sql::new(
                    "SELECT d.id, bm25(documents_fts, 10.0, 8.0, 1.0) AS score \
                     FROM documents_fts CROSS JOIN documents d ON d.id = documents_fts.rowid",
                ),
                Sql::new(
                    "SELECT count(*) FROM documents_fts \
                     CROSS JOIN documents d ON d.id = documents_fts.rowid",
                ),
            ),
            // ts_rank's weights are {D, C, B, A}: body C, reference B, title A, as bm25's
            // 1, 8 and 10; negated, as bm25's score, so that lower is better.
            (Some(f), true) => {
                let mut qb = Sql::new(
                    "SELECT d.id, CAST(-ts_rank('{0, 0.1, 0.8, 1.0}', documents_fts.tsv, \
                     to_tsquery('atlas_text', ",
                );
                qb.push_bind(f.tsquery.clone()).push(
                    ")) AS DOUBLE PRECISION) AS score \
                     FROM documents_fts JOIN documents d ON d.id = documents_fts.rowid",
                );
                (
                    qb,
                    Sql::new(
                        "SELECT count(*) FROM documents_fts \
                         JOIN documents d ON d.id = documents_fts.rowid",
                    ),
                )
            }
            (None, _) => (
                Sql::new("SELECT d.id, CAST(NULL AS DOUBLE PRECISION) AS score FROM documents d"),
                Sql::new("SELECT count(*) FROM documents d"),
            ),
        };
        for b in [&mut qb, &mut count] {
            b.push(" WHERE 1 = 1");
            match &q.fts {
                Some(f) if pg => {
                    b.push(" AND documents_fts.tsv @@ to_tsquery('atlas_text', ")
                        .push_bind(f.tsquery.clone())
                        .push(")");
                }
                Some(f) => {
                    b.push(" AND documents_fts MATCH ")
                        .push_bind(f.expr.clone());
                }
                None => {}
            }
            if !q.include_private {
                b.push(" AND d.public = 1");
            }
            if let Some(k) = q.kind {
                b.push(" AND d.kind = ").push_bind(k.as_str());
            }
            if let Some(s) = q.status {
                b.push(" AND d.status = ").push_bind(s.as_str());
            }
            if let Some(l) = &q.language {
                b.push(" AND d.language = ").push_bind(l.clone());
            }
            if let Some(a) = q.asset {
                b.push(" AND d.id IN (SELECT document_id FROM document_assets WHERE asset_id = ")
                    .push_bind(a.0)
                    .push(")");
            }
            if let Some(w) = q.ward {
                b.push(" AND (d.ward = ")
                    .push_bind(w)
                    .push(
                        " OR d.id IN (SELECT da.document_id FROM document_assets da \
                         JOIN assets a ON a.id = da.asset_id WHERE a.ward = ",
                    )
                    .push_bind(w)
                    .push("))");
            }
            if let Some(f) = &q.from {
                b.push(" AND d.issued_on >= ").push_bind(f.clone());
            }
            if let Some(t) = &q.to {
                b.push(" AND d.issued_on <= ").push_bind(t.clone());
            }
        }
        qb.push(if text {
            " ORDER BY score, d.id DESC"
        } else {
            " ORDER BY d.issued_on IS NULL, d.issued_on DESC, d.id DESC"
        });
        qb.push(" LIMIT ")
            .push_bind(q.limit)
            .push(" OFFSET ")
            .push_bind(q.offset);
        let page: Vec<(i64, Option<f64>)> = qb.build_query_as().fetch_all(&mut *conn).await?;
        let total: i64 = count.build_query_scalar().fetch_one(&mut *conn).await?;
        // The page's records in one query, put back in the page's order.
        let mut records = std::collections::HashMap::with_capacity(page.len());
        if !page.is_empty() {
            let mut rq = Sql::new(format!("{SELECT} WHERE d.id IN ("));
            let mut ids = rq.separated(", ");
            for (id, _) in &page {
                ids.push_bind(*id);
            }
            rq.push(")");
            for row in rq.build().fetch_all(&mut *conn).await? {
                let r = decode(&row)?;
                records.insert(r.id, r);
            }
        }
        let mut hits = Vec::with_capacity(page.len());
        for (id, score) in &page {
            let Some(record) = records.remove(id) else {
                continue;
            };
            let snippet = match &q.fts {
                Some(f) => {
                    let (sql, words) = if pg {
                        (
                            "SELECT ts_headline('atlas_text', \
                               concat_ws(' ', title, reference, body), \
                               to_tsquery('atlas_text', $1), \
                               'StartSel=' || chr(2) || ', StopSel=' || chr(3) || \
                               ', MaxWords=24, MinWords=8, MaxFragments=1, FragmentDelimiter=…') \
                             FROM documents_fts \
                             WHERE tsv @@ to_tsquery('atlas_text', $1) AND rowid = $2",
                            &f.tsquery,
                        )
                    } else {
                        (
                            "SELECT snippet(documents_fts, -1, char(2), char(3), '…', 24) \
                             FROM documents_fts WHERE documents_fts MATCH $1 AND rowid = $2",
                            &f.expr,
                        )
                    };
                    sqlx::query_scalar::<_, Option<String>>(sql)
                        .bind(words)
                        .bind(id)
                        .fetch_optional(&mut *conn)
                        .await?
                        .flatten()
                        .filter(|s| s.contains(HIT_START) && s.contains(HIT_END))
                }
                None => None,
            };
            hits.push(DocHit {
                record,
                snippet,
                score: *score,
            });
        }
        let mut refs: Vec<&mut DocumentRecord> = hits.iter_mut().map(|h| &mut h.record).collect();
        link_assets(&mut conn, &mut refs).await?;
        Ok((hits, total))
    }

    /// Queues again the text jobs a stop cut short: at start (`at_start`), those this
    /// server's last run left under its name ([`Store::named`]) or that predate names; at
    /// any time, those untouched past [`super::STALE_CLAIM`]. Jobs another replica is
    /// reading are left alone.
    pub async fn requeue_text_jobs(&self, now: &str, at_start: bool) -> Result<u64> {
        let cut_short = super::cut_short(at_start);
        let sql = format!(
            "UPDATE document_text SET state = 'queued', updated_at = $1 \
             WHERE state = 'running' AND {cut_short}"
        );
        let mut q = sqlx::query(&sql).bind(now).bind(super::stale_before());
        if at_start {
            q = q.bind(self.worker());
        }
        Ok(q.execute(&self.durable).await?.rows_affected())
    }

    /// At a clean stop: the text jobs this server is reading go back to the queue, for
    /// whichever server or `documents extract` comes next (a reader stopped mid-way
    /// records nothing: the job is read again whole).
    pub async fn release_text_jobs(&self, now: &str) -> Result<u64> {
        let r = sqlx::query(
            "UPDATE document_text SET state = 'queued', updated_at = $1 \
             WHERE state = 'running' AND claimed_by = $2",
        )
        .bind(now)
        .bind(self.worker())
        .execute(&self.durable)
        .await?;
        Ok(r.rows_affected())
    }

    /// Claims the oldest queued text job that is due, if any.
    pub async fn claim_text_job(&self, now: &str) -> Result<Option<TextJob>> {
        let row = sqlx::query(
            "UPDATE document_text SET state = 'running', attempts = attempts + 1, pages_done = 0, updated_at = $1, \
             claimed_by = $3 \
             WHERE document_id = (SELECT document_id FROM document_text WHERE state = 'queued' \
               AND (not_before IS NULL OR not_before <= $2) ORDER BY document_id LIMIT 1) \
             RETURNING document_id, attempts",
        )
        .bind(now)
        .bind(now)
        .bind(self.worker())
        .fetch_optional(&self.durable)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let id: i64 = row.try_get(0)?;
        let (sha256, media_type, language): (String, String, Option<String>) =
            sqlx::query_as("SELECT sha256, media_type, language FROM documents WHERE id = $1")
                .bind(id)
                .fetch_one(&self.pool)
                .await?;
        Ok(Some(TextJob {
            document_id: id,
            sha256,
            media_type,
            language,
            attempts: row.try_get(1)?,
        }))
    }

    /// A running job's progress (not durable: a restart runs the job again anyway).
    pub async fn text_progress(
        &self,
        id: i64,
        pages_done: i64,
        pages: i64,
        now: &str,
    ) -> Result<()> {
        sqlx::query("UPDATE document_text SET pages_done = $1, pages = $2, updated_at = $3 WHERE document_id = $4 AND state = 'running'")
            .bind(pages_done)
            .bind(pages)
            .bind(now)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// A job's text, into the index, and the job done.
    pub async fn finish_text_job(
        &self,
        id: i64,
        source: TextSource,
        pages: i64,
        text: &str,
        now: &str,
    ) -> Result<()> {
        let mut tx = self.write_tx(&self.durable).await?;
        sqlx::query("UPDATE documents_fts SET body = $1 WHERE rowid = $2")
            .bind(clean_text(text))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE document_text SET state = 'done', source = $1, pages = $2, pages_done = $3, error = NULL, \
             not_before = NULL, updated_at = $4 WHERE document_id = $5",
        )
        .bind(source.as_str())
        .bind(pages)
        .bind(pages)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A failed attempt: queued again after `retry_at`, or failed for good (`None`).
    pub async fn fail_text_job(
        &self,
        id: i64,
        error: &str,
        retry_at: Option<&str>,
        now: &str,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE document_text SET state = $1, error = $2, not_before = $3, updated_at = $4 WHERE document_id = $5",
        )
        .bind(if retry_at.is_some() { "queued" } else { "failed" })
        .bind(error)
        .bind(retry_at)
        .bind(now)
        .bind(id)
        .execute(&self.durable)
        .await?;
        Ok(())
    }

    /// Text jobs by state.
    pub async fn text_job_counts(&self) -> Result<Vec<(String, i64)>> {
        Ok(sqlx::query_as(
            "SELECT state, count(*) FROM document_text GROUP BY state ORDER BY state",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// The text of a document as indexed (folded).
    pub async fn document_text(&self, id: i64) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT body FROM documents_fts WHERE rowid = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }
}
