//! FlatGeobuf reader, sequential (no seeking), so it reads from any byte stream.
//!
//! The flatgeobuf crate verifies each flatbuffer before use, so a corrupt file is an
//! error, not undefined behaviour. Rings are checked closed from the raw coordinates
//! before geo-types would close them.

use std::io::Read;

use flatgeobuf::{FallibleStreamingIterator, FeatureProperties, FgbReader, GeometryType};
use geozero::{ColumnValue, PropertyProcessor, ToGeo};
use serde_json::{Map, Value};

use super::{check_ring_closed, FeatureIter, ImportError, RawFeature};

const FORMAT: &str = "FlatGeobuf";

pub(crate) fn read(
    input: Box<dyn Read + Send>,
) -> Result<(FeatureIter, Option<String>), ImportError> {
    let fmt_err = |e: flatgeobuf::Error| ImportError::Format {
        format: FORMAT,
        reason: e.to_string(),
    };
    let reader = FgbReader::open(input).map_err(fmt_err)?;
    let header = reader.header();
    let declared = header.crs().and_then(|c| {
        let org = c.org().unwrap_or("EPSG");
        (c.code() > 0).then(|| format!("{org}:{}", c.code()))
    });
    let header_type = header.geometry_type();
    let iter = reader.select_all_seq().map_err(fmt_err)?;
    Ok((
        Box::new(Features {
            iter,
            header_type,
            index: 0,
            done: false,
        }),
        declared,
    ))
}

struct Features {
    iter: flatgeobuf::FeatureIter<Box<dyn Read + Send>, flatgeobuf::NotSeekable>,
    header_type: GeometryType,
    index: usize,
    done: bool,
}

impl Iterator for Features {
    type Item = Result<RawFeature, ImportError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let index = self.index;
        self.index += 1;
        let feature = match self.iter.next() {
            Ok(Some(f)) => f,
            Ok(None) => {
                self.done = true;
                return None;
            }
            Err(e) => {
                self.done = true;
                return Some(Err(ImportError::feature(
                    index,
                    None,
                    format!("unreadable FlatGeobuf feature: {e}"),
                )));
            }
        };
        let mut props = JsonProps(Map::new());
        if let Err(e) = feature.process_properties(&mut props) {
            return Some(Err(ImportError::feature(
                index,
                None,
                format!("unreadable properties: {e}"),
            )));
        }
        let properties = props.0;
        let id = ["code", "id", "fid"]
            .iter()
            .find_map(|k| match properties.get(*k) {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => None,
            });
        if let Some(g) = feature.geometry() {
            let ty = if self.header_type == GeometryType::Unknown {
                g.type_()
            } else {
                self.header_type
            };
            if let Err(e) = check_rings(&g, ty, index, &id) {
                return Some(Err(e));
            }
        } else {
            return Some(Err(ImportError::feature(
                index,
                id,
                "feature has no geometry",
            )));
        }
        let geometry = match feature.to_geo() {
            Ok(g) => g,
            Err(e) => {
                return Some(Err(ImportError::feature(
                    index,
                    id,
                    format!("unreadable geometry: {e}"),
                )))
            }
        };
        Some(Ok(RawFeature {
            index,
            id,
            geometry,
            properties,
        }))
    }
}

/// Checks polygon rings in the raw FlatGeobuf geometry are closed.
fn check_rings(
    g: &flatgeobuf::Geometry<'_>,
    ty: GeometryType,
    index: usize,
    id: &Option<String>,
) -> Result<(), ImportError> {
    match ty {
        GeometryType::Polygon => {
            let xy: Vec<f64> = g.xy().map(|v| v.iter().collect()).unwrap_or_default();
            let pts: Vec<(f64, f64)> = xy.chunks_exact(2).map(|c| (c[0], c[1])).collect();
            let ends: Vec<usize> = match g.ends() {
                Some(e) => e.iter().map(|x| x as usize).collect(),
                None => vec![pts.len()],
            };
            let mut start = 0usize;
            for (ring_no, end) in ends.into_iter().enumerate() {
                if end < start || end > pts.len() {
                    return Err(ImportError::feature(
                        index,
                        id.clone(),
                        "ring ends point outside the coordinates",
                    ));
                }
                check_ring_closed(&pts[start..end], ring_no, index, id)?;
                start = end;
            }
            Ok(())
        }
        GeometryType::MultiPolygon => {
            if let Some(parts) = g.parts() {
                for part in parts.iter() {
                    check_rings(&part, GeometryType::Polygon, index, id)?;
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Collects FlatGeobuf column values as JSON, keeping their types.
struct JsonProps(Map<String, Value>);

impl PropertyProcessor for JsonProps {
    fn property(
        &mut self,
        _idx: usize,
        name: &str,
        value: &ColumnValue,
    ) -> geozero::error::Result<bool> {
        let v = match value {
            ColumnValue::Byte(v) => Value::from(*v),
            ColumnValue::UByte(v) => Value::from(*v),
            ColumnValue::Bool(v) => Value::from(*v),
            ColumnValue::Short(v) => Value::from(*v),
            ColumnValue::UShort(v) => Value::from(*v),
            ColumnValue::Int(v) => Value::from(*v),
            ColumnValue::UInt(v) => Value::from(*v),
            ColumnValue::Long(v) => Value::from(*v),
            ColumnValue::ULong(v) => Value::from(*v),
            ColumnValue::Float(v) => serde_json::Number::from_f64(f64::from(*v))
                .map(Value::Number)
                .unwrap_or(Value::Null),
            ColumnValue::Double(v) => serde_json::Number::from_f64(*v)
                .map(Value::Number)
                .unwrap_or(Value::Null),
            ColumnValue::String(s) | ColumnValue::DateTime(s) => Value::from(*s),
            ColumnValue::Json(s) => serde_json::from_str(s).unwrap_or_else(|_| Value::from(*s)),
            ColumnValue::Binary(_) => return Ok(false),
        };
        self.0.insert(name.to_string(), v);
        Ok(false)
    }
}
