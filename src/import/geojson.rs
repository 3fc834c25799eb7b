//! GeoJSON reader: a FeatureCollection, a single Feature or bare Geometry, or a sequence of
//! them (newline-delimited GeoJSONSeq, with or without RFC 8142's record separators).
//!
//! Geometry is converted by hand rather than by `geojson`'s `TryFrom`, which indexes
//! positions without checking their length: a client's `[88.3]` must be an error, not a
//! panic. Rings are checked closed here, before geo-types silently closes them.

use std::io::Read;

use geo_types::{Geometry, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon};
use serde_json::{Map, Value};

use super::{check_ring_closed, FeatureIter, ImportError, RawFeature};

const FORMAT: &str = "GeoJSON";

pub(crate) fn read(
    input: Box<dyn Read + Send>,
) -> Result<(FeatureIter, Option<String>), ImportError> {
    let stream =
        serde_json::Deserializer::from_reader(SkipRecordSeparators(input)).into_iter::<Value>();
    let mut stream = stream.peekable();
    // A FeatureCollection carries the (pre-RFC 7946) `crs` member GDAL still writes for
    // projected output; read it before any feature.
    let mut declared = None;
    if let Some(Ok(Value::Object(first))) = stream.peek() {
        if first.get("type").and_then(Value::as_str) == Some("FeatureCollection") {
            declared = first
                .get("crs")
                .and_then(|c| c.get("properties"))
                .and_then(|p| p.get("name"))
                .and_then(Value::as_str)
                .map(str::to_string);
        }
    }
    let mut index = 0usize;
    let iter = stream.flat_map(move |top| -> Vec<Result<RawFeature, ImportError>> {
        let top = match top {
            Ok(v) => v,
            Err(e) => {
                return vec![Err(ImportError::feature(
                    index,
                    None,
                    format!("invalid JSON: {e}"),
                ))];
            }
        };
        let items: Vec<Value> = match top.get("type").and_then(Value::as_str) {
            Some("FeatureCollection") => match top {
                Value::Object(mut o) => match o.remove("features") {
                    Some(Value::Array(f)) => f,
                    _ => {
                        return vec![Err(ImportError::Format {
                            format: FORMAT,
                            reason: "FeatureCollection has no \"features\" array".into(),
                        })]
                    }
                },
                _ => unreachable!("a value with a type member is an object"),
            },
            _ => vec![top],
        };
        items
            .into_iter()
            .map(|item| {
                let i = index;
                index += 1;
                feature(i, item)
            })
            .collect()
    });
    Ok((Box::new(iter), declared))
}

/// Converts one Feature (or bare Geometry) object.
pub(crate) fn feature(index: usize, v: Value) -> Result<RawFeature, ImportError> {
    let Value::Object(mut o) = v else {
        return Err(ImportError::feature(
            index,
            None,
            "expected a GeoJSON object",
        ));
    };
    let id = match o.get("id") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let fail = |reason: String| ImportError::feature(index, id.clone(), reason);
    let (geometry, properties) = match o.get("type").and_then(Value::as_str) {
        Some("Feature") => {
            let properties = match o.remove("properties") {
                Some(Value::Object(p)) => p,
                None | Some(Value::Null) => Map::new(),
                Some(_) => return Err(fail("\"properties\" must be an object".into())),
            };
            match o.remove("geometry") {
                Some(Value::Null) | None => return Err(fail("feature has no geometry".into())),
                Some(g) => (g, properties),
            }
        }
        Some(
            t @ ("Point" | "MultiPoint" | "LineString" | "MultiLineString" | "Polygon"
            | "MultiPolygon"),
        ) => {
            let _ = t;
            (Value::Object(o), Map::new())
        }
        Some(other) => return Err(fail(format!("unsupported GeoJSON type {other:?}"))),
        None => return Err(fail("object has no \"type\"".into())),
    };
    let geometry = geometry_from(&geometry, index, &id)?;
    Ok(RawFeature {
        index,
        id,
        geometry,
        properties,
    })
}

/// Converts a GeoJSON geometry object, checking every position and ring.
pub(crate) fn geometry_from(
    g: &Value,
    index: usize,
    id: &Option<String>,
) -> Result<Geometry<f64>, ImportError> {
    let fail = |reason: String| ImportError::feature(index, id.clone(), reason);
    let bad_position = |e: PositionError| fail(e.to_string());
    let ty = g
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| fail("geometry has no \"type\"".into()))?;
    let coords = g.get("coordinates");
    let c = || coords.ok_or_else(|| fail(format!("{ty} has no \"coordinates\"")));
    let mut ring_no = 0usize;
    let mut polygon = |v: &Value| -> Result<Polygon<f64>, ImportError> {
        let rings =
            array(v).ok_or_else(|| fail("polygon coordinates must be an array of rings".into()))?;
        if rings.is_empty() {
            return Err(fail("polygon has no rings".into()));
        }
        let mut out = Vec::with_capacity(rings.len());
        for r in rings {
            let pts = positions(r).map_err(bad_position)?;
            check_ring_closed(&pts, ring_no, index, id)?;
            ring_no += 1;
            out.push(LineString::from(pts));
        }
        let exterior = out.remove(0);
        Ok(Polygon::new(exterior, out))
    };
    Ok(match ty {
        "Point" => {
            let (x, y) = position(c()?).map_err(bad_position)?;
            Geometry::Point(Point::new(x, y))
        }
        "MultiPoint" => Geometry::MultiPoint(MultiPoint::from(
            positions(c()?)
                .map_err(bad_position)?
                .into_iter()
                .map(|(x, y)| Point::new(x, y))
                .collect::<Vec<_>>(),
        )),
        "LineString" => {
            Geometry::LineString(LineString::from(positions(c()?).map_err(bad_position)?))
        }
        "MultiLineString" => {
            let lines = array(c()?)
                .ok_or_else(|| fail("MultiLineString coordinates must be an array".into()))?;
            let lines = lines
                .iter()
                .map(|l| positions(l).map(LineString::from).map_err(bad_position))
                .collect::<Result<Vec<_>, _>>()?;
            Geometry::MultiLineString(MultiLineString::new(lines))
        }
        "Polygon" => Geometry::Polygon(polygon(c()?)?),
        "MultiPolygon" => {
            let polys = array(c()?)
                .ok_or_else(|| fail("MultiPolygon coordinates must be an array".into()))?;
            let polys = polys
                .iter()
                .map(&mut polygon)
                .collect::<Result<Vec<_>, _>>()?;
            Geometry::MultiPolygon(MultiPolygon::new(polys))
        }
        "GeometryCollection" => {
            return Err(fail(
                "geometry collections are not accepted; split them into separate features".into(),
            ))
        }
        other => return Err(fail(format!("unknown geometry type {other:?}"))),
    })
}

fn array(v: &Value) -> Option<&Vec<Value>> {
    v.as_array()
}

/// A GeoJSON position, or list of positions, that is not one.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
enum PositionError {
    #[error("position {0} is not an array")]
    NotArray(Value),
    #[error("position {0} needs at least two numbers")]
    TooShort(Value),
    #[error("position {0} holds a non-number")]
    NotNumber(Value),
    #[error("expected an array of positions, got {0}")]
    NotList(Value),
}

fn position(v: &Value) -> Result<(f64, f64), PositionError> {
    let a = v
        .as_array()
        .ok_or_else(|| PositionError::NotArray(v.clone()))?;
    if a.len() < 2 {
        return Err(PositionError::TooShort(v.clone()));
    }
    let n = |i: usize| {
        a[i].as_f64()
            .ok_or_else(|| PositionError::NotNumber(v.clone()))
    };
    Ok((n(0)?, n(1)?))
}

fn positions(v: &Value) -> Result<Vec<(f64, f64)>, PositionError> {
    let a = v
        .as_array()
        .ok_or_else(|| PositionError::NotList(v.clone()))?;
    a.iter().map(position).collect()
}

/// Maps RFC 8142 record separators (0x1E) to spaces so the JSON stream parser sees plain
/// whitespace between records.
struct SkipRecordSeparators(Box<dyn Read + Send>);

impl Read for SkipRecordSeparators {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.0.read(buf)?;
        for b in &mut buf[..n] {
            if *b == 0x1e {
                *b = b' ';
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_str(s: &str) -> Vec<Result<RawFeature, ImportError>> {
        let (it, _) = read(Box::new(std::io::Cursor::new(s.as_bytes().to_vec()))).unwrap();
        it.collect()
    }

    #[test]
    fn collection_feature_and_sequence_all_read() {
        let fc = r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","id":"a","geometry":{"type":"Point","coordinates":[88.1,22.1]},"properties":{"name":"A"}},
            {"type":"Feature","geometry":{"type":"Point","coordinates":[88.2,22.2]},"properties":null}]}"#;
        let r = read_str(fc);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].as_ref().unwrap().id.as_deref(), Some("a"));
        let one = r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[88.1,22.1]},"properties":{}}"#;
        assert_eq!(read_str(one).len(), 1);
        let seq = format!("{one}\n{one}\n\x1e{one}\n");
        let r = read_str(&seq);
        assert_eq!(r.len(), 3);
        assert_eq!(r[2].as_ref().unwrap().index, 2);
    }

    #[test]
    fn short_position_and_unclosed_ring_are_errors_not_panics() {
        let short = r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[88.1]},"properties":{}}"#;
        assert!(read_str(short)[0].is_err());
        let open = r#"{"type":"Feature","id":7,"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]},"properties":{}}"#;
        let e = read_str(open).remove(0).unwrap_err().to_string();
        assert!(e.contains("not closed") && e.contains("\"7\""), "{e}");
    }
}
