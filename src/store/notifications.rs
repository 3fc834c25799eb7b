//! The outbox of messages to reporters. Rows are written with the step they tell of
//! ([`Store::update_complaint`]); here the worker claims them, marks the point of no
//! return, and records how each ended. A mark applies only from the state the worker
//! last saw: two workers never both own a row.
//!
//! Only the mark of the point of no return (`committing`) must survive a power cut, and
//! is a `synchronous=FULL` commit. Every other mark may be lost with the last moments
//! before one and nothing is sent twice: a claim lost leaves the row pending (nothing had
//! left), a `sent` lost leaves it `committing`, read as uncertain at start. Those go
//! through the `synchronous=NORMAL` pool (WAL: in order, and kept through a crash of the
//! process), one fsync per message instead of three.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::Sql;

use super::{Result, Store};

/// A claimed row: owned by the worker that claimed it until it is marked.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: i64,
    pub complaint_id: i64,
    pub event_id: i64,
    pub channel: String,
    /// This attempt's number (1 for the first).
    pub attempts: i64,
}

/// A row of the outbox as staff see it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Notification {
    pub id: i64,
    pub ticket: String,
    pub event_id: i64,
    pub action: String,
    pub channel: String,
    pub state: String,
    pub attempts: i64,
    pub not_before: String,
    pub last_error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub sent_at: Option<String>,
}

/// The outbox's states.
pub const NOTIFICATION_STATES: [&str; 7] = [
    "pending",
    "sending",
    "committing",
    "sent",
    "failed",
    "uncertain",
    "cancelled",
];

/// An outbox row with its ticket and the step it tells of.
const OUTBOX_ROWS: &str = "SELECT n.*, c.ticket, e.action FROM notifications n \
    JOIN complaints c ON c.id = n.complaint_id JOIN complaint_events e ON e.id = n.event_id";

fn decode(r: &AnyRow) -> Result<Notification> {
    Ok(Notification {
        id: r.try_get("id")?,
        ticket: r.try_get("ticket")?,
        event_id: r.try_get("event_id")?,
        action: r.try_get("action")?,
        channel: r.try_get("channel")?,
        state: r.try_get("state")?,
        attempts: r.try_get("attempts")?,
        not_before: r.try_get("not_before")?,
        last_error: r.try_get("last_error")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        sent_at: r.try_get("sent_at")?,
    })
}

impl Store {
    /// Claims the next message due at `now` (pending → sending), if any. A message waits
    /// while an earlier one to the same reporter on the same channel is still on its way
    /// (pending, being sent or being marked), so a reporter reads "work has started"
    /// before "resolved" even with many workers sending at once.
    pub async fn claim_notification(&self, now: &str) -> Result<Option<Claimed>> {
        let row = sqlx::query(
            "UPDATE notifications SET state = 'sending', attempts = attempts + 1, updated_at = $1, \
             claimed_by = $2 \
             WHERE id = (SELECT n.id FROM notifications n \
                         WHERE n.state = 'pending' AND n.not_before <= $1 \
                           AND NOT EXISTS (SELECT 1 FROM notifications e \
                                WHERE e.complaint_id = n.complaint_id AND e.channel = n.channel \
                                  AND e.id < n.id \
                                  AND e.state IN ('pending', 'sending', 'committing')) \
                         ORDER BY n.not_before, n.id LIMIT 1) AND state = 'pending' \
             RETURNING id, complaint_id, event_id, channel, attempts",
        )
        .bind(now)
        .bind(self.worker())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(Claimed {
                id: r.try_get("id")?,
                complaint_id: r.try_get("complaint_id")?,
                event_id: r.try_get("event_id")?,
                channel: r.try_get("channel")?,
                attempts: r.try_get("attempts")?,
            })
        })
        .transpose()
    }

    /// Moves a row from `from` to `to`, recording `error` and, when it goes back to
    /// pending, when to try again. False if the row was not in `from` (someone else
    /// moved it). Durable (`synchronous=FULL`) only for `committing` (see the module doc).
    pub async fn mark_notification(
        &self,
        id: i64,
        from: &str,
        to: &str,
        at: &str,
        not_before: Option<&str>,
        error: Option<&str>,
    ) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE notifications SET state = $3, updated_at = $4, \
             not_before = COALESCE($5, not_before), last_error = COALESCE($6, last_error), \
             sent_at = CASE WHEN $3 = 'sent' THEN $4 ELSE sent_at END \
             WHERE id = $1 AND state = $2",
        )
        .bind(id)
        .bind(from)
        .bind(to)
        .bind(at)
        .bind(not_before)
        .bind(error)
        .execute(if to == "committing" {
            &self.durable
        } else {
            &self.pool
        })
        .await?;
        Ok(r.rows_affected() > 0)
    }

    /// Marks claimed rows as past the point of no return (sending → committing), all in
    /// one `synchronous=FULL` transaction: the workers' marks that arrive together share
    /// one fsync. Returns the ids that were still `sending` (the others moved under their
    /// worker and must not be sent).
    pub async fn mark_committing(&self, ids: &[i64], at: &str) -> Result<Vec<i64>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = Sql::new("UPDATE notifications SET state = 'committing', updated_at = ");
        q.push_bind(at.to_string())
            .push(" WHERE state = 'sending' AND id IN (");
        let mut sep = q.separated(", ");
        for id in ids {
            sep.push_bind(*id);
        }
        q.push(") RETURNING id");
        let mut tx = self.write_tx(&self.durable).await?;
        let done: Vec<i64> = q.build_query_scalar().fetch_all(&mut *tx).await?;
        tx.commit().await?;
        Ok(done)
    }

    /// Rows a stop cut short: at start (`at_start`), those this server's last run left
    /// under its name ([`Store::named`]) or that predate names; at any time, those left
    /// untouched past [`super::STALE_CLAIM`] (their server gone for good). Claims another
    /// replica is working on are left alone. Claimed but not past the point of no return:
    /// nothing left, so they are due again. Past it: the receiver may have the message,
    /// so they wait for staff (`uncertain`) rather than risk sending it twice. Returns
    /// (due again, uncertain).
    pub async fn requeue_notifications(&self, at: &str, at_start: bool) -> Result<(u64, u64)> {
        let cut_short = super::cut_short(at_start);
        let stale = super::stale_before();
        let mut tx = self.write_tx(&self.durable).await?;
        let mut run = async |set: &str, from: &str| -> Result<u64> {
            let sql = format!(
                "UPDATE notifications SET {set}, updated_at = $1 \
                 WHERE state = '{from}' AND {cut_short}"
            );
            let mut q = sqlx::query(&sql).bind(at).bind(&stale);
            if at_start {
                q = q.bind(self.worker());
            }
            Ok(q.execute(&mut *tx).await?.rows_affected())
        };
        let again = run("state = 'pending'", "sending").await?;
        let uncertain = run(
            "state = 'uncertain', last_error = 'the server stopped after the message was \
             handed over, before its receipt was recorded'",
            "committing",
        )
        .await?;
        tx.commit().await?;
        Ok((again, uncertain))
    }

    /// At a clean stop: the messages this server claimed and has not handed over go
    /// back to pending (a worker that gets that far afterwards finds its claim gone and
    /// sends nothing). Those past the point of no return stay as they are.
    pub async fn release_notifications(&self, at: &str) -> Result<u64> {
        let r = sqlx::query(
            "UPDATE notifications SET state = 'pending', updated_at = $1 \
             WHERE state = 'sending' AND claimed_by = $2",
        )
        .bind(at)
        .bind(self.worker())
        .execute(&self.durable)
        .await?;
        Ok(r.rows_affected())
    }

    /// Staff send a failed or uncertain message again.
    pub async fn retry_notification(&self, id: i64, at: &str) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE notifications SET state = 'pending', not_before = $2, updated_at = $2 \
             WHERE id = $1 AND state IN ('failed', 'uncertain')",
        )
        .bind(id)
        .bind(at)
        .execute(&self.durable)
        .await?;
        Ok(r.rows_affected() > 0)
    }

    /// The outbox, newest first.
    pub async fn notifications(
        &self,
        state: Option<&str>,
        ticket: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Notification>> {
        let mut q = Sql::new(format!("{OUTBOX_ROWS} WHERE 1 = 1"));
        if let Some(s) = state {
            q.push(" AND n.state = ").push_bind(s.to_string());
        }
        if let Some(t) = ticket {
            q.push(" AND c.ticket = ").push_bind(t.to_string());
        }
        q.push(" ORDER BY n.id DESC LIMIT ").push_bind(limit);
        q.build()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(decode)
            .collect()
    }

    /// One row of the outbox.
    pub async fn notification(&self, id: i64) -> Result<Option<Notification>> {
        sqlx::query(&format!("{OUTBOX_ROWS} WHERE n.id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(decode)
            .transpose()
    }

    /// How many messages are in each state.
    pub async fn notification_counts(&self) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query("SELECT state, COUNT(*) AS n FROM notifications GROUP BY state")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("state")?, r.try_get("n")?)))
            .collect()
    }

    /// The ticket of a complaint by its row id.
    pub async fn ticket_of(&self, complaint_id: i64) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT ticket FROM complaints WHERE id = $1")
                .bind(complaint_id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }
}
