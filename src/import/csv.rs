//! CSV reader: a header row, then one feature per row, located either by a pair of
//! coordinate columns (`lon`/`lat`, `longitude`/`latitude`, `lng`, `x`/`y`) or by a WKT
//! column (`wkt`, `geometry`, `geom`, `the_geom`). Other columns become properties, as
//! text; the property mapping parses the known numeric ones.

use std::io::Read;
use std::str::FromStr;

use geo_types::{Geometry, Point};
use serde_json::{Map, Value};

use super::{check_ring_closed, FeatureIter, ImportError, RawFeature};

const FORMAT: &str = "CSV";
const LON: &[&str] = &["lon", "lng", "long", "longitude", "x"];
const LAT: &[&str] = &["lat", "latitude", "y"];
const WKT: &[&str] = &["wkt", "geometry", "geom", "the_geom", "wkt_geom"];

enum Locate {
    LonLat(usize, usize),
    Wkt(usize),
}

pub(crate) fn read(
    input: Box<dyn Read + Send>,
) -> Result<(FeatureIter, Option<String>), ImportError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(input);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| ImportError::Format {
            format: FORMAT,
            reason: e.to_string(),
        })?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_string())
        .collect();
    let find = |names: &[&str]| {
        headers
            .iter()
            .position(|h| names.contains(&h.to_ascii_lowercase().as_str()))
    };
    let locate = match (find(WKT), find(LON), find(LAT)) {
        (Some(w), _, _) => Locate::Wkt(w),
        (None, Some(x), Some(y)) => Locate::LonLat(x, y),
        _ => {
            return Err(ImportError::Format {
                format: FORMAT,
                reason: format!(
                    "no geometry columns: expected lon and lat (or longitude/latitude, x/y), or a wkt column; found {}",
                    headers.join(", ")
                ),
            })
        }
    };
    let geometry_cols: Vec<usize> = match locate {
        Locate::LonLat(x, y) => vec![x, y],
        Locate::Wkt(w) => vec![w],
    };
    let id_col = headers
        .iter()
        .position(|h| h.eq_ignore_ascii_case("code"))
        .or_else(|| headers.iter().position(|h| h.eq_ignore_ascii_case("id")));
    let iter = reader.into_records().enumerate().map(move |(index, rec)| {
        let rec =
            rec.map_err(|e| ImportError::feature(index, None, format!("unreadable CSV row: {e}")))?;
        let id = id_col
            .and_then(|c| rec.get(c))
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        let fail = |reason: String| ImportError::feature(index, id.clone(), reason);
        let geometry = match locate {
            Locate::LonLat(x, y) => {
                let num = |c: usize| -> Result<f64, ImportError> {
                    let s = rec.get(c).unwrap_or("");
                    s.parse::<f64>()
                        .map_err(|_| fail(format!("{} {s:?} is not a number", headers[c])))
                };
                Geometry::Point(Point::new(num(x)?, num(y)?))
            }
            Locate::Wkt(w) => parse_wkt(rec.get(w).unwrap_or(""), index, &id)?,
        };
        let mut properties = Map::new();
        for (i, value) in rec.iter().enumerate() {
            if geometry_cols.contains(&i) || value.is_empty() {
                continue;
            }
            properties.insert(headers[i].clone(), Value::String(value.to_string()));
        }
        Ok(RawFeature {
            index,
            id,
            geometry,
            properties,
        })
    });
    Ok((Box::new(iter), None))
}

/// How deep WKT parentheses may nest. The wkt crate parses recursively, a level a
/// parenthesis, on the reader's stack: a cell of a few thousand `GEOMETRYCOLLECTION(`
/// overflowed it and aborted the process. A MULTIPOLYGON nests 3 deep.
const MAX_WKT_DEPTH: usize = 16;

fn parse_wkt(s: &str, index: usize, id: &Option<String>) -> Result<Geometry<f64>, ImportError> {
    let fail = |reason: String| ImportError::feature(index, id.clone(), reason);
    let mut depth = 0usize;
    for b in s.bytes() {
        match b {
            b'(' => {
                depth += 1;
                if depth > MAX_WKT_DEPTH {
                    return Err(fail(format!(
                        "invalid WKT: parentheses nest deeper than {MAX_WKT_DEPTH}"
                    )));
                }
            }
            b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    let parsed = wkt::Wkt::<f64>::from_str(s).map_err(|e| fail(format!("invalid WKT: {e}")))?;
    let mut ring_no = 0;
    let mut check = |p: &wkt::types::Polygon<f64>| -> Result<(), ImportError> {
        for ring in p.rings() {
            let pts: Vec<(f64, f64)> = ring.coords().iter().map(|c| (c.x, c.y)).collect();
            check_ring_closed(&pts, ring_no, index, id)?;
            ring_no += 1;
        }
        Ok(())
    };
    match &parsed {
        wkt::Wkt::Polygon(p) => check(p)?,
        wkt::Wkt::MultiPolygon(mp) => mp.polygons().iter().try_for_each(&mut check)?,
        wkt::Wkt::GeometryCollection(_) => {
            return Err(fail(
                "geometry collections are not accepted; split them into separate features".into(),
            ))
        }
        _ => {}
    }
    Geometry::try_from(parsed).map_err(|e| fail(format!("unusable WKT geometry: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_str(s: &str) -> Vec<Result<RawFeature, ImportError>> {
        let (it, _) = read(Box::new(std::io::Cursor::new(s.as_bytes().to_vec()))).unwrap();
        it.collect()
    }

    #[test]
    fn lon_lat_and_wkt_columns() {
        let r = read_str("code,name,longitude,latitude\nHER-1,Shaheed Minar,88.3509,22.5636\n");
        let f = r[0].as_ref().unwrap();
        assert_eq!(f.id.as_deref(), Some("HER-1"));
        assert_eq!(f.geometry, Geometry::Point(Point::new(88.3509, 22.5636)));
        assert!(!f.properties.contains_key("longitude"));
        let r = read_str("name,wkt\nLal Dighi,\"POLYGON((88.348 22.573,88.350 22.573,88.350 22.574,88.348 22.574,88.348 22.573))\"\n");
        assert!(matches!(
            r[0].as_ref().unwrap().geometry,
            Geometry::Polygon(_)
        ));
    }

    #[test]
    fn unclosed_wkt_ring_and_bad_number_are_errors() {
        let r = read_str("name,wkt\nx,\"POLYGON((0 0,1 0,1 1,0 1))\"\n");
        assert!(r[0]
            .as_ref()
            .unwrap_err()
            .to_string()
            .contains("not closed"));
        let r = read_str("lon,lat\nabc,22\n");
        assert!(r[0].is_err());
    }
}
