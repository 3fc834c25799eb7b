//! Monitoring figures (issue 18, first part) against a recount: seeded random heritage
//! assets with grades, conditions, wards and inspection dates; `/stats/register` by ward
//! and by grade and `/stats/inspections-due` must equal a brute-force pass over the same
//! assets as the OGC API lists them — a second reading of the register, with the date
//! rules written again here.

// Raw rows are read as tuples, the recount's own reading of the tables.
#![allow(clippy::type_complexity)]

use crate::common;

use std::collections::{BTreeMap, BTreeSet};

use common::{asset, rect_polygon, TestServer};
use heritage_atlas::model::{Condition, Grade, Kind, Layer};
use heritage_atlas::store::EditContext;
use rand::{Rng, SeedableRng};
use serde_json::Value;

fn today() -> time::Date {
    time::OffsetDateTime::now_utc()
        .to_offset(time::macros::offset!(+5:30))
        .date()
}

/// Whether an inspection on `last` is due again by `today` after `months`, by counting
/// whole months passed.
fn due(last: time::Date, months: i32, today: time::Date) -> bool {
    let passed = (today.year() - last.year()) * 12 + (today.month() as i32 - last.month() as i32);
    if passed != months {
        return passed > months;
    }
    // The same month of the due year: due from the same day, or the month's last day.
    let last_day = today.month().length(today.year());
    today.day() >= last.day().min(last_day)
}

#[tokio::test]
async fn register_health_and_inspections_due_equal_a_recount() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(&dir.path().join("a.db"), false).await;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1818);
    let t = today();
    for i in 0..400 {
        let mut a = asset(
            Layer::Heritage,
            Kind::Building,
            format!("HER-7{i:03}"),
            rect_polygon(
                88.30 + (i % 20) as f64 * 0.002,
                22.50 + (i / 20) as f64 * 0.002,
                0.0005,
                0.0005,
                0.0,
            ),
        );
        a.attrs.grade = [
            None,
            Some(Grade::I),
            Some(Grade::IIA),
            Some(Grade::IIB),
            Some(Grade::III),
        ][rng.random_range(0..5)];
        a.attrs.ward = Some(rng.random_range(60..66));
        a.attrs.condition = [
            None,
            Some(Condition::Good),
            Some(Condition::Fair),
            Some(Condition::Poor),
            Some(Condition::Critical),
            Some(Condition::Unknown),
        ][rng.random_range(0..6)];
        if rng.random_bool(0.85) {
            // Dates across five years, and some right at the edges of the intervals.
            let back = if rng.random_bool(0.2) {
                [365, 366, 364, 547, 548, 730, 731, 1095, 1096][rng.random_range(0..9)]
            } else {
                rng.random_range(0..1900)
            };
            a.attrs.condition_assessed_at = Some((t - time::Duration::days(back)).to_string());
        }
        srv.atlas
            .upsert(&a, &EditContext::import("test"))
            .await
            .unwrap();
    }
    let (_, items) = srv.get("/collections/heritage/items?limit=1000").await;
    let feats = items["features"].as_array().unwrap();
    assert_eq!(feats.len(), 400);

    let months = |g: &str| match g {
        "I" => 12,
        "IIA" => 18,
        "IIB" => 24,
        _ => 36,
    };
    let parse = |s: &str| {
        time::Date::parse(
            &s[..10],
            &time::macros::format_description!("[year]-[month]-[day]"),
        )
        .unwrap()
    };
    let is_due = |p: &Value| -> bool {
        let Some(g) = p["grade"].as_str() else {
            return false;
        };
        match p["condition_assessed_at"].as_str() {
            None => true,
            Some(s) => due(parse(s), months(g), t),
        }
    };
    for by in ["ward", "grade", "kind", "borough"] {
        let (s, v) = srv
            .get(&format!("/stats/register?by={by}&layers=heritage"))
            .await;
        assert_eq!(s, 200, "{v}");
        let mut want: BTreeMap<String, (usize, [usize; 5], usize, usize)> = BTreeMap::new();
        for f in feats {
            let p = &f["properties"];
            let key = match &p[by] {
                Value::Null => "none".to_string(),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let e = want.entry(key).or_default();
            e.0 += 1;
            let c = match p["condition"].as_str() {
                Some("good") => 0,
                Some("fair") => 1,
                Some("poor") => 2,
                Some("critical") => 3,
                _ => 4,
            };
            e.1[c] += 1;
            if let Some(d) = p["condition_assessed_at"].as_str() {
                let d = parse(d);
                if d > t - time::Duration::days(365) && d <= t {
                    e.2 += 1;
                }
            }
            if is_due(p) {
                e.3 += 1;
            }
        }
        let groups = v["groups"].as_array().unwrap();
        assert_eq!(groups.len(), want.len(), "{by}");
        for g in groups {
            let (n, cond, assessed, due_n) = want[g["group"].as_str().unwrap()];
            assert_eq!(g["assets"].as_u64().unwrap() as usize, n, "{by} {g}");
            for (i, c) in ["good", "fair", "poor", "critical", "unknown"]
                .iter()
                .enumerate()
            {
                assert_eq!(
                    g["condition"][c].as_u64().unwrap() as usize,
                    cond[i],
                    "{by} {c} {g}"
                );
            }
            assert_eq!(
                g["assessed_12m"].as_u64().unwrap() as usize,
                assessed,
                "{by} {g}"
            );
            assert_eq!(
                g["inspections_due"].as_u64().unwrap() as usize,
                due_n,
                "{by} {g}"
            );
            let known = n - cond[4];
            if known > 0 {
                let share = (cond[2] + cond[3]) as f64 / known as f64;
                assert!(
                    (g["poor_share"].as_f64().unwrap() - share).abs() < 0.0006,
                    "{g}"
                );
            }
        }
    }

    let (_, d) = srv.get("/stats/inspections-due").await;
    let got: BTreeSet<&str> = d["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["code"].as_str().unwrap())
        .collect();
    let want: BTreeSet<&str> = feats
        .iter()
        .filter(|f| is_due(&f["properties"]))
        .map(|f| f["properties"]["code"].as_str().unwrap())
        .collect();
    assert_eq!(got, want);
    assert!(want.len() > 50 && want.len() < 300, "{}", want.len());
    // Never inspected first, then the longest overdue.
    let order: Vec<i64> = d["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["days_overdue"].as_i64().unwrap_or(i64::MAX))
        .collect();
    assert!(order.windows(2).all(|w| w[0] >= w[1]));
    // One ward, one grade; CSV has a row each.
    let (_, w) = srv.get("/stats/inspections-due?ward=61&grade=I").await;
    assert!(w["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["ward"] == 61 && i["grade"] == "I"));
    let csv = reqwest::get(srv.url("/stats/inspections-due?f=csv"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        csv::Reader::from_reader(csv.as_bytes()).records().count(),
        want.len()
    );
    for bad in [
        "/stats/register?by=colour",
        "/stats/inspections-due?grade=IV",
        "/stats/inspections-due?ward=x",
        "/stats/register?f=xml",
        "/stats/register?zoom=1",
    ] {
        assert_eq!(common::get_as(&srv, None, bad).await.0, 400, "{bad}");
    }
    srv.stop().await;
}

/// Nearest-rank percentile, written again: sort, then the value at ⌈p·n/100⌉ counted from 1.
fn nearest_rank(v: &[i64], p: f64) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort();
    let k = ((p / 100.0) * s.len() as f64).ceil() as usize;
    Some((s[k.max(1) - 1] as f64 / 36.0).round() / 100.0)
}

fn unix(s: &str) -> i64 {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .unwrap()
        .unix_timestamp()
}

/// A complaint as its raw rows say.
struct Raw {
    ward: Option<i64>,
    category: String,
    status: String,
    lon: f64,
    lat: f64,
    filed: i64,
    deadline: i64,
    first_action: Option<i64>,
    closed: Option<i64>,
}

async fn raw_complaints(db: &std::path::Path) -> Vec<Raw> {
    let pool = common::raw_pool(db).await;
    let rows: Vec<(i64, Option<i64>, String, String, f64, f64, String, String)> = sqlx::query_as(
        "SELECT id, ward, category, status, lon, lat, created_at, deadline FROM complaints",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let events: Vec<(i64, String, String)> =
        sqlx::query_as("SELECT complaint_id, at, status FROM complaint_events")
            .fetch_all(&pool)
            .await
            .unwrap();
    pool.close().await;
    let mut by: std::collections::HashMap<i64, Vec<(i64, String)>> = Default::default();
    for (c, at, st) in events {
        by.entry(c).or_default().push((unix(&at), st));
    }
    rows.into_iter()
        .map(
            |(id, ward, category, status, lon, lat, created, deadline)| {
                let ev = by.remove(&id).unwrap_or_default();
                let first = |f: &dyn Fn(&str) -> bool| {
                    ev.iter().filter(|(_, s)| f(s)).map(|(t, _)| *t).min()
                };
                Raw {
                    ward,
                    category,
                    status,
                    lon,
                    lat,
                    filed: unix(&created),
                    deadline: unix(&deadline),
                    first_action: first(&|s| s != "submitted"),
                    closed: first(&|s| matches!(s, "resolved" | "rejected" | "duplicate")),
                }
            },
        )
        .collect()
}

/// The complaint figures of `rows`, by the recount.
fn recount(rows: &[&Raw], now: i64) -> Value {
    let n = |st: &str| rows.iter().filter(|r| r.status == st).count();
    let open = rows
        .iter()
        .filter(|r| {
            matches!(
                r.status.as_str(),
                "submitted" | "acknowledged" | "in_progress"
            )
        })
        .count();
    let overdue = rows
        .iter()
        .filter(|r| {
            matches!(
                r.status.as_str(),
                "submitted" | "acknowledged" | "in_progress"
            ) && r.deadline < now
        })
        .count();
    let ack: Vec<i64> = rows
        .iter()
        .filter_map(|r| r.first_action.map(|a| a - r.filed))
        .collect();
    let resolved: Vec<&&Raw> = rows.iter().filter(|r| r.status == "resolved").collect();
    let res: Vec<i64> = resolved
        .iter()
        .map(|r| r.closed.unwrap() - r.filed)
        .collect();
    let on_time = resolved
        .iter()
        .filter(|r| r.closed.unwrap() <= r.deadline)
        .count();
    serde_json::json!({
        "filed": rows.len(), "open": open, "resolved": n("resolved"), "rejected": n("rejected"),
        "duplicate": n("duplicate"), "overdue_now": overdue,
        "acknowledge": {"count": ack.len(), "p50_hours": nearest_rank(&ack, 50.0), "p90_hours": nearest_rank(&ack, 90.0)},
        "resolve": {"count": res.len(), "p50_hours": nearest_rank(&res, 50.0), "p90_hours": nearest_rank(&res, 90.0)},
        "within_deadline": {"resolved": resolved.len(), "on_time": on_time,
            "share": (!resolved.is_empty()).then(|| (on_time as f64 / resolved.len() as f64 * 1000.0).round() / 1000.0)},
    })
}

/// The IST month and date of a Unix time, the slow way.
fn ist(t: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(t)
        .unwrap()
        .to_offset(time::macros::offset!(+5:30))
}

#[tokio::test(flavor = "multi_thread")]
async fn complaint_figures_equal_a_recount_over_the_raw_rows() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    // Random complaints with random courses, written before the server starts (its pins
    // are loaded from them), then more filed and moved through the API while it runs.
    {
        let store = common::open_store(&db).await;
        let n = store
            .generate_complaints(2500, 99, 18, time::OffsetDateTime::now_utc())
            .await
            .unwrap();
        assert_eq!(n, 2500);
        store.close().await;
    }
    let srv = TestServer::start(&db, true).await;
    let officer =
        common::add_user(&srv, "officer1", heritage_atlas::model::Role::Officer, None).await;
    let mut filed = Vec::new();
    for (i, cat) in [
        "tree_felling",
        "water_body_pollution",
        "park_maintenance",
        "other",
    ]
    .iter()
    .enumerate()
    {
        let (s, v) = common::post(
            &srv,
            "/complaints",
            None,
            &serde_json::json!({"lon": 88.30 + i as f64 * 0.01, "lat": 22.55, "category": cat,
                "description": format!("Figure check {i}"),
                "attributes": if *cat == "tree_felling" { serde_json::json!({"felling_in_progress": "yes"}) } else { serde_json::json!({}) }}),
        )
        .await;
        assert_eq!(s, 201, "{v}");
        filed.push(
            v["ticket"]
                .as_str()
                .or(v["service_request_id"].as_str())
                .unwrap()
                .to_string(),
        );
    }
    for (t, body) in [
        (&filed[0], serde_json::json!({"action": "acknowledge"})),
        (
            &filed[1],
            serde_json::json!({"action": "resolve", "note": "Cleaned."}),
        ),
        (
            &filed[2],
            serde_json::json!({"action": "reject", "note": "Not ours."}),
        ),
    ] {
        let (s, v) = common::patch(&srv, &format!("/complaints/{t}"), Some(&officer), &body).await;
        assert_eq!(s, 200, "{v}");
    }

    let raw = raw_complaints(&db).await;
    assert_eq!(raw.len(), 2504);
    let (_, wards) = srv.get("/collections/wards/items?limit=200").await;
    let borough_of: std::collections::HashMap<i64, String> = wards["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["properties"]["ward"].as_i64().unwrap(),
                f["properties"]["borough"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let today = ist(time::OffsetDateTime::now_utc().unix_timestamp()).date();
    let from = today - time::Duration::days(200);
    let to = today - time::Duration::days(20);
    let in_range = |r: &Raw| {
        let d = ist(r.filed).date();
        d >= from && d <= to
    };
    let cases: Vec<(
        String,
        Box<dyn Fn(&Raw) -> bool>,
        Box<dyn Fn(&Raw) -> String>,
    )> = vec![
        (
            "by=ward".into(),
            Box::new(|_| true),
            Box::new(|r: &Raw| r.ward.map_or("none".into(), |w| w.to_string())),
        ),
        (
            "by=borough".into(),
            Box::new(|_| true),
            Box::new(|r: &Raw| {
                r.ward
                    .and_then(|w| borough_of.get(&w).cloned())
                    .unwrap_or("none".into())
            }),
        ),
        (
            "by=category".into(),
            Box::new(|_| true),
            Box::new(|r: &Raw| r.category.clone()),
        ),
        (
            "by=status".into(),
            Box::new(|_| true),
            Box::new(|r: &Raw| r.status.clone()),
        ),
        (
            "by=month".into(),
            Box::new(|_| true),
            Box::new(|r: &Raw| {
                let d = ist(r.filed);
                format!("{:04}-{:02}", d.year(), d.month() as u8)
            }),
        ),
        (
            format!("by=category&from={from}&to={to}"),
            Box::new(in_range),
            Box::new(|r: &Raw| r.category.clone()),
        ),
        (
            "by=month&ward=79".into(),
            Box::new(|r: &Raw| r.ward == Some(79)),
            Box::new(|r: &Raw| {
                let d = ist(r.filed);
                format!("{:04}-{:02}", d.year(), d.month() as u8)
            }),
        ),
        (
            "by=ward&borough=VIII&category=water_body_filling".into(),
            Box::new(|r: &Raw| {
                r.category == "water_body_filling"
                    && r.ward
                        .and_then(|w| borough_of.get(&w))
                        .is_some_and(|b| b == "VIII")
            }),
            Box::new(|r: &Raw| r.ward.unwrap().to_string()),
        ),
        (
            "by=status&bbox=88.30,22.50,88.36,22.58".into(),
            Box::new(|r: &Raw| {
                r.lon >= 88.30 && r.lon <= 88.36 && r.lat >= 22.50 && r.lat <= 22.58
            }),
            Box::new(|r: &Raw| r.status.clone()),
        ),
    ];
    for (query, admit, key) in &cases {
        let before = time::OffsetDateTime::now_utc().unix_timestamp();
        let (s, v) = srv.get(&format!("/stats/complaints?{query}")).await;
        let after = time::OffsetDateTime::now_utc().unix_timestamp();
        assert_eq!(s, 200, "{query}: {v}");
        let mut groups: BTreeMap<String, Vec<&Raw>> = BTreeMap::new();
        for r in raw.iter().filter(|r| admit(r)) {
            groups.entry(key(r)).or_default().push(r);
        }
        let got: BTreeMap<String, &Value> = v["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| (g["group"].as_str().unwrap().to_string(), g))
            .collect();
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            groups.keys().collect::<Vec<_>>(),
            "{query}"
        );
        for (k, rows) in &groups {
            let mut g = got[k].clone();
            g.as_object_mut().unwrap().remove("group");
            // A complaint may cross its deadline between the recount's clock and the server's.
            assert!(
                g == recount(rows, before) || g == recount(rows, after),
                "{query} group {k}:\n got  {g}\n want {}",
                recount(rows, before)
            );
        }
        let all: Vec<&Raw> = raw.iter().filter(|r| admit(r)).collect();
        let mut total = v["total"].clone();
        total.as_object_mut().unwrap().remove("group");
        assert!(
            total == recount(&all, before) || total == recount(&all, after),
            "{query} total"
        );
    }
    // The figures are not empty by accident: every outcome and some overdue are there.
    let (_, v) = srv.get("/stats/complaints?by=status").await;
    let t = &v["total"];
    for f in ["open", "resolved", "rejected", "duplicate", "overdue_now"] {
        assert!(t[f].as_u64().unwrap() > 20, "{f}: {t}");
    }

    // The choropleth's rows: per ward, overdue now and filed, from the same raw rows.
    let (_, w) = srv.get("/stats/wards").await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let rows = w["wards"].as_array().unwrap();
    assert_eq!(rows.len(), 144);
    for row in rows {
        let ward = row["ward"].as_i64().unwrap();
        let of: Vec<&Raw> = raw.iter().filter(|r| r.ward == Some(ward)).collect();
        assert_eq!(
            row["complaints_filed"].as_u64().unwrap() as usize,
            of.len(),
            "{row}"
        );
        let overdue = recount(&of, now)["overdue_now"].as_u64().unwrap();
        assert!(
            (row["overdue_complaints"].as_u64().unwrap() as i64 - overdue as i64).abs() <= 1,
            "{row}"
        );
        let water = of
            .iter()
            .filter(|r| r.category.starts_with("water_body"))
            .count();
        assert_eq!(row["water_complaints"].as_u64().unwrap() as usize, water);
    }

    // The ward report lists the ward's overdue tickets, most overdue first.
    let busiest = rows
        .iter()
        .max_by_key(|r| r["overdue_complaints"].as_u64().unwrap())
        .unwrap()["ward"]
        .as_i64()
        .unwrap();
    let (s, rep) = srv
        .get(&format!("/stats/ward-report?ward={busiest}&month=2026-11"))
        .await;
    assert_eq!(s, 200, "{rep}");
    let overdue = rep["overdue"].as_array().unwrap();
    assert!(!overdue.is_empty());
    // Its month's figures are the recount of the ward's complaints filed that month.
    let in_month: Vec<&Raw> = raw
        .iter()
        .filter(|r| {
            let d = ist(r.filed);
            r.ward == Some(busiest) && d.year() == 2026 && d.month() == time::Month::November
        })
        .collect();
    let mut month = rep["complaints"].clone();
    month.as_object_mut().unwrap().remove("group");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    assert!(
        month == recount(&in_month, now) || month == recount(&in_month, now - 5),
        "ward report month: {month}"
    );
    let want_overdue = raw
        .iter()
        .filter(|r| r.ward == Some(busiest))
        .filter(|r| {
            matches!(
                r.status.as_str(),
                "submitted" | "acknowledged" | "in_progress"
            )
        })
        .filter(|r| r.deadline < now)
        .count();
    assert!(
        (overdue.len() as i64 - want_overdue as i64).abs() <= 1,
        "{}",
        overdue.len()
    );

    // The staff queue: open complaints per ward (none assigned here), by status and overdue,
    // recounted; field staff see their own ward only; the public none of it.
    let (s, _) = common::get_as(&srv, None, "/stats/queues").await;
    assert_eq!(s, 401);
    let (s, q) = common::get_as(&srv, Some(&officer), "/stats/queues").await;
    assert_eq!(s, 200, "{q}");
    let mut want: BTreeMap<i64, [usize; 4]> = BTreeMap::new();
    for r in &raw {
        let i = match r.status.as_str() {
            "submitted" => 0,
            "acknowledged" => 1,
            "in_progress" => 2,
            _ => continue,
        };
        let e = want.entry(r.ward.unwrap()).or_default();
        e[i] += 1;
        if r.deadline < now {
            e[3] += 1;
        }
    }
    let got: BTreeMap<i64, [usize; 4]> = q["complaints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            assert!(g["assignee"].is_null(), "{g}");
            let n = |f: &str| g[f].as_u64().unwrap() as usize;
            (
                g["ward"].as_i64().unwrap(),
                [
                    n("submitted"),
                    n("acknowledged"),
                    n("in_progress"),
                    n("overdue"),
                ],
            )
        })
        .collect();
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>()
    );
    for (w, g) in &got {
        assert_eq!(g[..3], want[w][..3], "ward {w}");
        assert!(g[3].abs_diff(want[w][3]) <= 1, "ward {w}");
    }
    let field = common::add_user(
        &srv,
        "field79",
        heritage_atlas::model::Role::FieldStaff,
        Some(79),
    )
    .await;
    let (s, q) = common::get_as(&srv, Some(&field), "/stats/queues").await;
    assert_eq!(s, 200, "{q}");
    assert!(q["complaints"]
        .as_array()
        .unwrap()
        .iter()
        .all(|g| g["ward"] == 79));
    assert!(q["applications"].as_array().unwrap().is_empty());
    let (s, _) = common::get_as(&srv, Some(&field), "/stats/queues?ward=80").await;
    assert_eq!(s, 403);
    let days: Vec<i64> = overdue
        .iter()
        .map(|o| o["days_overdue"].as_i64().unwrap())
        .collect();
    assert!(days.windows(2).all(|d| d[0] >= d[1]), "{days:?}");

    // CSV: the same total.
    let csv = reqwest::get(srv.url("/stats/complaints?by=category&f=csv"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let last = csv.lines().last().unwrap();
    assert!(last.starts_with(&format!("total,{},", raw.len())), "{last}");

    // Bad parameters are 400s with JSON.
    for q in [
        "by=colour",
        "from=2026-02-30",
        "from=2026-05-01&to=2026-04-01",
        "ward=0",
        "borough=XX",
        "category=pothole",
        "bbox=1,2,3",
        "f=xml",
        "layers=heritage",
        "from=1900-01-01&to=2026-01-01",
    ] {
        let (s, v) = srv.get(&format!("/stats/complaints?{q}")).await;
        assert_eq!(s, 400, "{q}: {v}");
        assert!(v["description"].is_string());
    }
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn maintenance_water_and_area_lost_equal_a_recount() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    let srv = TestServer::start(&db, true).await;
    let officer =
        common::add_user(&srv, "officer1", heritage_atlas::model::Role::Officer, None).await;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1819);
    let (_, her) = srv.get("/collections/heritage/items?limit=100").await;
    let codes: Vec<String> = her["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["code"].as_str().unwrap().to_string())
        .collect();
    for i in 0..60 {
        let code = &codes[rng.random_range(0..codes.len())];
        let y = rng.random_range(2019..2027);
        let date = format!(
            "{y}-{:02}-{:02}",
            rng.random_range(1..12),
            rng.random_range(1..28)
        );
        let mut body = serde_json::json!({"description": format!("Work {i}")});
        // A work needs a date: its completion, else its start.
        if rng.random_bool(0.5) {
            body["completed_on"] = date.into();
        } else {
            body["started_on"] = date.into();
        }
        if rng.random_bool(0.8) {
            body["cost_inr"] = rng.random_range(1_000..5_000_000i64).into();
        }
        let (s, v) = common::post(
            &srv,
            &format!("/assets/{code}/maintenance"),
            Some(&officer),
            &body,
        )
        .await;
        assert!(s == 200 || s == 201, "{v}");
    }
    // Recount from the raw rows, the asset's ward as the OGC API lists it.
    let mut ward_of: std::collections::HashMap<String, Option<i64>> = Default::default();
    for layer in ["heritage", "water_bodies", "parks"] {
        let (_, items) = srv
            .get(&format!("/collections/{layer}/items?limit=1000"))
            .await;
        for f in items["features"].as_array().unwrap() {
            ward_of.insert(
                f["properties"]["code"].as_str().unwrap().to_string(),
                f["properties"]["ward"].as_i64(),
            );
        }
    }
    let pool = common::raw_pool(&db).await;
    let works: Vec<(String, Option<String>, Option<String>, String, Option<i64>)> = sqlx::query_as(
        "SELECT a.code, m.completed_on, m.started_on, m.created_at, m.cost_inr FROM maintenance m JOIN assets a ON a.id = m.asset_id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    for by in ["ward", "year"] {
        let (s, v) = srv.get(&format!("/stats/maintenance?by={by}")).await;
        assert_eq!(s, 200, "{v}");
        let mut want: BTreeMap<String, (u64, u64, i64)> = BTreeMap::new();
        for (code, done, started, created, cost) in &works {
            let date = done
                .clone()
                .or(started.clone())
                .unwrap_or_else(|| ist(unix(created)).date().to_string());
            let key = match by {
                "ward" => ward_of[code].map_or("none".into(), |w| w.to_string()),
                _ => date[..4].to_string(),
            };
            let e = want.entry(key).or_default();
            e.0 += 1;
            if let Some(c) = cost {
                e.1 += 1;
                e.2 += c;
            }
        }
        let got: BTreeMap<String, (u64, u64, i64)> = v["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| {
                (
                    g["group"].as_str().unwrap().to_string(),
                    (
                        g["works"].as_u64().unwrap(),
                        g["costed"].as_u64().unwrap(),
                        g["spend_inr"].as_i64().unwrap(),
                    ),
                )
            })
            .collect();
        assert_eq!(got, want, "maintenance by {by}");
    }
    let (_, v) = srv
        .get("/stats/maintenance?by=year&from=2022-01-01&to=2023-12-31")
        .await;
    let years: Vec<&str> = v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["group"].as_str().unwrap())
        .collect();
    assert!(
        years.iter().all(|y| *y == "2022" || *y == "2023"),
        "{years:?}"
    );

    // Water bodies shrink, are filled, grow back: the area lost per ward and month is the
    // recount of each version against the one before.
    let (_, wb) = srv.get("/collections/water_bodies/items?limit=100").await;
    let feats = wb["features"].as_array().unwrap().clone();
    for round in 0..3 {
        for f in &feats {
            if rng.random_bool(0.5) {
                continue;
            }
            let code = f["properties"]["code"].as_str().unwrap();
            let id = f["id"].clone();
            let (_, cur) = srv
                .get(&format!(
                    "/collections/water_bodies/items/{}",
                    id.as_i64().map_or(code.to_string(), |n| n.to_string())
                ))
                .await;
            let mut g: geo_types::Geometry<f64> =
                serde_json::from_value::<geojson::Geometry>(cur["geometry"].clone())
                    .unwrap()
                    .try_into()
                    .unwrap();
            let k = rng.random_range(0.5..1.2);
            use geo::Scale;
            g.scale_mut(k);
            let mut a = heritage_atlas::model::NewAsset {
                layer: Layer::WaterBodies,
                code: Some(code.to_string()),
                kind: cur["properties"]["kind"].as_str().unwrap().parse().unwrap(),
                attrs: serde_json::from_value(cur["properties"].clone()).unwrap_or_default(),
                geometry: g,
            };
            a.attrs.ward = cur["properties"]["ward"].as_i64();
            if round == 2 && rng.random_bool(0.3) {
                a.attrs.status = Some(heritage_atlas::model::WaterStatus::Filled);
            }
            srv.atlas
                .upsert(&a, &EditContext::import("test"))
                .await
                .unwrap();
        }
    }
    let versions: Vec<(i64, i64, String, Option<i64>, Option<f64>, Option<String>)> = sqlx::query_as(
        "SELECT asset_id, version, at, ward, area_m2, status FROM asset_versions WHERE layer = 'water_bodies' ORDER BY asset_id, version",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    let mut lost: BTreeMap<(String, String), f64> = BTreeMap::new();
    for w in versions.windows(2) {
        let (a, b) = (&w[0], &w[1]);
        if a.0 != b.0 {
            continue;
        }
        let water = |v: &(i64, i64, String, Option<i64>, Option<f64>, Option<String>)| {
            if v.5.as_deref() == Some("filled") {
                0.0
            } else {
                v.4.unwrap_or(0.0)
            }
        };
        let d = water(a) - water(b);
        if d.abs() < 0.01 {
            continue;
        }
        let m = ist(unix(&b.2));
        let ward = b.3.map_or("none".into(), |w| w.to_string());
        *lost
            .entry((ward, format!("{:04}-{:02}", m.year(), m.month() as u8)))
            .or_default() += d.max(0.0);
    }
    assert!(lost.values().any(|v| *v > 0.0), "some water was lost");
    let (_, v) = srv.get("/stats/water-loss?by=ward").await;
    // Every ward that lost water has a row (and no other ward lost any).
    let losing: BTreeSet<String> = lost
        .iter()
        .filter(|(_, v)| **v > 0.0)
        .map(|((w, _), _)| w.clone())
        .collect();
    let rows: BTreeSet<String> = v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["area_lost_m2"].as_f64().unwrap() > 0.0)
        .map(|g| g["group"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(rows, losing);
    for g in v["groups"].as_array().unwrap() {
        let ward = g["group"].as_str().unwrap();
        let want: f64 = lost
            .iter()
            .filter(|((w, _), _)| w == ward)
            .map(|(_, v)| v)
            .sum();
        assert!(
            (g["area_lost_m2"].as_f64().unwrap() - want).abs() < 0.11,
            "{g} want {want}"
        );
    }
    let want_total: f64 = lost.values().sum();
    assert!((v["total"]["area_lost_m2"].as_f64().unwrap() - want_total).abs() < 0.11);
    let (_, v) = srv.get("/stats/water-loss?by=month").await;
    for g in v["groups"].as_array().unwrap() {
        let m = g["group"].as_str().unwrap();
        let want: f64 = lost
            .iter()
            .filter(|((_, mm), _)| mm == m)
            .map(|(_, v)| v)
            .sum();
        assert!(
            (g["area_lost_m2"].as_f64().unwrap() - want).abs() < 0.11,
            "{g} want {want}"
        );
    }

    // Water now, by status, against the OGC listing.
    let (_, wb) = srv.get("/collections/water_bodies/items?limit=100").await;
    let (_, v) = srv.get("/stats/water?by=status").await;
    let total: u64 = v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["count"].as_u64().unwrap())
        .sum();
    assert_eq!(total as usize, wb["features"].as_array().unwrap().len());
    for g in v["groups"].as_array().unwrap() {
        let st = g["group"].as_str().unwrap();
        let of: Vec<&Value> = wb["features"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["properties"]["status"].as_str().unwrap_or("active") == st)
            .collect();
        assert_eq!(g["count"].as_u64().unwrap() as usize, of.len(), "{g}");
        let prot = of
            .iter()
            .filter(|f| f["properties"]["protected"] == true)
            .count();
        assert_eq!(
            g["protected"]["count"].as_u64().unwrap() as usize,
            prot,
            "{g}"
        );
    }
    assert!(v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .any(|g| g["group"] == "filled"));
    srv.stop().await;
}
