//! Monitoring figures over the register (issue 18, first part): its health by ward,
//! borough, layer, kind or grade — assets by condition, the share in poor or critical
//! condition, the share assessed in the last 12 months — and the inspections due: each
//! grade has an interval (Grade I 12 months, IIA 18, IIB 24, III 36), counted from the
//! last inspection (`condition_assessed_at`), a building never inspected being due now.
//!
//! Pure functions over the indexed assets: the index holds every asset in memory, so a
//! figure is one pass with no SQL; nothing here knows HTTP.

use std::collections::BTreeMap;

use serde::Serialize;
use time::{Date, Month};

use crate::model::{Asset, Condition, Grade};

/// How figures are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Ward,
    Borough,
    Layer,
    Kind,
    Grade,
}

impl GroupBy {
    pub fn parse(s: &str) -> Option<GroupBy> {
        Some(match s {
            "ward" => GroupBy::Ward,
            "borough" => GroupBy::Borough,
            "layer" => GroupBy::Layer,
            "kind" => GroupBy::Kind,
            "grade" => GroupBy::Grade,
            _ => return None,
        })
    }

    /// The group an asset falls in (`none` when it has no value there).
    pub fn key(self, a: &Asset) -> String {
        let none = || "none".to_string();
        match self {
            GroupBy::Ward => a.attrs.ward.map_or_else(none, |w| w.to_string()),
            GroupBy::Borough => a.attrs.borough.clone().unwrap_or_else(none),
            GroupBy::Layer => a.layer.to_string(),
            GroupBy::Kind => a.kind.to_string(),
            GroupBy::Grade => a.attrs.grade.map_or_else(none, |g| g.as_str().to_string()),
        }
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

fn ratio(n: usize, d: usize) -> Option<f64> {
    (d > 0).then(|| (n as f64 / d as f64 * 1000.0).round() / 1000.0)
}

/// The date part of a stored timestamp or date.
fn day(s: &str) -> Option<Date> {
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

/// The register's health, one group each, in group order.
pub fn health<'a>(
    assets: impl IntoIterator<Item = &'a Asset>,
    by: GroupBy,
    today: Date,
    iv: &Intervals,
) -> Vec<Health> {
    let year_ago = today - time::Duration::days(365);
    let mut groups: BTreeMap<String, Health> = BTreeMap::new();
    for a in assets {
        let key = by.key(a);
        let h = groups.entry(key.clone()).or_insert_with(|| Health {
            group: key,
            assets: 0,
            condition: ["good", "fair", "poor", "critical", "unknown"]
                .into_iter()
                .map(|c| (c, 0))
                .collect(),
            poor_share: None,
            assessed_12m: 0,
            assessed_12m_share: None,
            inspections_due: 0,
        });
        h.assets += 1;
        let c = a.attrs.condition.map_or("unknown", |c| c.as_str());
        *h.condition.entry(c).or_default() += 1;
        if a.attrs
            .condition_assessed_at
            .as_deref()
            .and_then(day)
            .is_some_and(|d| d > year_ago && d <= today)
        {
            h.assessed_12m += 1;
        }
        if is_due(a, iv, today) {
            h.inspections_due += 1;
        }
    }
    groups
        .into_values()
        .map(|mut h| {
            let known = h.assets - h.condition["unknown"];
            h.poor_share = ratio(h.condition["poor"] + h.condition["critical"], known);
            h.assessed_12m_share = ratio(h.assessed_12m, h.assets);
            h
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
}
