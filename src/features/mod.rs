//! OGC API - Features over the index: collections, their properties (queryables), item
//! selection (bbox, datetime, property equality, CQL2), output CRS, and the writers for
//! GeoJSON, FlatGeobuf and CSV. The HTTP routes (`http::ogc`) and `heritage-atlas export`
//! both use this, so a download and a command-line export are the same bytes.

pub mod cql2;
pub mod crs;
pub mod edit;
pub mod fgb;
pub mod write;

use std::borrow::Cow;
use std::sync::Arc;

use geo::Intersects;
use geo_types::{Geometry, Point, Rect};

use crate::index::Index;
use crate::model::{Asset, Layer, Pin};
use crate::schema::{self, Prop, Shown};
use cql2::Value;

/// The largest page of items a request may ask for (larger `limit`s are clamped;
/// downloads without a `limit` are whole).
pub const MAX_LIMIT: usize = 10_000;

/// A collection: an asset layer, or the public face of complaints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collection {
    Assets(Layer),
    Complaints,
}

impl Collection {
    /// The asset layer a collection serves (none for the complaints).
    pub fn layers(self) -> Vec<Layer> {
        match self {
            Collection::Assets(l) => vec![l],
            Collection::Complaints => Vec::new(),
        }
    }

    pub const ALL: [Collection; 5] = [
        Collection::Assets(Layer::Heritage),
        Collection::Assets(Layer::WaterBodies),
        Collection::Assets(Layer::Parks),
        Collection::Assets(Layer::Wards),
        Collection::Complaints,
    ];

    pub fn parse(s: &str) -> Option<Collection> {
        if s == "complaints" {
            return Some(Collection::Complaints);
        }
        s.parse().ok().map(Collection::Assets)
    }

    pub fn id(self) -> &'static str {
        match self {
            Collection::Assets(l) => l.as_str(),
            Collection::Complaints => "complaints",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Collection::Assets(l) => l.title(),
            Collection::Complaints => "Citizens' complaints (public fields)",
        }
    }

    /// Every property, in output order, with its type (`string`, `integer`, `number`,
    /// `boolean`): the CSV and FlatGeobuf columns, the queryables (from [`schema`]).
    pub fn properties(self) -> Vec<(&'static str, &'static str)> {
        match self {
            Collection::Assets(layer) => schema::fields(layer)
                .iter()
                .filter(|f| f.is(Shown::FEATURES))
                .map(|f| (f.name, f.ty.json_name()))
                .collect(),
            Collection::Complaints => schema::COMPLAINT_FIELDS
                .iter()
                .filter(|f| f.is(Shown::FEATURES))
                .map(|f| (f.name, f.ty.json_name()))
                .collect(),
        }
    }

    pub fn property_type(self, name: &str) -> Option<&'static str> {
        let ty = match self {
            Collection::Assets(layer) => schema::field(layer, name)
                .filter(|f| f.is(Shown::FEATURES))
                .map(|f| f.ty),
            Collection::Complaints => schema::COMPLAINT_FIELDS
                .iter()
                .find(|f| f.name == name && f.is(Shown::FEATURES))
                .map(|f| f.ty),
        };
        ty.map(schema::Type::json_name)
    }
}

impl cql2::Queryables for Collection {
    fn is_queryable(&self, name: &str) -> bool {
        self.property_type(name).is_some() || name == "created_at"
    }
}

/// One item of a collection. Small (a few words), since a download of a national layer
/// holds millions of them.
#[derive(Debug, Clone)]
pub enum Item {
    Asset(Arc<Asset>),
    Complaint(Arc<Pin>, Box<Geometry<f64>>),
}

impl Item {
    /// A property as [`cql2::Record::get`] gives it, its text borrowed from the item: a
    /// download of the national layer reads tens of millions.
    pub fn value(&self, name: &str) -> ValueRef<'_> {
        match self {
            Item::Asset(a) => asset_value_ref(a, name),
            Item::Complaint(p, _) => schema::COMPLAINT_FIELDS
                .iter()
                .find(|f| f.name == name)
                .map_or(ValueRef::Null, |f| value((f.read)(p))),
        }
    }
}

impl cql2::Record for Item {
    fn get(&self, name: &str) -> Value {
        self.value(name).into_owned()
    }

    fn geometry(&self) -> &Geometry<f64> {
        match self {
            Item::Asset(a) => &a.geometry,
            Item::Complaint(_, g) => g,
        }
    }
}

/// A [`Value`] whose text may be borrowed from the record it was read from.
#[derive(Debug, Clone, PartialEq)]
pub enum ValueRef<'a> {
    Null,
    Bool(bool),
    Num(f64),
    Str(Cow<'a, str>),
}

impl ValueRef<'_> {
    pub fn into_owned(self) -> Value {
        match self {
            ValueRef::Null => Value::Null,
            ValueRef::Bool(b) => Value::Bool(b),
            ValueRef::Num(n) => Value::Num(n),
            ValueRef::Str(s) => Value::Str(s.into_owned()),
        }
    }
}

fn value(p: Prop<'_>) -> ValueRef<'_> {
    match p {
        Prop::Null => ValueRef::Null,
        Prop::Str(s) => ValueRef::Str(Cow::Borrowed(s)),
        Prop::Name(s) => ValueRef::Str(Cow::Borrowed(s)),
        Prop::Int(n) => ValueRef::Num(n as f64),
        Prop::Id(n) => ValueRef::Num(n as f64),
        Prop::Num(x) => ValueRef::Num(x),
        Prop::Bool(b) => ValueRef::Bool(b),
    }
}

/// A property of an asset as a filter sees it: a field of its layer, `created_at`, or a
/// property the source file carried with no column of its own.
pub fn asset_value(a: &Asset, name: &str) -> Value {
    asset_value_ref(a, name).into_owned()
}

fn asset_value_ref<'a>(a: &'a Asset, name: &str) -> ValueRef<'a> {
    if let Some(f) = schema::field(a.layer, name) {
        return value((f.read)(a));
    }
    if name == "created_at" {
        return ValueRef::Str(Cow::Borrowed(&a.created_at));
    }
    match a.attrs.extra.get(name) {
        None | Some(serde_json::Value::Null) => ValueRef::Null,
        Some(serde_json::Value::String(t)) => ValueRef::Str(Cow::Borrowed(t)),
        Some(serde_json::Value::Bool(b)) => ValueRef::Bool(*b),
        Some(serde_json::Value::Number(n)) => n.as_f64().map_or(ValueRef::Null, ValueRef::Num),
        Some(v) => ValueRef::Str(Cow::Owned(v.to_string())),
    }
}

/// An asset as a GeoJSON Feature (CRS84), its properties from [`schema::properties`],
/// with extra properties appended (e.g. `distance_m`).
pub fn feature(a: &Asset, extra: &[(&str, serde_json::Value)]) -> serde_json::Value {
    let mut props = schema::properties(a);
    for (k, v) in extra {
        props.insert((*k).to_string(), v.clone());
    }
    serde_json::json!({
        "type": "Feature",
        "id": a.id.0,
        "geometry": geojson::Geometry::new(geojson::Value::from(&a.geometry)),
        "properties": props,
    })
}

/// The columns of a download: the collection's properties, then every extra property
/// any selected asset carries (as text), in name order.
pub fn columns(c: Collection, items: &[Item]) -> Vec<(String, &'static str)> {
    // Names borrowed while a national layer's items are scanned; copied once each.
    let mut extra = std::collections::BTreeSet::new();
    for it in items {
        if let Item::Asset(a) = it {
            extra.extend(a.attrs.extra.keys().map(String::as_str));
        }
    }
    columns_with(c, extra.into_iter().map(String::from))
}

/// The columns of a download whose items carry these extra property names (in any
/// order, repeated or not): the collection's properties, then the extras in name order.
pub fn columns_with(
    c: Collection,
    extra: impl IntoIterator<Item = String>,
) -> Vec<(String, &'static str)> {
    let mut cols: Vec<(String, &'static str)> = c
        .properties()
        .into_iter()
        .map(|(n, t)| (n.to_string(), t))
        .collect();
    let extra: std::collections::BTreeSet<String> = extra
        .into_iter()
        .filter(|k| c.property_type(k).is_none() && k != "created_at")
        .collect();
    cols.extend(extra.into_iter().map(|k| (k, "string")));
    cols
}

/// What to select from a collection.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Lon/lat box the geometry must intersect.
    pub bbox: Option<Rect<f64>>,
    /// `updated_at` within [start, end] (RFC 3339 UTC text; `None` is open).
    pub datetime: Option<(Option<String>, Option<String>)>,
    /// Property equality filters (`grade=I`), values already checked against the type.
    pub equals: Vec<(String, Value)>,
    pub filter: Option<cql2::Expr>,
}

impl Selection {
    /// Whether the selection keeps this item.
    pub fn keeps(&self, item: &Item) -> bool {
        use cql2::Record;
        if let Some(b) = &self.bbox {
            if !item.geometry().intersects(b) {
                return false;
            }
        }
        if let Some((from, to)) = &self.datetime {
            let Value::Str(t) = item.get("updated_at") else {
                return false;
            };
            if from.as_ref().is_some_and(|f| t < *f) || to.as_ref().is_some_and(|e| t > *e) {
                return false;
            }
        }
        for (k, v) in &self.equals {
            let got = item.get(k);
            let equal = match (&got, v) {
                (Value::Num(a), Value::Num(b)) => (a - b).abs() < 1e-9,
                (a, b) => a == b,
            };
            if !equal {
                return false;
            }
        }
        self.filter.as_ref().is_none_or(|f| f.matches(item))
    }
}

/// Every item of `c` that the selection keeps, in id order (tickets for complaints).
pub fn select(index: &Index, c: Collection, sel: &Selection) -> Vec<Item> {
    let hint = match (&sel.bbox, sel.filter.as_ref().and_then(|f| f.bbox_hint())) {
        (Some(a), Some(b)) => Some(if a.intersects(&b) {
            Rect::new(
                (a.min().x.max(b.min().x), a.min().y.max(b.min().y)),
                (a.max().x.min(b.max().x), a.max().y.min(b.max().y)),
            )
        } else {
            return Vec::new();
        }),
        (a, b) => a.or(b),
    };
    let mut out: Vec<Item> = match c {
        Collection::Assets(layer) => {
            // Filtered under the read lock, straight into items: a national layer is not
            // copied into a list of candidates first.
            let li = index.read(layer);
            let keep = |a: &Arc<Asset>| {
                let it = Item::Asset(a.clone());
                sel.keeps(&it).then_some(it)
            };
            match &hint {
                Some(r) => li
                    .candidates(r)
                    .filter_map(|e| li.slot(e.slot))
                    .filter_map(keep)
                    .collect(),
                None => li.iter().filter_map(keep).collect(),
            }
        }
        Collection::Complaints => {
            let ci = index.complaints();
            let world = Rect::new((-180.0, -90.0), (180.0, 90.0));
            ci.in_rect(hint.as_ref().unwrap_or(&world))
                .map(|p| {
                    Item::Complaint(
                        p.clone(),
                        Box::new(Geometry::Point(Point::new(p.lon, p.lat))),
                    )
                })
                .filter(|i| sel.keeps(i))
                .collect()
        }
    };
    out.sort_unstable_by_key(|i| match i {
        Item::Asset(a) => a.id.0,
        Item::Complaint(p, _) => p.id,
    });
    out
}

/// One item by its id (`featureId`: the asset id or code, or the complaint ticket).
pub fn item(index: &Index, c: Collection, id: &str) -> Option<Item> {
    match c {
        Collection::Assets(layer) => {
            let li = index.read(layer);
            let a = match id.parse::<i64>() {
                Ok(n) => li.get(crate::model::AssetId(n)).cloned(),
                Err(_) => li.iter().find(|a| a.code == id).cloned(),
            };
            a.map(Item::Asset)
        }
        Collection::Complaints => {
            let ci = index.complaints();
            let world = Rect::new((-180.0, -90.0), (180.0, 90.0));
            let found = ci.in_rect(&world).find(|p| p.ticket == id).cloned();
            found.map(|p| {
                let g = Box::new(Geometry::Point(Point::new(p.lon, p.lat)));
                Item::Complaint(p, g)
            })
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_item_is_small() {
        assert!(std::mem::size_of::<super::Item>() <= 24);
    }
}
