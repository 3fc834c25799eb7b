//! Monitoring figures over the register (issue 18, first part): its health by ward,
//! borough, layer, kind or grade — assets by condition, the share in poor or critical
//! condition, the share assessed in the last 12 months — and the inspections due: each
//! grade has an interval (Grade I 12 months, IIA 18, IIB 24, III 36), counted from the
//! last inspection (`condition_assessed_at`), a building never inspected being due now.
//!
//! Pure functions over the indexed assets: the index holds every asset in memory, so a
//! figure is one pass with no SQL; nothing here knows HTTP.

pub mod complaints;
pub mod facts;
pub mod maintenance;
pub mod water;

use std::collections::BTreeMap;

use serde::Serialize;
use time::{Date, Month};

use crate::model::{Asset, Condition, Grade, Kind, Layer};
use facts::AssetFact;

/// How figures are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Ward,
    Borough,
    Layer,
    Kind,
    Grade,
    /// The month of the last assessment.
    Month,
}

impl GroupBy {
    pub fn parse(s: &str) -> Option<GroupBy> {
        Some(match s {
            "ward" => GroupBy::Ward,
            "borough" => GroupBy::Borough,
            "layer" => GroupBy::Layer,
            "kind" => GroupBy::Kind,
            "grade" => GroupBy::Grade,
            "month" => GroupBy::Month,
            _ => return None,
        })
    }
}

/// Months between inspections, by grade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Intervals {
    pub i: u32,
    pub iia: u32,
    pub iib: u32,
    pub iii: u32,
}

impl Default for Intervals {
    fn default() -> Self {
        Intervals {
            i: 12,
            iia: 18,
            iib: 24,
            iii: 36,
        }
    }
}

impl Intervals {
    /// `I=12,IIA=18,IIB=24,III=36` (any subset; the rest keep their defaults).
    pub fn parse(s: &str) -> Result<Intervals, String> {
        let mut iv = Intervals::default();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (g, m) = part
                .split_once('=')
                .ok_or_else(|| format!("{part:?}: GRADE=MONTHS, e.g. I=12"))?;
            let months: u32 = m
                .trim()
                .parse()
                .ok()
                .filter(|m| (1..=240).contains(m))
                .ok_or_else(|| format!("{part:?}: months from 1 to 240"))?;
            match g.trim().parse::<Grade>().map_err(|e| e.to_string())? {
                Grade::I => iv.i = months,
                Grade::IIA => iv.iia = months,
                Grade::IIB => iv.iib = months,
                Grade::III => iv.iii = months,
            }
        }
        Ok(iv)
    }

    pub fn months(&self, g: Grade) -> u32 {
        match g {
            Grade::I => self.i,
            Grade::IIA => self.iia,
            Grade::IIB => self.iib,
            Grade::III => self.iii,
        }
    }
}

/// One group's register health.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Health {
    pub group: String,
    pub assets: usize,
    /// By condition: good, fair, poor, critical, unknown (unknown also when none recorded).
    pub condition: BTreeMap<&'static str, usize>,
    /// Poor or critical, of those whose condition is known.
    pub poor_share: Option<f64>,
    /// Assessed within the 12 months before `today`.
    pub assessed_12m: usize,
    pub assessed_12m_share: Option<f64>,
    /// Graded buildings whose inspection is due.
    pub inspections_due: usize,
}

/// An inspection due.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Due {
    pub code: String,
    pub name: Option<String>,
    pub grade: Grade,
    pub ward: Option<i64>,
    pub condition: Option<Condition>,
    /// The last inspection's date; `None`: never inspected.
    pub last_inspected: Option<String>,
    /// When the next was due; `None`: never inspected (due now).
    pub due_on: Option<String>,
    pub days_overdue: Option<i64>,
}

/// A group's key while counting: a number (ward, month, an index into a table) or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key {
    Num(i64),
    None,
}

/// Groups in the order they are shown: numbers (wards) numerically when `numeric`, then
/// the rest by name, `none` last.
pub struct Sorted<T> {
    numeric: bool,
    map: BTreeMap<(u8, i64, String), T>,
}

impl<T> Sorted<T> {
    pub fn new(numeric: bool) -> Sorted<T> {
        Sorted {
            numeric,
            map: BTreeMap::new(),
        }
    }

    pub fn insert(&mut self, key: String, v: T) {
        let k = match key.parse::<i64>() {
            _ if key == "none" => (2, 0, key),
            Ok(n) if self.numeric => (0, n, key),
            _ => (1, 0, key),
        };
        self.map.insert(k, v);
    }

    pub fn rows(self) -> impl Iterator<Item = (String, T)> {
        self.map.into_iter().map(|((_, _, k), v)| (k, v))
    }
}

/// India Standard Time, the department's clock.
pub const IST_SECONDS: i64 = 5 * 3600 + 30 * 60;

/// The IST month of a Unix time, as `year * 12 + month - 1`.
pub fn ist_month(unix: i64) -> i64 {
    let d = ist_date(unix);
    d.year() as i64 * 12 + d.month() as i64 - 1
}

/// `2026-11` from `year * 12 + month - 1`.
pub fn month_label(m: i64) -> String {
    format!("{:04}-{:02}", m.div_euclid(12), m.rem_euclid(12) + 1)
}

/// The Unix time at which an IST date begins.
pub fn ist_midnight(d: Date) -> i64 {
    d.midnight().assume_utc().unix_timestamp() - IST_SECONDS
}

/// The IST date of a Unix time.
pub fn ist_date(unix: i64) -> Date {
    let days = (unix + IST_SECONDS).div_euclid(86_400);
    Date::from_julian_day((days + 2_440_588) as i32).unwrap_or(Date::MIN)
}

pub(crate) fn ratio(n: usize, d: usize) -> Option<f64> {
    (d > 0).then(|| (n as f64 / d as f64 * 1000.0).round() / 1000.0)
}

/// The date part of a stored timestamp or date.
pub(crate) fn day(s: &str) -> Option<Date> {
    let d = s.get(..10)?;
    Date::parse(
        d,
        &time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

/// `d` plus `months` calendar months (the 31st becomes the month's last day).
pub fn add_months(d: Date, months: u32) -> Date {
    let total = d.year() * 12 + (d.month() as i32 - 1) + months as i32;
    let (year, month) = (total.div_euclid(12), total.rem_euclid(12) + 1);
    let month = Month::try_from(month as u8).unwrap_or(Month::January);
    let last = month.length(year);
    Date::from_calendar_date(year, month, d.day().min(last)).unwrap_or(d)
}

/// When a graded asset's next inspection is due, from its last; `None`: never inspected.
pub fn due_on(a: &Asset, iv: &Intervals) -> Option<Option<Date>> {
    let g = a.attrs.grade?;
    Some(
        a.attrs
            .condition_assessed_at
            .as_deref()
            .and_then(day)
            .map(|last| add_months(last, iv.months(g))),
    )
}

/// Whether a graded asset's inspection is due on `today`.
pub fn is_due(a: &Asset, iv: &Intervals, today: Date) -> bool {
    match due_on(a, iv) {
        None => false,
        Some(None) => true,
        Some(Some(d)) => d <= today,
    }
}

/// The group key of an asset's figures (see [`label`]).
pub fn fact_key(by: GroupBy, layer: Layer, f: &AssetFact) -> Key {
    match by {
        GroupBy::Ward => f.ward().map_or(Key::None, Key::Num),
        GroupBy::Borough if f.borough == 0 => Key::None,
        GroupBy::Borough => Key::Num(f.borough as i64),
        GroupBy::Layer => Key::Num(Layer::ALL.iter().position(|l| *l == layer).unwrap_or(0) as i64),
        GroupBy::Kind => Key::Num(f.kind as i64),
        GroupBy::Grade if f.grade == 0 => Key::None,
        GroupBy::Grade => Key::Num(f.grade as i64),
        GroupBy::Month => f.assessed().map_or(Key::None, |d| {
            Key::Num(d.year() as i64 * 12 + d.month() as i64 - 1)
        }),
    }
}

/// The name of a group key.
pub fn label(by: GroupBy, k: Key) -> String {
    let Key::Num(n) = k else {
        return "none".into();
    };
    let named =
        |all: &[&'static str], i: i64| all.get(i as usize).copied().unwrap_or("none").to_string();
    match by {
        GroupBy::Ward => n.to_string(),
        GroupBy::Borough => facts::borough_name(n as u16).to_string(),
        GroupBy::Layer => named(
            &Layer::ALL.iter().map(|l| l.as_str()).collect::<Vec<_>>(),
            n,
        ),
        GroupBy::Kind => named(&Kind::ALL.iter().map(|l| l.as_str()).collect::<Vec<_>>(), n),
        GroupBy::Grade => named(
            &Grade::ALL.iter().map(|l| l.as_str()).collect::<Vec<_>>(),
            n - 1,
        ),
        GroupBy::Month => month_label(n),
    }
}

/// Whether a graded asset's inspection is due on `today`, from its figures.
pub fn fact_is_due(f: &AssetFact, iv: &Intervals, today: Date) -> bool {
    let Some(g) = f.grade() else {
        return false;
    };
    match f.assessed() {
        None => true,
        Some(last) => add_months(last, iv.months(g)) <= today,
    }
}

#[derive(Default)]
struct HealthAcc {
    assets: usize,
    condition: [usize; 5],
    assessed: usize,
    due: usize,
}

/// The register's health, one group each, in group order (wards numerically).
pub fn health<'a>(
    facts: impl IntoIterator<Item = (Layer, &'a AssetFact)>,
    by: GroupBy,
    today: Date,
    iv: &Intervals,
) -> Vec<Health> {
    let year_ago = today - time::Duration::days(365);
    let mut groups: std::collections::HashMap<Key, HealthAcc> = Default::default();
    for (layer, f) in facts {
        let h = groups.entry(fact_key(by, layer, f)).or_default();
        h.assets += 1;
        h.condition[(f.condition as usize).min(4)] += 1;
        if f.assessed().is_some_and(|d| d > year_ago && d <= today) {
            h.assessed += 1;
        }
        if fact_is_due(f, iv, today) {
            h.due += 1;
        }
    }
    let mut sorted = Sorted::new(by == GroupBy::Ward);
    for (k, h) in groups {
        sorted.insert(label(by, k), h);
    }
    sorted
        .rows()
        .map(|(group, h)| {
            let condition: BTreeMap<&'static str, usize> = Condition::ALL
                .iter()
                .map(|c| c.as_str())
                .zip(h.condition)
                .collect();
            let known = h.assets - h.condition[4];
            Health {
                group,
                assets: h.assets,
                poor_share: ratio(h.condition[2] + h.condition[3], known),
                condition,
                assessed_12m: h.assessed,
                assessed_12m_share: ratio(h.assessed, h.assets),
                inspections_due: h.due,
            }
        })
        .collect()
}

/// Every graded asset whose inspection is due on `today`: never inspected first, then
/// the longest overdue.
pub fn inspections_due<'a>(
    assets: impl IntoIterator<Item = &'a Asset>,
    today: Date,
    iv: &Intervals,
) -> Vec<Due> {
    let mut out: Vec<Due> = assets
        .into_iter()
        .filter(|a| is_due(a, iv, today))
        .filter_map(|a| {
            let grade = a.attrs.grade?;
            let due = due_on(a, iv).flatten();
            Some(Due {
                code: a.code.clone(),
                name: a.attrs.name.clone(),
                grade,
                ward: a.attrs.ward,
                condition: a.attrs.condition,
                last_inspected: a
                    .attrs
                    .condition_assessed_at
                    .as_deref()
                    .and_then(day)
                    .map(|d| d.to_string()),
                due_on: due.map(|d| d.to_string()),
                days_overdue: due.map(|d| (today - d).whole_days()),
            })
        })
        .collect();
    out.sort_by(|a, b| {
        b.days_overdue
            .unwrap_or(i64::MAX)
            .cmp(&a.days_overdue.unwrap_or(i64::MAX))
            .then(a.code.cmp(&b.code))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn months_are_calendar_months() {
        assert_eq!(add_months(date!(2025 - 01 - 31), 1), date!(2025 - 02 - 28));
        assert_eq!(add_months(date!(2024 - 01 - 31), 1), date!(2024 - 02 - 29));
        assert_eq!(add_months(date!(2025 - 11 - 15), 18), date!(2027 - 05 - 15));
        assert_eq!(add_months(date!(2025 - 12 - 01), 12), date!(2026 - 12 - 01));
    }

    #[test]
    fn intervals_parse_any_subset_and_refuse_nonsense() {
        let iv = Intervals::parse("I=6, iii=48").unwrap();
        assert_eq!((iv.i, iv.iia, iv.iib, iv.iii), (6, 18, 24, 48));
        assert_eq!(Intervals::parse("").unwrap(), Intervals::default());
        for bad in ["I", "I=0", "I=241", "IV=12", "I=twelve"] {
            assert!(Intervals::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ist_months_and_days() {
        // 18:29:59 UTC on 31 March is still March in Kolkata; 18:30 is April.
        let t = time::macros::datetime!(2026-03-31 18:29:59 UTC).unix_timestamp();
        assert_eq!(month_label(ist_month(t)), "2026-03");
        assert_eq!(month_label(ist_month(t + 1)), "2026-04");
        assert_eq!(ist_date(t + 1), date!(2026 - 04 - 01));
        assert_eq!(ist_midnight(date!(2026 - 04 - 01)), t + 1);
        assert_eq!(month_label(ist_month(0)), "1970-01");
    }
}
