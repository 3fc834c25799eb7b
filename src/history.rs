//! The register's history of an asset: inspections (who found it in what condition, when),
//! maintenance works, and documents (notices, NOCs, reports) addressed by the SHA-256 of
//! their bytes so anyone can check a copy is the one on record. Validation lives here;
//! writes go through `atlas`, SQL through `store`.

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::model::Condition;

/// Largest document accepted, in bytes (a scanned multi-page notice fits).
pub const MAX_DOCUMENT_BYTES: usize = 20 * 1024 * 1024;
/// Longest free text (notes, descriptions), in characters.
pub const MAX_TEXT: usize = 4000;
/// Longest title or name, in characters.
pub const MAX_TITLE: usize = 200;

/// A submitted field that is wrong, named so a form can point at it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    pub field: &'static str,
    pub reason: String,
}

pub(crate) fn bad(field: &'static str, reason: impl Into<String>) -> FieldError {
    FieldError {
        field,
        reason: reason.into(),
    }
}

/// An inspection as submitted (JSON body of `POST /assets/{code}/inspections`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InspectionForm {
    pub condition: Condition,
    /// A date (`2026-11-28`) or an RFC 3339 instant; default: now.
    #[serde(default)]
    pub inspected_at: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
}

/// A maintenance work as submitted (JSON body of `POST /assets/{code}/maintenance`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaintenanceForm {
    pub description: String,
    #[serde(default)]
    pub started_on: Option<String>,
    #[serde(default)]
    pub completed_on: Option<String>,
    #[serde(default)]
    pub contractor: Option<String>,
    #[serde(default)]
    pub cost_inr: Option<i64>,
}

/// A checked inspection, ready to store.
#[derive(Debug, Clone)]
pub struct NewInspection {
    pub condition: Condition,
    pub inspected_at: String,
    pub notes: Option<String>,
    pub inspector: Option<String>,
}

/// A checked maintenance work, ready to store.
#[derive(Debug, Clone)]
pub struct NewMaintenance {
    pub description: String,
    pub started_on: Option<String>,
    pub completed_on: Option<String>,
    pub contractor: Option<String>,
    pub cost_inr: Option<i64>,
}

impl InspectionForm {
    /// Checks the form; `today` is the current UTC date (inspections are not in the future).
    pub fn check(self, inspector: &str, today: time::Date) -> Result<NewInspection, FieldError> {
        let inspected_at = match self.inspected_at.as_deref().map(str::trim) {
            None | Some("") => crate::model::now_rfc3339(),
            Some(s) => when("inspected_at", s, today)?,
        };
        Ok(NewInspection {
            condition: self.condition,
            inspected_at,
            notes: text("notes", self.notes, MAX_TEXT)?,
            inspector: Some(inspector.to_string()),
        })
    }
}

impl MaintenanceForm {
    pub fn check(self, today: time::Date) -> Result<NewMaintenance, FieldError> {
        let description = text("description", Some(self.description), MAX_TEXT)?
            .ok_or_else(|| bad("description", "required: what was done"))?;
        let date = |field, v: Option<String>| -> Result<Option<String>, FieldError> {
            match v.as_deref().map(str::trim) {
                None | Some("") => Ok(None),
                Some(s) => day(field, s, today).map(Some),
            }
        };
        let started_on = date("started_on", self.started_on)?;
        let completed_on = date("completed_on", self.completed_on)?;
        if let (Some(a), Some(b)) = (&started_on, &completed_on) {
            if b < a {
                return Err(bad("completed_on", "is before started_on"));
            }
        }
        if started_on.is_none() && completed_on.is_none() {
            return Err(bad("started_on", "give when the work started or ended"));
        }
        if let Some(c) = self.cost_inr {
            if !(0..=1_000_000_000_000).contains(&c) {
                return Err(bad("cost_inr", "must be whole rupees from 0 to 10^12"));
            }
        }
        Ok(NewMaintenance {
            description,
            started_on,
            completed_on,
            contractor: text("contractor", self.contractor, MAX_TITLE)?,
            cost_inr: self.cost_inr,
        })
    }
}

/// Trimmed text, `None` when empty, refused past `max` characters or with control
/// characters other than line breaks and tabs.
pub fn text(
    field: &'static str,
    v: Option<String>,
    max: usize,
) -> Result<Option<String>, FieldError> {
    let Some(v) = v else { return Ok(None) };
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    if v.chars().count() > max {
        return Err(bad(field, format!("at most {max} characters")));
    }
    if v.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(bad(field, "contains control characters"));
    }
    Ok(Some(v.to_string()))
}

const DAY: &[time::format_description::FormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

/// A calendar date `YYYY-MM-DD` from 1800 to tomorrow (a day's grace for time zones).
pub(crate) fn day(field: &'static str, s: &str, today: time::Date) -> Result<String, FieldError> {
    let d = time::Date::parse(s, DAY)
        .map_err(|_| bad(field, format!("must be a date YYYY-MM-DD, not {s:?}")))?;
    in_range(field, d, today)?;
    Ok(d.format(DAY).unwrap_or_else(|_| s.to_string()))
}

/// A date, or an RFC 3339 instant (kept in UTC, to the second).
fn when(field: &'static str, s: &str, today: time::Date) -> Result<String, FieldError> {
    let fmt = &time::format_description::well_known::Rfc3339;
    match time::OffsetDateTime::parse(s, fmt) {
        Ok(t) => {
            in_range(field, t.to_offset(time::UtcOffset::UTC).date(), today)?;
            Ok(crate::model::rfc3339(t))
        }
        Err(_) => day(field, s, today).map_err(|_| {
            bad(
                field,
                format!("must be a date YYYY-MM-DD or an RFC 3339 instant, not {s:?}"),
            )
        }),
    }
}

fn in_range(field: &'static str, d: time::Date, today: time::Date) -> Result<(), FieldError> {
    let earliest =
        time::Date::from_calendar_date(1800, time::Month::January, 1).unwrap_or(time::Date::MIN);
    if d < earliest {
        return Err(bad(field, "is before 1800"));
    }
    if d > today.next_day().unwrap_or(today) {
        return Err(bad(field, "is in the future"));
    }
    Ok(())
}

/// Document types accepted, recognised by their bytes (never by name or declared type).
pub fn document_type(b: &[u8]) -> Option<&'static str> {
    if b.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else {
        crate::complaints::photo::sniff(b).map(|t| t.mime())
    }
}

/// Lower-case hex SHA-256 of the bytes.
pub fn sha256_hex(b: &[u8]) -> String {
    Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

/// A SHA-256 as given in a URL or form: 64 hex digits, any case.
pub fn parse_sha256(s: &str) -> Option<String> {
    (s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())).then(|| s.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> time::Date {
        time::Date::from_calendar_date(2026, time::Month::November, 28).unwrap()
    }

    #[test]
    fn inspection_dates_are_real_and_not_ahead() {
        let form = |at: &str| InspectionForm {
            condition: Condition::Fair,
            inspected_at: Some(at.into()),
            notes: None,
        };
        assert_eq!(
            form("2026-11-01").check("a", today()).unwrap().inspected_at,
            "2026-11-01"
        );
        assert_eq!(
            form("2026-11-01T10:00:00+05:30")
                .check("a", today())
                .unwrap()
                .inspected_at,
            "2026-11-01T04:30:00Z"
        );
        for bad in [
            "2026-02-30",
            "yesterday",
            "2027-01-01",
            "1700-01-01",
            "2026-11-01T25:00:00Z",
        ] {
            let e = form(bad).check("a", today()).unwrap_err();
            assert_eq!(e.field, "inspected_at", "{bad}");
        }
        // A day's grace for a clock in another zone.
        assert!(form("2026-11-29").check("a", today()).is_ok());
    }

    #[test]
    fn maintenance_needs_a_description_a_date_and_an_order() {
        let m = |d: &str, s: Option<&str>, c: Option<&str>, cost: Option<i64>| MaintenanceForm {
            description: d.into(),
            started_on: s.map(Into::into),
            completed_on: c.map(Into::into),
            contractor: None,
            cost_inr: cost,
        };
        assert!(m("Roof", Some("2026-01-01"), Some("2026-03-01"), Some(5))
            .check(today())
            .is_ok());
        let field = |f: MaintenanceForm| f.check(today()).unwrap_err().field;
        assert_eq!(
            field(m("  ", Some("2026-01-01"), None, None)),
            "description"
        );
        assert_eq!(field(m("Roof", None, None, None)), "started_on");
        assert_eq!(
            field(m("Roof", Some("2026-03-01"), Some("2026-01-01"), None)),
            "completed_on"
        );
        assert_eq!(
            field(m("Roof", Some("2026-03-01"), None, Some(-1))),
            "cost_inr"
        );
        assert_eq!(
            field(m("Ro\u{0}of", Some("2026-03-01"), None, None)),
            "description"
        );
    }

    #[test]
    fn documents_are_known_by_their_bytes() {
        assert_eq!(document_type(b"%PDF-1.4\n..."), Some("application/pdf"));
        assert_eq!(document_type(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(document_type(b"<html>"), None);
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(parse_sha256(&"A".repeat(64)).is_some());
        assert!(parse_sha256("abc").is_none());
    }
}
