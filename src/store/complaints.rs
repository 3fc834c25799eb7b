//! Complaints, their photos, timeline and supporters. Every write here goes through the
//! `synchronous=FULL` pool: a citizen is told "filed" only once it would survive a power cut.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::Sql;

use super::{Result, Store, StoreError};
use crate::model::{Action, AssetId, Category, Lang, ModState, Pin, Status};
use crate::model::{ComplaintItem as Item, Moderation};

/// A complaint to insert (already validated and placed).
#[derive(Debug, Clone)]
pub struct NewComplaint {
    pub year: i32,
    pub category: Category,
    pub lon: f64,
    pub lat: f64,
    pub ward: Option<i64>,
    pub asset_id: Option<AssetId>,
    pub description: String,
    /// JSON object of answers to the category's questions.
    pub attributes: String,
    pub address: Option<String>,
    pub reporter_name: Option<String>,
    pub reporter_phone: Option<String>,
    pub reporter_email: Option<String>,
    pub source: &'static str,
    pub token: String,
    pub deadline: String,
    pub created_at: String,
    pub photos: Vec<PhotoRef>,
    /// The language the reporter filed in.
    pub language: Lang,
    /// Hold the photos for review before they are public (`serve --moderate-photos`).
    pub hold_photos: bool,
}

/// A stored photo of a complaint.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PhotoRef {
    pub sha256: String,
    pub media_type: String,
    pub size: i64,
}

/// One timeline entry.
#[derive(Debug, Clone)]
pub struct Event {
    pub id: i64,
    pub at: String,
    pub action: String,
    pub status: Status,
    pub note: Option<String>,
    pub public: bool,
    pub actor: Option<String>,
    pub photo_sha256: Option<String>,
}

/// A public step of a complaint, with where the complaint is (the area feed).
#[derive(Debug, Clone)]
pub struct PublicStep {
    pub ticket: String,
    pub lon: f64,
    pub lat: f64,
    pub event: Event,
}

/// A complaint as stored, private fields included: callers decide what to show.
#[derive(Debug, Clone)]
pub struct ComplaintRecord {
    pub id: i64,
    pub ticket: String,
    pub category: Category,
    pub status: Status,
    pub lon: f64,
    pub lat: f64,
    pub ward: Option<i64>,
    pub asset_id: Option<AssetId>,
    pub description: String,
    pub attributes: serde_json::Map<String, serde_json::Value>,
    pub address: Option<String>,
    pub reporter_name: Option<String>,
    pub reporter_phone: Option<String>,
    pub reporter_email: Option<String>,
    pub source: String,
    pub token: String,
    pub assigned_to: Option<String>,
    pub duplicate_of: Option<String>,
    pub supporters: i64,
    pub deadline: String,
    pub created_at: String,
    pub updated_at: String,
    pub photos: Vec<PhotoRef>,
    /// The latest public note (Open311 `status_notes`), and its step.
    pub status_notes: Option<String>,
    pub status_note_event: Option<i64>,
    /// Filled only by [`Store::complaint`], oldest first.
    pub events: Vec<Event>,
    pub language: Lang,
    /// The reporter asked for no more messages about it.
    pub opted_out: bool,
    /// Every piece moderation held, hid or reviewed.
    pub moderation: Vec<Moderation>,
}

/// A staff change to a complaint, applied only if it is still in `from`.
#[derive(Debug, Clone)]
pub struct Update {
    pub id: i64,
    pub from: Status,
    pub to: Status,
    pub action: Action,
    pub note: Option<String>,
    pub public: bool,
    pub actor: Option<i64>,
    pub assign_to: Option<i64>,
    pub duplicate_of: Option<String>,
    pub photo: Option<PhotoRef>,
    pub at: String,
    /// Channels (`email`, `webhook`) the reporter is to be told of the step through: their
    /// outbox rows are written in the step's transaction.
    pub notify: Vec<&'static str>,
}

/// Filters of the staff queue and Open311's `GET requests`.
#[derive(Debug, Clone, Default)]
pub struct ComplaintFilter {
    pub tickets: Vec<String>,
    pub statuses: Vec<Status>,
    pub categories: Vec<Category>,
    pub ward: Option<i64>,
    /// Open and past its deadline at this instant (RFC 3339).
    pub overdue_at: Option<String>,
    pub created_from: Option<String>,
    pub created_to: Option<String>,
    pub limit: i64,
}

const COLUMNS: &str = "c.id, c.ticket, c.category, c.status, c.lon, c.lat, c.ward, c.asset_id, \
    c.description, c.attributes, c.address, c.reporter_name, c.reporter_phone, c.reporter_email, \
    c.source, c.token, u.name AS assigned_name, c.duplicate_of, c.supporters, c.deadline, \
    c.created_at, c.updated_at, c.language, c.notify_opt_out_at, \
    (SELECT e.id FROM complaint_events e WHERE e.complaint_id = c.id AND e.public = 1 \
     AND e.note IS NOT NULL ORDER BY e.id DESC LIMIT 1) AS status_note_event, \
    (SELECT e.note FROM complaint_events e WHERE e.complaint_id = c.id AND e.public = 1 \
     AND e.note IS NOT NULL ORDER BY e.id DESC LIMIT 1) AS status_notes";

/// The error for a complaint's stored value that does not read back.
fn corrupt(id: i64, what: String) -> StoreError {
    StoreError::Corrupt {
        table: "complaint",
        id,
        what,
    }
}

fn decode(r: &AnyRow) -> Result<ComplaintRecord> {
    let id: i64 = r.try_get("id")?;
    let category: String = r.try_get("category")?;
    let status: String = r.try_get("status")?;
    let attributes: String = r.try_get("attributes")?;
    let language: String = r.try_get("language")?;
    Ok(ComplaintRecord {
        id,
        ticket: r.try_get("ticket")?,
        category: category.parse().map_err(|e| corrupt(id, format!("{e}")))?,
        status: status.parse().map_err(|e| corrupt(id, format!("{e}")))?,
        lon: r.try_get("lon")?,
        lat: r.try_get("lat")?,
        ward: r.try_get("ward")?,
        asset_id: r.try_get::<Option<i64>, _>("asset_id")?.map(AssetId),
        description: r.try_get("description")?,
        attributes: serde_json::from_str(&attributes)
            .map_err(|e| corrupt(id, format!("attributes: {e}")))?,
        address: r.try_get("address")?,
        reporter_name: r.try_get("reporter_name")?,
        reporter_phone: r.try_get("reporter_phone")?,
        reporter_email: r.try_get("reporter_email")?,
        source: r.try_get("source")?,
        token: r.try_get("token")?,
        assigned_to: r.try_get("assigned_name")?,
        duplicate_of: r.try_get("duplicate_of")?,
        supporters: r.try_get("supporters")?,
        deadline: r.try_get("deadline")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        photos: Vec::new(),
        status_notes: r.try_get("status_notes")?,
        status_note_event: r.try_get("status_note_event")?,
        events: Vec::new(),
        language: language.parse().map_err(|e| corrupt(id, format!("{e}")))?,
        opted_out: r
            .try_get::<Option<String>, _>("notify_opt_out_at")?
            .is_some(),
        moderation: Vec::new(),
    })
}

fn decode_photo(r: &AnyRow) -> Result<PhotoRef> {
    Ok(PhotoRef {
        sha256: r.try_get("sha256")?,
        media_type: r.try_get("media_type")?,
        size: r.try_get("size")?,
    })
}

/// ` AND column IN (?, ?, …)` for a non-empty list; nothing for an empty one.
fn push_in(q: &mut Sql<'_>, column: &str, values: impl ExactSizeIterator<Item = String>) {
    if values.len() == 0 {
        return;
    }
    q.push(format!(" AND {column} IN ("));
    let mut sep = q.separated(", ");
    for v in values {
        sep.push_bind(v);
    }
    q.push(")");
}

impl Store {
    /// Inserts complaints in one `synchronous=FULL` transaction (a group commit) and
    /// returns each one's (id, ticket), in order. Tickets number each year's complaints.
    pub async fn insert_complaints(&self, batch: &[NewComplaint]) -> Result<Vec<(i64, String)>> {
        let mut tx = self.write_tx(&self.durable).await?;
        let mut out = Vec::with_capacity(batch.len());
        for c in batch {
            // One statement reads the year's last number and writes the next, so the
            // transaction holds the write lock from its first statement.
            let row = sqlx::query(&format!(
                "INSERT INTO complaints (ticket, year, seq, category, lon, lat, ward, asset_id, \
                 description, attributes, address, reporter_name, reporter_phone, reporter_email, \
                 source, token, deadline, created_at, updated_at, language) \
                 SELECT {TICKET}, $1, n, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
                 $11, $12, $13, $14, $15, $16, $16, $17 \
                 FROM (SELECT COALESCE(MAX(seq), 0) + 1 AS n FROM complaints WHERE year = $1) AS next \
                 RETURNING id, ticket",
                TICKET = super::TICKET
            ))
            .bind(c.year)
            .bind(c.category.as_str())
            .bind(c.lon)
            .bind(c.lat)
            .bind(c.ward)
            .bind(c.asset_id.map(|a| a.0))
            .bind(&c.description)
            .bind(&c.attributes)
            .bind(&c.address)
            .bind(&c.reporter_name)
            .bind(&c.reporter_phone)
            .bind(&c.reporter_email)
            .bind(c.source)
            .bind(&c.token)
            .bind(&c.deadline)
            .bind(&c.created_at)
            .bind(c.language.as_str())
            .fetch_one(&mut *tx)
            .await?;
            let id: i64 = row.get("id");
            for (i, p) in c.photos.iter().enumerate() {
                sqlx::query("INSERT INTO complaint_photos (complaint_id, position, sha256, media_type, size) VALUES ($1, $2, $3, $4, $5)")
                    .bind(id)
                    .bind(i as i64)
                    .bind(&p.sha256)
                    .bind(&p.media_type)
                    .bind(p.size)
                    .execute(&mut *tx)
                    .await?;
                if c.hold_photos {
                    sqlx::query("INSERT INTO complaint_moderation (complaint_id, item, state, at) VALUES ($1, $2, 'held', $3) ON CONFLICT DO NOTHING")
                        .bind(id)
                        .bind(Item::Photo(p.sha256.clone()).to_string())
                        .bind(&c.created_at)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            sqlx::query("INSERT INTO complaint_events (complaint_id, at, action, status, public) VALUES ($1, $2, 'submit', 'submitted', 1)")
                .bind(id)
                .bind(&c.created_at)
                .execute(&mut *tx)
                .await?;
            out.push((id, row.get("ticket")));
        }
        tx.commit().await?;
        Ok(out)
    }

    /// One complaint with its photos and whole timeline.
    pub async fn complaint(&self, ticket: &str) -> Result<Option<ComplaintRecord>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM complaints c LEFT JOIN users u ON u.id = c.assigned_to WHERE c.ticket = $1"
        );
        let Some(row) = sqlx::query(&sql)
            .bind(ticket)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let mut c = decode(&row)?;
        c.photos = self.complaint_photos(c.id).await?;
        c.moderation = self
            .moderation_of(&[c.id])
            .await?
            .remove(&c.id)
            .unwrap_or_default();
        let events = sqlx::query(
            "SELECT e.id, e.at, e.action, e.status, e.note, e.public, e.photo_sha256, u.name AS actor \
             FROM complaint_events e LEFT JOIN users u ON u.id = e.actor \
             WHERE e.complaint_id = $1 ORDER BY e.id",
        )
        .bind(c.id)
        .fetch_all(&self.pool)
        .await?;
        for e in events {
            let status: String = e.try_get("status")?;
            c.events.push(Event {
                id: e.try_get("id")?,
                at: e.try_get("at")?,
                action: e.try_get("action")?,
                status: status.parse().map_err(|x| corrupt(c.id, format!("{x}")))?,
                note: e.try_get("note")?,
                public: e.try_get::<i64, _>("public")? != 0,
                actor: e.try_get("actor")?,
                photo_sha256: e.try_get("photo_sha256")?,
            });
        }
        Ok(Some(c))
    }

    async fn complaint_photos(&self, id: i64) -> Result<Vec<PhotoRef>> {
        let rows = sqlx::query("SELECT sha256, media_type, size FROM complaint_photos WHERE complaint_id = $1 ORDER BY position")
            .bind(id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(decode_photo).collect()
    }

    /// Whether a photo belongs to some complaint or a complaint's timeline (only those
    /// are served).
    pub async fn photo_is_public(&self, sha256: &str) -> Result<bool> {
        // Public where some complaint shows it: not held, not hidden there.
        let n: super::Flag = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM complaint_photos p WHERE p.sha256 = $1 \
               AND NOT EXISTS (SELECT 1 FROM complaint_moderation m \
                 WHERE m.complaint_id = p.complaint_id AND m.item = 'photo:' || $1 \
                 AND m.state IN ('held', 'hidden'))) \
             OR EXISTS (SELECT 1 FROM complaint_events e WHERE e.photo_sha256 = $1 AND e.public = 1 \
               AND NOT EXISTS (SELECT 1 FROM complaint_moderation m \
                 WHERE m.complaint_id = e.complaint_id AND m.item = 'photo:' || $1 \
                 AND m.state IN ('held', 'hidden')))",
        )
        .bind(sha256)
        .fetch_one(&self.pool)
        .await?;
        Ok(n.0)
    }

    /// Whether a photo belongs to any complaint or step, public or not (for staff).
    pub async fn photo_is_known(&self, sha256: &str) -> Result<bool> {
        let n: super::Flag = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM complaint_photos WHERE sha256 = $1) \
             OR EXISTS (SELECT 1 FROM complaint_events WHERE photo_sha256 = $1)",
        )
        .bind(sha256)
        .fetch_one(&self.pool)
        .await?;
        Ok(n.0)
    }

    /// Complaints matching a filter, newest first (no timelines; photos included).
    pub async fn complaints(&self, f: &ComplaintFilter) -> Result<Vec<ComplaintRecord>> {
        let mut q = Sql::new(format!(
            "SELECT {COLUMNS} FROM complaints c LEFT JOIN users u ON u.id = c.assigned_to WHERE 1 = 1"
        ));
        push_in(&mut q, "c.ticket", f.tickets.iter().cloned());
        push_in(
            &mut q,
            "c.status",
            f.statuses.iter().map(|s| s.as_str().to_string()),
        );
        push_in(
            &mut q,
            "c.category",
            f.categories.iter().map(|c| c.as_str().to_string()),
        );
        if let Some(w) = f.ward {
            q.push(" AND c.ward = ").push_bind(w);
        }
        if let Some(at) = &f.overdue_at {
            q.push(
                " AND c.status IN ('submitted', 'acknowledged', 'in_progress') AND c.deadline < ",
            )
            .push_bind(at.clone());
        }
        if let Some(from) = &f.created_from {
            q.push(" AND c.created_at >= ").push_bind(from.clone());
        }
        if let Some(to) = &f.created_to {
            q.push(" AND c.created_at <= ").push_bind(to.clone());
        }
        q.push(" ORDER BY c.id DESC LIMIT ")
            .push_bind(f.limit.max(0));
        let rows = q.build().fetch_all(&self.pool).await?;
        let mut out = rows.iter().map(decode).collect::<Result<Vec<_>>>()?;
        if out.is_empty() {
            return Ok(out);
        }
        // Every listed complaint's photos in one query, not one query per complaint.
        let mut pq = Sql::new(
            "SELECT complaint_id, sha256, media_type, size FROM complaint_photos WHERE complaint_id IN (",
        );
        let mut ids = pq.separated(", ");
        for c in &out {
            ids.push_bind(c.id);
        }
        pq.push(") ORDER BY complaint_id, position");
        let mut photos: std::collections::HashMap<i64, Vec<PhotoRef>> = Default::default();
        for r in pq.build().fetch_all(&self.pool).await? {
            photos
                .entry(r.try_get("complaint_id")?)
                .or_default()
                .push(decode_photo(&r)?);
        }
        let ids: Vec<i64> = out.iter().map(|c| c.id).collect();
        let mut moderation = self.moderation_of(&ids).await?;
        for c in &mut out {
            c.photos = photos.remove(&c.id).unwrap_or_default();
            c.moderation = moderation.remove(&c.id).unwrap_or_default();
        }
        Ok(out)
    }

    /// The latest public steps of complaints (each with its ticket and pin), newest
    /// first and before step `before` when given: in a ward, or within a box
    /// (`[west, south, east, north]`), of some categories.
    pub async fn public_steps(
        &self,
        ward: Option<i64>,
        bbox: Option<[f64; 4]>,
        categories: &[Category],
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<PublicStep>> {
        let mut q = Sql::new(
            "SELECT e.id, e.at, e.action, e.status, e.note, e.public, e.photo_sha256, \
             NULL AS actor, c.ticket, c.lon, c.lat FROM complaint_events e \
             JOIN complaints c ON c.id = e.complaint_id \
             WHERE (e.public = 1 OR e.action != 'note')",
        );
        if let Some(b) = before {
            q.push(" AND e.id < ").push_bind(b);
        }
        if let Some(w) = ward {
            q.push(" AND c.ward = ").push_bind(w);
        }
        if let Some([w, s, e, n]) = bbox {
            q.push(" AND c.lon BETWEEN ")
                .push_bind(w)
                .push(" AND ")
                .push_bind(e)
                .push(" AND c.lat BETWEEN ")
                .push_bind(s)
                .push(" AND ")
                .push_bind(n);
        }
        push_in(
            &mut q,
            "c.category",
            categories.iter().map(|c| c.as_str().to_string()),
        );
        q.push(" ORDER BY e.id DESC LIMIT ").push_bind(limit.max(0));
        let rows = q.build().fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                let id: i64 = r.try_get("id")?;
                let status: String = r.try_get("status")?;
                Ok(PublicStep {
                    ticket: r.try_get("ticket")?,
                    lon: r.try_get("lon")?,
                    lat: r.try_get("lat")?,
                    event: Event {
                        id,
                        at: r.try_get("at")?,
                        action: r.try_get("action")?,
                        status: status.parse().map_err(|x| corrupt(id, format!("{x}")))?,
                        note: r.try_get("note")?,
                        public: r.try_get::<i64, _>("public")? != 0,
                        actor: None,
                        photo_sha256: r.try_get("photo_sha256")?,
                    },
                })
            })
            .collect()
    }

    /// The ticket an Open311 token stands for.
    pub async fn ticket_for_token(&self, token: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT ticket FROM complaints WHERE token = $1")
                .bind(token)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Every complaint's public face, for the index, with its times: filed, due, first
    /// acted on (the first step leaving `submitted`), closed. The times come from one pass
    /// over the timeline grouped by complaint, rather than two lookups per complaint.
    pub async fn complaint_pins(&self) -> Result<Vec<Pin>> {
        self.pins_where("").await
    }

    /// The pins of some complaints (see [`Store::complaint_pins`]), by id.
    pub async fn complaint_pins_of(&self, ids: &[i64]) -> Result<Vec<Pin>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            // Integers only, written by us: nothing from outside reaches this text.
            let list: Vec<String> = chunk.iter().map(i64::to_string).collect();
            out.extend(self.pins_where(&list.join(",")).await?);
        }
        Ok(out)
    }

    /// The steps of complaints' timelines after `mark` (`complaint_events.id`), with their
    /// complaints, in order, at most `limit`.
    pub async fn complaint_changes(&self, mark: i64, limit: i64) -> Result<Vec<(i64, i64)>> {
        Ok(sqlx::query_as(
            "SELECT id, complaint_id FROM complaint_events WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(mark)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The last step of any complaint's timeline (0 for none).
    pub async fn complaint_mark(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT coalesce(max(id), 0) FROM complaint_events")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Pins of every complaint, or of those whose ids are in `ids` (a comma-separated
    /// list of integers) when it is not empty.
    async fn pins_where(&self, ids: &str) -> Result<Vec<Pin>> {
        let (events_of, complaints_of) = if ids.is_empty() {
            (String::new(), String::new())
        } else {
            (
                format!("WHERE complaint_id IN ({ids})"),
                format!("WHERE id IN ({ids})"),
            )
        };
        type Steps = (Option<String>, Option<String>, i64);
        let mut times: std::collections::HashMap<i64, Steps> = Default::default();
        for r in sqlx::query(&format!(
            "SELECT complaint_id, \
                    min(CASE WHEN status <> 'submitted' THEN at END) AS acknowledged_at, \
                    min(CASE WHEN status IN ('resolved', 'rejected', 'duplicate') THEN at END) AS closed_at, \
                    max(id) AS last_event \
             FROM complaint_events {events_of} GROUP BY complaint_id",
        ))
        .fetch_all(&self.pool)
        .await?
        {
            times.insert(
                r.try_get("complaint_id")?,
                (
                    r.try_get("acknowledged_at")?,
                    r.try_get("closed_at")?,
                    r.try_get("last_event")?,
                ),
            );
        }
        let rows = sqlx::query(&format!(
            "SELECT id, ticket, category, status, lon, lat, ward, deadline, created_at, updated_at \
             FROM complaints {complaints_of} ORDER BY id",
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let id: i64 = r.try_get("id")?;
                let category: String = r.try_get("category")?;
                let status: String = r.try_get("status")?;
                let created_at: String = r.try_get("created_at")?;
                let deadline: String = r.try_get("deadline")?;
                let time = |s: &str| {
                    crate::model::unix_seconds(s)
                        .ok_or_else(|| corrupt(id, format!("not an RFC 3339 time: {s:?}")))
                };
                let optional = |s: Option<&String>| s.map(|s| time(s)).transpose();
                let (ack, closed, event) = times
                    .get(&id)
                    .map_or((None, None, 0), |(a, c, e)| (a.as_ref(), c.as_ref(), *e));
                Ok(Pin {
                    id,
                    ticket: r.try_get("ticket")?,
                    category: category.parse().map_err(|e| corrupt(id, format!("{e}")))?,
                    status: status.parse().map_err(|e| corrupt(id, format!("{e}")))?,
                    lon: r.try_get("lon")?,
                    lat: r.try_get("lat")?,
                    ward: r.try_get("ward")?,
                    times: crate::model::PinTimes {
                        filed: time(&created_at)?,
                        deadline: time(&deadline)?,
                        acknowledged: optional(ack)?,
                        closed: optional(closed)?,
                    },
                    created_at,
                    updated_at: r.try_get("updated_at")?,
                    event,
                })
            })
            .collect()
    }

    /// Applies a staff change if the complaint is still in `u.from`, with the outbox rows
    /// telling the reporter, in one transaction; returns the step's id, or `None` if the
    /// complaint moved meanwhile (the caller re-reads and retries or reports a conflict).
    pub async fn update_complaint(
        &self,
        u: &Update,
        log: &super::AuditEntry,
    ) -> Result<Option<i64>> {
        let mut tx = self.write_tx(&self.durable).await?;
        let r = sqlx::query(
            "UPDATE complaints SET status = $1, updated_at = $2, \
             assigned_to = COALESCE($3, assigned_to), duplicate_of = COALESCE($4, duplicate_of) \
             WHERE id = $5 AND status = $6",
        )
        .bind(u.to.as_str())
        .bind(&u.at)
        .bind(u.assign_to)
        .bind(&u.duplicate_of)
        .bind(u.id)
        .bind(u.from.as_str())
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() == 0 {
            return Ok(None);
        }
        let event: i64 = sqlx::query_scalar("INSERT INTO complaint_events (complaint_id, at, action, status, note, public, actor, photo_sha256) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id")
            .bind(u.id)
            .bind(&u.at)
            .bind(u.action.as_str())
            .bind(u.to.as_str())
            .bind(&u.note)
            .bind(i64::from(u.public))
            .bind(u.actor)
            .bind(u.photo.as_ref().map(|p| p.sha256.clone()))
            .fetch_one(&mut *tx)
            .await?;
        for channel in &u.notify {
            sqlx::query(
                "INSERT INTO notifications (complaint_id, event_id, channel, not_before, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $4, $4)",
            )
            .bind(u.id)
            .bind(event)
            .bind(*channel)
            .bind(&u.at)
            .execute(&mut *tx)
            .await?;
        }
        super::audit::append(&mut tx, log, &u.at).await?;
        tx.commit().await?;
        Ok(Some(event))
    }

    /// The moderation rows of these complaints, by complaint.
    pub(super) async fn moderation_of(
        &self,
        ids: &[i64],
    ) -> Result<std::collections::HashMap<i64, Vec<Moderation>>> {
        let mut out: std::collections::HashMap<i64, Vec<Moderation>> = Default::default();
        if ids.is_empty() {
            return Ok(out);
        }
        let mut q = Sql::new(
            "SELECT m.complaint_id, m.item, m.state, m.reason, m.at, u.name AS actor \
             FROM complaint_moderation m LEFT JOIN users u ON u.id = m.actor \
             WHERE m.complaint_id IN (",
        );
        let mut sep = q.separated(", ");
        for id in ids {
            sep.push_bind(*id);
        }
        q.push(")");
        for r in q.build().fetch_all(&self.pool).await? {
            let id: i64 = r.try_get("complaint_id")?;
            let item: String = r.try_get("item")?;
            let state: String = r.try_get("state")?;
            out.entry(id).or_default().push(Moderation {
                item: item.parse().map_err(|e| corrupt(id, format!("{e}")))?,
                state: state
                    .parse::<ModState>()
                    .map_err(|e| corrupt(id, format!("{e}")))?,
                reason: r.try_get("reason")?,
                at: r.try_get("at")?,
                actor: r.try_get("actor")?,
            });
        }
        Ok(out)
    }

    /// Records one client's support; returns the supporter count, or `None` if there is
    /// no such complaint. Supporting twice counts once.
    pub async fn support_complaint(&self, id: i64, client: &str, at: &str) -> Result<i64> {
        let mut tx = self.write_tx(&self.durable).await?;
        let added = sqlx::query(
            "INSERT INTO complaint_supports (complaint_id, client, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(client)
        .bind(at)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if added > 0 {
            sqlx::query("UPDATE complaints SET supporters = supporters + 1 WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        let n: i64 = sqlx::query_scalar("SELECT supporters FROM complaints WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store_with_one_complaint() -> (tempfile::TempDir, Store, i64, String) {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("corrupt.db");
        let store = Store::open(db.to_str().unwrap()).await.unwrap();
        let c = NewComplaint {
            year: 2026,
            category: Category::WaterBodyFilling,
            lon: 88.35,
            lat: 22.55,
            ward: Some(63),
            asset_id: None,
            description: "Trucks dumping earth into the pond".into(),
            attributes: r#"{"filling_in_progress":"yes"}"#.into(),
            address: None,
            reporter_name: None,
            reporter_phone: None,
            reporter_email: None,
            source: "web",
            token: "t".repeat(32),
            deadline: "2026-01-03T00:00:00Z".into(),
            created_at: "2026-01-01T00:00:00Z".into(),
            photos: Vec::new(),
            language: Lang::En,
            hold_photos: false,
        };
        let (id, ticket) = store.insert_complaints(&[c]).await.unwrap().remove(0);
        (dir, store, id, ticket)
    }

    /// Writes `value` into `column` of the complaint, bypassing every check (the schema's
    /// CHECK constraints included, as a hand edit or another program might).
    async fn overwrite(store: &Store, id: i64, column: &str, value: &str) {
        let mut conn = store.pool.acquire().await.unwrap();
        sqlx::query("PRAGMA ignore_check_constraints = ON")
            .execute(&mut *conn)
            .await
            .unwrap();
        sqlx::query(&format!(
            "UPDATE complaints SET {column} = $1 WHERE id = $2"
        ))
        .bind(value)
        .bind(id)
        .execute(&mut *conn)
        .await
        .unwrap();
        sqlx::query("PRAGMA ignore_check_constraints = OFF")
            .execute(&mut *conn)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn unreadable_attributes_are_an_error_not_an_empty_object() {
        let (_dir, store, id, ticket) = store_with_one_complaint().await;
        let c = store.complaint(&ticket).await.unwrap().unwrap();
        assert_eq!(c.attributes["filling_in_progress"], "yes");

        for bad in [r#"{"filling_in_progress":"#, "[]", ""] {
            overwrite(&store, id, "attributes", bad).await;
            let e = store.complaint(&ticket).await.unwrap_err();
            let text = e.to_string();
            assert!(
                matches!(e, StoreError::Corrupt { table: "complaint", id: i, .. } if i == id),
                "{bad:?}: {text}"
            );
            assert!(
                text.starts_with(&format!(
                    "stored value of complaint {id} is invalid: attributes: "
                )),
                "{bad:?}: {text}"
            );
            let all = ComplaintFilter {
                limit: 10,
                ..Default::default()
            };
            assert!(store.complaints(&all).await.is_err(), "{bad:?} listed");
        }
    }

    /// Audit entries from before notes were chained by hash carry the note's text: once
    /// moderation hides that note, the public listing shows the removal notice instead
    /// (and says so), staff still see the text, and the chain still verifies.
    #[tokio::test]
    async fn an_old_audit_entry_with_a_hidden_note_is_redacted_for_the_public() {
        let (_dir, store, id, ticket) = store_with_one_complaint().await;
        let officer = store
            .put_user(
                "officer1",
                crate::model::Role::Officer,
                None,
                "x",
                "2026-01-01T00:00:00Z",
            )
            .await
            .unwrap()
            .id;
        let old_style = |action: &str, detail: serde_json::Value| super::super::AuditEntry {
            actor: "officer1".into(),
            role: Some("officer".into()),
            action: action.into(),
            subject: ticket.clone(),
            public: true,
            detail,
        };
        let step = store
            .update_complaint(
                &Update {
                    id,
                    from: Status::Submitted,
                    to: Status::Acknowledged,
                    action: Action::Acknowledge,
                    note: Some("the caretaker is a thief".into()),
                    public: true,
                    actor: Some(officer),
                    assign_to: None,
                    duplicate_of: None,
                    photo: None,
                    at: "2026-01-02T00:00:00Z".into(),
                    notify: Vec::new(),
                },
                &old_style(
                    "complaint.acknowledge",
                    serde_json::json!({"note": "the caretaker is a thief"}),
                ),
            )
            .await
            .unwrap()
            .unwrap();
        let public = |store: &Store| {
            let store = store.clone();
            let t = ticket.clone();
            async move { store.audit(Some(&t), 0, 10, false).await.unwrap() }
        };
        assert_eq!(
            public(&store).await[0].detail["note"],
            "the caretaker is a thief"
        );
        store
            .moderate(
                &super::super::Decision {
                    complaint_id: id,
                    item: Item::Note(step),
                    state: ModState::Hidden,
                    reason: Some("abuse".into()),
                    actor: officer,
                    at: "2026-01-03T00:00:00Z".into(),
                },
                &old_style(
                    "complaint.hide",
                    serde_json::json!({"item": format!("note:{step}")}),
                ),
            )
            .await
            .unwrap();
        let shown = public(&store).await;
        assert_eq!(shown[0].detail["note"], "Removed by the department: abuse");
        assert_eq!(shown[0].detail["redacted"], true);
        let staff = store.audit(Some(&ticket), 0, 10, true).await.unwrap();
        assert_eq!(staff[0].detail["note"], "the caretaker is a thief");
        assert!(store.verify_audit().await.unwrap().ok);
    }

    #[tokio::test]
    async fn an_unknown_status_is_an_error_everywhere_it_is_read() {
        let (_dir, store, id, ticket) = store_with_one_complaint().await;
        overwrite(&store, id, "status", "lost").await;
        let e = store.complaint(&ticket).await.unwrap_err();
        assert!(e.to_string().contains("unknown status \"lost\""), "{e}");
        assert!(store.complaint_pins().await.is_err());
    }
}
