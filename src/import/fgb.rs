//! FlatGeobuf reader, sequential (no seeking), so it reads from any byte stream.
//!
//! The flatgeobuf crate verifies each flatbuffer before use, so a corrupt file is an
//! error, not undefined behaviour. Rings are checked closed from the raw coordinates
//! before geo-types would close them.

use std::io::Read;
use std::sync::{Arc, Mutex};

use flatgeobuf::{FallibleStreamingIterator, FeatureProperties, FgbReader, GeometryType};
use geozero::{ColumnValue, PropertyProcessor, ToGeo};
use serde_json::{Map, Value};

use super::{check_ring_closed, FeatureIter, ImportError, RawFeature};

const FORMAT: &str = "FlatGeobuf";

/// The largest feature we read. The crate sizes its buffer from each feature's 4-byte
/// length prefix before reading it, so a damaged prefix in a 3 KB file asked for 330 MB
/// (up to 4 GiB). A heritage footprint or a wetland is kilobytes; a 2.4-million-vertex
/// polygon would still fit.
pub const MAX_FEATURE_BYTES: u32 = 64 << 20;

/// The most features a file with an index may declare. The crate sizes the index from
/// the declared count before reading any of it, multiplying without a check (flatgeobuf
/// 6.0.1, `packed_r_tree.rs:744`): a damaged count near 2^64 overflowed (a panic in
/// debug builds, found by `fuzz_mutate_fgb`). 2^32 features keep that product far inside
/// 64 bits; India's water-body census is 2.4 million.
pub const MAX_INDEXED_FEATURES: u64 = 1 << 32;

pub(crate) fn read(
    input: Box<dyn Read + Send>,
) -> Result<(FeatureIter, Option<String>), ImportError> {
    let fmt_err = |e: flatgeobuf::Error| ImportError::Format {
        format: FORMAT,
        reason: e.to_string(),
    };
    let framing = Framing::new(input);
    let refused = framing.refused.clone();
    let input: Box<dyn Read + Send> = Box::new(framing);
    let reader = FgbReader::open(input).map_err(fmt_err)?;
    let header = reader.header();
    let declared = header.crs().and_then(|c| {
        let org = c.org().unwrap_or("EPSG");
        (c.code() > 0).then(|| format!("{org}:{}", c.code()))
    });
    let header_type = header.geometry_type();
    let declared_count = header.features_count();
    let columns = header
        .columns()
        .map(|c| c.iter().map(|c| c.type_()).collect())
        .unwrap_or_default();
    let iter = reader.select_all_seq().map_err(fmt_err)?;
    Ok((
        Box::new(Features {
            iter,
            refused,
            columns,
            declared_count,
            header_type,
            index: 0,
            done: false,
        }),
        declared,
    ))
}

/// Reads a FlatGeobuf stream through, following its framing (magic, header, index, then
/// size-prefixed features), and fails the read — before the crate allocates — when a
/// feature claims more than [`MAX_FEATURE_BYTES`].
struct Framing {
    inner: Box<dyn Read + Send>,
    /// Bytes of the current section left to pass through.
    left: u64,
    section: Section,
    /// The bytes of a length prefix (or the header) gathered so far.
    buf: Vec<u8>,
    refused: Arc<Mutex<Option<String>>>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Section {
    Magic,
    HeaderSize,
    Header,
    Index,
    FeatureSize,
    Feature,
}

impl Framing {
    fn new(inner: Box<dyn Read + Send>) -> Self {
        Framing {
            inner,
            left: 8,
            section: Section::Magic,
            buf: Vec::new(),
            refused: Arc::default(),
        }
    }

    /// Moves to the next section once the current one has passed.
    fn advance(&mut self) -> std::io::Result<()> {
        let le = |b: &[u8]| u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        while self.left == 0 {
            (self.section, self.left) = match self.section {
                Section::Magic => (Section::HeaderSize, 4),
                Section::HeaderSize => (Section::Header, u64::from(le(&self.buf))),
                Section::Header => {
                    let mut sized = (self.buf.len() as u32).to_le_bytes().to_vec();
                    sized.extend_from_slice(&self.buf);
                    let index = flatgeobuf::size_prefixed_root_as_header(&sized)
                        .ok()
                        .filter(|h| h.index_node_size() > 0 && h.features_count() > 0)
                        .map_or(0, |h| {
                            flatgeobuf::packed_r_tree::PackedRTree::index_size(
                                h.features_count() as usize,
                                h.index_node_size(),
                            ) as u64
                        });
                    (Section::Index, index)
                }
                Section::Index | Section::Feature => (Section::FeatureSize, 4),
                Section::FeatureSize => (Section::Feature, u64::from(le(&self.buf))),
            };
            self.buf.clear();
            if self.left == 0 && self.section == Section::Feature {
                // An empty feature: go straight on to the next size.
                continue;
            }
        }
        Ok(())
    }
}

impl Read for Framing {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        self.advance()?;
        let want = out
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut out[..want])?;
        if matches!(
            self.section,
            Section::HeaderSize | Section::Header | Section::FeatureSize
        ) {
            self.buf.extend_from_slice(&out[..n]);
        }
        self.left -= n as u64;
        // Checked as the header's last byte passes: the crate sizes the index from the
        // declared count as soon as it has the header.
        if self.section == Section::Header && self.left == 0 {
            let mut sized = (self.buf.len() as u32).to_le_bytes().to_vec();
            sized.extend_from_slice(&self.buf);
            if let Some(h) = flatgeobuf::size_prefixed_root_as_header(&sized)
                .ok()
                .filter(|h| h.index_node_size() > 0 && h.features_count() > MAX_INDEXED_FEATURES)
            {
                let reason = format!(
                    "the header declares {} indexed features; at most {MAX_INDEXED_FEATURES} are read",
                    h.features_count()
                );
                if let Ok(mut r) = self.refused.lock() {
                    *r = Some(reason.clone());
                }
                return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, reason));
            }
        }
        // Checked as the last byte of a length passes, so the read that would hand the
        // crate a huge length fails instead.
        if self.section == Section::FeatureSize && self.left == 0 {
            let n = u32::from_le_bytes([self.buf[0], self.buf[1], self.buf[2], self.buf[3]]);
            if n > MAX_FEATURE_BYTES {
                let reason =
                    format!("a feature claims {n} bytes; at most {MAX_FEATURE_BYTES} are read");
                if let Ok(mut r) = self.refused.lock() {
                    *r = Some(reason.clone());
                }
                return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, reason));
            }
        }
        Ok(n)
    }
}

/// Why a feature's property bytes cannot be read as its header's columns say.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
enum PropertiesError {
    #[error("a value runs past the end of the feature ({0} bytes)")]
    PastEnd(usize),
    #[error("column {column} of {columns}")]
    NoSuchColumn { column: usize, columns: usize },
    #[error("unknown column type {0:?}")]
    UnknownType(flatgeobuf::ColumnType),
}

/// Checks that every property value of a feature lies inside its bytes, as
/// `process_properties` will read them. The crate slices without checking and panics on
/// a damaged length (flatgeobuf 6.0.1, `properties_reader.rs:176`); this walk mirrors its
/// layout (a `u16` column index, then a fixed-size value or a `u32` length and bytes).
fn properties_fit(
    feature: &flatgeobuf::FgbFeature,
    columns: &[flatgeobuf::ColumnType],
) -> Result<(), PropertiesError> {
    use flatgeobuf::ColumnType as T;
    if columns.is_empty() {
        // The crate reads no properties without columns.
        return Ok(());
    }
    let Some(props) = feature.fbs_feature().properties() else {
        return Ok(());
    };
    let b = props.bytes();
    let mut at = 0usize;
    let take = |at: &mut usize, n: usize| -> Result<usize, PropertiesError> {
        let start = *at;
        let end = start
            .checked_add(n)
            .filter(|e| *e <= b.len())
            .ok_or(PropertiesError::PastEnd(b.len()))?;
        *at = end;
        Ok(start)
    };
    // As the crate: a trailing byte after the last value is tolerated.
    while at + 1 < b.len() {
        let i = take(&mut at, 2)?;
        let column = usize::from(u16::from_le_bytes([b[i], b[i + 1]]));
        if column >= columns.len() {
            return Err(PropertiesError::NoSuchColumn {
                column,
                columns: columns.len(),
            });
        }
        let size = match columns[column] {
            T::Byte | T::UByte | T::Bool => 1,
            T::Short | T::UShort => 2,
            T::Int | T::UInt | T::Float => 4,
            T::Long | T::ULong | T::Double => 8,
            T::String | T::Json | T::DateTime | T::Binary => {
                let i = take(&mut at, 4)?;
                u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]) as usize
            }
            other => return Err(PropertiesError::UnknownType(other)),
        };
        take(&mut at, size)?;
    }
    Ok(())
}

struct Features {
    iter: flatgeobuf::FeatureIter<Box<dyn Read + Send>, flatgeobuf::NotSeekable>,
    /// Why the framing refused the stream, if it did (the crate reads that as the end).
    refused: Arc<Mutex<Option<String>>>,
    /// How many features the header says follow (0: not said).
    declared_count: u64,
    /// The header's column types, by column index.
    columns: Vec<flatgeobuf::ColumnType>,
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
                // The crate reads a failed length prefix as the end: a file cut short
                // (or a length refused) would pass for a smaller one.
                let refused = self.refused.lock().ok().and_then(|r| r.clone());
                if let Some(reason) = refused {
                    return Some(Err(ImportError::feature(index, None, reason)));
                }
                if (index as u64) < self.declared_count {
                    return Some(Err(ImportError::feature(
                        index,
                        None,
                        format!(
                            "the file ends after {index} of the {} features its header declares",
                            self.declared_count
                        ),
                    )));
                }
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
        if let Err(reason) = properties_fit(feature, &self.columns) {
            self.done = true;
            return Some(Err(ImportError::feature(
                index,
                None,
                format!("unreadable properties: {reason}"),
            )));
        }
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
