//! Import: one reader per input format (GeoJSON / GeoJSONSeq, FlatGeobuf, CSV), all
//! yielding the same [`RawFeature`] stream; then reprojection, property mapping and
//! validation into [`NewAsset`]s, written in one transaction.
//!
//! Input is untrusted. A file with one bad feature imports nothing, and the error says
//! which feature (0-based index, and id when it has one) and why.

pub mod crs;
mod csv;
mod fgb;
mod geojson;

use std::io::{BufReader, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use geo_types::Geometry;
use serde_json::{Map, Value};

use crate::geom;
use crate::model::{Attributes, Kind, Layer, NewAsset, Shape, UnknownValue};
use crate::store::{RegisterTx, Store, StoreError};

pub use crs::Reprojector;

/// Default cap on vertices per geometry. East Kolkata Wetlands, the most intricate shape
/// in the city's data, has about 20,000; the cap leaves room above that while refusing
/// geometries large enough to stall tiling or exhaust memory.
pub const DEFAULT_MAX_VERTICES: usize = 250_000;

/// Features written per batch.
const BATCH: usize = 1_000;

/// Input formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// GeoJSON: a FeatureCollection, a single Feature, or newline-delimited GeoJSONSeq.
    Geojson,
    /// FlatGeobuf.
    Fgb,
    /// CSV with lon/lat (or longitude/latitude, x/y) columns, or a WKT column.
    Csv,
}

impl Format {
    /// Guesses the format from a file name's extension; GeoJSON when unsure.
    pub fn from_path(path: &Path) -> Format {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase())
            .as_deref()
        {
            Some("fgb") => Format::Fgb,
            Some("csv") | Some("tsv") => Format::Csv,
            _ => Format::Geojson,
        }
    }
}

/// A feature as read from a file, before reprojection and validation.
#[derive(Debug, Clone)]
pub struct RawFeature {
    /// 0-based position in the file.
    pub index: usize,
    /// The feature's own id, if the format carries one.
    pub id: Option<String>,
    pub geometry: Geometry<f64>,
    pub properties: Map<String, Value>,
}

/// Why an import stopped. Nothing of the file was written.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("not a readable {format} file: {reason}")]
    Format {
        format: &'static str,
        reason: String,
    },
    #[error(transparent)]
    Crs(#[from] crs::CrsError),
    #[error("feature {index}{}: {reason}", id.as_ref().map(|i| format!(" (id {i:?})")).unwrap_or_default())]
    Feature {
        index: usize,
        id: Option<String>,
        reason: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a feature's property cannot be mapped onto the asset's columns.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PropertyError {
    #[error("property {key:?} must be text, not {value}")]
    NotText { key: String, value: Value },
    #[error(transparent)]
    Unknown(#[from] UnknownValue),
    #[error("kind {kind} does not belong in layer {layer} (expected one of: {})", kind_list(*.layer))]
    KindNotInLayer { kind: Kind, layer: Layer },
    #[error("property {key:?} must be a whole number between {min} and {max}, not {value}")]
    NotWholeNumber {
        key: String,
        min: i64,
        max: i64,
        value: Value,
    },
    #[error("property {key:?} must be true or false, not {value}")]
    NotBool { key: String, value: Value },
}

fn kind_list(layer: Layer) -> String {
    let kinds: Vec<&str> = layer.kinds().iter().map(|k| k.as_str()).collect();
    kinds.join(", ")
}

impl ImportError {
    pub(crate) fn feature(index: usize, id: Option<String>, reason: impl Into<String>) -> Self {
        ImportError::Feature {
            index,
            id,
            reason: reason.into(),
        }
    }
}

/// What an import is asked to do.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub layer: Layer,
    /// Source CRS; when `None`, the file's own declaration, else EPSG:4326.
    pub crs: Option<String>,
    pub format: Option<Format>,
    pub max_vertices: usize,
    /// Show a progress bar on stderr (hidden when stderr is not a terminal).
    pub progress: bool,
}

impl ImportOptions {
    pub fn new(layer: Layer) -> Self {
        ImportOptions {
            layer,
            crs: None,
            format: None,
            max_vertices: DEFAULT_MAX_VERTICES,
            progress: false,
        }
    }
}

/// Counts of what an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportReport {
    pub inserted: u64,
    pub updated: u64,
    /// Features whose asset was already exactly so: nothing written, no new version.
    pub unchanged: u64,
}

impl ImportReport {
    pub fn total(&self) -> u64 {
        self.inserted + self.updated + self.unchanged
    }
}

/// A stream of raw features and the CRS the source declared, if any.
pub(crate) type FeatureIter = Box<dyn Iterator<Item = Result<RawFeature, ImportError>> + Send>;

/// Opens a reader of the given format over `input`.
pub(crate) fn read_features(
    format: Format,
    input: Box<dyn Read + Send>,
) -> Result<(FeatureIter, Option<String>), ImportError> {
    match format {
        Format::Geojson => geojson::read(input),
        Format::Fgb => fgb::read(input),
        Format::Csv => csv::read(input),
    }
}

/// The geometries of a file held in memory (a planner's proposed work sent for
/// screening), in WGS84: reprojected from `crs`, else from the file's own declaration;
/// each checked against `max_vertices`. Properties are not read.
pub fn read_geometries(
    format: Format,
    bytes: Vec<u8>,
    crs: Option<&str>,
    max_vertices: usize,
) -> Result<Vec<Geometry<f64>>, ImportError> {
    let (features, declared) = read_features(format, Box::new(std::io::Cursor::new(bytes)))?;
    let reproject = match crs.map(String::from).or(declared) {
        Some(name) => Reprojector::new(&name)?,
        None => Reprojector::wgs84(),
    };
    let mut out = Vec::new();
    let mut vertices = 0;
    for f in features {
        let f = f?;
        vertices += geo::CoordsIter::coords_count(&f.geometry);
        if vertices > max_vertices {
            return Err(ImportError::feature(
                f.index,
                f.id,
                format!("the file has more than {max_vertices} vertices"),
            ));
        }
        let g = reproject
            .geometry(f.geometry)
            .map_err(|e| ImportError::feature(f.index, None, e.to_string()))?;
        out.push(g);
    }
    Ok(out)
}

/// Imports a file into the store in one transaction.
pub async fn import_file(
    store: &Store,
    path: &Path,
    opts: &ImportOptions,
) -> Result<ImportReport, ImportError> {
    let file = std::fs::File::open(path).map_err(|source| ImportError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let format = opts.format.unwrap_or_else(|| Format::from_path(path));
    let mut tx = store
        .begin_import(&crate::store::EditContext::import(&path.to_string_lossy()))
        .await?;
    let report = import_reader(&mut tx, Box::new(file), len, format, opts).await?;
    tx.commit().await?;
    Ok(report)
}

/// Imports from any byte source into an open transaction. The caller commits.
pub async fn import_reader(
    tx: &mut RegisterTx,
    input: Box<dyn Read + Send>,
    len: u64,
    format: Format,
    opts: &ImportOptions,
) -> Result<ImportReport, ImportError> {
    let read_bytes = Arc::new(AtomicU64::new(0));
    let counted = CountingReader {
        inner: input,
        count: read_bytes.clone(),
    };
    let input: Box<dyn Read + Send> = Box::new(BufReader::with_capacity(1 << 16, counted));

    let progress = if opts.progress && len > 0 {
        let pb = indicatif::ProgressBar::new(len);
        pb.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Some(pb)
    } else {
        None
    };

    // Parsing runs on its own thread so that a slow parse and the database writes overlap.
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Result<NewAsset, ImportError>>(4096);
    let opts_for_reader = opts.clone();
    let parse = move || {
        let (features, declared) = match read_features(format, input) {
            Ok(x) => x,
            Err(e) => {
                let _ = sender.blocking_send(Err(e));
                return;
            }
        };
        let crs_name = opts_for_reader.crs.clone().or(declared);
        let reproject = match crs_name.as_deref().map(Reprojector::new).transpose() {
            Ok(r) => r.unwrap_or_else(Reprojector::wgs84),
            Err(e) => {
                let _ = sender.blocking_send(Err(e.into()));
                return;
            }
        };
        for raw in features {
            let item = raw.and_then(|raw| to_new_asset(raw, &reproject, &opts_for_reader));
            let stop = item.is_err();
            if sender.blocking_send(item).is_err() || stop {
                return;
            }
        }
    };
    // A parser that panics on a corrupt file (a crate's bug) fails the import; it must
    // neither take the process down nor pass for the end of the file.
    let panicked = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = panicked.clone();
    let reader = std::thread::spawn(move || {
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(parse)).is_err() {
            flag.store(true, Ordering::SeqCst);
        }
    });

    let mut report = ImportReport::default();
    let mut outcome = Ok(());
    // Written in batches: one statement per thousand features instead of one round trip
    // to the database thread per feature.
    let mut batch: Vec<NewAsset> = Vec::with_capacity(BATCH);
    loop {
        let item = receiver.recv().await;
        let done = item.is_none();
        match item {
            Some(Ok(a)) => batch.push(a),
            Some(Err(e)) => {
                outcome = Err(e);
                break;
            }
            None => {}
        }
        if batch.len() >= BATCH || (done && !batch.is_empty()) {
            match tx.upsert_many(&batch).await {
                Ok((inserted, updated, unchanged)) => {
                    report.inserted += inserted;
                    report.updated += updated;
                    report.unchanged += unchanged;
                }
                Err(e) => {
                    outcome = Err(e.into());
                    break;
                }
            }
            batch.clear();
            if let Some(pb) = &progress {
                pb.set_position(read_bytes.load(Ordering::Relaxed));
                pb.set_message(format!("{} features", report.total()));
            }
        }
        if done {
            break;
        }
    }
    drop(receiver);
    let joined = reader.join();
    if let Some(pb) = progress {
        pb.finish_and_clear();
    }
    if joined.is_err() || panicked.load(Ordering::SeqCst) {
        outcome = outcome.and(Err(ImportError::Format {
            format: match format {
                Format::Geojson => "GeoJSON",
                Format::Fgb => "FlatGeobuf",
                Format::Csv => "CSV",
            },
            reason: "the file is damaged (its reader stopped on it); nothing was imported".into(),
        }));
    }
    outcome.map(|()| report)
}

/// One GeoJSON Feature (or bare geometry), as read from a file, checked position by
/// position: what an edit over HTTP sends.
pub fn raw_feature(v: Value) -> Result<RawFeature, ImportError> {
    geojson::feature(0, v)
}

/// Reprojects, maps properties to columns and validates one feature.
pub fn to_new_asset(
    raw: RawFeature,
    reproject: &Reprojector,
    opts: &ImportOptions,
) -> Result<NewAsset, ImportError> {
    let RawFeature {
        index,
        id,
        geometry,
        properties,
    } = raw;
    let fail = |reason: String| ImportError::feature(index, id.clone(), reason);
    let geometry = reproject
        .geometry(geometry)
        .map_err(|e| fail(e.to_string()))?;
    geom::validate(&geometry, opts.max_vertices).map_err(|e| fail(e.to_string()))?;
    let shape = crate::model::shape_of(&geometry)
        .ok_or_else(|| fail("geometry collections are not accepted".into()))?;
    if !opts.layer.shapes().contains(&shape) {
        return Err(fail(format!(
            "a {} geometry does not belong in layer {}",
            match shape {
                Shape::Point => "point",
                Shape::Line => "line",
                Shape::Area => "polygon",
            },
            opts.layer
        )));
    }
    let (code, attrs) = attributes(properties, opts.layer).map_err(|e| fail(e.to_string()))?;
    let kind = attrs.kind.unwrap_or(opts.layer.kinds()[0]);
    let code = code.or(id.clone()).filter(|c| !c.is_empty());
    if let Some(c) = &code {
        if c.len() > 64 || c.chars().any(|ch| ch.is_control()) {
            return Err(fail(format!(
                "code {c:?} is not a short printable identifier"
            )));
        }
    }
    Ok(NewAsset {
        layer: opts.layer,
        code,
        kind,
        attrs,
        geometry,
    })
}

/// Properties computed or managed by the server: an incoming value is ignored, so that a
/// file exported by us imports back cleanly.
pub const SERVER_MANAGED: &[&str] = &[
    "id",
    "layer",
    "area_m2",
    "created_at",
    "updated_at",
    "version",
    // Set by decisions only (the heritage lock table, mirrored onto the record); an
    // export read back, or an edit, does not set them.
    "heritage_lock",
    "heritage_lock_application",
];

/// Maps a feature's properties onto the asset's columns; unknown ones go to `extra`.
/// Returns the feature's `code`, if it has one.
pub fn attributes(
    props: Map<String, Value>,
    layer: Layer,
) -> Result<(Option<String>, Attributes), PropertyError> {
    let mut a = Attributes::default();
    let mut code = None;
    for (key, value) in props {
        let k = key.to_ascii_lowercase();
        if value.is_null() || SERVER_MANAGED.contains(&k.as_str()) {
            continue;
        }
        let text = || -> Result<String, PropertyError> {
            match &value {
                Value::String(s) => Ok(s.trim().to_string()),
                Value::Number(n) => Ok(n.to_string()),
                Value::Bool(b) => Ok(b.to_string()),
                _ => Err(PropertyError::NotText {
                    key: key.clone(),
                    value: value.clone(),
                }),
            }
        };
        let opt_text = || text().map(|s| Some(s).filter(|s| !s.is_empty()));
        match k.as_str() {
            "code" => code = opt_text()?,
            "kind" => {
                let s = text()?;
                if s.is_empty() {
                    continue;
                }
                let kind: Kind = s.parse()?;
                if !layer.kinds().contains(&kind) {
                    return Err(PropertyError::KindNotInLayer { kind, layer });
                }
                a.kind = Some(kind);
            }
            "name" | "name_en" => a.name = opt_text()?,
            "name_bn" | "name:bn" => a.name_bn = opt_text()?,
            "ward" | "ward_no" => a.ward = parse_int(&value, &key, 1, 100_000)?,
            "borough" => a.borough = opt_text()?,
            "address" => a.address = opt_text()?,
            "condition" => a.condition = parse_enum(opt_text()?)?,
            "condition_assessed_at" => a.condition_assessed_at = opt_text()?,
            "last_maintained_at" => a.last_maintained_at = opt_text()?,
            "grade" => a.grade = parse_enum(opt_text()?)?,
            "year_built" => a.year_built = parse_int(&value, &key, -3000, 2100)?,
            "owner" => a.owner = opt_text()?,
            "status" => a.status = parse_enum(opt_text()?)?,
            "protected" => a.protected = parse_bool(&value, &key)?,
            "source" => a.source = opt_text()?,
            _ => {
                a.extra.insert(key, value);
            }
        }
    }
    Ok((code, a))
}

fn parse_enum<T: std::str::FromStr<Err = UnknownValue>>(
    v: Option<String>,
) -> Result<Option<T>, PropertyError> {
    Ok(v.map(|s| s.parse::<T>()).transpose()?)
}

fn parse_int(v: &Value, key: &str, min: i64, max: i64) -> Result<Option<i64>, PropertyError> {
    let n = match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        Value::String(s) if s.trim().is_empty() => return Ok(None),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    match n {
        Some(n) if (min..=max).contains(&n) => Ok(Some(n)),
        _ => Err(PropertyError::NotWholeNumber {
            key: key.to_string(),
            min,
            max,
            value: v.clone(),
        }),
    }
}

fn parse_bool(v: &Value, key: &str) -> Result<Option<bool>, PropertyError> {
    let refuse = || PropertyError::NotBool {
        key: key.to_string(),
        value: v.clone(),
    };
    match v {
        Value::Bool(b) => Ok(Some(*b)),
        Value::Number(n) if n.as_i64() == Some(0) => Ok(Some(false)),
        Value::Number(n) if n.as_i64() == Some(1) => Ok(Some(true)),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "" => Ok(None),
            "true" | "yes" | "y" | "1" => Ok(Some(true)),
            "false" | "no" | "n" | "0" => Ok(Some(false)),
            _ => Err(refuse()),
        },
        _ => Err(refuse()),
    }
}

/// Checks that a ring given as raw positions is closed (first position equals last).
pub(crate) fn check_ring_closed(
    ring: &[(f64, f64)],
    ring_no: usize,
    index: usize,
    id: &Option<String>,
) -> Result<(), ImportError> {
    match (ring.first(), ring.last()) {
        (Some(a), Some(b)) if a == b && ring.len() >= 4 => Ok(()),
        (Some(_), Some(_)) if ring.len() < 4 => Err(ImportError::feature(
            index,
            id.clone(),
            format!(
                "ring {ring_no} has {} positions; a closed ring needs at least 4",
                ring.len()
            ),
        )),
        (Some(a), Some(b)) => Err(ImportError::feature(
            index,
            id.clone(),
            format!(
                "ring {ring_no} is not closed: it starts at ({}, {}) and ends at ({}, {})",
                a.0, a.1, b.0, b.1
            ),
        )),
        _ => Err(ImportError::feature(
            index,
            id.clone(),
            format!("ring {ring_no} is empty"),
        )),
    }
}

/// Counts bytes as they are read, for the progress bar.
struct CountingReader {
    inner: Box<dyn Read + Send>,
    count: Arc<AtomicU64>,
}

impl Read for CountingReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn props(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn known_properties_map_and_the_rest_are_kept() {
        let (code, a) = attributes(
            props(json!({"code": "HER-0001", "name": "Victoria Memorial", "name_bn": "ভিক্টোরিয়া মেমোরিয়াল",
                         "kind": "building", "grade": "I", "ward": "63", "year_built": 1921,
                         "architect": "William Emerson", "id": 7})),
            Layer::Heritage,
        )
        .unwrap();
        assert_eq!(code.as_deref(), Some("HER-0001"));
        assert_eq!(a.kind, Some(Kind::Building));
        assert_eq!(a.ward, Some(63));
        assert_eq!(a.grade, Some(crate::model::Grade::I));
        assert_eq!(a.extra.get("architect"), Some(&json!("William Emerson")));
        assert!(!a.extra.contains_key("id"));
    }

    #[test]
    fn wrong_kind_for_layer_and_bad_values_are_errors() {
        assert_eq!(
            attributes(props(json!({"kind": "pond"})), Layer::Heritage)
                .unwrap_err()
                .to_string(),
            "kind pond does not belong in layer heritage \
             (expected one of: building, statue, structure, monument)"
        );
        assert!(
            attributes(props(json!({"kind": "castle"})), Layer::Heritage)
                .unwrap_err()
                .to_string()
                .contains("castle")
        );
        assert!(attributes(props(json!({"grade": "V"})), Layer::Heritage).is_err());
        assert!(attributes(props(json!({"ward": "sixty"})), Layer::Heritage).is_err());
        assert!(attributes(props(json!({"protected": "maybe"})), Layer::WaterBodies).is_err());
    }
}
