//! Moderation of complaints (pieces held, hidden, reviewed), flags from the public, and
//! reporters' opt-outs. Every write is one `synchronous=FULL` transaction; a moderation
//! decision writes its audit entry in the same one.

use sqlx::Row;

use super::Sql;

use super::{AuditEntry, Result, Store};
use crate::model::{ComplaintItem, ModState};

/// A moderation decision on one piece of a complaint.
#[derive(Debug, Clone)]
pub struct Decision {
    pub complaint_id: i64,
    pub item: ComplaintItem,
    pub state: ModState,
    pub reason: Option<String>,
    pub actor: i64,
    pub at: String,
}

/// Which pieces the moderation queue lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueState {
    /// Held photos, and pieces flagged since their last review.
    Open,
    /// Pieces taken out of public view.
    Hidden,
}

/// A piece of a complaint waiting for (or past) moderation, as staff see it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct QueueItem {
    pub ticket: String,
    pub item: String,
    /// `held`, `hidden`, `shown`, or `None`: flagged, never reviewed.
    pub state: Option<ModState>,
    pub reason: Option<String>,
    pub reviewed_at: Option<String>,
    /// Flags since the last review.
    pub open_flags: i64,
    pub last_flag_at: Option<String>,
    /// What the flaggers said (the latest few).
    pub flag_reasons: Vec<String>,
    /// The text in question (description or note); photos are named by `item`.
    pub content: Option<String>,
}

impl Store {
    /// Records a moderation decision and its audit entry in one transaction.
    pub async fn moderate(&self, d: &Decision, log: &AuditEntry) -> Result<()> {
        let mut tx = self.write_tx(&self.durable).await?;
        sqlx::query(
            "INSERT INTO complaint_moderation (complaint_id, item, state, reason, at, actor) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (complaint_id, item) DO UPDATE SET state = $3, reason = $4, at = $5, actor = $6",
        )
        .bind(d.complaint_id)
        .bind(d.item.to_string())
        .bind(d.state.as_str())
        .bind(&d.reason)
        .bind(&d.at)
        .bind(d.actor)
        .execute(&mut *tx)
        .await?;
        super::audit::append(&mut tx, log, &d.at).await?;
        tx.commit().await?;
        Ok(())
    }

    /// One client's flag on a piece; false if this client had flagged it already.
    pub async fn flag(
        &self,
        complaint_id: i64,
        item: &ComplaintItem,
        client: &str,
        reason: Option<&str>,
        at: &str,
    ) -> Result<bool> {
        let r = sqlx::query(
            "INSERT INTO complaint_flags (complaint_id, item, client, reason, at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(complaint_id)
        .bind(item.to_string())
        .bind(client)
        .bind(reason)
        .bind(at)
        .execute(&self.durable)
        .await?;
        Ok(r.rows_affected() > 0)
    }

    /// The moderation queue, latest flag first.
    pub async fn moderation_queue(&self, state: QueueState, limit: i64) -> Result<Vec<QueueItem>> {
        let pieces = match state {
            QueueState::Open => {
                "SELECT complaint_id, item FROM complaint_flags \
                 UNION SELECT complaint_id, item FROM complaint_moderation WHERE state = 'held'"
            }
            QueueState::Hidden => {
                "SELECT complaint_id, item FROM complaint_moderation WHERE state = 'hidden'"
            }
        };
        let keep = match state {
            QueueState::Open => "state = 'held' OR open_flags > 0",
            QueueState::Hidden => "1 = 1",
        };
        let sql = format!(
            "SELECT * FROM (SELECT c.ticket, q.complaint_id, q.item, m.state, m.reason, m.at AS reviewed_at, \
               (SELECT COUNT(*) FROM complaint_flags f WHERE f.complaint_id = q.complaint_id \
                  AND f.item = q.item AND f.at > COALESCE(m.at, '')) AS open_flags, \
               (SELECT MAX(f.at) FROM complaint_flags f WHERE f.complaint_id = q.complaint_id \
                  AND f.item = q.item) AS last_flag_at, \
               CASE WHEN q.item = 'description' THEN c.description \
                    WHEN q.item LIKE 'note:%' THEN (SELECT e.note FROM complaint_events e \
                      WHERE e.complaint_id = q.complaint_id \
                      AND e.id = CAST(substr(q.item, 6) AS BIGINT)) END AS content \
             FROM ({pieces}) q JOIN complaints c ON c.id = q.complaint_id \
             LEFT JOIN complaint_moderation m ON m.complaint_id = q.complaint_id AND m.item = q.item) AS r \
             WHERE {keep} ORDER BY COALESCE(last_flag_at, reviewed_at) DESC LIMIT $1"
        );
        let rows = sqlx::query(&sql).bind(limit).fetch_all(&self.pool).await?;
        let mut out = Vec::with_capacity(rows.len());
        let mut keys = Vec::with_capacity(rows.len());
        for r in &rows {
            let state: Option<String> = r.try_get("state")?;
            keys.push((
                r.try_get::<i64, _>("complaint_id")?,
                r.try_get::<String, _>("item")?,
            ));
            out.push(QueueItem {
                ticket: r.try_get("ticket")?,
                item: r.try_get("item")?,
                state: state.and_then(|s| s.parse().ok()),
                reason: r.try_get("reason")?,
                reviewed_at: r.try_get("reviewed_at")?,
                open_flags: r.try_get("open_flags")?,
                last_flag_at: r.try_get("last_flag_at")?,
                flag_reasons: Vec::new(),
                content: r.try_get("content")?,
            });
        }
        if out.is_empty() {
            return Ok(out);
        }
        // What the flaggers said, for every listed piece in one query.
        let mut q = Sql::new(
            "SELECT complaint_id, item, reason FROM complaint_flags \
             WHERE reason IS NOT NULL AND complaint_id IN (",
        );
        let mut sep = q.separated(", ");
        for (id, _) in &keys {
            sep.push_bind(*id);
        }
        q.push(") ORDER BY id DESC");
        for r in q.build().fetch_all(&self.pool).await? {
            let key = (
                r.try_get::<i64, _>("complaint_id")?,
                r.try_get::<String, _>("item")?,
            );
            if let Some(i) = keys.iter().position(|k| *k == key) {
                if out[i].flag_reasons.len() < 5 {
                    out[i].flag_reasons.push(r.try_get("reason")?);
                }
            }
        }
        Ok(out)
    }

    /// The reporter wants no more messages about this complaint: messages not yet sent
    /// are cancelled with it. False if they had opted out already.
    pub async fn opt_out(&self, complaint_id: i64, at: &str) -> Result<bool> {
        let mut tx = self.write_tx(&self.durable).await?;
        let r = sqlx::query(
            "UPDATE complaints SET notify_opt_out_at = $1 WHERE id = $2 AND notify_opt_out_at IS NULL",
        )
        .bind(at)
        .bind(complaint_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE notifications SET state = 'cancelled', updated_at = $1, \
             last_error = 'the reporter opted out' WHERE complaint_id = $2 AND state = 'pending'",
        )
        .bind(at)
        .bind(complaint_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(r.rows_affected() > 0)
    }
}
