//! Water bodies: how many and how much water by status (active, encroached, filled) and
//! protection, now, from the index; and the area lost, from the register's versions —
//! each new version of a water body whose water (its area, or none once filled) is
//! smaller than the version before loses the difference.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use super::facts::AssetFact;
use super::{ist_month, month_label, Key, Sorted};
use crate::model::{Kind, WaterStatus};

/// How water bodies are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    Ward,
    Borough,
    Kind,
    Status,
}

impl By {
    pub fn parse(s: &str) -> Option<By> {
        Some(match s {
            "ward" => By::Ward,
            "borough" => By::Borough,
            "kind" => By::Kind,
            "status" => By::Status,
            _ => return None,
        })
    }
}

/// A count and an area.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct CountArea {
    pub count: usize,
    pub area_m2: f64,
}

impl CountArea {
    fn add(&mut self, area: f64) {
        self.count += 1;
        self.area_m2 += area;
    }

    fn rounded(mut self) -> CountArea {
        self.area_m2 = (self.area_m2 * 10.0).round() / 10.0;
        self
    }
}

/// One group's water.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub group: String,
    pub count: usize,
    pub area_m2: f64,
    pub status: BTreeMap<&'static str, CountArea>,
    pub protected: CountArea,
}

#[derive(Default)]
struct Acc {
    all: CountArea,
    status: [CountArea; 3],
    protected: CountArea,
}

impl Acc {
    fn add(&mut self, a: &AssetFact) {
        let area = a.area_m2;
        self.all.add(area);
        let i = match a.status() {
            WaterStatus::Active => 0,
            WaterStatus::Encroached => 1,
            WaterStatus::Filled => 2,
        };
        self.status[i].add(area);
        if a.protected {
            self.protected.add(area);
        }
    }

    fn merge(&mut self, o: &Acc) {
        let m = |x: &mut CountArea, y: &CountArea| {
            x.count += y.count;
            x.area_m2 += y.area_m2;
        };
        m(&mut self.all, &o.all);
        for i in 0..3 {
            m(&mut self.status[i], &o.status[i]);
        }
        m(&mut self.protected, &o.protected);
    }

    fn row(&self, group: String) -> Row {
        let all = self.all.rounded();
        Row {
            group,
            count: all.count,
            area_m2: all.area_m2,
            status: ["active", "encroached", "filled"]
                .into_iter()
                .zip(self.status.iter().map(|c| c.rounded()))
                .collect(),
            protected: self.protected.rounded(),
        }
    }
}

/// Water bodies now, per group and in all.
pub fn figures<'a>(facts: impl IntoIterator<Item = &'a AssetFact>, by: By) -> (Vec<Row>, Row) {
    let mut groups: HashMap<Key, Acc> = HashMap::new();
    for f in facts {
        let key = match by {
            By::Ward => f.ward().map_or(Key::None, Key::Num),
            By::Borough if f.borough == 0 => Key::None,
            By::Borough => Key::Num(f.borough as i64),
            By::Kind => Key::Num(f.kind as i64),
            By::Status => Key::Num(f.status() as i64),
        };
        groups.entry(key).or_default().add(f);
    }
    let mut total = Acc::default();
    let mut sorted = Sorted::new(by == By::Ward);
    for (k, acc) in groups {
        total.merge(&acc);
        let name = match (by, k) {
            (_, Key::None) => "none".to_string(),
            (By::Ward, Key::Num(n)) => n.to_string(),
            (By::Borough, Key::Num(n)) => super::facts::borough_name(n as u16).to_string(),
            (By::Kind, Key::Num(n)) => Kind::ALL
                .get(n as usize)
                .map_or("none", |k| k.as_str())
                .to_string(),
            (By::Status, Key::Num(n)) => WaterStatus::ALL
                .get(n as usize)
                .map_or("none", |s| s.as_str())
                .to_string(),
        };
        sorted.insert(name, acc);
    }
    let rows = sorted.rows().map(|(k, acc)| acc.row(k)).collect();
    (rows, total.row("total".into()))
}

/// A change of a water body's water between two of its versions.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub asset_id: i64,
    /// When the later version was recorded, Unix seconds.
    pub at: i64,
    pub ward: Option<i64>,
    pub borough: Option<String>,
    /// Square metres lost (negative: gained).
    pub lost_m2: f64,
}

/// How area lost is grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LossBy {
    Ward,
    Borough,
    Month,
}

impl LossBy {
    pub fn parse(s: &str) -> Option<LossBy> {
        Some(match s {
            "ward" => LossBy::Ward,
            "borough" => LossBy::Borough,
            "month" => LossBy::Month,
            _ => return None,
        })
    }
}

/// One group's water lost and gained.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LossRow {
    pub group: String,
    /// Water bodies that lost area.
    pub water_bodies: usize,
    pub area_lost_m2: f64,
    pub area_gained_m2: f64,
}

#[derive(Default)]
struct LossAcc {
    losing: HashSet<i64>,
    lost: f64,
    gained: f64,
}

impl LossAcc {
    fn add(&mut self, c: &Change) {
        if c.lost_m2 > 0.0 {
            self.losing.insert(c.asset_id);
            self.lost += c.lost_m2;
        } else {
            self.gained -= c.lost_m2;
        }
    }

    fn row(&self, group: String) -> LossRow {
        LossRow {
            group,
            water_bodies: self.losing.len(),
            area_lost_m2: (self.lost * 10.0).round() / 10.0,
            area_gained_m2: (self.gained * 10.0).round() / 10.0,
        }
    }
}

/// Area lost per group and in all, over the changes given (already filtered).
pub fn losses<'a>(
    changes: impl IntoIterator<Item = &'a Change>,
    by: LossBy,
) -> (Vec<LossRow>, LossRow) {
    let mut groups: HashMap<String, LossAcc> = HashMap::new();
    let mut total = LossAcc::default();
    for c in changes {
        let key = match by {
            LossBy::Ward => c.ward.map(|w| w.to_string()),
            LossBy::Borough => c.borough.clone(),
            LossBy::Month => Some(month_label(ist_month(c.at))),
        };
        groups
            .entry(key.unwrap_or_else(|| "none".into()))
            .or_default()
            .add(c);
        total.add(c);
    }
    let mut sorted = Sorted::new(by == LossBy::Ward);
    for (k, acc) in groups {
        sorted.insert(k, acc);
    }
    let rows = sorted.rows().map(|(k, acc)| acc.row(k)).collect();
    (rows, total.row("total".into()))
}
