//! Monitoring figures (issue 18; the contract is `docs/monitoring.md`). Public:
//! `/stats/register`, `/stats/inspections-due`, `/stats/complaints`,
//! `/stats/maintenance`, `/stats/water`, `/stats/water-loss`, `/stats/wards` (the
//! choropleth's metrics) and `/stats/ward-report` (the monthly ward report). Staff:
//! `/stats/queues`. JSON, or CSV with `f=csv`; never cached (they move with every write).
//!
//! The register, the water bodies and the complaints are counted from memory (the index
//! and the complaint pins) in one pass off the async threads; maintenance and water lost
//! are read from their tables.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use geo_types::Rect;
use serde::Deserialize;
use serde_json::{json, Value};
use time::Date;

use super::auth::Staff;
use super::{ApiError, AppState, Params};
use crate::atlas::Atlas;
use crate::index::LayerIndex;
use crate::model::{Asset, Category, Grade, Layer, Role, WaterStatus};
use crate::stats::facts::AssetFact;
use crate::stats::{self, complaints, maintenance, water, GroupBy, Intervals};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/stats/register", get(register))
        .route("/stats/inspections-due", get(due))
        .route("/stats/complaints", get(complaint_figures))
        .route("/stats/maintenance", get(maintenance_figures))
        .route("/stats/water", get(water_figures))
        .route("/stats/water-loss", get(water_loss))
        .route("/stats/wards", get(wards))
        .route("/stats/ward-report", get(ward_report))
        .route("/stats/queues", get(queues))
}

/// Longest range a figure is asked over, in days (20 years).
const MAX_RANGE_DAYS: i64 = 20 * 366;

fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

fn today() -> Date {
    stats::ist_date(now().unix_timestamp())
}

/// Every parameter a figure takes; each endpoint says which it accepts.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Q {
    by: Option<String>,
    from: Option<String>,
    to: Option<String>,
    ward: Option<String>,
    borough: Option<String>,
    category: Option<String>,
    bbox: Option<String>,
    layers: Option<String>,
    grade: Option<String>,
    month: Option<String>,
    f: Option<String>,
}

impl Q {
    /// Refuses a parameter this endpoint does not take (rather than ignore it and answer
    /// a figure the asker did not mean).
    fn only(&self, accepted: &[&str]) -> Result<(), ApiError> {
        let given = [
            ("by", self.by.is_some()),
            ("from", self.from.is_some()),
            ("to", self.to.is_some()),
            ("ward", self.ward.is_some()),
            ("borough", self.borough.is_some()),
            ("category", self.category.is_some()),
            ("bbox", self.bbox.is_some()),
            ("layers", self.layers.is_some()),
            ("grade", self.grade.is_some()),
            ("month", self.month.is_some()),
            ("f", self.f.is_some()),
        ];
        match given
            .iter()
            .find(|(name, on)| *on && !accepted.contains(name))
        {
            Some((name, _)) => Err(ApiError::param(format!(
                "{name}: not a parameter here (accepted: {})",
                accepted.join(", ")
            ))),
            None => Ok(()),
        }
    }

    fn csv(&self) -> Result<bool, ApiError> {
        match self.f.as_deref() {
            None | Some("json") => Ok(false),
            Some("csv") => Ok(true),
            Some(other) => Err(ApiError::param(format!("f: json or csv, not {other:?}"))),
        }
    }

    fn by<T>(&self, default: T, parse: fn(&str) -> Option<T>, names: &str) -> Result<T, ApiError> {
        match self.by.as_deref() {
            None => Ok(default),
            Some(b) => parse(b).ok_or_else(|| ApiError::param(format!("by: {names}, not {b:?}"))),
        }
    }

    fn by_name(&self, default: &str) -> String {
        self.by.clone().unwrap_or_else(|| default.into())
    }

    fn ward(&self) -> Result<Option<i64>, ApiError> {
        match self
            .ward
            .as_deref()
            .map(str::trim)
            .filter(|w| !w.is_empty())
        {
            None => Ok(None),
            Some(w) => match w.parse::<i64>() {
                Ok(n) if (1..=10_000).contains(&n) => Ok(Some(n)),
                _ => Err(ApiError::param(format!("ward: a ward number, not {w:?}"))),
            },
        }
    }

    /// The borough asked for, checked against the wards layer's boroughs, with its wards.
    fn borough(&self, wards: &Wards) -> Result<Option<(String, Vec<i64>)>, ApiError> {
        let Some(b) = self
            .borough
            .as_deref()
            .map(str::trim)
            .filter(|b| !b.is_empty())
        else {
            return Ok(None);
        };
        let of: Vec<i64> = wards
            .borough_of
            .iter()
            .filter(|(_, bb)| bb.as_str() == b)
            .map(|(w, _)| *w)
            .collect();
        if of.is_empty() {
            let mut known: Vec<&str> = wards.borough_of.values().map(String::as_str).collect();
            known.sort_unstable();
            known.dedup();
            return Err(ApiError::param(format!(
                "borough: one of {}, not {b:?}",
                known.join(", ")
            )));
        }
        Ok(Some((b.to_string(), of)))
    }

    fn date(name: &str, v: Option<&str>) -> Result<Option<Date>, ApiError> {
        match v.map(str::trim).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => stats::day(v)
                .filter(|_| v.len() == 10)
                .map(Some)
                .ok_or_else(|| ApiError::param(format!("{name}: a date YYYY-MM-DD, not {v:?}"))),
        }
    }

    /// The range `from`–`to` (inclusive dates, IST).
    fn range(&self) -> Result<(Option<Date>, Option<Date>), ApiError> {
        let from = Q::date("from", self.from.as_deref())?;
        let to = Q::date("to", self.to.as_deref())?;
        if let (Some(f), Some(t)) = (from, to) {
            if t < f {
                return Err(ApiError::param("to: before from"));
            }
            if (t - f).whole_days() > MAX_RANGE_DAYS {
                return Err(ApiError::param("from, to: at most 20 years apart"));
            }
        }
        Ok((from, to))
    }

    fn bbox(&self) -> Result<Option<Rect<f64>>, ApiError> {
        let Some(v) = self.bbox.as_deref() else {
            return Ok(None);
        };
        let bad = || ApiError::param(format!("bbox: west,south,east,north in degrees, not {v:?}"));
        let n: Vec<f64> = v
            .split(',')
            .map(|x| x.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|_| bad())?;
        match n[..] {
            [w, s, e, no]
                if n.iter().all(|x| x.is_finite())
                    && w <= e
                    && s <= no
                    && w >= -180.0
                    && e <= 180.0
                    && s >= -90.0
                    && no <= 90.0 =>
            {
                Ok(Some(Rect::new((w, s), (e, no))))
            }
            _ => Err(bad()),
        }
    }

    fn category(&self) -> Result<Option<Category>, ApiError> {
        match self
            .category
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            None => Ok(None),
            Some(c) => c
                .parse::<Category>()
                .map(Some)
                .map_err(|e| ApiError::param(format!("category: {e}"))),
        }
    }

    fn grade(&self) -> Result<Option<Grade>, ApiError> {
        match self
            .grade
            .as_deref()
            .map(str::trim)
            .filter(|g| !g.is_empty())
        {
            None => Ok(None),
            Some(g) => g
                .parse::<Grade>()
                .map(Some)
                .map_err(|e| ApiError::param(format!("grade: {e}"))),
        }
    }
}

/// The wards layer as the figures need it: each ward's borough and name.
struct Wards {
    borough_of: HashMap<i64, String>,
    name_of: HashMap<i64, String>,
}

fn wards_of(atlas: &Atlas) -> Wards {
    let layer = atlas.index().read(Layer::Wards);
    let mut w = Wards {
        borough_of: HashMap::new(),
        name_of: HashMap::new(),
    };
    for a in layer.iter() {
        if let Some(n) = a.attrs.ward {
            if let Some(b) = &a.attrs.borough {
                w.borough_of.insert(n, b.clone());
            }
            if let Some(name) = &a.attrs.name {
                w.name_of.insert(n, name.clone());
            }
        }
    }
    w
}

/// Which assets an area filter admits.
#[derive(Clone, Default)]
struct Area {
    ward: Option<i64>,
    wards: Option<Vec<i64>>,
    bbox: Option<Rect<f64>>,
}

impl Area {
    fn of(q: &Q, wards: &Wards) -> Result<Area, ApiError> {
        Ok(Area {
            ward: q.ward()?,
            wards: q.borough(wards)?.map(|(_, w)| w),
            bbox: q.bbox()?,
        })
    }

    fn admits(&self, a: &Asset) -> bool {
        self.ward.is_none_or(|w| a.attrs.ward == Some(w))
            && self
                .wards
                .as_ref()
                .is_none_or(|ws| a.attrs.ward.is_some_and(|w| ws.contains(&w)))
            && self.bbox.is_none_or(|b| {
                crate::geom::bbox(&a.geometry).is_some_and(|r| {
                    r.min().x <= b.max().x
                        && r.max().x >= b.min().x
                        && r.min().y <= b.max().y
                        && r.max().y >= b.min().y
                })
            })
    }

    fn admits_fact(&self, f: &AssetFact) -> bool {
        self.admits_ward(f.ward())
    }

    /// The figures of a layer's assets in the area (the box through the layer's tree).
    fn facts<'a>(&'a self, layer: &'a LayerIndex) -> Box<dyn Iterator<Item = &'a AssetFact> + 'a> {
        match self.bbox {
            Some(b) => Box::new(layer.facts_in(&b).filter(|f| self.admits_fact(f))),
            None => Box::new(layer.facts().filter(|f| self.admits_fact(f))),
        }
    }

    fn admits_ward(&self, ward: Option<i64>) -> bool {
        self.ward.is_none_or(|w| ward == Some(w))
            && self
                .wards
                .as_ref()
                .is_none_or(|ws| ward.is_some_and(|w| ws.contains(&w)))
    }
}

/// Runs a count off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))
}

fn answer(v: Value) -> Response {
    ([(header::CACHE_CONTROL, "no-cache")], Json(v)).into_response()
}

/// A CSV table, not cached.
fn csv_answer(name: &str, rows: Vec<Vec<String>>) -> Result<Response, ApiError> {
    let mut r = super::csv_table(name, &rows)?;
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-cache"),
    );
    Ok(r)
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

fn header_row(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

fn date_json(d: Option<Date>) -> Value {
    d.map_or(Value::Null, |d| Value::String(d.to_string()))
}

// ---- the register ------------------------------------------------------------------

async fn register(State(s): State<AppState>, Params(q): Params<Q>) -> Result<Response, ApiError> {
    q.only(&["by", "layers", "ward", "borough", "bbox", "f"])?;
    let by = q.by(
        GroupBy::Ward,
        GroupBy::parse,
        "ward, borough, layer, kind, grade or month",
    )?;
    let layers = super::layers(
        q.layers.as_deref(),
        &[Layer::Heritage, Layer::WaterBodies, Layer::Parks],
    )?;
    let csv = q.csv()?;
    let area = Area::of(&q, &wards_of(&s.atlas))?;
    let iv = s.intervals;
    let atlas = s.atlas.clone();
    let ls = layers.clone();
    let groups = blocking(move || {
        let index = atlas.index();
        let guards: Vec<_> = ls.iter().map(|l| (*l, index.read(*l))).collect();
        stats::health(
            guards
                .iter()
                .flat_map(|(l, g)| area.facts(g).map(move |f| (*l, f))),
            by,
            today(),
            &iv,
        )
    })
    .await?;
    if csv {
        let mut rows = vec![header_row(&[
            "group",
            "assets",
            "good",
            "fair",
            "poor",
            "critical",
            "unknown",
            "poor_share",
            "assessed_12m",
            "assessed_12m_share",
            "inspections_due",
        ])];
        for h in &groups {
            rows.push(vec![
                h.group.clone(),
                h.assets.to_string(),
                h.condition["good"].to_string(),
                h.condition["fair"].to_string(),
                h.condition["poor"].to_string(),
                h.condition["critical"].to_string(),
                h.condition["unknown"].to_string(),
                opt(h.poor_share),
                h.assessed_12m.to_string(),
                opt(h.assessed_12m_share),
                h.inspections_due.to_string(),
            ]);
        }
        return csv_answer("register-health", rows);
    }
    Ok(answer(json!({
        "by": q.by_name("ward"),
        "layers": layers,
        "as_of": today().to_string(),
        "inspection_interval_months": iv,
        "groups": groups,
    })))
}

fn due_items(atlas: &Atlas, area: &Area, grade: Option<Grade>, iv: &Intervals) -> Vec<stats::Due> {
    let layer = atlas.index().read(Layer::Heritage);
    stats::inspections_due(
        layer
            .iter()
            .map(|a| a.as_ref())
            .filter(|a| area.admits(a))
            .filter(|a| grade.is_none_or(|g| a.attrs.grade == Some(g))),
        today(),
        iv,
    )
}

async fn due(State(s): State<AppState>, Params(q): Params<Q>) -> Result<Response, ApiError> {
    q.only(&["ward", "borough", "bbox", "grade", "f"])?;
    let grade = q.grade()?;
    let csv = q.csv()?;
    let area = Area::of(&q, &wards_of(&s.atlas))?;
    let iv = s.intervals;
    let atlas = s.atlas.clone();
    let items = blocking(move || due_items(&atlas, &area, grade, &iv)).await?;
    if csv {
        let mut rows = vec![header_row(&[
            "code",
            "name",
            "grade",
            "ward",
            "condition",
            "last_inspected",
            "due_on",
            "days_overdue",
        ])];
        for d in &items {
            rows.push(vec![
                d.code.clone(),
                d.name.clone().unwrap_or_default(),
                d.grade.as_str().to_string(),
                opt(d.ward),
                opt(d.condition.map(|c| c.as_str())),
                d.last_inspected.clone().unwrap_or_default(),
                d.due_on.clone().unwrap_or_default(),
                opt(d.days_overdue),
            ]);
        }
        return csv_answer("inspections-due", rows);
    }
    Ok(answer(json!({
        "as_of": today().to_string(),
        "inspection_interval_months": iv,
        "numberReturned": items.len(),
        "items": items,
    })))
}

// ---- complaints --------------------------------------------------------------------

fn complaint_filter(
    q: &Q,
    wards: &Wards,
    range: (Option<Date>, Option<Date>),
) -> Result<complaints::Filter, ApiError> {
    Ok(complaints::Filter {
        from: range.0.map(stats::ist_midnight),
        to: range
            .1
            .map(|d| stats::ist_midnight(d.next_day().unwrap_or(d))),
        ward: q.ward()?,
        wards: q.borough(wards)?.map(|(_, w)| w),
        category: q.category()?,
        bbox: q.bbox()?,
    })
}

fn complaint_figures_in(
    atlas: &Atlas,
    by: complaints::By,
    filter: &complaints::Filter,
    borough_of: &HashMap<i64, String>,
) -> (Vec<complaints::Row>, complaints::Row) {
    let pins = atlas.index().complaints();
    complaints::figures(pins.facts(), by, filter, borough_of, now().unix_timestamp())
}

fn complaint_csv_row(r: &complaints::Row) -> Vec<String> {
    vec![
        r.group.clone(),
        r.filed.to_string(),
        r.open.to_string(),
        r.resolved.to_string(),
        r.rejected.to_string(),
        r.duplicate.to_string(),
        r.overdue_now.to_string(),
        r.acknowledge.count.to_string(),
        opt(r.acknowledge.p50_hours),
        opt(r.acknowledge.p90_hours),
        opt(r.resolve.p50_hours),
        opt(r.resolve.p90_hours),
        r.within_deadline.on_time.to_string(),
        opt(r.within_deadline.share),
    ]
}

async fn complaint_figures(
    State(s): State<AppState>,
    Params(q): Params<Q>,
) -> Result<Response, ApiError> {
    q.only(&[
        "by", "from", "to", "ward", "borough", "category", "bbox", "f",
    ])?;
    let by = q.by(
        complaints::By::Ward,
        complaints::By::parse,
        "ward, borough, category, status or month",
    )?;
    let csv = q.csv()?;
    let range = q.range()?;
    let wards = wards_of(&s.atlas);
    let filter = complaint_filter(&q, &wards, range)?;
    let atlas = s.atlas.clone();
    let (groups, total) =
        blocking(move || complaint_figures_in(&atlas, by, &filter, &wards.borough_of)).await?;
    if csv {
        let mut rows = vec![header_row(&[
            "group",
            "filed",
            "open",
            "resolved",
            "rejected",
            "duplicate",
            "overdue_now",
            "acknowledged",
            "acknowledge_p50_hours",
            "acknowledge_p90_hours",
            "resolve_p50_hours",
            "resolve_p90_hours",
            "resolved_on_time",
            "within_deadline_share",
        ])];
        rows.extend(groups.iter().map(complaint_csv_row));
        rows.push(complaint_csv_row(&total));
        return csv_answer("complaints", rows);
    }
    Ok(answer(json!({
        "by": q.by_name("ward"),
        "from": date_json(range.0),
        "to": date_json(range.1),
        "as_of": crate::model::rfc3339(now()),
        "groups": groups,
        "total": total,
    })))
}

// ---- maintenance -------------------------------------------------------------------

/// Works in the range and area, their ward (and borough) found from the location when
/// not recorded.
async fn works(
    s: &AppState,
    area: &Area,
    layers: &[Layer],
    range: (Option<Date>, Option<Date>),
    borough_of: &HashMap<i64, String>,
) -> Result<Vec<maintenance::Work>, ApiError> {
    let all = s.atlas.store().maintenance_works().await?;
    let index = s.atlas.index();
    let mut out = Vec::new();
    for (asset, mut w) in all {
        if let Some(a) = index.get(crate::model::AssetId(asset)) {
            w.ward = w.ward.or(a.attrs.ward);
        }
        if w.borough.is_none() {
            w.borough = w.ward.and_then(|n| borough_of.get(&n).cloned());
        }
        let day = stats::day(&w.date);
        let in_range = range.0.is_none_or(|f| day.is_some_and(|d| d >= f))
            && range.1.is_none_or(|t| day.is_some_and(|d| d <= t));
        let layer_ok = layers.iter().any(|l| l.as_str() == w.layer);
        if in_range && layer_ok && area.admits_ward(w.ward) {
            out.push(w);
        }
    }
    Ok(out)
}

async fn maintenance_figures(
    State(s): State<AppState>,
    Params(q): Params<Q>,
) -> Result<Response, ApiError> {
    q.only(&["by", "from", "to", "ward", "borough", "layers", "f"])?;
    let by = q.by(
        maintenance::By::Ward,
        maintenance::By::parse,
        "ward, borough, layer, kind, grade, year or month",
    )?;
    let layers = super::layers(
        q.layers.as_deref(),
        &[Layer::Heritage, Layer::WaterBodies, Layer::Parks],
    )?;
    let csv = q.csv()?;
    let range = q.range()?;
    let wards = wards_of(&s.atlas);
    let area = Area::of(&q, &wards)?;
    let list = works(&s, &area, &layers, range, &wards.borough_of).await?;
    let (groups, total) = maintenance::figures(&list, by);
    if csv {
        let mut rows = vec![header_row(&["group", "works", "costed", "spend_inr"])];
        for r in groups.iter().chain([&total]) {
            rows.push(vec![
                r.group.clone(),
                r.works.to_string(),
                r.costed.to_string(),
                r.spend_inr.to_string(),
            ]);
        }
        return csv_answer("maintenance", rows);
    }
    Ok(answer(json!({
        "by": q.by_name("ward"),
        "from": date_json(range.0),
        "to": date_json(range.1),
        "groups": groups,
        "total": total,
    })))
}

// ---- water -------------------------------------------------------------------------

fn water_in(atlas: &Atlas, area: &Area, by: water::By) -> (Vec<water::Row>, water::Row) {
    let layer = atlas.index().read(Layer::WaterBodies);
    water::figures(area.facts(&layer), by)
}

fn water_csv_row(r: &water::Row) -> Vec<String> {
    let mut v = vec![r.group.clone(), r.count.to_string(), r.area_m2.to_string()];
    for st in ["active", "encroached", "filled"] {
        let c = r.status.get(st).copied().unwrap_or_default();
        v.push(c.count.to_string());
        v.push(c.area_m2.to_string());
    }
    v.push(r.protected.count.to_string());
    v.push(r.protected.area_m2.to_string());
    v
}

async fn water_figures(
    State(s): State<AppState>,
    Params(q): Params<Q>,
) -> Result<Response, ApiError> {
    q.only(&["by", "ward", "borough", "bbox", "f"])?;
    let by = q.by(
        water::By::Ward,
        water::By::parse,
        "ward, borough, kind or status",
    )?;
    let csv = q.csv()?;
    let area = Area::of(&q, &wards_of(&s.atlas))?;
    let atlas = s.atlas.clone();
    let (groups, total) = blocking(move || water_in(&atlas, &area, by)).await?;
    if csv {
        let mut rows = vec![header_row(&[
            "group",
            "count",
            "area_m2",
            "active_count",
            "active_area_m2",
            "encroached_count",
            "encroached_area_m2",
            "filled_count",
            "filled_area_m2",
            "protected_count",
            "protected_area_m2",
        ])];
        rows.extend(groups.iter().chain([&total]).map(water_csv_row));
        return csv_answer("water", rows);
    }
    Ok(answer(json!({
        "by": q.by_name("ward"),
        "as_of": today().to_string(),
        "groups": groups,
        "total": total,
    })))
}

/// Changes of water in the range and area, their ward found as for works.
async fn changes(
    s: &AppState,
    area: &Area,
    range: (Option<Date>, Option<Date>),
    borough_of: &HashMap<i64, String>,
) -> Result<Vec<water::Change>, ApiError> {
    // Versions are stamped in UTC; the range is IST days.
    let stamp = |d: Date| {
        crate::model::instant_ms(
            time::OffsetDateTime::from_unix_timestamp(stats::ist_midnight(d))
                .unwrap_or(time::OffsetDateTime::UNIX_EPOCH),
        )
    };
    let from = range.0.map(stamp);
    let to = range.1.map(|d| stamp(d.next_day().unwrap_or(d)));
    let all = s
        .atlas
        .store()
        .water_changes(from.as_deref(), to.as_deref())
        .await?;
    let index = s.atlas.index();
    Ok(all
        .into_iter()
        .map(|mut c| {
            if c.ward.is_none() {
                c.ward = index
                    .get(crate::model::AssetId(c.asset_id))
                    .and_then(|a| a.attrs.ward);
            }
            if c.borough.is_none() {
                c.borough = c.ward.and_then(|w| borough_of.get(&w).cloned());
            }
            c
        })
        .filter(|c| area.admits_ward(c.ward))
        .collect())
}

async fn water_loss(State(s): State<AppState>, Params(q): Params<Q>) -> Result<Response, ApiError> {
    q.only(&["by", "from", "to", "ward", "borough", "f"])?;
    let by = q.by(
        water::LossBy::Ward,
        water::LossBy::parse,
        "ward, borough or month",
    )?;
    let csv = q.csv()?;
    let range = q.range()?;
    let wards = wards_of(&s.atlas);
    let area = Area::of(&q, &wards)?;
    let list = changes(&s, &area, range, &wards.borough_of).await?;
    let (groups, total) = water::losses(&list, by);
    if csv {
        let mut rows = vec![header_row(&[
            "group",
            "water_bodies",
            "area_lost_m2",
            "area_gained_m2",
        ])];
        for r in groups.iter().chain([&total]) {
            rows.push(vec![
                r.group.clone(),
                r.water_bodies.to_string(),
                r.area_lost_m2.to_string(),
                r.area_gained_m2.to_string(),
            ]);
        }
        return csv_answer("water-loss", rows);
    }
    Ok(answer(json!({
        "by": q.by_name("ward"),
        "from": date_json(range.0),
        "to": date_json(range.1),
        "groups": groups,
        "total": total,
    })))
}

// ---- per ward: the choropleth and the monthly report -------------------------------

/// The choropleth's metrics, per ward.
#[derive(Debug, serde::Serialize)]
struct WardRow {
    ward: i64,
    borough: Option<String>,
    name: Option<String>,
    assets: usize,
    poor_share: Option<f64>,
    inspections_due: usize,
    complaints_filed: usize,
    overdue_complaints: usize,
    water_area_m2: f64,
    water_complaints: usize,
    complaints_per_10000m2_water: Option<f64>,
}

fn is_water_category(c: Category) -> bool {
    matches!(c, Category::WaterBodyFilling | Category::WaterBodyPollution)
}

fn ward_rows(atlas: &Atlas, iv: &Intervals, filter: &complaints::Filter) -> Vec<WardRow> {
    let wards = wards_of(atlas);
    let index = atlas.index();
    let mut rows: HashMap<i64, WardRow> = wards
        .borough_of
        .keys()
        .chain(wards.name_of.keys())
        .map(|w| {
            (
                *w,
                WardRow {
                    ward: *w,
                    borough: wards.borough_of.get(w).cloned(),
                    name: wards.name_of.get(w).cloned(),
                    assets: 0,
                    poor_share: None,
                    inspections_due: 0,
                    complaints_filed: 0,
                    overdue_complaints: 0,
                    water_area_m2: 0.0,
                    water_complaints: 0,
                    complaints_per_10000m2_water: None,
                },
            )
        })
        .collect();
    {
        let layers = [Layer::Heritage, Layer::WaterBodies, Layer::Parks];
        let guards: Vec<_> = layers.iter().map(|l| (*l, index.read(*l))).collect();
        let health = stats::health(
            guards.iter().flat_map(|(l, g)| {
                g.facts()
                    .filter(|f| f.ward().is_some_and(|w| rows.contains_key(&w)))
                    .map(move |f| (*l, f))
            }),
            GroupBy::Ward,
            today(),
            iv,
        );
        for h in health {
            if let Some(r) = h.group.parse().ok().and_then(|w: i64| rows.get_mut(&w)) {
                r.assets = h.assets;
                r.poor_share = h.poor_share;
                r.inspections_due = h.inspections_due;
            }
        }
        for f in guards[1].1.facts() {
            if f.status() != WaterStatus::Filled {
                if let Some(r) = f.ward().and_then(|w| rows.get_mut(&w)) {
                    r.water_area_m2 += f.area_m2;
                }
            }
        }
    }
    let now_s = now().unix_timestamp();
    let unfiltered = complaints::Filter {
        ward: None,
        wards: None,
        ..filter.clone()
    };
    for p in index.complaints().facts() {
        let Some(r) = p.ward().and_then(|w| rows.get_mut(&w)) else {
            continue;
        };
        if p.status().is_open() && p.deadline < now_s {
            r.overdue_complaints += 1;
        }
        if unfiltered.admits(p) {
            r.complaints_filed += 1;
            if is_water_category(p.category()) {
                r.water_complaints += 1;
            }
        }
    }
    let mut out: Vec<WardRow> = rows
        .into_values()
        .map(|mut r| {
            r.water_area_m2 = (r.water_area_m2 * 10.0).round() / 10.0;
            r.complaints_per_10000m2_water = (r.water_area_m2 > 0.0).then(|| {
                (r.water_complaints as f64 / r.water_area_m2 * 10_000.0 * 1000.0).round() / 1000.0
            });
            r
        })
        .collect();
    out.sort_by_key(|r| r.ward);
    out
}

async fn wards(State(s): State<AppState>, Params(q): Params<Q>) -> Result<Response, ApiError> {
    q.only(&["from", "to", "f"])?;
    let csv = q.csv()?;
    let range = q.range()?;
    let filter = complaint_filter(&q, &wards_of(&s.atlas), range)?;
    let iv = s.intervals;
    let atlas = s.atlas.clone();
    let rows = blocking(move || ward_rows(&atlas, &iv, &filter)).await?;
    if csv {
        let mut out = vec![header_row(&[
            "ward",
            "borough",
            "name",
            "assets",
            "poor_share",
            "inspections_due",
            "complaints_filed",
            "overdue_complaints",
            "water_area_m2",
            "water_complaints",
            "complaints_per_10000m2_water",
        ])];
        for r in &rows {
            out.push(vec![
                r.ward.to_string(),
                r.borough.clone().unwrap_or_default(),
                r.name.clone().unwrap_or_default(),
                r.assets.to_string(),
                opt(r.poor_share),
                r.inspections_due.to_string(),
                r.complaints_filed.to_string(),
                r.overdue_complaints.to_string(),
                r.water_area_m2.to_string(),
                r.water_complaints.to_string(),
                opt(r.complaints_per_10000m2_water),
            ]);
        }
        return csv_answer("wards", out);
    }
    Ok(answer(json!({
        "from": date_json(range.0),
        "to": date_json(range.1),
        "as_of": crate::model::rfc3339(now()),
        "metrics": ["poor_share", "overdue_complaints", "inspections_due", "complaints_per_10000m2_water"],
        "wards": rows,
    })))
}

/// `YYYY-MM` to its first and last day.
fn month_range(m: &str) -> Option<(Date, Date)> {
    if m.len() != 7 {
        return None;
    }
    let first = stats::day(&format!("{m}-01"))?;
    let last = stats::add_months(first, 1).previous_day()?;
    Some((first, last))
}

async fn ward_report(
    State(s): State<AppState>,
    Params(q): Params<Q>,
) -> Result<Response, ApiError> {
    q.only(&["ward", "month"])?;
    let ward = q
        .ward()?
        .ok_or_else(|| ApiError::param("ward: required, a ward number"))?;
    let month = match q.month.as_deref() {
        Some(m) => m.trim().to_string(),
        None => stats::month_label(stats::ist_month(now().unix_timestamp())),
    };
    let (first, last) = month_range(&month)
        .ok_or_else(|| ApiError::param(format!("month: YYYY-MM, not {month:?}")))?;
    let wards = wards_of(&s.atlas);
    if !wards.borough_of.contains_key(&ward) && !wards.name_of.contains_key(&ward) {
        return Err(ApiError::NotFound(format!(
            "no ward {ward} on the wards layer"
        )));
    }
    let range = (Some(first), Some(last));
    let area = Area {
        ward: Some(ward),
        ..Area::default()
    };
    let filter = complaints::Filter {
        from: Some(stats::ist_midnight(first)),
        to: Some(stats::ist_midnight(last.next_day().unwrap_or(last))),
        ward: Some(ward),
        ..complaints::Filter::default()
    };
    let iv = s.intervals;
    let atlas = s.atlas.clone();
    let borough_of = Arc::new(wards.borough_of.clone());
    let b2 = borough_of.clone();
    let a2 = area.clone();
    let (register, complaints_row, by_category, overdue, due, water_row) = blocking(move || {
        let index = atlas.index();
        let layers = [Layer::Heritage, Layer::WaterBodies, Layer::Parks];
        let guards: Vec<_> = layers.iter().map(|l| (*l, index.read(*l))).collect();
        let register = stats::health(
            guards
                .iter()
                .flat_map(|(l, g)| a2.facts(g).map(move |f| (*l, f))),
            GroupBy::Ward,
            today(),
            &iv,
        )
        .pop();
        drop(guards);
        // One pass: the total of the rows by category is the ward's month.
        let (by_category, total) =
            complaint_figures_in(&atlas, complaints::By::Category, &filter, &b2);
        let now_s = now().unix_timestamp();
        let mut overdue: Vec<Value> = {
            let pins = index.complaints();
            let mut v: Vec<_> = pins
                .facts()
                .iter()
                .filter(|p| p.ward() == Some(ward) && p.status().is_open() && p.deadline < now_s)
                .filter_map(|p| pins.get(p.id).cloned())
                .collect();
            v.sort_by_key(|p| (p.times.deadline, p.id));
            v.iter()
                .map(|p| {
                    json!({
                        "ticket": p.ticket,
                        "category": p.category,
                        "status": p.status,
                        "filed_at": p.created_at,
                        "deadline": crate::model::rfc3339(
                            time::OffsetDateTime::from_unix_timestamp(p.times.deadline)
                                .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)),
                        "days_overdue": (now_s - p.times.deadline) / 86_400,
                    })
                })
                .collect()
        };
        overdue.truncate(10_000);
        let due = due_items(&atlas, &a2, None, &iv);
        let (_, water_row) = water_in(&atlas, &a2, water::By::Ward);
        (register, total, by_category, overdue, due, water_row)
    })
    .await?;
    let works = works(
        &s,
        &area,
        &[Layer::Heritage, Layer::WaterBodies, Layer::Parks],
        range,
        &borough_of,
    )
    .await?;
    let (_, maintenance_total) = maintenance::figures(&works, maintenance::By::Ward);
    let lost = changes(&s, &area, range, &borough_of).await?;
    let (_, loss_total) = water::losses(&lost, water::LossBy::Ward);
    Ok(answer(json!({
        "ward": ward,
        "borough": wards.borough_of.get(&ward),
        "name": wards.name_of.get(&ward),
        "month": month,
        "from": first.to_string(),
        "to": last.to_string(),
        "as_of": crate::model::rfc3339(now()),
        "inspection_interval_months": iv,
        "register": register,
        "complaints": complaints_row,
        "by_category": by_category,
        "overdue": overdue,
        "inspections_due": due,
        "maintenance": maintenance_total,
        "water": water_row,
        "water_loss": loss_total,
    })))
}

// ---- staff: the queues -------------------------------------------------------------

async fn queues(
    State(s): State<AppState>,
    Staff(user): Staff,
    Params(q): Params<Q>,
) -> Result<Response, ApiError> {
    q.only(&["ward"])?;
    let asked = q.ward()?;
    let ward = if user.role == Role::FieldStaff {
        if asked.is_some() && asked != user.ward {
            return Err(ApiError::Forbidden(
                "field staff see their own ward's queue".into(),
            ));
        }
        Some(user.ward.ok_or_else(|| {
            ApiError::Forbidden("a field staff member without a ward has no queue".into())
        })?)
    } else {
        asked
    };
    let complaints = s
        .atlas
        .store()
        .complaint_queues(ward, &crate::model::now_rfc3339())
        .await?;
    let applications: Vec<Value> = if user.role == Role::FieldStaff {
        Vec::new()
    } else {
        s.atlas
            .application_stats()
            .await?
            .iter()
            .flat_map(|t| {
                t.stages.iter().map(move |st| {
                    json!({"type": t.kind, "stage": st.stage, "open": st.open, "overdue": st.overdue})
                })
            })
            .collect()
    };
    Ok(answer(json!({
        "as_of": crate::model::rfc3339(now()),
        "ward": ward,
        "complaints": complaints,
        "applications": applications,
    })))
}
