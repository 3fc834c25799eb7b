//! Vector tiles from the in-memory index: select by R-tree, project to Web Mercator,
//! clip to the buffered tile, simplify to the tile grid, encode MVT 2.1 (protobuf written
//! directly, [`mvt`]), cache.
//!
//! Nothing here reads SQL: a tile is a function of the index at the moment it is drawn.

pub mod archive;
pub mod build;
pub mod cache;
pub mod clip;
pub mod coord;
pub mod mvt;
pub mod synth_basemap;

use std::sync::Arc;

use geo_types::{Coord, Geometry, LineString, Polygon, Rect};

use crate::index::{Entry, Index, LayerIndex};
use crate::model::{Asset, Layer};
use crate::schema::{self, Field, Prop, Shown};
use clip::Square;
pub use coord::{TileCoord, BUFFER, EXTENT, MAX_ZOOM};
use mvt::{LayerWriter, Val};

/// No tile may exceed this many bytes (before compression): past it, the smallest
/// features are dropped first and the count of dropped features is reported. (Only the
/// most important feature of each layer is never dropped: a tile whose few largest
/// features alone pass this is sent with them, over it, rather than empty.)
pub const MAX_TILE_BYTES: usize = 500 * 1024;

/// A polygon or line whose box is smaller than this many MVT units on both sides (two
/// pixels of a 512-pixel tile) is sent as a point, so small sites stay visible at city zoom.
pub const COLLAPSE_UNITS: f64 = 16.0;

/// Below this zoom, points falling in the same one-pixel cell ([`THIN_CELL_UNITS`]) are
/// thinned to the most important one: a national layer at z5 would otherwise put millions
/// of points into one tile.
pub const THIN_BELOW_ZOOM: u8 = 14;

/// Side, in MVT units, of the one-pixel cells points are thinned in below
/// [`THIN_BELOW_ZOOM`] (asset dots and complaint pins alike).
pub const THIN_CELL_UNITS: f64 = 16.0;

/// Row stride of a thinning cell's number (`row · stride + column`): more than the
/// (EXTENT + 2·BUFFER) / THIN_CELL_UNITS + 1 = 265 cells a buffered row holds, so no two
/// cells share a number.
const THIN_GRID_STRIDE: u32 = 1024;
const _: () = assert!(
    (((EXTENT + 2 * BUFFER) as f64 / THIN_CELL_UNITS) as u32) < THIN_GRID_STRIDE,
    "two thinning cells would share a number"
);

/// Added to the importance (box area in square units) of a line or area drawn in full, so
/// that one whose box has no area (a straight canal) still ranks above the points (0).
const SHAPE_IMPORTANCE_BONUS: f64 = 1.0;

/// Past [`MAX_TILE_BYTES`], the share of features kept shrinks by how far over the tile
/// was, times this: bytes do not fall exactly in proportion to the features dropped, and
/// aiming a little under saves another round of encoding.
const BUDGET_AIM: f64 = 0.95;

/// Simplification tolerance in MVT units: the tile's own grid, so a tile carries no detail
/// finer than it can represent.
pub const TOLERANCE: f64 = 1.0;

/// A name in a tile's layer list that is neither a layer nor `complaints`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}, or complaints")]
pub struct UnknownTileLayer(pub crate::model::UnknownValue);

/// A set of layers requested together, in canonical order (the order of [`Layer::ALL`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LayerSet(u8);

impl LayerSet {
    /// The complaints layer (pins from the complaint index, not an asset layer).
    pub const COMPLAINTS: LayerSet = LayerSet(1 << 7);

    /// Parses `heritage,water_bodies,complaints`; an unknown or empty name is an error
    /// naming it.
    pub fn parse(s: &str) -> Result<LayerSet, UnknownTileLayer> {
        let mut bits = 0u8;
        for part in s.split(',') {
            if part.trim() == "complaints" {
                bits |= Self::COMPLAINTS.0;
                continue;
            }
            let l: Layer = part.parse().map_err(UnknownTileLayer)?;
            bits |= Self::bit(l);
        }
        Ok(LayerSet(bits))
    }

    pub fn of(layers: &[Layer]) -> LayerSet {
        LayerSet(layers.iter().fold(0, |b, l| b | Self::bit(*l)))
    }

    fn bit(l: Layer) -> u8 {
        1 << Layer::ALL.iter().position(|x| *x == l).unwrap_or(0)
    }

    pub fn contains(self, l: Layer) -> bool {
        self.0 & Self::bit(l) != 0
    }

    pub fn has_complaints(self) -> bool {
        self.0 & Self::COMPLAINTS.0 != 0
    }

    /// Whether the two sets share a layer.
    pub fn meets(self, other: LayerSet) -> bool {
        self.0 & other.0 != 0
    }

    /// The asset layers of the set (not complaints).
    pub fn layers(self) -> impl Iterator<Item = Layer> {
        Layer::ALL
            .iter()
            .copied()
            .filter(move |l| self.contains(*l))
    }

    /// Canonical comma-joined name.
    pub fn name(self) -> String {
        self.layers()
            .map(|l| l.as_str())
            .chain(self.has_complaints().then_some("complaints"))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// A drawn tile.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    /// The encoded MVT; empty when no feature touches the tile.
    pub bytes: Vec<u8>,
    pub features: usize,
    /// Features left out to keep the tile under [`MAX_TILE_BYTES`].
    pub dropped: usize,
}

/// Maps lon/lat to this tile's MVT units.
struct Frame {
    minx: f64,
    maxy: f64,
    scale: f64,
    /// Mercator y as a cubic in (lat − lat0) about the tile's centre, for tiles small
    /// enough that the cubic is exact to far below a unit (see [`Frame::new`]); `None`
    /// uses the closed form (a tangent and a logarithm per vertex).
    cubic: Option<[f64; 6]>,
}

impl Frame {
    fn new(t: TileCoord) -> Frame {
        let [minx, _, _, maxy] = t.mercator_bounds();
        let scale = f64::from(EXTENT) / t.size_m();
        // From z8 a buffered tile spans under 1.6° of latitude (h ≤ 0.028 rad). The
        // cubic's error is about y⁗·h⁴/24 ≤ R·24·h⁴/24 at latitudes below 60°, i.e.
        // under 4 m at z8 where a unit is 38 m, and shrinking 16-fold per zoom level
        // while units shrink only 2-fold; beyond ±60° keep the closed form.
        let centre = t.lonlat_bounds(0);
        let lat0 = (centre.min().y + centre.max().y) / 2.0;
        let cubic = (t.z >= 8 && lat0.abs() < 60.0).then(|| {
            let r = coord::HALF_WORLD / std::f64::consts::PI;
            let p = lat0.to_radians();
            let (sin, cos) = p.sin_cos();
            let y0 = coord::to_mercator(0.0, lat0).1;
            let d1 = r / cos;
            let d2 = r * sin / (cos * cos);
            let d3 = r * (1.0 + sin * sin) / (cos * cos * cos);
            // Vertices far outside the tile (a long canal, a state-sized polygon) still
            // set where their edges cross it: beyond the offset where the cubic could be
            // a twentieth of a unit off (error ≈ R·h⁴/cos⁵φ), use the closed form.
            let unit_m = t.size_m() / f64::from(EXTENT);
            let h_max = (0.05 * unit_m * cos.powi(5) / r).powf(0.25);
            [lat0, y0, d1, d2 / 2.0, d3 / 6.0, h_max]
        });
        Frame {
            minx,
            maxy,
            scale,
            cubic,
        }
    }

    #[inline]
    fn unit(&self, c: Coord<f64>) -> Coord<f64> {
        let mx = c.x * coord::HALF_WORLD / 180.0;
        let cubic = self.cubic.and_then(|[lat0, y0, a, b, k, h_max]| {
            let h = (c.y - lat0).to_radians();
            (h.abs() <= h_max).then_some(y0 + h * (a + h * (b + h * k)))
        });
        let my = cubic.unwrap_or_else(|| coord::to_mercator(c.x, c.y).1);
        Coord {
            x: (mx - self.minx) * self.scale,
            y: (self.maxy - my) * self.scale,
        }
    }
}

/// What a feature became in tile units. Coordinates live in the layer's [`Arena`]: a dense
/// tile of thousands of ponds allocates nothing per feature.
#[derive(Debug, Clone, Copy)]
enum Shape {
    /// One point (a point asset, or a polygon too small to draw at this zoom).
    Dot(i32, i32),
    /// Points, lines or rings: `coords[c0..c1]`, split at the ends in `parts[p0..p1]`.
    Parts {
        ty: mvt::GeomType,
        coords: (u32, u32),
        parts: (u32, u32),
    },
}

/// Integer tile coordinates of one layer's drawn features, and the work buffers used
/// while drawing them.
#[derive(Debug, Default)]
struct Arena {
    coords: Vec<(i32, i32)>,
    /// End (exclusive, into `coords`) of each ring or line.
    parts: Vec<u32>,
    pts: Vec<Coord<f64>>,
    work: clip::Work,
}

struct Drawn {
    asset: Arc<Asset>,
    shape: Shape,
    importance: f64,
}

/// Where an area's name is written in this tile.
struct Label {
    asset: Arc<Asset>,
    layer: Layer,
    x: i32,
    y: i32,
    importance: f64,
}

/// An area gets a label point only if its box is at least this many units (16 pixels
/// of a 512-pixel tile) on its longer side.
pub const LABEL_MIN_UNITS: f64 = 128.0;

/// Name of the MVT layer of label points.
pub const LABELS: &str = "labels";

/// Attribute names and TileJSON types of the label layer (from [`schema`]).
pub fn label_fields() -> Vec<(&'static str, &'static str)> {
    schema::label_fields()
        .into_iter()
        .map(|f| (f.name, f.ty.tile_name()))
        .collect()
}

fn encode_labels(labels: &[Label]) -> LayerWriter<'_> {
    let mut w = LayerWriter::new(LABELS, labels.len());
    for l in labels {
        let f = w.begin_point(l.x, l.y);
        let a: &Asset = &l.asset;
        for field in schema::fields(l.layer)
            .iter()
            .filter(|f| f.is(Shown::LABEL))
        {
            tag(&mut w, field, a);
        }
        w.end(f, Some(a.id.0 as u64));
    }
    w
}

/// Writes one field of a record as a tag, the way its schema says (nothing for null).
fn tag<'a, R>(w: &mut LayerWriter<'a>, f: &Field<R>, r: &'a R) {
    let shared = f.tag == schema::Tag::Shared;
    match (f.read)(r) {
        Prop::Null => {}
        Prop::Name(v) => w.tag_static(f.name, v),
        Prop::Str(v) if shared => w.tag(f.name, Val::Str(v)),
        Prop::Str(v) => w.tag_unique(f.name, Val::Str(v)),
        Prop::Int(v) if shared => w.tag(f.name, Val::Int(v)),
        Prop::Int(v) => w.tag_unique(f.name, Val::Int(v)),
        Prop::Id(v) => w.tag_unique(f.name, Val::Uint(v)),
        // No tile field is a float or a boolean (a schema test says so).
        Prop::Num(_) | Prop::Bool(_) => {}
    }
}

/// Who the register's tiles come from (their TileJSON's and a built archive's
/// `attribution`).
pub const ATTRIBUTION: &str =
    "Kolkata Municipal Corporation — Environment & Heritage (positions approximate)";

/// The layers a tile of `layers` holds, with their fields, for TileJSON's
/// `vector_layers` (the server's and a built archive's).
pub fn vector_layers(layers: LayerSet) -> Vec<tilejson::VectorLayer> {
    let vector_layer = |id: &str, description: &str, fields: Vec<(&str, &str)>| {
        let fields = fields
            .into_iter()
            .map(|(k, t)| (k.to_string(), t.to_string()))
            .collect();
        tilejson::VectorLayer {
            description: Some(description.to_string()),
            minzoom: Some(0),
            maxzoom: Some(MAX_ZOOM),
            ..tilejson::VectorLayer::new(id.to_string(), fields)
        }
    };
    let mut vector_layers: Vec<_> = layers
        .layers()
        .map(|layer| vector_layer(layer.as_str(), layer.title(), fields(layer)))
        .collect();
    if layers.layers().next().is_some() {
        vector_layers.push(vector_layer(
            LABELS,
            "One point per named area (and per ward) where its label goes, in the tile holding it: an area cut by tile edges is labelled once",
            label_fields(),
        ));
    }
    if layers.has_complaints() {
        vector_layers.push(vector_layer(
            "complaints",
            "Citizens' complaints (public fields only)",
            complaint_fields(),
        ));
    }
    vector_layers
}

/// Candidates (tree entries meeting a tile's buffered box, all its layers together) up
/// to which a tile counts as cheap to draw ([`few_to_draw`]): about a tenth of a
/// millisecond of drawing on this project's reference machine.
pub const CHEAP_CANDIDATES: usize = 128;

/// Whether at most [`CHEAP_CANDIDATES`] features could be drawn in tile `t` of `layers`:
/// such a tile is drawn where it is asked for, rather than handed to another thread
/// (which cost more than the drawing). Counts stop at the bound, so a city-wide tile is
/// refused after a short walk of the tree.
pub fn few_to_draw(index: &Index, layers: LayerSet, t: TileCoord) -> bool {
    let q = t.lonlat_bounds(BUFFER);
    let mut left = CHEAP_CANDIDATES + 1;
    for layer in layers.layers() {
        let n = index.read(layer).candidates(&q).take(left).count();
        left -= n;
        if left == 0 {
            return false;
        }
    }
    if layers.has_complaints() {
        left = left.saturating_sub(index.complaints().in_rect(&q).take(left).count());
    }
    left > 0
}

/// Draws one tile of the given layers.
pub fn render(index: &Index, layers: LayerSet, t: TileCoord) -> Rendered {
    let view = View::new(t);
    // One label point per named area whose label point lies in this tile proper (not its
    // buffer): an area cut by tile edges is still named once.
    let mut labels: Vec<Label> = Vec::new();
    let per_layer: Vec<DrawnLayer> = layers
        .layers()
        .map(|layer| draw_layer(index, layer, &view, &mut labels))
        .collect();
    let pins = if layers.has_complaints() {
        complaint_points(index, t, &view.frame, view.sq)
    } else {
        Vec::new()
    };
    labels.sort_unstable_by(|a, b| {
        b.importance
            .total_cmp(&a.importance)
            .then(a.asset.id.cmp(&b.asset.id))
    });
    encode_within_budget(&per_layer, &pins, &labels)
}

/// Where one tile is drawn: its frame, the buffered square features are clipped to, the
/// lon/lat box candidates are selected by, and whether points are thinned.
struct View {
    frame: Frame,
    sq: Square,
    query: Rect<f64>,
    thin: bool,
}

impl View {
    fn new(t: TileCoord) -> View {
        let b = f64::from(BUFFER);
        View {
            frame: Frame::new(t),
            sq: Square {
                min: -b,
                max: f64::from(EXTENT) + b,
            },
            query: t.lonlat_bounds(BUFFER),
            thin: t.z < THIN_BELOW_ZOOM,
        }
    }
}

/// One asset layer's drawn features, most important first, and the arena holding their
/// coordinates.
struct DrawnLayer {
    layer: Layer,
    drawn: Vec<Drawn>,
    arena: Arena,
}

/// A point competing for a thinning cell: (cell, importance, slot, x, y).
type Dot = (u32, f64, u32, i32, i32);

/// Draws one asset layer: each R-tree candidate is either collapsed to a dot from its box
/// alone or drawn in full (a big enough named area also gives `labels` a point); below
/// [`THIN_BELOW_ZOOM`] the dots are thinned to one per cell.
fn draw_layer(index: &Index, layer: Layer, v: &View, labels: &mut Vec<Label>) -> DrawnLayer {
    let li = index.read(layer);
    let mut drawn = Vec::new();
    let mut arena = Arena::default();
    // Points that compete for a pixel when thinning.
    let mut dots: Vec<Dot> = Vec::new();
    for e in li.candidates(&v.query) {
        // Decide from the box alone whether this is a dot at this zoom: at low zoom on
        // a national layer that is millions of candidates, and the asset itself is
        // only read for what will be drawn in full.
        let (lo, hi) = box_in_units(e, &v.frame);
        let (w, h) = (hi.x - lo.x, hi.y - lo.y);
        if !e.point && w < COLLAPSE_UNITS && h < COLLAPSE_UNITS {
            let Some((x, y)) = collapsed_dot(lo, hi, v.sq) else {
                continue;
            };
            if v.thin {
                dots.push((thin_cell(x, y, v.sq), w * h, e.slot, x, y));
            } else if let Some(asset) = li.slot(e.slot) {
                drawn.push(Drawn {
                    asset: asset.clone(),
                    shape: Shape::Dot(x, y),
                    importance: w * h,
                });
            }
            continue;
        }
        let Some(asset) = li.slot(e.slot) else {
            continue;
        };
        let Some(shape) = draw(&asset.geometry, &v.frame, v.sq, &mut arena) else {
            continue;
        };
        let importance = if e.point {
            0.0
        } else {
            w * h + SHAPE_IMPORTANCE_BONUS
        };
        if let Shape::Parts {
            ty: mvt::GeomType::Polygon,
            ..
        } = shape
        {
            if let Some((x, y)) = label_position(&li, e.slot, asset, layer, w.max(h), &v.frame) {
                labels.push(Label {
                    asset: asset.clone(),
                    layer,
                    x,
                    y,
                    importance,
                });
            }
        }
        match (shape, v.thin) {
            (Shape::Dot(x, y), true) => {
                dots.push((thin_cell(x, y, v.sq), importance, e.slot, x, y))
            }
            _ => drawn.push(Drawn {
                asset: asset.clone(),
                shape,
                importance,
            }),
        }
    }
    keep_one_dot_per_cell(dots, &li, &mut drawn);
    // Most important first: they are drawn under the rest and kept when trimming.
    drawn.sort_unstable_by(|a, b| {
        b.importance
            .total_cmp(&a.importance)
            .then(a.asset.id.cmp(&b.asset.id))
    });
    DrawnLayer {
        layer,
        drawn,
        arena,
    }
}

/// A tree entry's box in tile units: (top-left, bottom-right), y down.
#[inline]
fn box_in_units(e: &Entry, frame: &Frame) -> (Coord<f64>, Coord<f64>) {
    let lo = frame.unit(Coord {
        x: e.env.lower()[0],
        y: e.env.upper()[1],
    });
    let hi = frame.unit(Coord {
        x: e.env.upper()[0],
        y: e.env.lower()[1],
    });
    (lo, hi)
}

/// Where a feature too small to draw is put as a dot: its box's centre, snapped; `None`
/// outside the buffered tile.
#[inline]
fn collapsed_dot(lo: Coord<f64>, hi: Coord<f64>, sq: Square) -> Option<(i32, i32)> {
    let c = Coord {
        x: ((lo.x + hi.x) / 2.0).round(),
        y: ((lo.y + hi.y) / 2.0).round(),
    };
    if c.x < sq.min || c.x > sq.max || c.y < sq.min || c.y > sq.max {
        return None;
    }
    Some((c.x as i32, c.y as i32))
}

/// The number of the thinning cell a point of the buffered tile falls in.
#[inline]
fn thin_cell(x: i32, y: i32, sq: Square) -> u32 {
    let cx = ((f64::from(x) - sq.min) / THIN_CELL_UNITS) as u32;
    let cy = ((f64::from(y) - sq.min) / THIN_CELL_UNITS) as u32;
    cy * THIN_GRID_STRIDE + cx
}

/// Where an area drawn in full is named, in tile units: only a named area (or a ward)
/// at least [`LABEL_MIN_UNITS`] on its longer side, and only if its label point lies in
/// the tile proper.
fn label_position(
    li: &LayerIndex,
    slot: u32,
    asset: &Asset,
    layer: Layer,
    size: f64,
    frame: &Frame,
) -> Option<(i32, i32)> {
    // Only areas big enough on screen to carry a name: a label point for each of
    // thousands of pond-sized polygons at city zoom is bytes nobody sees.
    if !((asset.attrs.name.is_some() || layer == Layer::Wards) && size >= LABEL_MIN_UNITS) {
        return None;
    }
    let c = li
        .label(slot)
        .map(|c| frame.unit(c))
        .filter(|c| in_tile(*c))?;
    Some((c.x.round() as i32, c.y.round() as i32))
}

/// Whether a point in tile units lies in the tile proper (not its buffer).
#[inline]
fn in_tile(c: Coord<f64>) -> bool {
    c.x >= 0.0 && c.x < f64::from(EXTENT) && c.y >= 0.0 && c.y < f64::from(EXTENT)
}

/// One point per pixel: the most important (then the lowest slot) of each cell, appended
/// to `drawn`.
fn keep_one_dot_per_cell(mut dots: Vec<Dot>, li: &LayerIndex, drawn: &mut Vec<Drawn>) {
    dots.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)).then(a.2.cmp(&b.2)));
    dots.dedup_by_key(|d| d.0);
    for (_, importance, slot, x, y) in dots {
        if let Some(asset) = li.slot(slot) {
            drawn.push(Drawn {
                asset: asset.clone(),
                shape: Shape::Dot(x, y),
                importance,
            });
        }
    }
}

/// Encodes the layers, pins and labels; if that passes [`MAX_TILE_BYTES`], encodes again
/// keeping a shrinking share of each one's most important features until it fits.
fn encode_within_budget(
    per_layer: &[DrawnLayer],
    pins: &[(Arc<crate::model::Pin>, Coord<f64>)],
    labels: &[Label],
) -> Rendered {
    let total: usize =
        per_layer.iter().map(|l| l.drawn.len()).sum::<usize>() + pins.len() + labels.len();
    if total == 0 {
        return Rendered::default();
    }
    let groups = per_layer.iter().filter(|l| !l.drawn.is_empty()).count()
        + usize::from(!pins.is_empty())
        + usize::from(!labels.is_empty());
    let mut keep = 1.0f64;
    let share = |n: usize, keep: f64| (((n as f64) * keep).ceil() as usize).min(n);
    loop {
        let mut bytes = Vec::new();
        let mut kept = 0;
        for DrawnLayer {
            layer,
            drawn: d,
            arena,
        } in per_layer
        {
            let w = encode_layer(*layer, &d[..share(d.len(), keep)], arena);
            kept += w.len();
            w.finish(&mut bytes);
        }
        if !pins.is_empty() {
            let w = encode_pins(&pins[..share(pins.len(), keep)]);
            kept += w.len();
            w.finish(&mut bytes);
        }
        if !labels.is_empty() {
            let w = encode_labels(&labels[..share(labels.len(), keep)]);
            kept += w.len();
            w.finish(&mut bytes);
        }
        // One feature a group is as few as it goes: a tile whose most important features
        // alone pass the budget is sent with them (over it) rather than empty.
        if bytes.len() <= MAX_TILE_BYTES || kept <= groups {
            return Rendered {
                bytes,
                features: kept,
                dropped: total - kept,
            };
        }
        keep *= (MAX_TILE_BYTES as f64 / bytes.len() as f64) * BUDGET_AIM;
    }
}

/// The complaint pins in the buffered tile, newest first; below [`THIN_BELOW_ZOOM`] one
/// per pixel (the newest), like asset points.
fn complaint_points(
    index: &Index,
    t: TileCoord,
    frame: &Frame,
    sq: Square,
) -> Vec<(Arc<crate::model::Pin>, Coord<f64>)> {
    let ci = index.complaints();
    let mut pins: Vec<(Arc<crate::model::Pin>, Coord<f64>)> = ci
        .in_rect(&t.lonlat_bounds(BUFFER))
        .filter_map(|p| {
            let c = frame.unit(Coord { x: p.lon, y: p.lat });
            let c = Coord {
                x: c.x.round(),
                y: c.y.round(),
            };
            (c.x >= sq.min && c.x <= sq.max && c.y >= sq.min && c.y <= sq.max)
                .then(|| (p.clone(), c))
        })
        .collect();
    pins.sort_by_key(|p| std::cmp::Reverse(p.0.id));
    if t.z < THIN_BELOW_ZOOM {
        let mut seen = rustc_hash::FxHashSet::default();
        pins.retain(|(_, c)| {
            seen.insert((
                (c.x / THIN_CELL_UNITS).floor() as i64,
                (c.y / THIN_CELL_UNITS).floor() as i64,
            ))
        });
    }
    pins
}

fn encode_pins(pins: &[(Arc<crate::model::Pin>, Coord<f64>)]) -> LayerWriter<'_> {
    let mut w = LayerWriter::new("complaints", pins.len());
    for (p, c) in pins {
        let f = w.begin_point(c.x as i32, c.y as i32);
        for field in schema::COMPLAINT_FIELDS
            .iter()
            .filter(|f| f.is(Shown::TILE))
        {
            tag(&mut w, field, &**p);
        }
        w.end(f, Some(p.id as u64));
    }
    w
}

/// Attribute names and TileJSON types of the complaints tile layer.
pub fn complaint_fields() -> Vec<(&'static str, &'static str)> {
    schema::COMPLAINT_FIELDS
        .iter()
        .filter(|f| f.is(Shown::TILE))
        .map(|f| (f.name, f.ty.tile_name()))
        .collect()
}

/// Projects, clips, simplifies and snaps a geometry into tile units (into `arena`);
/// `None` when nothing of it is left inside the buffered tile.
fn draw(g: &Geometry<f64>, f: &Frame, sq: Square, arena: &mut Arena) -> Option<Shape> {
    let inside = |c: &Coord<f64>| c.x >= sq.min && c.x <= sq.max && c.y >= sq.min && c.y <= sq.max;
    let (c0, p0) = (arena.coords.len(), arena.parts.len());
    let done = |arena: &mut Arena, ty: mvt::GeomType| {
        if arena.parts.len() == p0 {
            arena.coords.truncate(c0);
            return None;
        }
        Some(Shape::Parts {
            ty,
            coords: (c0 as u32, arena.coords.len() as u32),
            parts: (p0 as u32, arena.parts.len() as u32),
        })
    };
    match g {
        Geometry::Point(p) => {
            let c = f.unit(p.0);
            inside(&c).then(|| Shape::Dot(c.x.round() as i32, c.y.round() as i32))
        }
        Geometry::MultiPoint(mp) => {
            for p in &mp.0 {
                let c = f.unit(p.0);
                if inside(&c) {
                    arena.coords.push((c.x.round() as i32, c.y.round() as i32));
                }
            }
            if arena.coords.len() > c0 {
                arena.parts.push(arena.coords.len() as u32);
            }
            done(arena, mvt::GeomType::Point)
        }
        Geometry::LineString(ls) => {
            lines(std::slice::from_ref(ls), f, sq, arena);
            done(arena, mvt::GeomType::Linestring)
        }
        Geometry::MultiLineString(mls) => {
            lines(&mls.0, f, sq, arena);
            done(arena, mvt::GeomType::Linestring)
        }
        Geometry::Polygon(p) => {
            polygon(p, f, sq, arena);
            done(arena, mvt::GeomType::Polygon)
        }
        Geometry::MultiPolygon(mp) => {
            for p in &mp.0 {
                polygon(p, f, sq, arena);
            }
            done(arena, mvt::GeomType::Polygon)
        }
        _ => None,
    }
}

fn lines(ls: &[LineString<f64>], f: &Frame, sq: Square, arena: &mut Arena) {
    for l in ls {
        arena.pts.clear();
        arena.pts.extend(l.0.iter().map(|c| f.unit(*c)));
        for mut part in clip::clip_line(&arena.pts, sq) {
            let start = arena.coords.len();
            clip::simplify_snap_into(
                &mut part,
                TOLERANCE,
                false,
                &mut arena.work,
                &mut arena.coords,
            );
            if arena.coords.len() - start >= 2 {
                arena.parts.push(arena.coords.len() as u32);
            } else {
                arena.coords.truncate(start);
            }
        }
    }
}

/// One ring into tile units, clipped and snapped, oriented as MVT 2.1 asks (exterior
/// positive area in y-down tile coordinates, holes negative), appended to the arena open
/// (ClosePath implies the last edge); false if it came out degenerate.
fn ring(r: &LineString<f64>, f: &Frame, sq: Square, exterior: bool, arena: &mut Arena) -> bool {
    let pts = &mut arena.pts;
    pts.clear();
    pts.extend(r.0.iter().map(|c| f.unit(*c)));
    if pts.len() > 1 && pts.first() == pts.last() {
        pts.pop();
    }
    let (mut lo, mut hi) = (
        Coord {
            x: f64::MAX,
            y: f64::MAX,
        },
        Coord {
            x: f64::MIN,
            y: f64::MIN,
        },
    );
    for c in pts.iter() {
        lo = Coord {
            x: lo.x.min(c.x),
            y: lo.y.min(c.y),
        };
        hi = Coord {
            x: hi.x.max(c.x),
            y: hi.y.max(c.y),
        };
    }
    if hi.x < sq.min || lo.x > sq.max || hi.y < sq.min || lo.y > sq.max {
        return false;
    }
    let start = arena.coords.len();
    if lo.x >= sq.min && hi.x <= sq.max && lo.y >= sq.min && hi.y <= sq.max {
        clip::simplify_snap_into(pts, TOLERANCE, true, &mut arena.work, &mut arena.coords);
    } else {
        let mut clipped = clip::clip_ring(pts, sq);
        clip::simplify_snap_into(
            &mut clipped,
            TOLERANCE,
            true,
            &mut arena.work,
            &mut arena.coords,
        );
    }
    let snapped = &mut arena.coords[start..];
    let area = if snapped.len() < 3 {
        0
    } else {
        clip::signed_area2(snapped)
    };
    if area == 0 {
        arena.coords.truncate(start);
        return false;
    }
    if (area > 0) != exterior {
        snapped.reverse();
    }
    arena.parts.push(arena.coords.len() as u32);
    true
}

fn polygon(p: &Polygon<f64>, f: &Frame, sq: Square, arena: &mut Arena) {
    if ring(p.exterior(), f, sq, true, arena) {
        for h in p.interiors() {
            ring(h, f, sq, false, arena);
        }
    }
}

/// Attribute names and TileJSON types each tile layer carries (`vector_layers.fields`).
pub fn fields(layer: Layer) -> Vec<(&'static str, &'static str)> {
    schema::tile_fields(layer)
        .map(|f| (f.name, f.ty.tile_name()))
        .collect()
}

/// Per layer: the fields its full features carry, and those a polygon shrunk to a dot
/// carries. A dot is never labelled at its zoom, and its unique strings would be most of
/// the tile's bytes: it carries what the style colours it by, and the feature id (clients
/// get the rest from deeper tiles or /assets/{id}). Built once, not per tile.
type FieldLists = (Vec<&'static Field<Asset>>, Vec<&'static Field<Asset>>);

fn layer_tile_fields(layer: Layer) -> &'static FieldLists {
    static LISTS: std::sync::OnceLock<Vec<(Layer, FieldLists)>> = std::sync::OnceLock::new();
    let lists = LISTS.get_or_init(|| {
        Layer::ALL
            .iter()
            .map(|&l| {
                let full: Vec<_> = schema::tile_fields(l).collect();
                let dots = full.iter().copied().filter(|f| f.is(Shown::DOT)).collect();
                (l, (full, dots))
            })
            .collect()
    });
    lists
        .iter()
        .find(|(l, _)| *l == layer)
        .map(|(_, f)| f)
        .expect("every layer has its tile fields")
}

fn encode_layer<'a>(layer: Layer, drawn: &'a [Drawn], arena: &Arena) -> LayerWriter<'a> {
    let mut w = LayerWriter::new(layer.as_str(), drawn.len());
    let (full, dot_fields) = layer_tile_fields(layer);
    for d in drawn {
        let f = match d.shape {
            Shape::Dot(x, y) => w.begin_point(x, y),
            Shape::Parts { ty, coords, parts } => {
                let Some(f) = w.begin_parts(
                    ty,
                    &arena.coords[coords.0 as usize..coords.1 as usize],
                    coords.0,
                    &arena.parts[parts.0 as usize..parts.1 as usize],
                ) else {
                    continue;
                };
                f
            }
        };
        let a: &Asset = &d.asset;
        let area = matches!(a.geometry, Geometry::Polygon(_) | Geometry::MultiPolygon(_));
        let dot = matches!(d.shape, Shape::Dot(..))
            && !matches!(a.geometry, Geometry::Point(_) | Geometry::MultiPoint(_));
        for field in if dot { dot_fields } else { full } {
            if field.is(Shown::TILE) || !area {
                tag(&mut w, field, a);
            }
        }
        w.end(f, Some(a.id.0 as u64));
    }
    w
}

#[cfg(test)]
mod frame_tests {
    use super::*;

    #[test]
    fn cubic_mercator_is_exact_to_a_hundredth_of_a_unit() {
        for (lon, lat) in [
            (88.36, 22.57),
            (78.0, 8.5),
            (77.2, 34.9),
            (-70.0, -55.0),
            (10.0, 59.0),
        ] {
            for z in 8..=22u8 {
                let t = TileCoord::containing(lon, lat, z);
                let f = Frame::new(t);
                assert!(f.cubic.is_some());
                let exact = Frame {
                    cubic: None,
                    ..Frame::new(t)
                };
                let b = t.lonlat_bounds(BUFFER);
                // The tile, and far beyond it (where the closed form must take over).
                let span = (b.max().y - b.min().y).max(0.0);
                for i in -40..=60 {
                    let y = (b.min().y
                        + span * f64::from(i) / 20.0
                            * if !(0..=20).contains(&i) { 50.0 } else { 1.0 })
                    .clamp(-80.0, 80.0);
                    let c = Coord { x: lon, y };
                    let (p, q) = (f.unit(c), exact.unit(c));
                    assert!(
                        (p.y - q.y).abs() < 0.01 && (p.x - q.x).abs() < 1e-6,
                        "z{z} lat {y}: {} vs {}",
                        p.y,
                        q.y
                    );
                }
            }
        }
    }
}
