//! Domain types of the register: layers, kinds, grades, conditions and the asset record.
//!
//! Everything here is plain data with string forms that match the database columns, the
//! GeoJSON properties and the HTTP parameters, so a value reads the same everywhere.

use std::fmt;
use std::str::FromStr;

use geo_types::Geometry;
use serde::{Deserialize, Serialize};

/// Database id of an asset. Stable for the life of the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AssetId(pub i64);

impl fmt::Display for AssetId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Error for a string that is not one of an enum's known values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {value:?} (expected one of: {expected})")]
pub struct UnknownValue {
    pub what: &'static str,
    pub value: String,
    pub expected: String,
}

/// Declares a string-backed enum with `as_str`, `ALL`, `Display`, `FromStr` and serde.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, UnknownValue> {
                let t = s.trim();
                $(if t.eq_ignore_ascii_case($text) { return Ok($name::$variant); })+
                Err(UnknownValue {
                    what: $what,
                    value: s.to_string(),
                    expected: [$($text),+].join(", "),
                })
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

string_enum!(
    /// A data layer: one OGC collection, one tile layer.
    Layer, "layer" {
        Heritage = "heritage",
        WaterBodies = "water_bodies",
        Parks = "parks",
        Wards = "wards",
    }
);

string_enum!(
    /// What an asset is. Each layer accepts its own kinds (see [`Layer::kinds`]).
    Kind, "kind" {
        Building = "building",
        Statue = "statue",
        Structure = "structure",
        Monument = "monument",
        Pond = "pond",
        Lake = "lake",
        Tank = "tank",
        Canal = "canal",
        Wetland = "wetland",
        Park = "park",
        Garden = "garden",
        Square = "square",
        Playground = "playground",
        Ward = "ward",
    }
);

string_enum!(
    /// Physical condition from the latest assessment.
    Condition, "condition" {
        Good = "good",
        Fair = "fair",
        Poor = "poor",
        Critical = "critical",
        Unknown = "unknown",
    }
);

string_enum!(
    /// KMC heritage grade.
    Grade, "grade" {
        I = "I",
        IIA = "IIA",
        IIB = "IIB",
        III = "III",
    }
);

string_enum!(
    /// Whether a water body still holds water.
    WaterStatus, "status" {
        Active = "active",
        Encroached = "encroached",
        Filled = "filled",
    }
);

string_enum!(
    /// What a complaint is about: our Open311 `service_code`s.
    Category, "category" {
        WaterBodyFilling = "water_body_filling",
        WaterBodyPollution = "water_body_pollution",
        HeritageDamage = "heritage_damage",
        HeritageUnauthorizedConstruction = "heritage_unauthorized_construction",
        ParkMaintenance = "park_maintenance",
        TreeFelling = "tree_felling",
        Other = "other",
    }
);

string_enum!(
    /// Where a complaint stands: `submitted → acknowledged → in_progress → resolved`, or
    /// `rejected` / `duplicate`.
    Status, "status" {
        Submitted = "submitted",
        Acknowledged = "acknowledged",
        InProgress = "in_progress",
        Resolved = "resolved",
        Rejected = "rejected",
        Duplicate = "duplicate",
    }
);

string_enum!(
    /// What staff do to a complaint (`PATCH /complaints/{ticket}`).
    Action, "action" {
        Acknowledge = "acknowledge",
        Assign = "assign",
        Start = "start",
        Resolve = "resolve",
        Reject = "reject",
        Duplicate = "duplicate",
        Note = "note",
    }
);

string_enum!(
    /// Where moderation left a piece of a complaint: `held` (a photo waiting for review
    /// before it is public, `--moderate-photos`), `hidden` (taken out of public view, with
    /// a reason the public is shown) or `shown` (reviewed, and public).
    ModState, "moderation state" {
        Held = "held",
        Hidden = "hidden",
        Shown = "shown",
    }
);

string_enum!(
    /// The language a reporter filed in; what we tell them is written in it.
    Lang, "language" {
        En = "en",
        Bn = "bn",
    }
);

string_enum!(
    /// A staff member's role.
    Role, "role" {
        FieldStaff = "field_staff",
        Officer = "officer",
        Admin = "admin",
    }
);

string_enum!(
    /// What a proposal would do.
    ProposalAction, "proposal action" {
        Create = "create",
        Replace = "replace",
        Update = "update",
        Delist = "delist",
    }
);

string_enum!(
    /// Where a proposal stands.
    ProposalStatus, "proposal status" {
        Pending = "pending",
        Approved = "approved",
        Rejected = "rejected",
    }
);

/// What the map and the duplicate check need of a complaint: its public face.
#[derive(Debug, Clone, PartialEq)]
pub struct Pin {
    pub id: i64,
    pub ticket: String,
    pub category: Category,
    pub status: Status,
    pub lon: f64,
    pub lat: f64,
    pub created_at: String,
    pub updated_at: String,
    /// The ward it was filed in (from its position).
    pub ward: Option<i64>,
    pub times: PinTimes,
    /// The last step of its timeline (`complaint_events.id`) this pin shows; 0 when not
    /// known. A pin never gives way to one showing an earlier step (see `atlas/feed.rs`).
    pub event: i64,
}

/// When a complaint was filed, falls due, was first acted on and was closed, in Unix
/// seconds: what the monitoring figures count, kept with the pin so that a figure over a
/// million complaints is one pass in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PinTimes {
    pub filed: i64,
    pub deadline: i64,
    /// The first change of status (acknowledged, assigned, started or closed at once).
    pub acknowledged: Option<i64>,
    /// Resolved, rejected or marked a duplicate.
    pub closed: Option<i64>,
}

impl PinTimes {
    /// The times after a change of status at `at` (Unix seconds) from `from` to `to`.
    pub fn after(self, from: Status, to: Status, at: i64) -> PinTimes {
        let mut t = self;
        if from == Status::Submitted && to != Status::Submitted && t.acknowledged.is_none() {
            t.acknowledged = Some(at);
        }
        if !matches!(
            to,
            Status::Submitted | Status::Acknowledged | Status::InProgress
        ) && t.closed.is_none()
        {
            t.closed = Some(at);
        }
        t
    }
}

/// Milliseconds since the Unix epoch, now.
pub fn unix_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Unix seconds of an RFC 3339 timestamp.
pub fn unix_seconds(s: &str) -> Option<i64> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

/// The broad shape of a geometry, used to say what a layer accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Point,
    Line,
    Area,
}

impl Layer {
    /// Kinds an asset of this layer may have; the first is the default when a feature
    /// names none.
    pub fn kinds(self) -> &'static [Kind] {
        use Kind::*;
        match self {
            Layer::Heritage => &[Building, Statue, Structure, Monument],
            Layer::WaterBodies => &[Pond, Lake, Tank, Canal, Wetland],
            Layer::Parks => &[Park, Garden, Square, Playground],
            Layer::Wards => &[Ward],
        }
    }

    /// Geometry shapes this layer accepts (DESIGN.md's layer table).
    pub fn shapes(self) -> &'static [Shape] {
        match self {
            Layer::Heritage => &[Shape::Point, Shape::Area],
            Layer::WaterBodies => &[Shape::Area, Shape::Line],
            Layer::Parks | Layer::Wards => &[Shape::Area],
        }
    }

    /// Prefix of generated asset codes (`HER-0001`).
    pub fn code_prefix(self) -> &'static str {
        match self {
            Layer::Heritage => "HER",
            Layer::WaterBodies => "WAT",
            Layer::Parks => "PRK",
            Layer::Wards => "WRD",
        }
    }

    /// Human title for listings.
    pub fn title(self) -> &'static str {
        match self {
            Layer::Heritage => "Heritage buildings, statues, structures and monuments",
            Layer::WaterBodies => "Water bodies",
            Layer::Parks => "Parks, gardens and squares",
            Layer::Wards => "Ward boundaries",
        }
    }
}

/// The shape class of a geometry, or `None` for an empty or mixed collection.
pub fn shape_of(g: &Geometry<f64>) -> Option<Shape> {
    match g {
        Geometry::Point(_) | Geometry::MultiPoint(_) => Some(Shape::Point),
        Geometry::LineString(_) | Geometry::MultiLineString(_) | Geometry::Line(_) => {
            Some(Shape::Line)
        }
        Geometry::Polygon(_)
        | Geometry::MultiPolygon(_)
        | Geometry::Rect(_)
        | Geometry::Triangle(_) => Some(Shape::Area),
        Geometry::GeometryCollection(_) => None,
    }
}

/// An asset's descriptive fields: what an import or an edit supplies. Everything but the
/// geometry and the bookkeeping (`id`, `version`, timestamps).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Attributes {
    pub kind: Option<Kind>,
    pub name: Option<String>,
    pub name_bn: Option<String>,
    pub ward: Option<i64>,
    pub borough: Option<String>,
    pub address: Option<String>,
    pub condition: Option<Condition>,
    pub condition_assessed_at: Option<String>,
    pub last_maintained_at: Option<String>,
    pub grade: Option<Grade>,
    pub year_built: Option<i64>,
    pub owner: Option<String>,
    pub status: Option<WaterStatus>,
    pub protected: Option<bool>,
    pub source: Option<String>,
    /// Properties with no column of their own, kept as they came.
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// A feature ready to be written: validated geometry in WGS84 and its attributes.
#[derive(Debug, Clone)]
pub struct NewAsset {
    pub layer: Layer,
    /// Stable code; `None` lets the store assign the next `HER-0001`-style code.
    pub code: Option<String>,
    pub kind: Kind,
    pub attrs: Attributes,
    pub geometry: Geometry<f64>,
}

/// A stored asset, as the index and the API see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Asset {
    pub id: AssetId,
    pub code: String,
    pub layer: Layer,
    pub kind: Kind,
    pub attrs: Attributes,
    /// Geodesic area of a polygonal asset in square metres (computed, never imported).
    pub area_m2: Option<f64>,
    pub geometry: Geometry<f64>,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
    /// `attrs.ward` was not recorded but found from the asset's location (the ward
    /// containing a point inside it) when it was indexed; never stored.
    pub ward_from_location: bool,
    /// The heritage lock as recorded (`heritage_locks`), given to the asset when it is
    /// indexed; never stored with it. `None`: no decision recorded (a graded building
    /// is then `locked`).
    pub lock: Option<LockMark>,
}

/// A recorded heritage lock, as the asset's record shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockMark {
    /// `locked`, `cleared` or `released`.
    pub state: &'static str,
    /// The application it is cleared for.
    pub application: Option<String>,
}

impl LockMark {
    pub fn new(state: &str, application: Option<String>) -> LockMark {
        LockMark {
            state: match state {
                "cleared" => "cleared",
                "released" => "released",
                _ => "locked",
            },
            application,
        }
    }
}

impl Asset {
    /// Name for display: English, else Bengali, else the code.
    pub fn display_name(&self) -> &str {
        self.attrs
            .name
            .as_deref()
            .or(self.attrs.name_bn.as_deref())
            .unwrap_or(&self.code)
    }
}

/// The area the bundled register covers (Kolkata Municipal Corporation), lon/lat
/// west, south, east, north: the map's extent when a layer is empty, the stand-in wards'
/// grid, and the default service area's fallback.
pub const KMC_BOUNDS: [f64; 4] = [88.26, 22.46, 88.42, 22.64];

/// Seconds since 1970: the clock of the limits kept in the database (`store::limits`).
pub fn epoch_now() -> f64 {
    unix_millis() as f64 / 1000.0
}

/// Current UTC time as RFC 3339 with second precision, the form every timestamp takes.
pub fn now_rfc3339() -> String {
    rfc3339(time::OffsetDateTime::now_utc())
}

/// An instant as RFC 3339 in UTC, to the second (the form every timestamp is stored in).
pub fn rfc3339(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    t.replace_nanosecond(0)
        .unwrap_or(t)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// An instant as versions are stamped: UTC to the millisecond, always three digits
/// (`2026-12-01T10:19:23.041Z`), so that stamps compare as text in time order.
pub fn instant_ms(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// Kolkata's offset from UTC (IST, +05:30): a date a user gives means a day there.
pub const IST: time::UtcOffset = match time::UtcOffset::from_hms(5, 30, 0) {
    Ok(o) => o,
    Err(_) => time::UtcOffset::UTC,
};

/// Why an `as_of` value is not an instant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "as_of {0:?} is not a date (2025-03-31) or an RFC 3339 date-time (2025-03-31T17:00:00+05:30)"
)]
pub struct BadInstant(pub String);

/// An `as_of` value as a version stamp ([`instant_ms`]): an RFC 3339 date-time as given,
/// or a date meaning the end of that day in Kolkata (the register as it stood when the
/// day was over).
pub fn as_of_instant(s: &str) -> Result<String, BadInstant> {
    use time::format_description::well_known::Rfc3339;
    let s = s.trim();
    if let Ok(t) = time::OffsetDateTime::parse(s, &Rfc3339) {
        return Ok(instant_ms(t));
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let day = time::Date::parse(s, &format).map_err(|_| BadInstant(s.to_string()))?;
    let next = day.next_day().ok_or_else(|| BadInstant(s.to_string()))?;
    let end = next.midnight().assume_offset(IST) - time::Duration::milliseconds(1);
    Ok(instant_ms(end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn as_of_dates_end_in_kolkata_and_stamps_sort_as_text() {
        assert_eq!(
            as_of_instant("2025-03-31").unwrap(),
            "2025-03-31T18:29:59.999Z"
        );
        assert_eq!(
            as_of_instant("2025-03-31T17:00:00+05:30").unwrap(),
            "2025-03-31T11:30:00.000Z"
        );
        assert!(as_of_instant("last year").is_err());
        assert!(as_of_instant("2025-02-30").is_err());
        let a = instant_ms(time::macros::datetime!(2025-01-01 00:00:00.5 UTC));
        let b = instant_ms(time::macros::datetime!(2025-01-01 00:00:01 UTC));
        assert!(a < b, "{a} < {b}");
    }

    #[test]
    fn enums_round_trip_through_their_strings() {
        for l in Layer::ALL {
            assert_eq!(l.as_str().parse::<Layer>().unwrap(), *l);
        }
        for k in Kind::ALL {
            assert_eq!(k.as_str().parse::<Kind>().unwrap(), *k);
        }
        assert_eq!("iia".parse::<Grade>().unwrap(), Grade::IIA);
        let err = "castle".parse::<Kind>().unwrap_err();
        assert!(err.to_string().contains("castle"));
    }

    #[test]
    fn every_kind_belongs_to_exactly_one_layer() {
        for k in Kind::ALL {
            let n = Layer::ALL.iter().filter(|l| l.kinds().contains(k)).count();
            assert_eq!(n, 1, "{k}");
        }
    }
}

/// A piece of a complaint that moderation acts on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ComplaintItem {
    /// The reporter's description.
    Description,
    /// A photo, by its SHA-256: of the complaint, or of a step of its timeline.
    Photo(String),
    /// A step's public note, by the step's id.
    Note(i64),
}

impl fmt::Display for ComplaintItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ComplaintItem::Description => f.write_str("description"),
            ComplaintItem::Photo(sha) => write!(f, "photo:{sha}"),
            ComplaintItem::Note(id) => write!(f, "note:{id}"),
        }
    }
}

/// Why a string does not name an item.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an item of a complaint (description, photo:<sha256>, note:<step id>)")]
pub struct BadItem(pub String);

impl FromStr for ComplaintItem {
    type Err = BadItem;
    fn from_str(s: &str) -> Result<Self, BadItem> {
        // At most 80 bytes as the message shows it (`{:?}` writes some characters as
        // ten-byte escapes).
        let bad = || {
            let mut shown = 0;
            BadItem(
                s.chars()
                    .take_while(|c| {
                        shown += c.escape_debug().map(char::len_utf8).sum::<usize>();
                        shown <= 80
                    })
                    .collect(),
            )
        };
        let s = s.trim();
        if s == "description" {
            return Ok(ComplaintItem::Description);
        }
        if let Some(sha) = s.strip_prefix("photo:") {
            // A photo's URL (`/photos/<sha>`) names it too.
            let sha = sha.rsplit('/').next().unwrap_or(sha).to_ascii_lowercase();
            if sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Ok(ComplaintItem::Photo(sha));
            }
            return Err(bad());
        }
        if let Some(id) = s.strip_prefix("note:") {
            return id.parse().map(ComplaintItem::Note).map_err(|_| bad());
        }
        Err(bad())
    }
}

/// A piece's moderation as stored.
#[derive(Debug, Clone)]
pub struct Moderation {
    pub item: ComplaintItem,
    pub state: ModState,
    pub reason: Option<String>,
    pub at: String,
    pub actor: Option<String>,
}

/// What the public is shown in place of a hidden piece.
pub fn removed_text(reason: Option<&str>) -> String {
    match reason {
        Some(r) if !r.trim().is_empty() => format!("Removed by the department: {}", r.trim()),
        _ => "Removed by the department".to_string(),
    }
}
