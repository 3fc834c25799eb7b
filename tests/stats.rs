//! Monitoring figures (issue 18, first part) against a recount: seeded random heritage
//! assets with grades, conditions, wards and inspection dates; `/stats/register` by ward
//! and by grade and `/stats/inspections-due` must equal a brute-force pass over the same
//! assets as the OGC API lists them — a second reading of the register, with the date
//! rules written again here.

mod common;

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
    for by in ["ward", "grade"] {
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
