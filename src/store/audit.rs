//! The append-only audit log, chained by SHA-256: each entry's hash covers its own fields
//! and the previous entry's hash. Entries are appended inside the transaction of the
//! change they record, after its first write (so the transaction already holds SQLite's
//! write lock and reads the true last entry).

use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};

use super::{Result, Store, StoreError};

/// The hash before the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A change to record.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    /// Who: a staff member's name.
    pub actor: String,
    pub role: Option<String>,
    /// What: `inspection.add`, `maintenance.add`, `document.add`, `complaint.resolve` …
    pub action: String,
    /// Of what: an asset code or a complaint ticket.
    pub subject: String,
    /// Whether the public audit trail shows it (a private document's upload does not).
    pub public: bool,
    pub detail: Value,
}

/// An entry as stored.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditRecord {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub role: Option<String>,
    pub action: String,
    pub subject: String,
    pub public: bool,
    pub detail: Value,
    pub prev_hash: String,
    pub hash: String,
}

/// The result of re-computing the chain.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditCheck {
    pub ok: bool,
    pub entries: i64,
    /// The last entry's hash: publish it, and any later rewrite of history shows.
    pub head: String,
    /// The first entry whose hash or link does not hold.
    pub broken_at: Option<i64>,
}

/// The hash of an entry: SHA-256 over a JSON array of its fields, `detail` as stored.
#[allow(clippy::too_many_arguments)]
pub fn entry_hash(
    seq: i64,
    at: &str,
    actor: &str,
    role: Option<&str>,
    action: &str,
    subject: &str,
    public: bool,
    detail: &str,
    prev_hash: &str,
) -> String {
    let canonical =
        serde_json::json!([seq, at, actor, role, action, subject, public, detail, prev_hash])
            .to_string();
    Sha256::digest(canonical.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Compact JSON with every object's keys sorted, so anyone can write the same text from
/// the same value (serde_json here keeps insertion order).
pub fn canonical(v: &Value) -> String {
    fn sorted(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                Value::Object(
                    keys.into_iter()
                        .map(|k| (k.clone(), sorted(&m[k])))
                        .collect(),
                )
            }
            Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    sorted(v).to_string()
}

/// Appends an entry on `conn` (inside the caller's transaction); returns its `seq`.
pub(super) async fn append(conn: &mut AnyConnection, e: &AuditEntry, at: &str) -> Result<i64> {
    let last: Option<(i64, String)> =
        sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *conn)
            .await?;
    let (seq, prev) = match last {
        Some((s, h)) => (s + 1, h),
        None => (1, GENESIS.to_string()),
    };
    let detail = canonical(&e.detail);
    let hash = entry_hash(
        seq,
        at,
        &e.actor,
        e.role.as_deref(),
        &e.action,
        &e.subject,
        e.public,
        &detail,
        &prev,
    );
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor, role, action, subject, public, detail, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(seq)
    .bind(at)
    .bind(&e.actor)
    .bind(&e.role)
    .bind(&e.action)
    .bind(&e.subject)
    .bind(i64::from(e.public))
    .bind(&detail)
    .bind(&prev)
    .bind(&hash)
    .execute(&mut *conn)
    .await?;
    Ok(seq)
}

fn decode(r: &sqlx::any::AnyRow) -> Result<AuditRecord> {
    let seq: i64 = r.try_get("seq")?;
    let detail: String = r.try_get("detail")?;
    Ok(AuditRecord {
        seq,
        at: r.try_get("at")?,
        actor: r.try_get("actor")?,
        role: r.try_get("role")?,
        action: r.try_get("action")?,
        subject: r.try_get("subject")?,
        public: r.try_get::<i64, _>("public")? != 0,
        // Always written as canonical JSON: text that is not JSON was put there by hand.
        detail: serde_json::from_str(&detail).map_err(|e| StoreError::Corrupt {
            table: "audit entry",
            id: seq,
            what: format!("detail: {e}"),
        })?,
        prev_hash: r.try_get("prev_hash")?,
        hash: r.try_get("hash")?,
    })
}

impl Store {
    /// Entries after `after`, oldest first, optionally of one subject; public ones only
    /// unless `all`.
    pub async fn audit(
        &self,
        subject: Option<&str>,
        after: i64,
        limit: i64,
        all: bool,
    ) -> Result<Vec<AuditRecord>> {
        let rows = sqlx::query(
            "SELECT * FROM audit_log WHERE seq > $1 AND ($2 IS NULL OR subject = $3) AND ($4 OR public = 1) \
             ORDER BY seq LIMIT $5",
        )
        .bind(after)
        .bind(subject)
        .bind(subject)
        .bind(all)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut out = rows.iter().map(decode).collect::<Result<Vec<_>>>()?;
        if !all {
            self.redact_hidden_notes(&mut out).await?;
        }
        Ok(out)
    }

    /// Entries written before notes were chained by hash carry a complaint note's text;
    /// where moderation has since hidden that note, the public listing shows the removal
    /// notice instead (marked `redacted`: the entry's hash is then checked by
    /// `/audit/verify`, not by the reader).
    async fn redact_hidden_notes(&self, entries: &mut [AuditRecord]) -> Result<()> {
        let with_note: Vec<usize> = (0..entries.len())
            .filter(|&i| {
                entries[i].action.starts_with("complaint.")
                    && entries[i].detail.get("note").is_some_and(Value::is_string)
            })
            .collect();
        if with_note.is_empty() {
            return Ok(());
        }
        let mut q = super::Sql::new(
            "SELECT c.ticket, e.note, m.reason FROM complaint_moderation m \
             JOIN complaints c ON c.id = m.complaint_id \
             JOIN complaint_events e ON e.complaint_id = m.complaint_id \
               AND m.item = 'note:' || e.id \
             WHERE m.state = 'hidden' AND c.ticket IN (",
        );
        let mut sep = q.separated(", ");
        for &i in &with_note {
            sep.push_bind(entries[i].subject.clone());
        }
        q.push(")");
        let hidden: Vec<(String, Option<String>, Option<String>)> =
            q.build_query_as().fetch_all(&self.pool).await?;
        for &i in &with_note {
            let e = &mut entries[i];
            let note = e.detail["note"].as_str().map(str::to_string);
            if let Some((_, _, reason)) = hidden
                .iter()
                .find(|(t, n, _)| *t == e.subject && *n == note)
            {
                e.detail["note"] = Value::String(crate::model::removed_text(reason.as_deref()));
                e.detail["redacted"] = Value::Bool(true);
            }
        }
        Ok(())
    }

    /// Re-computes every hash and link of the chain, in order.
    pub async fn verify_audit(&self) -> Result<AuditCheck> {
        use futures_util::TryStreamExt;
        let mut rows = sqlx::query(
            "SELECT seq, at, actor, role, action, subject, public, detail, prev_hash, hash FROM audit_log ORDER BY seq",
        )
        .fetch(&self.pool);
        let mut prev = GENESIS.to_string();
        let mut expected_seq = 1;
        let mut entries = 0;
        let mut broken_at = None;
        while let Some(r) = rows.try_next().await? {
            let seq: i64 = r.get("seq");
            let stored: String = r.get("hash");
            let link: String = r.get("prev_hash");
            let role: Option<String> = r.get("role");
            let computed = entry_hash(
                seq,
                r.get("at"),
                r.get("actor"),
                role.as_deref(),
                r.get("action"),
                r.get("subject"),
                r.get::<i64, _>("public") != 0,
                r.get("detail"),
                &prev,
            );
            entries += 1;
            if broken_at.is_none() && (seq != expected_seq || link != prev || computed != stored) {
                broken_at = Some(seq);
            }
            expected_seq = seq + 1;
            prev = stored;
        }
        Ok(AuditCheck {
            ok: broken_at.is_none(),
            entries,
            head: prev,
            broken_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn detail_that_is_not_json_is_an_error_not_a_string() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("audit.db").to_str().unwrap())
            .await
            .unwrap();
        // Entries are never updated (triggers refuse it): a bad one can only be written
        // by hand, as here.
        let detail = "{\"condition\": \"poor\"";
        let hash = entry_hash(
            1,
            "2026-01-01T00:00:00Z",
            "x",
            None,
            "inspection.add",
            "HER-0001",
            true,
            detail,
            GENESIS,
        );
        sqlx::query(
            "INSERT INTO audit_log (seq, at, actor, role, action, subject, public, detail, prev_hash, hash) \
             VALUES (1, '2026-01-01T00:00:00Z', 'x', NULL, 'inspection.add', 'HER-0001', 1, $1, $2, $3)",
        )
        .bind(detail)
        .bind(GENESIS)
        .bind(&hash)
        .execute(&store.pool)
        .await
        .unwrap();
        let e = store.audit(None, 0, 10, true).await.unwrap_err();
        assert!(
            e.to_string()
                .starts_with("stored value of audit entry 1 is invalid: detail: "),
            "{e}"
        );
        // The chain itself still verifies: the hash covers the text as stored.
        assert!(store.verify_audit().await.unwrap().ok);
    }
}
