//! Maintenance works and their spend (₹), per ward, borough, layer, kind, grade, year or
//! month, dated by completion (else start, else when recorded).

use std::collections::HashMap;

use serde::Serialize;

use super::Sorted;

/// One work, as the figures see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Work {
    /// IST date, `YYYY-MM-DD`.
    pub date: String,
    pub cost_inr: Option<i64>,
    pub ward: Option<i64>,
    pub borough: Option<String>,
    pub layer: String,
    pub kind: String,
    pub grade: Option<String>,
}

/// How works are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    Ward,
    Borough,
    Layer,
    Kind,
    Grade,
    Year,
    Month,
}

impl By {
    pub fn parse(s: &str) -> Option<By> {
        Some(match s {
            "ward" => By::Ward,
            "borough" => By::Borough,
            "layer" => By::Layer,
            "kind" => By::Kind,
            "grade" => By::Grade,
            "year" => By::Year,
            "month" => By::Month,
            _ => return None,
        })
    }
}

/// One group's works.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Row {
    pub group: String,
    pub works: usize,
    /// Works with a cost recorded; `spend_inr` is their sum.
    pub costed: usize,
    pub spend_inr: i64,
}

impl Row {
    fn add(&mut self, w: &Work) {
        self.works += 1;
        if let Some(c) = w.cost_inr {
            self.costed += 1;
            self.spend_inr += c;
        }
    }
}

/// Works per group and in all.
pub fn figures<'a>(works: impl IntoIterator<Item = &'a Work>, by: By) -> (Vec<Row>, Row) {
    let mut groups: HashMap<String, Row> = HashMap::new();
    let mut total = Row {
        group: "total".into(),
        ..Row::default()
    };
    for w in works {
        let key = match by {
            By::Ward => w.ward.map(|x| x.to_string()),
            By::Borough => w.borough.clone(),
            By::Layer => Some(w.layer.clone()),
            By::Kind => Some(w.kind.clone()),
            By::Grade => w.grade.clone(),
            By::Year => w.date.get(..4).map(String::from),
            By::Month => w.date.get(..7).map(String::from),
        }
        .unwrap_or_else(|| "none".into());
        groups
            .entry(key.clone())
            .or_insert_with(|| Row {
                group: key,
                ..Row::default()
            })
            .add(w);
        total.add(w);
    }
    let mut sorted = Sorted::new(by == By::Ward);
    for (k, row) in groups {
        sorted.insert(k, row);
    }
    (sorted.rows().map(|(_, r)| r).collect(), total)
}
