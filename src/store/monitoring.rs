//! What the monitoring figures read from the database rather than the index: the water
//! bodies' changes of water (`water_changes`, kept by a trigger), maintenance works, the
//! open complaints' queues; and synthetic complaints for trying the dashboard and
//! measuring the figures at scale.

use rand::{Rng, SeedableRng};
use sqlx::Row;

use super::{Result, Store};
use crate::model::{rfc3339, unix_seconds, Category, Status};
use crate::stats::maintenance::Work;
use crate::stats::water::Change;

/// Open complaints waiting, per ward, assignee and status.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Queue {
    pub ward: Option<i64>,
    pub assignee: Option<String>,
    pub submitted: i64,
    pub acknowledged: i64,
    pub in_progress: i64,
    pub overdue: i64,
}

impl Store {
    /// Changes of water recorded at or after `from` and before `to` (RFC 3339 UTC).
    pub async fn water_changes(&self, from: Option<&str>, to: Option<&str>) -> Result<Vec<Change>> {
        let rows = sqlx::query(
            "SELECT asset_id, at, ward, borough, lost_m2 FROM water_changes \
             WHERE ($1 IS NULL OR at >= $1) AND ($2 IS NULL OR at < $2) ORDER BY at",
        )
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let at: String = r.try_get("at")?;
                Ok(Change {
                    asset_id: r.try_get("asset_id")?,
                    at: unix_seconds(&at).unwrap_or_default(),
                    ward: r.try_get("ward")?,
                    borough: r.try_get("borough")?,
                    lost_m2: r.try_get("lost_m2")?,
                })
            })
            .collect()
    }

    /// Every maintenance work with its asset's ward, borough, layer, kind and grade as
    /// recorded, and the asset's id (the caller fills a ward found from the location).
    pub async fn maintenance_works(&self) -> Result<Vec<(i64, Work)>> {
        let rows = sqlx::query(
            "SELECT m.asset_id, m.completed_on, m.started_on, m.created_at, m.cost_inr, \
                    a.ward, a.borough, a.layer, a.kind, a.grade \
             FROM maintenance m JOIN assets a ON a.id = m.asset_id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let on: Option<String> = r
                    .try_get::<Option<String>, _>("completed_on")?
                    .or(r.try_get("started_on")?);
                let date = match on {
                    Some(d) => d.get(..10).unwrap_or(&d).to_string(),
                    None => {
                        let at: String = r.try_get("created_at")?;
                        unix_seconds(&at)
                            .map(|t| crate::stats::ist_date(t).to_string())
                            .unwrap_or_else(|| at.get(..10).unwrap_or("").to_string())
                    }
                };
                Ok((
                    r.try_get("asset_id")?,
                    Work {
                        date,
                        cost_inr: r.try_get("cost_inr")?,
                        ward: r.try_get("ward")?,
                        borough: r.try_get("borough")?,
                        layer: r.try_get("layer")?,
                        kind: r.try_get("kind")?,
                        grade: r.try_get("grade")?,
                    },
                ))
            })
            .collect()
    }

    /// Open complaints per ward, assignee and status, with how many are past their
    /// deadline at `now` (RFC 3339); one ward's when `ward` is given.
    pub async fn complaint_queues(&self, ward: Option<i64>, now: &str) -> Result<Vec<Queue>> {
        let rows = sqlx::query(
            "SELECT c.ward, u.name AS assignee, \
                    count(*) FILTER (WHERE c.status = 'submitted') AS submitted, \
                    count(*) FILTER (WHERE c.status = 'acknowledged') AS acknowledged, \
                    count(*) FILTER (WHERE c.status = 'in_progress') AS in_progress, \
                    count(*) FILTER (WHERE c.deadline < $2) AS overdue \
             FROM complaints c LEFT JOIN users u ON u.id = c.assigned_to \
             WHERE c.status IN ('submitted', 'acknowledged', 'in_progress') \
               AND ($1 IS NULL OR c.ward = $1) \
             GROUP BY c.ward, u.name ORDER BY c.ward NULLS FIRST, u.name NULLS FIRST",
        )
        .bind(ward)
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Queue {
                    ward: r.try_get("ward")?,
                    assignee: r.try_get("assignee")?,
                    submitted: r.try_get("submitted")?,
                    acknowledged: r.try_get("acknowledged")?,
                    in_progress: r.try_get("in_progress")?,
                    overdue: r.try_get("overdue")?,
                })
            })
            .collect()
    }

    /// Whether the database holds complaints that are not synthetic.
    pub async fn has_real_complaints(&self) -> Result<bool> {
        Ok(sqlx::query_scalar::<_, super::Flag>(
            "SELECT EXISTS (SELECT 1 FROM complaints WHERE source <> 'synthetic')",
        )
        .fetch_one(&self.pool)
        .await?
        .0)
    }

    /// Writes `count` synthetic complaints (source `synthetic`) filed over the `months`
    /// before `now` at random places in the Kolkata grid of stand-in wards, each taken
    /// as far as its random course reaches by `now`: acknowledged after hours, then
    /// started, resolved, rejected or marked a duplicate after days — the ones the
    /// department has not reached stay open, and some of those are past their deadline.
    /// For the dashboard and benchmarks only. Returns how many were written.
    pub async fn generate_complaints(
        &self,
        count: usize,
        seed: u64,
        months: u32,
        now: time::OffsetDateTime,
    ) -> Result<usize> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let span = months.max(1) as i64 * 30 * 86_400;
        let now_s = now.unix_timestamp();
        let at = |s: i64| rfc3339(time::OffsetDateTime::from_unix_timestamp(s).unwrap_or(now));
        let mut written = 0;
        while written < count {
            let n = (count - written).min(20_000);
            let mut tx = self.write_tx(&self.pool).await?;
            for _ in 0..n {
                let filed = now_s - rng.random_range(0..span);
                let year = time::OffsetDateTime::from_unix_timestamp(filed)
                    .unwrap_or(now)
                    .year();
                let category = Category::ALL[rng.random_range(0..Category::ALL.len())];
                let (lon, lat) = crate::synth::in_kmc(&mut rng);
                let (ward, _) = crate::synth::ward_at(lon, lat);
                let deadline = filed + category.deadline_hours() * 3600;
                // The course: (seconds after filing, action, status), cut at now.
                let mut steps: Vec<(i64, &str, Status)> = Vec::new();
                if rng.random_bool(0.9) {
                    let t = (rng.random_range(0.2f64..1.0).powi(3) * 200.0 * 3600.0) as i64;
                    steps.push((t, "acknowledge", Status::Acknowledged));
                    let mut t2 = t + rng.random_range(600..72 * 3600);
                    if rng.random_bool(0.5) {
                        steps.push((t2, "start", Status::InProgress));
                        t2 += rng.random_range(600..72 * 3600);
                    }
                    let close = (rng.random_range(0.05f64..1.0).powi(2) * 40.0 * 86_400.0) as i64;
                    match rng.random_range(0..20) {
                        0..=13 => steps.push((t2 + close, "resolve", Status::Resolved)),
                        14..=16 => steps.push((t2 + close / 4, "reject", Status::Rejected)),
                        17..=18 => steps.push((t2, "duplicate", Status::Duplicate)),
                        _ => {}
                    }
                }
                steps.retain(|(t, _, _)| filed + t <= now_s);
                let status = steps.last().map_or(Status::Submitted, |s| s.2);
                let updated = steps.last().map_or(filed, |s| filed + s.0);
                let token = format!("{:032x}", rng.random::<u128>());
                let id: i64 = sqlx::query_scalar(&format!(
                    "INSERT INTO complaints (ticket, year, seq, category, status, lon, lat, ward, \
                     description, source, token, deadline, created_at, updated_at) \
                     SELECT {TICKET}, $1, n, $2, $3, $4, $5, $6, \
                     'A synthetic complaint (heritage-atlas generate-complaints).', 'synthetic', \
                     $7, $8, $9, $10 \
                     FROM (SELECT COALESCE(MAX(seq), 0) + 1 AS n FROM complaints WHERE year = $1) AS next \
                     RETURNING id",
                    TICKET = super::TICKET
                ))
                .bind(year)
                .bind(category.as_str())
                .bind(status.as_str())
                .bind(lon)
                .bind(lat)
                .bind(ward)
                .bind(&token)
                .bind(at(deadline))
                .bind(at(filed))
                .bind(at(updated))
                .fetch_one(&mut *tx)
                .await?;
                sqlx::query("INSERT INTO complaint_events (complaint_id, at, action, status, public) VALUES ($1, $2, 'submit', 'submitted', 1)")
                    .bind(id)
                    .bind(at(filed))
                    .execute(&mut *tx)
                    .await?;
                for (t, action, st) in &steps {
                    sqlx::query("INSERT INTO complaint_events (complaint_id, at, action, status, note, public) VALUES ($1, $2, $3, $4, $5, 1)")
                        .bind(id)
                        .bind(at(filed + t))
                        .bind(*action)
                        .bind(st.as_str())
                        .bind((!st.is_open()).then_some("Synthetic."))
                        .execute(&mut *tx)
                        .await?;
                }
            }
            tx.commit().await?;
            written += n;
        }
        Ok(written)
    }
}
