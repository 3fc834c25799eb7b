//! One table of fields per layer: each field's name, type, how it is read from an asset
//! (or a complaint pin), and where it is shown. Every place that writes or lists a
//! layer's properties reads these tables: GeoJSON features and `/assets/{id}`
//! ([`properties`]), filters and downloads (`features`: queryables, CSV and FlatGeobuf
//! columns, CQL2 values), vector tiles and their TileJSON `vector_layers` (`tiles`), and
//! the OpenAPI document. A field added here appears in all of them, or in none.

use crate::model::{Asset, Condition, Layer, Pin, WaterStatus};

/// A property's type, as JSON Schema names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    String,
    Integer,
    Number,
    Boolean,
}

impl Type {
    /// JSON Schema / queryables name: `string`, `integer`, `number`, `boolean`.
    pub fn json_name(self) -> &'static str {
        match self {
            Type::String => "string",
            Type::Integer => "integer",
            Type::Number => "number",
            Type::Boolean => "boolean",
        }
    }

    /// TileJSON `vector_layers.fields` name: `String`, `Number` or `Boolean`.
    pub fn tile_name(self) -> &'static str {
        match self {
            Type::String => "String",
            Type::Integer | Type::Number => "Number",
            Type::Boolean => "Boolean",
        }
    }
}

/// A field's value, borrowed from the record it was read from (nothing is allocated to
/// read it: tiles read millions).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Prop<'a> {
    Null,
    Str(&'a str),
    /// One of an enum's fixed names (the tile writer shares these by address).
    Name(&'static str),
    Int(i64),
    /// An id: written to tiles as an unsigned integer.
    Id(u64),
    Num(f64),
    Bool(bool),
}

impl Prop<'_> {
    pub fn to_json(self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Prop::Null => Value::Null,
            Prop::Str(s) => Value::String(s.to_string()),
            Prop::Name(s) => Value::String(s.to_string()),
            Prop::Int(n) => Value::from(n),
            Prop::Id(n) => Value::from(n),
            Prop::Num(x) => Value::from(x),
            Prop::Bool(b) => Value::Bool(b),
        }
    }
}

/// Where a field is shown: a set of the flags below.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shown(u8);

impl Shown {
    /// GeoJSON features, `/assets/{id}`, downloads (CSV, FlatGeobuf), queryables, OpenAPI.
    pub const FEATURES: Shown = Shown(1);
    /// Features drawn in full in the layer's own tile layer.
    pub const TILE: Shown = Shown(2);
    /// Also on an area drawn as a dot at low zoom (what the style colours it by).
    pub const DOT: Shown = Shown(4);
    /// The `labels` tile layer (one point per named area).
    pub const LABEL: Shown = Shown(8);
    /// In the layer's own tiles only on points and lines, which are labelled where they
    /// are drawn (areas are named in `labels`).
    pub const TILE_IF_NAMED_HERE: Shown = Shown(16);

    pub const fn with(self, o: Shown) -> Shown {
        Shown(self.0 | o.0)
    }

    pub const fn has(self, o: Shown) -> bool {
        self.0 & o.0 == o.0
    }
}

/// How a tile stores a text value: in the layer's shared value table (values many
/// features repeat: wards, boroughs, dates) or appended as its own (ids, codes, names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    Shared,
    Unique,
}

/// One field of a record type `R` (an [`Asset`] or a complaint [`Pin`]).
pub struct Field<R: 'static> {
    pub name: &'static str,
    pub ty: Type,
    pub shown: Shown,
    pub tag: Tag,
    pub read: for<'a> fn(&'a R) -> Prop<'a>,
}

impl<R> Field<R> {
    pub fn is(&self, where_: Shown) -> bool {
        self.shown.has(where_)
    }
}

const F: Shown = Shown::FEATURES;

fn opt_str(v: &Option<String>) -> Prop<'_> {
    v.as_deref().map_or(Prop::Null, Prop::Str)
}

fn opt_int(v: Option<i64>) -> Prop<'static> {
    v.map_or(Prop::Null, Prop::Int)
}

/// Areas are served to a tenth of a square metre.
fn area(a: &Asset) -> Prop<'_> {
    a.area_m2
        .map_or(Prop::Null, |v| Prop::Num((v * 10.0).round() / 10.0))
}

const ID: Field<Asset> = Field {
    name: "id",
    ty: Type::Integer,
    shown: F.with(Shown::TILE).with(Shown::LABEL),
    tag: Tag::Unique,
    read: |a| Prop::Id(a.id.0 as u64),
};
const CODE: Field<Asset> = Field {
    name: "code",
    ty: Type::String,
    shown: F.with(Shown::TILE),
    tag: Tag::Unique,
    read: |a| Prop::Str(&a.code),
};
const LAYER: Field<Asset> = Field {
    name: "layer",
    ty: Type::String,
    shown: F.with(Shown::LABEL),
    tag: Tag::Shared,
    read: |a| Prop::Name(a.layer.as_str()),
};
const KIND: Field<Asset> = Field {
    name: "kind",
    ty: Type::String,
    shown: F.with(Shown::TILE).with(Shown::DOT).with(Shown::LABEL),
    tag: Tag::Shared,
    read: |a| Prop::Name(a.kind.as_str()),
};
const NAME: Field<Asset> = Field {
    name: "name",
    ty: Type::String,
    shown: F.with(Shown::TILE).with(Shown::LABEL),
    tag: Tag::Unique,
    read: |a| opt_str(&a.attrs.name),
};
const NAME_BN: Field<Asset> = Field {
    name: "name_bn",
    ty: Type::String,
    shown: F.with(Shown::TILE_IF_NAMED_HERE).with(Shown::LABEL),
    tag: Tag::Unique,
    read: |a| opt_str(&a.attrs.name_bn),
};
const WARD: Field<Asset> = Field {
    name: "ward",
    ty: Type::Integer,
    shown: F.with(Shown::TILE).with(Shown::LABEL),
    tag: Tag::Shared,
    read: |a| opt_int(a.attrs.ward),
};
const BOROUGH: Field<Asset> = Field {
    name: "borough",
    ty: Type::String,
    shown: F,
    tag: Tag::Shared,
    read: |a| opt_str(&a.attrs.borough),
};
/// Wards carry their borough into tiles (the style and the popups use it).
const WARD_BOROUGH: Field<Asset> = Field {
    shown: F.with(Shown::TILE).with(Shown::DOT),
    ..BOROUGH
};
const ADDRESS: Field<Asset> = Field {
    name: "address",
    ty: Type::String,
    shown: F,
    tag: Tag::Unique,
    read: |a| opt_str(&a.attrs.address),
};
const CONDITION: Field<Asset> = Field {
    name: "condition",
    ty: Type::String,
    shown: F.with(Shown::TILE).with(Shown::DOT),
    tag: Tag::Shared,
    read: |a| Prop::Name(a.attrs.condition.unwrap_or(Condition::Unknown).as_str()),
};
const CONDITION_ASSESSED_AT: Field<Asset> = Field {
    name: "condition_assessed_at",
    ty: Type::String,
    shown: F,
    tag: Tag::Shared,
    read: |a| opt_str(&a.attrs.condition_assessed_at),
};
const LAST_MAINTAINED_AT: Field<Asset> = Field {
    name: "last_maintained_at",
    ty: Type::String,
    shown: F,
    tag: Tag::Shared,
    read: |a| opt_str(&a.attrs.last_maintained_at),
};
const UPDATED_AT: Field<Asset> = Field {
    name: "updated_at",
    ty: Type::String,
    shown: F,
    tag: Tag::Shared,
    read: |a| Prop::Str(&a.updated_at),
};
const VERSION: Field<Asset> = Field {
    name: "version",
    ty: Type::Integer,
    shown: F,
    tag: Tag::Shared,
    read: |a| Prop::Int(a.version),
};
const SOURCE: Field<Asset> = Field {
    name: "source",
    ty: Type::String,
    shown: F,
    tag: Tag::Shared,
    read: |a| opt_str(&a.attrs.source),
};
const GRADE: Field<Asset> = Field {
    name: "grade",
    ty: Type::String,
    shown: F.with(Shown::TILE).with(Shown::DOT).with(Shown::LABEL),
    tag: Tag::Shared,
    read: |a| a.attrs.grade.map_or(Prop::Null, |g| Prop::Name(g.as_str())),
};
/// The heritage lock (issue 17) for other e-KMC systems: `locked` for every graded
/// building until a decision is recorded, then what it said (`cleared`, `released`).
const HERITAGE_LOCK: Field<Asset> = Field {
    name: "heritage_lock",
    ty: Type::String,
    shown: F,
    tag: Tag::Shared,
    read: |a| match (&a.lock, a.attrs.grade) {
        (Some(l), Some(_)) => Prop::Name(l.state),
        (None, Some(_)) => Prop::Name("locked"),
        (_, None) => Prop::Null,
    },
};
/// The application a lock is cleared for.
const HERITAGE_LOCK_APPLICATION: Field<Asset> = Field {
    name: "heritage_lock_application",
    ty: Type::String,
    shown: F,
    tag: Tag::Unique,
    read: |a| match &a.lock {
        Some(l) if a.attrs.grade.is_some() => opt_str(&l.application),
        _ => Prop::Null,
    },
};
const YEAR_BUILT: Field<Asset> = Field {
    name: "year_built",
    ty: Type::Integer,
    shown: F,
    tag: Tag::Shared,
    read: |a| opt_int(a.attrs.year_built),
};
const OWNER: Field<Asset> = Field {
    name: "owner",
    ty: Type::String,
    shown: F,
    tag: Tag::Shared,
    read: |a| opt_str(&a.attrs.owner),
};
const AREA_M2: Field<Asset> = Field {
    name: "area_m2",
    ty: Type::Number,
    shown: F,
    tag: Tag::Shared,
    read: area,
};
const STATUS: Field<Asset> = Field {
    name: "status",
    ty: Type::String,
    shown: F.with(Shown::TILE).with(Shown::DOT),
    tag: Tag::Shared,
    read: |a| Prop::Name(a.attrs.status.unwrap_or(WaterStatus::Active).as_str()),
};
const PROTECTED: Field<Asset> = Field {
    name: "protected",
    ty: Type::Boolean,
    shown: F,
    tag: Tag::Shared,
    read: |a| Prop::Bool(a.attrs.protected.unwrap_or(false)),
};

/// The fields every layer has, in output order (then each layer's own).
macro_rules! common {
    ($borough:expr $(, $own:expr)*) => {
        [
            ID, CODE, LAYER, KIND, NAME, NAME_BN, WARD, $borough, ADDRESS, CONDITION,
            CONDITION_ASSESSED_AT, LAST_MAINTAINED_AT, UPDATED_AT, VERSION, SOURCE $(, $own)*
        ]
    };
}

static HERITAGE: [Field<Asset>; 20] = common!(
    BOROUGH,
    GRADE,
    YEAR_BUILT,
    OWNER,
    HERITAGE_LOCK,
    HERITAGE_LOCK_APPLICATION
);
static WATER_BODIES: [Field<Asset>; 18] = common!(BOROUGH, AREA_M2, STATUS, PROTECTED);
static PARKS: [Field<Asset>; 16] = common!(BOROUGH, AREA_M2);
static WARDS: [Field<Asset>; 15] = common!(WARD_BOROUGH);

/// A layer's fields, in output order.
pub fn fields(layer: Layer) -> &'static [Field<Asset>] {
    match layer {
        Layer::Heritage => &HERITAGE,
        Layer::WaterBodies => &WATER_BODIES,
        Layer::Parks => &PARKS,
        Layer::Wards => &WARDS,
    }
}

/// A layer's field by name.
pub fn field(layer: Layer, name: &str) -> Option<&'static Field<Asset>> {
    fields(layer).iter().find(|f| f.name == name)
}

/// The fields of the `labels` tile layer: every label field of any layer, once, in the
/// order they first appear.
pub fn label_fields() -> Vec<&'static Field<Asset>> {
    let mut out: Vec<&'static Field<Asset>> = Vec::new();
    for layer in Layer::ALL {
        for f in fields(*layer).iter().filter(|f| f.is(Shown::LABEL)) {
            if !out.iter().any(|o| o.name == f.name) {
                out.push(f);
            }
        }
    }
    out
}

/// The fields of a layer's own tile layer (full features; dots carry the `DOT` ones).
pub fn tile_fields(layer: Layer) -> impl Iterator<Item = &'static Field<Asset>> {
    fields(layer)
        .iter()
        .filter(|f| f.is(Shown::TILE) || f.is(Shown::TILE_IF_NAMED_HERE))
}

/// An asset's properties as GeoJSON serves them: every field, in order; then
/// `ward_source` when the ward was found from the location; then the extras the source
/// file carried.
pub fn properties(a: &Asset) -> serde_json::Map<String, serde_json::Value> {
    let mut p = serde_json::Map::new();
    for f in fields(a.layer).iter().filter(|f| f.is(Shown::FEATURES)) {
        p.insert(f.name.to_string(), (f.read)(a).to_json());
        if f.name == "ward" && a.ward_from_location {
            p.insert("ward_source".into(), "location".into());
        }
    }
    for (k, v) in &a.attrs.extra {
        p.entry(k.clone()).or_insert_with(|| v.clone());
    }
    p
}

/// The public fields of a complaint pin: the `complaints` collection and tile layer.
/// Nothing here can reach the reporter's contact details: a pin does not hold them.
pub static COMPLAINT_FIELDS: [Field<Pin>; 5] = [
    Field {
        name: "ticket",
        ty: Type::String,
        shown: F.with(Shown::TILE),
        tag: Tag::Unique,
        read: |p| Prop::Str(&p.ticket),
    },
    Field {
        name: "category",
        ty: Type::String,
        shown: F.with(Shown::TILE),
        tag: Tag::Shared,
        read: |p| Prop::Name(p.category.as_str()),
    },
    Field {
        name: "status",
        ty: Type::String,
        shown: F.with(Shown::TILE),
        tag: Tag::Shared,
        read: |p| Prop::Name(p.status.as_str()),
    },
    Field {
        name: "created_at",
        ty: Type::String,
        shown: F.with(Shown::TILE),
        tag: Tag::Shared,
        read: |p| Prop::Str(&p.created_at),
    },
    Field {
        name: "updated_at",
        ty: Type::String,
        shown: F,
        tag: Tag::Shared,
        read: |p| Prop::Str(&p.updated_at),
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_are_unique_per_layer() {
        for layer in Layer::ALL {
            let mut names: Vec<&str> = fields(*layer).iter().map(|f| f.name).collect();
            let n = names.len();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), n, "{layer}");
        }
    }

    #[test]
    fn tiles_carry_only_text_and_integers() {
        // The tile writer has no float or boolean values (`tiles::tag`).
        for layer in Layer::ALL {
            let tiled = fields(*layer).iter().filter(|f| {
                f.is(Shown::TILE) || f.is(Shown::TILE_IF_NAMED_HERE) || f.is(Shown::LABEL)
            });
            for f in tiled {
                assert!(
                    matches!(f.ty, Type::String | Type::Integer),
                    "{layer}.{}",
                    f.name
                );
            }
        }
        for f in COMPLAINT_FIELDS.iter().filter(|f| f.is(Shown::TILE)) {
            assert!(matches!(f.ty, Type::String | Type::Integer), "{}", f.name);
        }
    }

    #[test]
    fn dots_carry_only_what_full_features_carry() {
        for layer in Layer::ALL {
            for f in fields(*layer).iter().filter(|f| f.is(Shown::DOT)) {
                assert!(f.is(Shown::TILE), "{layer}.{}", f.name);
            }
        }
    }
}
