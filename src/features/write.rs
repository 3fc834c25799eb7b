//! Writers of selected items: GeoJSON features (in any served CRS), and whole downloads
//! as GeoJSON, CSV (WKT geometry column first, UTF-8) or FlatGeobuf (with its packed
//! Hilbert R-tree index, which QGIS and GDAL use for bbox reads).

use std::borrow::Cow;
use std::io::Write;

use serde_json::{json, Map, Value as Json};

use super::cql2::{Record, Value};
use super::crs::Crs;
use super::{Collection, Item, ValueRef};

/// An item as a GeoJSON Feature, geometry in `crs`.
pub fn feature(item: &Item, crs: &Crs) -> Json {
    match item {
        Item::Asset(a) => {
            let mut f = super::feature(a, &[]);
            if !crs.is_crs84() {
                f["geometry"] = json!(geojson::Geometry::new(geojson::Value::from(
                    &*crs.geometry(&a.geometry)
                )));
            }
            f
        }
        Item::Complaint(p, g) => json!({
            "type": "Feature",
            "id": p.ticket,
            "geometry": geojson::Geometry::new(geojson::Value::from(&*crs.geometry(g))),
            "properties": crate::schema::COMPLAINT_FIELDS
                .iter()
                .filter(|f| f.is(crate::schema::Shown::FEATURES))
                .map(|f| (f.name.to_string(), (f.read)(p).to_json()))
                .collect::<Map<String, Json>>(),
        }),
    }
}

/// A whole selection as one GeoJSON FeatureCollection, written as it goes.
pub fn geojson<W: Write>(items: &[Item], crs: &Crs, name: &str, mut out: W) -> std::io::Result<()> {
    geojson_start(&mut out, name, items.len())?;
    for (i, it) in items.iter().enumerate() {
        geojson_feature(&mut out, it, crs, i)?;
    }
    geojson_end(&mut out)
}

/// A FeatureCollection's opening, for `n` features.
pub fn geojson_start<W: Write>(out: &mut W, name: &str, n: usize) -> std::io::Result<()> {
    write!(
        out,
        "{{\"type\":\"FeatureCollection\",\"name\":{},\"numberMatched\":{n},\"numberReturned\":{n},\"features\":[",
        Json::from(name),
    )
}

/// The `i`-th feature of a FeatureCollection (comma-separated from the one before).
pub fn geojson_feature<W: Write>(
    out: &mut W,
    it: &Item,
    crs: &Crs,
    i: usize,
) -> std::io::Result<()> {
    if i > 0 {
        out.write_all(b",\n")?;
    }
    serde_json::to_writer(&mut *out, &feature(it, crs)).map_err(std::io::Error::from)
}

/// A FeatureCollection's closing.
pub fn geojson_end<W: Write>(out: &mut W) -> std::io::Result<()> {
    out.write_all(b"]}\n")?;
    out.flush()
}

fn csv_cell<'a>(v: &'a ValueRef<'_>) -> Cow<'a, str> {
    match v {
        ValueRef::Null => Cow::Borrowed(""),
        ValueRef::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
        ValueRef::Num(n) if n.fract() == 0.0 && n.abs() < 1e15 => {
            Cow::Owned(format!("{}", *n as i64))
        }
        ValueRef::Num(n) => Cow::Owned(n.to_string()),
        ValueRef::Str(s) => Cow::Borrowed(s),
    }
}

/// CSV: a `WKT` column (GDAL's CSV driver reads it as the geometry), then every property.
pub fn csv<W: Write>(c: Collection, items: &[Item], crs: &Crs, out: W) -> std::io::Result<()> {
    let cols = super::columns(c, items);
    let mut w = csv_start(out, &cols)?;
    for it in items {
        csv_row(&mut w, &cols, it, crs)?;
    }
    w.flush()
}

/// A CSV writer with the byte-order mark and the header row written.
pub fn csv_start<W: Write>(
    out: W,
    cols: &[(String, &'static str)],
) -> std::io::Result<csv::Writer<W>> {
    let mut out = out;
    // A byte-order mark, so Excel reads the file as UTF-8 (Bengali names); GDAL, pandas
    // (`utf-8-sig`) and LibreOffice skip it.
    out.write_all("\u{feff}".as_bytes())?;
    let mut w = csv::Writer::from_writer(out);
    let mut header = vec!["WKT"];
    header.extend(cols.iter().map(|(n, _)| n.as_str()));
    w.write_record(&header)?;
    Ok(w)
}

/// One item as a CSV row under `cols`.
pub fn csv_row<W: Write>(
    w: &mut csv::Writer<W>,
    cols: &[(String, &'static str)],
    it: &Item,
    crs: &Crs,
) -> std::io::Result<()> {
    use wkt::ToWkt;
    // Field by field: no row of copied text per item.
    w.write_field(crs.geometry(it.geometry()).wkt_string())?;
    for (n, _) in cols {
        w.write_field(csv_cell(&it.value(n)).as_bytes())?;
    }
    w.write_record(None::<&[u8]>)?;
    Ok(())
}

/// FlatGeobuf with a spatial index, every property a column (see [`super::fgb`]).
pub fn fgb<W: Write>(c: Collection, items: &[Item], crs: &Crs, out: W) -> std::io::Result<()> {
    super::fgb::write(c, items, crs, out)
}

/// Properties of an item as a JSON map (for tests and the CLI's checks).
pub fn properties(c: Collection, it: &Item) -> Map<String, Json> {
    c.properties()
        .iter()
        .map(|(n, _)| {
            let v = match it.get(n) {
                Value::Null => Json::Null,
                Value::Bool(b) => Json::Bool(b),
                Value::Num(x) => json!(x),
                Value::Str(s) => Json::String(s),
            };
            ((*n).to_string(), v)
        })
        .collect()
}
