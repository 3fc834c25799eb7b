//! Vector tiles from the in-memory index: select by R-tree, project to Web Mercator,
//! clip to the buffered tile, simplify to the tile grid, encode MVT 2.1 (geozero), cache.
//!
//! Nothing here reads SQL: a tile is a function of the index at the moment it is drawn.

pub mod cache;
pub mod clip;
pub mod coord;

use std::sync::Arc;

use geo_types::{
    Coord, Geometry, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon,
};
use geozero::mvt::{tile, Message, TagsBuilder, Tile, TileValue};
use geozero::ToMvt;

use crate::index::Index;
use crate::model::{Asset, Layer};
use clip::Square;
pub use coord::{TileCoord, BUFFER, EXTENT, MAX_ZOOM};

/// No tile may exceed this many bytes (before compression): past it, the smallest
/// features are dropped first and the count of dropped features is reported.
pub const MAX_TILE_BYTES: usize = 500 * 1024;

/// A polygon or line whose box is smaller than this many MVT units on both sides (two
/// pixels of a 512-pixel tile) is sent as a point, so small sites stay visible at city zoom.
pub const COLLAPSE_UNITS: f64 = 16.0;

/// Below this zoom, points falling in the same one-pixel cell (16 units) are thinned to
/// the most important one: a national layer at z5 would otherwise put millions of points
/// into one tile.
pub const THIN_BELOW_ZOOM: u8 = 14;

/// Simplification tolerance in MVT units: the tile's own grid, so a tile carries no detail
/// finer than it can represent.
pub const TOLERANCE: f64 = 1.0;

/// A set of layers requested together, in canonical order (the order of [`Layer::ALL`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LayerSet(u8);

impl LayerSet {
    /// Parses `heritage,water_bodies`; an unknown or empty name is an error naming it.
    pub fn parse(s: &str) -> Result<LayerSet, String> {
        let mut bits = 0u8;
        for part in s.split(',') {
            let l: Layer = part
                .parse()
                .map_err(|e: crate::model::UnknownValue| e.to_string())?;
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
}

impl Frame {
    fn new(t: TileCoord) -> Frame {
        let [minx, _, _, maxy] = t.mercator_bounds();
        Frame {
            minx,
            maxy,
            scale: f64::from(EXTENT) / t.size_m(),
        }
    }

    #[inline]
    fn unit(&self, c: Coord<f64>) -> Coord<f64> {
        let (mx, my) = coord::to_mercator(c.x, c.y);
        Coord {
            x: (mx - self.minx) * self.scale,
            y: (self.maxy - my) * self.scale,
        }
    }
}

struct Drawn {
    asset: Arc<Asset>,
    geometry: Geometry<f64>,
    importance: f64,
}

/// Cells per side of the thinning grid: one per pixel (16 units) of the buffered tile.
const CELLS: usize = ((EXTENT + 2 * BUFFER) / 16) as usize + 1;

/// Draws one tile of the given layers.
pub fn render(index: &Index, layers: LayerSet, t: TileCoord) -> Rendered {
    let frame = Frame::new(t);
    let b = f64::from(BUFFER);
    let sq = Square {
        min: -b,
        max: f64::from(EXTENT) + b,
    };
    let query = t.lonlat_bounds(BUFFER);
    let thin = t.z < THIN_BELOW_ZOOM;
    let mut per_layer: Vec<(Layer, Vec<Drawn>)> = Vec::new();
    for layer in layers.layers() {
        let li = index.read(layer);
        let mut drawn = Vec::new();
        // Best point per pixel cell: (importance, slot, position). Filled only when thinning.
        let mut grid: Vec<Option<(f64, u32, Coord<f64>)>> = Vec::new();
        let keep_point = |grid: &mut Vec<Option<(f64, u32, Coord<f64>)>>,
                          importance: f64,
                          slot: u32,
                          c: Coord<f64>| {
            if grid.is_empty() {
                grid.resize(CELLS * CELLS, None);
            }
            let cx = (((c.x - sq.min) / 16.0) as usize).min(CELLS - 1);
            let cy = (((c.y - sq.min) / 16.0) as usize).min(CELLS - 1);
            let cell = &mut grid[cy * CELLS + cx];
            if cell.is_none_or(|(i, s, _)| importance > i || (importance == i && slot < s)) {
                *cell = Some((importance, slot, c));
            }
        };
        for e in li.candidates(&query) {
            // Decide from the box alone whether this is a dot at this zoom: at low zoom on
            // a national layer that is millions of candidates, and the asset itself is
            // only read for what will be drawn in full.
            let lo = frame.unit(Coord {
                x: e.env.lower()[0],
                y: e.env.upper()[1],
            });
            let hi = frame.unit(Coord {
                x: e.env.upper()[0],
                y: e.env.lower()[1],
            });
            let (w, h) = (hi.x - lo.x, hi.y - lo.y);
            if !e.point && w < COLLAPSE_UNITS && h < COLLAPSE_UNITS {
                let c = Coord {
                    x: ((lo.x + hi.x) / 2.0).round(),
                    y: ((lo.y + hi.y) / 2.0).round(),
                };
                if c.x < sq.min || c.x > sq.max || c.y < sq.min || c.y > sq.max {
                    continue;
                }
                if thin {
                    keep_point(&mut grid, w * h, e.slot, c);
                } else if let Some(asset) = li.slot(e.slot) {
                    drawn.push(Drawn {
                        asset: asset.clone(),
                        geometry: Geometry::Point(Point(c)),
                        importance: w * h,
                    });
                }
                continue;
            }
            let Some(asset) = li.slot(e.slot) else {
                continue;
            };
            let Some(geometry) = draw(&asset.geometry, &frame, sq) else {
                continue;
            };
            let importance = if e.point { 0.0 } else { w * h + 1.0 };
            match (&geometry, thin) {
                (Geometry::Point(p), true) => keep_point(&mut grid, importance, e.slot, p.0),
                _ => drawn.push(Drawn {
                    asset: asset.clone(),
                    geometry,
                    importance,
                }),
            }
        }
        for (importance, slot, c) in grid.into_iter().flatten() {
            if let Some(asset) = li.slot(slot) {
                drawn.push(Drawn {
                    asset: asset.clone(),
                    geometry: Geometry::Point(Point(c)),
                    importance,
                });
            }
        }
        // Most important first: they are drawn under the rest and kept when trimming.
        drawn.sort_by(|a, b| {
            b.importance
                .total_cmp(&a.importance)
                .then(a.asset.id.cmp(&b.asset.id))
        });
        per_layer.push((layer, drawn));
    }
    let total: usize = per_layer.iter().map(|(_, d)| d.len()).sum();
    if total == 0 {
        return Rendered::default();
    }
    // Encode; if too big, keep a shrinking share of each layer's most important features.
    let mut keep = 1.0f64;
    loop {
        let tile = Tile {
            layers: per_layer
                .iter()
                .map(|(layer, d)| {
                    let n = ((d.len() as f64) * keep).ceil() as usize;
                    encode_layer(*layer, &d[..n.min(d.len())])
                })
                .collect(),
        };
        let bytes = tile.encode_to_vec();
        let kept: usize = tile.layers.iter().map(|l| l.features.len()).sum();
        if bytes.len() <= MAX_TILE_BYTES || kept == 0 {
            return Rendered {
                bytes,
                features: kept,
                dropped: total - kept,
            };
        }
        keep *= (MAX_TILE_BYTES as f64 / bytes.len() as f64) * 0.95;
    }
}

/// Projects, clips, simplifies and snaps a geometry into tile units; `None` when nothing
/// of it is left inside the buffered tile.
fn draw(g: &Geometry<f64>, f: &Frame, sq: Square) -> Option<Geometry<f64>> {
    let inside = |c: &Coord<f64>| c.x >= sq.min && c.x <= sq.max && c.y >= sq.min && c.y <= sq.max;
    let snap = |c: Coord<f64>| Point::new(c.x.round(), c.y.round());
    match g {
        Geometry::Point(p) => {
            let c = f.unit(p.0);
            inside(&c).then(|| Geometry::Point(snap(c)))
        }
        Geometry::MultiPoint(mp) => {
            let pts: Vec<Point<f64>> =
                mp.0.iter()
                    .map(|p| f.unit(p.0))
                    .filter(inside)
                    .map(snap)
                    .collect();
            (!pts.is_empty()).then_some(Geometry::MultiPoint(MultiPoint(pts)))
        }
        Geometry::LineString(ls) => lines(std::slice::from_ref(ls), f, sq),
        Geometry::MultiLineString(mls) => lines(&mls.0, f, sq),
        Geometry::Polygon(p) => {
            let out = polygon(p, f, sq)?;
            Some(Geometry::Polygon(out))
        }
        Geometry::MultiPolygon(mp) => {
            let polys: Vec<Polygon<f64>> = mp.0.iter().filter_map(|p| polygon(p, f, sq)).collect();
            match polys.len() {
                0 => None,
                1 => polys.into_iter().next().map(Geometry::Polygon),
                _ => Some(Geometry::MultiPolygon(MultiPolygon(polys))),
            }
        }
        _ => None,
    }
}

fn lines(ls: &[LineString<f64>], f: &Frame, sq: Square) -> Option<Geometry<f64>> {
    let mut parts: Vec<LineString<f64>> = Vec::new();
    for l in ls {
        let pts: Vec<Coord<f64>> = l.0.iter().map(|c| f.unit(*c)).collect();
        for part in clip::clip_line(&pts, sq) {
            let snapped = clip::simplify_snap(part, TOLERANCE, false);
            if snapped.len() >= 2 {
                parts.push(LineString::from(
                    snapped
                        .iter()
                        .map(|&(x, y)| (f64::from(x), f64::from(y)))
                        .collect::<Vec<_>>(),
                ));
            }
        }
    }
    match parts.len() {
        0 => None,
        1 => parts.pop().map(Geometry::LineString),
        _ => Some(Geometry::MultiLineString(MultiLineString(parts))),
    }
}

/// One ring into tile units, clipped and snapped, oriented as MVT 2.1 asks (exterior
/// positive area in y-down tile coordinates, holes negative); `None` if degenerate.
fn ring(r: &LineString<f64>, f: &Frame, sq: Square, exterior: bool) -> Option<LineString<f64>> {
    let mut pts: Vec<Coord<f64>> = r.0.iter().map(|c| f.unit(*c)).collect();
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
    for c in &pts {
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
        return None;
    }
    let clipped = if lo.x >= sq.min && hi.x <= sq.max && lo.y >= sq.min && hi.y <= sq.max {
        pts
    } else {
        clip::clip_ring(&pts, sq)
    };
    let mut snapped = clip::simplify_snap(clipped, TOLERANCE, true);
    if snapped.len() < 3 {
        return None;
    }
    let area = clip::signed_area2(&snapped);
    if area == 0 {
        return None;
    }
    if (area > 0) != exterior {
        snapped.reverse();
    }
    let mut coords: Vec<(f64, f64)> = snapped
        .iter()
        .map(|&(x, y)| (f64::from(x), f64::from(y)))
        .collect();
    coords.push(coords[0]);
    Some(LineString::from(coords))
}

fn polygon(p: &Polygon<f64>, f: &Frame, sq: Square) -> Option<Polygon<f64>> {
    let exterior = ring(p.exterior(), f, sq, true)?;
    let holes = p
        .interiors()
        .iter()
        .filter_map(|h| ring(h, f, sq, false))
        .collect();
    Some(Polygon::new(exterior, holes))
}

/// Attribute names each tile layer carries (TileJSON's `vector_layers.fields`).
pub fn fields(layer: Layer) -> Vec<(&'static str, &'static str)> {
    let mut f = vec![
        ("id", "Number"),
        ("code", "String"),
        ("name", "String"),
        ("kind", "String"),
        ("condition", "String"),
        ("ward", "Number"),
    ];
    match layer {
        Layer::Heritage => f.push(("grade", "String")),
        Layer::WaterBodies => f.push(("status", "String")),
        Layer::Wards => f.push(("borough", "String")),
        Layer::Parks => {}
    }
    f
}

fn encode_layer(layer: Layer, drawn: &[Drawn]) -> tile::Layer {
    let mut tags = TagsBuilder::new();
    let mut features = Vec::with_capacity(drawn.len());
    for d in drawn {
        let Ok(mut feature) = d.geometry.to_mvt_unscaled() else {
            continue;
        };
        let a = &d.asset;
        feature.id = Some(a.id.0 as u64);
        let mut tag = |k: &str, v: TileValue| {
            let (ki, vi) = tags.insert_ref(k, v);
            feature.tags.push(ki);
            feature.tags.push(vi);
        };
        tag("id", TileValue::Uint(a.id.0 as u64));
        tag("code", TileValue::Str(a.code.clone()));
        if let Some(n) = &a.attrs.name {
            tag("name", TileValue::Str(n.clone()));
        }
        tag("kind", TileValue::Str(a.kind.as_str().to_string()));
        let condition = a
            .attrs
            .condition
            .unwrap_or(crate::model::Condition::Unknown);
        tag("condition", TileValue::Str(condition.as_str().to_string()));
        if let Some(w) = a.attrs.ward {
            tag("ward", TileValue::Int(w));
        }
        match layer {
            Layer::Heritage => {
                if let Some(g) = a.attrs.grade {
                    tag("grade", TileValue::Str(g.as_str().to_string()));
                }
            }
            Layer::WaterBodies => {
                let s = a.attrs.status.unwrap_or(crate::model::WaterStatus::Active);
                tag("status", TileValue::Str(s.as_str().to_string()));
            }
            Layer::Wards => {
                if let Some(b) = &a.attrs.borough {
                    tag("borough", TileValue::Str(b.clone()));
                }
            }
            Layer::Parks => {}
        }
        features.push(feature);
    }
    let (keys, values) = tags.into_tags();
    tile::Layer {
        version: 2,
        name: layer.as_str().to_string(),
        features,
        keys,
        values: values.into_iter().map(Into::into).collect(),
        extent: Some(EXTENT),
    }
}
