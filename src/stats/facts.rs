//! What the figures need of an asset and of a complaint, packed into small `Copy` rows
//! held beside the index's slots and pins (32 and 48 bytes). A figure over 2.4 million
//! water bodies or a million complaints then reads one array in order instead of chasing
//! a pointer to each record: measured by `scripts/stats-bench.sh`, the register by ward
//! over the india-scale layer went from 588 ms to the figure in BENCHMARKS.md.

use std::sync::{Arc, RwLock};

use crate::model::{Asset, Condition, Grade, Kind, Pin, WaterStatus};

/// No value (a ward, a day, a time).
pub const NONE32: i32 = i32::MIN;
pub const NONE64: i64 = i64::MIN;

/// An asset as the figures see it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct AssetFact {
    /// The slot holds an asset (slots are reused after removal).
    pub live: bool,
    pub kind: u8,
    /// 0: none; else 1 + the grade's position in [`Grade::ALL`].
    pub grade: u8,
    /// Position in [`Condition::ALL`]; none recorded counts as unknown.
    pub condition: u8,
    /// 0: none; else 1 + the position in [`WaterStatus::ALL`].
    pub status: u8,
    pub protected: bool,
    /// 0: none; else 1 + the borough's number in [`borough_name`]'s table.
    pub borough: u16,
    pub ward: i32,
    /// The last assessment, days since 1970-01-01 (IST dates as recorded).
    pub assessed: i32,
    /// Geodesic area, m².
    pub area_m2: f64,
}

fn position<T: PartialEq>(all: &[T], v: &T) -> u8 {
    all.iter().position(|x| x == v).unwrap_or(0) as u8
}

impl AssetFact {
    pub fn of(a: &Asset) -> AssetFact {
        AssetFact {
            live: true,
            kind: position(Kind::ALL, &a.kind),
            grade: a.attrs.grade.map_or(0, |g| 1 + position(Grade::ALL, &g)),
            condition: position(
                Condition::ALL,
                &a.attrs.condition.unwrap_or(Condition::Unknown),
            ),
            status: a
                .attrs
                .status
                .map_or(0, |s| 1 + position(WaterStatus::ALL, &s)),
            protected: a.attrs.protected == Some(true),
            borough: a.attrs.borough.as_deref().map_or(0, borough_number),
            ward: a
                .attrs
                .ward
                .and_then(|w| i32::try_from(w).ok())
                .unwrap_or(NONE32),
            assessed: a
                .attrs
                .condition_assessed_at
                .as_deref()
                .and_then(super::day)
                .map_or(NONE32, |d| d.to_julian_day() - 2_440_588),
            area_m2: a.area_m2.unwrap_or(0.0),
        }
    }

    pub fn ward(&self) -> Option<i64> {
        (self.ward != NONE32).then_some(self.ward as i64)
    }

    pub fn grade(&self) -> Option<Grade> {
        (self.grade > 0).then(|| Grade::ALL[self.grade as usize - 1])
    }

    pub fn status(&self) -> WaterStatus {
        match self.status {
            0 => WaterStatus::Active,
            s => WaterStatus::ALL[s as usize - 1],
        }
    }

    pub fn assessed(&self) -> Option<time::Date> {
        (self.assessed != NONE32)
            .then(|| time::Date::from_julian_day(self.assessed + 2_440_588).ok())
            .flatten()
    }
}

/// Boroughs as recorded on assets, numbered in order of first sight. At most 65,534
/// distinct names are numbered; any further one (only a hostile import would have them)
/// counts as "other".
static BOROUGHS: RwLock<Vec<Arc<str>>> = RwLock::new(Vec::new());

fn borough_number(name: &str) -> u16 {
    if let Some(i) = BOROUGHS
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .position(|b| &**b == name)
    {
        return i as u16 + 1;
    }
    let mut all = BOROUGHS.write().unwrap_or_else(|e| e.into_inner());
    if let Some(i) = all.iter().position(|b| &**b == name) {
        return i as u16 + 1;
    }
    if all.len() >= u16::MAX as usize - 1 {
        return u16::MAX;
    }
    all.push(name.into());
    all.len() as u16
}

/// The name of a borough number (`none` for 0, `other` past the table).
pub fn borough_name(n: u16) -> Arc<str> {
    if n == 0 {
        return "none".into();
    }
    BOROUGHS
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(n as usize - 1)
        .cloned()
        .unwrap_or_else(|| "other".into())
}

/// A complaint as the figures see it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PinFact {
    pub id: i64,
    pub lon: f64,
    pub lat: f64,
    pub filed: i64,
    pub deadline: i64,
    /// [`NONE64`]: not yet.
    pub acknowledged: i64,
    pub closed: i64,
    pub ward: i32,
    pub category: u8,
    pub status: u8,
}

impl PinFact {
    pub fn of(p: &Pin) -> PinFact {
        PinFact {
            id: p.id,
            lon: p.lon,
            lat: p.lat,
            filed: p.times.filed,
            deadline: p.times.deadline,
            acknowledged: p.times.acknowledged.unwrap_or(NONE64),
            closed: p.times.closed.unwrap_or(NONE64),
            ward: p.ward.and_then(|w| i32::try_from(w).ok()).unwrap_or(NONE32),
            category: position(crate::model::Category::ALL, &p.category),
            status: position(crate::model::Status::ALL, &p.status),
        }
    }

    pub fn ward(&self) -> Option<i64> {
        (self.ward != NONE32).then_some(self.ward as i64)
    }

    pub fn category(&self) -> crate::model::Category {
        crate::model::Category::ALL[self.category as usize]
    }

    pub fn status(&self) -> crate::model::Status {
        crate::model::Status::ALL[self.status as usize]
    }
}
