//! Our MVT layer writer (`tiles::mvt::LayerWriter`) against the `fast-mvt` crate's
//! `MvtLayerBuilder`, encoding the same layer: the polygons of the city-scale synthetic
//! data (`synth::city(42)`) that touch one z12 tile over central Kolkata, already in tile
//! coordinates (snapped, deduplicated, open rings wound as MVT asks), each with an id and
//! four tags (kind, name, code, ward). Projection, clipping and simplification are not
//! timed: only the encoding both writers do.
//!
//! Before timing, both tiles are decoded with geozero's prost types and compared feature
//! by feature (id, type, geometry commands, tags resolved to key and value).
//!
//! `cargo bench --bench mvt`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use fast_mvt::{MvtCoord, MvtGeomType, MvtLayerBuilder, MvtValueRef};
use geo_types::Geometry;
use geozero::mvt::{Message, Tile};
use heritage_atlas::synth;
use heritage_atlas::tiles::coord::{to_mercator, EXTENT};
use heritage_atlas::tiles::mvt::{GeomType, LayerWriter, Val};
use heritage_atlas::tiles::TileCoord;

/// One polygon feature in tile coordinates: its rings in `coords[start..]`, split at `ends`.
struct Feature {
    id: u64,
    kind: &'static str,
    name: String,
    code: String,
    ward: Option<i64>,
    start: u32,
    ends: Vec<u32>,
}

struct Layer {
    coords: Vec<(i32, i32)>,
    features: Vec<Feature>,
}

fn signed_area(ring: &[(i32, i32)]) -> i64 {
    let n = ring.len();
    (0..n)
        .map(|i| {
            let (a, b) = (ring[i], ring[(i + 1) % n]);
            i64::from(a.0) * i64::from(b.1) - i64::from(b.0) * i64::from(a.1)
        })
        .sum()
}

fn layer(t: TileCoord) -> Layer {
    let [minx, _, maxx, maxy] = t.mercator_bounds();
    let scale = f64::from(EXTENT) / (maxx - minx);
    let mut out = Layer {
        coords: Vec::new(),
        features: Vec::new(),
    };
    for (i, f) in synth::city(42).enumerate() {
        let polygons = match &f.geometry {
            Geometry::Polygon(p) => vec![p.clone()],
            Geometry::MultiPolygon(m) => m.0.clone(),
            _ => continue,
        };
        let start = out.coords.len() as u32;
        let mut ends = Vec::new();
        let mut inside = false;
        for p in &polygons {
            for (r, ring) in std::iter::once(p.exterior())
                .chain(p.interiors())
                .enumerate()
            {
                let mut pts: Vec<(i32, i32)> = Vec::with_capacity(ring.0.len());
                for c in &ring.0 {
                    let (x, y) = to_mercator(c.x, c.y);
                    let q = (
                        ((x - minx) * scale).round() as i32,
                        ((maxy - y) * scale).round() as i32,
                    );
                    inside |=
                        (0..EXTENT as i32).contains(&q.0) && (0..EXTENT as i32).contains(&q.1);
                    if pts.last() != Some(&q) {
                        pts.push(q);
                    }
                }
                if pts.len() > 1 && pts.first() == pts.last() {
                    pts.pop();
                }
                let area = signed_area(&pts);
                if pts.len() < 3 || area == 0 {
                    continue;
                }
                // MVT 2.1: exterior rings have positive area in tile coordinates (y down).
                if (area > 0) != (r == 0) {
                    pts.reverse();
                }
                out.coords.extend(pts);
                ends.push(out.coords.len() as u32);
            }
        }
        if !inside || ends.is_empty() {
            out.coords.truncate(start as usize);
            continue;
        }
        out.features.push(Feature {
            id: i as u64 + 1,
            kind: f.kind.as_str(),
            name: f.name.clone(),
            code: f.code.clone(),
            ward: f.ward,
            start,
            ends,
        });
    }
    out
}

/// `hash_unique`: send the names and codes through the value table's hash too (what the
/// tile renderer avoids with `tag_unique`, and what fast-mvt does for every string).
fn ours(l: &Layer, hash_unique: bool) -> Vec<u8> {
    let mut w = LayerWriter::new("assets", l.features.len());
    for f in &l.features {
        let end = *f.ends.last().unwrap_or(&f.start) as usize;
        let Some(s) = w.begin_parts(
            GeomType::Polygon,
            &l.coords[f.start as usize..end],
            f.start,
            &f.ends,
        ) else {
            continue;
        };
        w.tag_static("kind", f.kind);
        if hash_unique {
            w.tag("name", Val::Str(&f.name));
            w.tag("code", Val::Str(&f.code));
        } else {
            w.tag_unique("name", Val::Str(&f.name));
            w.tag_unique("code", Val::Str(&f.code));
        }
        if let Some(ward) = f.ward {
            w.tag("ward", Val::Int(ward));
        }
        w.end(s, Some(f.id));
    }
    let mut tile = Vec::new();
    w.finish(&mut tile);
    tile
}

fn fast(l: &Layer) -> Vec<u8> {
    let mut layer = MvtLayerBuilder::new("assets").expect("a layer name");
    for f in &l.features {
        let mut feature = layer.feature_of(MvtGeomType::Polygon);
        let mut start = f.start as usize;
        for (i, end) in f.ends.iter().enumerate() {
            let ring = &l.coords[start..*end as usize];
            start = *end as usize;
            feature
                .ring(ring.iter().map(|&(x, y)| MvtCoord { x, y }), i == 0)
                .expect("a ring");
        }
        feature.id(Some(f.id));
        let tags = [
            ("kind", MvtValueRef::String(f.kind)),
            ("name", MvtValueRef::String(&f.name)),
            ("code", MvtValueRef::String(&f.code)),
        ];
        for (k, v) in tags {
            feature.tag_ref(k, v).expect("a tag");
        }
        if let Some(ward) = f.ward {
            feature
                .tag_ref("ward", MvtValueRef::Int(ward))
                .expect("a tag");
        }
        layer = feature.end();
    }
    layer.encode()
}

/// Each feature as (id, type, geometry commands, tags as key and value text).
type Decoded = Vec<(Option<u64>, i32, Vec<u32>, Vec<(String, String)>)>;

fn decode(bytes: &[u8]) -> (Decoded, u32, u32) {
    let tile = Tile::decode(bytes).expect("a tile");
    assert_eq!(tile.layers.len(), 1);
    let l = &tile.layers[0];
    let features = l
        .features
        .iter()
        .map(|f| {
            let tags = f
                .tags
                .chunks(2)
                .map(|kv| {
                    let v = &l.values[kv[1] as usize];
                    let v = v
                        .string_value
                        .clone()
                        .or(v.int_value.map(|i| i.to_string()))
                        .unwrap_or_else(|| format!("{v:?}"));
                    (l.keys[kv[0] as usize].clone(), v)
                })
                .collect();
            (f.id, f.r#type.unwrap_or(0), f.geometry.clone(), tags)
        })
        .collect();
    (features, l.extent.unwrap_or(0), l.version)
}

fn bench(c: &mut Criterion) {
    let t = TileCoord::containing(88.3500, 22.5500, 12);
    let l = layer(t);
    let (a, b) = (ours(&l, false), fast(&l));
    let (da, db) = (decode(&a), decode(&b));
    assert!(da.0.len() > 1000, "{} features", da.0.len());
    assert_eq!(da, db, "the two writers encode different layers");
    assert_eq!(decode(&ours(&l, true)), da);
    eprintln!(
        "{t:?}: {} polygons, {} rings, {} vertices; ours {} bytes, fast-mvt {} bytes{}",
        l.features.len(),
        l.features.iter().map(|f| f.ends.len()).sum::<usize>(),
        l.coords.len(),
        a.len(),
        b.len(),
        if a == b { " (byte-identical)" } else { "" }
    );
    let mut g = c.benchmark_group("mvt_layer_z12");
    g.bench_function("ours (tiles::mvt::LayerWriter)", |bn| {
        bn.iter(|| black_box(ours(black_box(&l), false)))
    });
    g.bench_function("ours, names and codes hashed too", |bn| {
        bn.iter(|| black_box(ours(black_box(&l), true)))
    });
    g.bench_function("fast-mvt 0.7 (MvtLayerBuilder)", |bn| {
        bn.iter(|| black_box(fast(black_box(&l))))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
