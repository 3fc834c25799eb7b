//! Complaint figures: filed, open, resolved, rejected, duplicates, overdue now; the
//! median and 90th-percentile hours to acknowledge and to resolve; the share resolved
//! within the category's deadline — per ward, borough, category, status or month of
//! filing, over the complaints filed in a range.
//!
//! One pass over the pins the index holds (each carries its times, see
//! [`crate::model::PinTimes`]), so a million complaints are counted in memory without
//! SQL; nothing here knows HTTP.

use std::collections::{BTreeMap, HashMap};

use geo_types::Rect;
use serde::Serialize;

use super::facts::{PinFact, NONE64};
use super::{ist_month, month_label, Key};
use crate::model::{Category, Status};

/// How complaints are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    Ward,
    Borough,
    Category,
    Status,
    Month,
}

impl By {
    pub fn parse(s: &str) -> Option<By> {
        Some(match s {
            "ward" => By::Ward,
            "borough" => By::Borough,
            "category" => By::Category,
            "status" => By::Status,
            "month" => By::Month,
            _ => return None,
        })
    }
}

/// Which complaints are counted: filed in `[from, to)` (Unix seconds), in a ward, a
/// borough's wards, a category, a box.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub ward: Option<i64>,
    /// The borough's wards, when a borough is asked for.
    pub wards: Option<Vec<i64>>,
    pub category: Option<Category>,
    pub bbox: Option<Rect<f64>>,
}

impl Filter {
    pub fn admits(&self, p: &PinFact) -> bool {
        let t = p.filed;
        let ward = p.ward();
        self.from.is_none_or(|f| t >= f)
            && self.to.is_none_or(|e| t < e)
            && self.ward.is_none_or(|w| ward == Some(w))
            && self
                .wards
                .as_ref()
                .is_none_or(|ws| ward.is_some_and(|w| ws.contains(&w)))
            && self.category.is_none_or(|c| p.category() == c)
            && self.bbox.is_none_or(|b| {
                p.lon >= b.min().x && p.lon <= b.max().x && p.lat >= b.min().y && p.lat <= b.max().y
            })
    }
}

/// Hours, as a count and two percentiles.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hours {
    pub count: usize,
    pub p50_hours: Option<f64>,
    pub p90_hours: Option<f64>,
}

/// Resolved within the deadline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OnTime {
    pub resolved: usize,
    pub on_time: usize,
    pub share: Option<f64>,
}

/// One group's complaint figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub group: String,
    pub filed: usize,
    pub open: usize,
    pub resolved: usize,
    pub rejected: usize,
    pub duplicate: usize,
    pub overdue_now: usize,
    pub acknowledge: Hours,
    pub resolve: Hours,
    pub within_deadline: OnTime,
}

#[derive(Default)]
struct Acc {
    filed: usize,
    open: usize,
    resolved: usize,
    rejected: usize,
    duplicate: usize,
    overdue: usize,
    on_time: usize,
    /// Seconds to the first action, to resolution.
    ack: Vec<i64>,
    res: Vec<i64>,
}

impl Acc {
    fn add(&mut self, p: &PinFact, now: i64) {
        self.filed += 1;
        match p.status() {
            Status::Resolved => {
                self.resolved += 1;
                if p.closed != NONE64 {
                    self.res.push(p.closed - p.filed);
                    if p.closed <= p.deadline {
                        self.on_time += 1;
                    }
                }
            }
            Status::Rejected => self.rejected += 1,
            Status::Duplicate => self.duplicate += 1,
            _ => {
                self.open += 1;
                if p.deadline < now {
                    self.overdue += 1;
                }
            }
        }
        if p.acknowledged != NONE64 {
            self.ack.push(p.acknowledged - p.filed);
        }
    }

    fn merge(&mut self, o: &Acc) {
        self.filed += o.filed;
        self.open += o.open;
        self.resolved += o.resolved;
        self.rejected += o.rejected;
        self.duplicate += o.duplicate;
        self.overdue += o.overdue;
        self.on_time += o.on_time;
        self.ack.extend_from_slice(&o.ack);
        self.res.extend_from_slice(&o.res);
    }

    fn row(mut self, group: String) -> Row {
        Row {
            group,
            filed: self.filed,
            open: self.open,
            resolved: self.resolved,
            rejected: self.rejected,
            duplicate: self.duplicate,
            overdue_now: self.overdue,
            acknowledge: hours(&mut self.ack),
            resolve: hours(&mut self.res),
            within_deadline: OnTime {
                resolved: self.resolved,
                on_time: self.on_time,
                share: super::ratio(self.on_time, self.resolved),
            },
        }
    }
}

/// The nearest-rank percentile `p` (0–100) of `v` (reordered in place): the ⌈p·n/100⌉-th
/// smallest.
pub fn percentile(v: &mut [i64], p: u32) -> Option<i64> {
    if v.is_empty() {
        return None;
    }
    let rank = (p as usize * v.len()).div_ceil(100).max(1);
    let (_, x, _) = v.select_nth_unstable(rank - 1);
    Some(*x)
}

fn hours(v: &mut [i64]) -> Hours {
    let h = |s: Option<i64>| s.map(|s| (s as f64 / 36.0).round() / 100.0);
    Hours {
        count: v.len(),
        p50_hours: h(percentile(v, 50)),
        p90_hours: h(percentile(v, 90)),
    }
}

/// The figures per group and for all, over the pins `filter` admits; `borough_of` maps a
/// ward to its borough, `now` is Unix seconds.
pub fn figures<'a>(
    pins: impl IntoIterator<Item = &'a PinFact>,
    by: By,
    filter: &Filter,
    borough_of: &HashMap<i64, String>,
    now: i64,
) -> (Vec<Row>, Row) {
    let mut boroughs: Vec<&str> = borough_of.values().map(String::as_str).collect();
    boroughs.sort_unstable();
    boroughs.dedup();
    // Each ward's borough as its place in `boroughs`, worked out once rather than per pin.
    let borough_index: HashMap<i64, i64> = borough_of
        .iter()
        .filter_map(|(w, b)| Some((*w, boroughs.binary_search(&b.as_str()).ok()? as i64)))
        .collect();
    let mut groups: HashMap<Key, Acc> = HashMap::new();
    for p in pins.into_iter().filter(|p| filter.admits(p)) {
        let key = match by {
            By::Ward => p.ward().map_or(Key::None, Key::Num),
            By::Borough => p
                .ward()
                .and_then(|w| borough_index.get(&w))
                .map_or(Key::None, |i| Key::Num(*i)),
            By::Category => Key::Num(p.category as i64),
            By::Status => Key::Num(p.status as i64),
            By::Month => Key::Num(ist_month(p.filed)),
        };
        groups.entry(key).or_default().add(p, now);
    }
    let label = |k: &Key| -> (u8, String) {
        match (by, k) {
            (_, Key::None) => (2, "none".into()),
            (By::Ward, Key::Num(w)) => (0, w.to_string()),
            (By::Borough, Key::Num(i)) => (1, boroughs[*i as usize].to_string()),
            (By::Category, Key::Num(i)) => (1, category_name(*i)),
            (By::Status, Key::Num(i)) => (1, status_name(*i)),
            (By::Month, Key::Num(m)) => (0, month_label(*m)),
        }
    };
    let mut total = Acc::default();
    let mut sorted: BTreeMap<(u8, i64, String), Acc> = BTreeMap::new();
    for (k, acc) in groups {
        total.merge(&acc);
        let (class, name) = label(&k);
        let num = match (by, k) {
            (By::Ward | By::Month, Key::Num(n)) => n,
            _ => 0,
        };
        sorted.insert((class, num, name), acc);
    }
    let rows = sorted
        .into_iter()
        .map(|((_, _, name), acc)| acc.row(name))
        .collect();
    (rows, total.row("total".into()))
}

fn category_name(i: i64) -> String {
    Category::ALL
        .get(i as usize)
        .map_or("none", |c| c.as_str())
        .to_string()
}

fn status_name(i: i64) -> String {
    Status::ALL
        .get(i as usize)
        .map_or("none", |s| s.as_str())
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let mut v = vec![15, 20, 35, 40, 50];
        assert_eq!(percentile(&mut v, 50), Some(35));
        assert_eq!(percentile(&mut v, 90), Some(50));
        assert_eq!(percentile(&mut v, 40), Some(20));
        assert_eq!(percentile(&mut [], 50), None);
        assert_eq!(percentile(&mut [7], 90), Some(7));
    }
}
