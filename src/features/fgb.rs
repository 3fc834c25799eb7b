//! A FlatGeobuf writer whose memory does not grow with the bytes it writes: a download of
//! the national layer (2.4 million polygons) holds 8 bytes a feature (its place in the
//! leaf order) besides the selection, not the whole index and a temporary file.
//!
//! The format (flatgeobuf.org): magic, a size-prefixed header, a packed Hilbert R-tree
//! (root level first, leaves last, each leaf the box and byte offset of one feature),
//! then the features in leaf order. The tree must precede the features and know their
//! offsets, so features are encoded twice: once to size them while the leaves are written,
//! once to write them; boxes are recomputed in each pass that needs them, as `f32`
//! rounded outwards, so every box still contains its feature.
//!
//! Header and feature tables are built with the `flatgeobuf` crate's generated
//! FlatBuffers types; `tests/suite/ogc.rs` reads the result back with that crate's reader
//! (including a bbox search through the index) and CI reads it with GDAL.

use std::io::Write;

use flatbuffers::FlatBufferBuilder;
use flatgeobuf::{
    Column, ColumnArgs, ColumnType, Crs as FgbCrs, CrsArgs, Feature, FeatureArgs,
    Geometry as FgbGeometry, GeometryArgs, GeometryType, Header, HeaderArgs,
};
use geo_types::{Coord, Geometry, LineString, Polygon};

use super::cql2::Record;
use super::crs::Crs;
use super::{Collection, Item, ValueRef};

const MAGIC: [u8; 8] = [b'f', b'g', b'b', 3, b'f', b'g', b'b', 0];
const NODE_SIZE: usize = 16;

/// `[min_x, min_y, max_x, max_y]` rounded outwards to `f32`.
pub type Box32 = [f32; 4];

fn down(x: f64) -> f32 {
    let f = x as f32;
    if f64::from(f) > x {
        f.next_down()
    } else {
        f
    }
}

fn up(x: f64) -> f32 {
    let f = x as f32;
    if f64::from(f) < x {
        f.next_up()
    } else {
        f
    }
}

fn bbox(g: &Geometry<f64>) -> Box32 {
    match geo::BoundingRect::bounding_rect(g) {
        Some(r) => [
            down(r.min().x),
            down(r.min().y),
            up(r.max().x),
            up(r.max().y),
        ],
        None => [0.0; 4],
    }
}

/// The Hilbert value of a box's centre within the extent (as the reference writers do).
pub fn hilbert_of(b: &Box32, e: &[f64; 4]) -> u32 {
    const MAX: f64 = ((1u32 << 16) - 1) as f64;
    let (w, h) = (
        (e[2] - e[0]).max(f64::MIN_POSITIVE),
        (e[3] - e[1]).max(f64::MIN_POSITIVE),
    );
    let cx = (f64::from(b[0]) + f64::from(b[2])) / 2.0;
    let cy = (f64::from(b[1]) + f64::from(b[3])) / 2.0;
    let x = (MAX * (cx - e[0]) / w).floor().clamp(0.0, MAX) as u32;
    let y = (MAX * (cy - e[1]) / h).floor().clamp(0.0, MAX) as u32;
    hilbert(x, y)
}

/// 16-bit Hilbert curve index (after the public-domain "Fast Hilbert curve generation"
/// by rawrunprotected, as flatgeobuf's reference implementations use).
fn hilbert(x: u32, y: u32) -> u32 {
    let mut a = x ^ y;
    let mut b = 0xFFFF ^ a;
    let mut c = 0xFFFF ^ (x | y);
    let mut d = x & (y ^ 0xFFFF);
    let mut aa = a | (b >> 1);
    let mut bb = (a >> 1) ^ a;
    let mut cc = ((c >> 1) ^ (b & (d >> 1))) ^ c;
    let mut dd = ((a & (c >> 1)) ^ (d >> 1)) ^ d;
    a = aa;
    b = bb;
    c = cc;
    d = dd;
    aa = (a & (a >> 2)) ^ (b & (b >> 2));
    bb = (a & (b >> 2)) ^ (b & ((a ^ b) >> 2));
    cc ^= (a & (c >> 2)) ^ (b & (d >> 2));
    dd ^= (b & (c >> 2)) ^ ((a ^ b) & (d >> 2));
    a = aa;
    b = bb;
    c = cc;
    d = dd;
    aa = (a & (a >> 4)) ^ (b & (b >> 4));
    bb = (a & (b >> 4)) ^ (b & ((a ^ b) >> 4));
    cc ^= (a & (c >> 4)) ^ (b & (d >> 4));
    dd ^= (b & (c >> 4)) ^ ((a ^ b) & (d >> 4));
    a = aa;
    b = bb;
    c = cc;
    d = dd;
    cc ^= (a & (c >> 8)) ^ (b & (d >> 8));
    dd ^= (b & (c >> 8)) ^ ((a ^ b) & (d >> 8));
    a = cc ^ (cc >> 1);
    b = dd ^ (dd >> 1);
    let mut i0 = x ^ y;
    let mut i1 = b | (0xFFFF ^ (i0 | a));
    i0 = (i0 | (i0 << 8)) & 0x00FF_00FF;
    i0 = (i0 | (i0 << 4)) & 0x0F0F_0F0F;
    i0 = (i0 | (i0 << 2)) & 0x3333_3333;
    i0 = (i0 | (i0 << 1)) & 0x5555_5555;
    i1 = (i1 | (i1 << 8)) & 0x00FF_00FF;
    i1 = (i1 | (i1 << 4)) & 0x0F0F_0F0F;
    i1 = (i1 | (i1 << 2)) & 0x3333_3333;
    i1 = (i1 | (i1 << 1)) & 0x5555_5555;
    (i1 << 1) | i0
}

fn column_type(ty: &str) -> ColumnType {
    match ty {
        "integer" => ColumnType::Long,
        "number" => ColumnType::Double,
        "boolean" => ColumnType::Bool,
        _ => ColumnType::String,
    }
}

/// Appends a ring or line's coordinates; returns how many.
fn push_coords(xy: &mut Vec<f64>, l: &LineString<f64>) -> u32 {
    for Coord { x, y } in &l.0 {
        xy.push(*x);
        xy.push(*y);
    }
    l.0.len() as u32
}

fn polygon_table<'a>(
    fbb: &mut FlatBufferBuilder<'a>,
    p: &Polygon<f64>,
    xy: &mut Vec<f64>,
    ends: &mut Vec<u32>,
) -> flatbuffers::WIPOffset<FgbGeometry<'a>> {
    xy.clear();
    ends.clear();
    let mut n = push_coords(xy, p.exterior());
    ends.push(n);
    for h in p.interiors() {
        n += push_coords(xy, h);
        ends.push(n);
    }
    let xy_v = fbb.create_vector(xy);
    let ends_v = (ends.len() > 1).then(|| fbb.create_vector(ends));
    FgbGeometry::create(
        fbb,
        &GeometryArgs {
            xy: Some(xy_v),
            ends: ends_v,
            type_: GeometryType::Polygon,
            ..Default::default()
        },
    )
}

fn geometry_table<'a>(
    fbb: &mut FlatBufferBuilder<'a>,
    g: &Geometry<f64>,
    xy: &mut Vec<f64>,
    ends: &mut Vec<u32>,
) -> Option<flatbuffers::WIPOffset<FgbGeometry<'a>>> {
    xy.clear();
    ends.clear();
    let simple = |fbb: &mut FlatBufferBuilder<'a>, xy: &Vec<f64>, ends: &Vec<u32>, ty| {
        let xy_v = fbb.create_vector(xy);
        let ends_v = (ends.len() > 1).then(|| fbb.create_vector(ends));
        FgbGeometry::create(
            fbb,
            &GeometryArgs {
                xy: Some(xy_v),
                ends: ends_v,
                type_: ty,
                ..Default::default()
            },
        )
    };
    Some(match g {
        Geometry::Point(p) => {
            xy.extend([p.x(), p.y()]);
            simple(fbb, xy, ends, GeometryType::Point)
        }
        Geometry::MultiPoint(mp) => {
            for p in &mp.0 {
                xy.extend([p.x(), p.y()]);
            }
            simple(fbb, xy, ends, GeometryType::MultiPoint)
        }
        Geometry::LineString(l) => {
            push_coords(xy, l);
            simple(fbb, xy, ends, GeometryType::LineString)
        }
        Geometry::MultiLineString(ml) => {
            let mut n = 0;
            for l in &ml.0 {
                n += push_coords(xy, l);
                ends.push(n);
            }
            simple(fbb, xy, ends, GeometryType::MultiLineString)
        }
        Geometry::Polygon(p) => polygon_table(fbb, p, xy, ends),
        Geometry::MultiPolygon(mp) => {
            let parts: Vec<_> =
                mp.0.iter()
                    .map(|p| polygon_table(fbb, p, xy, ends))
                    .collect();
            let parts = fbb.create_vector(&parts);
            FgbGeometry::create(
                fbb,
                &GeometryArgs {
                    parts: Some(parts),
                    type_: GeometryType::MultiPolygon,
                    ..Default::default()
                },
            )
        }
        _ => return None,
    })
}

/// Encodes one feature (size-prefixed), reusing the builder and buffers.
pub struct Encoder<'c> {
    fbb: FlatBufferBuilder<'static>,
    props: Vec<u8>,
    xy: Vec<f64>,
    ends: Vec<u32>,
    columns: &'c [(String, &'static str)],
    crs: &'c Crs,
}

impl<'c> Encoder<'c> {
    pub fn new(columns: &'c [(String, &'static str)], crs: &'c Crs) -> Self {
        Encoder {
            fbb: FlatBufferBuilder::with_capacity(4096),
            props: Vec::new(),
            xy: Vec::new(),
            ends: Vec::new(),
            columns,
            crs,
        }
    }

    /// The feature's bytes as they go into the file (size prefix included).
    pub fn encode(&mut self, it: &Item) -> &[u8] {
        self.fbb.reset();
        self.props.clear();
        for (i, (name, ty)) in self.columns.iter().enumerate() {
            let v = it.value(name);
            let start = self.props.len();
            self.props.extend((i as u16).to_le_bytes());
            match (&v, *ty) {
                (ValueRef::Null, _) => self.props.truncate(start),
                (ValueRef::Num(n), "integer") => self.props.extend((*n as i64).to_le_bytes()),
                (ValueRef::Num(n), "number") => self.props.extend(n.to_le_bytes()),
                (ValueRef::Bool(b), "boolean") => self.props.push(u8::from(*b)),
                (ValueRef::Str(s), "string") => {
                    self.props.extend((s.len() as u32).to_le_bytes());
                    self.props.extend(s.as_bytes());
                }
                // Extra properties are text columns whatever their JSON type.
                (v, "string") => {
                    let t = match v {
                        ValueRef::Num(n) => n.to_string(),
                        ValueRef::Bool(b) => b.to_string(),
                        _ => String::new(),
                    };
                    self.props.extend((t.len() as u32).to_le_bytes());
                    self.props.extend(t.as_bytes());
                }
                // A value of another type than its column is left out rather than mislabelled.
                _ => self.props.truncate(start),
            }
        }
        let g = self.crs.geometry(it.geometry());
        let geometry = geometry_table(&mut self.fbb, &g, &mut self.xy, &mut self.ends);
        let properties = Some(self.fbb.create_vector(&self.props));
        let f = Feature::create(
            &mut self.fbb,
            &FeatureArgs {
                geometry,
                properties,
                ..Default::default()
            },
        );
        self.fbb.finish_size_prefixed(f, None);
        self.fbb.finished_data()
    }
}

/// A feature's box in the output CRS, rounded outwards to `f32`.
pub fn box_in(it: &Item, crs: &Crs) -> Box32 {
    if crs.is_crs84() {
        bbox(it.geometry())
    } else {
        bbox(&crs.geometry(it.geometry()))
    }
}

/// The extent of all boxes (zeros when there are none).
pub fn extent_of(boxes: impl Iterator<Item = Box32>) -> [f64; 4] {
    let mut extent = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
    let mut any = false;
    for b in boxes {
        any = true;
        extent = [
            extent[0].min(f64::from(b[0])),
            extent[1].min(f64::from(b[1])),
            extent[2].max(f64::from(b[2])),
            extent[3].max(f64::from(b[3])),
        ];
    }
    if any {
        extent
    } else {
        [0.0; 4]
    }
}

/// The leaf order: positions sorted by descending Hilbert value of the box centre
/// (ties by position), as the reference writers order features.
pub fn leaf_order(boxes: impl Iterator<Item = Box32>, extent: &[f64; 4]) -> Vec<u32> {
    let keys: Vec<u32> = boxes.map(|b| hilbert_of(&b, extent)).collect();
    order_by_keys(&keys)
}

/// Positions sorted by descending key, ties by position: the leaf order from the
/// features' Hilbert values.
pub fn order_by_keys(keys: &[u32]) -> Vec<u32> {
    let mut order: Vec<u32> = (0..keys.len() as u32).collect();
    order.sort_unstable_by(|&a, &b| keys[b as usize].cmp(&keys[a as usize]).then(a.cmp(&b)));
    order
}

/// A box rounded outwards to `f32` from a lon/lat box (west, south, east, north): the
/// same as rounding each box it holds, for the extent of many.
pub fn round_out(b: [f64; 4]) -> [f64; 4] {
    [
        f64::from(down(b[0])),
        f64::from(down(b[1])),
        f64::from(up(b[2])),
        f64::from(up(b[3])),
    ]
}

/// Magic bytes and the size-prefixed header for `n` features of `c`.
pub fn header(
    c: Collection,
    columns: &[(String, &'static str)],
    crs: &Crs,
    extent: [f64; 4],
    n: usize,
) -> Vec<u8> {
    let mut fbb = FlatBufferBuilder::with_capacity(4096);
    let cols: Vec<_> = columns
        .iter()
        .map(|(name, ty)| {
            let name = fbb.create_string(name);
            Column::create(
                &mut fbb,
                &ColumnArgs {
                    name: Some(name),
                    type_: column_type(ty),
                    nullable: true,
                    ..Default::default()
                },
            )
        })
        .collect();
    let columns = fbb.create_vector(&cols);
    let org = fbb.create_string("EPSG");
    let crs_t = FgbCrs::create(
        &mut fbb,
        &CrsArgs {
            code: crs.code.map_or(4326, i32::from),
            org: Some(org),
            ..Default::default()
        },
    );
    let name = fbb.create_string(c.id());
    let title = fbb.create_string(c.title());
    let envelope = fbb.create_vector(&extent);
    let h = Header::create(
        &mut fbb,
        &HeaderArgs {
            name: Some(name),
            title: Some(title),
            envelope: Some(envelope),
            geometry_type: GeometryType::Unknown,
            columns: Some(columns),
            features_count: n as u64,
            index_node_size: if n > 0 { NODE_SIZE as u16 } else { 0 },
            crs: Some(crs_t),
            ..Default::default()
        },
    );
    fbb.finish_size_prefixed(h, None);
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(fbb.finished_data());
    out
}

/// Node counts per level, leaves first, as readers compute them: always at least one
/// level above the leaves (a single feature has a root and a leaf).
fn level_sizes(n: usize) -> Vec<usize> {
    let mut sizes = vec![n];
    loop {
        let next = sizes[sizes.len() - 1].div_ceil(NODE_SIZE);
        sizes.push(next);
        if next == 1 {
            break;
        }
    }
    sizes
}

/// Bytes of the packed tree over `n` features (none without features).
pub fn tree_len(n: usize) -> u64 {
    if n == 0 {
        return 0;
    }
    level_sizes(n).iter().sum::<usize>() as u64 * 40
}

/// The packed tree's levels above the leaves, built from the leaves' boxes as they come
/// in leaf order: only the ~n/15 upper nodes are held. They precede the leaves in the
/// file, so a writer either reads the leaf boxes twice ([`write_tree`]) or writes the
/// leaves first at their place and these after them (`heritage-atlas export`).
pub struct UpperLevels {
    sizes: Vec<usize>,
    /// Level 1 (the leaves' parents), filled one leaf at a time.
    parents: Vec<[f64; 4]>,
    leaves: usize,
}

const EMPTY: [f64; 4] = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];

fn union(a: [f64; 4], b: [f64; 4]) -> [f64; 4] {
    [
        a[0].min(b[0]),
        a[1].min(b[1]),
        a[2].max(b[2]),
        a[3].max(b[3]),
    ]
}

/// One node: its box and the byte offset of its first child (or its feature).
fn node(b: [f64; 4], offset: u64) -> [u8; 40] {
    let mut buf = [0u8; 40];
    for (i, v) in b.iter().enumerate() {
        buf[i * 8..i * 8 + 8].copy_from_slice(&v.to_le_bytes());
    }
    buf[32..].copy_from_slice(&offset.to_le_bytes());
    buf
}

/// Bytes of a node of the tree.
pub const LEAF_BYTES: u64 = 40;

/// A leaf node: a feature's box and the offset of its feature from the first one.
pub fn leaf_node(b: Box32, offset: u64) -> [u8; LEAF_BYTES as usize] {
    node(b.map(f64::from), offset)
}

impl UpperLevels {
    /// For a tree over `n` features (`n > 0`).
    pub fn new(n: usize) -> UpperLevels {
        let sizes = level_sizes(n);
        UpperLevels {
            parents: Vec::with_capacity(sizes[1]),
            sizes,
            leaves: 0,
        }
    }

    /// Bytes of the upper levels, which the leaves follow.
    pub fn byte_len(&self) -> u64 {
        self.sizes[1..].iter().sum::<usize>() as u64 * 40
    }

    /// The next leaf's box, in leaf order.
    pub fn push(&mut self, b: Box32) {
        if self.leaves.is_multiple_of(NODE_SIZE) {
            self.parents.push(EMPTY);
        }
        let last = self.parents.len() - 1;
        self.parents[last] = union(self.parents[last], b.map(f64::from));
        self.leaves += 1;
    }

    /// Writes every level above the leaves, root first, once all leaves are pushed.
    pub fn write<W: Write>(self, out: &mut W) -> std::io::Result<()> {
        let sizes = &self.sizes;
        let total: usize = sizes.iter().sum();
        // Where each level starts, in nodes from the root's.
        let mut starts = Vec::with_capacity(sizes.len());
        let mut acc = total;
        for s in sizes {
            acc -= s;
            starts.push(acc);
        }
        let first_children = |level: usize, p: usize| (starts[level - 1] + p * NODE_SIZE) as u64;
        let mut levels: Vec<Vec<[f64; 4]>> = vec![self.parents];
        for level in 2..sizes.len() {
            let below = &levels[level - 2];
            let nodes = below
                .chunks(NODE_SIZE)
                .map(|c| c.iter().copied().fold(EMPTY, union))
                .collect();
            levels.push(nodes);
        }
        for level in (1..sizes.len()).rev() {
            for (p, b) in levels[level - 1].iter().enumerate() {
                out.write_all(&node(*b, first_children(level, p)))?;
            }
        }
        Ok(())
    }
}

/// Writes the packed Hilbert R-tree, root level first: `leaf_box(k)` is the `k`-th leaf's
/// box (asked twice: for its parent, then for its leaf), `leaf_offset(k)` (called once
/// per leaf, in order) its feature's byte offset from the first feature.
pub fn write_tree<W: Write>(
    out: &mut W,
    n: usize,
    mut leaf_box: impl FnMut(usize) -> std::io::Result<Box32>,
    mut leaf_offset: impl FnMut(usize) -> std::io::Result<u64>,
) -> std::io::Result<()> {
    if n == 0 {
        return Ok(());
    }
    let mut upper = UpperLevels::new(n);
    for k in 0..n {
        upper.push(leaf_box(k)?);
    }
    upper.write(out)?;
    for k in 0..n {
        let offset = leaf_offset(k)?;
        out.write_all(&leaf_node(leaf_box(k)?, offset))?;
    }
    Ok(())
}

/// Writes `items` of `c` as FlatGeobuf with a packed Hilbert R-tree, geometry in `crs`.
///
/// Boxes are recomputed whenever needed (four passes, one geometry each) rather than
/// kept: the leaf order is all that is stored, 4 bytes a feature. Each feature is encoded
/// twice: once to learn its size as its leaf is written (which places the next one; no
/// table of sizes is kept), once to write it.
pub fn write<W: Write>(
    c: Collection,
    items: &[Item],
    crs: &Crs,
    mut out: W,
) -> std::io::Result<()> {
    let n = items.len();
    let extent = extent_of(items.iter().map(|it| box_in(it, crs)));
    let leaves = leaf_order(items.iter().map(|it| box_in(it, crs)), &extent);
    let columns = super::columns(c, items);
    let mut enc = Encoder::new(&columns, crs);
    out.write_all(&header(c, &columns, crs, extent, n))?;
    let item = |k: usize| &items[leaves[k] as usize];
    let mut offset = 0u64;
    write_tree(
        &mut out,
        n,
        |k| Ok(box_in(item(k), crs)),
        |k| {
            let at = offset;
            offset += enc.encode(item(k)).len() as u64;
            Ok(at)
        },
    )?;
    for k in 0..n {
        out.write_all(enc.encode(item(k)))?;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outward_rounding_contains_the_value() {
        for x in [88.342_014_5_f64, -22.1234567, 1e-9, 0.1] {
            assert!(f64::from(down(x)) <= x && f64::from(up(x)) >= x);
        }
    }
}
