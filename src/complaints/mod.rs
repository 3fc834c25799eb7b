//! Citizens' complaints: categories (Open311 services) with their deadlines and extra
//! questions, the status machine staff move a complaint through, tickets, validation of
//! what a citizen sends, photos, the group-committing intake, and the Open311 mapping.
//!
//! Nothing here knows HTTP; the atlas calls in here and the http layer calls the atlas.

pub mod intake;
pub mod moderation;
pub mod open311;
pub mod photo;

use serde::Deserialize;

use crate::model::UnknownValue;
pub use crate::model::{Action, Category, Lang, Pin, Role, Status};

/// One extra question a category asks (an Open311 service attribute).
#[derive(Debug, Clone, Copy)]
pub struct Question {
    pub code: &'static str,
    pub description: &'static str,
    pub required: bool,
    /// Allowed answers (`key`, `name`); empty for free text.
    pub values: &'static [(&'static str, &'static str)],
}

const YES_NO: &[(&str, &str)] = &[("yes", "Yes"), ("no", "No")];

impl Category {
    /// Hours the department has to respond. Filling a pond or felling a tree cannot be
    /// undone, so those come first.
    pub fn deadline_hours(self) -> i64 {
        match self {
            Category::TreeFelling => 24,
            Category::WaterBodyFilling => 48,
            Category::HeritageDamage | Category::HeritageUnauthorizedConstruction => 72,
            Category::WaterBodyPollution => 7 * 24,
            Category::ParkMaintenance | Category::Other => 14 * 24,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Category::WaterBodyFilling => "Water body being filled",
            Category::WaterBodyPollution => "Water body polluted",
            Category::HeritageDamage => "Heritage site damaged",
            Category::HeritageUnauthorizedConstruction => {
                "Unauthorised construction at a heritage site"
            }
            Category::ParkMaintenance => "Park needs maintenance",
            Category::TreeFelling => "Tree being felled",
            Category::Other => "Other environment or heritage problem",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Category::WaterBodyFilling => "A pond, tank, lake or wetland is being filled in, dumped into or encroached upon.",
            Category::WaterBodyPollution => "Sewage, garbage, industrial waste or dead fish in a water body.",
            Category::HeritageDamage => "A listed building, statue, structure or monument is damaged, defaced or decaying.",
            Category::HeritageUnauthorizedConstruction => "Building work at or next to a listed heritage site without permission.",
            Category::ParkMaintenance => "Broken equipment, overgrowth, lighting, waterlogging or litter in a park or square.",
            Category::TreeFelling => "A tree is being cut down or badly pruned.",
            Category::Other => "Anything else about the city's heritage, water bodies or green spaces.",
        }
    }

    /// Open311 `group`.
    pub fn group(self) -> &'static str {
        match self {
            Category::WaterBodyFilling | Category::WaterBodyPollution => "Water bodies",
            Category::HeritageDamage | Category::HeritageUnauthorizedConstruction => "Heritage",
            Category::ParkMaintenance | Category::TreeFelling => "Parks and trees",
            Category::Other => "Other",
        }
    }

    /// Open311 `keywords`.
    pub fn keywords(self) -> &'static str {
        match self {
            Category::WaterBodyFilling => "pond,filling,landfill,encroachment,dumping,wetland",
            Category::WaterBodyPollution => "pond,pollution,sewage,garbage,fish",
            Category::HeritageDamage => "heritage,damage,vandalism,decay,statue,monument",
            Category::HeritageUnauthorizedConstruction => {
                "heritage,construction,building,encroachment"
            }
            Category::ParkMaintenance => "park,garden,maintenance,lighting,litter",
            Category::TreeFelling => "tree,felling,cutting,pruning",
            Category::Other => "other",
        }
    }

    /// The extra questions this category asks.
    pub fn questions(self) -> &'static [Question] {
        match self {
            Category::WaterBodyFilling => &[Question {
                code: "filling_in_progress",
                description: "Is filling in progress now?",
                required: true,
                values: YES_NO,
            }],
            Category::WaterBodyPollution => &[Question {
                code: "pollution_source",
                description: "What is polluting it?",
                required: false,
                values: &[
                    ("sewage", "Sewage"),
                    ("garbage", "Garbage"),
                    ("industrial", "Industrial waste"),
                    ("other", "Other"),
                ],
            }],
            Category::HeritageDamage => &[Question {
                code: "damage_type",
                description: "What kind of damage?",
                required: true,
                values: &[
                    ("vandalism", "Vandalism or defacement"),
                    ("structural", "Structural (cracks, collapse)"),
                    ("fire", "Fire"),
                    ("theft", "Theft of parts"),
                    ("other", "Other"),
                ],
            }],
            Category::HeritageUnauthorizedConstruction => &[Question {
                code: "construction_in_progress",
                description: "Is construction in progress now?",
                required: true,
                values: YES_NO,
            }],
            Category::TreeFelling => &[Question {
                code: "felling_in_progress",
                description: "Is the tree being cut now?",
                required: true,
                values: YES_NO,
            }],
            Category::ParkMaintenance | Category::Other => &[],
        }
    }

    /// The layers whose assets this category is usually about, for linking a pin to one.
    pub fn is_about_heritage(self) -> bool {
        matches!(
            self,
            Category::HeritageDamage | Category::HeritageUnauthorizedConstruction
        )
    }
}

impl Status {
    /// Still waiting for the department.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            Status::Submitted | Status::Acknowledged | Status::InProgress
        )
    }

    /// Open311's two-valued status.
    pub fn open311(self) -> &'static str {
        if self.is_open() {
            "open"
        } else {
            "closed"
        }
    }
}

/// Why an action cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("cannot {action} a complaint that is {status}")]
    NotAllowed { action: Action, status: Status },
    #[error("{0}")]
    Missing(&'static str),
}

/// The status machine: the status after `action`, or why not. Notes never change status;
/// every other action needs an open complaint.
pub fn transition(
    status: Status,
    action: Action,
    has_note: bool,
) -> Result<Status, TransitionError> {
    let refuse = || TransitionError::NotAllowed { action, status };
    if action == Action::Note {
        return if has_note {
            Ok(status)
        } else {
            Err(TransitionError::Missing("a note needs `note`"))
        };
    }
    if !status.is_open() {
        return Err(refuse());
    }
    match action {
        Action::Acknowledge if status == Status::Submitted => Ok(Status::Acknowledged),
        Action::Assign if status == Status::Submitted => Ok(Status::Acknowledged),
        Action::Assign => Ok(status),
        Action::Start if status != Status::InProgress => Ok(Status::InProgress),
        Action::Resolve if has_note => Ok(Status::Resolved),
        Action::Resolve => Err(TransitionError::Missing(
            "resolving needs a `note` saying what was done",
        )),
        Action::Reject if has_note => Ok(Status::Rejected),
        Action::Reject => Err(TransitionError::Missing(
            "rejecting needs a `note` giving the reason",
        )),
        Action::Duplicate => Ok(Status::Duplicate),
        _ => Err(refuse()),
    }
}

impl Role {
    /// What this role may do to a complaint in its reach (field staff: their own ward).
    pub fn may(self, action: Action) -> bool {
        match self {
            Role::Officer | Role::Admin => true,
            Role::FieldStaff => matches!(
                action,
                Action::Acknowledge | Action::Start | Action::Resolve | Action::Note
            ),
        }
    }
}

/// `EH-2026-000123`.
pub fn format_ticket(year: i32, seq: i64) -> String {
    format!("EH-{year}-{seq:06}")
}

/// The (year, sequence) of a well-formed ticket.
pub fn parse_ticket(s: &str) -> Option<(i32, i64)> {
    let rest = s.trim().strip_prefix("EH-")?;
    let (y, n) = rest.split_once('-')?;
    if y.len() != 4 || n.len() < 6 || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((y.parse().ok()?, n.parse().ok()?))
}

/// Longest description accepted, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 4000;

/// A complaint as a citizen (or an Open311 client) sends it, before validation.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Submission {
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub category: Option<String>,
    pub description: Option<String>,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
    /// `en` or `bn`: what the reporter is told is written in it.
    pub language: Option<String>,
    #[serde(default)]
    pub attributes: serde_json::Map<String, serde_json::Value>,
}

/// A field-named validation failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    pub field: String,
    pub reason: String,
}

pub fn field_error(field: impl Into<String>, reason: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        reason: reason.into(),
    }
}

/// Why a complaint operation failed, in terms a client can act on.
#[derive(Debug, thiserror::Error)]
pub enum ComplaintError {
    #[error(transparent)]
    Field(#[from] FieldError),
    #[error("no complaint {0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("storing a photo failed: {0}")]
    Io(String),
    /// The photo store is full or read-only: try again later.
    #[error("photos cannot be stored just now ({0}); try again later")]
    Unavailable(String),
}

impl From<std::io::Error> for ComplaintError {
    fn from(e: std::io::Error) -> Self {
        if crate::blobs::storage_unavailable(&e) {
            ComplaintError::Unavailable(e.to_string())
        } else {
            ComplaintError::Io(e.to_string())
        }
    }
}

impl From<TransitionError> for ComplaintError {
    fn from(e: TransitionError) -> Self {
        match e {
            TransitionError::Missing(m) => ComplaintError::Field(field_error("note", m)),
            e @ TransitionError::NotAllowed { .. } => ComplaintError::Conflict(e.to_string()),
        }
    }
}

/// A submission that passed every check that needs no index or store.
#[derive(Debug, Clone)]
pub struct Checked {
    pub lon: f64,
    pub lat: f64,
    pub category: Category,
    pub description: String,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
    pub attributes: serde_json::Map<String, serde_json::Value>,
    pub language: Lang,
}

fn optional_text(
    field: &str,
    v: Option<String>,
    max_chars: usize,
) -> Result<Option<String>, FieldError> {
    let Some(s) = v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    if s.chars().count() > max_chars {
        return Err(field_error(
            field,
            format!("at most {max_chars} characters"),
        ));
    }
    if s.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(field_error(field, "contains control characters"));
    }
    Ok(Some(s))
}

impl Submission {
    /// Checks every field; the first problem is returned, naming its field.
    pub fn check(self) -> Result<Checked, FieldError> {
        let lon = self.lon.ok_or_else(|| field_error("lon", "required"))?;
        let lat = self.lat.ok_or_else(|| field_error("lat", "required"))?;
        if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
            return Err(field_error("lon", "must be a number from -180 to 180"));
        }
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return Err(field_error("lat", "must be a number from -90 to 90"));
        }
        let category: Category = self
            .category
            .as_deref()
            .ok_or_else(|| field_error("category", "required"))?
            .parse()
            .map_err(|e: UnknownValue| field_error("category", e.to_string()))?;
        let description = optional_text("description", self.description, MAX_DESCRIPTION_CHARS)?
            .ok_or_else(|| field_error("description", "required, and not empty"))?;
        let name = optional_text("name", self.name, 200)?;
        let phone = optional_text("phone", self.phone, 40)?;
        if let Some(p) = &phone {
            if !p.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c))
                || p.chars().filter(|c| c.is_ascii_digit()).count() < 6
            {
                return Err(field_error("phone", "not a phone number"));
            }
        }
        let email = optional_text("email", self.email, 254)?;
        if let Some(e) = &email {
            let ok = e
                .split_once('@')
                .is_some_and(|(a, d)| !a.is_empty() && d.contains('.') && !e.contains(' '));
            if !ok {
                return Err(field_error("email", "not an email address"));
            }
        }
        let address = optional_text("address", self.address, 500)?;
        let language = match self.language.as_deref().map(str::trim) {
            None | Some("") => Lang::En,
            // `bn-IN`, `en-GB`: the primary tag decides.
            Some(l) => l
                .split(['-', '_'])
                .next()
                .unwrap_or(l)
                .parse()
                .map_err(|e: UnknownValue| field_error("language", e.to_string()))?,
        };
        let mut attributes = serde_json::Map::new();
        for (k, v) in &self.attributes {
            let Some(q) = category.questions().iter().find(|q| q.code == k) else {
                return Err(field_error(
                    format!("attributes.{k}"),
                    format!("{category} asks no such question"),
                ));
            };
            let answer = match v {
                serde_json::Value::String(s) => s.trim().to_string(),
                serde_json::Value::Bool(b) => (if *b { "yes" } else { "no" }).to_string(),
                _ => return Err(field_error(format!("attributes.{k}"), "must be a string")),
            };
            if !q.values.is_empty() && !q.values.iter().any(|(key, _)| *key == answer) {
                let keys: Vec<&str> = q.values.iter().map(|(k, _)| *k).collect();
                return Err(field_error(
                    format!("attributes.{k}"),
                    format!("must be one of: {}", keys.join(", ")),
                ));
            }
            if answer.chars().count() > 500 {
                return Err(field_error(format!("attributes.{k}"), "too long"));
            }
            attributes.insert(k.clone(), serde_json::Value::String(answer));
        }
        for q in category.questions() {
            if q.required && !attributes.contains_key(q.code) {
                return Err(field_error(
                    format!("attributes.{}", q.code),
                    format!("required for {category}: {}", q.description),
                ));
            }
        }
        Ok(Checked {
            lon,
            lat,
            category,
            description,
            name,
            phone,
            email,
            address,
            attributes,
            language,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_round_trip() {
        assert_eq!(format_ticket(2026, 123), "EH-2026-000123");
        assert_eq!(parse_ticket("EH-2026-000123"), Some((2026, 123)));
        assert_eq!(parse_ticket("EH-2026-1234567"), Some((2026, 1234567)));
        assert_eq!(parse_ticket("EH-26-000123"), None);
        assert_eq!(parse_ticket("EH-2026-12a456"), None);
        assert_eq!(parse_ticket("../etc"), None);
    }

    #[test]
    fn status_machine() {
        use Action::{Acknowledge, Assign, Note, Reject, Resolve, Start};
        use Status::{Acknowledged, InProgress, Resolved, Submitted};
        assert_eq!(transition(Submitted, Acknowledge, false), Ok(Acknowledged));
        assert_eq!(transition(Submitted, Start, false), Ok(InProgress));
        assert_eq!(transition(Acknowledged, Assign, false), Ok(Acknowledged));
        assert_eq!(transition(InProgress, Resolve, true), Ok(Resolved));
        assert!(transition(InProgress, Resolve, false).is_err());
        assert!(transition(Submitted, Reject, false).is_err());
        assert!(transition(Resolved, Start, false).is_err());
        assert!(transition(Acknowledged, Acknowledge, false).is_err());
        assert_eq!(transition(Resolved, Note, true), Ok(Resolved));
        assert_eq!(
            transition(Submitted, Action::Duplicate, false),
            Ok(Status::Duplicate)
        );
        assert!(transition(Status::Duplicate, Resolve, true).is_err());
    }

    #[test]
    fn submissions_are_checked_field_by_field() {
        let ok = Submission {
            lon: Some(88.35),
            lat: Some(22.55),
            category: Some("park_maintenance".into()),
            description: Some("Broken swings".into()),
            ..Default::default()
        };
        assert!(ok.clone().check().is_ok());
        let field = |s: Submission| s.check().unwrap_err().field;
        assert_eq!(
            field(Submission {
                lon: Some(f64::NAN),
                ..ok.clone()
            }),
            "lon"
        );
        assert_eq!(
            field(Submission {
                category: Some("potholes".into()),
                ..ok.clone()
            }),
            "category"
        );
        assert_eq!(
            field(Submission {
                description: Some("  ".into()),
                ..ok.clone()
            }),
            "description"
        );
        assert_eq!(
            field(Submission {
                description: Some("x".repeat(4001)),
                ..ok.clone()
            }),
            "description"
        );
        assert_eq!(
            field(Submission {
                email: Some("nobody".into()),
                ..ok.clone()
            }),
            "email"
        );
        assert_eq!(
            field(Submission {
                category: Some("water_body_filling".into()),
                ..ok.clone()
            }),
            "attributes.filling_in_progress"
        );
        let mut attrs = serde_json::Map::new();
        attrs.insert("filling_in_progress".into(), "maybe".into());
        assert_eq!(
            field(Submission {
                category: Some("water_body_filling".into()),
                attributes: attrs,
                ..ok.clone()
            }),
            "attributes.filling_in_progress"
        );
        // 4,000 Bengali characters are 4,000 characters, not 12,000 bytes.
        assert!(Submission {
            description: Some("পুকুর".repeat(800)),
            ..ok
        }
        .check()
        .is_ok());
    }
}
